// gobgpd as the lab's router: a TOML config with one passive neighbor per node and
// use-multiple-paths on, its gRPC API on the loopback of its own namespace (so `ip netns exec <ns>
// gobgp ...` works with the CLI's defaults), and parsers of the CLI's JSON. gobgpd has no FIB of its
// own here, so the ECMP set is read from its RIB: the best path and every path equal to it in what
// gobgpd's multipath compares (LOCAL_PREF, AS_PATH length, ORIGIN, MED, eBGP/iBGP).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabPlan } from './plan.js';
import { startProcess } from './process.js';
import {
  compareAddresses,
  type Router,
  type RouterPath,
  type RouterRoute,
  type RouterSession,
  type RouterSetup,
} from './router-common.js';
import { GiveUp, run, waitFor } from './run.js';

/** gobgpd's API port (its default), on 127.0.0.1 inside the router namespace. */
export const GOBGP_API_PORT = 50051;

/** gobgpd's configuration for the plan. */
export function gobgpConfig(plan: LabPlan): string {
  const { router } = plan;
  return [
    '# bgp-announce lab: gobgpd peering with every node (they connect to us).',
    '[global.config]',
    `  as = ${router.asn}`,
    `  router-id = "${router.address}"`,
    `  local-address-list = ["${router.address}"]`,
    '[global.use-multiple-paths.config]',
    '  enabled = true',
    ...plan.nodes.flatMap((n) => [
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${n.address}"`,
      `    peer-as = ${n.asn}`,
      `    description = "${n.name}"`,
      '  [neighbors.transport.config]',
      '    passive-mode = true',
      '  [neighbors.timers.config]',
      '    hold-time = 9',
      '    keepalive-interval = 3',
    ]),
    '',
  ].join('\n');
}

/** GoBGP's API SessionState numbers. */
const SESSION_STATES: Record<number, string> = {
  0: 'Unknown',
  1: 'Idle',
  2: 'Connect',
  3: 'Active',
  4: 'OpenSent',
  5: 'OpenConfirm',
  6: 'Established',
};

type GobgpNeighbor = {
  conf?: { neighbor_address?: string };
  state?: { neighbor_address?: string; session_state?: number };
};

/** `gobgp neighbor -j` as sessions, one per node of the plan (nodes gobgpd does not list are 'Unknown'). */
export function parseGobgpNeighbors(json: unknown, plan: LabPlan): RouterSession[] {
  const list = Array.isArray(json) ? (json as GobgpNeighbor[]) : [];
  return plan.nodes.map((n) => {
    const entry = list.find((x) => (x.state?.neighbor_address ?? x.conf?.neighbor_address) === n.address);
    const state = SESSION_STATES[entry?.state?.session_state ?? 0] ?? 'Unknown';
    return { node: n.name, address: n.address, state, established: state === 'Established' };
  });
}

type GobgpAttr = {
  type: number;
  value?: number;
  metric?: number;
  nexthop?: string;
  as_paths?: { segment_type?: number; asns?: number[] }[];
};
type GobgpPath = { best?: boolean; attrs?: GobgpAttr[]; 'neighbor-ip'?: string };

function attr(p: GobgpPath, type: number): GobgpAttr | undefined {
  return p.attrs?.find((a) => a.type === type);
}

function asPathText(p: GobgpPath): string {
  return (attr(p, 2)?.as_paths ?? [])
    .map((s) => (s.segment_type === 1 ? `{${(s.asns ?? []).join(',')}}` : (s.asns ?? []).join(' ')))
    .join(' ');
}

/** What gobgpd's multipath compares, as one string: equal keys are equal-cost paths. */
function multipathKey(p: GobgpPath): string {
  const segments = attr(p, 2)?.as_paths ?? [];
  const asPathLength = segments.reduce((n, s) => n + (s.segment_type === 1 ? 1 : (s.asns ?? []).length), 0);
  const localPref = attr(p, 5)?.value ?? 100;
  const origin = attr(p, 1)?.value ?? 0;
  const med = attr(p, 4)?.metric ?? attr(p, 4)?.value ?? 0;
  return `${localPref}/${asPathLength}/${origin}/${med}`;
}

/** `gobgp global rib -j` (prefix -> paths) as the view of one prefix. */
export function parseGobgpRoute(json: unknown, prefix: string): RouterRoute {
  const table = (json !== null && typeof json === 'object' ? json : {}) as Record<string, GobgpPath[]>;
  const paths = table[prefix] ?? [];
  const best = paths.find((p) => p.best === true);
  const bestKey = best ? multipathKey(best) : undefined;
  const out: RouterPath[] = paths.map((p) => ({
    nextHop: attr(p, 3)?.nexthop ?? p['neighbor-ip'] ?? '',
    asPath: asPathText(p),
    best: p.best === true,
    multipath: bestKey !== undefined && multipathKey(p) === bestKey,
  }));
  const nextHops = [...new Set(out.filter((p) => p.multipath).map((p) => p.nextHop))].sort(compareAddresses);
  return {
    prefix,
    nextHops,
    paths: out,
    nextHopsFrom: "gobgpd's RIB: the best path and the paths equal to it (use-multiple-paths)",
  };
}

/** The prefixes of `gobgp global rib -j`. */
export function gobgpPrefixes(json: unknown): string[] {
  return json !== null && typeof json === 'object' ? Object.keys(json).sort() : [];
}

/** Starts gobgpd in the router namespace; resolves once its API answers. */
export async function startGobgp({ plan, workDir }: RouterSetup): Promise<Router> {
  const conf = join(workDir, 'gobgpd.toml');
  await writeFile(conf, gobgpConfig(plan));
  const ns = plan.router.namespace;
  const proc = startProcess(
    'gobgpd',
    ns,
    'gobgpd',
    ['-f', conf, '--api-hosts', `127.0.0.1:${GOBGP_API_PORT}`, '--pprof-disable', '--log-plain'],
    join(workDir, 'gobgpd.log'),
  );
  const gobgp = async (...args: string[]): Promise<unknown> => {
    const text = await run('ip', ['netns', 'exec', ns, 'gobgp', '-p', String(GOBGP_API_PORT), ...args, '-j']);
    return text.trim() === '' ? {} : (JSON.parse(text) as unknown);
  };
  const router: Router = {
    kind: 'gobgp',
    software: 'gobgpd',
    sessions: async () => parseGobgpNeighbors(await gobgp('neighbor'), plan),
    prefixes: async () => gobgpPrefixes(await gobgp('global', 'rib')),
    route: async (prefix) => parseGobgpRoute(await gobgp('global', 'rib'), prefix),
    inspect: [
      `ip netns exec ${ns} gobgp neighbor`,
      `ip netns exec ${ns} gobgp global rib`,
      ...plan.nodes.slice(0, 1).map((n) => `ip netns exec ${ns} gobgp neighbor ${n.address} adj-in`),
    ],
    processes: [proc],
    logs: () => `--- gobgpd (${proc.logFile}):\n${proc.tail()}`,
    stop: () => proc.stop(),
  };
  await waitFor(
    'gobgpd to answer on its API',
    async () => {
      if (!proc.running()) throw new GiveUp('gobgpd exited');
      return (await gobgp('neighbor')) !== undefined ? true : undefined;
    },
    15_000,
  ).catch(async (err: Error) => {
    await proc.stop();
    throw new Error(`${err.message}\n${router.logs()}`);
  });
  return router;
}
