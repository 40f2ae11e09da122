// The detection timer on a hand-driven clock: a restart only moves the deadline (one clock timer per
// detection time, not one per packet), the clock timer is armed `timerGranularityMs` early and the rest
// is waited out after pending I/O, expiry is decided only in a check queued at or after the deadline,
// and a packet read by that check's poll phase rescues it.
import t from 'tap';
import type { BfdClock } from '../src/clock.js';
import { BfdDetectionTimer } from '../src/detection-timer.js';

/** A clock whose time, timers and pending-I/O callbacks the test moves by hand. */
function handClock(granularity: number) {
  const timers = new Map<number, { at: number; fn: () => void }>();
  let immediates: (() => void)[] = [];
  let next = 1;
  const state = { time: 0, armed: [] as number[] };
  const clock = {
    now: () => state.time,
    setTimer: (ms: number, fn: () => void) => {
      state.armed.push(ms);
      timers.set(next, { at: state.time + ms, fn });
      return next++;
    },
    clearTimer: (h: unknown) => void timers.delete(h as number),
    afterPendingIo: (fn: () => void) => void immediates.push(fn),
    random: () => 0.5,
    timerGranularityMs: granularity,
  } satisfies BfdClock;
  const c = {
    get time(): number {
      return state.time;
    },
    set time(value: number) {
      state.time = value;
    },
    armed: state.armed,
    clock,
    /** Advances to `to`, firing due timers in order at their time (or all at `to`: a stall until then). */
    advance(to: number, stalled = false): void {
      for (;;) {
        const due = [...timers.entries()].filter(([, x]) => x.at <= to).sort((a, b) => a[1].at - b[1].at)[0];
        if (due === undefined) break;
        timers.delete(due[0]);
        c.time = stalled ? to : due[1].at;
        due[1].fn();
      }
      c.time = to;
    },
    /** One check phase: runs the callbacks queued before it. */
    check(): number {
      const run = immediates;
      immediates = [];
      for (const fn of run) fn();
      return run.length;
    },
    get pendingTimers(): number {
      return timers.size;
    },
  };
  return c;
}

t.test('restarts move the deadline without arming a timer each time', async (t) => {
  const c = handClock(1);
  const expired: number[] = [];
  const timer = new BfdDetectionTimer(
    c.clock,
    (l) => expired.push(l),
    () => t.fail('nothing to rescue'),
  );
  timer.start(30);
  t.same(c.armed, [29], 'armed 1 ms early');
  for (let at = 10; at <= 100; at += 10) {
    c.advance(at);
    timer.start(30);
  }
  t.equal(timer.deadline, 130);
  t.ok(c.armed.length <= 5, `${c.armed.length} clock timers for 11 restarts over 100 ms`);
  t.equal(c.pendingTimers, 1);
  t.same(expired, []);
});

t.test('expires in a check queued at the deadline, waiting out the last granule after pending I/O', async (t) => {
  const c = handClock(1);
  const expired: number[] = [];
  const timer = new BfdDetectionTimer(
    c.clock,
    (l) => expired.push(l),
    () => t.fail('nothing to rescue'),
  );
  timer.start(30);
  c.advance(29);
  t.equal(c.pendingTimers, 0, 'the clock timer fired at 29');
  // Now within 2 granules: checks after pending I/O until one is queued at or after 30.
  let checks = 0;
  while (expired.length === 0 && checks < 1000) {
    c.time += 0.25;
    checks += c.check();
  }
  t.same(expired, [0.25], 'acted on one step after the deadline, never before');
  t.equal(checks, 5, 'checks at 29.25 ... 30.25: the one queued at 30 expires when it runs');
  t.equal(timer.deadline, undefined, 'stopped by its expiry');
});

t.test('a check queued after the deadline that finds a packet restarted it counts a rescue', async (t) => {
  const c = handClock(1);
  let rescued = 0;
  const timer = new BfdDetectionTimer(
    c.clock,
    () => t.fail('must not expire'),
    () => rescued++,
  );
  timer.start(30);
  c.advance(80, true); // a stall: the timer fires late, at 80, and queues a check
  timer.start(30); // the poll phase before the check read a packet that waited
  t.equal(c.check(), 1);
  t.equal(rescued, 1);
  t.equal(timer.deadline, 110);
  t.equal(c.pendingTimers, 1, 'armed again for the new deadline');
  timer.stop();
  t.equal(c.pendingTimers, 0);
  c.advance(200);
  t.equal(c.check(), 0, 'stopped: nothing runs');
});

t.test('with an exact clock (granularity 0) it is armed for the deadline itself', async (t) => {
  const c = handClock(0);
  const expired: number[] = [];
  const timer = new BfdDetectionTimer(
    c.clock,
    (l) => expired.push(l),
    () => undefined,
  );
  timer.start(30);
  t.same(c.armed, [30]);
  c.advance(30);
  c.check();
  t.same(expired, [0]);
  // A shorter detection time than the armed timer re-arms at once.
  timer.start(300);
  timer.start(10);
  t.same(c.armed, [30, 300, 10]);
});
