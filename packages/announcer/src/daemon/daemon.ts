// The daemon: a Speaker (with a BFD engine), logs, metrics, health, the admin endpoint and signal
// handling around one route source (the Kubernetes controller or a config file), which adds the
// peers and routes. startDaemon checks every option before it starts anything.
import { BfdEngine, type BfdEngineOptions } from '@bgp-announce/bfd';
import { isIpv4 } from '@bgp-announce/bgp-wire';
import { isAbsolute } from 'node:path';
import type { Logger } from 'pino';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { createLogger, httpShedLogger, logBfdEngineErrors, logSpeakerEvents } from './logger.js';
import { createDaemonMetrics, type DaemonMetrics } from './metrics.js';
import { startMetricsServer, type RunningServer, type ServeOptions } from './http.js';
import { resolveHttpLimits } from './http-limits.js';
import { checkAdminAddress, startAdminServer } from './admin.js';
import { BfdHistory } from './bfd-history.js';
import { Shutdown, handleSignals, type ShutdownResult } from './shutdown.js';
import { RestartRecorder, clearRestartState, readRestartState } from './restart-state.js';
import { GRACEFUL_RESTART_TIME } from './peer-options.js';
import {
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_DRAIN_MS,
  DEFAULT_MESSAGE_HISTORY,
  DEFAULT_METRICS_ADDRESS,
  DaemonOptionError,
  PLACEHOLDER_LOCAL_AS,
  defaultRouterId,
  parseListenAddress,
  type DaemonOptions,
  type ListenAddress,
} from './options.js';
import type { DaemonContext, RouteSource } from './source.js';

/** A started daemon. */
export interface RunningDaemon {
  speaker: Speaker;
  logger: Logger;
  metrics: DaemonMetrics;
  /** The BFD engine, when it runs. */
  bfd: BfdEngine | undefined;
  routerId: string;
  /** Where the endpoints listen (the real port when 0 was asked); undefined when off. */
  metricsAddress: ListenAddress | undefined;
  adminAddress: ListenAddress | undefined;
  /** The source is ready and the daemon is not stopping (/readyz). */
  ready(): boolean;
  /** Stops as SIGTERM does (without exiting the process); later calls return the same promise. */
  stop(): Promise<ShutdownResult>;
  /** As a second SIGTERM: cuts the drain short (the Cease still goes out). */
  hurry(): void;
}

/** The options checked and defaulted. Throws DaemonOptionError naming the option. */
export function resolveDaemonOptions(o: DaemonOptions) {
  if (typeof o.nodeName !== 'string' || o.nodeName.trim() === '')
    throw new DaemonOptionError('the node name is required (--node-name, or NODE_NAME in the environment)');
  const routerId = o.routerId ?? defaultRouterId();
  if (routerId === undefined)
    throw new DaemonOptionError(
      'no router id: this host has no IPv4 address other than loopback; give one (--router-id 192.0.2.1)',
    );
  if (!isIpv4(routerId) || routerId === '0.0.0.0')
    throw new DaemonOptionError(
      `router id must be a dotted quad other than 0.0.0.0 (such as 192.0.2.1), got ${JSON.stringify(routerId)}`,
    );
  const localAs = o.localAs ?? PLACEHOLDER_LOCAL_AS;
  if (!Number.isInteger(localAs) || localAs < 1 || localAs > 0xffffffff)
    throw new DaemonOptionError(`local AS must be 1-4294967295, got ${localAs}`);
  const messageHistory = o.messageHistory ?? DEFAULT_MESSAGE_HISTORY;
  if (!Number.isInteger(messageHistory) || messageHistory < 0 || messageHistory > 10_000)
    throw new DaemonOptionError(`message history must be 0-10000 messages per peer, got ${messageHistory}`);
  const drainMs = o.drainMs ?? DEFAULT_DRAIN_MS;
  if (!Number.isFinite(drainMs) || drainMs < 0 || drainMs > 3_600_000)
    throw new DaemonOptionError(`drain time must be 0-3600 s, got ${drainMs / 1000} s`);
  const metricsText = o.metricsAddress ?? DEFAULT_METRICS_ADDRESS;
  const adminText = o.adminAddress ?? DEFAULT_ADMIN_ADDRESS;
  const metricsAddress = metricsText === 'off' ? undefined : parseListenAddress(metricsText, 'metrics address');
  const adminAddress = adminText === 'off' ? undefined : parseListenAddress(adminText, 'admin address', true);
  if (adminAddress) checkAdminAddress(adminAddress, o.adminAllowRemote);
  if (o.stateDirectory !== undefined && (typeof o.stateDirectory !== 'string' || !isAbsolute(o.stateDirectory)))
    throw new DaemonOptionError(
      `state directory must be an absolute path (such as /var/run/bgp-announce), got ${JSON.stringify(o.stateDirectory)}`,
    );
  let httpLimits: ReturnType<typeof resolveHttpLimits>;
  try {
    httpLimits = resolveHttpLimits(o.httpLimits);
  } catch (err) {
    throw new DaemonOptionError((err as Error).message);
  }
  return {
    nodeName: o.nodeName,
    routerId,
    localAs,
    messageHistory,
    drainMs,
    metricsAddress,
    adminAddress,
    httpLimits,
    gracefulRestart: o.gracefulRestart ?? true,
    stateDirectory: o.stateDirectory,
  };
}

