// The BFD session state machine in virtual time: feed events, assert the exact actions; then two
// sessions wired to each other through a simulated link with a seeded random jitter.
import t from 'tap';
import {
  bfdTransition,
  createBfdSession,
  detectionTime,
  jitteredTransmitInterval,
  negotiatedTransmitInterval,
  type BfdAction,
  type BfdEvent,
  type BfdSession,
  type BfdSessionConfig,
} from '../src/fsm.js';
import type { BfdControlPacket, BfdState } from '../src/types.js';
import { controlPacket } from './helpers.js';

const OURS = 0x11111111;
const PEER = 0x22222222;
const config = (o: Partial<BfdSessionConfig> = {}): BfdSessionConfig => ({
  desiredMinTxInterval: 300_000,
  requiredMinRxInterval: 300_000,
  detectMult: 3,
  passive: false,
  ...o,
});
/** A packet from the peer: Down, no discriminator of ours, 1 s TX (it is not Up), 300 ms RX, mult 3. */
const fromPeer = (o: Partial<BfdControlPacket> = {}): BfdControlPacket =>
  controlPacket({ myDiscriminator: PEER, ...o });
/** What we send: the fields that vary, the rest as they always are. */
const ours = (o: Partial<BfdControlPacket>): BfdControlPacket =>
  controlPacket({ myDiscriminator: OURS, yourDiscriminator: PEER, ...o });

interface Driver {
  readonly s: BfdSession;
  /** Virtual time (ms) given to the transitions as env.now; 0 at first. */
  now: number;
  ev(event: BfdEvent): BfdAction[];
  rx(o?: Partial<BfdControlPacket>): BfdAction[];
  up(): Driver;
}

/** A session and a virtual clock; random() returns `r`. */
function driver(cfg = config(), r = 0.5): Driver {
  let session: BfdSession = createBfdSession(cfg, OURS);
  return {
    get s() {
      return session;
    },
    now: 0,
    ev(event: BfdEvent): BfdAction[] {
      const out = bfdTransition(session, event, { now: this.now, random: () => r });
      session = out.session;
      return out.actions;
    },
    rx(o: Partial<BfdControlPacket> = {}): BfdAction[] {
      return this.ev({ type: 'packetReceived', packet: fromPeer(o) });
    },
    /** Start and handshake to Up (we see Down, then Init), leaving the Poll that Up started running. */
    up(): Driver {
      this.ev({ type: 'start' });
      this.rx();
      this.rx({ state: 'Init', yourDiscriminator: OURS });
      return this;
    },
  };
}
const sent = (actions: BfdAction[]): BfdControlPacket[] =>
  actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []));
const changes = (actions: BfdAction[]) => actions.filter((a) => a.type === 'stateChange');
// Jitter with random 0.5: 75 % + half of the 25 % range (+1 µs inclusive): 1 s -> 875000, 300 ms -> 262500.
const slowTimer: BfdAction = { type: 'startTimer', timer: 'transmit', durationUs: 875_000 };
const fastTimer: BfdAction = { type: 'startTimer', timer: 'transmit', durationUs: 262_500 };

t.test('initial state variables (RFC 5880 6.8.1) and start', async (t) => {
  const d = driver();
  t.equal(d.s.sessionState, 'Down');
  t.equal(d.s.remoteSessionState, 'Down');
  t.equal(d.s.remoteDiscr, 0);
  t.equal(d.s.localDiag, 0);
  t.equal(d.s.remoteMinRxInterval, 1);
  t.equal(d.s.desiredMinTxInterval, 1_000_000, 'at least 1 s while not Up, though 300 ms is configured');
  t.equal(d.s.demandMode, false);
  t.strictSame(d.ev({ type: 'start' }), [{ type: 'send', packet: ours({ yourDiscriminator: 0 }) }, slowTimer]);
  t.strictSame(d.ev({ type: 'start' }), [], 'a second start does nothing');
  t.throws(() => createBfdSession(config(), 0), RangeError, 'discriminator 0');
  t.throws(() => createBfdSession(config({ detectMult: 0 }), 1), /detectMult 0 is outside 1-255/);
  t.throws(() => createBfdSession(config({ desiredMinTxInterval: 0 }), 1), /desiredMinTxInterval/);
});

