// Graceful restart (RFC 4724, RFC 8538 N bit): the pure decisions, then two Speakers over loopback TCP
// where one leaves for a restart and the other keeps its routes stale until the End-of-RIB or a timer.
import t, { type Test } from 'tap';
import type { NotificationMessage, OpenMessage } from '@bgp-announce/bgp-wire';
import { peerConfig, type GracefulRestartConfig } from '../src/session/config.js';
import { checkOpen, type NegotiatedSession } from '../src/session/open-policy.js';
import { familiesToFlush, restartLeave, retentionOnDown, withHardReset } from '../src/session/graceful-restart.js';
import type { DownReason } from '../src/session/fsm.js';
import { initialSession, transition } from '../src/session/fsm.js';
import { manualClock } from '../src/session/clock.js';
import { Speaker } from '../src/speaker.js';
import { next } from './helpers/events.js';

const ours = (gr?: GracefulRestartConfig) =>
  peerConfig({
    localAs: 64496,
    peerAs: 64497,
    bgpId: '192.0.2.1',
    families: ['ipv4-unicast', 'ipv6-unicast'],
    ...(gr ? { gracefulRestart: gr } : {}),
  });

/** What we negotiate with a peer whose OPEN carries this graceful restart capability (or none). */
function negotiate(
  config: ReturnType<typeof ours>,
  peerGr?: { restartTime: number; notification: boolean; families: [number, number, boolean][] },
): NegotiatedSession {
  const open: OpenMessage = {
    type: 'OPEN',
    version: 4,
    myAs: 64497,
    holdTime: 90,
    bgpId: '192.0.2.2',
    capabilities: [
      { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
      { code: 1, name: 'multiprotocol', afi: 2, safi: 1 },
      ...(peerGr
        ? [
            {
              code: 64 as const,
              name: 'graceful-restart' as const,
              restarting: false,
              notification: peerGr.notification,
              restartTime: peerGr.restartTime,
              families: peerGr.families.map(([afi, safi, forwardingState]) => ({ afi, safi, forwardingState })),
            },
          ]
        : []),
    ],
  };
  const check = checkOpen(config, open);
  if (!check.ok) throw new Error(check.reason);
  return check.negotiated;
}

const failed: DownReason = { kind: 'connection-failed', message: 'TCP connection failed in Established' };
const notified = (code: number, subcode: number): DownReason => {
  const notification: NotificationMessage = { type: 'NOTIFICATION', code, subcode };
  return { kind: 'notification-received', message: 'x', notification };
};

t.test('retentionOnDown: which routes of a restarting peer are kept', async (t) => {
  const cfg = ours({ restartTime: 120 });
  const both = negotiate(cfg, {
    restartTime: 90,
    notification: false,
    families: [
      [1, 1, true],
      [2, 1, false],
    ],
  });
  t.strictSame(
    retentionOnDown(cfg, both, failed),
    { families: ['ipv4-unicast', 'ipv6-unicast'], restartTimeMs: 90_000 },
    "TCP failure: every family the peer listed, for the peer's Restart Time",
  );
  t.equal(
    retentionOnDown(cfg, both, notified(4, 0)),
    undefined,
    'a NOTIFICATION without the N bit ends it (hold timer expired)',
  );
  t.equal(
    retentionOnDown(cfg, both, { kind: 'manual-stop', message: 'x' }),
    undefined,
    'our own stop never keeps them',
  );

  const withN = negotiate(cfg, { restartTime: 90, notification: true, families: [[1, 1, true]] });
  t.strictSame(
    retentionOnDown(cfg, withN, notified(6, 4))?.families,
    ['ipv4-unicast'],
    'N bit both ways: a Cease 4 keeps the routes (RFC 8538)',
  );
  t.equal(retentionOnDown(cfg, withN, notified(6, 9)), undefined, 'but a Cease Hard Reset does not');
  const noN = ours({ restartTime: 120, notification: false });
  t.equal(
    retentionOnDown(
      noN,
      negotiate(noN, { restartTime: 90, notification: true, families: [[1, 1, true]] }),
      notified(6, 4),
    ),
    undefined,
    'N bit from the peer only: NOTIFICATION ends it',
  );

  t.equal(retentionOnDown(cfg, negotiate(cfg), failed), undefined, 'peer without the capability');
  t.equal(
    retentionOnDown(cfg, negotiate(cfg, { restartTime: 0, notification: false, families: [[1, 1, true]] }), failed),
    undefined,
    'Restart Time 0',
  );
  t.equal(
    retentionOnDown(cfg, negotiate(cfg, { restartTime: 90, notification: false, families: [] }), failed),
    undefined,
    'no family listed',
  );
  const plain = ours();
  t.equal(
    retentionOnDown(
      plain,
      negotiate(plain, { restartTime: 90, notification: false, families: [[1, 1, true]] }),
      failed,
    ),
    undefined,
    'we did not advertise graceful restart',
  );
});

t.test('familiesToFlush: stale families the returning peer no longer preserves', async (t) => {
  const cfg = ours({ restartTime: 120 });
  const stale = ['ipv4-unicast', 'ipv6-unicast'] as const;
  t.strictSame(
    familiesToFlush(
      stale,
      negotiate(cfg, {
        restartTime: 90,
        notification: false,
        families: [
          [1, 1, true],
          [2, 1, true],
        ],
      }),
    ),
    [],
    'both with F bit: wait for End-of-RIB',
  );
  t.strictSame(
    familiesToFlush(
      stale,
      negotiate(cfg, {
        restartTime: 90,
        notification: false,
        families: [
          [1, 1, true],
          [2, 1, false],
        ],
      }),
    ),
    ['ipv6-unicast'],
    'F bit clear',
  );
  t.strictSame(
    familiesToFlush(stale, negotiate(cfg, { restartTime: 90, notification: false, families: [[2, 1, true]] })),
    ['ipv4-unicast'],
    'family not listed',
  );
  t.strictSame(familiesToFlush(stale, negotiate(cfg)), ['ipv4-unicast', 'ipv6-unicast'], 'capability gone');
});

t.test('withHardReset: a Cease that must drop our routes becomes a Hard Reset when both set the N bit', async (t) => {
  const cfg = ours({ restartTime: 120 });
  const withN = negotiate(cfg, { restartTime: 90, notification: true, families: [[1, 1, true]] });
  const shutdown: NotificationMessage = { type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'bye' };
  // 06 02, then the RFC 9003 communication: length 3, "bye".
  t.strictSame(withHardReset(cfg, withN, shutdown), {
    type: 'NOTIFICATION',
    code: 6,
    subcode: 9,
    data: '060203627965',
  });
  t.strictSame(withHardReset(cfg, withN, { type: 'NOTIFICATION', code: 6, subcode: 3 }), {
    type: 'NOTIFICATION',
    code: 6,
    subcode: 9,
    data: '0603',
  });
  t.strictSame(
    withHardReset(cfg, withN, { type: 'NOTIFICATION', code: 6, subcode: 4 }),
    { type: 'NOTIFICATION', code: 6, subcode: 4 },
    'Administrative Reset stays',
  );
  t.strictSame(
    withHardReset(cfg, withN, { type: 'NOTIFICATION', code: 4, subcode: 0 }),
    { type: 'NOTIFICATION', code: 4, subcode: 0 },
    'hold timer expired stays',
  );
  const withoutN = negotiate(cfg, { restartTime: 90, notification: false, families: [[1, 1, true]] });
  t.strictSame(withHardReset(cfg, withoutN, shutdown), shutdown, 'no N bit from the peer: plain Cease');
  t.strictSame(withHardReset(cfg, negotiate(cfg), shutdown), shutdown, 'no graceful restart');
});

t.test('restartLeave: how we leave a peer when we restart', async (t) => {
  const cfg = ours({ restartTime: 120 });
  t.equal(
    restartLeave(cfg, negotiate(cfg, { restartTime: 90, notification: true, families: [[1, 1, true]] })),
    'cease',
    'N bit both ways',
  );
  t.equal(
    restartLeave(cfg, negotiate(cfg, { restartTime: 90, notification: false, families: [[1, 1, true]] })),
    'close',
    'no N bit: close without NOTIFICATION',
  );
  t.equal(restartLeave(cfg, negotiate(cfg)), 'stop', 'peer without graceful restart');
  t.equal(restartLeave(cfg, undefined), 'stop', 'no session');
  const zero = ours({ restartTime: 0 });
  t.equal(
    restartLeave(zero, negotiate(zero, { restartTime: 90, notification: true, families: [[1, 1, true]] })),
    'stop',
    'our Restart Time 0',
  );
});

t.test('FSM: ManualStop without NOTIFICATION; the R bit only in the first OPEN after a restart', async (t) => {
  const cfg = ours({ restartTime: 120, restarting: true });
  let s = initialSession(cfg);
  const step = (e: Parameters<typeof transition>[1]) => {
    const out = transition(s, e, { now: 0, random: () => 0.5 });
    s = out.session;
    return out.actions;
  };
  step({ type: 'ManualStart' });
  const open = step({ type: 'TcpCrAcked' }).find((a) => a.type === 'send');
  const gr =
    open?.type === 'send' && open.message.type === 'OPEN'
      ? open.message.capabilities.find((c) => c.code === 64)
      : undefined;
  t.equal(gr && 'restarting' in gr ? gr.restarting : undefined, true, 'first OPEN: R bit set');
  step({
    type: 'BGPOpen',
    open: { type: 'OPEN', version: 4, myAs: 64497, holdTime: 90, bgpId: '192.0.2.2', capabilities: [] },
  });
  step({ type: 'KeepAliveMsg' });
  t.equal(s.state, 'Established');
  t.equal(s.config.gracefulRestart?.restarting, false, 'cleared once Established');
  const stop = step({ type: 'ManualStop', notify: false });
  t.notOk(
    stop.some((a) => a.type === 'send'),
    'no NOTIFICATION',
  );
  t.ok(
    stop.some((a) => a.type === 'close'),
    'connection closed',
  );
  t.equal(s.lastDown?.kind, 'manual-stop');
});

/** A passive Speaker (AS 64497, graceful restart with `gr`) on 127.0.0.1 and its port. */
async function receiver(t: Test, gr: GracefulRestartConfig) {
  const clock = manualClock(1_000_000);
  const b = new Speaker({ localAs: 64497, bgpId: '192.0.2.2', clock });
  b.on('error', () => {});
  const listening = next(b, 'listening');
  b.addPeer('a', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
    gracefulRestart: gr,
    idleHoldTime: 0,
    reconnectTime: 0,
  });
  const [, { port }] = await listening;
  t.teardown(() => b.stop());
  return { b, clock, port: port as number };
}

