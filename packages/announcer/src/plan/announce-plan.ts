// What this node announces: a pure function of the watched state (config, Services with their load
// balancer addresses, EndpointSlices, this node) to the routes per peer, the peers this node runs,
// and for each Service whether it is announced here or why not. No I/O. MetalLB's rules (DESIGN.md):
// advertisements select pools, peers select nodes, Local Services need a serving endpoint here,
// Cluster Services a serving endpoint on some node.
import { WELL_KNOWN_COMMUNITIES } from '@bgp-announce/bgp-wire';
import { matchesAny, matchesSelector } from '../config/selector.js';
import type { AnnouncerConfig, BGPAdvertisement, BGPPeer } from '../config/types.js';
import { serviceKey, type Service } from '../service/model.js';
import {
  localPrefWarnings,
  makeSource,
  newAttributeMemo,
  perPeerAttributes,
  sourceSetKey,
  weightedPerPeerAttributes,
  type AnnounceSource,
  type RouteWeight,
} from './announce-plan-attributes.js';
import { hasServingEndpoint, localEndpointCount, nodeExclusion } from './announce-plan-node.js';
import { nodeWeight } from './announce-plan-weight.js';
import { coveringPrefix, parseAddress, parseStaticPrefix, type ParsedAddress } from './announce-plan-prefix.js';
import type { AnnouncePlan, PlanInput, PlannedRoute, RouteAttributesPlan, ServicePlan } from './announce-plan-types.js';

export type { AnnouncePlan, PlanInput, PlannedRoute, RouteAttributesPlan, ServicePlan } from './announce-plan-types.js';

/** Why a Service with externalTrafficPolicy Local is not announced from a node. */
export const NO_LOCAL_ENDPOINT = 'no ready local endpoint (externalTrafficPolicy Local)';
/** Why a Service with externalTrafficPolicy Cluster (or unset) is announced from no node. */
export const NO_ENDPOINT = 'no ready endpoint on any node (externalTrafficPolicy Cluster)';

/** Advertisements of one pool with the same aggregation length: one prefix per address. */
interface PoolGroup {
  length: number;
  /** Source ids (advertisement indexes), sorted, and their key. */
  ids: number[];
  key: string;
  /** Peers these advertisements reach from this node, sorted. */
  peers: string[];
}

/** How this node announces addresses of one pool, or why it does not. */
type PoolPlan = { why: string } | { v4: PoolGroup[]; v6: PoolGroup[] };

/** A route being collected: the sources that give it and the Services behind it. */
interface RouteDraft {
  prefix: string;
  ids: number[];
  key: string;
  services: string[];
  weight: RouteWeight;
}

/** The whole state of one planning run, shared by the helpers below. */
interface Planning {
  input: PlanInput;
  nodePeers: string[];
  sources: AnnounceSource[];
  /** Per advertisement index: its nodeSelectors match this node. */
  advertisementForNode: boolean[];
  poolLabels: Map<string, Record<string, string>>;
  pools: Map<string, PoolPlan>;
  drafts: Map<string, RouteDraft>;
  warnings: string[];
}

/**
 * What this node announces, to which peers, with which attributes; one ServicePlan per Service
 * saying whether it is announced here or why not. Deterministic: routes, peers, Services,
 * communities and warnings come out sorted whatever the input order.
 */
export function planAnnouncements(input: PlanInput): AnnouncePlan {
  const { config, node, nodeName } = input;
  const labels = node?.metadata?.labels;
  const peers = node === undefined ? [] : peersOfNode(config, labels);
  const nodePeers = peers.map((p) => p.name);
  const warnings: string[] = [];
  const sources = config.advertisements.map((a) => makeSource('BGPAdvertisement', a, nodePeers, warnings));
  config.advertisements.forEach((a, i) => {
    if (a.weightedECMP === undefined) return;
    sources[i]!.weighted = {
      bytesPerSecondPerWeight: a.weightedECMP.bytesPerSecondPerWeight,
      transitive: a.weightedECMP.transitive,
      nodeWeight: nodeWeight(a, nodeName, labels, warnings),
    };
  });
  const planning: Planning = {
    input,
    nodePeers,
    sources,
    advertisementForNode: config.advertisements.map((a) => matchesAny(a.nodeSelectors, labels)),
    poolLabels: new Map(config.pools.map((p) => [p.name, p.labels])),
    pools: new Map(),
    drafts: new Map(),
    warnings,
  };
  const exclusion = nodeExclusion(nodeName, node);
  const services = input.services.map((s) => planService(planning, s, exclusion));
  services.sort((a, b) => compareText(a.key, b.key));
  // A node excluded from Service load balancing (the exclude label, which Talos puts on control planes;
  // NetworkUnavailable) still announces its health-checked StaticRoutes: the check decides for them.
  addStaticRoutes(planning, config, exclusion !== undefined);

  const memo = newAttributeMemo(sources, nodePeers);
  const routes = new Map<string, PlannedRoute>();
  for (const prefix of [...planning.drafts.keys()].sort()) {
    const draft = planning.drafts.get(prefix)!;
    const serviceKeys = draft.services.length > 1 ? [...new Set(draft.services)].sort(compareText) : draft.services;
    const perPeer = perPeerAttributes(memo, draft.ids, draft.key, prefix);
    routes.set(prefix, {
      prefix,
      perPeer: weightedPerPeerAttributes(memo, perPeer, draft.ids, draft.key, draft.weight, warnings),
      services: serviceKeys,
    });
  }
  warnings.push(...localPrefWarnings(memo));
  let weightUpdateIntervalMs = 0;
  for (const a of config.advertisements)
    weightUpdateIntervalMs = Math.max(weightUpdateIntervalMs, a.weightedECMP?.minUpdateIntervalMs ?? 0);
  return { peers, routes, services, warnings: [...new Set(warnings)].sort(compareText), weightUpdateIntervalMs };
}

