// A validator for the part of OpenAPI v3 (as Kubernetes structural schemas use it) that our CRDs use,
// to check examples against deploy/crds without an API server. It follows the API server's rules:
// unknown fields are errors (kubectl's strict field validation), null counts as absent (the server
// prunes nulls of non-nullable fields), lengths count characters, patterns match anywhere in the
// string (as Go's regexp does), x-kubernetes-list-type set/map items must be unique. Not evaluated:
// x-kubernetes-validations (CEL rules; the tests list what they reject instead) and metadata (the API
// server checks it itself). SUPPORTED_KEYWORDS is everything it understands: a CRD that uses another
// keyword must fail the tests until this validator learns it.
import { isIPv4, isIPv6 } from 'node:net';

/** A (structural) OpenAPI v3 schema, as far as this validator reads it. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  additionalProperties?: Schema | boolean;
  required?: string[];
  items?: Schema;
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  anyOf?: Schema[];
  default?: unknown;
  'x-kubernetes-validations'?: { rule: string; message?: string }[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

/** Every keyword validate() understands (or deliberately ignores: description, default, CEL). */
export const SUPPORTED_KEYWORDS: ReadonlySet<string> = new Set([
  'type',
  'description',
  'properties',
  'additionalProperties',
  'required',
  'items',
  'enum',
  'minimum',
  'maximum',
  'minLength',
  'maxLength',
  'minItems',
  'maxItems',
  'pattern',
  'format',
  'anyOf',
  'default',
  'x-kubernetes-validations',
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
]);

/** Formats validate() checks; int64 and int32 only describe the integer's size. */
export const SUPPORTED_FORMATS: ReadonlySet<string> = new Set(['ipv4', 'ipv6', 'date-time', 'int64', 'int32']);

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

function typeOf(v: unknown): string {
  if (Array.isArray(v)) return 'array';
  if (v === null) return 'null';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function formatOk(format: string, value: string): boolean {
  switch (format) {
    case 'ipv4':
      return isIPv4(value);
    case 'ipv6':
      return isIPv6(value);
    case 'date-time':
      return RFC3339.test(value) && !Number.isNaN(Date.parse(value));
    default:
      return true;
  }
}

/**
 * The errors of `value` against `schema`, each "path: what is wrong" (path like
 * "spec.nodeSelectors[0].matchExpressions[1].operator"); [] when it is valid. `path` "metadata" at
 * the top of an object is not looked into.
 */
export function validate(schema: Schema, value: unknown, path = ''): string[] {
  const at = path === '' ? '(root)' : path;
  const errors: string[] = [];
  if (schema.type !== undefined) {
    const actual = typeOf(value);
    const fits = actual === schema.type || (schema.type === 'number' && actual === 'integer');
    if (!fits) return [`${at}: must be of type ${schema.type}, got ${actual} ${JSON.stringify(value)}`];
  }
  if (schema.enum !== undefined && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
    errors.push(`${at}: ${JSON.stringify(value)} is not one of ${JSON.stringify(schema.enum)}`);
  }
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      errors.push(`${at}: ${value} is less than the minimum ${schema.minimum}`);
    if (schema.maximum !== undefined && value > schema.maximum)
      errors.push(`${at}: ${value} is greater than the maximum ${schema.maximum}`);
  }
  if (typeof value === 'string') {
    const length = [...value].length;
    if (schema.minLength !== undefined && length < schema.minLength)
      errors.push(`${at}: shorter than ${schema.minLength} characters`);
    if (schema.maxLength !== undefined && length > schema.maxLength)
      errors.push(`${at}: longer than ${schema.maxLength} characters`);
    if (schema.pattern !== undefined && !new RegExp(schema.pattern, 'u').test(value))
      errors.push(`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`);
    if (schema.format !== undefined && !formatOk(schema.format, value))
      errors.push(`${at}: ${JSON.stringify(value)} is not a valid ${schema.format}`);
  }
  if (schema.anyOf !== undefined && !schema.anyOf.some((branch) => validate(branch, value, path).length === 0)) {
    errors.push(`${at}: ${JSON.stringify(value)} matches none of ${JSON.stringify(schema.anyOf)}`);
  }
  if (Array.isArray(value)) errors.push(...validateArray(schema, value, path, at));
  else if (value !== null && typeof value === 'object' && schema.type === 'object')
    errors.push(...validateObject(schema, value as Record<string, unknown>, path));
  return errors;
}

