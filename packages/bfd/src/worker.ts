// The BFD engine's worker_thread: the sockets, the timers and every session's state machine live here,
// away from the main thread's garbage collection and busy spells (DESIGN.md: timers in a worker run
// ~4 ms late where the main loop runs ~20 ms late). The main thread (engine.ts) sends commands and
// gets state changes, errors and replies back as messages. Also measured here: the worker's
// event-loop lag (loop-lag.ts, sampled while there are sessions) and how late each transmission went out.
import { createHistogram, performance, type RecordableHistogram } from 'node:perf_hooks';
import { isMainThread, parentPort, workerData, type MessagePort } from 'node:worker_threads';
import {
  BfdListenerPool,
  bfdTransportStatus,
  dgramBfdSockets,
  nativeBfdSockets,
  type BfdListenerKey,
  type BfdSendSocket,
  type BfdSockets,
} from './bfd-transport.js';
import { nodeClock } from './clock.js';
import { BfdDemux, canonicalAddress, describeBfdPath, type BfdPath } from './demux.js';
import type { BfdEngineMetrics, BfdLatencySummary, BfdSessionStatus } from './engine-types.js';
import { LoopLagSampler, loopLagInterval } from './loop-lag.js';
import { decodeControlPacket } from './packet.js';
import { sessionConfigFromProfile } from './profile.js';
import { BfdSessionRunner, type BfdRunnerCounters } from './runner.js';
import type { BfdControlPacket } from './types.js';
import type {
  BfdFromWorker,
  BfdToWorker,
  BfdWorkerData,
  BfdWorkerRequest,
  BfdWorkerSessionSpec,
} from './worker-protocol.js';

interface SessionEntry {
  spec: BfdWorkerSessionSpec;
  runner: BfdSessionRunner;
  sender?: BfdSendSocket;
  listener?: BfdListenerKey;
  listenPort: number;
  running: boolean;
  error?: string;
  sendErrors: number;
  lastSendError?: { message: string; at: number };
}

const SEND_ERROR_REPEAT_MS = 10_000;

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isLinkLocal(address: string): boolean {
  return /^fe[89ab]/i.test(address);
}

function withZone(address: string, iface: string | undefined): string {
  return iface !== undefined && isLinkLocal(address) ? `${address}%${iface}` : address;
}

function summary(h: { count: number; percentile(p: number): number; max: number }, scale: number): BfdLatencySummary {
  if (h.count === 0) return { p50: 0, p99: 0, max: 0, samples: 0 };
  const ms = (v: number): number => Math.max(0, Math.round((v / scale) * 1000) / 1000);
  return { p50: ms(h.percentile(50)), p99: ms(h.percentile(99)), max: ms(h.max), samples: h.count };
}

