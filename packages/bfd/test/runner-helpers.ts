// Virtual time for runner tests: a world of event loops that each behave like libuv's (in every
// iteration: due timers, then I/O that has arrived, then setImmediate callbacks), sharing one clock.
// A loop can be stalled (its thread descheduled): its timers and I/O wait until the stall ends, then
// run in libuv's order, timers first. Links carry encoded packets between runners with a latency.
//
// Timers are exact unless a loop is made with `libuv`: then they run on a whole-millisecond clock as
// Node's do (setTimeout truncates its delay, at least 1 ms; a timer is due once the loop's clock, the
// time floored to the millisecond, reaches start + delay; a sleeping loop wakes for it that many
// whole milliseconds after the millisecond it went to sleep in, so at the same fraction of a
// millisecond), and an iteration that only runs setImmediate callbacks takes `iterationMs`.
import { decodeControlPacket } from '../src/packet.js';
import { BfdSessionRunner, type BfdClock, type BfdRunnerOptions, type BfdStateChange } from '../src/runner.js';
import { sessionConfigFromProfile, bfdProfile, type BfdProfileInput } from '../src/profile.js';
import type { BfdAuthKey } from '../src/types.js';

/** A seeded generator of numbers in [0, 1) (mulberry32), so jitter is the same on every run. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let x = a;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

interface Scheduled {
  at: number;
  seq: number;
  fn: () => void;
}

export class VirtualWorld {
  now = 0;
  seq = 0;
  readonly loops: VirtualLoop[] = [];

  loop(seed: number, options: { naive?: boolean; libuv?: { iterationMs: number } } = {}): VirtualLoop {
    const loop = new VirtualLoop(this, seeded(seed), options.naive === true, options.libuv);
    this.loops.push(loop);
    return loop;
  }

  /** Runs every loop until `until` (absolute ms). */
  runUntil(until: number): void {
    for (;;) {
      let next = Infinity;
      for (const l of this.loops) next = Math.min(next, l.nextEventTime());
      if (next > until) {
        this.now = until;
        return;
      }
      this.now = Math.max(this.now, next);
      for (const l of this.loops) if (l.nextEventTime() <= this.now) l.iterate();
    }
  }

  run(ms: number): void {
    this.runUntil(this.now + ms);
  }

  /** Runs until `ready()` is true, checked after every iteration; throws after `ms`. */
  runUntilTrue(ready: () => boolean, ms: number, what: string): void {
    const deadline = this.now + ms;
    while (!ready()) {
      let next = Infinity;
      for (const l of this.loops) next = Math.min(next, l.nextEventTime());
      if (next > deadline) throw new Error(`virtual time ${deadline} ms reached waiting for ${what}`);
      this.now = Math.max(this.now, next);
      for (const l of this.loops) if (l.nextEventTime() <= this.now) l.iterate();
    }
  }
}

/** One event loop (one thread). As a BfdClock it gives its runners timers and afterPendingIo. */
export class VirtualLoop implements BfdClock {
  readonly #world: VirtualWorld;
  readonly #timers = new Map<number, Scheduled>();
  readonly #io: Scheduled[] = [];
  #immediates: (() => void)[] = [];
  #nextHandle = 1;
  stalledUntil = 0;
  readonly random: () => number;
  /** naive: afterPendingIo runs at once (what a session would do without reading pending packets first). */
  readonly #naive: boolean;
  readonly #libuv: { iterationMs: number } | undefined;
  /** When the loop last finished an iteration (went to sleep). */
  #sleptAt = 0;
  readonly timerGranularityMs: number;

  constructor(world: VirtualWorld, random: () => number, naive: boolean, libuv?: { iterationMs: number }) {
    this.#world = world;
    this.random = random;
    this.#naive = naive;
    this.#libuv = libuv;
    this.timerGranularityMs = libuv === undefined ? 0 : 1;
  }

  now(): number {
    return this.#world.now;
  }

  setTimer(ms: number, fn: () => void): unknown {
    const handle = this.#nextHandle++;
    // libuv: due on the millisecond clock (Node truncates the delay and makes it at least 1 ms).
    const at =
      this.#libuv === undefined ? this.#world.now + ms : Math.floor(this.#world.now) + (ms >= 1 ? Math.trunc(ms) : 1);
    this.#timers.set(handle, { at, seq: this.#world.seq++, fn });
    return handle;
  }

  clearTimer(handle: unknown): void {
    this.#timers.delete(handle as number);
  }