t.test('three-way handshake Down -> Init -> Up (we see the peer Down first)', async (t) => {
  const d = driver();
  d.ev({ type: 'start' });
  const a = d.rx();
  t.strictSame(
    a,
    [
      { type: 'stateChange', from: 'Down', to: 'Init', diag: 0 },
      { type: 'startTimer', timer: 'detection', durationUs: 3_000_000 },
      { type: 'send', packet: ours({ state: 'Init' }) },
    ],
    "Init, detection 3 x max(300 ms, the peer's 1 s), and our Init at once, not at the next timer",
  );
  t.equal(d.s.remoteDiscr, PEER);
  const b = d.rx({ state: 'Init', yourDiscriminator: OURS });
  t.strictSame(
    b,
    [
      { type: 'stateChange', from: 'Init', to: 'Up', diag: 0 },
      { type: 'startTimer', timer: 'detection', durationUs: 3_000_000 },
      { type: 'send', packet: ours({ state: 'Up', poll: true, desiredMinTxInterval: 300_000 }) },
      fastTimer,
    ],
    'Up: 300 ms advertised with Poll, the faster rate at once',
  );
  t.equal(d.s.counters.upTransitions, 1);
  t.ok(d.s.pollActive);
  // The peer answers our Poll with its Final and its own fast rate: the detection time shrinks.
  const c = d.rx({ state: 'Up', yourDiscriminator: OURS, final: true, desiredMinTxInterval: 300_000 });
  t.strictSame(c, [{ type: 'startTimer', timer: 'detection', durationUs: 900_000 }]);
  t.notOk(d.s.pollActive);
  t.strictSame(
    sent(d.ev({ type: 'transmitTimerExpired' })),
    [ours({ state: 'Up', desiredMinTxInterval: 300_000 })],
    'Poll bit cleared after the Final',
  );
});

t.test('three-way handshake from the other side: Down + Init -> Up, and Init + Up -> Up', async (t) => {
  const d = driver();
  d.ev({ type: 'start' });
  t.strictSame(changes(d.rx({ state: 'Init', yourDiscriminator: OURS })), [
    { type: 'stateChange', from: 'Down', to: 'Up', diag: 0 },
  ]);
  const e = driver();
  e.ev({ type: 'start' });
  e.rx();
  t.strictSame(changes(e.rx({ state: 'Up', yourDiscriminator: OURS })), [
    { type: 'stateChange', from: 'Init', to: 'Up', diag: 0 },
  ]);
  const f = driver();
  f.ev({ type: 'start' });
  t.strictSame(
    changes(f.rx({ state: 'Up', yourDiscriminator: OURS })),
    [],
    'Down ignores Up (the peer must see us Down first)',
  );
  t.equal(f.s.sessionState, 'Down');
  f.rx();
  t.strictSame(changes(f.rx()), [], 'Init stays Init on Down');
});

t.test('detection timeout -> Down with diag 1, the peer forgotten, back to 1 s', async (t) => {
  const d = driver().up();
  d.rx({ state: 'Up', yourDiscriminator: OURS, final: true, desiredMinTxInterval: 300_000 });
  const a = d.ev({ type: 'detectionTimerExpired' });
  t.strictSame(a, [
    { type: 'stateChange', from: 'Up', to: 'Down', diag: 1 },
    { type: 'send', packet: ours({ state: 'Down', diag: 1, yourDiscriminator: 0, poll: true }) },
  ]);
  t.equal(d.s.remoteDiscr, 0, 'RFC 5880 6.8.1: Your Discriminator back to 0');
  t.equal(d.s.remoteMinRxInterval, 1);
  t.equal(negotiatedTransmitInterval(d.s), 1_000_000, '1 s at once: not Up');
  t.strictSame(d.ev({ type: 'transmitTimerExpired' }).at(-1), slowTimer);
  // Init times out the same way.
  const e = driver();
  e.ev({ type: 'start' });
  e.rx();
  t.strictSame(changes(e.ev({ type: 'detectionTimerExpired' })), [
    { type: 'stateChange', from: 'Init', to: 'Down', diag: 1 },
  ]);
  // In Down it only forgets the peer.
  const f = driver();
  f.ev({ type: 'start' });
  f.rx({ state: 'AdminDown' });
  t.equal(f.s.remoteDiscr, PEER);
  t.strictSame(f.ev({ type: 'detectionTimerExpired' }), []);
  t.equal(f.s.remoteDiscr, 0);
});

