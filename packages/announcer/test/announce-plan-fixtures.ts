// Builders for the announce plan tests: a two-rack cluster (two ToRs per rack), pools, advertisements,
// Services, EndpointSlices and Nodes as plain literals, and a readable view of a plan.
import { parseIp } from '@bgp-announce/bgp-wire';
import type { AnnouncerConfig, BGPAdvertisement, BGPPeer, IPAddressPool, StaticRoute } from '../src/config/types.js';
import type { EndpointSlice, Node, Service } from '../src/service/model.js';
import type { AnnouncePlan, PlanInput } from '../src/plan/announce-plan.js';

export function peer(name: string, rack?: string): BGPPeer {
  return {
    name,
    myASN: 64496,
    peerASN: 64497,
    peerAddress: '192.0.2.1',
    peerPort: 179,
    holdTime: 90,
    keepaliveTime: 30,
    connectTime: 120,
    connectionMode: 'active',
    ebgpMultiHop: false,
    enableGracefulRestart: false,
    nodeSelectors: rack === undefined ? [] : [{ matchLabels: { rack } }],
  };
}

/** A pool holding one CIDR range. */
export function pool(name: string, cidr: string, labels: Record<string, string> = {}): IPAddressPool {
  const family = cidr.includes(':') ? 6 : 4;
  return {
    name,
    ranges: [{ family, text: cidr, first: cidr.split('/')[0]!, last: '' }],
    autoAssign: true,
    avoidBuggyIPs: false,
    labels,
  };
}

export function advertisement(name: string, fields: Partial<BGPAdvertisement> = {}): BGPAdvertisement {
  return {
    name,
    ipAddressPools: [],
    ipAddressPoolSelectors: [],
    aggregationLength: 32,
    aggregationLengthV6: 128,
    communities: [],
    largeCommunities: [],
    peers: [],
    nodeSelectors: [],
    ...fields,
  };
}

export function staticRoute(name: string, prefixes: string[], fields: Partial<StaticRoute> = {}): StaticRoute {
  return { name, prefixes, peers: [], communities: [], largeCommunities: [], ...fields };
}

export const TORS = [peer('tor-1a', 'r1'), peer('tor-1b', 'r1'), peer('tor-2a', 'r2'), peer('tor-2b', 'r2')];
export const POOLS = [
  pool('blue', '203.0.113.0/25'),
  pool('green', '198.51.100.0/24', { tier: 'public' }),
  pool('v6', '2001:db8:1::/64'),
];

export function config(fields: Partial<AnnouncerConfig> = {}): AnnouncerConfig {
  return {
    pools: POOLS,
    peers: TORS,
    advertisements: [advertisement('all')],
    bfdProfiles: [],
    staticRoutes: [],
    ...fields,
  };
}

/** A Service "ns/name" with these load balancer addresses. */
export function service(key: string, ips: string[], externalTrafficPolicy?: 'Cluster' | 'Local'): Service {
  const [namespace, name] = key.split('/');
  const s: Service = {
    metadata: { namespace: namespace!, name: name! },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'bgp-announce.io/bgp' },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' })) } },
  };
  if (externalTrafficPolicy !== undefined) s.spec!.externalTrafficPolicy = externalTrafficPolicy;
  return s;
}

type Conditions = { ready?: boolean; serving?: boolean; terminating?: boolean };

/** An EndpointSlice of Service `key` with one endpoint per [nodeName, conditions]. */
export function slice(key: string, endpoints: [string, Conditions | undefined][]): EndpointSlice {
  const [namespace, name] = key.split('/');
  return {
    metadata: { namespace: namespace!, name: `${name}-x1`, labels: { 'kubernetes.io/service-name': name! } },
    addressType: 'IPv4',
    endpoints: endpoints.map(([nodeName, conditions], i) => {
      const e: NonNullable<EndpointSlice['endpoints']>[number] = { addresses: [`192.0.2.${100 + i}`], nodeName };
      if (conditions !== undefined) e.conditions = conditions;
      return e;
    }),
  };
}

export function node(
  name: string,
  labels: Record<string, string>,
  conditions: { type: string; status: string }[] = [],
): Node {
  return { metadata: { name, labels }, status: { conditions } };
}

/** The first pool (of `pools`) whose CIDR holds the address: what the allocator would answer. */
export function poolFinder(pools: readonly IPAddressPool[]): (ip: string) => string | undefined {
  return (ip) => {
    const bytes = parseIp(ip);
    if (bytes === undefined) return undefined;
    for (const p of pools) {
      const [base, len] = p.ranges[0]!.text.split('/');
      const b = parseIp(base!)!;
      if (b.length !== bytes.length) continue;
      let bits = Number(len);
      let inside = true;
      for (let i = 0; i < b.length && bits > 0; i++, bits -= 8) {
        const mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
        if ((b[i]! & mask) !== (bytes[i]! & mask)) inside = false;
      }
      if (inside) return p.name;
    }
    return undefined;
  };
}

export const N1 = node('n1', { rack: 'r1' });
export const N2 = node('n2', { rack: 'r2' });

/** The node holding the endpoints input() gives by default: in no rack, never the planning node. */
export const ELSEWHERE = 'n9';

/**
 * A plan input for node n1 (rack r1) unless told otherwise. Without `endpointSlices`, every Service
 * has one ready endpoint on node n9 (so a Cluster Service may be announced, a Local one not here).
 */
export function input(fields: Partial<PlanInput> = {}): PlanInput {
  const cfg = fields.config ?? config();
  const services = fields.services ?? [];
  return {
    nodeName: 'n1',
    node: N1,
    config: cfg,
    services,
    endpointSlices: slices(
      ...services.map((s) => slice(`${s.metadata!.namespace}/${s.metadata!.name}`, [[ELSEWHERE, { ready: true }]])),
    ),
    poolOf: poolFinder(cfg.pools),
    ...fields,
  };
}

/** EndpointSlices by Service key. */
export function slices(...list: EndpointSlice[]): Map<string, EndpointSlice[]> {
  const m = new Map<string, EndpointSlice[]>();
  for (const s of list) {
    const key = `${s.metadata!.namespace}/${s.metadata!.labels!['kubernetes.io/service-name']}`;
    m.set(key, [...(m.get(key) ?? []), s]);
  }
  return m;
}

export type AttributesView = { communities: string[]; largeCommunities: string[]; localPref?: number };
export interface PlanView {
  peers: string[];
  routes: Record<string, { services: string[]; perPeer: Record<string, AttributesView> }>;
  services: Record<string, { ips: string[]; announced: boolean; peers: string[]; reason?: string }>;
  warnings: string[];
}

/** The plan as plain objects (maps to records, peers to names), in the plan's own order. */
export function view(plan: AnnouncePlan): PlanView {
  const routes: PlanView['routes'] = {};
  for (const [prefix, r] of plan.routes) {
    if (r.prefix !== prefix) throw new Error(`route ${prefix} says prefix ${r.prefix}`);
    routes[prefix] = {
      services: r.services,
      perPeer: Object.fromEntries([...r.perPeer].map(([p, a]) => [p, { ...a }])),
    };
  }
  const services: PlanView['services'] = {};
  for (const s of plan.services) {
    const { key, ...rest } = s;
    services[key] = rest;
  }
  return { peers: plan.peers.map((p) => p.name), routes, services, warnings: plan.warnings };
}

/** Attributes with nothing set. */
export const PLAIN: AttributesView = { communities: [], largeCommunities: [] };
