// runBfd in-process against a second BfdEngine on 127.0.0.1 (free ports, no root): --until up, the
// negotiated timers, a timer change printed without a state change, SIGTERM sending AdminDown, a
// detection timeout named by its diagnostic, authentication, and the failures (no peer, a local
// address not on this host, received TTLs that cannot be checked).
import t, { type Test } from 'tap';
import { EventEmitter } from 'node:events';
import { BfdEngine, type BfdEngineOptions } from '@bgp-announce/bfd';
import { freePort, requireTtlSocket, startEngine, type PairSide } from '../../bfd/test/engine-helpers.js';
import { BFD_KEY_ENV, parseBfdCommand, type BfdCommandOptions } from '../src/bfd.js';
import { runBfd, type BfdRunIo } from '../src/bfd-run.js';

const HERE = '127.0.0.1';
const FAST = { name: 'fast', transmitInterval: 50, receiveInterval: 50, detectMultiplier: 3 };

/** Output collected by line; `line(re)` resolves once a line matches (rejects after ms). */
function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const waiters = new Set<() => void>();
  return {
    out,
    err,
    io: {
      out: (l: string) => {
        out.push(l);
        for (const w of [...waiters]) w();
      },
      err: (l: string) => void err.push(l),
    },
    /** The first output line (at index `from` or later) that parses as JSON and matches `check`. */
    event(
      check: (e: Record<string, unknown>) => boolean,
      what: string,
      from = 0,
      ms = 15000,
    ): Promise<Record<string, unknown>> {
      const find = (): Record<string, unknown> | undefined =>
        out
          .slice(from)
          .map((l) => JSON.parse(l) as Record<string, unknown>)
          .find(check);
      return new Promise((resolve, reject) => {
        const attempt = (): boolean => {
          const found = find();
          if (found) resolve(found);
          return found !== undefined;
        };
        if (attempt()) return;
        const waiter = (): void => {
          if (!attempt()) return;
          clearTimeout(timer);
          waiters.delete(waiter);
        };
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(new Error(`no ${what} in ${ms} ms:\n${out.join('\n')}\n${err.join('\n')}`));
        }, ms);
        waiters.add(waiter);
      });
    },
  };
}

interface SetupOptions {
  /** The peer's session (default 50 ms x 3); null: no peer at all. */
  peerSide?: PairSide | null;
  io?: Partial<BfdRunIo>;
  env?: Record<string, string>;
  /** More options for the command's engine (its ports are free ones on 127.0.0.1). */
  engine?: BfdEngineOptions;
}

/**
 * runBfd started with `options` (its engine on free ports of 127.0.0.1), and a peer engine on
 * 127.0.0.1 (other free ports) with one session toward it.
 */
async function setup(t: Test, options: BfdCommandOptions, s: SetupOptions = {}) {
  const portsCli = { singleHop: await freePort(4), multihop: await freePort(4) };
  const portsPeer = { singleHop: await freePort(4), multihop: await freePort(4) };
  const peer = await startEngine(t, { listenPorts: portsPeer });
  const plan = parseBfdCommand({ peer: HERE, json: true, ...options }, s.env ?? {});
  plan.session.port = plan.session.multihop ? portsPeer.multihop : portsPeer.singleHop;
  const c = capture();
  const signals = new EventEmitter();
  const startCliEngine = (o: BfdEngineOptions): Promise<BfdEngine> =>
    BfdEngine.start({ ...o, ...s.engine, listenPorts: portsCli });
  const run = runBfd(plan, { ...c.io, signals, timersCheckMs: 50, startEngine: startCliEngine, ...s.io });
  t.teardown(async () => {
    signals.emit('SIGTERM', 'SIGTERM'); // a test that failed halfway still stops the command's engine
    await run;
  });
  const peerSide = s.peerSide === undefined ? { profile: FAST } : s.peerSide;
  const peerId =
    peerSide === null
      ? -1
      : peer.engine.addSession({
          ...peerSide,
          peerAddress: HERE,
          localAddress: HERE,
          port: plan.session.multihop ? portsCli.multihop : portsCli.singleHop,
        });
  return { peer, peerId, run, c, signals };
}