t.test('the peer signalling Down while Up -> Down with diag 3', async (t) => {
  const d = driver().up();
  const a = d.rx({ state: 'Down', diag: 1 });
  t.strictSame(changes(a), [{ type: 'stateChange', from: 'Up', to: 'Down', diag: 3 }]);
  t.equal(sent(a)[0]!.state, 'Down');
  t.equal(sent(a)[0]!.diag, 3);
  t.equal(d.s.sessionState, 'Down');
});

t.test('AdminDown both ways', async (t) => {
  // Ours: AdminDown with diag 7 (or the one given), packets keep going out, received ones are discarded.
  const d = driver().up();
  const a = d.ev({ type: 'adminDown' });
  t.strictSame(changes(a), [{ type: 'stateChange', from: 'Up', to: 'AdminDown', diag: 7 }]);
  t.strictSame(sent(a), [ours({ state: 'AdminDown', diag: 7, poll: true })]);
  const b = d.rx({ state: 'Down', yourDiscriminator: OURS, poll: true });
  t.strictSame(b, [{ type: 'discard', reason: 'session is AdminDown' }], 'no state change and no Final in AdminDown');
  t.equal(sent(d.ev({ type: 'transmitTimerExpired' }))[0]!.state, 'AdminDown', 'still sent periodically');
  const c = d.ev({ type: 'adminUp' });
  t.strictSame(changes(c), [{ type: 'stateChange', from: 'AdminDown', to: 'Down', diag: 7 }]);
  t.strictSame(d.ev({ type: 'adminUp' }), [], 'adminUp when not AdminDown does nothing');
  const p = driver().up();
  t.strictSame(
    changes(p.ev({ type: 'adminDown', diag: 5 })),
    [{ type: 'stateChange', from: 'Up', to: 'AdminDown', diag: 5 }],
    'Path Down',
  );

  // Theirs: receiving AdminDown puts Up and Init in Down with diag 3; Down stays Down.
  const e = driver().up();
  t.strictSame(changes(e.rx({ state: 'AdminDown', diag: 7, yourDiscriminator: OURS })), [
    { type: 'stateChange', from: 'Up', to: 'Down', diag: 3 },
  ]);
  t.equal(e.s.remoteSessionState, 'AdminDown');
  const f = driver();
  f.ev({ type: 'start' });
  f.rx();
  t.strictSame(changes(f.rx({ state: 'AdminDown', yourDiscriminator: OURS })), [
    { type: 'stateChange', from: 'Init', to: 'Down', diag: 3 },
  ]);
  t.strictSame(changes(f.rx({ state: 'AdminDown', yourDiscriminator: OURS })), [], 'Down stays Down');
  t.equal(f.s.localDiag, 3);
});

t.test('discriminators: Your Discriminator 0 only with Down/AdminDown, and it must be ours', async (t) => {
  const d = driver();
  d.ev({ type: 'start' });
  t.strictSame(d.rx({ state: 'Init' }), [
    { type: 'discard', reason: 'Your Discriminator 0 with state Init (only Down or AdminDown may omit it)' },
  ]);
  t.strictSame(
    d.rx({ state: 'Up' }).map((a) => a.type),
    ['discard'],
  );
  t.strictSame(d.rx({ state: 'Init', yourDiscriminator: 0x33333333 }), [
    { type: 'discard', reason: `Your Discriminator ${0x33333333} is not ours (${OURS})` },
  ]);
  t.strictSame(
    d.rx({ myDiscriminator: 0 }).map((a) => a.type),
    ['discard'],
  );
  t.strictSame(
    d.rx({ detectMult: 0 }).map((a) => a.type),
    ['discard'],
  );
  t.equal(d.s.remoteDiscr, 0, 'discarded packets change nothing');
  t.equal(d.s.sessionState, 'Down');
  t.equal(d.s.counters.discarded, 5);
  t.strictSame(
    changes(d.rx()),
    [{ type: 'stateChange', from: 'Down', to: 'Init', diag: 0 }],
    'Down with 0 is accepted',
  );
  t.strictSame(sent(d.rx({ myDiscriminator: PEER + 1 })), [], 'Init stays Init on Down: nothing sent');
  t.equal(d.s.remoteDiscr, PEER + 1, 'bfd.RemoteDiscr follows My Discriminator');
  const s = driver();
  t.strictSame(s.rx(), [{ type: 'discard', reason: 'session not started' }]);
});

