// What the lab shows at a moment: the router's sessions, each LoadBalancer Service with its VIPs and
// the router's view of each, which next hops the lab expects for it (every node not excluded; for
// externalTrafficPolicy Local only those with a serving endpoint), what each node reports in its
// BGPNodeState and what the Service's Announced condition (the leader's aggregate) says, and whether
// all of that agrees. With --control-plane also the API VIP, expected from the nodes whose stand-in API
// server is healthy.
import {
  ANNOUNCED_CONDITION,
  DEFAULT_LOAD_BALANCER_CLASS,
  NAMES_IN_MESSAGE,
  endpointServing,
  localEndpointCount,
  nodeExclusion,
} from '@bgp-announce/announcer';
import { CONFIG_NAMESPACE } from './cluster.js';
import type { TestApiServer } from '@bgp-announce/test-apiserver';
import type { ApiHealthMode } from './control-plane.js';
import type { LabPlan, PeerKind } from './plan.js';
import type { PrometheusReport } from './prometheus-report.js';
import { compareAddresses, type Router, type RouterRoute, type RouterSession } from './router-common.js';

/** One LoadBalancer Service as the lab shows it. */
export interface ServiceReport {
  namespace: string;
  name: string;
  loadBalancerClass: string | null;
  externalTrafficPolicy: string;
  /** Of our class (handled by the daemons). */
  ours: boolean;
  /** status.loadBalancer.ingress addresses. */
  vips: string[];
  finalizers: string[];
  /** Nodes with a serving endpoint. */
  endpointNodes: string[];
  /** The next hops the lab expects for each VIP (empty for Services not ours). */
  expectedNextHops: string[];
  /** The nodes behind them. */
  expectedNodes: string[];
  /**
   * With --weighted: each expected next hop's weight (its node's serving endpoints for Local, 1 for
   * Cluster), which the router's weights must follow in ratio.
   */
  expectedWeights?: Record<string, number>;
  /** The Service's Announced condition, as the leader wrote it. */
  announced?: { status: string; message: string };
  /** The router's view of each VIP. */
  routes: RouterRoute[];
}

/** With --control-plane: the API VIP, each node's stand-in API server, and the router's view. */
export interface ApiVipReport {
  vip: string;
  prefix: string;
  /** Each node's stand-in mode and the file that sets it. */
  health: { node: string; address: string; mode: ApiHealthMode; file: string }[];
  /** The next hops the lab expects: the nodes whose stand-in answers ok (and whose daemon runs). */
  expectedNextHops: string[];
  expectedNodes: string[];
  route: RouterRoute;
}

/** The lab at one moment; `problems` says what does not agree yet (empty: all good). */
export interface LabReport {
  ok: boolean;
  problems: string[];
  peer: PeerKind;
  bfd: boolean;
  router: { software: string; namespace: string; address: string; asn: number };
  nodes: { name: string; namespace: string; address: string; asn: number; daemonRunning: boolean; log: string }[];
  sessions: RouterSession[];
  /** What each node reports in its BGPNodeState. */
  nodeStates: NodeStateReport[];
  services: ServiceReport[];
  /** With --control-plane. */
  apiVip?: ApiVipReport;
  /** Every prefix in the router's BGP table. */
  routerPrefixes: string[];
  /** The switch namespace and the API namespace with the forwarder. */
  fabric: { switchNamespace: string; apiNamespace: string; apiUrl: string; apiServer: string };
  /** Every namespace of the lab. */
  namespaces: string[];
  workDir: string;
  /** Commands to look inside (router, nodes, API). */
  inspect: string[];
  elapsedMs: number;
  /** With --prometheus: what Prometheus shows (its problems are among `problems`). */
  prometheus?: PrometheusReport;
}

/** One node's BGPNodeState, in short. */
export interface NodeStateReport {
  node: string;
  sessionsEstablished: number;
  sessionsTotal: number;
  servicesAnnounced: number;
  servicesNotAnnounced: number;
}