  afterPendingIo(fn: () => void): void {
    if (this.#naive) fn();
    else this.#immediates.push(fn);
  }

  /** An I/O event (a datagram) that becomes readable at `at`. */
  arrive(at: number, fn: () => void): void {
    this.#io.push({ at, seq: this.#world.seq++, fn });
  }

  /** The loop's thread stops running anything for `ms`. */
  stall(ms: number): void {
    this.stalledUntil = this.#world.now + ms;
  }

  get pendingTimers(): number {
    return this.#timers.size;
  }

  nextEventTime(): number {
    let next =
      this.#immediates.length === 0
        ? Infinity
        : this.#libuv === undefined
          ? this.#world.now
          : this.#sleptAt + this.#libuv.iterationMs;
    const phase = this.#sleptAt - Math.floor(this.#sleptAt);
    for (const t of this.#timers.values())
      next = Math.min(next, this.#libuv === undefined ? t.at : Math.max(this.#sleptAt, t.at + phase));
    for (const e of this.#io) next = Math.min(next, e.at);
    return Math.max(next, this.stalledUntil);
  }

  /** One libuv iteration: due timers (in order), then arrived I/O, then immediates queued before the check phase. */
  iterate(): void {
    const now = this.#world.now;
    const clock = this.#libuv === undefined ? now : Math.floor(now);
    const due = [...this.#timers.entries()]
      .filter(([, t]) => t.at <= clock)
      .sort(([, a], [, b]) => a.at - b.at || a.seq - b.seq);
    for (const [handle, t] of due) {
      if (!this.#timers.has(handle)) continue; // cleared by an earlier timer
      this.#timers.delete(handle);
      t.fn();
    }
    const arrived = this.#io.filter((e) => e.at <= now).sort((a, b) => a.at - b.at || a.seq - b.seq);
    for (const e of arrived) {
      this.#io.splice(this.#io.indexOf(e), 1);
      e.fn();
    }
    const immediates = this.#immediates;
    this.#immediates = [];
    for (const fn of immediates) fn();
    this.#sleptAt = now;
  }
}

export interface TestRunner {
  runner: BfdSessionRunner;
  loop: VirtualLoop;
  changes: BfdStateChange[];
  sent: Uint8Array[];
  /** Where sent packets go: the peer's receive, or nothing while the link is cut. */
  link: { to?: TestRunner; latencyMs: number; ttl: number; up: boolean };
  outcomes: ReturnType<BfdSessionRunner['receive']>[];
  /** loop.now() when each packet was handed to the runner. */
  receivedAt: number[];
}

export interface TestRunnerOptions {
  profile?: BfdProfileInput;
  multihop?: boolean;
  ttlCheck?: boolean;
  authKeys?: BfdAuthKey[];
  localDiscr: number;
  initialXmitAuthSeq?: number;
  lateTransmissionSlackMs?: number;
}

/** A runner on `loop` whose packets travel its link (decoded and received by the peer's runner). */
export function testRunner(loop: VirtualLoop, o: TestRunnerOptions): TestRunner {
  const profile = bfdProfile(
    o.profile ?? { name: 'test', transmitInterval: 50, receiveInterval: 50, detectMultiplier: 3 },
  );
  const self: TestRunner = {
    loop,
    changes: [],
    sent: [],
    link: { latencyMs: 0.1, ttl: 255, up: true },
    outcomes: [],
    receivedAt: [],
    runner: undefined as unknown as BfdSessionRunner,
  };
  const options: BfdRunnerOptions = {
    config: sessionConfigFromProfile(profile),
    localDiscr: o.localDiscr,
    multihop: o.multihop ?? false,
    minimumTtl: profile.minimumTtl,
    ttlCheck: o.ttlCheck ?? true,
    ...(o.authKeys === undefined ? {} : { authKeys: o.authKeys }),
    ...(o.initialXmitAuthSeq === undefined ? {} : { initialXmitAuthSeq: o.initialXmitAuthSeq }),
    lateTransmissionSlackMs: o.lateTransmissionSlackMs ?? 5,
    clock: loop,
    send: (sentBytes) => {
      const bytes = sentBytes.slice(); // the runner reuses its buffer for the next packet
      self.sent.push(bytes);
      const { to, latencyMs, ttl, up } = self.link;
      if (to === undefined || !up) return;
      to.loop.arrive(loop.now() + latencyMs, () => deliver(to, bytes, ttl));
    },
    onStateChange: (c) => self.changes.push(c),
  };
  self.runner = new BfdSessionRunner(options);
  return self;
}

/** Hands encoded bytes to a runner as its socket would (decoded first), keeping the outcome. */
export function deliver(
  to: TestRunner,
  bytes: Uint8Array,
  ttl: number | undefined,
): ReturnType<BfdSessionRunner['receive']> {
  const outcome = to.runner.receive(decodeControlPacket(bytes), bytes, ttl);
  to.outcomes.push(outcome);
  to.receivedAt.push(to.loop.now());
  return outcome;
}

/** Joins two runners both ways. */
export function connect(a: TestRunner, b: TestRunner): void {
  a.link.to = b;
  b.link.to = a;
}