t.test('Poll from the peer answered with a Final at once, without touching the timer', async (t) => {
  const d = driver().up();
  t.ok(d.s.pollActive, 'our own Poll is running');
  const a = d.rx({ state: 'Up', yourDiscriminator: OURS, poll: true, desiredMinTxInterval: 300_000 });
  t.strictSame(
    a,
    [
      { type: 'startTimer', timer: 'detection', durationUs: 900_000 },
      { type: 'send', packet: ours({ state: 'Up', final: true, desiredMinTxInterval: 300_000 }) },
    ],
    'Final with Poll clear (never both), no transmit timer restart',
  );
  t.ok(d.s.pollActive, 'a Poll from the peer does not end ours');
  t.strictSame(sent(d.ev({ type: 'transmitTimerExpired' })), [
    ours({ state: 'Up', poll: true, desiredMinTxInterval: 300_000 }),
  ]);
  // Passive sessions answer a Poll too.
  const p = driver(config({ passive: true }));
  p.ev({ type: 'start' });
  t.strictSame(sent(p.rx({ poll: true })), [ours({ state: 'Init', final: true })]);
});

t.test('Poll Sequence for a parameter change: a slower TX only after the Final (6.8.3)', async (t) => {
  const d = driver().up();
  // The peer is Up at 300 ms and will receive as fast as 50 ms.
  const up = (o: Partial<BfdControlPacket>) =>
    d.rx({ state: 'Up', yourDiscriminator: OURS, desiredMinTxInterval: 300_000, requiredMinRxInterval: 50_000, ...o });
  up({ final: true });
  t.notOk(d.s.pollActive);
  t.strictSame(
    d.ev({ type: 'parametersChanged', desiredMinTxInterval: 2_000_000 }),
    [],
    'nothing sent at once: the Poll rides the periodic packets',
  );
  t.equal(d.s.desiredMinTxInterval, 2_000_000);
  t.equal(negotiatedTransmitInterval(d.s), 300_000, 'still 300 ms: the peer has not confirmed');
  t.strictSame(d.ev({ type: 'transmitTimerExpired' }), [
    { type: 'send', packet: ours({ state: 'Up', poll: true, desiredMinTxInterval: 2_000_000 }) },
    fastTimer,
  ]);
  // A Final: the slower rate applies from the next timer on.
  t.strictSame(up({ final: true }), [{ type: 'startTimer', timer: 'detection', durationUs: 900_000 }]);
  t.notOk(d.s.pollActive);
  t.strictSame(d.ev({ type: 'transmitTimerExpired' }), [
    { type: 'send', packet: ours({ state: 'Up', desiredMinTxInterval: 2_000_000 }) },
    { type: 'startTimer', timer: 'transmit', durationUs: 1_750_000 },
  ]);
  // A faster TX acts at once (the timer restarts); a faster RX keeps the old detection time until the Final.
  const f = d.ev({ type: 'parametersChanged', desiredMinTxInterval: 100_000, requiredMinRxInterval: 100_000 });
  t.strictSame(f, [{ type: 'startTimer', timer: 'transmit', durationUs: 87_500 }]);
  t.strictSame(
    up({ desiredMinTxInterval: 100_000 }),
    [{ type: 'startTimer', timer: 'detection', durationUs: 900_000 }],
    'detection still 3 x 300 ms',
  );
  // The values change again during the Poll: a second Poll Sequence follows the first.
  d.ev({ type: 'parametersChanged', requiredMinRxInterval: 50_000 });
  t.ok(d.s.pollPending);
  t.strictSame(
    up({ final: true, desiredMinTxInterval: 100_000 }),
    [{ type: 'startTimer', timer: 'detection', durationUs: 300_000 }],
    '3 x 100 ms: the first Poll covered 100 ms',
  );
  t.ok(d.s.pollActive, 'second Poll running');
  t.equal(d.s.pollCovers?.requiredMinRxInterval, 50_000);
  t.strictSame(up({ final: true, desiredMinTxInterval: 50_000 }), [
    { type: 'startTimer', timer: 'detection', durationUs: 150_000 },
  ]);
  t.notOk(d.s.pollActive);
  // A change of detect mult also polls; bad values throw.
  d.ev({ type: 'parametersChanged', detectMult: 5 });
  t.ok(d.s.pollActive);
  t.equal(sent(d.ev({ type: 'transmitTimerExpired' }))[0]!.detectMult, 5);
  up({ final: true });
  // Slower twice during one Poll: the first Final confirms only what that Poll carried.
  d.ev({ type: 'parametersChanged', desiredMinTxInterval: 2_000_000 });
  d.ev({ type: 'parametersChanged', desiredMinTxInterval: 3_000_000 });
  t.equal(negotiatedTransmitInterval(d.s), 100_000);
  up({ final: true });
  t.equal(negotiatedTransmitInterval(d.s), 2_000_000, 'the first Poll carried 2 s');
  up({ final: true });
  t.equal(negotiatedTransmitInterval(d.s), 3_000_000, 'the second one 3 s');
  t.notOk(d.s.pollActive);
  t.throws(() => d.ev({ type: 'parametersChanged', detectMult: 256 }), /detectMult 256 is outside 1-255/);
});

