// The clock and timers the I/O edge uses, injected so that tests can run timers in virtual time.
// `systemClock` is the real one; `manualClock()` only moves when told to (tests).

/** An opaque handle of a running timer. */
export type TimerHandle = { readonly id: number } | ReturnType<typeof setTimeout>;

/** Milliseconds now, and one-shot timers. */
export interface Clock {
  /** Milliseconds since some fixed origin (Date.now() for the system clock). */
  now(): number;
  /** Calls fn once after ms milliseconds. */
  setTimer(ms: number, fn: () => void): TimerHandle;
  /** Cancels a timer; cancelling one that has fired or was cancelled is a no-op. */
  clearTimer(handle: TimerHandle): void;
}

/** The real clock: Date.now() and Node timers (unref'd, so a pending timer never keeps the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimer(ms, fn) {
    const t = setTimeout(fn, ms);
    t.unref();
    return t;
  },
  clearTimer(handle) {
    clearTimeout(handle as ReturnType<typeof setTimeout>);
  },
};

/** A clock that moves only through advance(): timers due by then fire in order of their due time. */
export interface ManualClock extends Clock {
  /** Moves time forward by ms, firing every timer that falls due (including ones set by those timers). */
  advance(ms: number): void;
  /** How many timers are pending. */
  pending(): number;
}

/** A manual clock starting at `start` ms (default 0). */
export function manualClock(start = 0): ManualClock {
  let now = start;
  let nextId = 1;
  const timers = new Map<number, { due: number; fn: () => void }>();
  const due = (): [number, { due: number; fn: () => void }] | undefined => {
    let best: [number, { due: number; fn: () => void }] | undefined;
    for (const entry of timers) if (best === undefined || entry[1].due < best[1].due) best = entry;
    return best;
  };
  return {
    now: () => now,
    setTimer(ms, fn) {
      const id = nextId++;
      timers.set(id, { due: now + Math.max(0, ms), fn });
      return { id };
    },
    clearTimer(handle) {
      if (typeof handle === 'object' && handle !== null && 'id' in handle && typeof handle.id === 'number')
        timers.delete(handle.id);
    },
    advance(ms) {
      const end = now + ms;
      for (let next = due(); next !== undefined && next[1].due <= end; next = due()) {
        timers.delete(next[0]);
        now = next[1].due;
        next[1].fn();
      }
      now = end;
    },
    pending: () => timers.size,
  };
}
