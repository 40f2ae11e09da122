// Strategic merge patch for built-in types: a merge patch whose lists merge where the Go types say
// so (patchStrategy "merge"), with the $patch, $deleteFromPrimitiveList, $setElementOrder and
// $retainKeys directives. Only the lists our controllers touch are known; others replace.
import { isObject, jsonEqual, mergePatch, PatchApplyError, type Json } from './patch.js';

/** How a list at a dotted path merges: a set of primitives, or maps keyed by one field. */
type ListStrategy = { primitive: true } | { key: string };

const COMMON: Record<string, ListStrategy> = {
  'metadata.finalizers': { primitive: true },
  'metadata.ownerReferences': { key: 'uid' },
  'status.conditions': { key: 'type' },
};

const BY_KIND: Record<string, Record<string, ListStrategy>> = {
  Service: { 'spec.ports': { key: 'port' } },
  Node: { 'status.addresses': { key: 'type' }, 'status.images': { key: 'names' } },
  Pod: {
    'spec.containers': { key: 'name' },
    'spec.initContainers': { key: 'name' },
    'spec.volumes': { key: 'name' },
    'spec.containers.env': { key: 'name' },
    'spec.containers.ports': { key: 'containerPort' },
    'status.containerStatuses': { key: 'name' },
  },
};

function strategyFor(kind: string, path: string): ListStrategy | undefined {
  return BY_KIND[kind]?.[path] ?? COMMON[path];
}

const DELETE_FROM = '$deleteFromPrimitiveList/';

function mergeMap(
  kind: string,
  target: Json | undefined,
  patch: { [key: string]: Json },
  path: string,
): Json | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') {
    const { $patch: _drop, ...rest } = patch;
    return stripDirectives(rest);
  }
  if (directive !== undefined) throw new PatchApplyError(`unknown patch type "${String(directive)}" in map`);
  const out: { [key: string]: Json } = isObject(target) ? { ...target } : {};
  const deletions: [string, Json][] = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$retainKeys' || key.startsWith('$setElementOrder/')) continue;
    if (key.startsWith(DELETE_FROM)) {
      deletions.push([key.slice(DELETE_FROM.length), value]);
      continue;
    }
    const childPath = path ? `${path}.${key}` : key;
    if (value === null) {
      delete out[key];
    } else if (isObject(value)) {
      const merged = mergeMap(kind, out[key], value, childPath);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    } else if (Array.isArray(value)) {
      out[key] = mergeList(kind, out[key], value, childPath);
    } else {
      out[key] = value;
    }
  }
  for (const [field, values] of deletions) {
    const current = out[field];
    if (!Array.isArray(current) || !Array.isArray(values)) continue;
    out[field] = current.filter((v) => !values.some((d) => jsonEqual(d, v)));
  }
  return out;
}

function mergeList(kind: string, target: Json | undefined, patch: Json[], path: string): Json[] {
  const strategy = strategyFor(kind, path);
  const current = Array.isArray(target) ? target : [];
  if (!strategy) return patch.map((v) => (isObject(v) ? (stripDirectives(v) as Json) : v));
  if ('primitive' in strategy) {
    const out = [...current];
    for (const v of patch) if (!out.some((x) => jsonEqual(x, v))) out.push(v);
    return out;
  }
  if (patch.some((v) => isObject(v) && v.$patch === 'replace')) {
    return patch.filter((v) => !(isObject(v) && v.$patch === 'replace')).map((v) => stripDirectives(v) as Json);
  }
  const out = [...current];
  for (const item of patch) {
    if (!isObject(item))
      throw new PatchApplyError(`list ${path} merges maps by "${strategy.key}", got ${JSON.stringify(item)}`);
    const keyValue = item[strategy.key];
    const at = out.findIndex((x) => isObject(x) && jsonEqual(x[strategy.key], keyValue));
    if (item.$patch === 'delete') {
      if (at >= 0) out.splice(at, 1);
      continue;
    }
    if (at >= 0) {
      const merged = mergeMap(kind, out[at], item, path);
      if (merged === undefined) out.splice(at, 1);
      else out[at] = merged;
    } else {
      out.push(stripDirectives(item) as Json);
    }
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: { [key: string]: Json } = {};
  for (const [k, x] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    if (x !== null) out[k] = stripDirectives(x);
  }
  return out;
}

/** Applies a strategic merge patch for an object of a built-in kind; a non-object patch replaces like a merge patch. */
export function strategicMergePatch(kind: string, target: Json, patch: Json): Json {
  if (!isObject(patch)) return mergePatch(target, patch);
  return mergeMap(kind, target, patch, '') ?? {};
}
