// Issue 17, section 2: an idle-connection flood against the daemon's metrics endpoint, with the
// default limits. Another process opens 1,000 connections to 127.0.0.1 that send nothing (over 30
// times the cap). This process's descriptor limit is lowered first to what it uses plus the cap and a
// small margin: the daemon near its limit, as the 20,000 connections of the issue put it. While the
// flood is held:
// - a fresh /healthz connection (kubelet's side) is answered 200;
// - a new BGP session to a second router comes up (its socket is outbound, so it needs a free
//   descriptor), and the first one stays up;
// - the endpoint holds at most its cap, and this process uses at most the cap in descriptors more
//   than before the flood.
// Then the server closes every flood connection within the header timeout and its check interval.
// Without the cap, the accepted sockets run into the lowered limit (EMFILE: /healthz and the BGP
// connect fail); with Node's default timeouts, the flood's connections stay 60-90 s and the last step
// times out.
import t, { type Test } from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HTTP_LIMITS } from '../src/daemon/http-limits.js';
import type { ListenAddress } from '../src/daemon/options.js';
import {
  get,
  ourPeer,
  peeringSource,
  poll,
  receiverSpeaker,
  seriesValue,
  testDaemon,
  within,
} from './daemon-helpers.js';

const FLOOD = 1000;
/** Descriptors this process may open beyond the cap while flooded (test clients, the new BGP session, pipes). */
const MARGIN = 40;

const openFds = (): number => readdirSync('/proc/self/fd').length;

/**
 * Lowers this process's soft RLIMIT_NOFILE to `limit`; returns what puts the old one back (when it
 * can: after a failure, the descriptors may all be in use, and the limit ends with this process).
 */
function lowerFdLimit(limit: number): () => void {
  const pid = String(process.pid);
  const old = execFileSync('prlimit', ['--pid', pid, '--nofile', '--raw', '--noheadings', '--output=SOFT'], {
    encoding: 'utf8',
  }).trim();
  execFileSync('prlimit', ['--pid', pid, `--nofile=${limit}:`]);
  return () => {
    try {
      execFileSync('prlimit', ['--pid', pid, `--nofile=${old}:`]);
    } catch {}
  };
}

function hasPrlimit(): boolean {
  try {
    execFileSync('prlimit', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

interface FloodOpened {
  opened: number;
  failed: number;
}
interface FloodClosed {
  opened: number;
  maxLifetimeMs: number;
  gotTimeout: number;
}

/** Starts helpers/idle-flood.mjs against `address` in a process of its own; ended in teardown. */
function startIdleFlood(
  t: Test,
  address: ListenAddress,
  count: number,
): { opened: Promise<FloodOpened>; closed: Promise<FloodClosed> } {
  if (address.kind !== 'tcp') throw new Error('the flood needs a TCP address');
  const script = fileURLToPath(new URL('./helpers/idle-flood.mjs', import.meta.url));
  // Without tap's NODE_OPTIONS (its loaders): the script is plain JavaScript.
  const child = spawn(process.execPath, [script, address.host, String(address.port), String(count)], {
    stdio: ['pipe', 'pipe', 'inherit'],
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  t.teardown(() => {
    child.stdin.end();
    child.kill();
  });
  const events = new Map<string, (value: never) => void>();
  const exited = new Promise<never>((_resolve, reject) =>
    child.once('exit', (code) => reject(new Error(`the flood process exited early (status ${code})`))),
  );
  exited.catch(() => {});
  const event = <T>(name: string): Promise<T> =>
    Promise.race([new Promise<T>((resolve) => events.set(name, resolve as (value: never) => void)), exited]);
  const opened = event<FloodOpened>('opened');
  const closed = event<FloodClosed>('closed');
  createInterface({ input: child.stdout }).on('line', (line) => {
    const message = JSON.parse(line) as { event: string };
    events.get(message.event)?.(message as never);
  });
  return { opened, closed };
}

const established = (state: string | undefined): true | undefined => (state === 'Established' ? true : undefined);

t.test(
  'an idle-connection flood leaves /healthz, new BGP sessions and free descriptors',
  { skip: process.platform !== 'linux' || !hasPrlimit() ? 'needs Linux /proc and prlimit' : false },
  async (t) => {
    const limits = DEFAULT_HTTP_LIMITS;
    const first = await receiverSpeaker(t);
    const second = await receiverSpeaker(t);
    const source = peeringSource(first.port);
    const { daemon, log } = await testDaemon(t, source, { adminAddress: 'off' });
    source.setReady(true);
    const stateOf = (id: string): string | undefined => daemon.speaker.peers().find((p) => p.id === id)?.state;
    await poll('the first session', () => established(stateOf('rtr')));

    const before = openFds();
    t.teardown(lowerFdLimit(before + limits.maxConnections + MARGIN));
    const flood = startIdleFlood(t, daemon.metricsAddress!, FLOOD);
    const opened = await flood.opened;
    t.equal(opened.opened, FLOOD, `the flood holds ${FLOOD} connections open (as far as it knows)`);

    const health = await get(daemon.metricsAddress, '/healthz');
    t.equal(health.status, 200, "/healthz answers a fresh connection (kubelet's) while the flood is held");
    const more = openFds() - before;
    t.ok(
      more <= limits.maxConnections + 8,
      `${more} descriptors more than before the flood (the cap is ${limits.maxConnections} connections)`,
    );

    daemon.speaker.addPeer('rtr2', ourPeer(second.port));
    await poll('a new BGP session during the flood', () => established(stateOf('rtr2')), 5000);
    t.pass('a new outbound BGP session came up during the flood');
    t.equal(stateOf('rtr'), 'Established', 'the first session stayed up');

    const text = (await get(daemon.metricsAddress, '/metrics')).body;
    const open = seriesValue(text, 'bgp_announce_http_connections{endpoint="metrics"}');
    t.ok(open !== undefined && open <= limits.maxConnections, `the endpoint holds ${open} connections`);
    const evicted = seriesValue(text, 'bgp_announce_http_connections_shed_total{endpoint="metrics",action="evicted"}');
    t.ok(
      evicted !== undefined && evicted >= FLOOD - limits.maxConnections,
      `${evicted} idle connections evicted for newer ones`,
    );
    const warnings = log.lines.filter((l) => l.event === 'http-shed');
    t.equal(warnings.length, 1, 'one warning line for the whole flood');
    t.match(warnings[0], { level: 'warn', endpoint: 'metrics', maxConnections: limits.maxConnections });

    const deadline = limits.headersTimeoutMs + limits.checkIntervalMs;
    const closed = await within(flood.closed, deadline + 5000, 'the server to close every flood connection');
    t.ok(
      closed.maxLifetimeMs <= deadline + 1000,
      `the last idle connections were closed ${Math.round(closed.maxLifetimeMs)} ms after they opened (header timeout ${limits.headersTimeoutMs} ms, checked every ${limits.checkIntervalMs} ms)`,
    );
    t.ok(closed.maxLifetimeMs >= limits.headersTimeoutMs - 100, 'the ones the cap kept lived until the header timeout');
    t.ok(closed.gotTimeout >= 1, `${closed.gotTimeout} were answered 408 Request Timeout before they were closed`);
    const after = openFds() - before;
    t.ok(
      after <= 8,
      `${after} descriptors more than before the flood: the flood process's pipes and the second session`,
    );
  },
);
