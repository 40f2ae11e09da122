// The BGP FSM in virtual time: feed events at chosen instants, assert the exact actions.
import t from 'tap';
import { BgpWireError, encodeMessage, type NotificationMessage, type OpenMessage } from '@bgp-announce/bgp-wire';
import { peerConfig, type PeerConfigInput } from '../src/session/config.js';
import {
  initialSession,
  jitter,
  transition,
  type FsmAction,
  type FsmEvent,
  type SessionState,
} from '../src/session/fsm.js';

const M = 'ffffffffffffffffffffffffffffffff';
const hex = (buf: Uint8Array): string => Buffer.from(buf).toString('hex');
const clean = (h: string): string => h.replace(/\s+/g, '');

/** connectRetryTime 30 s (not the 2 s default) so the ConnectRetry and Keepalive timers below read alike. */
const config = (o: Partial<PeerConfigInput> = {}) =>
  peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1', connectRetryTime: 30, ...o });
/** The peer's OPEN: AS 64497, hold time 90 unless told, identifier 192.0.2.2. */
const peerOpen = (holdTime = 90): OpenMessage => ({
  type: 'OPEN',
  version: 4,
  myAs: 64497,
  holdTime,
  bgpId: '192.0.2.2',
  capabilities: [
    { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
    { code: 65, name: 'four-octet-as', asn: 64497 },
  ],
});

/** A driver holding the session and a virtual clock; random() returns `r`. */
function driver(cfg = config(), r = 0.5) {
  let session: SessionState = initialSession(cfg);
  let now = 0;
  return {
    get s() {
      return session;
    },
    at(ms: number) {
      now = ms;
      return this;
    },
    ev(event: FsmEvent): FsmAction[] {
      const out = transition(session, event, { now, random: () => r });
      session = out.session;
      return out.actions;
    },
    /** Drives to `state` by the ordinary path (active mode). */
    to(state: 'Connect' | 'OpenSent' | 'OpenConfirm' | 'Established', holdTime = 90) {
      this.ev({ type: 'ManualStart' });
      if (state === 'Connect') return this;
      this.ev({ type: 'TcpCrAcked' });
      if (state === 'OpenSent') return this;
      this.ev({ type: 'BGPOpen', open: peerOpen(holdTime) });
      if (state === 'OpenConfirm') return this;
      this.ev({ type: 'KeepAliveMsg' });
      return this;
    },
  };
}

const stopAll: FsmAction[] = [
  { type: 'stopTimer', timer: 'ConnectRetry' },
  { type: 'stopTimer', timer: 'Hold' },
  { type: 'stopTimer', timer: 'Keepalive' },
  { type: 'close' },
];
const notif = (code: number, subcode: number, extra: Partial<NotificationMessage> = {}): FsmAction => ({
  type: 'send',
  message: { type: 'NOTIFICATION', code, subcode, ...extra },
});
const idleHold = (ms: number): FsmAction => ({ type: 'startTimer', timer: 'IdleHold', durationMs: ms });

t.test('happy path to Established, with the exact actions and our OPEN on the wire', async (t) => {
  const d = driver();
  // random 0.5: jitter factor 0.75 + 0.25 * 0.5 = 0.875; 30 s -> 26250 ms.
  t.strictSame(d.ev({ type: 'ManualStart' }), [
    { type: 'startTimer', timer: 'ConnectRetry', durationMs: 26250 },
    { type: 'connect' },
  ]);
  t.equal(d.s.state, 'Connect');
  const a = d.ev({ type: 'TcpCrAcked' });
  t.equal(d.s.state, 'OpenSent');
  t.equal(a.length, 3);
  t.strictSame(a[0], { type: 'stopTimer', timer: 'ConnectRetry' });
  t.strictSame(
    a[2],
    { type: 'startTimer', timer: 'Hold', durationMs: 240000 },
    'large hold timer of 4 minutes in OpenSent',
  );
  const open = a[1]!.type === 'send' ? a[1]!.message : undefined;
  // AS 64496 = fbf0, hold 90 = 005a, 192.0.2.1 = c0000201; capabilities: MP IPv4 unicast (01 04 0001 00 01),
  // route refresh (02 00), enhanced route refresh (46 00), 4-octet AS (41 04 0000fbf0), extended message (06 00):
  // 18 bytes, in one parameter of 20; message 29 + 20 = 49 (0x31).
  t.equal(
    hex(encodeMessage(open as OpenMessage)),
    clean(`${M} 0031 01 04 fbf0 005a c0000201 14 02 12 0104000100 01 0200 4600 4104 0000fbf0 0600`),
  );

  t.strictSame(d.ev({ type: 'BGPOpen', open: peerOpen() }), [
    { type: 'send', message: { type: 'KEEPALIVE' } },
    { type: 'startTimer', timer: 'Keepalive', durationMs: 26250 },
    { type: 'startTimer', timer: 'Hold', durationMs: 90000 },
  ]);
  t.equal(d.s.state, 'OpenConfirm');
  const est = d.at(5000).ev({ type: 'KeepAliveMsg' });
  t.equal(d.s.state, 'Established');
  t.equal(est.length, 2);
  t.strictSame(est[0], { type: 'startTimer', timer: 'Hold', durationMs: 90000 });
  t.equal(est[1]!.type, 'established');
  if (est[1]!.type === 'established') {
    t.equal(est[1]!.negotiated.holdTime, 90);
    t.equal(est[1]!.negotiated.keepaliveTime, 30);
    t.equal(est[1]!.negotiated.peerBgpId, '192.0.2.2');
  }
  t.equal(d.s.establishedAt, 5000);
  t.strictSame(d.s.counters, {
    opensIn: 1,
    opensOut: 1,
    updatesIn: 0,
    keepalivesIn: 1,
    keepalivesOut: 1,
    notificationsIn: 0,
    notificationsOut: 0,
    routeRefreshesIn: 0,
    establishedTransitions: 1,
  });
  // Messages restart the hold timer; sending an UPDATE restarts the keepalive timer.
  t.strictSame(d.ev({ type: 'UpdateMsg' }), [{ type: 'startTimer', timer: 'Hold', durationMs: 90000 }]);
  t.strictSame(d.ev({ type: 'RouteRefreshMsg' }), [{ type: 'startTimer', timer: 'Hold', durationMs: 90000 }]);
  t.strictSame(d.ev({ type: 'UpdateSent' }), [{ type: 'startTimer', timer: 'Keepalive', durationMs: 26250 }]);
  t.equal(d.s.counters.updatesIn, 1);
});

t.test('transition never mutates its input', async (t) => {
  const d = driver().to('OpenConfirm');
  const before = structuredClone(d.s);
  const out = transition(d.s, { type: 'HoldTimerExpires' }, { now: 1, random: () => 0.5 });
  t.strictSame(d.s, before);
  t.equal(out.session.state, 'Idle');
});

t.test('timer expiries in every state', async (t) => {
  const timers = [
    'ConnectRetryTimerExpires',
    'HoldTimerExpires',
    'KeepaliveTimerExpires',
    'IdleHoldTimerExpires',
  ] as const;
  t.test('Idle, not started: all ignored', async (t) => {
    for (const type of timers) {
      const d = driver();
      t.strictSame(d.ev({ type }), [], type);
      t.equal(d.s.state, 'Idle');
    }
  });
  t.test('Connect', async (t) => {
    let d = driver().to('Connect');
    t.strictSame(d.ev({ type: 'ConnectRetryTimerExpires' }), [
      { type: 'close' },
      { type: 'startTimer', timer: 'ConnectRetry', durationMs: 26250 },
      { type: 'connect' },
    ]);
    t.equal(d.s.state, 'Connect');
    for (const type of ['HoldTimerExpires', 'KeepaliveTimerExpires'] as const) {
      d = driver().to('Connect');
      t.strictSame(d.ev({ type }), [...stopAll, idleHold(1000)], `${type}: dropped without NOTIFICATION`);
      t.equal(d.s.state, 'Idle');
      t.equal(d.s.connectRetryCounter, 1);
    }
    d = driver().to('Connect');
    t.strictSame(d.ev({ type: 'IdleHoldTimerExpires' }), []);
    t.equal(d.s.state, 'Connect');
  });
  t.test('Active (passive mode)', async (t) => {
    const passive = config({ mode: 'passive' });
    let d = driver(passive);
    d.ev({ type: 'ManualStart' });
    t.strictSame(d.ev({ type: 'ConnectRetryTimerExpires' }), [], 'passive never connects');
    t.equal(d.s.state, 'Active');
    d = driver(passive);
    d.ev({ type: 'ManualStart' });
    t.strictSame(d.ev({ type: 'HoldTimerExpires' }), [...stopAll, { type: 'accept', enabled: false }, idleHold(1000)]);
    t.equal(d.s.state, 'Idle');
  });
  t.test('OpenSent', async (t) => {
    // An FSM error is a protocol failure (1 s back-off); the hold timer a transport one (0.25 s, jittered).
    const cases: [FsmEvent['type'], FsmAction, number][] = [
      ['ConnectRetryTimerExpires', notif(5, 1), 1000],
      ['HoldTimerExpires', notif(4, 0), 218],
      ['KeepaliveTimerExpires', notif(5, 1), 1000],
    ];
    for (const [type, sent, pause] of cases) {
      const d = driver().to('OpenSent');
      t.strictSame(d.ev({ type } as FsmEvent), [sent, ...stopAll, idleHold(pause)], type);
      t.equal(d.s.state, 'Idle');
    }
  });
  t.test('OpenConfirm', async (t) => {
    let d = driver().to('OpenConfirm');
    t.strictSame(d.ev({ type: 'KeepaliveTimerExpires' }), [
      { type: 'send', message: { type: 'KEEPALIVE' } },
      { type: 'startTimer', timer: 'Keepalive', durationMs: 26250 },
    ]);
    t.equal(d.s.state, 'OpenConfirm');
    d = driver().to('OpenConfirm');
    t.strictSame(d.ev({ type: 'HoldTimerExpires' }), [notif(4, 0), ...stopAll, idleHold(218)]);
    d = driver().to('OpenConfirm');
    t.strictSame(d.ev({ type: 'ConnectRetryTimerExpires' }), [notif(5, 2), ...stopAll, idleHold(1000)]);
  });
  t.test('Established', async (t) => {
    let d = driver().to('Established');
    t.strictSame(d.ev({ type: 'KeepaliveTimerExpires' }), [
      { type: 'send', message: { type: 'KEEPALIVE' } },
      { type: 'startTimer', timer: 'Keepalive', durationMs: 26250 },
    ]);
    d = driver().to('Established');
    const a = d.at(1000).ev({ type: 'HoldTimerExpires' });
    t.strictSame(a, [
      notif(4, 0),
      ...stopAll,
      {
        type: 'down',
        reason: {
          kind: 'notification-sent',
          message: 'hold timer expired in Established',
          notification: { type: 'NOTIFICATION', code: 4, subcode: 0 },
        },
      },
      idleHold(218),
    ]);
    // Hold Timer Expired on the wire: header of 21 bytes (0x15), type 3, code 4, subcode 0.
    const sent = a[0]!.type === 'send' ? a[0]!.message : undefined;
    t.equal(hex(encodeMessage(sent as NotificationMessage)), `${M}00150304` + '00');
    t.equal(d.s.lastDown?.state, 'Established');
    d = driver().to('Established');
    t.strictSame(d.ev({ type: 'ConnectRetryTimerExpires' }).slice(0, 1), [notif(5, 3)]);
  });
});

t.test('jitter: 75 % with random 0, just under 100 % with random 0.999...', async (t) => {
  t.equal(
    jitter(30000, () => 0),
    22500,
  );
  t.equal(
    jitter(30000, () => 0.9999999),
    29999,
  );
  for (const [r, connectRetry, keepalive] of [
    [0, 22500, 22500],
    [0.9999999, 29999, 29999],
  ] as const) {
    const d = driver(config(), r);
    t.strictSame(d.ev({ type: 'ManualStart' })[0], {
      type: 'startTimer',
      timer: 'ConnectRetry',
      durationMs: connectRetry,
    });
    d.ev({ type: 'TcpCrAcked' });
    const a = d.ev({ type: 'BGPOpen', open: peerOpen() });
    t.strictSame(a[1], { type: 'startTimer', timer: 'Keepalive', durationMs: keepalive });
    t.strictSame(a[2], { type: 'startTimer', timer: 'Hold', durationMs: 90000 }, 'the hold timer is never jittered');
  }
});

t.test('hold time 0: no hold timer, no keepalives', async (t) => {
  const d = driver().to('OpenSent');
  t.strictSame(d.ev({ type: 'BGPOpen', open: peerOpen(0) }), [
    { type: 'send', message: { type: 'KEEPALIVE' } },
    { type: 'stopTimer', timer: 'Hold' },
  ]);
  const est = d.ev({ type: 'KeepAliveMsg' });
  t.strictSame(
    est.map((a) => a.type),
    ['established'],
  );
  t.strictSame(d.ev({ type: 'KeepaliveTimerExpires' }), []);
  t.strictSame(d.ev({ type: 'UpdateMsg' }), []);
  t.strictSame(d.ev({ type: 'UpdateSent' }), []);
  t.equal(d.s.negotiated?.keepaliveTime, 0);
});

t.test('connection modes', async (t) => {
  t.test('passive: listens, waits in Active, never connects', async (t) => {
    const d = driver(config({ mode: 'passive' }));
    t.strictSame(d.ev({ type: 'ManualStart' }), [{ type: 'accept', enabled: true }]);
    t.equal(d.s.state, 'Active');
    t.strictSame(
      d.ev({ type: 'TcpConnectionConfirmed' }).map((a) => a.type),
      ['stopTimer', 'send', 'startTimer'],
    );
    t.equal(d.s.state, 'OpenSent');
    const down = d.ev({ type: 'TcpConnectionFails' });
    t.strictSame(down, [...stopAll, { type: 'accept', enabled: false }, idleHold(218)]);
    t.strictSame(d.ev({ type: 'IdleHoldTimerExpires' }), [{ type: 'accept', enabled: true }]);
    t.equal(d.s.state, 'Active');
  });
  t.test('active (default): connects, never accepts', async (t) => {
    const d = driver();
    const all: FsmAction[] = [];
    all.push(...d.to('Established').ev({ type: 'TcpConnectionFails' }));
    all.push(...d.ev({ type: 'IdleHoldTimerExpires' }), ...d.ev({ type: 'ManualStop' }));
    t.notOk(
      all.some((a) => a.type === 'accept'),
      'no accept action at all',
    );
    t.ok(all.some((a) => a.type === 'connect'));
  });
  t.test('both: connects and accepts', async (t) => {
    const d = driver(config({ mode: 'both' }));
    t.strictSame(d.ev({ type: 'ManualStart' }), [
      { type: 'startTimer', timer: 'ConnectRetry', durationMs: 26250 },
      { type: 'accept', enabled: true },
      { type: 'connect' },
    ]);
    t.strictSame(
      d.ev({ type: 'TcpConnectionConfirmed' }).map((a) => a.type),
      ['stopTimer', 'send', 'startTimer'],
    );
  });
  t.test('a connection arriving in Idle is closed', async (t) => {
    t.strictSame(driver().ev({ type: 'TcpConnectionConfirmed' }), [{ type: 'close' }]);
  });
});

/** The IdleHold pause an event armed, or -1. */
function pauseOf(actions: FsmAction[]): number {
  const hold = actions.find((x) => x.type === 'startTimer' && x.timer === 'IdleHold');
  return hold && hold.type === 'startTimer' ? hold.durationMs : -1;
}
/** The peer's NOTIFICATION as an event. */
const notifIn = (code: number, subcode: number, data?: string): FsmEvent => ({
  type: 'NotifMsg',
  notification: { type: 'NOTIFICATION', code, subcode, ...(data === undefined ? {} : { data }) },
});

t.test('protocol failures back off: doubles from 1 s, caps at 120 s, resets after a stable session', async (t) => {
  const d = driver();
  d.at(900_000).ev({ type: 'ManualStart' });
  const seen: number[] = [];
  for (let i = 0; i < 9; i++) {
    d.ev({ type: 'TcpCrAcked' });
    seen.push(pauseOf(d.ev(notifIn(2, 2)))); // OPEN error: Bad Peer AS
    t.strictSame(d.ev({ type: 'IdleHoldTimerExpires' }).at(-1), { type: 'connect' });
  }
  t.strictSame(seen, [1000, 2000, 4000, 8000, 16000, 32000, 64000, 120000, 120000]);
  t.equal(d.s.consecutiveFailures, 9);
  t.equal(d.s.connectRetryCounter, 9);
  t.equal(d.s.idleHoldMs, 0, 'no pause pending once it expired');

  // A session that lasts under 60 s does not reset the back-off ...
  d.at(1_000_000).ev({ type: 'TcpCrAcked' });
  d.ev({ type: 'BGPOpen', open: peerOpen() });
  d.ev({ type: 'KeepAliveMsg' });
  t.strictSame(d.at(1_059_999).ev(notifIn(3, 1)).at(-1), idleHold(120000), 'an UPDATE error from the peer');
  t.equal(d.s.lastDown?.failure, 'protocol');
  // ... one that lasts 60 s does.
  d.ev({ type: 'IdleHoldTimerExpires' });
  d.at(1_200_000).ev({ type: 'TcpCrAcked' });
  d.ev({ type: 'BGPOpen', open: peerOpen() });
  d.ev({ type: 'KeepAliveMsg' });
  t.strictSame(d.at(1_260_000).ev(notifIn(3, 1)).at(-1), idleHold(1000));
  t.equal(d.s.consecutiveFailures, 1);
});

t.test('the protocol back-off decays: a failure long after the last one starts again at 1 s', async (t) => {
  const d = driver();
  d.ev({ type: 'ManualStart' });
  for (const at of [0, 2000, 5000]) {
    d.at(at).ev({ type: 'TcpCrAcked' });
    d.ev(notifIn(2, 2));
    d.ev({ type: 'IdleHoldTimerExpires' });
  }
  t.equal(d.s.consecutiveFailures, 3);
  d.at(5000 + 240_000).ev({ type: 'TcpCrAcked' });
  t.equal(pauseOf(d.ev(notifIn(2, 2))), 8000, 'at 2 x maxIdleHoldTime after the last, still counted');
  d.ev({ type: 'IdleHoldTimerExpires' });
  d.at(245_000 + 240_001).ev({ type: 'TcpCrAcked' });
  t.equal(pauseOf(d.ev(notifIn(2, 2))), 1000, 'later than that, decayed');
  t.equal(d.s.consecutiveFailures, 1);
});

t.test('transport failures pause briefly: 0.25 s doubling to 1 s, jittered, whatever came before', async (t) => {
  // random 0.5: jitter factor 0.875.
  const d = driver();
  d.ev({ type: 'ManualStart' });
  // Protocol failures first: they must not slow a transport failure down.
  for (let i = 0; i < 5; i++) {
    d.ev({ type: 'TcpCrAcked' });
    d.ev(notifIn(2, 2));
    d.ev({ type: 'IdleHoldTimerExpires' });
  }
  const seen: number[] = [];
  for (let i = 0; i < 5; i++) {
    seen.push(pauseOf(d.ev({ type: 'TcpConnectionFails', error: { code: 'ECONNREFUSED', message: 'refused' } })));
    t.equal(d.s.lastDown?.failure, 'transport');
    d.ev({ type: 'IdleHoldTimerExpires' });
  }
  t.strictSame(seen, [218, 437, 875, 875, 875]);
  t.equal(d.s.consecutiveFailures, 5, 'the protocol count is kept');
  t.equal(d.s.transportFailures, 5);

  // Established resets the transport count: a hold timer expiry, a BFD down and the peer's Cease for a
  // restart each pause 0.25 s again.
  const up = () => {
    d.ev({ type: 'TcpCrAcked' });
    d.ev({ type: 'BGPOpen', open: peerOpen() });
    d.ev({ type: 'KeepAliveMsg' });
    t.equal(d.s.state, 'Established');
    t.equal(d.s.transportFailures, 0);
  };
  up();
  t.equal(pauseOf(d.ev({ type: 'HoldTimerExpires' })), 218, 'our hold timer');
  d.ev({ type: 'IdleHoldTimerExpires' });
  up();
  t.equal(pauseOf(d.ev({ type: 'AutomaticStop', subcode: 10 })), 218, 'BFD down (Cease 10)');
  d.ev({ type: 'IdleHoldTimerExpires' });
  for (const [code, subcode, what] of [
    [6, 2, 'Administrative Shutdown'],
    [6, 3, 'Peer De-configured'],
    [6, 4, 'Administrative Reset'],
    [6, 6, 'Other Configuration Change'],
    [6, 8, 'Out of Resources'],
    [4, 0, "the peer's hold timer"],
  ] as const) {
    up();
    t.equal(pauseOf(d.ev(notifIn(code, subcode))), 218, what);
    d.ev({ type: 'IdleHoldTimerExpires' });
  }
  up();
  t.equal(pauseOf(d.ev(notifIn(6, 9, '0604'))), 218, 'a Hard Reset carrying Administrative Reset');
  d.ev({ type: 'IdleHoldTimerExpires' });
  up();
  t.equal(d.s.consecutiveFailures, 5, 'none of those counted as protocol failures');
  t.equal(pauseOf(d.ev(notifIn(6, 9, '0202'))), 32000, 'a Hard Reset carrying an OPEN error backs off');
  d.ev({ type: 'IdleHoldTimerExpires' });
  up();
  t.equal(pauseOf(d.ev(notifIn(6, 1))), 64000, 'maximum prefixes (Cease 1) backs off');
  d.ev({ type: 'IdleHoldTimerExpires' });
  up();
  t.equal(pauseOf(d.ev(notifIn(6, 5))), 120000, 'Connection Rejected (Cease 5) backs off');
});

t.test('ConnectRetry restarts an attempt that got no answer at once, with no pause', async (t) => {
  const d = driver(config({ connectRetryTime: 2 }));
  t.strictSame(d.ev({ type: 'ManualStart' }), [
    { type: 'startTimer', timer: 'ConnectRetry', durationMs: 1750 },
    { type: 'connect' },
  ]);
  t.strictSame(d.ev({ type: 'ConnectRetryTimerExpires' }), [
    { type: 'close' },
    { type: 'startTimer', timer: 'ConnectRetry', durationMs: 1750 },
    { type: 'connect' },
  ]);
  t.equal(peerConfig({ localAs: 1, peerAs: 2, bgpId: '192.0.2.1' }).connectRetryTime, 2, 'the default is 2 s');
});

t.test('ManualStart during back-off connects at once; AutomaticStart waits; ManualStop cancels', async (t) => {
  let d = driver().to('Connect');
  d.ev({ type: 'TcpConnectionFails' });
  t.strictSame(d.ev({ type: 'AutomaticStart' }), [], 'AutomaticStart respects the pending IdleHold');
  t.strictSame(d.ev({ type: 'ManualStart' }), [
    { type: 'stopTimer', timer: 'IdleHold' },
    { type: 'startTimer', timer: 'ConnectRetry', durationMs: 26250 },
    { type: 'connect' },
  ]);
  d = driver().to('Connect');
  d.ev({ type: 'TcpConnectionFails' });
  t.strictSame(d.ev({ type: 'ManualStop' }), [{ type: 'stopTimer', timer: 'IdleHold' }]);
  t.equal(d.s.started, false);
  t.strictSame(d.ev({ type: 'IdleHoldTimerExpires' }), [], 'a stopped session does not restart');
  t.equal(d.s.consecutiveFailures, 0);
});

t.test('stops: manual with a shutdown communication, automatic with its Cease subcode, collision', async (t) => {
  let d = driver().to('Established');
  const a = d.ev({ type: 'ManualStop', shutdownMessage: 'node drain' });
  t.strictSame(a[0], notif(6, 2, { shutdownMessage: 'node drain' }));
  t.strictSame(a.slice(1, 5), stopAll);
  t.equal(a[5]!.type, 'down');
  t.equal(a.length, 6, 'no IdleHold: the session is stopped');
  t.equal(d.s.started, false);
  t.equal(d.s.lastDown?.kind, 'manual-stop');

  d = driver().to('Connect');
  t.strictSame(d.ev({ type: 'ManualStop' }), stopAll, 'no NOTIFICATION before an OPEN was sent');

  d = driver().to('Established');
  const b = d.ev({ type: 'AutomaticStop', subcode: 10 });
  t.strictSame(b[0], notif(6, 10), 'BFD Down');
  t.strictSame(b.at(-1), idleHold(218), 'restarts after a short pause (a transport failure)');
  t.equal(d.s.started, true);

  d = driver().to('OpenConfirm');
  t.strictSame(d.ev({ type: 'OpenCollisionDump' }), [notif(6, 7), ...stopAll]);
  t.equal(d.s.started, false, 'the losing connection does not restart by itself');
});

t.test('message errors and unexpected messages', async (t) => {
  const err = new BgpWireError('bad length', { code: 1, subcode: 2, data: Uint8Array.of(0x00, 0x10) });
  let d = driver().to('OpenSent');
  t.strictSame(d.ev({ type: 'BGPHeaderErr', error: err }), [notif(1, 2, { data: '0010' }), ...stopAll, idleHold(1000)]);

  d = driver().to('OpenSent');
  const openErr = new BgpWireError('bad hold', { code: 2, subcode: 6 });
  t.strictSame(
    d.ev({ type: 'BGPOpenMsgErr', error: openErr })[0],
    notif(2, 6),
    'no data field when the error has none',
  );

  const unexpected: [
    Parameters<typeof driver>[0] | undefined,
    'OpenSent' | 'OpenConfirm' | 'Established',
    FsmEvent,
    FsmAction,
  ][] = [
    [undefined, 'OpenSent', { type: 'KeepAliveMsg' }, notif(5, 1)],
    [undefined, 'OpenSent', { type: 'UpdateMsg' }, notif(5, 1)],
    [undefined, 'OpenSent', { type: 'RouteRefreshMsg' }, notif(5, 1)],
    [undefined, 'OpenConfirm', { type: 'UpdateMsg' }, notif(5, 2)],
    [undefined, 'OpenConfirm', { type: 'BGPOpen', open: peerOpen() }, notif(5, 2)],
    [undefined, 'Established', { type: 'BGPOpen', open: peerOpen() }, notif(5, 3)],
    [
      undefined,
      'Established',
      { type: 'UpdateMsgErr', error: new BgpWireError('x', { code: 3, subcode: 1 }) },
      notif(3, 1),
    ],
    [
      undefined,
      'OpenSent',
      { type: 'UpdateMsgErr', error: new BgpWireError('x', { code: 3, subcode: 1 }) },
      notif(5, 1),
    ],
  ];
  for (const [cfg, state, event, sent] of unexpected) {
    const dd = driver(cfg).to(state);
    t.strictSame(dd.ev(event)[0], sent, `${event.type} in ${state}`);
    t.equal(dd.s.state, 'Idle');
  }

  d = driver().to('Established');
  const notifIn: NotificationMessage = { type: 'NOTIFICATION', code: 6, subcode: 4 };
  const a = d.ev({ type: 'NotifMsg', notification: notifIn });
  t.notOk(
    a.some((x) => x.type === 'send'),
    'a NOTIFICATION is never answered with one',
  );
  t.strictSame(
    a.find((x) => x.type === 'down'),
    {
      type: 'down',
      reason: { kind: 'notification-received', message: 'peer sent NOTIFICATION 6/4', notification: notifIn },
    },
  );
  t.equal(d.s.counters.notificationsIn, 1);

  d = driver().to('OpenSent');
  const refused = d.ev({ type: 'BGPOpen', open: { ...peerOpen(), myAs: 64498, capabilities: [] } });
  t.strictSame(refused[0], notif(2, 2, { data: 'fbf2' }), 'OPEN refused by the policy: Bad Peer AS with the AS sent');
  t.equal(d.s.lastDown?.kind, 'notification-sent');
});