function validateArray(schema: Schema, value: unknown[], path: string, at: string): string[] {
  const errors: string[] = [];
  if (schema.minItems !== undefined && value.length < schema.minItems)
    errors.push(`${at}: fewer than ${schema.minItems} items`);
  if (schema.maxItems !== undefined && value.length > schema.maxItems)
    errors.push(`${at}: more than ${schema.maxItems} items`);
  if (schema.items !== undefined)
    value.forEach((item, i) => errors.push(...validate(schema.items!, item, `${path}[${i}]`)));
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'set' || listType === 'map') {
    const keys = schema['x-kubernetes-list-map-keys'] ?? [];
    const identity = (item: unknown): string =>
      listType === 'set'
        ? JSON.stringify(item)
        : JSON.stringify(keys.map((k) => (item as Record<string, unknown> | null)?.[k]));
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const id = identity(item);
      if (seen.has(id))
        errors.push(
          `${path}[${i}]: duplicate ${listType === 'set' ? 'value' : `key ${id}`} in a list of type ${listType}`,
        );
      seen.add(id);
    });
  }
  return errors;
}

function validateObject(schema: Schema, value: Record<string, unknown>, path: string): string[] {
  const errors: string[] = [];
  const present = (key: string): boolean => Object.hasOwn(value, key) && value[key] !== null;
  for (const key of schema.required ?? [])
    if (!present(key)) errors.push(`${path === '' ? '' : `${path}.`}${key}: required`);
  for (const [key, item] of Object.entries(value)) {
    const sub = path === '' ? key : `${path}.${key}`;
    if (item === null) continue; // pruned by the API server
    if (sub === 'metadata') continue;
    const property = schema.properties?.[key];
    if (property !== undefined) errors.push(...validate(property, item, sub));
    else if (typeof schema.additionalProperties === 'object')
      errors.push(...validate(schema.additionalProperties, item, sub));
    else if (schema.additionalProperties !== true) errors.push(`${sub}: unknown field`);
  }
  return errors;
}

/** Every keyword and format a schema tree uses, with a path where each first appears. */
export function keywordsUsed(
  schema: Schema,
  path = '',
): { keywords: Map<string, string>; formats: Map<string, string> } {
  const keywords = new Map<string, string>();
  const formats = new Map<string, string>();
  const walk = (s: Schema, at: string): void => {
    for (const key of Object.keys(s)) if (!keywords.has(key)) keywords.set(key, at || '(root)');
    if (s.format !== undefined && !formats.has(s.format)) formats.set(s.format, at || '(root)');
    for (const [name, sub] of Object.entries(s.properties ?? {})) walk(sub, at === '' ? name : `${at}.${name}`);
    if (typeof s.additionalProperties === 'object') walk(s.additionalProperties, `${at}.*`);
    if (s.items) walk(s.items, `${at}[]`);
    (s.anyOf ?? []).forEach((branch, i) => walk(branch, `${at}.anyOf[${i}]`));
  };
  walk(schema, path);
  return { keywords, formats };
}

/** Every `default` in a schema tree that its own schema rejects (a structural schema must not have one). */
export function invalidDefaults(schema: Schema, path = ''): string[] {
  const out: string[] = [];
  const walk = (s: Schema, at: string): void => {
    if (s.default !== undefined) out.push(...validate(s, s.default, `${at}(default)`));
    for (const [name, sub] of Object.entries(s.properties ?? {})) walk(sub, at === '' ? name : `${at}.${name}`);
    if (s.items) walk(s.items, `${at}[]`);
  };
  walk(schema, path);
  return out;
}
