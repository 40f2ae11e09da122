// Time and timers as a BFD session runner sees them (injected, so tests run in virtual time), and the
// clock the engine's worker gives its runners: performance.now, setTimeout and setImmediate.
import { performance } from 'node:perf_hooks';

/** Time and timers for a runner. Milliseconds, monotonic. The engine's worker uses performance.now, setTimeout and setImmediate. */
export interface BfdClock {
  now(): number;
  /** Runs fn once after about `ms` (a fraction allowed); see timerGranularityMs. */
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
  /** Runs fn once the datagrams already waiting on the sockets have been read (setImmediate: libuv's check phase follows its poll phase). */
  afterPendingIo(fn: () => void): void;
  /** In [0, 1), for the transmit jitter. */
  random(): number;
  /**
   * How far (ms) a timer may run before or after its time by the clock's rounding: 1 for Node's
   * timers (libuv counts whole milliseconds), 0 or absent for an exact clock. The detection timer
   * arms this much early and waits out the rest.
   */
  timerGranularityMs?: number;
}

/**
 * Node's clock, for the engine's worker: performance.now (sub-millisecond), setTimeout (libuv counts
 * whole milliseconds: timerGranularityMs 1) and setImmediate (runs after libuv's poll phase has read
 * the sockets).
 */
export function nodeClock(): BfdClock {
  return {
    now: () => performance.now(),
    setTimer: (ms, fn) => setTimeout(fn, ms),
    clearTimer: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
    afterPendingIo: (fn) => void setImmediate(fn),
    random: Math.random,
    timerGranularityMs: 1,
  };
}
