// Awaiting events in tests: a failure rejects after a real-time limit instead of hanging the run.
import type { EventEmitter } from 'node:events';

/**
 * Resolves with the arguments of the first `name` event that satisfies `pred`; rejects after `ms`
 * of real time.
 */
export function next(
  emitter: EventEmitter<any>,
  name: string,
  pred: (...args: any[]) => boolean = () => true,
  ms = 5000,
): Promise<any[]> {
  const e = emitter as unknown as NodeJS.EventEmitter;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      e.off(name, on);
      reject(new Error(`no matching ${name} event within ${ms} ms`));
    }, ms);
    const on = (...args: unknown[]): void => {
      if (!pred(...args)) return;
      clearTimeout(timer);
      e.off(name, on);
      resolve(args);
    };
    e.on(name, on);
  });
}

/** The next `name` event of an emitter with typed events, with its typed arguments. */
export function once<T extends Record<keyof T, any[]>, K extends keyof T & string>(
  emitter: EventEmitter<T>,
  name: K,
  ms = 5000,
): Promise<T[K]> {
  return next(emitter as EventEmitter<any>, name, () => true, ms) as Promise<T[K]>;
}
