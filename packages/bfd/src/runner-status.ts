// What a BFD session runner (runner.ts) reports: its state changes, what became of a received packet,
// its counters and a status snapshot. Plain data.
import type { BfdAuthType, BfdState } from './types.js';

/** A state change of a session: our new state, our diag, and the diag of the peer's last packet. */
export interface BfdStateChange {
  from: BfdState;
  to: BfdState;
  diag: number;
  remoteDiag: number;
  /** clock.now() when it happened. */
  at: number;
}

/** Why a received packet was dropped after demultiplexing. */
export type BfdSessionDropReason = 'ttl' | 'auth' | 'rejected';

export type BfdReceiveOutcome = { accepted: true } | { accepted: false; reason: BfdSessionDropReason; detail: string };

export interface BfdRunnerCounters {
  packetsIn: number;
  packetsOut: number;
  dropped: Record<BfdSessionDropReason, number>;
  sendErrors: number;
  upTransitions: number;
  /** Transmit timer expiries later than their due time by more than the slack. */
  lateTransmissions: number;
  maxTransmitLatenessMs: number;
  /** Detection timer expiries acted on (the session went Down, or the peer was forgotten). */
  detectionTimeouts: number;
  /** The longest a detection timeout was acted on after its deadline. */
  maxDetectionLatenessMs: number;
  /** Detection timer expiries cancelled because a packet that was waiting on the socket arrived first. */
  detectionsRescued: number;
  /** bfd.AuthSeqKnown reset after 2 x Detection Time without an authentic packet. */
  authSequenceResets: number;
}

/** What a session looks like now. Intervals in milliseconds. */
export interface BfdRunnerStatus {
  state: BfdState;
  remoteState: BfdState;
  localDiag: number;
  remoteDiag: number;
  localDiscr: number;
  remoteDiscr: number;
  /** The negotiated transmit interval: max(our Desired Min TX in force, the peer's Required Min RX). */
  transmitIntervalMs: number;
  /** The interval the peer should send at: max(our Required Min RX in force, its Desired Min TX); 0 before it has sent. */
  receiveIntervalMs: number;
  /** The peer's Detect Mult x receiveIntervalMs; 0 before the peer has sent. */
  detectionTimeMs: number;
  detectMult: number;
  remoteDetectMult: number;
  /** As advertised in our packets. */
  desiredMinTxIntervalMs: number;
  requiredMinRxIntervalMs: number;
  remoteMinRxIntervalMs: number;
  pollActive: boolean;
  authType: BfdAuthType | undefined;
  /** bfd.AuthSeqKnown. */
  authSequenceKnown: boolean;
  /** clock.now() at the last state change. */
  lastStateChangeAt: number;
  counters: BfdRunnerCounters;
}
