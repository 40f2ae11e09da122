// The detection timer of one session (RFC 5880 6.8.4) at run time. Three things set it apart from a
// plain timer:
// - Every received packet restarts it, so a restart only moves the deadline: the clock timer armed
//   earlier fires, finds the deadline later and re-arms for it (one clock timer per detection time
//   instead of one per packet).
// - It expires at the deadline, not on a millisecond clock's rounding of it: libuv runs timers on a
//   whole-millisecond clock and may run them up to a millisecond early or late, so the clock timer is
//   armed `clock.timerGranularityMs` early and the rest is waited out in afterPendingIo steps.
// - It is acted on only once the packets already waiting on the sockets have been read: libuv runs
//   due timers before it polls for I/O, so after a stall (the thread descheduled, a long garbage
//   collection) the peer's packets may be waiting unread while the timer fires. The expiry is decided
//   in an afterPendingIo callback queued at or after the deadline (setImmediate in the engine: libuv's
//   check phase follows its poll phase); if a packet moved the deadline meanwhile, the expiry was
//   rescued.
import type { BfdClock } from './clock.js';

export class BfdDetectionTimer {
  readonly #clock: BfdClock;
  readonly #granularity: number;
  readonly #onExpired: (latenessMs: number) => void;
  readonly #onRescued: () => void;
  #running = false;
  /** clock.now() by which a packet must arrive, while running (a number always: stored in place). */
  #deadline = 0;
  /** The clock timer, due at #timerDueAt (never after #deadline). */
  #timer: unknown;
  #timerDueAt = 0;
  /** An afterPendingIo check is queued: when, and what the deadline was then. */
  #checkQueued = false;
  #checkQueuedAt = 0;
  #checkDeadline = 0;
  readonly #fired = (): void => this.#onTimer();
  readonly #checked = (): void => this.#onCheck();

  /** `onExpired(latenessMs)`: the deadline passed with no packet (lateness: how long after it this ran). `onRescued`: an expiry cancelled by a packet that had been waiting. */
  constructor(clock: BfdClock, onExpired: (latenessMs: number) => void, onRescued: () => void) {
    this.#clock = clock;
    this.#granularity = clock.timerGranularityMs ?? 0;
    this.#onExpired = onExpired;
    this.#onRescued = onRescued;
  }

  /** The deadline (clock ms), or undefined while stopped. */
  get deadline(): number | undefined {
    return this.#running ? this.#deadline : undefined;
  }

  /** (Re)starts it: it expires `durationMs` after `now` (the clock's time, read unless given) unless started again or stopped. */
  start(durationMs: number, now = this.#clock.now()): void {
    this.#running = true;
    this.#deadline = now + durationMs;
    if (this.#checkQueued) return; // the queued check finds the new deadline
    // A later deadline (the usual restart): the armed timer fires first and re-arms for it.
    if (this.#timer !== undefined && this.#timerDueAt + this.#granularity <= this.#deadline) return;
    this.#arm(now);
  }

  stop(): void {
    this.#running = false;
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
  }

  /** A clock timer for the deadline less the granularity or, when that is near (or past), a check after pending I/O. */
  #arm(now: number): void {
    if (this.#timer !== undefined) this.#clock.clearTimer(this.#timer);
    this.#timer = undefined;
    const remaining = this.#deadline - now;
    if (remaining <= 2 * this.#granularity) {
      this.#checkQueued = true;
      this.#checkQueuedAt = now;
      this.#checkDeadline = this.#deadline;
      this.#clock.afterPendingIo(this.#checked);
      return;
    }
    const ms = remaining - this.#granularity;
    this.#timerDueAt = now + ms;
    this.#timer = this.#clock.setTimer(ms, this.#fired);
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#running) this.#arm(this.#clock.now());
  }

  #onCheck(): void {
    this.#checkQueued = false;
    if (!this.#running) return; // stopped meanwhile
    const deadline = this.#deadline;
    // Queued at or after the deadline it then had, and a packet read since has moved it: rescued.
    if (deadline !== this.#checkDeadline && this.#checkQueuedAt >= this.#checkDeadline) this.#onRescued();
    const now = this.#clock.now();
    if (this.#checkQueuedAt >= deadline) {
      // Queued once the deadline had passed: everything that arrived before it has been read since.
      this.#running = false;
      this.#onExpired(now - deadline);
      return;
    }
    this.#arm(now);
  }
}
