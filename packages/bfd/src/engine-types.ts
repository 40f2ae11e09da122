// What the BFD engine reports (engine.ts's public types, filled in by its worker, worker.ts): a
// session's status, the engine's metrics and a state change. Types only, apart from both modules.
import type { BfdTtlCheck } from './bfd-transport.js';
import type { BfdSessionId } from './engine-options.js';
import type { BfdProfile } from './profile.js';
import type { BfdRunnerStatus, BfdStateChange } from './runner.js';

/** A state change; `at` is wall-clock time (ms since the epoch). */
export type BfdStateChangeEvent = BfdStateChange;

/** What engine.session(id) returns. Intervals in milliseconds; times since the epoch. */
export interface BfdSessionStatus extends BfdRunnerStatus {
  id: BfdSessionId;
  peerAddress: string;
  localAddress: string;
  interface: string | undefined;
  multihop: boolean;
  port: number;
  listenPort: number;
  /** Our source port (49152-65535); undefined when the session could not start. */
  sourcePort: number | undefined;
  profile: BfdProfile;
  /** False when the sockets could not be opened (see error). */
  running: boolean;
  error?: string;
  lastSendError?: string;
  ttlCheck: BfdTtlCheck;
}

export interface BfdLatencySummary {
  p50: number;
  p99: number;
  max: number;
  samples: number;
}

/** What engine.metrics() returns: measured in the worker, summed over all sessions since start. */
export interface BfdEngineMetrics {
  sessions: number;
  ttlCheck: BfdTtlCheck;
  /**
   * How late the worker's event loop ran its sampling timer, in ms. Sampled only while the engine has
   * sessions, every fifth of the shortest detection time (min(TX, RX) x Detect Mult) within 5-200 ms.
   */
  eventLoopLagMs: BfdLatencySummary;
  /**
   * The shortest detection time of any session, in ms, as configured (min(TX, RX) x Detect Mult): what
   * the lateness figures are to be compared with. Absent without sessions.
   */
  shortestDetectionMs?: number;
  /** How late each transmit timer expiry ran, in ms. */
  transmitLatenessMs: BfdLatencySummary;
  /** How long after its deadline each detection timeout was acted on, in ms (sub-millisecond in a quiet worker). */
  detectionLatenessMs: BfdLatencySummary;
  /** Transmissions later than their due time + lateTransmissionSlackMs. */
  lateTransmissions: number;
  lateTransmissionSlackMs: number;
  packetsIn: number;
  packetsOut: number;
  sendErrors: number;
  dropped: { ttl: number; auth: number; malformed: number; noSession: number; rejected: number };
  detectionTimeouts: number;
  /** Detection timer expiries cancelled by a packet that was waiting on the socket (after a stall). */
  detectionsRescued: number;
  lastDropped?: { reason: keyof BfdEngineMetrics['dropped']; detail: string; from: string; at: number };
}
