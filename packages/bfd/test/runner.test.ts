// BfdSessionRunner in virtual time (runner-helpers.ts): two sessions on a simulated link come up, go
// down on a cut link after exactly the detection time, keep the TTL rules of RFC 5881/5883, answer
// AdminDown with diag 3, stop cleanly, count late transmissions, and survive a stall of their own
// thread because pending packets are read before an expired detection timer is acted on.
import t from 'tap';
import { BFD_DIAG } from '../src/types.js';
import { encodeControlPacket } from '../src/packet.js';
import type { BfdControlPacket } from '../src/types.js';
import { connect, deliver, testRunner, VirtualWorld, type TestRunner } from './runner-helpers.js';

function upPair(
  world: VirtualWorld,
  a: Parameters<typeof testRunner>[1],
  b: Parameters<typeof testRunner>[1],
  naiveB = false,
): { a: TestRunner; b: TestRunner } {
  const ra = testRunner(world.loop(1), a);
  const rb = testRunner(world.loop(2, { naive: naiveB }), b);
  connect(ra, rb);
  ra.runner.start();
  rb.runner.start();
  world.runUntilTrue(() => ra.runner.state === 'Up' && rb.runner.state === 'Up', 5000, 'both Up');
  return { a: ra, b: rb };
}

/** Runs until the fast intervals (after the Poll Sequences that follow Up) are in force on both sides. */
function settle(world: VirtualWorld, a: TestRunner, b: TestRunner, aDetectMs: number, bDetectMs: number): void {
  world.runUntilTrue(
    () =>
      a.runner.status().detectionTimeMs === aDetectMs &&
      b.runner.status().detectionTimeMs === bDetectMs &&
      !a.runner.status().pollActive &&
      !b.runner.status().pollActive,
    5000,
    'negotiated intervals',
  );
}

t.test('two runners come Up in a few ms and negotiate 50 ms x 3', async (t) => {
  const world = new VirtualWorld();
  const { a, b } = upPair(world, { localDiscr: 0x11 }, { localDiscr: 0x22 });
  t.ok(world.now < 5, `Up after ${world.now} ms: every state change is sent at once`);
  t.same(
    a.changes.map((c) => `${c.from}>${c.to}`),
    ['Down>Init', 'Init>Up'],
  );
  t.same(
    b.changes.map((c) => `${c.from}>${c.to}`),
    ['Down>Init', 'Init>Up'],
  );
  settle(world, a, b, 150, 150);
  const s = a.runner.status();
  t.match(s, {
    state: 'Up',
    remoteState: 'Up',
    localDiscr: 0x11,
    remoteDiscr: 0x22,
    transmitIntervalMs: 50,
    receiveIntervalMs: 50,
    detectionTimeMs: 150,
    detectMult: 3,
    remoteDetectMult: 3,
  });
  const before = a.sent.length;
  world.run(10_000);
  const perSecond = (a.sent.length - before) / 10;
  t.ok(perSecond > 20 && perSecond <= 27, `${perSecond} packets/s: every 37.5-50 ms (RFC 5880 6.8.7 jitter)`);
  t.equal(a.changes.length, 2, 'no flap in 10 s');
  t.equal(a.runner.status().counters.dropped.ttl, 0);
});

t.test('a cut link: Down with diag 1 exactly one detection time after the last packet, on both sides', async (t) => {
  const world = new VirtualWorld();
  const { a, b } = upPair(world, { localDiscr: 1 }, { localDiscr: 2 });
  settle(world, a, b, 150, 150);
  world.run(1000);
  const countBefore = a.outcomes.length;
  a.link.up = false;
  b.link.up = false;
  const cutAt = world.now;
  world.runUntilTrue(() => a.runner.state === 'Down' && b.runner.state === 'Down', 1000, 'both Down');
  const downA = a.changes.at(-1)!;
  const downB = b.changes.at(-1)!;
  t.match(downA, { from: 'Up', to: 'Down', diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED });
  t.match(downB, { from: 'Up', to: 'Down', diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED });
  for (const [name, d] of [
    ['a', downA.at - cutAt],
    ['b', downB.at - cutAt],
  ] as const) {
    t.ok(
      d > 150 - 50 && d <= 150 + 1,
      `${name} Down ${d.toFixed(1)} ms after the cut: 150 ms after its last packet, at most one interval before the cut`,
    );
  }
  t.equal(a.outcomes.length, countBefore, 'nothing arrived after the cut');
  t.equal(a.runner.status().counters.detectionTimeouts, 1);
  t.equal(a.runner.status().remoteDiscr, 0, 'the peer is forgotten (RFC 5880 6.8.1)');
  a.link.up = true;
  b.link.up = true;
  world.runUntilTrue(() => a.runner.state === 'Up' && b.runner.state === 'Up', 3000, 'Up again');
  t.ok(world.now - cutAt < 2500, 'back Up within the 1 s slow rate of a Down session');
});

