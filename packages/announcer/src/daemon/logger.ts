// The daemon's logs: pino, JSON lines on stdout, one child logger per peer (`peer` field), and the
// Speaker's and the BFD engine's events as log lines. Levels: state changes and sessions that come
// and go are info, a session lost or torn down by BFD and errors are warn, one line per received
// UPDATE is debug.
import pino, { type DestinationStream, type LevelWithSilent, type Logger } from 'pino';
import {
  capabilityNames,
  notificationSummary,
  type Speaker,
  type SpeakerEvents,
  type DownReason,
} from '@bgp-announce/bgp-speaker';
import type { BfdEngineError } from '@bgp-announce/bfd';

export type { Logger };

/** What createLogger takes. */
export interface LoggerOptions {
  /** Default 'info'. */
  level?: LevelWithSilent;
  /** Added to every line (e.g. the node name). */
  base?: Record<string, unknown>;
  /** Default stdout. */
  destination?: DestinationStream;
}

/** A pino logger writing JSON lines with an ISO time (`time`) and the level as text (`level`). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const config: pino.LoggerOptions = {
    level: options.level ?? 'info',
    base: { pid: process.pid, ...options.base },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return options.destination ? pino(config, options.destination) : pino(config);
}

/** A child logger whose lines carry `peer: peerId`. */
export function peerLogger(logger: Logger, peerId: string): Logger {
  return logger.child({ peer: peerId });
}

export { capabilityNames, notificationSummary } from '@bgp-announce/bgp-speaker';

/** A DownReason as log fields. */
function downFields(reason: DownReason): Record<string, unknown> {
  const out: Record<string, unknown> = { kind: reason.kind, reason: reason.message };
  if (reason.notification) out.notification = notificationSummary(reason.notification);
  if (reason.socketError) out.socketError = reason.socketError.code ?? reason.socketError.message;
  return out;
}

/**
 * Logs every Speaker event through per-peer child loggers. Returns a function that stops logging.
 * `stopping()` true turns the sessions our own shutdown ends into info lines instead of warnings.
 */
export function logSpeakerEvents(speaker: Speaker, logger: Logger, stopping: () => boolean = () => false): () => void {
  const children = new Map<string, Logger>();
  const log = (id: string): Logger => {
    let child = children.get(id);
    if (!child) children.set(id, (child = peerLogger(logger, id)));
    return child;
  };
  const handlers: { [K in keyof SpeakerEvents]?: (...args: SpeakerEvents[K]) => void } = {
    peerState: (id, to, from) => log(id).info({ event: 'state', from, to }, `session ${from} -> ${to}`),
    established: (id, n) =>
      log(id).info(
        {
          event: 'established',
          peerAs: n.peerAs,
          peerBgpId: n.peerBgpId,
          holdTime: n.holdTime,
          families: n.families,
          capabilities: capabilityNames(n),
        },
        `session established with AS ${n.peerAs} (${n.peerBgpId}), hold time ${n.holdTime} s`,
      ),
    down: (id, reason) => {
      const level = reason.kind === 'manual-stop' || stopping() ? 'info' : 'warn';
      log(id)[level]({ event: 'down', ...downFields(reason) }, `session down: ${reason.message}`);
    },
    routesReceived: (id, result, update) => {
      const l = log(id);
      if (!l.isLevelEnabled('debug')) return;
      const announced = update.nlri.length + (update.attributes.mpReach?.nlri?.length ?? 0);
      const withdrawn = update.withdrawn.length + (update.attributes.mpUnreach?.withdrawn?.length ?? 0);
      l.debug({ event: 'update', announced, withdrawn, endOfRib: result.endOfRib }, 'UPDATE received');
    },
    listening: (id, a) =>
      log(id).info(
        { event: 'listening', address: a.address, port: a.port },
        `listening on ${a.address} port ${a.port}`,
      ),
    error: (id, err) => log(id).warn({ event: 'error', err: { type: err.name, message: err.message } }, err.message),
    staleRoutes: (id, info) =>
      log(id).info(
        { event: 'stale-routes', ...info },
        `peer restarting: ${info.count} routes kept stale for up to ${info.restartTimeMs / 1000} s (graceful restart)`,
      ),
    staleRoutesRemoved: (id, info) =>
      log(id).info(
        { event: 'stale-routes-removed', ...info },
        `${info.count} stale ${info.family} routes removed (${info.reason})`,
      ),
    bfd: (id, change, outcome) => {
      const fields = { event: 'bfd', from: change.from, to: change.to, diag: change.diag, outcome };
      if (outcome === 'torn-down')
        log(id).warn(
          fields,
          `BFD ${change.from} -> ${change.to} (diag ${change.diag}): BGP session torn down until BFD is Up again`,
        );
      else
        log(id).info(
          fields,
          `BFD ${change.from} -> ${change.to} (diag ${change.diag})${outcome === 'resumed' ? ': BGP session started again' : ''}`,
        );
    },
  };
  const emitter = speaker as unknown as NodeJS.EventEmitter;
  for (const [name, handler] of Object.entries(handlers)) emitter.on(name, handler as (...args: unknown[]) => void);
  return () => {
    for (const [name, handler] of Object.entries(handlers)) emitter.off(name, handler as (...args: unknown[]) => void);
    children.clear();
  };
}

/** Logs the BFD engine's errors (socket, send, receive, worker) as warnings. */
export function logBfdEngineErrors(
  engine: { on(event: 'error', listener: (err: BfdEngineError) => void): unknown },
  logger: Logger,
): void {
  engine.on('error', (err) =>
    logger.warn({ event: 'bfd-error', code: err.code, bfdSession: err.sessionId }, `BFD: ${err.message}`),
  );
}

/**
 * Warns when an HTTP endpoint sheds connections (its cap closed or refused one): the first time, then
 * at most once a minute with the counts since the last line, so a flood does not flood the log too.
 */
export function httpShedLogger(
  logger: Logger,
  endpoint: string,
  maxConnections: number,
  now: () => number = Date.now,
): (action: 'evicted' | 'refused') => void {
  let lastAt = -Infinity;
  const counts = { evicted: 0, refused: 0 };
  return (action) => {
    counts[action]++;
    const t = now();
    if (t - lastAt < 60_000) return;
    lastAt = t;
    logger.warn(
      { event: 'http-shed', endpoint, maxConnections, ...counts },
      `${endpoint} endpoint: more than ${maxConnections} connections at once; the longest idle were closed (evicted) or new ones answered 503 (refused). Many connections that send nothing come from a scanner or a flood`,
    );
    counts.evicted = 0;
    counts.refused = 0;
  };
}
