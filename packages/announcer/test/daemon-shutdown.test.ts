// SIGTERM handling, with a test emitter standing in for the process: the route source stops first;
// without graceful restart every route goes again with GRACEFUL_SHUTDOWN, the drain passes, then the
// Cease, and only then the exit; a second signal cuts the drain short but the Cease still goes out;
// with graceful restart negotiated the peer is left without a NOTIFICATION (or with a Cease
// Administrative Reset when both ends set the N bit). The receiving router is a bare SessionDriver
// on 127.0.0.1 that logs what it decodes.
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { UpdateMessage } from '@bgp-announce/bgp-wire';
import { stopPlan } from '../src/daemon/shutdown.js';
import { get, peeringSource, poll, receiverDriver, testDaemon, type Logged } from './daemon-helpers.js';

const updates = (log: Logged[]): UpdateMessage[] => log.flatMap((l) => (l.kind === 'update' ? [l.update] : []));
const routeUpdate = (u: UpdateMessage): boolean => u.nlri.some((n) => n.prefix === '192.0.2.0/24');

/** Exit calls, with what the receiver had logged at that moment. */
function exitRecorder(log: Logged[]) {
  let resolve: (v: { status: number; logged: number }) => void = () => {};
  const exited = new Promise<{ status: number; logged: number }>((r) => (resolve = r));
  return { exited, exit: (status: number) => resolve({ status, logged: log.length }) };
}

t.test('SIGTERM without graceful restart: source stopped, GRACEFUL_SHUTDOWN, drain, Cease, exit 0', async (t) => {
  const r = await receiverDriver(t);
  const signals = new EventEmitter();
  const { exited, exit } = exitRecorder(r.log);
  let loggedAtSourceStop = -1;
  let readyzDuringStop = 0;
  const holder: { metrics?: Parameters<typeof get>[0] } = {};
  const source = peeringSource(r.port, {}, async () => {
    loggedAtSourceStop = r.log.length;
    readyzDuringStop = (await get(holder.metrics, '/readyz')).status;
  });
  const { daemon, log } = await testDaemon(t, source, { signals, exit, drainMs: 400 });
  holder.metrics = daemon.metricsAddress;
  source.setReady(true);
  await poll('our route at the receiver', () =>
    updates(r.log).some(routeUpdate) && r.log.length >= 2 ? true : undefined,
  );
  const mark = r.log.length;

  signals.emit('SIGTERM');
  const { status, logged } = await exited;
  t.equal(status, 0, 'exit 0');
  t.same(source.calls, ['start', 'stop']);
  t.equal(loggedAtSourceStop, mark, 'the source stopped before anything was sent');
  t.equal(readyzDuringStop, 503, '/readyz fails once stopping');
  const tail = r.log.slice(mark);
  t.equal(logged, r.log.length, 'nothing reached the receiver after the exit');
  const kinds = tail.map((l) => l.kind);
  t.same(kinds.slice(0, 2), ['update', 'notification'], 'GRACEFUL_SHUTDOWN UPDATE, then the Cease');
  const gshut = tail[0]?.kind === 'update' ? tail[0] : undefined;
  t.same(gshut?.update.nlri, [{ prefix: '192.0.2.0/24' }]);
  t.same(
    gshut?.update.attributes.communities?.slice().sort(),
    ['64496:100', '65535:0'],
    'GRACEFUL_SHUTDOWN added to the route',
  );
  const cease = tail[1]?.kind === 'notification' ? tail[1] : undefined;
  t.match(cease?.notification, { code: 6, subcode: 2 }, 'Cease/Administrative Shutdown');
  const text = Buffer.from('bgp-announce on node-a is shutting down');
  t.equal(
    cease?.notification.data,
    text.length.toString(16).padStart(2, '0') + text.toString('hex'),
    'RFC 9003 text: its length, then UTF-8',
  );
  t.ok(
    cease && gshut && cease.at - gshut.at >= 350,
    `drained ${cease && gshut ? cease.at - gshut.at : '?'} ms (asked 400)`,
  );
  t.ok(
    log.lines.some((l) => l.event === 'shutdown' && l.mode === 'drain' && l.drainMs === 400),
    'logged the drain',
  );
  t.ok(
    log.lines.some((l) => l.event === 'down' && l.peer === 'rtr' && l.level === 'info'),
    'our own stop is not a warning',
  );
  t.equal(daemon.speaker.peers().length, 0);
  await t.rejects(get(daemon.metricsAddress, '/healthz'), 'endpoints closed');
});

