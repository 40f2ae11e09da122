// The RFC 5880 6.8.1 state variables of one BFD session as plain data, how a session starts, and the
// intervals derived from them (6.8.2-6.8.4, 6.8.7). The transition function is in fsm.ts. Intervals
// are in microseconds, as on the wire.
import { BFD_DIAG, type BfdAuthType, type BfdState } from './types.js';

/** RFC 5880 6.8.3: while the session is not Up, bfd.DesiredMinTxInterval is at least one second. */
export const SLOW_DESIRED_MIN_TX_INTERVAL = 1_000_000;

/** What the operator asks of a session (a BfdProfile gives these, see profile.ts). */
export interface BfdSessionConfig {
  /** bfd.DesiredMinTxInterval once Up (µs, 1-2^32-1); at least 1 s while not Up. */
  desiredMinTxInterval: number;
  /** bfd.RequiredMinRxInterval (µs, 0-2^32-1; 0 asks the peer to send nothing periodically). */
  requiredMinRxInterval: number;
  /** bfd.DetectMult, 1-255. */
  detectMult: number;
  /** Passive role (RFC 5880 6.1): send nothing until the peer has sent something. */
  passive: boolean;
  /** bfd.AuthType; absent: no authentication. */
  authType?: BfdAuthType;
}

/** Counted here; packets in and out are the I/O edge's to count. */
export interface BfdCounters {
  discarded: number;
  upTransitions: number;
}

/** The RFC 5880 6.8.1 state variables (names kept, minus the "bfd." prefix) and our bookkeeping. Plain data. */
export interface BfdSession {
  config: BfdSessionConfig;
  started: boolean;
  sessionState: BfdState;
  remoteSessionState: BfdState;
  localDiscr: number;
  remoteDiscr: number;
  localDiag: number;
  /** As advertised in our packets. */
  desiredMinTxInterval: number;
  requiredMinRxInterval: number;
  remoteMinRxInterval: number;
  /** We never ask for Demand mode. */
  demandMode: false;
  remoteDemandMode: boolean;
  detectMult: number;
  authType: BfdAuthType | undefined;
  /** From the peer's last packet: its Desired Min TX Interval and Detect Mult (for the Detection Time). */
  remoteDesiredMinTxInterval: number;
  remoteDetectMult: number;
  /**
   * The values in force (6.8.3): while Up, a slower TX and a faster RX wait for the Poll Sequence
   * that announces them to end, so these can differ from the advertised ones until then.
   */
  actingDesiredMinTxInterval: number;
  actingRequiredMinRxInterval: number;
  /** A Poll Sequence (6.5) is running; `pollCovers` holds the values its Poll packets first carried. */
  pollActive: boolean;
  pollCovers: { desiredMinTxInterval: number; requiredMinRxInterval: number } | undefined;
  /** The values changed again during the Poll Sequence: a new one follows when it ends. */
  pollPending: boolean;
  /** The unjittered transmit interval the transmit timer was last armed for (µs). */
  transmitInterval: number;
  /** env.now when the last Final went out (undefined: none yet), for the rate limit on Finals (6.8.7). */
  lastFinalSentAt: number | undefined;
  /** A Poll arrived while the rate limit held its Final back: the 'final' timer sends it. */
  finalPending: boolean;
  /** env.now at the last state change. */
  lastStateChangeAt: number;
  counters: BfdCounters;
}

const U32_MAX = 0xffffffff;

function checkRange(name: string, value: unknown, min: number, max: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`BFD session ${name} ${String(value)} is outside ${min}-${max}`);
  }
}

/** Throws RangeError for a configuration outside the RFC's ranges. */
export function checkConfig(c: BfdSessionConfig): void {
  checkRange('desiredMinTxInterval', c.desiredMinTxInterval, 1, U32_MAX);
  checkRange('requiredMinRxInterval', c.requiredMinRxInterval, 0, U32_MAX);
  checkRange('detectMult', c.detectMult, 1, 255);
}

/**
 * A new session in Down, not started (RFC 5880 6.8.1 initial values). `localDiscr` must be non-zero
 * and unique among our sessions (the caller picks it, ideally at random). Throws RangeError on bad values.
 */
export function createBfdSession(config: BfdSessionConfig, localDiscr: number, now = 0): BfdSession {
  checkConfig(config);
  checkRange('localDiscr', localDiscr, 1, U32_MAX);
  const desired = Math.max(config.desiredMinTxInterval, SLOW_DESIRED_MIN_TX_INTERVAL);
  return {
    config: { ...config },
    started: false,
    sessionState: 'Down',
    remoteSessionState: 'Down',
    localDiscr,
    remoteDiscr: 0,
    localDiag: BFD_DIAG.NONE,
    desiredMinTxInterval: desired,
    requiredMinRxInterval: config.requiredMinRxInterval,
    remoteMinRxInterval: 1,
    demandMode: false,
    remoteDemandMode: false,
    detectMult: config.detectMult,
    authType: config.authType,
    remoteDesiredMinTxInterval: 0,
    remoteDetectMult: 0,
    actingDesiredMinTxInterval: desired,
    actingRequiredMinRxInterval: config.requiredMinRxInterval,
    pollActive: false,
    pollCovers: undefined,
    pollPending: false,
    transmitInterval: desired,
    lastFinalSentAt: undefined,
    finalPending: false,
    lastStateChangeAt: now,
    counters: { discarded: 0, upTransitions: 0 },
  };
}

/**
 * RFC 5880 6.8.7: the time to the next periodic packet, `interval` less a random 0-25 % (µs, rounded
 * inward so the bounds hold exactly); with detectMult 1, 75-90 % of it. random() is in [0, 1).
 */
export function jitteredTransmitInterval(interval: number, detectMult: number, random: () => number): number {
  const low = Math.ceil(interval * 0.75);
  const high = Math.floor(interval * (detectMult === 1 ? 0.9 : 1));
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.max(low, Math.min(high, low + Math.floor(r * (high - low + 1))));
}

/** RFC 5880 6.8.2/6.8.7: the negotiated transmit interval, the larger of ours and the peer's required RX (µs). */
export function negotiatedTransmitInterval(s: BfdSession): number {
  return Math.max(s.actingDesiredMinTxInterval, s.remoteMinRxInterval);
}

/**
 * RFC 5880 6.8.4, Asynchronous mode: the peer's Detect Mult times the larger of our Required Min RX
 * and its Desired Min TX (µs); 0 before the peer has sent anything.
 */
export function detectionTime(s: BfdSession): number {
  return s.remoteDetectMult * Math.max(s.actingRequiredMinRxInterval, s.remoteDesiredMinTxInterval);
}

/**
 * RFC 5880 6.8.7: the least time between two Finals (µs). Answering every Poll of a peer that polls
 * at line rate would make us send at line rate too; a rate limit is allowed as long as the advertised
 * Desired Min TX Interval covers it, so at most one Final goes out per bfd.DesiredMinTxInterval, and
 * the Polls that arrive meanwhile get one Final between them when it has passed.
 */
export function finalInterval(s: BfdSession): number {
  return s.desiredMinTxInterval;
}
