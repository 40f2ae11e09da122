// FRR as the lab's router: zebra (which installs the kernel ECMP route), bgpd with one passive
// neighbor per node in a peer group and `maximum-paths`, and bfdd with --bfd. Each daemon runs in the
// foreground as a child, with the pathspace `-N <namespace>` so its vty sockets are in
// /var/run/frr/<namespace>/ and `vtysh -N <namespace>` reaches it; configs and logs are in the work
// directory. The ECMP next hops are read from the kernel route zebra installed.
import { chown, writeFile } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { LAB_BFD, type LabPlan } from './plan.js';
import { FRR_DAEMON_DIR } from './packages.js';
import { startProcess, type LabProcess } from './process.js';
import {
  bfdStateName,
  compareAddresses,
  kernelRoute,
  withBfd,
  type Router,
  type RouterPath,
  type RouterSession,
  type RouterSetup,
} from './router-common.js';
import { GiveUp, run, waitFor } from './run.js';

/** Where FRR keeps a pathspace's pid files and vty sockets. */
export function frrRunDir(namespace: string): string {
  return `/var/run/frr/${namespace}`;
}

function header(workDir: string, daemon: string): string[] {
  return [
    'frr defaults traditional',
    `hostname ${daemon}`,
    `log file ${join(workDir, `frr-${daemon}.log`)} informational`,
    'log timestamp precision 3',
    '!',
  ];
}

/** The configuration of each FRR daemon for the plan (bfdd only with BFD). */
export function frrConfigs(plan: LabPlan, workDir: string): { zebra: string; bgpd: string; bfdd?: string } {
  const { router } = plan;
  const bgpd = [
    ...header(workDir, 'bgpd'),
    `router bgp ${router.asn}`,
    ` bgp router-id ${router.address}`,
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' timers bgp 3 9',
    ' neighbor NODES peer-group',
    ` neighbor NODES remote-as ${plan.nodes[0]?.asn ?? router.asn + 1}`,
    ' neighbor NODES passive',
    ...(plan.bfd ? [' neighbor NODES bfd', ' neighbor NODES bfd profile lab'] : []),
    ...plan.nodes.flatMap((n) => [
      ` neighbor ${n.address} peer-group NODES`,
      ` neighbor ${n.address} description ${n.name}`,
    ]),
    ' address-family ipv4 unicast',
    '  neighbor NODES activate',
    '  maximum-paths 16',
    ' exit-address-family',
    'exit',
    '!',
  ];
  const configs: { zebra: string; bgpd: string; bfdd?: string } = {
    zebra: [...header(workDir, 'zebra'), ''].join('\n'),
    bgpd: [...bgpd, ''].join('\n'),
  };
  if (plan.bfd) {
    configs.bfdd = [
      ...header(workDir, 'bfdd'),
      'bfd',
      ' profile lab',
      `  receive-interval ${LAB_BFD.receiveInterval}`,
      `  transmit-interval ${LAB_BFD.transmitInterval}`,
      `  detect-multiplier ${LAB_BFD.detectMultiplier}`,
      ' exit',
      'exit',
      '!',
      '',
    ].join('\n');
  }
  return configs;
}

/** `show bgp neighbors json` (address -> {bgpState}) as sessions, one per node of the plan. */
export function parseFrrNeighbors(json: unknown, plan: LabPlan): RouterSession[] {
  const table = (json !== null && typeof json === 'object' ? json : {}) as Record<string, { bgpState?: string }>;
  return plan.nodes.map((n) => {
    const state = table[n.address]?.bgpState ?? 'Unknown';
    return { node: n.name, address: n.address, state, established: state === 'Established' };
  });
}

/** `show bfd peers json` as address -> state. */
export function parseFrrBfdPeers(json: unknown): Map<string, string> {
  const list = Array.isArray(json) ? (json as { peer?: string; status?: string }[]) : [];
  return new Map(list.filter((p) => p.peer !== undefined).map((p) => [p.peer!, bfdStateName(p.status ?? 'unknown')]));
}

type FrrPath = {
  valid?: boolean;
  bestpath?: boolean;
  multipath?: boolean;
  path?: string;
  nexthops?: { ip?: string }[];
  peerId?: string;
};

