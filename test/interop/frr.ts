// FRR (Debian's 8.4) as a real peer for interop tests: zebra and bgpd run in
// the foreground inside a network namespace, with every path (config, pid, zserv socket, vty sockets,
// logs) in a temporary directory of their own, so several instances run side by side. t.teardown kills
// the daemons, waits for them to exit and removes the directory, also when the test fails.
import type { Test } from 'tap';
import { execFileSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poll, startProcess } from './gobgpd.js';
import { parseKernelWeights } from '../../packages/cli/src/lab/router-common.js';

/** Where the daemons live on Debian. */
export const FRR_DAEMON_DIR = '/usr/lib/frr';

export interface FrrOptions {
  /** The network namespace the daemons run in. */
  ns: string;
  /** bgpd's configuration after the common header (`router bgp ...` and its address families). */
  bgpd: string;
  /** zebra's configuration after the common header. Default none. */
  zebra?: string;
  /** bfdd's configuration after the common header (`bfd` / `peer ...` / `profile ...`); bfdd runs only when given. */
  bfdd?: string;
  /** Log BGP updates and neighbor events (into the logs). Default true. */
  debug?: boolean;
}

/** A running FRR. */
export interface Frr {
  /** The temporary directory holding configs, sockets and logs. */
  dir: string;
  /** Runs vtysh with these commands (each one a `-c`); returns its output; throws with stderr on failure. */
  vtysh: (...commands: string[]) => string;
  /** Runs one `show ... json` command and parses its output. */
  json: <T = Record<string, unknown>>(command: string) => T;
  /** The daemons' log files (last lines) and console output, for failure messages. */
  logs: () => string;
  /** One daemon's whole log file ('' before it has one). */
  log: (daemon: 'zebra' | 'bgpd' | 'bfdd') => string;
  /** Stops bgpd (SIGTERM: it sends its peers a Cease, as on a router restart) and waits for it to exit. */
  stopBgpd: () => Promise<void>;
  /** Starts bgpd again with the same configuration; resolves once it answers vtysh. */
  startBgpd: () => Promise<void>;
}

/** Why FRR cannot run here (its daemons or vtysh missing), or undefined. Use after interopUnavailable. */
export function frrUnavailable(): string | undefined {
  for (const d of ['zebra', 'bgpd']) {
    if (!existsSync(join(FRR_DAEMON_DIR, d)))
      return `interop tests need FRR's ${d} in ${FRR_DAEMON_DIR} (Debian: apt-get install frr)`;
  }
  try {
    execFileSync('sh', ['-c', 'command -v vtysh'], { stdio: 'ignore' });
  } catch {
    return 'interop tests need `vtysh` on PATH (Debian: apt-get install frr)';
  }
  return undefined;
}

/** Why FRR's bfdd cannot run here, or undefined. Use after frrUnavailable. */
export function bfddUnavailable(): string | undefined {
  return existsSync(join(FRR_DAEMON_DIR, 'bfdd'))
    ? undefined
    : `interop tests need FRR's bfdd in ${FRR_DAEMON_DIR} (Debian: apt-get install frr)`;
}

function frrUser(): { uid: number; gid: number } {
  const id = (flag: string): number => Number(execFileSync('id', [flag, 'frr'], { encoding: 'utf8' }).trim());
  return { uid: id('-u'), gid: id('-g') };
}

function header(dir: string, daemon: string, debug: boolean): string {
  return [
    'frr defaults traditional',
    `hostname ${daemon}`,
    `log file ${join(dir, `${daemon}.log`)} debugging`,
    'log timestamp precision 3',
    ...(debug && daemon === 'bgpd' ? ['debug bgp updates', 'debug bgp neighbor-events'] : []),
    ...(debug && daemon === 'bfdd' ? ['debug bfd peer', 'debug bfd zebra'] : []),
    '!',
    '',
  ].join('\n');
}

/**
 * Starts zebra, then bfdd (only when `o.bfdd` is given; its control socket in the directory too), then
 * bgpd in `o.ns`, each in the foreground as user frr with its paths in a fresh temporary directory;
 * resolves once bgpd answers vtysh. Daemons and directory go in t.teardown.
 */
