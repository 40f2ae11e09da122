// The built `bgp-announce status` (a child process) against a daemon started in this test by the
// CLI's own daemonCommand, with a tiny route source that adds one peer and announces 192.0.2.0/24;
// the peer is a second Speaker on 127.0.0.1 that announces 198.51.100.0/24 back; SIGTERM through the
// daemon command's signal handling, then "no daemon". In process (statusCommand): an unknown peer, a
// bad --admin, $BGP_ANNOUNCE_ADMIN, --limit, and a unix socket.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Speaker } from '@bgp-announce/bgp-speaker';
import type { RouteSource, RunningDaemon } from '@bgp-announce/announcer';
import { daemonCommand, type DaemonSources } from '../src/daemon.js';
import { statusCommand, type StatusCommandOptions } from '../src/status.js';

const CLI = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));

/** Runs the built CLI; resolves with its exit status and output. */
function cli(args: string[], env: Record<string, string> = {}): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: { ...process.env, ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ status, out: stdout, err: stderr });
      },
    );
  });
}

async function poll<T>(what: string, fn: () => T | undefined, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** statusCommand in this process: exit status and the lines written. */
async function inProcess(
  o: StatusCommandOptions,
  env: Record<string, string> = {},
): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await statusCommand(o, { out: (l) => out.push(l), err: (l) => err.push(l), env });
  return { status, out, err };
}

/** The other router: a Speaker (AS 64497) waiting on 127.0.0.1, announcing 198.51.100.0/24. */
async function router(t: Test): Promise<{ speaker: Speaker; port: number }> {
  const speaker = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  speaker.on('error', () => {});
  const listening = new Promise<number>((resolve) => speaker.once('listening', (_id, a) => resolve(a.port)));
  speaker.addPeer('node', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
  });
  speaker.announce('198.51.100.0/24');
  const port = await listening;
  t.teardown(() => speaker.stop());
  return { speaker, port };
}

/** Sources for daemonCommand: --config's "file" is a tiny source that peers with `port`. */
function testSources(port: number, seen: { nodeName?: string; path?: string }): DaemonSources {
  const source: RouteSource = {
    async start(ctx) {
      ctx.speaker.addPeer('rtr', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497, localAs: 64496 });
      ctx.speaker.announce('192.0.2.0/24', { communities: ['64496:100'] });
    },
    ready: () => true,
    status: () => ({ source: 'test' }),
    stop: async () => {},
  };
  return {
    file(plan, nodeName) {
      seen.path = plan.path;
      seen.nodeName = nodeName;
      return source;
    },
    kubernetes() {
      throw new Error('no Kubernetes in this test');
    },
  };
}

/** A daemon started through the CLI's daemon command, with test sources and signals. */
async function startCliDaemon(t: Test, port: number, args: { adminAddress: string }) {
  const signals = new EventEmitter();
  const seen: { nodeName?: string; path?: string } = {};
  const errors: string[] = [];
  let exitStatus: number | undefined;
  const result = await daemonCommand(
    {
      config: 'test.yaml',
      nodeName: 'node-a',
      routerId: '192.0.2.1',
      metricsAddress: 'off',
      adminAddress: args.adminAddress,
      bfd: false,
      logLevel: 'silent',
      drainTime: '0.05',
    },
    {
      err: (l) => errors.push(l),
      sources: testSources(port, seen),
      daemon: { signals, exit: (s) => (exitStatus = s) },
    },
  );
  if (typeof result === 'number') throw new Error(`daemon did not start (${result}): ${errors.join('; ')}`);
  const daemon: RunningDaemon = result;
  t.teardown(() => daemon.stop());
  return { daemon, signals, seen, exited: () => exitStatus };
}