t.test('single hop: TTL 255 only (RFC 5881 5); multihop: the minimum TTL (RFC 5883 5)', async (t) => {
  const world = new VirtualWorld();
  const single = testRunner(world.loop(3), { localDiscr: 7 });
  single.runner.start();
  const down: BfdControlPacket = {
    version: 1,
    diag: 0,
    state: 'Down',
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 99,
    yourDiscriminator: 0,
    desiredMinTxInterval: 1_000_000,
    requiredMinRxInterval: 50_000,
    requiredMinEchoRxInterval: 0,
  };
  const bytes = encodeControlPacket(down);
  t.match(deliver(single, bytes, 254), { accepted: false, reason: 'ttl', detail: /TTL 254 is not 255/ });
  t.match(deliver(single, bytes, undefined), { accepted: false, reason: 'ttl' }, 'an unknown TTL is not 255 either');
  t.equal(single.runner.state, 'Down', 'nothing taken from the dropped packets');
  t.same(deliver(single, bytes, 255), { accepted: true });
  t.equal(single.runner.state, 'Init');
  t.match(single.runner.status().counters, { packetsIn: 3, dropped: { ttl: 2, auth: 0, rejected: 0 } });

  const multi = testRunner(world.loop(4), { localDiscr: 8, multihop: true, profile: { name: 'mh', minimumTtl: 250 } });
  multi.runner.start();
  t.match(deliver(multi, bytes, 249), { accepted: false, reason: 'ttl', detail: /TTL 249 below the minimum 250/ });
  t.same(deliver(multi, bytes, 250), { accepted: true });
  multi.runner.setMinimumTtl(254);
  t.match(deliver(multi, bytes, 253), { accepted: false, reason: 'ttl' }, 'a raised minimum applies at once');

  const unchecked = testRunner(world.loop(5), { localDiscr: 9, ttlCheck: false });
  unchecked.runner.start();
  t.same(deliver(unchecked, bytes, undefined), { accepted: true }, 'without a TTL-reporting socket nothing is checked');
  t.same(deliver(unchecked, bytes, 1), { accepted: true });
});

t.test('packets for another discriminator are rejected by the state machine and counted', async (t) => {
  const world = new VirtualWorld();
  const r = testRunner(world.loop(6), { localDiscr: 5 });
  r.runner.start();
  const bytes = encodeControlPacket({
    version: 1,
    diag: 0,
    state: 'Init',
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 99,
    yourDiscriminator: 6,
    desiredMinTxInterval: 1_000_000,
    requiredMinRxInterval: 50_000,
    requiredMinEchoRxInterval: 0,
  });
  t.match(deliver(r, bytes, 255), {
    accepted: false,
    reason: 'rejected',
    detail: /Your Discriminator 6 is not ours \(5\)/,
  });
  t.equal(r.runner.status().counters.dropped.rejected, 1);
  t.equal(r.runner.status().remoteDiscr, 0);
});