/**
 * Starts the daemon around `source`: logger, BFD engine, Speaker, metrics and admin endpoints, then
 * the source. Rejects (after undoing what it started) with DaemonOptionError for bad options, or an
 * Error saying what could not start. With `signals` (default process), SIGTERM/SIGINT stop it and exit.
 */
export async function startDaemon(options: DaemonOptions, source: RouteSource): Promise<RunningDaemon> {
  const o = resolveDaemonOptions(options);
  const logger = createLogger({
    level: options.logLevel ?? 'info',
    base: { node: o.nodeName },
    ...(options.logDestination ? { destination: options.logDestination } : {}),
  });
  const startedAt = Date.now();
  const undo: (() => Promise<void>)[] = [];
  const undoAll = async (): Promise<void> => {
    for (const step of undo.reverse()) await step().catch(() => undefined);
  };

  let bfd: BfdEngine | undefined;
  if (options.bfd !== false) {
    const engineOptions: BfdEngineOptions = typeof options.bfd === 'object' ? options.bfd : {};
    try {
      bfd = await BfdEngine.start(engineOptions);
    } catch (err) {
      throw new Error(`cannot start the BFD engine: ${(err as Error).message} (run without BFD: --no-bfd)`);
    }
    const engine = bfd;
    undo.push(() => engine.stop());
    logBfdEngineErrors(engine, logger);
    if (engine.ttlCheck === 'unavailable')
      logger.warn(
        { event: 'bfd', reason: engine.ttlCheckReason },
        'BFD: received TTLs cannot be checked here, so peers that require BFD will be refused',
      );
  }

  // RFC 4724 4.1: a record of graceful-restart sessions younger than our Restart Time means the peers
  // may still keep our routes; the first OPEN to each of them says we restarted.
  const restart =
    o.stateDirectory !== undefined && o.gracefulRestart
      ? await readRestartState(o.stateDirectory, Date.now())
      : undefined;
  if (restart?.restarting)
    logger.info(
      { event: 'graceful-restart', peers: restart.peers, ageMs: restart.ageMs },
      `restarting: the first OPEN to ${restart.peers.join(', ')} sets the Restart State bit`,
    );
  else if (restart) logger.info({ event: 'graceful-restart', why: restart.why }, `a fresh start: ${restart.why}`);
  // Without graceful restart no record is kept: one left by an earlier run must not say R later.
  if (o.stateDirectory !== undefined && !o.gracefulRestart) await clearRestartState(o.stateDirectory).catch(() => {});
  const speaker = new Speaker({
    localAs: o.localAs,
    bgpId: o.routerId,
    messageHistory: o.messageHistory,
    ...(bfd ? { bfd } : {}),
    ...(restart?.restarting ? { restarting: restart.peers } : {}),
  });
  const recorder =
    o.stateDirectory !== undefined && o.gracefulRestart
      ? new RestartRecorder({ dir: o.stateDirectory, speaker, logger, restartTime: GRACEFUL_RESTART_TIME })
      : undefined;
  if (recorder) {
    recorder.start();
    undo.push(async () => recorder.stop());
  }
  let stopping = false;
  const detachLogs = logSpeakerEvents(speaker, logger, () => stopping);
  const bfdHistory = new BfdHistory(o.messageHistory);
  const detachHistory = bfdHistory.follow(speaker);
  const readiness = (): { ready: boolean; why?: string } => {
    if (stopping) return { ready: false, why: 'stopping' };
    if (!source.ready()) return { ready: false, why: 'the route source has not applied its first configuration yet' };
    return { ready: true };
  };
  const metrics = createDaemonMetrics({ speaker, bfd, ready: () => readiness().ready });

  let metricsServer: RunningServer | undefined;
  let adminServer: RunningServer | undefined;
  const serveOptions = (endpoint: string): ServeOptions => ({
    limits: o.httpLimits,
    onShed: httpShedLogger(logger, endpoint, o.httpLimits.maxConnections),
  });
  try {
    if (o.metricsAddress) {
      metricsServer = await startMetricsServer({
        address: o.metricsAddress,
        metrics,
        readiness,
        ...(options.maxEventLoopBlockMs === undefined ? {} : { maxEventLoopBlockMs: options.maxEventLoopBlockMs }),
        serve: serveOptions('metrics'),
      });
      undo.push(metricsServer.close);
      metrics.watchHttpEndpoint('metrics', metricsServer.connections);
    }
    if (o.adminAddress) {
      const context = {
        nodeName: o.nodeName,
        routerId: o.routerId,
        localAs: o.localAs,
        startedAt,
        speaker,
        source,
        bfd,
        bfdHistory,
        readiness,
        stopping: () => stopping,
      };
      adminServer = await startAdminServer({
        address: o.adminAddress,
        allowRemote: options.adminAllowRemote ?? false,
        context,
        serve: serveOptions('admin'),
      });
      undo.push(adminServer.close);
      metrics.watchHttpEndpoint('admin', adminServer.connections);
    }
  } catch (err) {
    await undoAll();
    throw err;
  }

  // The Speaker's timers do not hold the process; the daemon does, until it has stopped.
  const keepAlive = setInterval(() => {}, 1 << 30);
  const shutdown = new Shutdown({
    speaker,
    source,
    logger,
    drainMs: o.drainMs,
    gracefulRestart: o.gracefulRestart,
    message: `bgp-announce on ${o.nodeName} is shutting down`,
    onStart: () => (stopping = true),
    ...(recorder ? { onLeft: (mode: 'restart' | 'drain', kept: readonly string[]) => recorder.left(mode, kept) } : {}),
    afterSpeaker: async () => {
      detachHistory();
      await Promise.all([metricsServer?.close(), adminServer?.close(), bfd?.stop()]);
      detachLogs();
      detachSignals();
      clearInterval(keepAlive);
    },
  });
  let detachSignals = (): void => {};

  // Signals are handled from here on: a SIGTERM while the source starts still drains what it announced.
  if (options.signals !== false) {
    const emitter = options.signals === undefined || options.signals === true ? process : options.signals;
    detachSignals = handleSignals(
      emitter,
      shutdown,
      logger,
      options.exit ?? ((status: number) => process.exit(status)),
    );
  }

  const ctx: DaemonContext = {
    nodeName: o.nodeName,
    speaker,
    logger,
    observeReconcile: (seconds, result) => metrics.observeReconcile(seconds, result),
    setPoolUsage: (usage) => metrics.setPoolUsage(usage),
    setRejectedConfigObjects: (byKind) => metrics.setRejectedConfigObjects(byKind),
    readAnnouncingNodes: (read) => metrics.readAnnouncingNodes(read),
    readHealthChecks: (read) => metrics.readHealthChecks(read),
    observeHealthChange: (route, to) => metrics.observeHealthChange(route, to),
  };
  try {
    await source.start(ctx);
  } catch (err) {
    const problem = new Error(`the route source did not start: ${(err as Error).message}`);
    if (shutdown.started) {
      await shutdown.run('signal');
      throw problem;
    }
    stopping = true;
    detachSignals();
    clearInterval(keepAlive);
    await speaker.stop().catch(() => undefined);
    detachHistory();
    detachLogs();
    await undoAll();
    throw problem;
  }

  logger.info(
    {
      event: 'started',
      routerId: o.routerId,
      metrics: metricsServer?.address,
      admin: adminServer?.address,
      bfd: bfd ? bfd.ttlCheck : 'off',
      messageHistory: o.messageHistory,
    },
    'bgp-announce daemon started',
  );
  return {
    speaker,
    logger,
    metrics,
    bfd,
    routerId: o.routerId,
    metricsAddress: metricsServer?.address,
    adminAddress: adminServer?.address,
    ready: () => readiness().ready,
    stop: () => shutdown.run('stop'),
    hurry: () => shutdown.hurry(),
  };
}