/** An active Speaker (AS 64496) announcing `prefixes` to the receiver. */
function sender(t: Test, port: number, gr: GracefulRestartConfig, prefixes: string[]) {
  const a = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  a.on('error', () => {});
  for (const p of prefixes) a.announce(p);
  a.addPeer('b', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497, gracefulRestart: gr, closeTimeoutMs: 500 });
  t.teardown(() => a.stop());
  return a;
}

t.test(
  'Speakers: a restart with the N bit keeps the routes stale; the End-of-RIB after the restart sweeps the ones not re-sent',
  async (t) => {
    const { b, clock, port } = await receiver(t, { restartTime: 120 });
    const eor = next(b, 'routesReceived', (_id, r) => r.endOfRib === 'ipv4-unicast');
    const a = sender(t, port, { restartTime: 90, forwardingState: ['ipv4-unicast'] }, [
      '192.0.2.0/24',
      '198.51.100.0/24',
    ]);
    await eor;
    t.equal(b.adjRibIn('a')?.length, 2);

    const down = next(b, 'down');
    const stale = next(b, 'staleRoutes');
    await a.stop({ restart: true });
    const [, reason] = await down;
    t.equal(reason.notification?.code, 6, 'left with a Cease (both set the N bit)');
    t.equal(reason.notification?.subcode, 4, 'Administrative Reset, not Hard Reset');
    const [, info] = await stale;
    t.strictSame(info, { families: ['ipv4-unicast'], count: 2, restartTimeMs: 90_000 });
    t.strictSame(
      b.adjRibIn('a')?.map((r) => [r.prefix, r.stale]),
      [
        ['192.0.2.0/24', true],
        ['198.51.100.0/24', true],
      ],
      'kept, marked stale',
    );

    clock.advance(0); // the receiver's IdleHold back-off (0 s) on its virtual clock: listen again
    // The restarted sender: R bit set, re-sends one of the two, then End-of-RIB.
    const established = next(b, 'established');
    const swept = next(b, 'staleRoutesRemoved');
    sender(t, port, { restartTime: 90, restarting: true, forwardingState: ['ipv4-unicast'] }, ['192.0.2.0/24']);
    const [, negotiated] = await established;
    t.equal(negotiated.gracefulRestart?.restarting, true, 'the R bit reached the peer');
    const [, removed] = await swept;
    t.strictSame(removed, { family: 'ipv4-unicast', count: 1, reason: 'end-of-rib' });
    t.strictSame(
      b.adjRibIn('a')?.map((r) => [r.prefix, r.stale]),
      [['192.0.2.0/24', false]],
      'the re-sent route is fresh, the other is gone',
    );
  },
);

