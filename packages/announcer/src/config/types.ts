// The configuration model: what the CRDs (and the plain config file, which holds the same objects)
// say once validated and defaulted. Field names follow MetalLB's where the meaning is the same.
// Everything here is plain data; validate.ts turns untrusted objects into it, the controller and the
// announce plan read it.
import type { BfdProfile } from '@bgp-announce/bfd';

/** Our API group and version, for the CRDs and the config file's objects. */
export const API_GROUP = 'bgp-announce.io';
export const API_VERSION = 'v1alpha1';
export const API_GROUP_VERSION = `${API_GROUP}/${API_VERSION}`;

/** The kinds of our objects. StaticRoute is for the config file (hosts without Kubernetes). */
export type ConfigKind = 'IPAddressPool' | 'BGPPeer' | 'BGPAdvertisement' | 'BFDProfile' | 'StaticRoute';

/** A Kubernetes label selector (metav1.LabelSelector). */
export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

/** Which Services may take addresses from a pool (MetalLB's serviceAllocation). */
export interface ServiceAllocation {
  /** Lower number first when several pools fit; pools without a priority come after those with one. */
  priority?: number;
  /** Namespaces by name. */
  namespaces: string[];
  /** Namespaces by label (any selector matching is enough). */
  namespaceSelectors: LabelSelector[];
  /** Services by label (any selector matching is enough). */
  serviceSelectors: LabelSelector[];
}

/** One address range of a pool, normalized: first and last address, same family. */
export interface AddressRange {
  family: 4 | 6;
  /** As written in the spec ("192.0.2.0/28", "192.0.2.10-192.0.2.20"). */
  text: string;
  first: string;
  last: string;
}

export interface IPAddressPool {
  name: string;
  ranges: AddressRange[];
  /** Default true: Services that do not ask for this pool by name may get addresses from it. */
  autoAssign: boolean;
  /** Default false: never hand out .0 and .255 addresses (IPv4). */
  avoidBuggyIPs: boolean;
  /** Absent: every Service may use the pool. */
  serviceAllocation?: ServiceAllocation;
  labels: Record<string, string>;
}

export type ConnectionMode = 'active' | 'passive' | 'both';

export interface BGPPeer {
  name: string;
  myASN: number;
  peerASN: number;
  peerAddress: string;
  /** Default 179. */
  peerPort: number;
  /** Our source address for the session (and for BFD). */
  sourceAddress?: string;
  /** Seconds; 0 or 3-65535. Default 90. */
  holdTime: number;
  /** Seconds; default holdTime / 3. */
  keepaliveTime: number;
  /** ConnectRetry time in seconds. Default 120 (RFC 4271), like MetalLB. */
  connectTime: number;
  /** Default 'active': we connect out and do not listen on :179 (coexistence with kube-vip/Cilium). */
  connectionMode: ConnectionMode;
  /** Where to listen in passive/both mode. Default sourceAddress (or all addresses) and port 179. */
  listenAddress?: string;
  listenPort?: number;
  /** TCP MD5 key, from `password` or resolved from `passwordSecret` by the controller. */
  password?: string;
  /** A Secret of type kubernetes.io/basic-auth holding the key in `password` (MetalLB's shape). */
  passwordSecret?: { name: string; namespace?: string };
  bfdProfile?: string;
  /** eBGP multihop: TTL 255 instead of 1. Default false. */
  ebgpMultiHop: boolean;
  /** Graceful restart (RFC 4724). Default false. */
  enableGracefulRestart: boolean;
  /**
   * While this node is cordoned (Node spec.unschedulable), send the routes to this peer with the
   * GRACEFUL_SHUTDOWN community (65535:0, RFC 8326) so the router prefers other nodes' paths; nothing
   * is withdrawn. Default false (absent).
   */
  gracefulShutdownWhenUnschedulable?: boolean;
  /** Router ID override; default the node's address. */
  routerID?: string;
  /** Only nodes matching one of these peer with this router; empty: every node. */
  nodeSelectors: LabelSelector[];
}

