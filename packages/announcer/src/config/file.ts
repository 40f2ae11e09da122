// The config file, for hosts without Kubernetes (or to try a config before applying it): YAML with
// one or more documents, each an object shaped like our custom resources (apiVersion, kind,
// metadata.name, spec) or a `kind: List` of them (as `kubectl get -o yaml` writes), plus
// `kind: StaticRoute`, which only the file has.
import { readFile } from 'node:fs/promises';
import { configObjects } from './file-documents.js';
import { configValidator, validateConfig } from './validate.js';
import type { AnnouncerConfig, ConfigProblem, KubeObject } from './types.js';

/** The objects of a config file, what to call each one when it has no name, and problems found so far. */
export interface ConfigDocuments {
  objects: KubeObject[];
  /** origins[i] names objects[i] by place: "config.yaml:12" (the line its document starts on). */
  origins: string[];
  /** YAML syntax errors and documents that are not objects. */
  problems: ConfigProblem[];
}

/**
 * Every object of the text at once (parseConfigText does not build this: it validates the objects
 * one at a time as configObjects yields them). A syntax error becomes a problem naming the file, line
 * and column; the other documents are still read, so every problem shows at once.
 */
export function readConfigDocuments(text: string, source: string): ConfigDocuments {
  const out: ConfigDocuments = { objects: [], origins: [], problems: [] };
  for (const { object, origin } of configObjects(text, source, out.problems)) {
    out.objects.push(object as KubeObject);
    out.origins.push(origin);
  }
  return out;
}

/**
 * Reads and validates a config file's text; `source` (the file name) appears in problems. Documents
 * are parsed and validated one at a time: only the validated objects are kept, never every
 * document's parsed form together. Problems come in the same order as validateConfig's after
 * readConfigDocuments's: those of the YAML first, then those of the objects.
 */
export function parseConfigText(text: string, source: string): { config: AnnouncerConfig; problems: ConfigProblem[] } {
  const yamlProblems: ConfigProblem[] = [];
  const validator = configValidator();
  for (const { object, origin } of configObjects(text, source, yamlProblems)) validator.add(object, origin);
  const result = validator.finish();
  return { config: result.config, problems: [...yamlProblems, ...result.problems] };
}

/** A config file has no Secrets to read: a passwordSecret would leave the session without its MD5 key. */
export function fileOnlyProblems(config: AnnouncerConfig): ConfigProblem[] {
  return config.peers
    .filter((p) => p.passwordSecret !== undefined)
    .map((p) => ({
      kind: 'BGPPeer',
      name: p.name,
      field: 'spec.passwordSecret',
      message: 'a config file has no Secrets to read it from: give the key in spec.password',
    }));
}

/**
 * Reads, parses and validates a config file. Never throws for a bad file: an unreadable file, YAML
 * syntax errors and invalid objects all come back as problems (the config is only to be used when
 * there are none).
 */
export async function loadConfigFile(path: string): Promise<{ config: AnnouncerConfig; problems: ConfigProblem[] }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why =
      err.code === 'ENOENT'
        ? 'no such file'
        : err.code === 'EACCES'
          ? 'permission denied'
          : err.code === 'EISDIR'
            ? 'is a directory'
            : err.message;
    return {
      config: validateConfig([]).config,
      problems: [{ kind: 'unknown', name: path, field: 'file', message: `cannot read the config file: ${why}` }],
    };
  }
  const result = parseConfigText(text, path);
  return { config: result.config, problems: [...result.problems, ...fileOnlyProblems(result.config)] };
}
