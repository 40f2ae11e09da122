// The vocabulary of the BFD session state machine (fsm.ts): the events it is given, the actions it
// returns and its timers. Types only, so that fsm.ts and its step helpers (fsm-step.ts) share them
// without importing each other.
import type { BfdControlPacket, BfdState } from './types.js';

/** 'final': a Final held back by the rate limit (RFC 5880 6.8.7) goes out when it expires. */
export type BfdTimerName = 'transmit' | 'detection' | 'final';

export type BfdEvent =
  | { type: 'start' }
  /** Stop the session's timers and ignore everything but 'start' (the session is being removed). */
  | { type: 'stop' }
  /** RFC 5880 6.8.16; diag defaults to 7 (Administratively Down), 5 (Path Down) fits a failed path. */
  | { type: 'adminDown'; diag?: number }
  | { type: 'adminUp' }
  /** A decoded packet for this session whose authentication (if any) has been checked. */
  | { type: 'packetReceived'; packet: BfdControlPacket }
  | { type: 'transmitTimerExpired' }
  | { type: 'detectionTimerExpired' }
  | { type: 'finalTimerExpired' }
  /** New operator values (µs); a Poll Sequence tells the peer (6.8.3). */
  | { type: 'parametersChanged'; desiredMinTxInterval?: number; requiredMinRxInterval?: number; detectMult?: number };

/** What the I/O edge must do, in order. Starting a running timer restarts it; stopping a stopped one is a no-op. */
export type BfdAction =
  | { type: 'send'; packet: BfdControlPacket }
  | { type: 'startTimer'; timer: BfdTimerName; durationUs: number }
  | { type: 'stopTimer'; timer: BfdTimerName }
  | { type: 'stateChange'; from: BfdState; to: BfdState; diag: number }
  /** A received packet was dropped (RFC 5880 6.8.6); the reason is for logs. */
  | { type: 'discard'; reason: string };
