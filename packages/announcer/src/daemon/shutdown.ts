// Stopping the daemon on SIGTERM/SIGINT without leaving routes half withdrawn:
//  1. the route source stops, so no new announcement starts;
//  2. with graceful restart on and some peer that negotiated it, the Speaker leaves those peers so
//     they keep our routes for our Restart Time (a rolling upgrade: RFC 4724); every other peer gets
//     every route again with GRACEFUL_SHUTDOWN (RFC 8326), a drain of drainMs, then a Cease;
//  3. the daemon's other parts (endpoints, BFD engine) close, and the process exits 0.
// A second signal cuts the drain short, but the Cease still goes to every peer before the exit.
import type { Logger } from 'pino';
import type { Speaker, SpeakerStopOptions } from '@bgp-announce/bgp-speaker';
import type { RouteSource } from './source.js';

/** What a shutdown does, once. */
export interface ShutdownOptions {
  speaker: Speaker;
  source: RouteSource;
  logger: Logger;
  /** RFC 8326 drain before the Cease (ms). */
  drainMs: number;
  /** Leave peers that negotiated graceful restart so they keep our routes. */
  gracefulRestart: boolean;
  /** RFC 9003 shutdown communication sent in the Cease. */
  message?: string;
  /** Longest wait for the source to stop (ms, default 2000): a stuck watch must not hold the Cease back. */
  sourceStopTimeoutMs?: number;
  /** Called as the shutdown starts (the daemon's /readyz fails from then on). */
  onStart?: () => void;
  /** Told how the peers were left, once the Speaker has stopped (the graceful restart record). */
  onLeft?: (mode: 'restart' | 'drain', keptRoutes: readonly string[]) => Promise<void>;
  /** Closes the rest once the Speaker has stopped (endpoints, BFD engine). */
  afterSpeaker?: () => Promise<void>;
}

/** How the shutdown went. */
export interface ShutdownResult {
  /** 'restart': peers that negotiated graceful restart were left keeping our routes. */
  mode: 'restart' | 'drain';
  /** Peers left keeping our routes (restart mode). */
  keptRoutes: string[];
  /** The drain was cut short by a second signal. */
  hurried: boolean;
  /** Things that failed on the way (the shutdown went on). */
  errors: string[];
}

/** The Speaker's stop options: restart mode when asked and some Established peer negotiated graceful restart. */
export function stopPlan(
  speaker: Speaker,
  options: Pick<ShutdownOptions, 'drainMs' | 'gracefulRestart' | 'message'>,
  signal?: AbortSignal,
): { stop: SpeakerStopOptions; keptRoutes: string[] } {
  const keptRoutes = options.gracefulRestart
    ? speaker
        .peers()
        .filter((p) => p.state === 'Established' && p.restartLeave !== 'stop')
        .map((p) => p.id)
    : [];
  const stop: SpeakerStopOptions = {
    gracefulShutdown: signal ? { drainMs: options.drainMs, signal } : { drainMs: options.drainMs },
  };
  if (keptRoutes.length > 0) stop.restart = true;
  if (options.message !== undefined) stop.message = options.message;
  return { stop, keptRoutes };
}

/** Resolves with `promise`'s outcome, or with 'timeout' after `ms`. */
function within<T>(promise: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), ms)));
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** One shutdown: run() starts it (later calls return the same promise); hurry() ends the drain early. */
export class Shutdown {
  private readonly abort = new AbortController();
  private running: Promise<ShutdownResult> | undefined;

  constructor(private readonly options: ShutdownOptions) {}

  /** True once run() was called. */
  get started(): boolean {
    return this.running !== undefined;
  }

  /** Stops everything as the file comment says; never rejects. */
  run(reason: string): Promise<ShutdownResult> {
    this.running ??= this.steps(reason);
    return this.running;
  }

  /** Cuts the drain short; the Cease still follows. */
  hurry(): void {
    this.abort.abort();
  }

  private async steps(reason: string): Promise<ShutdownResult> {
    const o = this.options;
    const errors: string[] = [];
    o.onStart?.();
    o.logger.info({ event: 'shutdown', reason }, `shutting down (${reason}): stopping the route source`);
    const stopped = await within(
      o.source.stop().catch((err: Error) => void errors.push(`source: ${err.message}`)),
      o.sourceStopTimeoutMs ?? 2000,
    );
    if (stopped === 'timeout') errors.push(`source: did not stop within ${o.sourceStopTimeoutMs ?? 2000} ms; going on`);

    const { stop, keptRoutes } = stopPlan(o.speaker, o, this.abort.signal);
    const mode = stop.restart ? 'restart' : 'drain';
    if (mode === 'restart') {
      o.logger.info(
        { event: 'shutdown', mode, keptRoutes },
        `graceful restart: ${keptRoutes.join(', ')} keep our routes for our restart time; other peers are drained for ${o.drainMs} ms`,
      );
    } else {
      o.logger.info(
        { event: 'shutdown', mode, drainMs: o.drainMs },
        `draining: routes re-sent with GRACEFUL_SHUTDOWN, Cease after ${o.drainMs} ms`,
      );
    }
    try {
      await o.speaker.stop(stop);
    } catch (err) {
      errors.push(`speaker: ${(err as Error).message}`);
    }
    o.logger.info({ event: 'shutdown' }, 'every BGP session is closed');
    if (o.onLeft) await o.onLeft(mode, keptRoutes).catch((err: Error) => void errors.push(`record: ${err.message}`));
    if (o.afterSpeaker) await o.afterSpeaker().catch((err: Error) => void errors.push(`closing: ${err.message}`));
    for (const e of errors) o.logger.warn({ event: 'shutdown' }, e);
    return { mode, keptRoutes, hurried: this.abort.signal.aborted, errors };
  }
}

/**
 * Runs `shutdown` on the first SIGTERM or SIGINT from `signals` and then calls exit(0); a second
 * signal hurries it (drain cut short, Cease still sent); later ones are only logged. Returns a
 * function that removes the handlers.
 */
export function handleSignals(
  signals: NodeJS.EventEmitter,
  shutdown: Pick<Shutdown, 'run' | 'hurry'>,
  logger: Logger,
  exit: (status: number) => void,
): () => void {
  let count = 0;
  const on = (signal: string): void => {
    count++;
    if (count === 1) {
      void shutdown.run(signal).then(() => exit(0));
    } else if (count === 2) {
      logger.warn(
        { event: 'shutdown', signal },
        `${signal} again: cutting the drain short; the Cease still goes to every peer`,
      );
      shutdown.hurry();
    } else {
      logger.warn(
        { event: 'shutdown', signal },
        `${signal}: already sending the Cease, exiting once every session is closed`,
      );
    }
  };
  const onTerm = (): void => on('SIGTERM');
  const onInt = (): void => on('SIGINT');
  signals.on('SIGTERM', onTerm);
  signals.on('SIGINT', onInt);
  return () => {
    signals.off('SIGTERM', onTerm);
    signals.off('SIGINT', onInt);
  };
}
