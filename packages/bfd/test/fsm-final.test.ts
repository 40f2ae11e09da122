// The rate limit on Finals (RFC 5880 6.8.7): a Poll is answered at once unless a Final went out less
// than bfd.DesiredMinTxInterval ago; then one Final follows when that has passed, whatever the number
// of Polls in between. A peer polling at line rate cannot make us send at line rate.
import t from 'tap';
import {
  bfdTransition,
  createBfdSession,
  finalInterval,
  type BfdAction,
  type BfdEvent,
  type BfdSession,
} from '../src/fsm.js';
import type { BfdControlPacket } from '../src/types.js';
import { controlPacket } from './helpers.js';

const OURS = 0x0a0a0a0a;
const PEER = 0x0b0b0b0b;

/** A session Up at 50 ms x 3 with its Poll Sequence over; `now` is the virtual time (ms). */
function upSession(): {
  s: BfdSession;
  now: number;
  ev(event: BfdEvent): BfdAction[];
  rx(o?: Partial<BfdControlPacket>): BfdAction[];
} {
  const d = {
    s: createBfdSession(
      { desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000, detectMult: 3, passive: false },
      OURS,
    ),
    now: 0,
    ev(event: BfdEvent): BfdAction[] {
      const out = bfdTransition(d.s, event, { now: d.now, random: () => 0.5 });
      d.s = out.session;
      return out.actions;
    },
    rx(o: Partial<BfdControlPacket> = {}): BfdAction[] {
      const up = {
        state: 'Up' as const,
        yourDiscriminator: OURS,
        desiredMinTxInterval: 50_000,
        requiredMinRxInterval: 50_000,
      };
      return d.ev({ type: 'packetReceived', packet: controlPacket({ myDiscriminator: PEER, ...up, ...o }) });
    },
  };
  d.ev({ type: 'start' });
  d.rx({ state: 'Down', yourDiscriminator: 0 });
  d.rx({ state: 'Init' });
  d.rx({ final: true }); // ends the Poll that going Up started
  if (d.s.sessionState !== 'Up' || d.s.pollActive) throw new Error('session not settled Up');
  d.now = 1000;
  return d;
}

const finals = (actions: BfdAction[]): BfdControlPacket[] =>
  actions.flatMap((a) => (a.type === 'send' && a.packet.final ? [a.packet] : []));
const finalTimer = (actions: BfdAction[]) => actions.find((a) => a.type === 'startTimer' && a.timer === 'final');

t.test('a flood of Polls gets one Final per Desired Min TX Interval, not one per Poll', async (t) => {
  const d = upSession();
  t.equal(finalInterval(d.s), 50_000, 'the limit is our advertised Desired Min TX Interval (50 ms)');
  const start = d.now;
  let answered = 0;
  let pendingFinalDue: number | undefined;
  // 10,000 Polls in 100 ms (one every 10 µs), with the 'final' timer fired when it is due.
  for (let i = 0; i < 10_000; i++) {
    d.now = start + i * 0.01;
    if (pendingFinalDue !== undefined && d.now >= pendingFinalDue) {
      const fired = d.ev({ type: 'finalTimerExpired' });
      answered += finals(fired).length;
      pendingFinalDue = undefined;
    }
    const actions = d.rx({ poll: true });
    answered += finals(actions).length;
    const timer = finalTimer(actions);
    if (timer?.type === 'startTimer') {
      t.equal(pendingFinalDue, undefined, 'one Final timer at a time');
      pendingFinalDue = d.now + timer.durationUs / 1000;
    }
  }
  t.ok(
    answered >= 2 && answered <= 3,
    `${answered} Finals for 10,000 Polls in 100 ms (one at once, then one per 50 ms)`,
  );
  t.not(pendingFinalDue, undefined, 'the last Polls still have their Final coming');
  d.now = pendingFinalDue!;
  const last = finals(d.ev({ type: 'finalTimerExpired' }));
  t.equal(last.length, 1, 'it goes out when the timer expires');
  t.match(last[0], { final: true, poll: false, state: 'Up' });
  t.strictSame(
    finals(d.ev({ type: 'finalTimerExpired' })),
    [],
    'a stray expiry sends nothing: one Final per Poll at most',
  );
});