function runWorker(port: MessagePort, data: BfdWorkerData): void {
  const post = (m: BfdFromWorker): void => port.postMessage(m);
  const status =
    data.transport === 'dgram'
      ? { ttlCheck: 'unavailable' as const, reason: "the engine was started with transport: 'dgram'" }
      : bfdTransportStatus();
  const sockets: BfdSockets = status.ttlCheck === 'available' ? nativeBfdSockets() : dgramBfdSockets();
  const sessions = new Map<number, SessionEntry>();
  const demux = new BfdDemux<SessionEntry>();
  const loopLag = new LoopLagSampler();
  /** The shortest detection time of any session, as configured (min(TX, RX) x Detect Mult); undefined without one. */
  let shortestDetectionMs: number | undefined;
  /** Samples the loop's lag at a fifth of the shortest detection time of any session (min(TX, RX) x Detect Mult), not at all without one. */
  const resampleLoopLag = (): void => {
    let fastest: number | undefined;
    for (const { spec } of sessions.values()) {
      const p = spec.profile;
      const detectionMs = Math.min(p.receiveInterval, p.transmitInterval) * p.detectMultiplier;
      if (fastest === undefined || detectionMs < fastest) fastest = detectionMs;
    }
    shortestDetectionMs = fastest;
    loopLag.setInterval(loopLagInterval(fastest));
  };
  const transmitLateness: RecordableHistogram = createHistogram();
  const detectionLateness: RecordableHistogram = createHistogram();
  const counters = { packetsIn: 0, packetsOut: 0, sendErrors: 0, malformed: 0, noSession: 0 };
  const retired: Pick<BfdRunnerCounters, 'dropped' | 'lateTransmissions' | 'detectionTimeouts' | 'detectionsRescued'> =
    {
      dropped: { ttl: 0, auth: 0, rejected: 0 },
      lateTransmissions: 0,
      detectionTimeouts: 0,
      detectionsRescued: 0,
    };
  let lastDropped: BfdEngineMetrics['lastDropped'];
  let stopped = false;

  const clock = nodeClock();
  const drop = (reason: keyof BfdEngineMetrics['dropped'], detail: string, address: string, port: number): void => {
    lastDropped = { reason, detail, from: `${address} port ${port}`, at: Date.now() };
  };
  /** The path packets on a receive socket arrive over, one object per socket: only the source changes. */
  const receivePaths = new WeakMap<BfdListenerKey, BfdPath>();
  const receivePath = (key: BfdListenerKey): BfdPath => {
    let path = receivePaths.get(key);
    if (path === undefined) {
      path = {
        multihop: key.multihop,
        peerAddress: '',
        localAddress: canonicalAddress(key.bindAddress),
        interface: key.device,
      };
      receivePaths.set(key, path);
    }
    return path;
  };

  // Every received packet comes through here, decoded into one reused object (nothing keeps it).
  let received: BfdControlPacket | undefined;
  const pool = new BfdListenerPool(
    sockets,
    (key: BfdListenerKey, payload: Uint8Array, address: string, port: number, ttl: number | undefined) => {
      counters.packetsIn++;
      let packet: BfdControlPacket;
      try {
        packet =
          received === undefined ? (received = decodeControlPacket(payload)) : decodeControlPacket(payload, received);
      } catch (err) {
        counters.malformed++;
        return drop('malformed', message(err), address, port);
      }
      const path = receivePath(key);
      path.peerAddress = address;
      const found = demux.lookup(packet.yourDiscriminator, path);
      if (found.session === undefined) {
        counters.noSession++;
        return drop('noSession', found.reason, address, port);
      }
      const outcome = found.session.runner.receive(packet, payload, ttl);
      if (!outcome.accepted) drop(outcome.reason, outcome.detail, address, port);
    },
    (key, e) =>
      post({
        type: 'error',
        code: 'receive',
        message: `BFD receive socket ${key.bindAddress} port ${key.port}: ${e.message}`,
      }),
  );

  /** A send failed: counted (the runner counts what its send() threw itself) and reported once per cause and 10 s. */
  const onSendError = (entry: SessionEntry, err: unknown, countedByRunner: boolean): void => {
    if (!countedByRunner) entry.sendErrors++;
    counters.sendErrors++;
    const text = message(err);
    const now = clock.now();
    const last = entry.lastSendError;
    entry.lastSendError = { message: text, at: now };
    if (last !== undefined && last.message === text && now - last.at < SEND_ERROR_REPEAT_MS) return; // one report per cause and 10 s
    post({ type: 'error', id: entry.spec.id, code: 'send', message: text });
  };

  const addSession = async (spec: BfdWorkerSessionSpec): Promise<void> => {
    const path: BfdPath = {
      multihop: spec.multihop,
      peerAddress: spec.peerAddress,
      localAddress: spec.localAddress,
      interface: spec.interface,
    };
    const sendAddress = withZone(spec.peerAddress, spec.interface);
    const entry: SessionEntry = {
      spec,
      listenPort: spec.multihop ? data.listenPorts.multihop : data.listenPorts.singleHop,
      running: false,
      sendErrors: 0,
      runner: undefined as unknown as BfdSessionRunner,
    };
    entry.runner = new BfdSessionRunner({
      config: sessionConfigFromProfile(spec.profile),
      localDiscr: demux.allocateDiscriminator(),
      multihop: spec.multihop,
      minimumTtl: spec.profile.minimumTtl,
      ttlCheck: sockets.ttlCheck === 'available',
      ...(spec.auth === undefined ? {} : { authKeys: [spec.auth] }),
      lateTransmissionSlackMs: data.lateTransmissionSlackMs,
      clock,
      send: (bytes) => {
        counters.packetsOut++;
        entry.sender?.send(bytes, sendAddress, spec.port);
      },
      onStateChange: (change) =>
        post({ type: 'state', id: spec.id, change: { ...change, at: performance.timeOrigin + change.at } }),
      onTransmitLateness: (ms) => transmitLateness.record(Math.max(1, Math.round(ms * 1000))),
      onDetectionLateness: (ms) => detectionLateness.record(Math.max(1, Math.round(ms * 1000))),
      onSendError: (err) => onSendError(entry, err, true),
    });
    sessions.set(spec.id, entry);
    resampleLoopLag();
    try {
      if (demux.hasPath(path)) throw new Error(`a BFD session ${describeBfdPath(path)} already exists`);
      const listener: BfdListenerKey = {
        multihop: spec.multihop,
        family: spec.family,
        bindAddress: withZone(spec.localAddress, spec.interface),
        port: entry.listenPort,
        device: spec.interface,
      };
      await pool.acquire(listener);
      entry.listener = listener;
      entry.sender = await sockets.openSender(
        { family: spec.family, address: listener.bindAddress, device: spec.interface },
        (err) => onSendError(entry, err, false),
      );
      demux.add(entry.runner.session.localDiscr, path, entry);
      entry.running = true;
      entry.runner.start();
    } catch (err) {
      entry.error = `BFD session ${describeBfdPath(path)} cannot start: ${message(err)}`;
      await release(entry);
      post({ type: 'error', id: spec.id, code: 'socket', message: entry.error });
    }
  };

  const release = async (entry: SessionEntry): Promise<void> => {
    const { sender, listener } = entry;
    entry.sender = undefined;
    entry.listener = undefined;
    await sender?.close();
    if (listener !== undefined) await pool.release(listener);
  };

  const removeSession = async (entry: SessionEntry): Promise<void> => {
    if (entry.running) {
      entry.runner.adminDown(); // RFC 5880 6.8.16: tell the peer before going quiet
      demux.remove(entry.runner.session.localDiscr);
    }
    entry.runner.stop();
    entry.running = false;
    sessions.delete(entry.spec.id);
    resampleLoopLag();
    const c = entry.runner.status().counters;
    for (const r of ['ttl', 'auth', 'rejected'] as const) retired.dropped[r] += c.dropped[r];
    retired.lateTransmissions += c.lateTransmissions;
    retired.detectionTimeouts += c.detectionTimeouts;
    retired.detectionsRescued += c.detectionsRescued;
    await release(entry);
  };

  const sessionStatus = (entry: SessionEntry): BfdSessionStatus => {
    const s = entry.runner.status();
    const { spec } = entry;
    return {
      ...s,
      id: spec.id,
      peerAddress: spec.peerAddress,
      localAddress: spec.localAddress,
      interface: spec.interface,
      multihop: spec.multihop,
      port: spec.port,
      listenPort: entry.listenPort,
      sourcePort: entry.sender?.localPort,
      profile: spec.profile,
      running: entry.running,
      ...(entry.error === undefined ? {} : { error: entry.error }),
      ...(entry.lastSendError === undefined ? {} : { lastSendError: entry.lastSendError.message }),
      ttlCheck: sockets.ttlCheck,
      lastStateChangeAt: performance.timeOrigin + s.lastStateChangeAt,
      counters: { ...s.counters, sendErrors: s.counters.sendErrors + entry.sendErrors },
    };
  };

  const metrics = (): BfdEngineMetrics => {
    const live = [...sessions.values()].map((e) => e.runner.status().counters);
    const sum = (f: (c: typeof retired) => number): number => live.reduce((n, c) => n + f(c), f(retired));
    return {
      sessions: sessions.size,
      ttlCheck: sockets.ttlCheck,
      eventLoopLagMs: summary(loopLag.histogram, 1e3),
      transmitLatenessMs: summary(transmitLateness, 1e3),
      detectionLatenessMs: summary(detectionLateness, 1e3),
      lateTransmissions: sum((c) => c.lateTransmissions),
      lateTransmissionSlackMs: data.lateTransmissionSlackMs,
      packetsIn: counters.packetsIn,
      packetsOut: counters.packetsOut,
      sendErrors: counters.sendErrors,
      dropped: {
        ttl: sum((c) => c.dropped.ttl),
        auth: sum((c) => c.dropped.auth),
        malformed: counters.malformed,
        noSession: counters.noSession,
        rejected: sum((c) => c.dropped.rejected),
      },
      detectionTimeouts: sum((c) => c.detectionTimeouts),
      detectionsRescued: sum((c) => c.detectionsRescued),
      ...(shortestDetectionMs === undefined ? {} : { shortestDetectionMs }),
      ...(lastDropped === undefined ? {} : { lastDropped }),
    };
  };

  const request = async (r: BfdWorkerRequest): Promise<unknown> => {
    switch (r.op) {
      case 'session': {
        const entry = sessions.get(r.id);
        return entry === undefined ? undefined : sessionStatus(entry);
      }
      case 'metrics':
        return metrics();
      case 'remove': {
        const entry = sessions.get(r.id);
        if (entry !== undefined) await removeSession(entry);
        return undefined;
      }
      case 'stall': {
        const end = performance.now() + r.ms;
        while (performance.now() < end); // a deliberate stall of this event loop, for tests
        return undefined;
      }
      case 'stop':
        stopped = true;
        await Promise.all([...sessions.values()].map(removeSession));
        await pool.closeAll();
        loopLag.setInterval(undefined);
        return undefined;
    }
  };

  const handle = async (m: BfdToWorker): Promise<void> => {
    if (stopped) return;
    if (m.type === 'request') {
      try {
        post({ type: 'reply', requestId: m.requestId, ok: true, value: await request(m.request) });
      } catch (err) {
        post({ type: 'reply', requestId: m.requestId, ok: false, message: message(err) });
      }
      return;
    }
    if (m.type === 'add') return addSession(m.session);
    const entry = sessions.get(m.id);
    if (entry === undefined || !entry.running) return;
    try {
      if (m.type === 'adminDown') entry.runner.adminDown(m.diag);
      else if (m.type === 'adminUp') entry.runner.adminUp();
      else {
        const config = sessionConfigFromProfile(m.profile);
        entry.runner.changeParameters({
          desiredMinTxInterval: config.desiredMinTxInterval,
          requiredMinRxInterval: config.requiredMinRxInterval,
          detectMult: config.detectMult,
        });
        entry.runner.setMinimumTtl(m.profile.minimumTtl);
        entry.spec = { ...entry.spec, profile: m.profile };
        resampleLoopLag();
      }
    } catch (err) {
      post({ type: 'error', id: m.id, code: 'config', message: message(err) });
    }
  };

  // Commands run one at a time, in order (opening a dgram socket is asynchronous); packets and timers do not wait for them.
  let queue = Promise.resolve();
  port.on('message', (m: BfdToWorker) => {
    queue = queue
      .then(() => handle(m))
      .catch((err: unknown) => post({ type: 'error', code: 'config', message: message(err) }));
  });
  post({ type: 'ready', ...status });
}

if (!isMainThread && parentPort !== null && (workerData as Partial<BfdWorkerData> | null)?.bfdEngineWorker === true) {
  runWorker(parentPort, workerData as BfdWorkerData);
}