t.test('Speakers: without the N bit we leave by closing TCP; the Restart Time runs out', async (t) => {
  const { b, clock, port } = await receiver(t, { restartTime: 120, notification: false });
  const eor = next(b, 'routesReceived', (_id, r) => r.endOfRib === 'ipv4-unicast');
  const a = sender(t, port, { restartTime: 30 }, ['203.0.113.0/24']);
  await eor;
  const down = next(b, 'down');
  const stale = next(b, 'staleRoutes');
  await a.stop({ restart: true });
  const [, reason] = await down;
  t.equal(reason.kind, 'connection-failed', 'no NOTIFICATION: TCP closed');
  t.equal(reason.notification, undefined);
  t.equal((await stale)[1].count, 1);

  const removed = next(b, 'staleRoutesRemoved');
  clock.advance(29_999);
  t.equal(b.adjRibIn('a')?.length, 1, 'still kept just before the Restart Time');
  clock.advance(1);
  t.strictSame((await removed)[1], { family: 'ipv4-unicast', count: 1, reason: 'restart-time-expired' });
  t.equal(b.adjRibIn('a')?.length, 0);
});

t.test(
  'Speakers: a peer back without the F bit loses its stale routes at once; a normal stop keeps nothing',
  async (t) => {
    const { b, clock, port } = await receiver(t, { restartTime: 120 });
    let eor = next(b, 'routesReceived', (_id, r) => r.endOfRib === 'ipv4-unicast');
    const a = sender(t, port, { restartTime: 30, notification: false }, ['203.0.113.0/24']);
    await eor;
    const stale = next(b, 'staleRoutes');
    await a.stop({ restart: true });
    await stale;
    clock.advance(0);
    const removed = next(b, 'staleRoutesRemoved');
    eor = next(b, 'routesReceived', (_id, r) => r.endOfRib === 'ipv4-unicast');
    const a2 = sender(t, port, { restartTime: 30 }, ['203.0.113.0/24']); // no forwardingState: F bit clear
    t.strictSame((await removed)[1], { family: 'ipv4-unicast', count: 1, reason: 'not-preserved' });
    await eor;
    t.strictSame(
      b.adjRibIn('a')?.map((r) => [r.prefix, r.stale]),
      [['203.0.113.0/24', false]],
      're-sent fresh',
    );

    let sawStale = false;
    b.on('staleRoutes', () => (sawStale = true));
    const down = next(b, 'down');
    await a2.stop();
    const n = (await down)[1].notification as NotificationMessage;
    t.equal(n.subcode, 9, 'a normal stop with the N bit in use: Cease Hard Reset (RFC 8538)');
    t.equal(n.data?.slice(0, 4), '0602', 'wrapping Cease 2, Administrative Shutdown');
    t.notOk(sawStale, 'nothing kept');
    t.equal(b.adjRibIn('a')?.length, 0);
  },
);
