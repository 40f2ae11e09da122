// BIRD (Debian's 2.0.12) as a real peer for interop tests: `bird -f` in the foreground inside a network
// namespace, its config, control socket, pid file and log in a temporary directory of its own, so
// several instances run side by side. t.teardown kills it, waits for it to exit and removes the
// directory, also when the test fails. birdc output is parsed into plain data for assertions.
import type { Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { poll, startProcess } from './gobgpd.js';

export interface BirdOptions {
  /** The network namespace BIRD runs in. */
  ns: string;
  /** Configuration after the common header (router id, log file, `protocol device`). */
  config: string;
  /** The BGP router id. */
  routerId: string;
}

/** A running BIRD. */
export interface Bird {
  /** The temporary directory holding config, control socket and log. */
  dir: string;
  /** Runs `birdc -s <socket> <args...>`; returns its output; throws with stderr on failure. */
  birdc: (...args: string[]) => string;
  /** The log file and console output, for failure messages. */
  logs: () => string;
}

/** Why BIRD 2 cannot run here (bird or birdc missing), or undefined. Use after interopUnavailable. */
export function birdUnavailable(): string | undefined {
  for (const c of ['bird', 'birdc']) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      return `interop tests need \`${c}\` on PATH (Debian: apt-get install bird2)`;
    }
  }
  return undefined;
}

/**
 * Starts BIRD in `o.ns` in the foreground with a fresh temporary directory; resolves once birdc gets
 * an answer. Killed, and the directory removed, in t.teardown.
 */
export async function startBird(t: Test, o: BirdOptions): Promise<Bird> {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-bird-'));
  // Registered first, so it runs last (tap runs teardowns in reverse): after BIRD is gone.
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  const logFile = join(dir, 'bird.log');
  writeFileSync(
    conf,
    [`router id ${o.routerId};`, `log "${logFile}" all;`, 'protocol device { scan time 1; }', '', o.config, ''].join(
      '\n',
    ),
  );
  const { output } = startProcess(t, 'ip', [
    'netns',
    'exec',
    o.ns,
    'bird',
    '-f',
    '-c',
    conf,
    '-s',
    socket,
    '-P',
    join(dir, 'bird.pid'),
  ]);
  const birdc = (...args: string[]): string =>
    execFileSync('birdc', ['-s', socket, ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const logs = (): string =>
    `--- bird console:\n${output()}\n--- bird.log:\n${existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-80).join('\n') : ''}`;
  await poll('BIRD to answer birdc', () =>
    birdc('show status').includes('Daemon is up and running') ? true : undefined,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${logs()}`);
  });
  return { dir, birdc, logs };
}

/** One route of `birdc show route all`. */
export interface BirdRoute {
  table: string;
  prefix: string;
  /** The protocol it came from. */
  protocol: string;
  /** The rest of the first line, e.g. "* (100) [AS65551i]". */
  summary: string;
  /** Next hop lines: "via <gateway> on <interface>". */
  via: { gateway: string; dev: string }[];
  /** "Name: value" lines, e.g. 'BGP.as_path' -> '65551', 'Type' -> 'BGP univ'. */
  attributes: Record<string, string>;
}

/**
 * Parses `birdc show route all` (BIRD 2 format): "Table <name>:" headers, a route line starting at the
 * first column (a continuation line for another route of the same prefix starts with blanks and
 * "unicast"), then tab-indented next hop and attribute lines.
 */
export function parseBirdRoutes(text: string): BirdRoute[] {
  const routes: BirdRoute[] = [];
  let table = '';
  let prefix = '';
  let current: BirdRoute | undefined;
  for (const line of text.split('\n')) {
    const tableMatch = /^Table (\S+):/.exec(line);
    if (tableMatch) {
      table = tableMatch[1]!;
      continue;
    }
    const routeMatch = /^(\S+)?\s+unicast \[(\S+)[^\]]*\]\s*(.*)$/.exec(line);
    if (routeMatch) {
      if (routeMatch[1] !== undefined) prefix = routeMatch[1];
      current = { table, prefix, protocol: routeMatch[2]!, summary: routeMatch[3]!.trim(), via: [], attributes: {} };
      routes.push(current);
      continue;
    }
    if (!current || !line.startsWith('\t')) continue;
    const body = line.trim();
    const viaMatch = /^via (\S+) on (\S+)/.exec(body);
    if (viaMatch) {
      current.via.push({ gateway: viaMatch[1]!, dev: viaMatch[2]! });
      continue;
    }
    const colon = body.indexOf(': ');
    if (colon > 0) current.attributes[body.slice(0, colon)] = body.slice(colon + 2);
  }
  return routes;
}

/** `birdc show protocols all <name>` as "Name: value" pairs (e.g. 'BGP state' -> 'Established'). */
export function birdProtocol(bird: Bird, name: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of bird.birdc('show', 'protocols', 'all', name).split('\n')) {
    const m = /^\s+([A-Za-z][A-Za-z0-9 ._-]*):\s+(.*)$/.exec(line);
    if (m && !(m[1]! in out)) out[m[1]!] = m[2]!.trim();
  }
  return out;
}

/** One line of `birdc show bfd sessions` (BIRD 2.0 format); intervals in seconds as printed. */
export interface BirdBfdSession {
  protocol: string;
  address: string;
  interface: string;
  /** 'Up', 'Down', 'Init' or 'AdminDown'. */
  state: string;
  /** The negotiated transmit interval BIRD uses. */
  interval: number;
  /** BIRD's detection time for the session. */
  timeout: number;
}

/** `birdc show bfd sessions`: every session of every BFD protocol. */
export function birdBfdSessions(bird: Bird): BirdBfdSession[] {
  const sessions: BirdBfdSession[] = [];
  let protocol = '';
  for (const line of bird.birdc('show', 'bfd', 'sessions').split('\n')) {
    const header = /^(\S+):$/.exec(line);
    if (header) {
      protocol = header[1]!;
      continue;
    }
    // "192.0.2.1                 p-bird     Up         14:04:30.378    0.100    0.500"
    const m = /^([0-9a-f.:]+)\s+(\S+)\s+(Up|Down|Init|AdminDown)\s+\S+\s+([0-9.]+)\s+([0-9.]+)\s*$/.exec(line);
    if (m)
      sessions.push({
        protocol,
        address: m[1]!,
        interface: m[2]!,
        state: m[3]!,
        interval: Number(m[4]),
        timeout: Number(m[5]),
      });
  }
  return sessions;
}
