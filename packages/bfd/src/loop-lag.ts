// How late the BFD worker's event loop runs a timer: a stall of the worker is what can make a
// session miss its transmissions or act late on a detection timeout, so the engine reports it. The
// timer runs only while there is something to be late for (the engine has sessions), and at a rate
// tied to the fastest session's detection time: a fixed 5 ms timer kept an idle daemon's worker at
// about 1 % of a core. Every stall of a fifth of the detection time or more shows in full (one that
// endangers a session is longer: it must outlast a transmit interval); shorter ones show in part.
// Each wake-up of the worker costs ~0.1 ms of CPU on the reference VM, so the rate matters: at 300 ms
// x 3 a tenth (90 ms) cost as much as one session's packets and timers, a fifth (180 ms) half that.
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';

/** Sampling interval bounds, in ms: never finer than 5 ms, never coarser than 200 ms. */
export const LOOP_LAG_MIN_INTERVAL_MS = 5;
export const LOOP_LAG_MAX_INTERVAL_MS = 200;

/** The sampling interval for sessions whose shortest detection time is `detectionMs`: a fifth of it (undefined: no session, no sampling). */
export function loopLagInterval(detectionMs: number | undefined): number | undefined {
  if (detectionMs === undefined) return undefined;
  return Math.min(LOOP_LAG_MAX_INTERVAL_MS, Math.max(LOOP_LAG_MIN_INTERVAL_MS, Math.floor(detectionMs / 5)));
}

/** A timer that records, each time it fires, how late it fired (µs, at least 1) into `histogram`. */
export class LoopLagSampler {
  /** Lateness of every sample in µs, since the sampler was made (whatever the intervals were). */
  readonly histogram: RecordableHistogram = createHistogram();
  #intervalMs: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #due = 0;

  /** The current interval in ms; undefined while not sampling. */
  get intervalMs(): number | undefined {
    return this.#intervalMs;
  }

  /** Samples every `ms` from now on; undefined stops sampling (the histogram keeps what it has). */
  setInterval(ms: number | undefined): void {
    if (ms === this.#intervalMs) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#intervalMs = ms;
    if (ms === undefined) return;
    this.#due = performance.now() + ms;
    this.#timer = setTimeout(this.#tick, ms);
    this.#timer.unref(); // never what keeps the worker alive
  }

  #tick = (): void => {
    const now = performance.now();
    this.histogram.record(Math.max(1, Math.round((now - this.#due) * 1000)));
    this.#due = now + (this.#intervalMs ?? 0);
    this.#timer?.refresh();
  };
}