/** The ServicePlan of one Service, adding its prefixes to the route drafts. */
function planService(planning: Planning, service: Service, exclusion: string | undefined): ServicePlan {
  const key = serviceKey(service);
  let reasons: string[] | undefined;
  const addresses: ParsedAddress[] = [];
  const ips: string[] = [];
  for (const ingress of service.status?.loadBalancer?.ingress ?? []) {
    if (ingress.ip === undefined || ingress.ip === '') continue;
    const address = parseAddress(ingress.ip);
    if (address === undefined) (reasons ??= []).push(`${JSON.stringify(ingress.ip)} is not an IP address`);
    else if (!ips.includes(address.text)) {
      ips.push(address.text);
      addresses.push(address);
    }
  }
  const plan: ServicePlan = { key, ips, announced: false, peers: [] };
  if (exclusion !== undefined) return withReasons(plan, [exclusion]);
  if (addresses.length === 0 && reasons === undefined)
    return withReasons(plan, ['no load balancer address assigned yet']);

  // Which advertisement groups apply to each address (undefined: none, the reason is noted).
  const groupsOf: (PoolGroup[] | undefined)[] = [];
  let targets = 0;
  for (const address of addresses) {
    const poolName = planning.input.poolOf(address.text);
    const pool =
      poolName === undefined ? { why: `${address.text} is in no IPAddressPool` } : poolPlan(planning, poolName);
    if ('why' in pool) {
      (reasons ??= []).push(pool.why);
      groupsOf.push(undefined);
    } else {
      groupsOf.push(address.family === 4 ? pool.v4 : pool.v6);
      targets++;
    }
  }
  const local = service.spec?.externalTrafficPolicy === 'Local';
  let endpoints = 0;
  if (targets > 0) {
    const slices = planning.input.endpointSlices.get(key);
    if (local) {
      endpoints = localEndpointCount(slices, planning.input.nodeName);
      if (endpoints === 0) {
        (reasons ??= []).push(NO_LOCAL_ENDPOINT);
        return withReasons(plan, reasons);
      }
    } else if (!hasServingEndpoint(slices)) {
      // As MetalLB: every node would take the traffic only for kube-proxy to drop it.
      (reasons ??= []).push(NO_ENDPOINT);
      return withReasons(plan, reasons);
    }
  }
  const weight: RouteWeight = local ? { endpoints, clusterServices: 0 } : { endpoints: 0, clusterServices: 1 };
  let peers: string[] | undefined;
  let peerSet: Set<string> | undefined;
  for (let i = 0; i < addresses.length; i++) {
    for (const whole of groupsOf[i] ?? []) {
      const group = local ? whole : withoutZeroWeight(planning, whole);
      if (group === undefined) {
        (reasons ??= []).push(zeroWeightReason(planning, whole));
        continue;
      }
      addDraft(planning, coveringPrefix(addresses[i]!, group.length), group.ids, group.key, key, weight);
      if (peers === undefined) peers = group.peers;
      else if (peers !== group.peers) {
        peerSet ??= new Set(peers);
        for (const p of group.peers) peerSet.add(p);
      }
    }
  }
  if (peers !== undefined) {
    plan.announced = true;
    plan.peers = peerSet === undefined ? peers.slice() : [...peerSet].sort(compareText);
  }
  return withReasons(plan, reasons);
}