t.test('the peer sets the pace: a larger Required Min RX slows us, a smaller one is honoured at once', async (t) => {
  const d = driver().up();
  d.rx({
    state: 'Up',
    yourDiscriminator: OURS,
    final: true,
    desiredMinTxInterval: 300_000,
    requiredMinRxInterval: 500_000,
  });
  t.equal(negotiatedTransmitInterval(d.s), 500_000);
  t.strictSame(d.ev({ type: 'transmitTimerExpired' }).at(-1), {
    type: 'startTimer',
    timer: 'transmit',
    durationUs: 437_500,
  });
  const a = d.rx({
    state: 'Up',
    yourDiscriminator: OURS,
    desiredMinTxInterval: 300_000,
    requiredMinRxInterval: 100_000,
  });
  t.strictSame(a.at(-1), fastTimer, 'back to 300 ms at once');
  // Required Min RX 0: no periodic packets at all (6.8.7).
  d.rx({ state: 'Up', yourDiscriminator: OURS, desiredMinTxInterval: 300_000, requiredMinRxInterval: 0 });
  t.strictSame(sent(d.ev({ type: 'transmitTimerExpired' })), []);
  // The peer in Demand mode (D bit, both Up): no periodic packets, but Polls are still answered.
  d.rx({ state: 'Up', yourDiscriminator: OURS, desiredMinTxInterval: 300_000, demand: true });
  t.strictSame(sent(d.ev({ type: 'transmitTimerExpired' })), [], 'silent');
  d.ev({ type: 'parametersChanged', detectMult: 4 });
  t.strictSame(
    sent(d.ev({ type: 'transmitTimerExpired' })),
    [ours({ state: 'Up', poll: true, detectMult: 4, desiredMinTxInterval: 300_000 })],
    'but a Poll Sequence goes out',
  );
  d.rx({ state: 'Up', yourDiscriminator: OURS, desiredMinTxInterval: 300_000, demand: true, final: true });
  t.strictSame(sent(d.ev({ type: 'transmitTimerExpired' })), [], 'Poll done: silent');
  const final = sent(d.rx({ state: 'Up', yourDiscriminator: OURS, demand: true, poll: true }))[0];
  t.equal(final?.final, true);
  t.equal(final?.demand, false, 'we never set D');
});

