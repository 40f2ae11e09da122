// Request paths: the discovery documents and the resource paths of the REST API, including the
// legacy /watch/ prefix and a namespace's own subresources (/api/v1/namespaces/x/status).
import type { ResourceRegistry } from './resources.js';
import type { ResourceType } from './types.js';

/** A parsed request path. */
export type Route =
  | { type: 'info'; what: 'version' | 'healthz' | 'readyz' | 'livez' }
  | { type: 'coreVersions' }
  | { type: 'groups' }
  | { type: 'group'; group: string }
  | { type: 'resourceList'; group: string; version: string }
  | {
      type: 'resource';
      rt: ResourceType;
      namespace?: string;
      name?: string;
      subresource?: string;
      /** The legacy /watch/ prefix was used. */
      legacyWatch: boolean;
    }
  | { type: 'notFound' };

/** Splits a path into its decoded, non-empty segments. */
function segments(path: string): string[] | undefined {
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return undefined;
  }
}

/** Resolves a path against the served resources. */
export function route(registry: ResourceRegistry, path: string): Route {
  const s = segments(path);
  if (!s) return { type: 'notFound' };
  const [first, ...rest] = s;
  if (s.length === 1 && (first === 'version' || first === 'healthz' || first === 'readyz' || first === 'livez'))
    return { type: 'info', what: first };
  if ((first === 'healthz' || first === 'readyz' || first === 'livez') && s.length === 2)
    return { type: 'info', what: first };
  let group: string;
  let version: string | undefined;
  let tail: string[];
  if (first === 'api') {
    if (rest.length === 0) return { type: 'coreVersions' };
    group = '';
    [version, ...tail] = rest;
  } else if (first === 'apis') {
    if (rest.length === 0) return { type: 'groups' };
    const [g, v, ...t] = rest;
    group = g as string;
    if (v === undefined)
      return registry.groups().some((x) => x.group === group) ? { type: 'group', group } : { type: 'notFound' };
    version = v;
    tail = t;
  } else {
    return { type: 'notFound' };
  }
  if (!registry.list().some((r) => r.group === group && r.version === version)) return { type: 'notFound' };
  if (tail.length === 0) return { type: 'resourceList', group, version: version as string };
  let legacyWatch = false;
  if (tail[0] === 'watch') {
    legacyWatch = true;
    tail = tail.slice(1);
  }
  const find = (plural: string | undefined): ResourceType | undefined =>
    plural === undefined ? undefined : registry.find(group, version as string, plural);
  if (tail[0] === 'namespaces' && tail.length >= 3) {
    const namespace = tail[1] as string;
    const rt = find(tail[2]);
    if (rt?.namespaced && tail.length <= 5) {
      return { type: 'resource', rt, namespace, name: tail[3], subresource: tail[4], legacyWatch };
    }
    const nsType = find('namespaces');
    if (nsType && tail.length === 3 && !legacyWatch)
      return { type: 'resource', rt: nsType, name: namespace, subresource: tail[2], legacyWatch };
    return { type: 'notFound' };
  }
  const rt = find(tail[0]);
  if (!rt || tail.length > 3) return { type: 'notFound' };
  return { type: 'resource', rt, name: tail[1], subresource: tail[2], legacyWatch };
}