function withReasons(plan: ServicePlan, reasons: string[] | undefined): ServicePlan {
  if (reasons !== undefined) plan.reason = reasons.length === 1 ? reasons[0]! : [...new Set(reasons)].join('; ');
  return plan;
}

/** How this node announces addresses of pool `name` (computed once per pool and plan). */
function poolPlan(planning: Planning, name: string): PoolPlan {
  const known = planning.pools.get(name);
  if (known !== undefined) return known;
  const plan = computePoolPlan(planning, name);
  planning.pools.set(name, plan);
  return plan;
}

function computePoolPlan(planning: Planning, name: string): PoolPlan {
  const advertisements = planning.input.config.advertisements;
  const labels = planning.poolLabels.get(name) ?? {};
  const selecting = advertisements.flatMap((a, i) => (selectsPool(a, name, labels) ? [i] : []));
  if (selecting.length === 0) return { why: `no BGPAdvertisement selects pool ${name}` };
  const forNode = selecting.filter((i) => planning.advertisementForNode[i]);
  if (forNode.length === 0) return { why: `no BGPAdvertisement selects pool ${name} for this node` };
  const withPeers = forNode.filter((i) => planning.sources[i]!.peers.length > 0);
  if (withPeers.length === 0) {
    if (planning.nodePeers.length === 0) return { why: `this node runs no BGPPeer (no nodeSelectors match it)` };
    return {
      why: `the BGPAdvertisements of pool ${name} name none of this node's BGPPeers (${planning.nodePeers.join(', ')})`,
    };
  }
  return {
    v4: groupByLength(planning, withPeers, (a) => a.aggregationLength),
    v6: groupByLength(planning, withPeers, (a) => a.aggregationLengthV6),
  };
}

/** True when the advertisement applies to the pool: by name, by label selector, or to every pool. */
function selectsPool(a: BGPAdvertisement, pool: string, labels: Readonly<Record<string, string>>): boolean {
  if (a.ipAddressPools.length === 0 && a.ipAddressPoolSelectors.length === 0) return true;
  return a.ipAddressPools.includes(pool) || a.ipAddressPoolSelectors.some((s) => matchesSelector(s, labels));
}

function groupByLength(planning: Planning, ids: number[], lengthOf: (a: BGPAdvertisement) => number): PoolGroup[] {
  const byLength = new Map<number, number[]>();
  for (const id of ids) {
    const length = lengthOf(planning.input.config.advertisements[id]!);
    const list = byLength.get(length);
    if (list === undefined) byLength.set(length, [id]);
    else list.push(id);
  }
  return [...byLength]
    .sort((x, y) => y[0] - x[0])
    .map(([length, group]) => ({ length, ids: group, key: sourceSetKey(group), peers: peersOf(planning, group) }));
}

function peersOf(planning: Planning, ids: readonly number[]): string[] {
  if (ids.length === 1) return planning.sources[ids[0]!]!.peers;
  const all = new Set<string>();
  for (const id of ids) for (const p of planning.sources[id]!.peers) all.add(p);
  return planning.nodePeers.filter((p) => all.has(p));
}

/**
 * The group without the weighted sources whose node weight is 0 (a Cluster Service is not announced
 * by them from this node); undefined when no source is left.
 */
function withoutZeroWeight(planning: Planning, group: PoolGroup): PoolGroup | undefined {
  const ids = group.ids.filter((id) => planning.sources[id]!.weighted?.nodeWeight !== 0);
  if (ids.length === group.ids.length) return group;
  if (ids.length === 0) return undefined;
  return { length: group.length, ids, key: sourceSetKey(ids), peers: peersOf(planning, ids) };
}

function zeroWeightReason(planning: Planning, group: PoolGroup): string {
  const names = group.ids.map((id) => planning.sources[id]!.name).join(', ');
  return `this node's weight is 0 for BGPAdvertisement ${names} (weightedECMP, externalTrafficPolicy Cluster)`;
}

/** Adds sources `ids` (and Service `service`, with its weight) to the route for `prefix`. */
function addDraft(
  planning: Planning,
  prefix: string,
  ids: number[],
  key: string,
  service: string | undefined,
  weight?: RouteWeight,
): void {
  const draft = planning.drafts.get(prefix);
  if (draft === undefined) {
    planning.drafts.set(prefix, {
      prefix,
      ids,
      key,
      services: service === undefined ? [] : [service],
      weight: weight === undefined ? { endpoints: 0, clusterServices: 0 } : { ...weight },
    });
    return;
  }
  if (draft.key !== key) {
    draft.ids = [...new Set([...draft.ids, ...ids])].sort((a, b) => a - b);
    draft.key = sourceSetKey(draft.ids);
  }
  if (service !== undefined && draft.services[draft.services.length - 1] !== service) {
    draft.services.push(service);
    if (weight !== undefined) {
      draft.weight.endpoints += weight.endpoints;
      draft.weight.clusterServices += weight.clusterServices;
    }
  }
}