t.test('jitter bounds: 75-100 %, 75-90 % with detect mult 1', async (t) => {
  t.equal(
    jitteredTransmitInterval(300_000, 3, () => 0),
    225_000,
  );
  t.equal(
    jitteredTransmitInterval(300_000, 3, () => 0.999999999),
    300_000,
  );
  t.equal(
    jitteredTransmitInterval(300_000, 1, () => 0),
    225_000,
  );
  t.equal(
    jitteredTransmitInterval(300_000, 1, () => 0.999999999),
    270_000,
  );
  t.equal(
    jitteredTransmitInterval(300_000, 3, () => 1),
    300_000,
    'a random() of 1 is clamped',
  );
  t.equal(
    jitteredTransmitInterval(300_001, 3, () => 0),
    225_001,
    'rounded up: never below 75 %',
  );
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  const seen = { low: Infinity, high: 0, lowOne: Infinity, highOne: 0 };
  for (let i = 0; i < 20000; i++) {
    const v = jitteredTransmitInterval(1_000_000, 3, random);
    const w = jitteredTransmitInterval(1_000_000, 1, random);
    seen.low = Math.min(seen.low, v);
    seen.high = Math.max(seen.high, v);
    seen.lowOne = Math.min(seen.lowOne, w);
    seen.highOne = Math.max(seen.highOne, w);
  }
  t.ok(seen.low >= 750_000 && seen.low < 751_000, `lowest ${seen.low}`);
  t.ok(seen.high <= 1_000_000 && seen.high > 999_000, `highest ${seen.high}`);
  t.ok(seen.lowOne >= 750_000 && seen.lowOne < 751_000, `lowest with mult 1 ${seen.lowOne}`);
  t.ok(seen.highOne <= 900_000 && seen.highOne > 899_000, `highest with mult 1 ${seen.highOne}`);
  // The FSM uses it: detect mult 1 never arms past 90 %.
  const d = driver(config({ detectMult: 1 }), 0.999999);
  t.strictSame(d.ev({ type: 'start' }).at(-1), { type: 'startTimer', timer: 'transmit', durationUs: 900_000 });
});

t.test('at least 1 s between packets while not Up, whatever is configured or asked', async (t) => {
  const d = driver(config({ desiredMinTxInterval: 10_000 }), 0);
  d.ev({ type: 'start' });
  const a = d.rx({ requiredMinRxInterval: 10_000 });
  t.equal(d.s.sessionState, 'Init');
  t.equal(sent(a)[0]!.desiredMinTxInterval, 1_000_000, 'Init advertises 1 s');
  t.strictSame(
    d.ev({ type: 'transmitTimerExpired' }).at(-1),
    { type: 'startTimer', timer: 'transmit', durationUs: 750_000 },
    '75 % of 1 s at the lowest',
  );
  d.rx({ state: 'Init', yourDiscriminator: OURS, requiredMinRxInterval: 10_000 });
  t.equal(negotiatedTransmitInterval(d.s), 10_000, 'Up: the configured 10 ms');
  d.ev({ type: 'adminDown' });
  t.equal(negotiatedTransmitInterval(d.s), 1_000_000, 'AdminDown: 1 s again');
  t.equal(d.s.desiredMinTxInterval, 1_000_000);
});

t.test('passive mode: silent until the peer speaks, and again once it is forgotten', async (t) => {
  const d = driver(config({ passive: true }));
  t.strictSame(d.ev({ type: 'start' }), [slowTimer], 'timer armed, nothing sent');
  t.strictSame(sent(d.ev({ type: 'transmitTimerExpired' })), []);
  t.strictSame(sent(d.rx()), [ours({ state: 'Init' })], 'the first packet from the peer wakes us');
  t.strictSame(sent(d.ev({ type: 'transmitTimerExpired' })), [ours({ state: 'Init' })]);
  d.ev({ type: 'detectionTimerExpired' });
  t.equal(d.s.remoteDiscr, 0);
  t.strictSame(sent(d.ev({ type: 'transmitTimerExpired' })), [], 'peer forgotten: silent again');
});