/** `show bgp ipv4 unicast json`: the prefixes, and the paths of one prefix. */
export function parseFrrTable(json: unknown): { prefixes: string[]; paths(prefix: string): RouterPath[] } {
  const routes = ((json as { routes?: Record<string, FrrPath[]> } | null)?.routes ?? {}) as Record<string, FrrPath[]>;
  return {
    prefixes: Object.keys(routes).sort(),
    paths: (prefix) =>
      (routes[prefix] ?? []).map((p) => ({
        nextHop: p.nexthops?.[0]?.ip ?? p.peerId ?? '',
        asPath: p.path ?? '',
        best: p.bestpath === true,
        multipath: p.bestpath === true || p.multipath === true,
      })),
  };
}

function frrIds(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'frr'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

/** Starts zebra, bfdd (with BFD) and bgpd in the router namespace; resolves once bgpd answers vtysh. */
export async function startFrr({ plan, workDir }: RouterSetup): Promise<Router> {
  const ns = plan.router.namespace;
  const { uid, gid } = frrIds();
  await chown(workDir, uid, gid); // the daemons drop to user frr and write their logs here
  const configs = frrConfigs(plan, workDir);
  const processes: LabProcess[] = [];
  const vtysh = (daemon: string | undefined, ...commands: string[]): Promise<string> =>
    run('vtysh', ['-N', ns, ...(daemon ? ['-d', daemon] : []), ...commands.flatMap((c) => ['-c', c])]);
  const logs = (): string => processes.map((p) => `--- ${p.name} (${p.logFile}):\n${p.tail()}`).join('\n');
  const start = async (daemon: 'zebra' | 'bfdd' | 'bgpd', config: string): Promise<void> => {
    const conf = join(workDir, `frr-${daemon}.conf`);
    await writeFile(conf, config);
    await chown(conf, uid, gid);
    const proc = startProcess(
      daemon,
      ns,
      join(FRR_DAEMON_DIR, daemon),
      ['-N', ns, '-f', conf, '-P', '0'],
      join(workDir, `frr-${daemon}.out`),
    );
    processes.push(proc);
    await waitFor(
      `FRR's ${daemon} to answer vtysh`,
      async () => {
        if (!proc.running()) throw new GiveUp(`${daemon} exited`);
        await vtysh(daemon, 'show version');
        return true;
      },
      15_000,
    );
  };
  const stop = async (): Promise<void> => {
    for (const p of [...processes].reverse()) await p.stop();
  };
  try {
    // bgpd connects to zebra once at start (then retries slowly): zebra first.
    await start('zebra', configs.zebra);
    if (configs.bfdd !== undefined) await start('bfdd', configs.bfdd);
    await start('bgpd', configs.bgpd);
  } catch (err) {
    await stop();
    throw new Error(`${(err as Error).message}\n${logs()}`);
  }
  const table = async (): Promise<ReturnType<typeof parseFrrTable>> =>
    parseFrrTable(JSON.parse(await vtysh('bgpd', 'show bgp ipv4 unicast json')) as unknown);
  return {
    kind: 'frr',
    software: `FRR (zebra, ${configs.bfdd !== undefined ? 'bfdd, ' : ''}bgpd)`,
    sessions: async () => {
      const sessions = parseFrrNeighbors(JSON.parse(await vtysh('bgpd', 'show bgp neighbors json')) as unknown, plan);
      return plan.bfd
        ? withBfd(sessions, parseFrrBfdPeers(JSON.parse(await vtysh('bfdd', 'show bfd peers json')) as unknown))
        : sessions;
    },
    prefixes: async () => (await table()).prefixes,
    route: async (prefix) => {
      const [t, kernel] = await Promise.all([table(), kernelRoute(ns, prefix)]);
      return {
        prefix,
        nextHops: kernel.nextHops.sort(compareAddresses),
        paths: t.paths(prefix),
        nextHopsFrom: `the kernel route zebra installed (ip -n ${ns} route show ${prefix})`,
        weights: kernel.weights,
      };
    },
    inspect: [
      `vtysh -N ${ns} -c 'show bgp summary'`,
      `vtysh -N ${ns} -c 'show ip route bgp'`,
      ...(plan.bfd ? [`vtysh -N ${ns} -c 'show bfd peers brief'`] : []),
      `ip -n ${ns} route`,
    ],
    processes,
    logs,
    stop,
  };
}