t.test('a second SIGTERM cuts the drain short, and the Cease still goes out', async (t) => {
  const r = await receiverDriver(t);
  const signals = new EventEmitter();
  const { exited, exit } = exitRecorder(r.log);
  const { daemon, log } = await testDaemon(t, peeringSource(r.port), { signals, exit, drainMs: 600_000 });
  await poll('our route at the receiver', () => (updates(r.log).some(routeUpdate) ? true : undefined));
  const mark = r.log.length;
  signals.emit('SIGTERM');
  await poll('the GRACEFUL_SHUTDOWN UPDATE', () =>
    r.log.slice(mark).some((l) => l.kind === 'update') ? true : undefined,
  );
  const second = Date.now();
  signals.emit('SIGTERM');
  signals.emit('SIGINT');
  const { status } = await exited;
  t.equal(status, 0);
  t.ok(Date.now() - second < 5000, `exit ${Date.now() - second} ms after the second signal, not after 10 minutes`);
  const tail = r.log.slice(mark);
  t.same(tail.map((l) => l.kind).slice(0, 2), ['update', 'notification']);
  t.match(tail[1]?.kind === 'notification' ? tail[1].notification : undefined, { code: 6, subcode: 2 });
  t.ok(log.lines.some((l) => l.level === 'warn' && /SIGTERM again: cutting the drain short/.test(String(l.msg))));
  t.ok(log.lines.some((l) => l.level === 'warn' && /SIGINT: already sending the Cease/.test(String(l.msg))));
  t.equal((await daemon.stop()).hurried, true, 'stop() returns the same shutdown');
});

t.test('SIGTERM with graceful restart negotiated: the peer is left keeping our routes', async (t) => {
  for (const nBit of [false, true]) {
    await t.test(
      nBit ? 'N bit on both ends: Cease Administrative Reset' : 'no N bit: TCP closed without a NOTIFICATION',
      async (t) => {
        const r = await receiverDriver(t, { restartTime: 120 });
        const signals = new EventEmitter();
        const { exited, exit } = exitRecorder(r.log);
        const { log } = await testDaemon(
          t,
          peeringSource(r.port, { gracefulRestart: { restartTime: 120, notification: nBit } }),
          { signals, exit, drainMs: 60_000 },
        );
        await poll('our route at the receiver', () => (updates(r.log).some(routeUpdate) ? true : undefined));
        t.ok(r.driver.negotiated?.gracefulRestart, 'graceful restart negotiated');
        const mark = r.log.length;
        const started = Date.now();
        signals.emit('SIGTERM');
        t.equal((await exited).status, 0);
        t.ok(Date.now() - started < 10_000, 'no drain for a peer that keeps our routes');
        await poll('the receiver saw the session end', () =>
          r.log.slice(mark).some((l) => l.kind === 'down') ? true : undefined,
        );
        const tail = r.log.slice(mark);
        t.same(updates(tail), [], 'no GRACEFUL_SHUTDOWN, no withdrawal');
        const notifications = tail.flatMap((l) => (l.kind === 'notification' ? [l.notification] : []));
        if (nBit) t.match(notifications, [{ code: 6, subcode: 4 }], 'Cease/Administrative Reset (not a Hard Reset)');
        else t.same(notifications, [], 'no NOTIFICATION');
        t.ok(
          log.lines.some(
            (l) => l.event === 'shutdown' && l.mode === 'restart' && JSON.stringify(l.keptRoutes) === '["rtr"]',
          ),
        );
      },
    );
  }
});

t.test(
  'graceful restart off in the daemon: the peer is drained even when it negotiated graceful restart',
  async (t) => {
    const r = await receiverDriver(t, { restartTime: 120 });
    const signals = new EventEmitter();
    const { exited, exit } = exitRecorder(r.log);
    await testDaemon(t, peeringSource(r.port, { gracefulRestart: { restartTime: 120, notification: false } }), {
      signals,
      exit,
      drainMs: 50,
      gracefulRestart: false,
    });
    await poll('our route at the receiver', () => (updates(r.log).some(routeUpdate) ? true : undefined));
    const mark = r.log.length;
    signals.emit('SIGTERM');
    t.equal((await exited).status, 0);
    const tail = r.log.slice(mark);
    t.same(tail.map((l) => l.kind).slice(0, 2), ['update', 'notification']);
    t.ok(updates(tail)[0]?.attributes.communities?.includes('65535:0'));
    t.match(tail[1]?.kind === 'notification' ? tail[1].notification : undefined, { code: 6, subcode: 2 });
  },
);

t.test('stopPlan', async (t) => {
  const r = await receiverDriver(t, { restartTime: 120 });
  const { daemon } = await testDaemon(t, peeringSource(r.port, { gracefulRestart: { restartTime: 120 } }));
  await poll('Established', () => (daemon.speaker.peers()[0]?.state === 'Established' ? true : undefined));
  const signal = new AbortController().signal;
  t.same(stopPlan(daemon.speaker, { drainMs: 5000, gracefulRestart: true, message: 'bye' }, signal), {
    stop: { gracefulShutdown: { drainMs: 5000, signal }, restart: true, message: 'bye' },
    keptRoutes: ['rtr'],
  });
  t.same(stopPlan(daemon.speaker, { drainMs: 5000, gracefulRestart: false }), {
    stop: { gracefulShutdown: { drainMs: 5000 } },
    keptRoutes: [],
  });
});