t.test('stop: timers stopped, events ignored until start', async (t) => {
  const d = driver().up();
  t.strictSame(d.ev({ type: 'stop' }), [
    { type: 'stopTimer', timer: 'transmit' },
    { type: 'stopTimer', timer: 'detection' },
  ]);
  t.strictSame(d.ev({ type: 'transmitTimerExpired' }), []);
  t.strictSame(d.ev({ type: 'detectionTimerExpired' }), []);
  t.equal(d.s.sessionState, 'Up', 'state kept');
});

t.test('bfdTransition never mutates its input', async (t) => {
  const d = driver().up();
  const before = structuredClone(d.s);
  const out = bfdTransition(d.s, { type: 'detectionTimerExpired' }, { now: 5, random: () => 0.5 });
  t.strictSame(d.s, before);
  t.equal(out.session.sessionState, 'Down');
  t.equal(out.session.lastStateChangeAt, 5);
});

// ---- Two sessions wired to each other in virtual time ----

/** A deterministic PRNG (mulberry32). */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = Math.imul(a ^ (a >>> 15), 1 | a);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

/** Two sessions, a link with 1 ms latency each way that can be cut per direction, timers in a queue. */
function network(cfgA: BfdSessionConfig, cfgB: BfdSessionConfig, seed = 1) {
  const random = seeded(seed);
  const nodes = [createBfdSession(cfgA, 0xa), createBfdSession(cfgB, 0xb)];
  const linkUp = [true, true]; // [A->B, B->A]
  const queue: { at: number; seq: number; node: number; event: BfdEvent; timer?: string }[] = [];
  const armed = new Map<string, number>();
  const log: { at: number; node: 'A' | 'B'; from: BfdState; to: BfdState; diag: number }[] = [];
  const sentAt: number[][] = [[], []];
  let now = 0;
  let seq = 0;
  const push = (at: number, node: number, event: BfdEvent, timer?: string) => {
    queue.push({ at, seq: ++seq, node, event, ...(timer ? { timer } : {}) });
    return seq;
  };
  const apply = (node: number, event: BfdEvent) => {
    const out = bfdTransition(nodes[node]!, event, { now: now / 1000, random });
    nodes[node] = out.session;
    for (const a of out.actions) {
      if (a.type === 'send') {
        sentAt[node]!.push(now);
        if (linkUp[node]) push(now + 1000, 1 - node, { type: 'packetReceived', packet: a.packet });
      } else if (a.type === 'startTimer') {
        const key = `${node}:${a.timer}`;
        armed.set(key, push(now + a.durationUs, node, { type: `${a.timer}TimerExpired` }, key));
      } else if (a.type === 'stopTimer') armed.delete(`${node}:${a.timer}`);
      else if (a.type === 'stateChange')
        log.push({ at: now, node: node === 0 ? 'A' : 'B', from: a.from, to: a.to, diag: a.diag });
    }
  };
  return {
    nodes,
    linkUp,
    log,
    sentAt,
    get now() {
      return now;
    },
    apply,
    /** Runs events up to `until` (µs). */
    run(until: number) {
      for (;;) {
        queue.sort((x, y) => x.at - y.at || x.seq - y.seq);
        const next = queue[0];
        if (next === undefined || next.at > until) break;
        queue.shift();
        if (next.timer !== undefined && armed.get(next.timer) !== next.seq) continue; // restarted or stopped
        if (next.timer !== undefined) armed.delete(next.timer);
        now = next.at;
        apply(next.node, next.event);
      }
      now = until;
    },
  };
}