export interface BGPAdvertisement {
  name: string;
  /** Pools by name; empty with no selectors: every pool. */
  ipAddressPools: string[];
  ipAddressPoolSelectors: LabelSelector[];
  /** Default 32: announce each address alone; shorter announces the covering prefix. */
  aggregationLength: number;
  /** Default 128. */
  aggregationLengthV6: number;
  /** iBGP only. */
  localPref?: number;
  /** "65535:65282" or a well-known name ("no-export"); "large:1:2:3" for a large community (MetalLB). */
  communities: string[];
  largeCommunities: string[];
  /** Peers by name; empty: every peer. */
  peers: string[];
  /** Only nodes matching one of these announce; empty: every node. */
  nodeSelectors: LabelSelector[];
  /** Weighted ECMP: send the RFC 10005 link bandwidth community with each node's weight. Off when absent. */
  weightedECMP?: WeightedECMP;
}

/**
 * How a node's weight for a prefix is found and sent (BGPAdvertisement spec.weightedECMP). A Service
 * with externalTrafficPolicy Local weighs the number of its ready, serving endpoints on the node; a
 * Cluster one the integer value of the node label `nodeWeightLabel` (or `defaultNodeWeight`). The link
 * bandwidth sent is weight x bytesPerSecondPerWeight; routers split flows in proportion to it.
 */
export interface WeightedECMP {
  /** Node label whose value (an integer 0-1000000) is the node's weight for Cluster Services. */
  nodeWeightLabel?: string;
  /** Weight of a node without the label (or with no nodeWeightLabel set). Default 1. */
  defaultNodeWeight: number;
  /** Bandwidth per unit of weight, in bytes per second (from `bandwidthPerWeight`, default "1Mbps" = 125,000). */
  bytesPerSecondPerWeight: number;
  /** Transitive form (type 0x00, FRR's default) or non-transitive (0x40). Default true. */
  transitive: boolean;
  /** A weight change alone is re-announced at most once per this interval (ms); default 5,000. */
  minUpdateIntervalMs: number;
}

/** A route announced regardless of Services (config file; hosts without Kubernetes). */
export interface StaticRoute {
  name: string;
  prefixes: string[];
  /** Peers by name; empty: every peer. */
  peers: string[];
  communities: string[];
  largeCommunities: string[];
  localPref?: number;
  /** Announced only while this check passes (the API server's VIP); absent: always announced. */
  healthCheck?: HealthCheck;
}

/**
 * A StaticRoute's health check: an HTTP(S) GET or a TCP connect every intervalMs; `rise` passes in a
 * row announce the route, `fall` failures in a row drain it (GRACEFUL_SHUTDOWN for drainMs) and then
 * withdraw it. Exactly one of http and tcp is set.
 */
export interface HealthCheck {
  http?: { url: string; insecureSkipVerify: boolean; expectedStatus: number };
  tcp?: { host: string; port: number };
  intervalMs: number;
  timeoutMs: number;
  rise: number;
  fall: number;
  drainMs: number;
}

/** A whole, validated configuration. */
export interface AnnouncerConfig {
  pools: IPAddressPool[];
  peers: BGPPeer[];
  advertisements: BGPAdvertisement[];
  bfdProfiles: BfdProfile[];
  staticRoutes: StaticRoute[];
}

/** One problem with one object: which object, which field, and why. */
export interface ConfigProblem {
  kind: ConfigKind | 'unknown';
  name: string;
  /** A JSON-path-like field ("spec.peerASN", "spec.addresses[1]"). */
  field: string;
  message: string;
}

/** The text shown to people: "BGPPeer tor-a: spec.peerASN: must be an integer 1-4294967295, got -1". */
export function formatProblem(p: ConfigProblem): string {
  return `${p.kind} ${p.name}: ${p.field}: ${p.message}`;
}

/** A configuration that was rejected; the previous good one keeps running. */
export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(
      problems.length === 1
        ? formatProblem(problems[0]!)
        : `${problems.length} problems:\n${problems.map((p) => `  ${formatProblem(p)}`).join('\n')}`,
    );
    this.name = 'ConfigError';
  }
}

/** An object as the Kubernetes API (or a YAML document of the config file) holds it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; generation?: number };
  spec?: unknown;
}