t.test('AdminDown: the peer goes Down with diag 3 and sees our diag 7; stop() sends nothing more', async (t) => {
  const world = new VirtualWorld();
  const { a, b } = upPair(world, { localDiscr: 1 }, { localDiscr: 2 });
  a.runner.adminDown();
  world.runUntilTrue(() => b.runner.state === 'Down', 100, 'b Down');
  t.match(a.changes.at(-1), { from: 'Up', to: 'AdminDown', diag: BFD_DIAG.ADMINISTRATIVELY_DOWN });
  t.match(b.changes.at(-1), {
    from: 'Up',
    to: 'Down',
    diag: BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN,
    remoteDiag: BFD_DIAG.ADMINISTRATIVELY_DOWN,
  });
  t.ok(world.now < 1, 'at once, not after a timer');
  a.runner.adminUp();
  world.runUntilTrue(() => a.runner.state === 'Up' && b.runner.state === 'Up', 3000, 'Up again');
  a.runner.stop();
  t.equal(a.loop.pendingTimers, 0, 'no timer left after stop');
  const sent = a.sent.length;
  world.run(5000);
  t.equal(a.sent.length, sent, 'nothing sent after stop');
  t.match(
    b.changes.at(-1),
    { to: 'Down', diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED },
    'the peer of a stopped session times out',
  );
  t.match(deliver(a, b.sent.at(-1)!, 255), { accepted: false, reason: 'rejected', detail: 'session stopped' });
});

t.test('parameter changes run a Poll Sequence; the peer applies the slower rate after the Final', async (t) => {
  const world = new VirtualWorld();
  const { a, b } = upPair(world, { localDiscr: 1 }, { localDiscr: 2 });
  settle(world, a, b, 150, 150);
  a.runner.changeParameters({ desiredMinTxInterval: 200_000 });
  t.equal(a.runner.status().pollActive, true);
  settle(world, a, b, 150, 600);
  t.match(b.runner.status(), { receiveIntervalMs: 200, detectionTimeMs: 600 });
  t.match(a.runner.status(), { transmitIntervalMs: 200, desiredMinTxIntervalMs: 200 });
  t.equal(a.changes.length, 2, 'no state change');
});

t.test('a stall of our own thread: pending packets are read before the detection timer is acted on', async (t) => {
  // a (the peer) sends every 20 ms and is patient (detection 900 ms); b needs a packet every 60 ms.
  const fast = { name: 'fast', transmitInterval: 20, receiveInterval: 300, detectMultiplier: 3 };
  const slow = { name: 'slow', transmitInterval: 300, receiveInterval: 20, detectMultiplier: 3 };
  for (const naive of [false, true]) {
    const world = new VirtualWorld();
    const { a, b } = upPair(world, { localDiscr: 1, profile: fast }, { localDiscr: 2, profile: slow }, naive);
    settle(world, a, b, 900, 60);
    world.run(500);
    const changes = b.changes.length;
    b.loop.stall(150); // 2.5 x b's detection time
    world.run(400);
    const c = b.runner.status().counters;
    if (!naive) {
      t.equal(b.changes.length, changes, 'b stayed Up through a 150 ms stall of its thread');
      t.equal(c.detectionsRescued, 1, 'the expired detection timer was cancelled by a packet that was waiting');
      t.equal(c.detectionTimeouts, 0);
      t.equal(b.runner.state, 'Up');
    } else {
      t.match(
        b.changes.at(changes),
        { from: 'Up', to: 'Down', diag: BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED },
        'control: acting on the timer at once takes b Down',
      );
      t.equal(c.detectionsRescued, 0);
    }
  }
});

t.test('late transmissions are counted against the slack, with the worst lateness', async (t) => {
  const world = new VirtualWorld();
  const { a, b } = upPair(world, { localDiscr: 1, lateTransmissionSlackMs: 5 }, { localDiscr: 2 });
  settle(world, a, b, 150, 150);
  world.run(2000);
  t.equal(a.runner.status().counters.lateTransmissions, 0, 'none late in virtual time');
  t.equal(a.runner.status().counters.maxTransmitLatenessMs, 0);
  a.loop.stall(60); // longer than the 50 ms interval: one transmission falls due inside, at least 10 ms before its end
  world.run(200);
  const c = a.runner.status().counters;
  t.equal(c.lateTransmissions, 1, 'the one transmission due during a 60 ms stall');
  t.ok(
    c.maxTransmitLatenessMs >= 10 && c.maxTransmitLatenessMs <= 60,
    `it went out ${c.maxTransmitLatenessMs} ms late`,
  );
});
