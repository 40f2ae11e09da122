// Shared by the daemon tests: a tiny RouteSource that adds one peer and announces one route, a
// receiving router on 127.0.0.1 (a second Speaker, or a bare SessionDriver that logs what it
// decodes), a daemon on ephemeral ports with its log lines captured, and HTTP GET helpers.
import http from 'node:http';
import type { Test } from 'tap';
import type { NotificationMessage, UpdateMessage } from '@bgp-announce/bgp-wire';
import { Speaker, type PeerOptions } from '@bgp-announce/bgp-speaker';
import { SessionDriver } from '@bgp-announce/bgp-speaker/session';
import { peerConfig, type GracefulRestartConfig } from '@bgp-announce/bgp-speaker';
import { startDaemon, type RunningDaemon } from '../src/daemon/daemon.js';
import type { DaemonOptions, ListenAddress } from '../src/daemon/options.js';
import type { DaemonContext, RouteSource } from '../src/daemon/source.js';
import { next } from '../../bgp-speaker/test/helpers/events.js';

/** Polls `fn` every 20 ms until it returns something other than undefined; rejects after `ms`. */
export async function poll<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** Rejects with a message naming `what` when `promise` has not settled within `ms`. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A RouteSource driven by the test: what start() does, a ready flag, and the order of calls. */
export interface FakeSource extends RouteSource {
  calls: string[];
  ctx: DaemonContext | undefined;
  setReady(ready: boolean): void;
}

export function fakeSource(
  onStart: (ctx: DaemonContext) => void | Promise<void> = () => {},
  onStop: () => void | Promise<void> = () => {},
): FakeSource {
  let ready = false;
  const source: FakeSource = {
    calls: [],
    ctx: undefined,
    async start(ctx) {
      source.calls.push('start');
      source.ctx = ctx;
      await onStart(ctx);
    },
    ready: () => ready,
    status: () => ({ kind: 'fake', ready, services: [{ name: 'default/web', announced: true }] }),
    async stop() {
      source.calls.push('stop');
      await onStop();
    },
    setReady(r) {
      ready = r;
    },
  };
  return source;
}

/** The peer our daemon gets: AS 64496 to the receiver's AS 64497 on 127.0.0.1. */
export function ourPeer(port: number, extra: Partial<PeerOptions> = {}): PeerOptions {
  return { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497, localAs: 64496, ...extra };
}

/** A source that adds peer 'rtr' (ourPeer) and announces 192.0.2.0/24 with a community. */
export function peeringSource(
  port: number,
  extra: Partial<PeerOptions> = {},
  onStop?: () => void | Promise<void>,
): FakeSource {
  return fakeSource((ctx) => {
    ctx.speaker.addPeer('rtr', ourPeer(port, extra));
    ctx.speaker.announce('192.0.2.0/24', { communities: ['64496:100'] });
  }, onStop);
}

/** A second Speaker (AS 64497, id 192.0.2.2) waiting on 127.0.0.1 for our connection; it announces 198.51.100.0/24. */
export async function receiverSpeaker(t: Test): Promise<{ speaker: Speaker; port: number }> {
  const speaker = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  speaker.on('error', () => {});
  const listening = next(speaker, 'listening');
  speaker.addPeer('us', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
  });
  speaker.announce('198.51.100.0/24');
  const [, { port }] = (await listening) as [string, { port: number }];
  t.teardown(() => speaker.stop());
  return { speaker, port };
}

export type Logged =
  | { kind: 'update'; update: UpdateMessage; at: number }
  | { kind: 'notification'; notification: NotificationMessage; at: number }
  | { kind: 'down'; at: number };

/** A bare passive SessionDriver (AS 64497) on 127.0.0.1 that logs what it receives, in order. */
export async function receiverDriver(
  t: Test,
  gracefulRestart?: GracefulRestartConfig,
): Promise<{ driver: SessionDriver; log: Logged[]; port: number }> {
  const driver = new SessionDriver({
    config: peerConfig({
      localAs: 64497,
      peerAs: 64496,
      bgpId: '192.0.2.2',
      mode: 'passive',
      ...(gracefulRestart ? { gracefulRestart } : {}),
    }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
  });
  const log: Logged[] = [];
  driver.on('update', (update) => log.push({ kind: 'update', update, at: Date.now() }));
  driver.on('notificationReceived', (notification) => log.push({ kind: 'notification', notification, at: Date.now() }));
  driver.on('down', () => log.push({ kind: 'down', at: Date.now() }));
  driver.on('error', () => {});
  const listening = next(driver, 'listening');
  driver.start();
  const [{ port }] = (await listening) as [{ port: number }];
  t.teardown(() => driver.stop());
  return { driver, log, port };
}

/** Log lines the daemon wrote, parsed. */
export interface CapturedLog {
  lines: Record<string, unknown>[];
  write(text: string): void;
}

export function captureLog(): CapturedLog {
  const log: CapturedLog = {
    lines: [],
    write(text: string) {
      for (const line of text.split('\n')) if (line !== '') log.lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  };
  return log;
}

/** A daemon on ephemeral loopback ports, no BFD, no process signals, a 100 ms drain, logs captured; stopped in teardown. */
export async function testDaemon(
  t: Test,
  source: RouteSource,
  options: Partial<DaemonOptions> = {},
): Promise<{ daemon: RunningDaemon; log: CapturedLog }> {
  const log = captureLog();
  const daemon = await startDaemon(
    {
      nodeName: 'node-a',
      routerId: '192.0.2.1',
      metricsAddress: '127.0.0.1:0',
      adminAddress: '127.0.0.1:0',
      bfd: false,
      signals: false,
      drainMs: 100,
      logDestination: log,
      ...options,
    },
    source,
  );
  t.teardown(() => daemon.stop());
  return { daemon, log };
}

/** GET `path` from an endpoint (TCP or unix socket): status, content type and body. */
export function get(
  address: ListenAddress | undefined,
  path: string,
): Promise<{ status: number; type: string; body: string }> {
  if (!address) return Promise.reject(new Error('endpoint is off'));
  const target = address.kind === 'unix' ? { socketPath: address.path } : { host: address.host, port: address.port };
  return new Promise((resolve, reject) => {
    const req = http.get({ ...target, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type'] ?? ''), body }),
      );
    });
    req.on('error', reject);
  });
}

/** GET `path` and parse the JSON body. */
export async function getJson(
  address: ListenAddress | undefined,
  path: string,
): Promise<{ status: number; json: any }> {
  const r = await get(address, path);
  return { status: r.status, json: JSON.parse(r.body) };
}

/** The value of one series in Prometheus text (exact name and labels as printed), or undefined. */
export function seriesValue(text: string, series: string): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith(series + ' ')) return Number(line.slice(series.length + 1));
  }
  return undefined;
}