const GRACEFUL_SHUTDOWN = WELL_KNOWN_COMMUNITIES['graceful-shutdown'];

/**
 * Static routes: sources after the advertisements, for their peers that this node runs; one with a
 * health check only while it is up (or draining, then with GRACEFUL_SHUTDOWN).
 */
function addStaticRoutes(planning: Planning, config: AnnouncerConfig, checkedOnly: boolean): void {
  for (const route of config.staticRoutes) {
    if (checkedOnly && route.healthCheck === undefined) continue;
    let health: ReturnType<NonNullable<PlanInput['healthOf']>>;
    if (route.healthCheck !== undefined) {
      health = planning.input.healthOf?.(route.name);
      if (health !== 'up' && health !== 'draining') continue;
    }
    const source = makeSource('StaticRoute', route, planning.nodePeers, planning.warnings);
    if (source.peers.length === 0) continue;
    // Failing: still announced, de-preferred, so routers move new flows away before the withdrawal.
    if (health === 'draining' && !source.communities.includes(GRACEFUL_SHUTDOWN))
      source.communities.push(GRACEFUL_SHUTDOWN);
    const id = planning.sources.length;
    planning.sources.push(source);
    const ids = [id];
    const key = sourceSetKey(ids);
    for (const text of route.prefixes) {
      const parsed = parseStaticPrefix(text);
      if ('problem' in parsed) {
        planning.warnings.push(`StaticRoute ${route.name}: ${parsed.problem}; skipped`);
        continue;
      }
      if (parsed.hostBitsSet)
        planning.warnings.push(`StaticRoute ${route.name}: ${text} has host bits set; announcing ${parsed.prefix}`);
      addDraft(planning, parsed.prefix, ids, key, undefined);
    }
  }
}

/** Plain code-unit order (locale-independent, so plans compare equal on every machine). */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The routes of `next` that are new or whose per-peer attributes differ from `prev` (compared by
 * value), and the prefixes of `prev` that `next` no longer has (sorted). A change of the Services
 * behind a prefix alone is not a change: nothing on the wire differs.
 */
export function diffPlannedRoutes(
  prev: ReadonlyMap<string, PlannedRoute>,
  next: ReadonlyMap<string, PlannedRoute>,
): { changed: PlannedRoute[]; withdrawn: string[] } {
  const changed: PlannedRoute[] = [];
  for (const [prefix, route] of next) {
    const before = prev.get(prefix);
    if (before === undefined || !samePerPeer(before.perPeer, route.perPeer)) changed.push(route);
  }
  const withdrawn: string[] = [];
  for (const prefix of prev.keys()) if (!next.has(prefix)) withdrawn.push(prefix);
  withdrawn.sort(compareText);
  return { changed, withdrawn };
}

function samePerPeer(
  a: ReadonlyMap<string, RouteAttributesPlan>,
  b: ReadonlyMap<string, RouteAttributesPlan>,
): boolean {
  if (a === b) return true;
  if (a.size !== b.size) return false;
  for (const [peer, x] of a) {
    const y = b.get(peer);
    if (y === undefined || !sameAttributes(x, y)) return false;
  }
  return true;
}

/** True when two attribute sets of a planned route are equal in value. */
export function sameAttributes(x: RouteAttributesPlan, y: RouteAttributesPlan): boolean {
  return (
    x === y ||
    (x.localPref === y.localPref &&
      sameLinkBandwidth(x, y) &&
      sameList(x.communities, y.communities) &&
      sameList(x.largeCommunities, y.largeCommunities))
  );
}

/** True when both carry the same link bandwidth (or neither does). */
function sameLinkBandwidth(x: RouteAttributesPlan, y: RouteAttributesPlan): boolean {
  const a = x.linkBandwidth;
  const b = y.linkBandwidth;
  return (
    a === b ||
    (a !== undefined && b !== undefined && a.bytesPerSecond === b.bytesPerSecond && a.transitive === b.transitive)
  );
}

function sameList(x: readonly string[], y: readonly string[]): boolean {
  if (x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}

/** The BGPPeer objects this node runs (no nodeSelectors, or one matches its labels), sorted by name. */
export function peersOfNode(config: AnnouncerConfig, labels: Readonly<Record<string, string>> | undefined): BGPPeer[] {
  return config.peers.filter((p) => matchesAny(p.nodeSelectors, labels)).sort((a, b) => compareText(a.name, b.name));
}
