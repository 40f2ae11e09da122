// The runner on event loops whose timers run on a whole-millisecond clock, as Node's do (libuv mode of
// runner-helpers.ts): the detection timer still expires at its deadline to within a few microseconds,
// never before it, and still reads waiting packets first after a stall. And a peer that polls at line
// rate gets one Final per Desired Min TX Interval (RFC 5880 6.8.7), not one per Poll.
import t from 'tap';
import { BFD_DIAG, type BfdControlPacket } from '../src/types.js';
import { encodeControlPacket } from '../src/packet.js';
import {
  connect,
  deliver,
  seeded,
  testRunner,
  VirtualWorld,
  type TestRunner,
  type VirtualLoop,
} from './runner-helpers.js';
import { controlPacket } from './helpers.js';

const TEN = { name: 'ten', transmitInterval: 10, receiveInterval: 10, detectMultiplier: 3 };
const LIBUV = { libuv: { iterationMs: 0.01 } };

/**
 * Other I/O on the loop (other sessions' packets, the main thread's messages) at random moments, every
 * 1-4 ms: each wakes the loop at another fraction of a millisecond, and the timers that follow run at
 * that fraction, whatever the one they were armed at.
 */
function otherIo(loop: VirtualLoop, seed: number, until: number): void {
  const random = seeded(seed);
  const next = (at: number): void => loop.arrive(at, () => (at < until ? next(at + 1 + 3 * random()) : undefined));
  next(loop.now() + random());
}

function libuvPair(world: VirtualWorld, latencyMs: number, seed = 1): { a: TestRunner; b: TestRunner } {
  const a = testRunner(world.loop(11, LIBUV), { localDiscr: 0x1001, profile: TEN });
  const b = testRunner(world.loop(12, LIBUV), { localDiscr: 0x2002, profile: TEN });
  otherIo(a.loop, seed, 5000);
  otherIo(b.loop, seed + 1, 5000);
  a.link.latencyMs = latencyMs;
  b.link.latencyMs = latencyMs;
  connect(a, b);
  a.runner.start();
  b.runner.start();
  world.runUntilTrue(
    () =>
      [a, b].every(
        (r) => r.runner.state === 'Up' && r.runner.status().detectionTimeMs === 30 && !r.runner.status().pollActive,
      ),
    10_000,
    'both Up at 10 ms x 3',
  );
  return { a, b };
}

t.test(
  'on a millisecond timer clock, Down comes at the detection time after the last packet, not up to a millisecond off',
  async (t) => {
    const latenesses: number[] = [];
    // Links of different latencies and cuts at different moments put the packets at every fraction of a millisecond.
    for (let round = 0; round < 8; round++) {
      const world = new VirtualWorld();
      const { a, b } = libuvPair(world, 0.05 + round * 0.113, round * 2);
      world.run(500 + round * 3.7);
      a.link.up = false;
      b.link.up = false;
      world.runUntilTrue(() => a.runner.state === 'Down' && b.runner.state === 'Down', 200, 'both Down');
      for (const r of [a, b]) {
        const down = r.changes.at(-1)!;
        t.equal(down.diag, BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
        latenesses.push(down.at - (r.receivedAt.at(-1)! + 30));
        t.equal(
          r.runner.status().counters.maxDetectionLatenessMs,
          down.at - (r.receivedAt.at(-1)! + 30),
          'the runner measured the same lateness',
        );
      }
    }
    const text = latenesses.map((l) => l.toFixed(3)).join(', ');
    t.ok(
      latenesses.every((l) => l >= 0),
      `never before the deadline: ${text} ms`,
    );
    t.ok(
      latenesses.every((l) => l < 0.05),
      `at most a few loop iterations after it: ${text} ms`,
    );
  },
);

t.test(
  'on a millisecond timer clock, a stall still reads the waiting packets before the timer is acted on',
  async (t) => {
    const world = new VirtualWorld();
    const { a, b } = libuvPair(world, 0.2);
    world.run(300);
    const rescuedBefore = a.runner.status().counters.detectionsRescued;
    a.loop.stall(80); // 2.7 detection times: a's timer is overdue when the stall ends, b's packets wait unread
    world.run(200);
    t.equal(a.runner.state, 'Up', 'a stayed Up');
    t.equal(b.runner.state, 'Up');
    t.equal(a.runner.status().counters.detectionTimeouts, 0);
    t.equal(
      a.runner.status().counters.detectionsRescued,
      rescuedBefore + 1,
      'the expiry was rescued by a waiting packet',
    );
  },
);

t.test('a peer polling at line rate gets one Final per 10 ms, and the session stays Up', async (t) => {
  const world = new VirtualWorld();
  const { a, b } = libuvPair(world, 0.1);
  world.run(200);
  b.link.up = false; // b's own packets stop: the flood below is all a hears
  const poll: BfdControlPacket = controlPacket({
    state: 'Up',
    poll: true,
    myDiscriminator: 0x2002,
    yourDiscriminator: 0x1001,
    desiredMinTxInterval: 10_000,
    requiredMinRxInterval: 10_000,
  });
  const bytes = encodeControlPacket(poll);
  const sentBefore = a.sent.length;
  const end = world.now + 1000;
  let polls = 0;
  // One Poll every 100 µs, each arrival scheduling the next.
  const arrive = (at: number): void =>
    a.loop.arrive(at, () => {
      polls++;
      deliver(a, bytes, 255);
      if (at + 0.1 < end) arrive(at + 0.1);
    });
  arrive(world.now);
  world.run(1000);
  const sent = a.sent.slice(sentBefore);
  const finals = sent.filter((p) => (p[1]! & 0x10) !== 0).length;
  t.equal(a.runner.state, 'Up', 'the Polls kept a Up');
  t.ok(polls > 9900, `${polls} Polls`);
  t.ok(finals >= 95 && finals <= 101, `${finals} Finals for ${polls} Polls in 1 s (one per 10 ms at most)`);
  t.ok(
    sent.length - finals <= 134,
    `${sent.length - finals} periodic packets besides (every 7.5-10 ms): the flood does not speed them up`,
  );
  t.equal(a.outcomes.filter((o) => !o.accepted).length, 0, 'every Poll was accepted');
});
