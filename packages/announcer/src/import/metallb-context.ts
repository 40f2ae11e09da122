// Reading one MetalLB object's spec: each field is copied, changed (a note), left out with a note
// saying what to do instead, or refused (a problem naming the document, the field and why).
import { describe, isFields, type Fields } from '../config/check.js';
import type { ImportNote, ImportProblem } from './metallb-types.js';

/** The object being converted and where its notes and problems go. */
export interface ImportContext {
  /** "BGPPeer tor-a (input.yaml:12)". */
  from: string;
  notes: ImportNote[];
  problems: ImportProblem[];
}

export function changed(ctx: ImportContext, field: string, message: string): void {
  ctx.notes.push({ severity: 'changed', object: ctx.from, field, message });
}

export function needsUser(ctx: ImportContext, field: string, message: string): void {
  ctx.notes.push({ severity: 'needs-user', object: ctx.from, field, message });
}

export function kept(ctx: ImportContext, field: string, message: string): void {
  ctx.notes.push({ severity: 'kept', object: ctx.from, field, message });
}

export function problem(ctx: ImportContext, field: string, message: string): void {
  ctx.problems.push({ document: ctx.from, field, message });
}

/**
 * A field's value, with what MetalLB treats as unset read as absent: null, and the zero values Go
 * leaves out (empty strings, empty lists, empty objects such as a passwordSecret of `{}`).
 */
export function present(spec: Fields, key: string): unknown {
  const value = spec[key];
  if (value === null || value === undefined || value === '') return undefined;
  if (Array.isArray(value) && value.length === 0) return undefined;
  if (isFields(value) && Object.keys(value).length === 0) return undefined;
  return value;
}

/**
 * Every field of `spec` that `known` does not list: left out, with a note (a typo, or a field of a
 * newer MetalLB than this import knows). MetalLB's API server prunes unknown fields, so objects read
 * from a cluster never have any.
 */
export function unknownFields(
  ctx: ImportContext,
  spec: Fields,
  known: readonly string[],
  kind: string,
  path = 'spec',
): void {
  for (const key of Object.keys(spec)) {
    if (known.includes(key)) continue;
    needsUser(
      ctx,
      `${path}.${key}`,
      `not a field of MetalLB's ${kind} that this import knows (a typo, or a newer MetalLB's field): left out; known fields: ${known.join(', ')}`,
    );
  }
}

/** Copies the listed fields that are present (see present()) from `spec` to `out` as they are. */
export function copyFields(spec: Fields, out: Fields, keys: readonly string[]): void {
  for (const key of keys) {
    const value = present(spec, key);
    if (value !== undefined) out[key] = value;
  }
}

/** An optional string field: the string, undefined when absent, or a problem (and undefined) when not a string. */
export function optionalString(ctx: ImportContext, spec: Fields, key: string, path = 'spec'): string | undefined {
  const value = present(spec, key);
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    problem(ctx, `${path}.${key}`, `must be a string, got ${describe(value)}`);
    return undefined;
  }
  return value;
}

/** The spec of an object: an object, absent (read as empty), or a problem (undefined). */
export function specOf(ctx: ImportContext, object: Fields): Fields | undefined {
  const spec = object.spec;
  if (spec === undefined || spec === null) return {};
  if (!isFields(spec)) {
    problem(ctx, 'spec', `must be an object, got ${describe(spec)}`);
    return undefined;
  }
  return spec;
}
