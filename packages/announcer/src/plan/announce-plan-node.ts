// Which nodes may announce at all, and whether a Service has an endpoint to send its traffic to (on
// this node for externalTrafficPolicy Local, on any node for Cluster): the node-level rules of the
// announce plan (MetalLB's, see DESIGN.md).
import { EXCLUDE_LABEL, type EndpointSlice, type Node } from '../service/model.js';

/** Why this node announces nothing, or undefined when it may announce. */
export function nodeExclusion(nodeName: string, node: Node | undefined): string | undefined {
  if (node === undefined) return `node ${nodeName} has not been seen yet`;
  const labels = node.metadata?.labels;
  if (labels !== undefined && Object.hasOwn(labels, EXCLUDE_LABEL)) {
    return `node ${nodeName} has the label ${EXCLUDE_LABEL}`;
  }
  if (node.status?.conditions?.some((c) => c.type === 'NetworkUnavailable' && c.status === 'True')) {
    return `node ${nodeName} has the condition NetworkUnavailable=True`;
  }
  return undefined;
}

type Endpoint = NonNullable<EndpointSlice['endpoints']>[number];

/**
 * True when an endpoint may take traffic: serving (conditions.serving true, or serving unset and
 * ready unset or true) and not terminating.
 */
export function endpointServing(endpoint: Endpoint): boolean {
  const c = endpoint.conditions;
  if (c === undefined) return true;
  if (c.terminating === true) return false;
  return c.serving === undefined ? c.ready !== false : c.serving;
}

/** True when one of the slices has a serving endpoint on node `nodeName`. */
export function hasLocalEndpoint(slices: readonly EndpointSlice[] | undefined, nodeName: string): boolean {
  if (slices === undefined) return false;
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.nodeName === nodeName && endpointServing(endpoint)) return true;
    }
  }
  return false;
}

/**
 * True when one of the slices has a serving endpoint on any node (or on none named): a Service with
 * externalTrafficPolicy Cluster may take traffic on every node then, and on none otherwise.
 */
export function hasServingEndpoint(slices: readonly EndpointSlice[] | undefined): boolean {
  if (slices === undefined) return false;
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) if (endpointServing(endpoint)) return true;
  }
  return false;
}

/**
 * How many distinct serving endpoints of the slices are on node `nodeName`: a pod listed in both the
 * IPv4 and the IPv6 slice of a dual-stack Service counts once (by its targetRef, else its addresses).
 */
export function localEndpointCount(slices: readonly EndpointSlice[] | undefined, nodeName: string): number {
  if (slices === undefined) return 0;
  let count = 0;
  let seen: Set<string> | undefined;
  for (const slice of slices) {
    for (const endpoint of slice.endpoints ?? []) {
      if (endpoint.nodeName !== nodeName || !endpointServing(endpoint)) continue;
      const ref = endpoint.targetRef;
      const id = ref?.uid ?? (ref?.name === undefined ? undefined : `${ref.namespace ?? ''}/${ref.name}`);
      if (id === undefined) {
        count++;
        continue;
      }
      seen ??= new Set();
      if (!seen.has(id)) {
        seen.add(id);
        count++;
      }
    }
  }
  return count;
}