t.test('--until up: started, Down -> Init -> Up with timers, then AdminDown to the peer, exit 0', async (t) => {
  if (!requireTtlSocket(t)) return;
  const { peer, peerId, run, c } = await setup(t, { until: 'up', interval: '100' });
  t.equal(await run, 0);
  t.strictSame(c.err, []);
  const events = c.out.map((l) => JSON.parse(l) as Record<string, unknown>);
  t.match(
    events[0],
    {
      type: 'started',
      peer: HERE,
      localAddress: HERE,
      multihop: false,
      transmitInterval: 100,
      receiveInterval: 100,
      detectMultiplier: 3,
      passive: false,
      ttlCheck: 'available',
    },
    'local address: the kernel source address toward the peer',
  );
  const up = events.find((e) => e.type === 'state' && e.to === 'Up');
  // Our TX once Up: max(our 100 ms, the peer's Required Min RX 50 ms); the peer's interval to us depends
  // on whether its Poll for 50 ms has run yet: 3 x max(our RX 100, its TX 1000 or 50).
  t.match(
    up,
    { peer: HERE, diag: 'No Diagnostic', remoteDiag: 'No Diagnostic', transmitIntervalMs: 100 },
    'timers read while still Up (the peer does not stop first here)',
  );
  t.ok(
    up?.detectionTimeMs === 300 || up?.detectionTimeMs === 3000,
    `detection time ${String(up?.detectionTimeMs)} ms: 3 x 100 or 3 x 1000`,
  );
  t.strictSame(
    events
      .filter((e) => e.type === 'state')
      .map((e) => e.to)
      .slice(-2),
    ['Up', 'AdminDown'],
    'Up, then AdminDown when stopping',
  );
  t.match(events.at(-1), { type: 'stopped', status: 0, reason: 'session up' });
  t.match(
    await peer.reached(peerId, 'Down', 'the peer Down after our stop', 0, 15000),
    { diag: 3, remoteDiag: 7 },
    'the peer was told AdminDown',
  );
});