t.test('two sessions reach Up, stay Up, and recover after one stops sending', async (t) => {
  const n = network(config(), config(), 42);
  n.apply(0, { type: 'start' });
  n.apply(1, { type: 'start' });
  n.run(3_000_000);
  t.equal(n.nodes[0]!.sessionState, 'Up');
  t.equal(n.nodes[1]!.sessionState, 'Up');
  // Both send Down at 0; each sees the other's Down 1 ms later (Init), then the other's Init (Up).
  t.strictSame(n.log, [
    { at: 1000, node: 'B', from: 'Down', to: 'Init', diag: 0 },
    { at: 1000, node: 'A', from: 'Down', to: 'Init', diag: 0 },
    { at: 2000, node: 'A', from: 'Init', to: 'Up', diag: 0 },
    { at: 2000, node: 'B', from: 'Init', to: 'Up', diag: 0 },
  ]);
  t.notOk(n.nodes[0]!.pollActive, 'the Polls of going Up have ended');
  t.notOk(n.nodes[1]!.pollActive);
  t.equal(detectionTime(n.nodes[0]!), 900_000, 'detection 3 x 300 ms');
  t.equal(negotiatedTransmitInterval(n.nodes[1]!), 300_000);

  // A minute of steady state: no flap, packets every 225-300 ms.
  const from = n.now;
  n.run(from + 60_000_000);
  t.equal(n.log.length, 4, 'no state change in a minute');
  const gaps = n.sentAt[0]!.filter((x) => x > from)
    .map((x, i, all) => (i === 0 ? 0 : x - all[i - 1]!))
    .slice(1);
  t.ok(gaps.length > 200 && gaps.length < 270, `${gaps.length} packets in 60 s`);
  t.ok(
    Math.min(...gaps) >= 225_000 && Math.max(...gaps) <= 300_000,
    `gaps ${Math.min(...gaps)}-${Math.max(...gaps)} µs`,
  );

  // A stops reaching B: B declares Down (diag 1) within a detection time of A's last packet arriving.
  const cut = n.now;
  n.linkUp[0] = false;
  const lastArrival = Math.max(...n.sentAt[0]!.filter((x) => x <= cut)) + 1000;
  n.run(cut + 2_000_000);
  const bDown = n.log.find((e) => e.node === 'B' && e.to === 'Down');
  t.ok(bDown !== undefined, 'B went Down');
  t.equal(bDown?.diag, 1, 'Control Detection Time Expired');
  t.equal(bDown!.at - lastArrival, 900_000, 'exactly one detection time after the last packet');
  const aDown = n.log.find((e) => e.node === 'A' && e.to === 'Down');
  t.equal(aDown?.diag, 3, 'A hears B Down: Neighbor Signaled Session Down');
  t.equal(aDown!.at, bDown!.at + 1000, 'at once, one link latency later');

  // The link heals: both back Up within a few slow (1 s) intervals.
  n.linkUp[0] = true;
  const healed = n.now;
  n.run(healed + 5_000_000);
  t.equal(n.nodes[0]!.sessionState, 'Up');
  t.equal(n.nodes[1]!.sessionState, 'Up');
  const backUp = n.log.filter((e) => e.to === 'Up' && e.at > healed);
  t.ok(backUp.length === 2 && backUp.every((e) => e.at - healed <= 2_100_000), `back Up: ${JSON.stringify(backUp)}`);
});

t.test('an active and a passive session reach Up; the passive one never speaks first', async (t) => {
  const n = network(config({ passive: true }), config(), 3);
  n.apply(0, { type: 'start' });
  n.run(5_000_000);
  t.equal(n.sentAt[0]!.length, 0, 'passive A alone sends nothing');
  n.apply(1, { type: 'start' });
  n.run(n.now + 3_000_000);
  t.equal(n.nodes[0]!.sessionState, 'Up');
  t.equal(n.nodes[1]!.sessionState, 'Up');
  // B goes away for good: A goes Down, forgets B and falls silent.
  n.linkUp[1] = false;
  n.apply(1, { type: 'stop' });
  const gone = n.now;
  n.run(gone + 10_000_000);
  t.equal(n.nodes[0]!.sessionState, 'Down');
  t.equal(n.nodes[0]!.remoteDiscr, 0);
  const aDown = n.log.find((e) => e.node === 'A' && e.to === 'Down');
  t.equal(aDown?.diag, 1);
  t.ok(aDown!.at - gone <= 900_000, `A Down ${aDown!.at - gone} µs after B's last packet`);
  t.strictSame(
    n.sentAt[0]!.filter((x) => x >= aDown!.at),
    [],
    'B forgotten: a passive session sends nothing more, not even its Down',
  );
});
