// The objects of a config file, one at a time. The text is split into YAML documents at "---" lines
// (as kubectl does); each document is parsed from its own text, only when the one before it has been
// used, and js-yaml's line numbers are shifted by the line the document starts on. A file of 10,000
// documents thus never has more than one parsed document alive besides what the caller keeps.
// js-yaml (through @kubernetes/client-node's loadAllYaml) has no per-document API of its own: its
// loadAll parses the whole input before returning the first document. (Issue 17: each document used
// to be parsed behind as many newlines as lines came before it, for js-yaml's line numbers: 10,000
// documents took seconds, and as js-yaml's strings are slices of its input, every StaticRoute's name
// kept that padded text alive, ~50 KB per route.)
import { loadAllYaml } from '@kubernetes/client-node';
import { describe, isFields } from './check.js';
import type { ConfigProblem } from './types.js';

/** One object of a config file and what to call it when it has no name. */
export interface ConfigObject {
  object: unknown;
  /** "config.yaml:12" (the line its document starts on), "config.yaml:3 items[4]" for a List's item. */
  origin: string;
}

const SEPARATOR_RE = /^---(\s|$)/;
const EMPTY_LINE_RE = /^\s*(#.*)?$/;
const LIST_FIELDS = new Set(['apiVersion', 'kind', 'metadata', 'items']);

/** A document's place in the text: characters [start, end), starting on line `line` (0-based). */
interface DocumentSpan {
  start: number;
  end: number;
  line: number;
}

/**
 * Yields the objects of the text in file order: each document's object, or each item of a
 * `kind: List`. YAML syntax errors and malformed Lists are pushed to `problems` (naming the file,
 * line and column) and the next document is read, so every problem shows at once.
 */
export function* configObjects(text: string, source: string, problems: ConfigProblem[]): Generator<ConfigObject> {
  for (const span of documentSpans(text)) {
    const body = text.slice(span.start, span.end);
    const contentAt = firstContentLine(body);
    if (contentAt < 0) continue; // only blank lines, comments and the separator
    const origin = `${source}:${span.line + contentAt + 1}`;
    let documents: unknown[];
    try {
      documents = loadAllYaml(body);
    } catch (e) {
      problems.push(yamlProblem(e, text, span, source, origin));
      continue;
    }
    for (const doc of documents) yield* documentObjects(doc, origin, problems);
  }
}

/**
 * The documents of the text: a new one starts at each line that begins with "---" (the first line
 * belongs to the first document whatever it holds). Found by scanning for line ends, without a list
 * of every line.
 */
function* documentSpans(text: string): Generator<DocumentSpan> {
  let start = 0;
  let startLine = 0;
  let lineStart = 0;
  let line = 0;
  while (lineStart < text.length) {
    const newline = text.indexOf('\n', lineStart);
    const next = newline < 0 ? text.length : newline + 1;
    if (line > 0 && text.startsWith('---', lineStart) && SEPARATOR_RE.test(text.slice(lineStart, next))) {
      yield { start, end: lineStart, line: startLine };
      start = lineStart;
      startLine = line;
    }
    lineStart = next;
    line++;
  }
  yield { start, end: text.length, line: startLine };
}

/** The document's first line that is neither blank, a comment, nor its own bare "---"; -1 if none. */
function firstContentLine(body: string): number {
  let lineStart = 0;
  for (let i = 0; lineStart < body.length; i++) {
    const newline = body.indexOf('\n', lineStart);
    const next = newline < 0 ? body.length : newline + 1;
    const line = lineText(body, lineStart, next);
    const empty = EMPTY_LINE_RE.test(line) || (i === 0 && SEPARATOR_RE.test(line) && EMPTY_LINE_RE.test(line.slice(3)));
    if (!empty) return i;
    lineStart = next;
  }
  return -1;
}

/** The line `index` lines after the one starting at `from` (a document's own line 0), without its line end; '' past the end. */
function lineAt(text: string, from: number, index: number): string {
  let lineStart = from;
  for (let i = 0; i < index; i++) {
    const newline = text.indexOf('\n', lineStart);
    if (newline < 0) return '';
    lineStart = newline + 1;
  }
  const newline = text.indexOf('\n', lineStart);
  return lineText(text, lineStart, newline < 0 ? text.length : newline + 1);
}

/** text[from, to) without its "\n" or "\r\n". */
function lineText(text: string, from: number, to: number): string {
  let end = to;
  if (end > from && text.charCodeAt(end - 1) === 10) end--;
  if (end > from && text.charCodeAt(end - 1) === 13) end--;
  return text.slice(from, end);
}

/** A line of a secret field (a BGPPeer's password) is shown up to its key only: its value is never printed. */
const SECRET_LINE = /^(-\s*)?["']?password["']?\s*:/i;
function shownLine(line: string): string {
  const key = SECRET_LINE.exec(line);
  return key === null ? line : `${key[0]} (a secret: its value is not shown)`;
}

/**
 * A parse failure of the document at `span`: js-yaml counts lines from the document's start, the
 * problem from the file's (the line it shows may be past the document, as where a flow list is not
 * closed).
 */
function yamlProblem(e: unknown, text: string, span: DocumentSpan, source: string, origin: string): ConfigProblem {
  const err = e as { name?: string; reason?: string; message?: string; mark?: { line?: number; column?: number } };
  if (err.name === 'YAMLException' && typeof err.mark?.line === 'number') {
    const line = shownLine(lineAt(text, span.start, err.mark.line).trim());
    const shown =
      line === '' ? '' : ` (line reads: ${JSON.stringify(line.length > 60 ? `${line.slice(0, 57)}...` : line)})`;
    return {
      kind: 'unknown',
      name: source,
      field: `line ${span.line + err.mark.line + 1}, column ${(err.mark.column ?? 0) + 1}`,
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

/**
 * A deep copy of a parsed document whose strings are its own. js-yaml's strings are slices of the
 * document's text, and V8 keeps a sliced string's whole parent alive: every StaticRoute's name would
 * hold its document's text (comments and all) for as long as the configuration runs. A structured
 * clone copies the characters (and keeps timestamps as Dates, which validation reports as such).
 */
function ownStrings(doc: unknown): unknown {
  return typeof doc === 'object' && doc !== null ? structuredClone(doc) : doc;
}

/**
 * The document itself, or the items of a `kind: List` (its own problems pushed to `problems`), each
 * copied by ownStrings as it is yielded (a List's items one at a time, not the whole List at once).
 */
function* documentObjects(doc: unknown, origin: string, problems: ConfigProblem[]): Generator<ConfigObject> {
  if (!isFields(doc) || doc.kind !== 'List') {
    yield { object: ownStrings(doc), origin };
    return;
  }
  for (const key of Object.keys(doc)) {
    if (!LIST_FIELDS.has(key))
      problems.push({
        kind: 'unknown',
        name: origin,
        field: key,
        message: `unknown field of a List (known fields here: ${[...LIST_FIELDS].join(', ')})`,
      });
  }
  const items = doc.items ?? [];
  if (!Array.isArray(items)) {
    problems.push({
      kind: 'unknown',
      name: origin,
      field: 'items',
      message: `must be a list of objects, got ${describe(items)}`,
    });
    return;
  }
  for (let i = 0; i < items.length; i++) yield { object: ownStrings(items[i]), origin: `${origin} items[${i}]` };
}