t.test('a timer change without a state change is printed; SIGTERM sends AdminDown and exits 0', async (t) => {
  if (!requireTtlSocket(t)) return;
  const { peer, peerId, run, c, signals } = await setup(t, { interval: '50' });
  await c.event((e) => e.type === 'state' && e.to === 'Up', 'Up');
  const settled = await c.event(
    (e) => (e.type === 'state' || e.type === 'timers') && e.detectionTimeMs === 150,
    'detection time 150 ms (3 x 50)',
  );
  t.match(settled, { transmitIntervalMs: 50, receiveIntervalMs: 50 });
  const mark = c.out.length;
  peer.engine.updateSession(peerId, { transmitInterval: 200 }); // the peer sends slower: a Poll Sequence tells us
  t.match(await c.event((e) => e.type === 'timers', 'a timers line', mark), {
    peer: HERE,
    transmitIntervalMs: 50,
    receiveIntervalMs: 200,
    detectionTimeMs: 600,
  });
  t.equal(signals.listenerCount('SIGTERM'), 1, 'listening for SIGTERM');
  const before = peer.changes.length;
  signals.emit('SIGTERM', 'SIGTERM');
  t.equal(await run, 0);
  t.match(
    await peer.reached(peerId, 'Down', 'the peer Down', before, 15000),
    { from: 'Up', diag: 3, remoteDiag: 7 },
    'Neighbor Signaled Session Down, remote diag Administratively Down',
  );
  t.match(JSON.parse(c.out.at(-2)!), { type: 'state', from: 'Up', to: 'AdminDown', diag: 'Administratively Down' });
  t.match(JSON.parse(c.out.at(-1)!), { type: 'stopped', status: 0, reason: 'stopped by SIGTERM' });
  t.equal(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT'), 0, 'signal handlers removed');
  t.strictSame(c.err, []);
});

t.test(
  'the peer stalls: Down with Control Detection Time Expired, then Up again; a second signal forces the exit',
  async (t) => {
    if (!requireTtlSocket(t)) return;
    let forced: number | undefined;
    const { peer, c, signals, run } = await setup(
      t,
      { interval: '50' },
      { io: { forceExit: (status) => (forced = status) } },
    );
    await c.event((e) => e.type === 'state' && e.to === 'Up', 'Up');
    const mark = c.out.length;
    await peer.engine.stallWorkerForTest(500); // 500 ms without packets, against 3 x 50 ms
    t.match(await c.event((e) => e.type === 'state' && e.to === 'Down', 'Down', mark), {
      from: 'Up',
      diag: 'Control Detection Time Expired',
    });
    await c.event((e) => e.type === 'state' && e.to === 'Up', 'Up again', mark);
    signals.emit('SIGINT', 'SIGINT');
    signals.emit('SIGINT', 'SIGINT');
    t.equal(forced, 1, 'the second signal exits at once with status 1');
    t.equal(await run, 0, 'the first one still finishes the stop');
    t.match(c.err, [/^bgp-announce bfd: SIGINT again: exiting without waiting/]);
  },
);

t.test('authentication: keyed SHA1 with the key from the environment comes Up; the key is never printed', async (t) => {
  if (!requireTtlSocket(t)) return;
  const secret = 'correct-horse-batt';
  const auth = { type: 'keyed-sha1' as const, keyId: 3, secret };
  const { run, c } = await setup(
    t,
    { until: 'up', auth: 'keyed-sha1', keyId: '3' },
    { peerSide: { profile: FAST, auth }, env: { [BFD_KEY_ENV]: secret } },
  );
  t.equal(await run, 0);
  t.match(JSON.parse(c.out[0]!), { type: 'started', auth: 'keyed-sha1' });
  t.ok(
    c.out.some((l) => /"to":"Up"/.test(l)),
    'Up',
  );
  t.notMatch(c.out.join('\n') + c.err.join('\n'), /horse/, 'key not printed');
});

t.test('a wrong key: not Up within --timeout, exit 1 naming the authentication failures', async (t) => {
  if (!requireTtlSocket(t)) return;
  const { run, c } = await setup(
    t,
    { until: 'up', timeout: '1', auth: 'keyed-sha1', key: 'ours' },
    { peerSide: { profile: FAST, auth: { type: 'keyed-sha1', keyId: 1, secret: 'theirs' } } },
  );
  t.equal(await run, 1);
  t.match(c.err, [
    /^bgp-announce bfd: session with 127\.0\.0\.1 not Up within 1 s: \d+ packets from 127\.0\.0\.1 failed authentication \(--auth, --key-id and the key must match the peer's\)$/,
  ]);
  t.match(JSON.parse(c.out.at(-1)!), { type: 'stopped', status: 1, reason: 'not up' });
});

t.test('no peer: --until up gives up after --timeout, saying nothing came', async (t) => {
  if (!requireTtlSocket(t)) return;
  const started = Date.now();
  const { run, c } = await setup(t, { until: 'up', timeout: '1' }, { peerSide: null });
  t.equal(await run, 1);
  const took = Date.now() - started;
  t.ok(took >= 1000 && took < 20000, `gave up after the 1 s timeout, not the 30 s default (${took} ms)`);
  t.match(c.err, [
    /^bgp-announce bfd: session with 127\.0\.0\.1 not Up within 1 s: no BFD packets from 127\.0\.0\.1 \(to 127\.0\.0\.1, UDP \d+\) \(is BFD enabled on the peer/,
  ]);
});

t.test('a local address not on this host: exit 1 with the socket error', async (t) => {
  if (!requireTtlSocket(t)) return;
  const c = capture();
  const ports = { singleHop: await freePort(4), multihop: await freePort(4) };
  const plan = parseBfdCommand({ peer: '192.0.2.1', localAddress: '192.0.2.99' });
  const status = await runBfd(plan, {
    ...c.io,
    signals: new EventEmitter(),
    startEngine: (o) => BfdEngine.start({ ...o, listenPorts: ports }),
  });
  t.equal(status, 1);
  t.match(c.err, [/^bgp-announce bfd: .*192\.0\.2\.99.*(EADDRNOTAVAIL|not on any interface)/]);
  t.match(c.out.at(-1), /stopped \(exit 1\): BFD failed$/);
});

t.test('received TTLs cannot be checked: exit 1 saying so, unless --allow-unchecked-ttl', async (t) => {
  const c = capture();
  const dgramOnly = (o: BfdEngineOptions): Promise<BfdEngine> => BfdEngine.start({ ...o, transport: 'dgram' });
  t.equal(
    await runBfd(parseBfdCommand({ peer: HERE }), { ...c.io, signals: new EventEmitter(), startEngine: dgramOnly }),
    1,
  );
  t.strictSame(c.out, [], 'nothing started');
  t.match(c.err, [
    /^bgp-announce bfd: the received TTL cannot be checked here \(the engine was started with transport: 'dgram'\)\. RFC 5881 requires .* give --allow-unchecked-ttl to run without the check$/,
  ]);
  if (!requireTtlSocket(t)) return; // the peer engine below uses the addon
  const { run, c: c2 } = await setup(t, { until: 'up', allowUncheckedTtl: true }, { engine: { transport: 'dgram' } });
  t.equal(await run, 0, 'runs on dgram with --allow-unchecked-ttl');
  t.ok(c2.out.some((l) => /"to":"Up"/.test(l)));
});
