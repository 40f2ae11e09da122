// Reading fields of untrusted objects (parsed YAML, API objects) one at a time: each reader either
// returns the value or records a problem naming the object, the field path and why, and returns
// undefined. null counts as absent, as the Kubernetes API server prunes nulls of non-nullable fields.
import type { FieldTree } from './fields.js';
import type { ConfigKind, ConfigProblem } from './types.js';

/** The object being validated and where its problems go. */
export interface ObjectContext {
  kind: ConfigKind | 'unknown';
  name: string;
  problems: ConfigProblem[];
}

export type Fields = Record<string, unknown>;

/** "spec" + "peerASN" to "spec.peerASN"; at the top level just the key. */
export function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Records one problem of the object (its name cut by objectName when longer than any valid name). */
export function report(ctx: ObjectContext, field: string, message: string): void {
  ctx.problems.push({ kind: ctx.kind, name: objectName(ctx.name), field, message });
}

/** The longest text a message shows of a value or a name; longer ones are cut to this with "...". */
const SHOWN_LENGTH = 80;

/** `text` cut to SHOWN_LENGTH characters ("..." at the end) when longer. */
export function shorten(text: string): string {
  return text.length > SHOWN_LENGTH ? `${text.slice(0, SHOWN_LENGTH - 3)}...` : text;
}

/** The longest valid object name (a DNS subdomain, as Kubernetes checks metadata.name). */
const MAX_NAME_LENGTH = 253;

/**
 * An object's name as problems show it: a name longer than any valid one (only a config file can hold
 * such a name) is cut as describe() cuts values, so that a huge metadata.name cannot make a huge log
 * line. Valid names are never cut: problemsOf() finds an object's problems by its name.
 */
export function objectName(name: string): string {
  return name.length > MAX_NAME_LENGTH ? shorten(name) : name;
}

/** A value as shown after "got": strings quoted (and cut when long), lists and objects by type. */
export function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(shorten(value));
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return `a timestamp (${value.toISOString()}; quote the value to make it a string)`;
  if (typeof value === 'object') return 'an object';
  return String(value);
}

/**
 * What a secret's value is, never what it holds: "a number", "a list", "an empty string". For fields
 * such as a BGPPeer's password, whose value must not reach a message, a log or a status, whatever its type.
 */
export function describeSecret(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  if (Array.isArray(value)) return 'a list';
  if (value instanceof Date) return 'a timestamp (quote the value in YAML to make it a string)';
  if (typeof value === 'number' || typeof value === 'bigint')
    return 'a number (quote the value in YAML to make it a string)';
  if (typeof value === 'boolean') return 'a boolean (quote the value in YAML to make it a string)';
  if (typeof value === 'object') return 'an object';
  return `a ${typeof value}`;
}

export function isFields(value: unknown): value is Fields {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The known fields of this level of `tree`, for messages. */
function known(tree: FieldTree): string {
  return Object.keys(tree).join(', ');
}

/** Records every field of `obj` that `tree` does not list (typos must not pass silently). */
export function checkUnknownFields(ctx: ObjectContext, obj: Fields, tree: FieldTree, path: string): void {
  for (const key of Object.keys(obj)) {
    if (!Object.hasOwn(tree, key)) report(ctx, join(path, key), `unknown field (known fields here: ${known(tree)})`);
  }
}

/** `obj[key]` with null read as absent. */
function field(obj: Fields, key: string): unknown {
  const value = obj[key];
  return value === null ? undefined : value;
}

/** An object-valued field, or undefined (absent, or wrong type: recorded). */
export function readFields(ctx: ObjectContext, obj: Fields, key: string, path: string): Fields | undefined {
  const value = field(obj, key);
  if (value === undefined) return undefined;
  if (!isFields(value)) {
    report(ctx, join(path, key), `must be an object, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

export function readString(
  ctx: ObjectContext,
  obj: Fields,
  key: string,
  path: string,
  required = false,
): string | undefined {
  const value = field(obj, key);
  if (value === undefined) {
    if (required) report(ctx, join(path, key), 'is required');
    return undefined;
  }
  if (typeof value !== 'string' || value === '') {
    report(ctx, join(path, key), `must be a non-empty string, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** A secret string field (a password): as readString, but no message shows its value, whatever its type. */
export function readSecretString(ctx: ObjectContext, obj: Fields, key: string, path: string): string | undefined {
  const value = field(obj, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string' || value === '') {
    report(
      ctx,
      join(path, key),
      `must be a non-empty string, got ${describeSecret(value)} (a secret: its value is not shown)`,
    );
    return undefined;
  }
  return value;
}

export function readBoolean(ctx: ObjectContext, obj: Fields, key: string, path: string): boolean | undefined {
  const value = field(obj, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') {
    report(ctx, join(path, key), `must be true or false, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** An integer field within [min, max]; `unit` is appended to the range in the message. */
export function readInteger(
  ctx: ObjectContext,
  obj: Fields,
  key: string,
  path: string,
  min: number,
  max: number,
  required = false,
  unit = '',
): number | undefined {
  const value = field(obj, key);
  if (value === undefined) {
    if (required) report(ctx, join(path, key), `is required (an integer from ${min} to ${max}${unit})`);
    return undefined;
  }
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    report(ctx, join(path, key), `must be an integer from ${min} to ${max}${unit}, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

/**
 * A list of non-empty strings. Bad entries are recorded by index ("spec.peers[2]") and left out;
 * duplicates are recorded too. `required`: the list must be present and non-empty.
 */
export function readStringList(ctx: ObjectContext, obj: Fields, key: string, path: string, required = false): string[] {
  const value = field(obj, key);
  const at = join(path, key);
  if (value === undefined) {
    if (required) report(ctx, at, 'is required (a non-empty list)');
    return [];
  }
  if (!Array.isArray(value)) {
    report(ctx, at, `must be a list of strings, got ${describe(value)}`);
    return [];
  }
  if (required && value.length === 0) report(ctx, at, 'must not be empty');
  const out: string[] = [];
  value.forEach((item: unknown, i) => {
    if (typeof item !== 'string' || item === '') {
      report(ctx, `${at}[${i}]`, `must be a non-empty string, got ${describe(item)}`);
    } else if (out.includes(item)) {
      report(ctx, `${at}[${i}]`, `${describe(item)} is listed twice`);
    } else {
      out.push(item);
    }
  });
  return out;
}

/** A list of objects, each with its field path; bad entries are recorded and left out. */
export function readFieldsList(
  ctx: ObjectContext,
  obj: Fields,
  key: string,
  path: string,
): { item: Fields; path: string }[] {
  const value = field(obj, key);
  const at = join(path, key);
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    report(ctx, at, `must be a list of objects, got ${describe(value)}`);
    return [];
  }
  const out: { item: Fields; path: string }[] = [];
  value.forEach((item: unknown, i) => {
    if (isFields(item)) out.push({ item, path: `${at}[${i}]` });
    else report(ctx, `${at}[${i}]`, `must be an object, got ${describe(item)}`);
  });
  return out;
}

/** An IPv4/IPv6 family name for messages. */
export function familyName(family: 4 | 6): string {
  return family === 4 ? 'IPv4' : 'IPv6';
}
