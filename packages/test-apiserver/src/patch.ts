// JSON merge patch (RFC 7386) and JSON patch (RFC 6902) over plain JSON values.

/** A JSON value. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** A patch that cannot be applied (RFC 6902 "test" failed, a path is missing, ...). */
export class PatchApplyError extends Error {
  override name = 'PatchApplyError';
}

/** A patch document that is not a patch at all (400 rather than 422). */
export class PatchFormatError extends Error {
  override name = 'PatchFormatError';
}

/** Whether a value is a JSON object (not an array, not null). */
export function isObject(v: unknown): v is { [key: string]: Json } {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep equality of two JSON values (key order ignored). */
export function jsonEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a)) return Array.isArray(b) && a.length === b.length && a.every((x, i) => jsonEqual(x, b[i]));
  if (isObject(a) && isObject(b)) {
    const ka = Object.keys(a).filter((k) => a[k] !== undefined);
    const kb = Object.keys(b).filter((k) => b[k] !== undefined);
    return ka.length === kb.length && ka.every((k) => Object.hasOwn(b, k) && jsonEqual(a[k], b[k]));
  }
  return false;
}

/** RFC 7386: objects merge recursively, null deletes, anything else (arrays too) replaces. */
export function mergePatch(target: Json | undefined, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const out: { [key: string]: Json } = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

function parsePointer(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchApplyError(`invalid JSON pointer "${pointer}"`);
  return pointer
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function arrayIndex(arr: Json[], token: string, forAdd: boolean): number {
  if (forAdd && token === '-') return arr.length;
  if (!/^(0|[1-9]\d*)$/.test(token)) throw new PatchApplyError(`invalid array index "${token}"`);
  const i = Number(token);
  if (i > arr.length || (!forAdd && i === arr.length)) throw new PatchApplyError(`array index ${i} out of bounds`);
  return i;
}

/** The container holding the last token of a path, and that token. */
function parentOf(doc: Json, path: string): { parent: Json; token: string } {
  const tokens = parsePointer(path);
  const token = tokens.pop();
  if (token === undefined) throw new PatchApplyError('the root cannot be the target of this operation');
  let cur: Json = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)] as Json;
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t] as Json;
    else throw new PatchApplyError(`path "${path}" does not exist`);
  }
  return { parent: cur, token };
}

function getAt(doc: Json, path: string): Json {
  const tokens = parsePointer(path);
  let cur: Json = doc;
  for (const t of tokens) {
    if (Array.isArray(cur)) cur = cur[arrayIndex(cur, t, false)] as Json;
    else if (isObject(cur) && Object.hasOwn(cur, t)) cur = cur[t] as Json;
    else throw new PatchApplyError(`path "${path}" does not exist`);
  }
  return cur;
}

function addAt(doc: Json, path: string, value: Json): Json {
  if (path === '') return value;
  const { parent, token } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, true), 0, value);
  else if (isObject(parent)) parent[token] = value;
  else throw new PatchApplyError(`path "${path}" does not exist`);
  return doc;
}

function removeAt(doc: Json, path: string): Json {
  const { parent, token } = parentOf(doc, path);
  if (Array.isArray(parent)) parent.splice(arrayIndex(parent, token, false), 1);
  else if (isObject(parent) && Object.hasOwn(parent, token)) delete parent[token];
  else throw new PatchApplyError(`unable to remove nonexistent key "${token}" at "${path}"`);
  return doc;
}

/** Parses an RFC 6902 document; a non-array or an operation without op/path is a format error. */
export function parseJsonPatch(body: unknown): Operation[] {
  if (!Array.isArray(body))
    throw new PatchFormatError('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  return body.map((o, i) => {
    if (!isObject(o) || typeof o.op !== 'string' || typeof o.path !== 'string') {
      throw new PatchFormatError(`operation ${i} is missing "op" or "path"`);
    }
    const op: Operation = { op: o.op, path: o.path };
    if (typeof o.from === 'string') op.from = o.from;
    if (Object.hasOwn(o, 'value')) op.value = o.value as Json;
    return op;
  });
}

/** Applies RFC 6902 operations to a copy of doc. */
export function jsonPatch(doc: Json, body: unknown): Json {
  let out: Json = structuredClone(doc);
  for (const op of parseJsonPatch(body)) {
    const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
    if (needsValue && op.value === undefined) throw new PatchApplyError(`missing value for "${op.op}" at "${op.path}"`);
    switch (op.op) {
      case 'add':
        out = addAt(out, op.path, structuredClone(op.value as Json));
        break;
      case 'remove':
        out = removeAt(out, op.path);
        break;
      case 'replace':
        getAt(out, op.path);
        out =
          op.path === ''
            ? structuredClone(op.value as Json)
            : addAt(removeAt(out, op.path), op.path, structuredClone(op.value as Json));
        break;
      case 'move': {
        if (op.from === undefined) throw new PatchApplyError('"move" needs "from"');
        const value = getAt(out, op.from);
        out = addAt(removeAt(out, op.from), op.path, value);
        break;
      }
      case 'copy': {
        if (op.from === undefined) throw new PatchApplyError('"copy" needs "from"');
        out = addAt(out, op.path, structuredClone(getAt(out, op.from)));
        break;
      }
      case 'test':
        if (!jsonEqual(getAt(out, op.path), op.value)) throw new PatchApplyError(`testing value ${op.path} failed`);
        break;
      default:
        throw new PatchFormatError(`unexpected kind of operation "${op.op}"`);
    }
  }
  return out;
}
