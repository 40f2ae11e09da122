// BIRD 2 as the lab's router: one passive BGP protocol per node (n1, n2, ...), a kernel protocol with
// `merge paths` that installs the ECMP route into the router namespace's kernel table, and a BFD
// protocol with --bfd. Config, control socket and log are in the work directory. The ECMP next hops
// are read from the kernel route BIRD installed.
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LAB_BFD, type LabPlan } from './plan.js';
import { startProcess, tailFile } from './process.js';
import {
  compareAddresses,
  kernelNextHops,
  withBfd,
  type Router,
  type RouterPath,
  type RouterSession,
  type RouterSetup,
} from './router-common.js';
import { GiveUp, run, waitFor } from './run.js';

/** BIRD's configuration for the plan. */
export function birdConfig(plan: LabPlan, workDir: string): string {
  const { router } = plan;
  return [
    '# bgp-announce lab: BIRD peering with every node (they connect to us).',
    `router id ${router.address};`,
    `log "${join(workDir, 'bird.log')}" all;`,
    'protocol device { scan time 10; }',
    'protocol kernel {',
    '  ipv4 { import none; export where source = RTS_BGP; };',
    '  merge paths on;',
    '}',
    ...(plan.bfd
      ? [
          'protocol bfd {',
          `  interface "eth0" { min rx interval ${LAB_BFD.receiveInterval} ms; min tx interval ${LAB_BFD.transmitInterval} ms; multiplier ${LAB_BFD.detectMultiplier}; };`,
          '}',
        ]
      : []),
    'template bgp node {',
    `  local ${router.address} as ${router.asn};`,
    '  passive on;',
    '  hold time 9;',
    '  connect retry time 1;',
    ...(plan.bfd ? ['  bfd on;'] : []),
    '  ipv4 { import all; export none; };',
    '}',
    ...plan.nodes.map(
      (n) => `protocol bgp ${n.short} from node { neighbor ${n.address} as ${n.asn}; description "${n.name}"; }`,
    ),
    '',
  ].join('\n');
}

/** `birdc show protocols` as sessions, one per node of the plan (its protocol is the node's short name). */
export function parseBirdProtocols(text: string, plan: LabPlan): RouterSession[] {
  const info = new Map<string, string>();
  for (const line of text.split('\n')) {
    // "n1         BGP        ---        up     16:10:01.000  Established"
    // The BGP state is the first word of Info ("Active        Socket: Connection refused").
    const m = /^(\S+)\s+BGP\s+\S+\s+(\S+)\s+\S+(?:\s+(\S+))?/.exec(line);
    if (m) info.set(m[1]!, m[3] ?? m[2]!);
  }
  return plan.nodes.map((n) => {
    const state = info.get(n.short) ?? 'Unknown';
    return { node: n.name, address: n.address, state, established: state === 'Established' };
  });
}

/** `birdc show bfd sessions` as address -> state ("192.0.2.11  eth0  Up  16:17:33.397  0.100  0.300"). */
export function parseBirdBfdSessions(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^([0-9a-fA-F.:]+)\s+\S+\s+(Up|Down|Init|AdminDown)\s/.exec(line);
    if (m) out.set(m[1]!, m[2]!);
  }
  return out;
}

/** One route of `birdc show route all`: its prefix and path. */
export interface BirdRouteLine {
  prefix: string;
  protocol: string;
  path: RouterPath;
}

/**
 * Parses `birdc show route all` (BIRD 2): a route line starts with the prefix (or blanks for another
 * route of the same prefix) and "unicast [protocol ...]", with '*' for the best; then tab-indented
 * "via <gateway> on <dev>" and "BGP.as_path: ..." lines.
 */
export function parseBirdRoutes(text: string): BirdRouteLine[] {
  const routes: BirdRouteLine[] = [];
  let prefix = '';
  let current: BirdRouteLine | undefined;
  for (const line of text.split('\n')) {
    const m = /^(\S+)?\s+unicast \[(\S+?)[\s\]][^\]]*\]\s*(\*)?/.exec(line);
    if (m) {
      if (m[1] !== undefined) prefix = m[1];
      current = { prefix, protocol: m[2]!, path: { nextHop: '', asPath: '', best: m[3] === '*', multipath: false } };
      routes.push(current);
      continue;
    }
    if (!current || !/^\s/.test(line)) continue;
    const body = line.trim();
    const via = /^via (\S+) on \S+/.exec(body);
    if (via && current.path.nextHop === '') current.path.nextHop = via[1]!;
    const asPath = /^BGP\.as_path: ?(.*)$/.exec(body);
    if (asPath) current.path.asPath = asPath[1]!.trim();
  }
  return routes;
}

/** Starts BIRD in the router namespace; resolves once birdc gets an answer. */
export async function startBird({ plan, workDir }: RouterSetup): Promise<Router> {
  const ns = plan.router.namespace;
  const conf = join(workDir, 'bird.conf');
  const socket = join(workDir, 'bird.ctl');
  await writeFile(conf, birdConfig(plan, workDir));
  const proc = startProcess(
    'bird',
    ns,
    'bird',
    ['-f', '-c', conf, '-s', socket, '-P', join(workDir, 'bird.pid')],
    join(workDir, 'bird.out'),
  );
  const birdc = (...args: string[]): Promise<string> => run('birdc', ['-s', socket, ...args]);
  const logs = (): string =>
    `--- bird (${proc.logFile}):\n${proc.tail()}\n--- bird.log:\n${tailFile(join(workDir, 'bird.log'))}`;
  await waitFor(
    'BIRD to answer birdc',
    async () => {
      if (!proc.running()) throw new GiveUp('bird exited');
      return (await birdc('show', 'status')).includes('Daemon is up and running') ? true : undefined;
    },
    15_000,
  ).catch(async (err: Error) => {
    await proc.stop();
    throw new Error(`${err.message}\n${logs()}`);
  });
  const bgpRoutes = async (): Promise<BirdRouteLine[]> => {
    const names = new Set(plan.nodes.map((n) => n.short));
    return parseBirdRoutes(await birdc('show', 'route', 'all')).filter((r) => names.has(r.protocol));
  };
  return {
    kind: 'bird',
    software: 'BIRD',
    sessions: async () => {
      const sessions = parseBirdProtocols(await birdc('show', 'protocols'), plan);
      return plan.bfd ? withBfd(sessions, parseBirdBfdSessions(await birdc('show', 'bfd', 'sessions'))) : sessions;
    },
    prefixes: async () => [...new Set((await bgpRoutes()).map((r) => r.prefix))].sort(),
    route: async (prefix) => {
      const [routes, nextHops] = await Promise.all([bgpRoutes(), kernelNextHops(ns, prefix)]);
      const paths = routes
        .filter((r) => r.prefix === prefix)
        .map((r) => ({ ...r.path, multipath: nextHops.includes(r.path.nextHop) }));
      return {
        prefix,
        nextHops: nextHops.sort(compareAddresses),
        paths,
        nextHopsFrom: `the kernel route BIRD installed with merge paths (ip -n ${ns} route show ${prefix})`,
      };
    },
    inspect: [
      `birdc -s ${socket} show protocols`,
      `birdc -s ${socket} show route all`,
      ...(plan.bfd ? [`birdc -s ${socket} show bfd sessions`] : []),
      `ip -n ${ns} route`,
    ],
    processes: [proc],
    logs,
    stop: () => proc.stop(),
  };
}