t.test('status against a running daemon', { skip: BUILT ? false : 'not built (npx tsc -b)' }, async (t) => {
  const r = await router(t);
  const { daemon, signals, seen } = await startCliDaemon(t, r.port, { adminAddress: '127.0.0.1:0' });
  t.same(seen, { path: 'test.yaml', nodeName: 'node-a' }, '--config chose the file source with the node name');
  await poll('routes both ways', () =>
    daemon.speaker.peers()[0]?.received === 1 && r.speaker.peers()[0]?.received === 1 ? true : undefined,
  );
  const admin = `127.0.0.1:${daemon.adminAddress?.kind === 'tcp' ? daemon.adminAddress.port : 0}`;

  let run = await cli(['status', '--admin', admin]);
  t.equal(run.status, 0);
  t.equal(run.err, '');
  const lines = run.out.trimEnd().split('\n');
  t.match(lines[0], /^node node-a {2}router id 192\.0\.2\.1 {2}up \d+s {2}ready$/);
  t.match(lines[1], /^PEER +ADDRESS +AS +STATE +UPTIME +ADV +RCV +BFD +LAST DOWN$/);
  t.match(lines[2], /^rtr +127\.0\.0\.1 +64497 +Established +\d+s +1 +1 +-$/);
  t.equal(lines.length, 3);

  run = await cli(['status', '--admin', admin, '--peer', 'rtr', '--messages']);
  t.equal(run.status, 0);
  const out = run.out;
  t.match(out, /^peer rtr: 127\.0\.0\.1 AS 64497; we are AS 64496, router id 192\.0\.2\.1, from 127\.0\.0\.1$/m);
  t.match(out, /^ {2}peer router id 192\.0\.2\.2, eBGP, hold time 90 s, keepalive 30 s$/m);
  t.match(out, /^ {2}capabilities .*route-refresh/m);
  t.match(
    out,
    /^advertised \(1\):\n {2}PREFIX +NEXT HOP +AS PATH +ATTRIBUTES\n {2}192\.0\.2\.0\/24 +127\.0\.0\.1 +64496 +origin igp, communities 64496:100$/m,
  );
  t.match(
    out,
    /^received \(1\):\n {2}PREFIX +NEXT HOP +AS PATH +ATTRIBUTES\n {2}198\.51\.100\.0\/24 +127\.0\.0\.1 +64497 +origin igp$/m,
  );
  t.match(
    out,
    /^ {2}\d\d:\d\d:\d\d\.\d{3} sent {5}OPEN AS 64496 id 192\.0\.2\.1 hold 90 s: ipv4-unicast .*4-octet-as 64496/m,
  );
  t.match(out, /^ {2}\d\d:\d\d:\d\d\.\d{3} received OPEN AS 64497 id 192\.0\.2\.2 hold 90 s/m);
  t.match(
    out,
    /^ {2}\d\d:\d\d:\d\d\.\d{3} sent {5}UPDATE announce 192\.0\.2\.0\/24 next-hop 127\.0\.0\.1 as-path 64496 origin igp communities 64496:100$/m,
  );
  t.match(
    out,
    /^ {2}\d\d:\d\d:\d\d\.\d{3} received UPDATE announce 198\.51\.100\.0\/24 next-hop 127\.0\.0\.1 as-path 64497 origin igp$/m,
  );
  t.match(out, /^ {2}\d\d:\d\d:\d\d\.\d{3} received UPDATE End-of-RIB ipv4-unicast$/m);

  run = await cli(['status', '--json'], { BGP_ANNOUNCE_ADMIN: admin });
  t.equal(run.status, 0, '$BGP_ANNOUNCE_ADMIN');
  const json = JSON.parse(run.out);
  t.match(json, {
    node: 'node-a',
    ready: true,
    source: { source: 'test' },
    peers: [{ id: 'rtr', state: 'Established', prefixes: { advertised: 1, received: 1 } }],
  });

  const nope = await inProcess({ admin, peer: 'nope' });
  t.same(nope, { status: 1, out: [], err: ['bgp-announce status: no peer "nope" (peers: rtr)'] });

  // SIGTERM through the daemon command's handler: the Cease goes out, then the exit.
  signals.emit('SIGTERM');
  await poll('the router saw the session end', () =>
    r.speaker.peers()[0]?.state !== 'Established' ? true : undefined,
  );
  t.equal((await daemon.stop()).mode, 'drain');
  run = await cli(['status', '--admin', admin]);
  t.equal(run.status, 1, 'no daemon once stopped');
  t.equal(run.err, `bgp-announce status: no daemon at ${admin}: connection refused\n`);
  t.equal(run.out, '');
});

t.test('bad --admin and --limit, a unix socket (in process)', async (t) => {
  t.same(await inProcess({ admin: 'localhost' }), {
    status: 2,
    out: [],
    err: [
      'bgp-announce status: --admin must be HOST:PORT, [IPv6]:PORT or unix:/path with an IP address (such as 127.0.0.1:7474), got "localhost"',
    ],
  });
  t.match(await inProcess({ limit: 'lots' }), {
    status: 2,
    err: [/--limit must be a number of routes 0-10000000, got "lots"/],
  });
  t.match(await inProcess({}, { BGP_ANNOUNCE_ADMIN: '192.0.2.1' }), {
    status: 2,
    err: [/^bgp-announce status: BGP_ANNOUNCE_ADMIN must be HOST:PORT/],
  });

  const dir = mkdtempSync(join(tmpdir(), 'bgp-announce-status-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const none = join(dir, 'none.sock');
  t.same(await inProcess({ admin: `unix:${none}` }), {
    status: 1,
    out: [],
    err: [`bgp-announce status: no daemon at unix:${none}: no such socket`],
  });

  const r = await router(t);
  const path = join(dir, 'admin.sock');
  const { daemon } = await startCliDaemon(t, r.port, { adminAddress: `unix:${path}` });
  await poll('Established', () => (daemon.speaker.peers()[0]?.state === 'Established' ? true : undefined));
  const run = await inProcess({ admin: path });
  t.equal(run.status, 0);
  t.match(run.out[2], /^rtr +127\.0\.0\.1 +64497 +Established +/);
  const detail = await inProcess({ admin: path, peer: 'rtr', limit: '0', json: true });
  t.match(JSON.parse(detail.out.join('\n')), {
    peer: { id: 'rtr' },
    routes: { advertised: [], received: [], counts: { advertised: 1 }, limit: 0 },
  });
});