t.test(
  'Polls further apart than the limit are each answered at once; the limit follows our Desired Min TX',
  async (t) => {
    const d = upSession();
    for (let i = 0; i < 5; i++) {
      d.now += 50;
      const actions = d.rx({ poll: true });
      t.equal(finals(actions).length, 1, `Poll ${i + 1}, 50 ms after the last Final: answered at once`);
      t.equal(finalTimer(actions), undefined);
    }
    d.now += 20;
    const held = d.rx({ poll: true });
    t.strictSame(finals(held), [], '20 ms after a Final: held back');
    t.strictSame(
      finalTimer(held),
      { type: 'startTimer', timer: 'final', durationUs: 30_000 },
      'until 50 ms have passed',
    );
    t.ok(d.s.finalPending);
    t.strictSame(finals(d.rx({ poll: true })), [], 'a second Poll meanwhile adds nothing');
    // A faster Desired Min TX shortens the limit: the next Poll finds it passed and is answered at once.
    d.ev({ type: 'parametersChanged', desiredMinTxInterval: 10_000 });
    d.now += 1;
    const now = d.rx({ poll: true });
    t.equal(finals(now).length, 1, '21 ms after the last Final, with a 10 ms limit');
    t.strictSame(
      now[now.length - 2],
      { type: 'stopTimer', timer: 'final' },
      'the held-back Final is this one: its timer stops',
    );
    t.notOk(d.s.finalPending);
  },
);

t.test('while not Up the limit is the slow 1 s; stop ends a held-back Final', async (t) => {
  const d = {
    s: createBfdSession(
      { desiredMinTxInterval: 50_000, requiredMinRxInterval: 50_000, detectMult: 3, passive: false },
      OURS,
    ),
    now: 0,
  };
  const ev = (event: BfdEvent): BfdAction[] => {
    const out = bfdTransition(d.s, event, { now: d.now, random: () => 0.5 });
    d.s = out.session;
    return out.actions;
  };
  const poll: BfdEvent = { type: 'packetReceived', packet: controlPacket({ myDiscriminator: PEER, poll: true }) };
  ev({ type: 'start' });
  t.equal(finals(ev(poll)).length, 1, 'the first Poll: a Final at once (Init)');
  d.now = 500;
  const held = ev(poll);
  t.equal(finalInterval(d.s), 1_000_000);
  t.strictSame(finals(held), [], 'half a second later: held back');
  t.strictSame(finalTimer(held), { type: 'startTimer', timer: 'final', durationUs: 500_000 });
  t.strictSame(ev({ type: 'stop' }), [
    { type: 'stopTimer', timer: 'transmit' },
    { type: 'stopTimer', timer: 'detection' },
    { type: 'stopTimer', timer: 'final' },
  ]);
  t.strictSame(ev({ type: 'finalTimerExpired' }), [], 'a stopped session sends nothing');
});

t.test('a state change is still sent at once when the Final that would have carried it is held back', async (t) => {
  const d = upSession();
  t.equal(finals(d.rx({ poll: true })).length, 1);
  d.now += 10;
  const actions = d.rx({ state: 'Down', poll: true });
  t.match(
    actions.find((a) => a.type === 'stateChange'),
    { from: 'Up', to: 'Down', diag: 3 },
  );
  const sent = actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []));
  t.equal(sent.length, 1, 'one packet');
  t.match(sent[0], { state: 'Down', final: false });
  t.ok(finalTimer(actions), 'the Final follows within the limit');
});

t.test('an event that changes nothing returns the session it was given', async (t) => {
  const d = upSession();
  d.ev({ type: 'transmitTimerExpired' });
  d.rx();
  const before = d.s;
  const sent = d.ev({ type: 'transmitTimerExpired' });
  t.equal(d.s, before, 'a periodic transmission: same object');
  t.equal(sent.filter((a) => a.type === 'send').length, 1);
  d.rx();
  t.equal(d.s, before, 'a steady packet from the peer: same object');
  d.rx({ desiredMinTxInterval: 60_000 });
  t.not(d.s, before, 'a new value from the peer: a new session');
  t.equal(before.remoteDesiredMinTxInterval, 50_000, 'the old one untouched');
});