export async function startFrr(t: Test, o: FrrOptions): Promise<Frr> {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-frr-'));
  // Registered first, so it runs last (tap runs teardowns in reverse): after the daemons are gone.
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { uid, gid } = frrUser();
  chownSync(dir, uid, gid); // the daemons drop to user frr and write their pid files, sockets and logs here
  const debug = o.debug ?? true;
  const zserv = join(dir, 'zserv.api');
  const consoles: { daemon: string; output: () => string }[] = [];
  const log = (daemon: string): string => {
    const file = join(dir, `${daemon}.log`);
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  };
  const logs = (): string =>
    consoles
      .map(
        ({ daemon, output }) =>
          `--- ${daemon} console:\n${output()}\n--- ${daemon}.log:\n${log(daemon).split('\n').slice(-80).join('\n')}`,
      )
      .join('\n');
  const vtysh = (...commands: string[]): string =>
    execFileSync('vtysh', ['--vty_socket', dir, ...commands.flatMap((c) => ['-c', c])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const running = new Map<string, ChildProcess>();
  const start = (daemon: string, config: string, extraArgs: string[] = []): void => {
    const conf = join(dir, `${daemon}.conf`);
    writeFileSync(conf, header(dir, daemon, debug) + config + '\n');
    const args = [
      'netns',
      'exec',
      o.ns,
      join(FRR_DAEMON_DIR, daemon),
      '-f',
      conf,
      '-i',
      join(dir, `${daemon}.pid`),
      '-z',
      zserv,
      '--vty_socket',
      dir,
      '-A',
      '127.0.0.1',
      '-P',
      '0',
      ...extraArgs,
    ];
    const { proc, output } = startProcess(t, 'ip', args);
    running.set(daemon, proc);
    consoles.push({ daemon, output });
  };
  const answers = (daemon: string) => (): true | undefined => {
    execFileSync('vtysh', ['--vty_socket', dir, '-d', daemon, '-c', 'show version'], { stdio: 'ignore' });
    return true;
  };
  const failWithLogs = (err: Error): never => {
    throw new Error(`${err.message}\n${logs()}`);
  };
  start('zebra', o.zebra ?? '');
  // bgpd connects to zebra once at start (then retries slowly): wait for zebra first.
  await poll('zebra to answer vtysh', answers('zebra')).catch(failWithLogs);
  if (o.bfdd !== undefined) {
    start('bfdd', o.bfdd, ['--bfdctl', join(dir, 'bfdd.sock')]);
    await poll('bfdd to answer vtysh', answers('bfdd')).catch(failWithLogs);
  }
  start('bgpd', o.bgpd);
  await poll('bgpd to answer vtysh', answers('bgpd')).catch(failWithLogs);
  return {
    dir,
    vtysh,
    json: <T>(command: string): T => {
      const text = vtysh(command);
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`vtysh -c '${command}' did not answer JSON: ${text.slice(0, 200)}`);
      }
    },
    logs,
    log,
    stopBgpd: async () => {
      const proc = running.get('bgpd');
      if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
      proc.kill('SIGTERM'); // ip netns exec execs the daemon: the signal reaches bgpd itself
      await exited;
    },
    startBgpd: async () => {
      start('bgpd', o.bgpd);
      await poll('bgpd to answer vtysh again', answers('bgpd')).catch(failWithLogs);
    },
  };
}

/** The part of `show bgp neighbors <addr> json` the tests read. */
export interface FrrNeighbor {
  bgpState: string;
  bgpTimerHoldTimeMsecs?: number;
  connectionsEstablished?: number;
  remoteAs: number;
  localAs: number;
  lastResetDueTo?: string;
  /** e.g. 'Cease/Administrative Shutdown'. */
  lastNotificationReason?: string;
  /** The RFC 9003 shutdown communication of the last Cease received. */
  lastShutdownDescription?: string;
  neighborCapabilities?: Record<string, unknown>;
  messageStats: {
    updatesSent: number;
    updatesRecv: number;
    keepalivesRecv: number;
    notificationsRecv: number;
    routeRefreshSent: number;
    routeRefreshRecv: number;
  } & Record<string, number>;
  addressFamilyInfo?: Record<string, unknown>;
}

/** `show bgp neighbors <address> json` for one neighbor (undefined when FRR does not know it). */
export function frrNeighbor(frr: Frr, address: string): FrrNeighbor | undefined {
  return frr.json<Record<string, FrrNeighbor>>(`show bgp neighbors ${address} json`)[address];
}

/** One path of `show bgp ipv4|ipv6 unicast json` (FRR 8.4 field names). */
export interface FrrPath {
  valid?: boolean;
  bestpath?: boolean;
  multipath?: boolean;
  path: string;
  /** 'IGP', 'EGP' or 'incomplete'. */
  origin?: string;
  /** MED, when the path carries one. */
  metric?: number;
  peerId?: string;
  /** Shown when not the default 100. */
  locPrf?: number;
  nexthops: { ip: string; afi: string; scope?: string; used?: boolean }[];
}

/** The paths FRR holds for `prefix` in `family`'s table (empty when none). */
export function frrPaths(frr: Frr, family: 'ipv4' | 'ipv6', prefix: string): FrrPath[] {
  const table = frr.json<{ routes?: Record<string, FrrPath[]> }>(`show bgp ${family} unicast json`);
  return table.routes?.[prefix] ?? [];
}

/** The next hops of the kernel route to `destination` in namespace `ns` (`ip route show`), sorted. */
export function kernelNextHops(ns: string, destination: string): string[] {
  const family = destination.includes(':') ? '-6' : '-4';
  const text = execFileSync('ip', [family, '-n', ns, 'route', 'show', destination], { encoding: 'utf8' });
  // One path: "<dst> nhid N via A dev D proto bgp ..."; several: "<dst> nhid N proto bgp ...\n\tnexthop via A dev D weight 1 ..."
  return [...text.matchAll(/\bvia (?:inet6 )?([0-9a-f.:]+)/g)].map((m) => m[1]!).sort();
}

/**
 * The next hops of the kernel route to `destination` in namespace `ns` with their weights (`nexthop
 * via A dev D weight W`; a route with one next hop has weight 1), sorted by address.
 */
export function kernelNextHopWeights(ns: string, destination: string): { via: string; weight: number }[] {
  const family = destination.includes(':') ? '-6' : '-4';
  const weights = parseKernelWeights(
    execFileSync('ip', [family, '-n', ns, 'route', 'show', destination], { encoding: 'utf8' }),
  );
  return Object.keys(weights)
    .sort()
    .map((via) => ({ via, weight: weights[via]! }));
}
