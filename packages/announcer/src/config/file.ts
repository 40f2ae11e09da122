// The config file, for hosts without Kubernetes (or to try a config before applying it): YAML with
// one or more documents, each an object shaped like our custom resources (apiVersion, kind,
// metadata.name, spec) or a `kind: List` of them (as `kubectl get -o yaml` writes), plus
// `kind: StaticRoute`, which only the file has.
import { readFile } from 'node:fs/promises';
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, isFields } from './check.js';
import { validateConfig } from './validate.js';
import type { AnnouncerConfig, ConfigProblem, KubeObject } from './types.js';

/** The objects of a config file, what to call each one when it has no name, and problems found so far. */
export interface ConfigDocuments {
  objects: KubeObject[];
  /** origins[i] names objects[i] by place: "config.yaml:12" (the line its document starts on). */
  origins: string[];
  /** YAML syntax errors and documents that are not objects. */
  problems: ConfigProblem[];
}

const SEPARATOR_RE = /^---(\s|$)/;
const EMPTY_LINE_RE = /^\s*(#.*)?$/;
const LIST_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'items']);

/**
 * Splits the text into YAML documents at "---" lines (as kubectl does) and parses each with
 * @kubernetes/client-node's loadAllYaml. A syntax error becomes a problem naming the file, line and
 * column; the other documents are still read, so every problem shows at once.
 */
export function readConfigDocuments(text: string, source: string): ConfigDocuments {
  const out: ConfigDocuments = { objects: [], origins: [], problems: [] };
  const lines = text.split(/\r?\n/);
  let start = 0;
  for (let i = 1; i <= lines.length; i++) {
    if (i < lines.length && !SEPARATOR_RE.test(lines[i]!)) continue;
    readDocument(lines, start, i, source, out);
    start = i;
  }
  return out;
}

/** Parses lines[from..to) (one document, maybe starting with its "---" line) into `out`. */
function readDocument(lines: readonly string[], from: number, to: number, source: string, out: ConfigDocuments): void {
  const body = lines.slice(from, to);
  const contentAt = body.findIndex(
    (l, i) => !EMPTY_LINE_RE.test(l) && !(i === 0 && SEPARATOR_RE.test(l) && EMPTY_LINE_RE.test(l.slice(3))),
  );
  if (contentAt < 0) return; // only blank lines, comments and the separator
  const origin = `${source}:${from + contentAt + 1}`;
  let documents: unknown[];
  try {
    // Leading newlines keep js-yaml's line numbers those of the whole file.
    documents = loadAllYaml('\n'.repeat(from) + body.join('\n'));
  } catch (e) {
    out.problems.push(yamlProblem(e, lines, source, origin));
    return;
  }
  for (const doc of documents) addDocument(doc, origin, out);
}

function yamlProblem(e: unknown, lines: readonly string[], source: string, origin: string): ConfigProblem {
  const err = e as { name?: string; reason?: string; message?: string; mark?: { line?: number; column?: number } };
  if (err.name === 'YAMLException' && typeof err.mark?.line === 'number') {
    const line = err.mark.line;
    const text = (lines[line] ?? '').trim();
    const shown =
      text === '' ? '' : ` (line reads: ${JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text)})`;
    return {
      kind: 'unknown',
      name: source,
      field: `line ${line + 1}, column ${(err.mark.column ?? 0) + 1}`,
      message: `YAML syntax error: ${err.reason ?? err.message}${shown}`,
    };
  }
  // loadAllYaml fails (TypeError) on a document that is null ("~") before we see it.
  const why = e instanceof TypeError ? 'got null' : `could not be read: ${err.message ?? String(e)}`;
  return {
    kind: 'unknown',
    name: origin,
    field: 'document',
    message: `must be an object with apiVersion, kind, metadata and spec, ${why}`,
  };
}

function addDocument(doc: unknown, origin: string, out: ConfigDocuments): void {
  if (!isFields(doc) || doc.kind !== 'List') {
    out.objects.push(doc as KubeObject);
    out.origins.push(origin);
    return;
  }
  for (const key of Object.keys(doc)) {
    if (!LIST_FIELDS.has(key))
      out.problems.push({
        kind: 'unknown',
        name: origin,
        field: key,
        message: `unknown field of a List (known fields here: ${[...LIST_FIELDS].join(', ')})`,
      });
  }
  const items = doc.items ?? [];
  if (!Array.isArray(items)) {
    out.problems.push({
      kind: 'unknown',
      name: origin,
      field: 'items',
      message: `must be a list of objects, got ${describe(items)}`,
    });
    return;
  }
  items.forEach((item: unknown, i) => {
    out.objects.push(item as KubeObject);
    out.origins.push(`${origin} items[${i}]`);
  });
}

/** Reads and validates a config file's text; `source` (the file name) appears in problems. */
export function parseConfigText(text: string, source: string): { config: AnnouncerConfig; problems: ConfigProblem[] } {
  const { objects, origins, problems } = readConfigDocuments(text, source);
  const result = validateConfig(objects, { origins });
  return { config: result.config, problems: [...problems, ...result.problems] };
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
