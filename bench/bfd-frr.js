// FRR's bfdd (Debian's 8.4) as the reference side of the BFD benchmarks (bench/bfd.js), alone in a
// network namespace: no zebra is needed for sessions given by address without an interface, and none
// runs, so bfdd's CPU time is all of FRR's BFD work. bfdd runs in the foreground as user frr, with
// its configuration, pid file, sockets and log in a scratch directory of its own (removed on exit).
//
// State changes are read from bfdd's log, written with microsecond timestamps (`log timestamp
// precision 6`, TZ=UTC) by `debug bfd peer`:
//   2026/11/23 14:09:04.481701 BFD: [SEY1D-NT8EQ] state-change: [mhop:no peer:192.0.2.1
//     local:192.0.2.2 vrf:default] up -> down reason:control-expired
import { execFileSync } from 'node:child_process';
import {
  chownSync,
  closeSync,
  existsSync,
  mkdtempSync,
  openSync,
  readFileSync,
  readSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup, poll, startIn } from './bgp-netns.js';
import { niced } from './bfd-engine.js';

export const BFDD = '/usr/lib/frr/bfdd';

/** bfdd's version ("8.4.4"), or undefined when it is not installed. */
export function bfddVersion() {
  if (!existsSync(BFDD)) return undefined;
  try {
    return /version (\S+)/.exec(execFileSync(BFDD, ['-v'], { encoding: 'utf8' }))?.[1];
  } catch {
    return undefined;
  }
}

/** bfdd's configuration: one single-hop peer per { peer, local }, all with the same timers (ms). */
export function bfddConfig(dir, peers, { intervalMs, detectMult }) {
  const lines = [
    'frr defaults traditional',
    'hostname bench-bfdd',
    `log file ${join(dir, 'bfdd.log')} debugging`,
    'log timestamp precision 6',
    'debug bfd peer',
    '!',
    'bfd',
  ];
  for (const p of peers) {
    lines.push(
      ` peer ${p.peer} local-address ${p.local}`,
      `  receive-interval ${intervalMs}`,
      `  transmit-interval ${intervalMs}`,
      `  detect-multiplier ${detectMult}`,
      ' exit',
    );
  }
  lines.push('exit', '');
  return lines.join('\n');
}

const STATE_CHANGE =
  /^(\d{4})\/(\d\d)\/(\d\d) (\d\d):(\d\d):(\d\d)\.(\d{6}) .*state-change: \[mhop:\S+ peer:(\S+) local:(\S+)[^\]]*\] (\S+) -> (\S+)(?: reason:(\S+))?/;

/** A state change from one log line ({ at (ms since the epoch), peer, local, from, to, reason }), or undefined. */
export function parseStateChange(line) {
  const m = STATE_CHANGE.exec(line);
  if (!m) return undefined;
  const [, y, mo, d, h, mi, s, us, peer, local, from, to, reason] = m;
  return {
    at: Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s)) + Number(us) / 1000,
    peer,
    local,
    from,
    to,
    reason: reason ?? '',
  };
}

/** CPU time (user + system) of every thread of a process, in ms: /proc/<pid>/task/<tid>/schedstat (ns). */
export function processCpuMs(pid) {
  let ns = 0;
  for (const tid of readdirSync(`/proc/${pid}/task`))
    ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
  return ns / 1e6;
}

/**
 * Starts bfdd in namespace `ns` with one session per { peer, local } at `timers` ({ intervalMs,
 * detectMult }); resolves once it answers vtysh. `poll()` reads new log lines: `state.get(peer)` is
 * then each peer's last state ('down' before any change), `changes` every state change in order.
 */
export async function startBfdd(ns, peers, timers) {
  const dir = mkdtempSync(join(tmpdir(), 'bfd-bench-frr-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const uid = Number(execFileSync('id', ['-u', 'frr'], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', 'frr'], { encoding: 'utf8' }).trim());
  chownSync(dir, uid, gid); // bfdd drops to user frr, then writes its pid file, sockets and log here
  const conf = join(dir, 'bfdd.conf');
  writeFileSync(conf, bfddConfig(dir, peers, timers));
  const args = [
    '-f',
    conf,
    '-i',
    join(dir, 'bfdd.pid'),
    '-z',
    join(dir, 'zserv.api'),
    '--vty_socket',
    dir,
    '--bfdctl',
    join(dir, 'bfdd.sock'),
    '-A',
    '127.0.0.1',
    '-P',
    '0',
  ];
  const daemon = startIn(ns, ...niced(BFDD, args), { env: { TZ: 'UTC' } });
  const vtysh = (...commands) =>
    execFileSync('vtysh', ['--vty_socket', dir, '-d', 'bfdd', ...commands.flatMap((c) => ['-c', c])], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  await poll(
    'bfdd to answer vtysh',
    () => {
      if (daemon.proc.exitCode !== null) throw new Error(`bfdd exited: ${daemon.output().trim()}`);
      vtysh('show version');
      return true;
    },
    { ms: 15_000, everyMs: 50 },
  );

  const logFile = join(dir, 'bfdd.log');
  const state = new Map(peers.map((p) => [p.peer, 'down']));
  const changes = [];
  let offset = 0;
  let rest = '';
  const buffer = Buffer.alloc(1 << 16);
  return {
    pid: daemon.proc.pid,
    dir,
    state,
    changes,
    /** Reads what bfdd logged since the last call; returns the new state changes. */
    poll() {
      if (!existsSync(logFile)) return [];
      const fd = openSync(logFile, 'r');
      let text = rest;
      try {
        for (let n; (n = readSync(fd, buffer, 0, buffer.length, offset)) > 0; offset += n)
          text += buffer.toString('utf8', 0, n);
      } finally {
        closeSync(fd);
      }
      const lines = text.split('\n');
      rest = lines.pop();
      const found = [];
      for (const line of lines) {
        const c = parseStateChange(line);
        if (!c) continue;
        state.set(c.peer, c.to);
        changes.push(c);
        found.push(c);
      }
      return found;
    },
    upCount: () => [...state.values()].filter((s) => s === 'up').length,
    /** `show bfd peers json`. */
    peers: () => JSON.parse(vtysh('show bfd peers json')),
    /** `show bfd peers counters json`. */
    counters: () => JSON.parse(vtysh('show bfd peers counters json')),
    cpuMs: () => processCpuMs(daemon.proc.pid),
    output: daemon.output,
    stop: () => daemon.stop(),
  };
}
