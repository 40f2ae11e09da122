// The announce plan's input and output: what one node announces, to which peers, with which
// attributes, and why each Service is or is not announced. Plain data; see announce-plan.ts.
import type { AnnouncerConfig, BGPPeer } from '../config/types.js';
import type { EndpointSlice, Node, Service } from '../service/model.js';

/** Everything the plan depends on: the watched state as seen by one node. */
export interface PlanInput {
  nodeName: string;
  /** This node's object; undefined until it has been seen (then nothing is announced). */
  node: Node | undefined;
  config: AnnouncerConfig;
  /** Only Services of our class (already filtered), with status.loadBalancer.ingress. */
  services: readonly Service[];
  /** EndpointSlices by Service key ("namespace/name"). */
  endpointSlices: ReadonlyMap<string, readonly EndpointSlice[]>;
  /** The IPAddressPool an address belongs to, by name (the allocator knows). */
  poolOf(ip: string): string | undefined;
  /**
   * The status of a StaticRoute's health check, by route name: 'up' announces it, 'draining' announces
   * it with GRACEFUL_SHUTDOWN (65535:0), anything else (or no answer) does not. Routes without a
   * healthCheck are always announced.
   */
  healthOf?(route: string): 'pending' | 'up' | 'draining' | 'down' | undefined;
}

/**
 * Path attributes of one prefix towards one peer. Communities are "a:b" text sorted by value, large
 * communities "a:b:c" sorted by value, no duplicates. localPref is only sent on iBGP sessions (the
 * Speaker's concern). Objects are shared between routes: treat them as read-only.
 */
export interface RouteAttributesPlan {
  communities: string[];
  largeCommunities: string[];
  localPref?: number;
  /** The RFC 10005 link bandwidth to send (BGPAdvertisement weightedECMP): this node's weight x bandwidth per weight. */
  linkBandwidth?: { bytesPerSecond: number; transitive: boolean };
}

/** One prefix to announce: its attributes per peer (by peer name) and the Services behind it. */
export interface PlannedRoute {
  /** Canonical prefix text ("203.0.113.0/24", "192.0.2.7/32", "2001:db8::/64"). */
  prefix: string;
  /** Peer name to attributes, peer names sorted. Shared between routes: treat as read-only. */
  perPeer: ReadonlyMap<string, RouteAttributesPlan>;
  /** Keys ("namespace/name") of the Services this prefix covers, sorted; empty for static routes. */
  services: string[];
}

/** Whether one Service is announced from this node, to which peers, or why not. */
export interface ServicePlan {
  key: string;
  /** Its load balancer addresses (canonical text), in status order. */
  ips: string[];
  /** True when at least one of its addresses is announced to at least one peer. */
  announced: boolean;
  /** Peers (sorted) that get at least one of its addresses. */
  peers: string[];
  /**
   * Why it (or some of its addresses) is not announced; several distinct reasons (a dual-stack
   * Service with one pool not advertised) are joined by "; ".
   */
  reason?: string;
}

/** What this node announces. */
export interface AnnouncePlan {
  /** The BGP peers this node runs (no nodeSelectors, or one matches its labels), sorted by name. */
  peers: BGPPeer[];
  /** Routes by canonical prefix, in sorted prefix order. */
  routes: Map<string, PlannedRoute>;
  /** One per input Service, sorted by key. */
  services: ServicePlan[];
  /** Configuration conflicts met while planning (sorted, no duplicates). */
  warnings: string[];
  /**
   * The longest minUpdateInterval (ms) of the weightedECMP advertisements: a change of a route's link
   * bandwidth alone waits this long after the last one sent for it. 0 without weighted ECMP.
   */
  weightUpdateIntervalMs: number;
}
