// YAML of the deploy/ tests, read with @kubernetes/client-node's loadAllYaml (js-yaml underneath):
// documents split on "---" lines (loadAllYaml fails on an empty document), each parsed twice: as
// written (plain objects, every field kept) and typed (client-node's models for the kinds it knows,
// which drop fields the Kubernetes API does not have, so a misspelt field shows as a difference).
import { readFileSync } from 'node:fs';
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';

/** One YAML document: where it came from, its text, and its content as written. */
export interface YamlDoc {
  /** "deploy/rbac.yaml document 2" */
  origin: string;
  text: string;
  raw: Record<string, unknown>;
}

/** A kind suffix that no model has, so that loadAllYaml returns the document as written. */
const AS_WRITTEN = 'AsWrittenForDeployTests';

/** The text split into documents; documents holding only comments and blank lines are dropped. */
export function splitDocuments(text: string): string[] {
  return text
    .split(/^---[ \t]*(?:#.*)?$/m)
    .filter((part) => part.split('\n').some((line) => line.trim() !== '' && !line.trim().startsWith('#')));
}

/** Parses one document as written; throws js-yaml's error (with line and column) on bad YAML. */
export function parseAsWritten(text: string): Record<string, unknown> {
  const renamed = text.replace(/^kind:([ \t]*)(\S+)/m, `kind:$1$2${AS_WRITTEN}`);
  const docs = loadAllYaml(renamed) as unknown[];
  if (docs.length !== 1) throw new Error(`expected one document, got ${docs.length}`);
  const doc = docs[0];
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc))
    throw new Error(`a document must be a mapping, got ${JSON.stringify(doc)}`);
  // Plain data (client-node returns its KubernetesObject and V1ObjectMeta classes even here).
  const object = JSON.parse(JSON.stringify(doc)) as Record<string, unknown>;
  if (typeof object.kind === 'string') object.kind = object.kind.replace(AS_WRITTEN, '');
  return object;
}

/** Every document of a YAML text, as written. */
export function parseYamlText(text: string, name: string): YamlDoc[] {
  return splitDocuments(text).map((part, i) => {
    const origin = `${name} document ${i + 1}`;
    try {
      return { origin, text: part, raw: parseAsWritten(part) };
    } catch (err) {
      throw new Error(`${origin}: ${(err as Error).message}`);
    }
  });
}

/** Every document of a YAML file (path relative to the repository root, for messages). */
export function readYamlFile(root: URL, path: string): YamlDoc[] {
  return parseYamlText(readFileSync(new URL(path, root), 'utf8'), path);
}

/**
 * Fields of a document that client-node's model of its kind does not have (typos, fields in the wrong
 * place), as paths like "spec.template.spec.bogus"; [] for kinds the client does not know.
 */
export function unknownFields(doc: YamlDoc): string[] {
  const typed = (loadAllYaml(doc.text) as unknown[])[0];
  const roundTrip = parseAsWritten(dumpYaml(typed));
  return missingPaths(doc.raw, roundTrip, '');
}

function missingPaths(written: unknown, kept: unknown, at: string): string[] {
  if (Array.isArray(written)) {
    if (!Array.isArray(kept)) return [at || '(document)'];
    return written.flatMap((item, i) => missingPaths(item, kept[i], `${at}[${i}]`));
  }
  if (written !== null && typeof written === 'object') {
    if (kept === null || typeof kept !== 'object') return [at || '(document)'];
    const out: string[] = [];
    for (const [key, value] of Object.entries(written)) {
      const path = at === '' ? key : `${at}.${key}`;
      if (!Object.hasOwn(kept, key)) out.push(path);
      else out.push(...missingPaths(value, (kept as Record<string, unknown>)[key], path));
    }
    return out;
  }
  return [];
}