type Obj = {
  metadata?: {
    name?: string;
    namespace?: string;
    labels?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  spec?: { type?: string; loadBalancerClass?: string; externalTrafficPolicy?: string };
  status?: {
    loadBalancer?: { ingress?: { ip?: string }[] };
    conditions?: { type: string; status: string; message?: string }[];
  };
};
type NodeStateObject = { metadata?: { name?: string }; status?: Omit<NodeStateReport, 'node'> };
type Slice = {
  metadata?: { namespace?: string; labels?: Record<string, string> };
  endpoints?: {
    addresses?: string[];
    nodeName?: string;
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    targetRef?: { uid?: string; name?: string; namespace?: string };
  }[];
};
type NodeObject = Parameters<typeof nodeExclusion>[1];
type EndpointSlice = NonNullable<Parameters<typeof localEndpointCount>[0]>[number];

/**
 * Why the router's weights do not follow the expected ones in ratio (each next hop's share of the
 * total within 2 points, the router's rounding: FRR gives 60/20/20 for 3:1:1), or undefined.
 */
export function weightMismatch(
  expected: Readonly<Record<string, number>>,
  got: Readonly<Record<string, number>> | undefined,
): string | undefined {
  if (got === undefined) return undefined;
  const share = (w: Readonly<Record<string, number>>, a: string): number => {
    const total = Object.values(w).reduce((x, y) => x + y, 0);
    return total === 0 ? 0 : (w[a] ?? 0) / total;
  };
  const addresses = Object.keys(expected);
  if (addresses.length < 2) return undefined;
  const off = addresses.some((a) => Math.abs(share(expected, a) - share(got, a)) > 0.02);
  return off ? `weights ${formatWeights(got)}, expected ${formatWeights(expected)} in ratio` : undefined;
}

/** "192.0.2.11 x60, 192.0.2.12 x20" in address order. */
export function formatWeights(w: Readonly<Record<string, number>>): string {
  return Object.keys(w)
    .sort(compareAddresses)
    .map((a) => `${a} x${w[a]}`)
    .join(', ');
}

/** The Services and the lab's expectations, read from the API server's store. */
export function readServices(server: Pick<TestApiServer, 'list'>, plan: LabPlan): Omit<ServiceReport, 'routes'>[] {
  const nodes = server.list('nodes') as NodeObject[];
  const eligible = plan.nodes.filter(
    (n) =>
      nodeExclusion(
        n.name,
        nodes.find((o) => o?.metadata?.name === n.name),
      ) === undefined,
  );
  const slices = server.list('endpointslices.discovery.k8s.io') as Slice[];
  const services = (server.list('services') as Obj[]).filter((s) => s.spec?.type === 'LoadBalancer');
  return services.map((s) => {
    const namespace = s.metadata?.namespace ?? 'default';
    const name = s.metadata?.name ?? '';
    const mine = slices.filter(
      (sl) => sl.metadata?.namespace === namespace && sl.metadata?.labels?.['kubernetes.io/service-name'] === name,
    );
    const endpointNodes = [
      ...new Set(
        mine.flatMap((sl) =>
          (sl.endpoints ?? []).filter((e) => endpointServing(e) && e.nodeName !== undefined).map((e) => e.nodeName!),
        ),
      ),
    ].sort();
    const cls = s.spec?.loadBalancerClass ?? null;
    const ours = cls === DEFAULT_LOAD_BALANCER_CLASS && s.metadata?.deletionTimestamp === undefined;
    const policy = s.spec?.externalTrafficPolicy ?? 'Cluster';
    // Local: the eligible nodes with a serving endpoint; Cluster: every eligible node while a serving
    // endpoint exists anywhere, none otherwise (withdrawn, as MetalLB does).
    const serving = mine.some((sl) => (sl.endpoints ?? []).some((e) => endpointServing(e)));
    const announcing =
      policy === 'Local' ? eligible.filter((n) => endpointNodes.includes(n.name)) : serving ? eligible : [];
    const condition = s.status?.conditions?.find((c) => c.type === ANNOUNCED_CONDITION);
    const weights: Record<string, number> = {};
    if (plan.weighted && ours)
      for (const n of announcing)
        weights[n.address] = policy === 'Local' ? localEndpointCount(mine as EndpointSlice[], n.name) : 1;
    return {
      namespace,
      name,
      loadBalancerClass: cls,
      externalTrafficPolicy: policy,
      ours,
      vips: (s.status?.loadBalancer?.ingress ?? []).map((i) => i.ip).filter((ip): ip is string => ip !== undefined),
      finalizers: s.metadata?.finalizers ?? [],
      endpointNodes,
      expectedNextHops: ours ? announcing.map((n) => n.address).sort(compareAddresses) : [],
      expectedNodes: ours ? announcing.map((n) => n.name).sort() : [],
      ...(plan.weighted && ours ? { expectedWeights: weights } : {}),
      ...(condition ? { announced: { status: condition.status, message: condition.message ?? '' } } : {}),
    };
  });
}

/** Each node's BGPNodeState (in the namespace the daemons read), in short, by node name. */
export function readNodeStates(server: Pick<TestApiServer, 'list'>): NodeStateReport[] {
  return (server.list('bgpnodestates', CONFIG_NAMESPACE) as NodeStateObject[])
    .map((o) => ({
      node: o.metadata?.name ?? '',
      sessionsEstablished: o.status?.sessionsEstablished ?? 0,
      sessionsTotal: o.status?.sessionsTotal ?? 0,
      servicesAnnounced: o.status?.servicesAnnounced ?? 0,
      servicesNotAnnounced: o.status?.servicesNotAnnounced ?? 0,
    }))
    .sort((a, b) => (a.node < b.node ? -1 : 1));
}

/** What the Announced condition of a Service announced by `nodes` begins with ("announced by 2 nodes (node-1, node-2) to"). */
export function expectedAnnounced(nodes: readonly string[]): string {
  if (nodes.length === 0) return 'announced by no node';
  const count = `${nodes.length} node${nodes.length === 1 ? '' : 's'}`;
  return `announced by ${nodes.length <= NAMES_IN_MESSAGE ? `${count} (${nodes.join(', ')})` : count} to`;
}

/** The host route of a VIP. */
export function vipPrefix(vip: string): string {
  return vip.includes(':') ? `${vip}/128` : `${vip}/32`;
}

/** What does not agree yet, in words (empty: sessions up, every VIP routed to the expected next hops, nothing else routed). */
export function labProblems(
  report: Pick<LabReport, 'sessions' | 'services' | 'routerPrefixes' | 'nodes' | 'nodeStates' | 'apiVip'>,
): string[] {
  const problems: string[] = [];
  for (const n of report.nodes)
    if (!n.daemonRunning) problems.push(`the daemon of ${n.name} is not running (log: ${n.log})`);
  for (const n of report.nodes)
    if (!report.nodeStates.some((s) => s.node === n.name)) problems.push(`${n.name} has no BGPNodeState yet`);
  for (const s of report.sessions) {
    if (!s.established) problems.push(`session with ${s.node} (${s.address}) is ${s.state}`);
    if (s.bfd !== undefined && s.bfd !== 'Up') problems.push(`BFD with ${s.node} (${s.address}) is ${s.bfd}`);
  }
  const wanted = new Set<string>();
  for (const svc of report.services) {
    const id = `${svc.namespace}/${svc.name}`;
    if (!svc.ours) {
      if (svc.vips.length > 0)
        problems.push(
          `${id} (class ${svc.loadBalancerClass ?? 'none'}) is not ours but has VIPs ${svc.vips.join(', ')}`,
        );
      continue;
    }
    if (svc.vips.length === 0) {
      problems.push(`${id} has no VIP yet`);
      continue;
    }
    for (const vip of svc.vips) {
      const prefix = vipPrefix(vip);
      wanted.add(prefix);
      const route = svc.routes.find((r) => r.prefix === prefix);
      const got = route?.nextHops ?? [];
      if (got.join(',') !== svc.expectedNextHops.join(',')) {
        problems.push(
          `${id}: the router sends ${prefix} to ${got.length > 0 ? got.join(', ') : 'nowhere'}, expected ${svc.expectedNextHops.join(', ') || 'no route'}`,
        );
      } else if (svc.expectedWeights !== undefined) {
        const why = weightMismatch(svc.expectedWeights, route?.weights);
        if (why !== undefined) problems.push(`${id}: the router's kernel route to ${prefix} has ${why}`);
      }
    }
    const said = expectedAnnounced(svc.expectedNodes);
    if (!svc.announced?.message.startsWith(said))
      problems.push(
        `${id}: its Announced condition says ${svc.announced ? JSON.stringify(svc.announced.message) : 'nothing yet'}, expected "${said}..."`,
      );
  }
  const api = report.apiVip;
  if (api !== undefined) {
    wanted.add(api.prefix);
    const got = api.route.nextHops;
    if (got.join(',') !== api.expectedNextHops.join(','))
      problems.push(
        `API server VIP: the router sends ${api.prefix} to ${got.length > 0 ? got.join(', ') : 'nowhere'}, expected ${api.expectedNextHops.join(', ') || 'no route'} (the nodes whose API server is healthy)`,
      );
  }
  const extra = report.routerPrefixes.filter((p) => !wanted.has(p));
  if (extra.length > 0) problems.push(`the router holds prefixes no Service of ours has: ${extra.join(', ')}`);
  return problems;
}

/** The parts of a running lab a snapshot reads. */
export interface SnapshotSources {
  plan: LabPlan;
  server: Pick<TestApiServer, 'list'>;
  router: Router;
  nodes: LabReport['nodes'];
  fabric: LabReport['fabric'];
  namespaces: string[];
  workDir: string;
  inspect: string[];
  startedAt: number;
  /** With --control-plane: the API VIP and each node's stand-in mode and mode file, read now. */
  apiVip?: { vip: string; health: () => ApiVipReport['health'] };
}

/** The API VIP's expectations: the healthy nodes whose daemon runs, by address. */
export function expectedApiNextHops(
  health: ApiVipReport['health'],
  nodes: Pick<LabReport['nodes'][number], 'name' | 'daemonRunning'>[],
): { expectedNextHops: string[]; expectedNodes: string[] } {
  const up = health.filter((h) => h.mode === 'ok' && nodes.some((n) => n.name === h.node && n.daemonRunning));
  return {
    expectedNextHops: up.map((h) => h.address).sort(compareAddresses),
    expectedNodes: up.map((h) => h.node).sort(),
  };
}

/** Asks the router and the API server, and says what does not agree. */
export async function takeSnapshot(src: SnapshotSources): Promise<LabReport> {
  const services = readServices(src.server, src.plan);
  const [sessions, routerPrefixes, routes] = await Promise.all([
    src.router.sessions(),
    src.router.prefixes(),
    Promise.all(services.map((s) => Promise.all(s.vips.map((vip) => src.router.route(vipPrefix(vip)))))),
  ]);
  const full: ServiceReport[] = services.map((s, i) => ({ ...s, routes: routes[i] ?? [] }));
  let apiVip: ApiVipReport | undefined;
  if (src.apiVip !== undefined) {
    const health = src.apiVip.health();
    const prefix = vipPrefix(src.apiVip.vip);
    const route = await src.router.route(prefix);
    apiVip = { vip: src.apiVip.vip, prefix, health, ...expectedApiNextHops(health, src.nodes), route };
  }
  const base = {
    sessions,
    nodeStates: readNodeStates(src.server),
    services: full,
    routerPrefixes,
    nodes: src.nodes,
    ...(apiVip ? { apiVip } : {}),
  };
  const problems = labProblems(base);
  return {
    ok: problems.length === 0,
    problems,
    peer: src.plan.peer,
    bfd: src.plan.bfd,
    router: {
      software: src.router.software,
      namespace: src.plan.router.namespace,
      address: src.plan.router.address,
      asn: src.plan.router.asn,
    },
    ...base,
    fabric: src.fabric,
    namespaces: src.namespaces,
    workDir: src.workDir,
    inspect: src.inspect,
    elapsedMs: Date.now() - src.startedAt,
  };
}
