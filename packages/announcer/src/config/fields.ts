// The spec fields each kind accepts, as a tree: the validators reject any other field (a typo must
// not be silently ignored), and the CRD test compares these against deploy/crds so that a field added
// to one but not the other fails.
import { BFD_PROFILE_DEFAULTS } from '@bgp-announce/bfd';
import type { ConfigKind } from './types.js';

/**
 * Known fields of one object level. `true`: a leaf (a scalar, a list of scalars, or a free-form map
 * such as matchLabels); a nested FieldTree: an object; a one-element array: a list of such objects.
 */
export interface FieldTree {
  readonly [field: string]: true | FieldTree | readonly [FieldTree];
}

/** The fields of a metav1.LabelSelector. */
export const LABEL_SELECTOR_FIELDS = {
  matchLabels: true,
  matchExpressions: [{ key: true, operator: true, values: true }],
} as const satisfies FieldTree;

/** The fields of a label selector requirement (one matchExpressions entry). */
export const LABEL_REQUIREMENT_FIELDS = LABEL_SELECTOR_FIELDS.matchExpressions[0];

export const POOL_SPEC_FIELDS = {
  addresses: true,
  autoAssign: true,
  avoidBuggyIPs: true,
  serviceAllocation: {
    priority: true,
    namespaces: true,
    namespaceSelectors: [LABEL_SELECTOR_FIELDS],
    serviceSelectors: [LABEL_SELECTOR_FIELDS],
  },
} as const satisfies FieldTree;

export const PEER_SPEC_FIELDS = {
  myASN: true,
  peerASN: true,
  peerAddress: true,
  peerPort: true,
  sourceAddress: true,
  holdTime: true,
  keepaliveTime: true,
  connectTime: true,
  connectionMode: true,
  listenAddress: true,
  listenPort: true,
  password: true,
  passwordSecret: { name: true, namespace: true },
  bfdProfile: true,
  ebgpMultiHop: true,
  enableGracefulRestart: true,
  gracefulShutdownWhenUnschedulable: true,
  routerID: true,
  nodeSelectors: [LABEL_SELECTOR_FIELDS],
} as const satisfies FieldTree;

export const ADVERTISEMENT_SPEC_FIELDS = {
  ipAddressPools: true,
  ipAddressPoolSelectors: [LABEL_SELECTOR_FIELDS],
  aggregationLength: true,
  aggregationLengthV6: true,
  localPref: true,
  communities: true,
  peers: true,
  nodeSelectors: [LABEL_SELECTOR_FIELDS],
  weightedECMP: {
    nodeWeightLabel: true,
    defaultNodeWeight: true,
    bandwidthPerWeight: true,
    transitive: true,
    minUpdateInterval: true,
  },
} as const satisfies FieldTree;

/** BFDProfile's spec fields are those of @bgp-announce/bfd's profile (minus its name, which is metadata.name). */
export const BFD_PROFILE_SPEC_FIELDS: FieldTree = Object.fromEntries(
  Object.keys(BFD_PROFILE_DEFAULTS).map((k) => [k, true]),
);

export const STATIC_ROUTE_SPEC_FIELDS = {
  prefixes: true,
  peers: true,
  communities: true,
  localPref: true,
  healthCheck: {
    http: { url: true, insecureSkipVerify: true, expectedStatus: true },
    tcp: { address: true },
    interval: true,
    timeout: true,
    rise: true,
    fall: true,
    drainTime: true,
  },
} as const satisfies FieldTree;

/** Every kind's spec fields. */
export const SPEC_FIELDS: Readonly<Record<ConfigKind, FieldTree>> = {
  IPAddressPool: POOL_SPEC_FIELDS,
  BGPPeer: PEER_SPEC_FIELDS,
  BGPAdvertisement: ADVERTISEMENT_SPEC_FIELDS,
  BFDProfile: BFD_PROFILE_SPEC_FIELDS,
  StaticRoute: STATIC_ROUTE_SPEC_FIELDS,
};

/**
 * The field paths of a tree, flattened: "serviceAllocation.priority" for an object's field,
 * "nodeSelectors[].matchExpressions[].key" for a field of a list's objects. Sorted.
 */
export function fieldPaths(tree: FieldTree, prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, sub] of Object.entries(tree)) {
    const path = prefix + name;
    out.push(path);
    if (sub === true) continue;
    if (Array.isArray(sub)) out.push(...fieldPaths((sub as readonly [FieldTree])[0], `${path}[].`));
    else out.push(...fieldPaths(sub as FieldTree, `${path}.`));
  }
  return out.sort();
}
