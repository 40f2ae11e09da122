// One BFD session at run time: the pure state machine (fsm.ts) driven by a clock, with the checks
// that need more than the packet: the received TTL (RFC 5881 5: 255 on single hop; RFC 5883 5: a
// configured minimum on multihop), authentication (auth.ts; bfd.AuthSeqKnown reset after twice the
// Detection Time without an authentic packet, RFC 5880 6.8.1), signing of what goes out, and the
// timers. The clock is injected (tests run in virtual time); sockets are the caller's (`send`).
//
// A stall (the thread was descheduled, a long garbage collection) can make the detection timer fire
// while the peer's packets are waiting, unread, on the socket: libuv runs due timers before it polls
// for I/O. So an expired detection timer is only acted on after the pending I/O has been read
// (clock.afterPendingIo, setImmediate in the engine): if a packet restarted the timer meanwhile, the
// session stays up and the expiry counts as rescued.
import { initialAuthReceiveState, nextXmitAuthSeq, randomXmitAuthSeq, signControlPacket, verifyControlPacketAuth, type BfdAuthReceiveState } from './auth.js';
import {
  bfdTransition,
  createBfdSession,
  detectionTime,
  negotiatedTransmitInterval,
  type BfdAction,
  type BfdEvent,
  type BfdSession,
  type BfdSessionConfig,
} from './fsm.js';
import { encodeControlPacket } from './packet.js';
import { BfdPacketError, type BfdAuthKey, type BfdAuthType, type BfdControlPacket, type BfdState } from './types.js';

/** The TTL (hop limit) every single-hop packet is sent and must be received with (RFC 5881 5). */
export const BFD_SINGLE_HOP_TTL = 255;

/** Time and timers for a runner. Milliseconds, monotonic. The engine's worker uses performance.now, setTimeout and setImmediate. */
export interface BfdClock {
  now(): number;
  setTimer(ms: number, fn: () => void): unknown;
  clearTimer(handle: unknown): void;
  /** Runs fn once the datagrams already waiting on the sockets have been read (setImmediate: libuv's check phase follows its poll phase). */
  afterPendingIo(fn: () => void): void;
  /** In [0, 1), for the transmit jitter. */
  random(): number;
}

export interface BfdRunnerOptions {
  config: BfdSessionConfig;
  localDiscr: number;
  /** RFC 5883 multihop: accept a received TTL of `minimumTtl` or more; single hop: only 255. */
  multihop: boolean;
  minimumTtl: number;
  /** False when the transport cannot read the received TTL (dgram fallback): no TTL check at all. */
  ttlCheck: boolean;
  /** Authentication keys: the first signs what we send, any of them (by key id) may sign what we receive. None: no authentication. */
  authKeys?: readonly BfdAuthKey[];
  /** A transmission later than its due time by more than this counts as late. */
  lateTransmissionSlackMs: number;
  clock: BfdClock;
  /** Puts one encoded (and signed) packet on the wire. Should not throw; if it does, the error is counted and passed to onSendError. */
  send(bytes: Uint8Array): void;
  onStateChange(change: BfdStateChange): void;
  /** Every transmit timer expiry with how late it ran (ms, may be ~0); for the engine's lateness histogram. */
  onTransmitLateness?(latenessMs: number): void;
  onSendError?(error: unknown): void;
  /** The first bfd.XmitAuthSeq (random when absent), for tests. */
  initialXmitAuthSeq?: number;
}

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

/** Drives one BFD session: call start(), feed received packets to receive(), stop() to end it. */
export class BfdSessionRunner {
  readonly #o: BfdRunnerOptions;
  readonly #keys: readonly BfdAuthKey[];
  #session: BfdSession;
  #minimumTtl: number;
  #xmitAuthSeq: number;
  #authReceive: BfdAuthReceiveState = initialAuthReceiveState();
  #lastAuthenticAt = 0;
  #authResetAfterMs = 0;
  #remoteDiag = 0;
  #transmitTimer: unknown;
  #transmitDueAt = 0;
  #detectionTimer: unknown;
  /** Bumped whenever the detection timer is started or stopped: a deferred expiry with an old number is stale. */
  #detectionGeneration = 0;
  #stopped = false;
  readonly #counters: BfdRunnerCounters = {
    packetsIn: 0,
    packetsOut: 0,
    dropped: { ttl: 0, auth: 0, rejected: 0 },
    sendErrors: 0,
    upTransitions: 0,
    lateTransmissions: 0,
    maxTransmitLatenessMs: 0,
    detectionTimeouts: 0,
    detectionsRescued: 0,
    authSequenceResets: 0,
  };

  constructor(options: BfdRunnerOptions) {
    this.#o = options;
    this.#keys = options.authKeys ?? [];
    const authType = this.#keys[0]?.type;
    this.#session = createBfdSession({ ...options.config, ...(authType === undefined ? {} : { authType }) }, options.localDiscr, options.clock.now());
    this.#minimumTtl = options.minimumTtl;
    this.#xmitAuthSeq = options.initialXmitAuthSeq ?? randomXmitAuthSeq();
  }

  /** The session's state machine variables (read-only use). */
  get session(): BfdSession {
    return this.#session;
  }

  get state(): BfdState {
    return this.#session.sessionState;
  }

  /** Starts the session: the first packet goes out (unless passive) and the transmit timer runs. */
  start(): void {
    this.#stopped = false;
    this.#apply({ type: 'start' });
  }

  /** Stops the timers for good; nothing more is sent. Send AdminDown first (adminDown()) to tell the peer. */
  stop(): void {
    this.#apply({ type: 'stop' });
    this.#stopped = true;
    this.#clearTimers();
  }

  /** RFC 5880 6.8.16: AdminDown with `diag` (7 Administratively Down unless given); a packet tells the peer at once. */
  adminDown(diag?: number): void {
    this.#apply(diag === undefined ? { type: 'adminDown' } : { type: 'adminDown', diag });
  }

  adminUp(): void {
    this.#apply({ type: 'adminUp' });
  }

  /** New intervals (µs) or Detect Mult: a Poll Sequence tells the peer (RFC 5880 6.8.3). Throws RangeError for bad values. */
  changeParameters(change: { desiredMinTxInterval?: number; requiredMinRxInterval?: number; detectMult?: number }): void {
    this.#apply({ type: 'parametersChanged', ...change });
  }

  /** The lowest TTL accepted on a multihop session from now on. */
  setMinimumTtl(minimumTtl: number): void {
    this.#minimumTtl = minimumTtl;
  }

  /**
   * A packet demultiplexed to this session: `packet` decoded from `bytes`, `ttl` as received
   * (undefined when the transport cannot tell). Checks the TTL, then authentication, then runs the
   * state machine; says whether it was accepted and if not, why.
   */
  receive(packet: BfdControlPacket, bytes: Uint8Array, ttl: number | undefined): BfdReceiveOutcome {
    this.#counters.packetsIn++;
    if (this.#stopped) return this.#drop('rejected', 'session stopped');
    if (this.#o.ttlCheck) {
      const minimum = this.#o.multihop ? this.#minimumTtl : BFD_SINGLE_HOP_TTL;
      if (ttl === undefined || ttl < minimum) {
        const detail = this.#o.multihop ? `TTL ${ttl ?? 'unknown'} below the minimum ${minimum} (RFC 5883)` : `TTL ${ttl ?? 'unknown'} is not 255 (RFC 5881)`;
        return this.#drop('ttl', detail);
      }
    }
    const authenticated = this.#keys.length > 0;
    if (authenticated || packet.auth !== undefined) {
      this.#expireAuthSequence();
      try {
        this.#authReceive = verifyControlPacketAuth(bytes, packet, this.#keys, this.#authReceive);
      } catch (err) {
        if (!(err instanceof BfdPacketError)) throw err;
        return this.#drop('auth', err.message);
      }
    }
    const previousRemoteDiag = this.#remoteDiag;
    this.#remoteDiag = packet.diag;
    const actions = this.#apply({ type: 'packetReceived', packet });
    if (authenticated) {
      this.#lastAuthenticAt = this.#o.clock.now();
      this.#authResetAfterMs = (2 * detectionTime(this.#session)) / 1000;
    }
    const discard = actions.find((a) => a.type === 'discard');
    if (discard !== undefined) {
      if (this.#session.sessionState !== 'AdminDown') this.#remoteDiag = previousRemoteDiag; // rejected before its values were taken
      return this.#drop('rejected', discard.reason);
    }
    return { accepted: true };
  }

  /** A snapshot of the session for status displays. */
  status(): BfdRunnerStatus {
    this.#expireAuthSequence();
    const s = this.#session;
    const peerKnown = s.remoteDetectMult > 0;
    return {
      state: s.sessionState,
      remoteState: s.remoteSessionState,
      localDiag: s.localDiag,
      remoteDiag: this.#remoteDiag,
      localDiscr: s.localDiscr,
      remoteDiscr: s.remoteDiscr,
      transmitIntervalMs: negotiatedTransmitInterval(s) / 1000,
      receiveIntervalMs: peerKnown ? Math.max(s.actingRequiredMinRxInterval, s.remoteDesiredMinTxInterval) / 1000 : 0,
      detectionTimeMs: detectionTime(s) / 1000,
      detectMult: s.detectMult,
      remoteDetectMult: s.remoteDetectMult,
      desiredMinTxIntervalMs: s.desiredMinTxInterval / 1000,
      requiredMinRxIntervalMs: s.requiredMinRxInterval / 1000,
      remoteMinRxIntervalMs: s.remoteMinRxInterval / 1000,
      pollActive: s.pollActive,
      authType: s.authType,
      authSequenceKnown: this.#authReceive.known,
      lastStateChangeAt: s.lastStateChangeAt,
      counters: { ...this.#counters, dropped: { ...this.#counters.dropped } },
    };
  }

  #drop(reason: BfdSessionDropReason, detail: string): BfdReceiveOutcome {
    this.#counters.dropped[reason]++;
    return { accepted: false, reason, detail };
  }

  /** RFC 5880 6.8.1: bfd.AuthSeqKnown goes back to 0 after twice the Detection Time without an authentic packet. */
  #expireAuthSequence(): void {
    if (!this.#authReceive.known || this.#authResetAfterMs <= 0) return;
    if (this.#o.clock.now() - this.#lastAuthenticAt < this.#authResetAfterMs) return;
    this.#authReceive = initialAuthReceiveState();
    this.#counters.authSequenceResets++;
  }

  #apply(event: BfdEvent): BfdAction[] {
    if (this.#stopped && event.type !== 'start') return [];
    const clock = this.#o.clock;
    const { session, actions } = bfdTransition(this.#session, event, { now: clock.now(), random: clock.random });
    this.#session = session;
    for (const action of actions) this.#carryOut(action);
    return actions;
  }

  #carryOut(action: BfdAction): void {
    const clock = this.#o.clock;
    switch (action.type) {
      case 'send':
        this.#transmit(action.packet);
        break;
      case 'startTimer': {
        if (action.timer === 'transmit') {
          if (this.#transmitTimer !== undefined) clock.clearTimer(this.#transmitTimer);
          const ms = Math.max(1, Math.floor(action.durationUs / 1000)); // never late by rounding
          this.#transmitDueAt = clock.now() + ms;
          this.#transmitTimer = clock.setTimer(ms, () => this.#onTransmitTimer());
        } else {
          if (this.#detectionTimer !== undefined) clock.clearTimer(this.#detectionTimer);
          const generation = ++this.#detectionGeneration;
          const ms = Math.max(1, Math.ceil(action.durationUs / 1000)); // never early by rounding
          this.#detectionTimer = clock.setTimer(ms, () => this.#onDetectionTimer(generation));
        }
        break;
      }
      case 'stopTimer':
        if (action.timer === 'transmit') {
          if (this.#transmitTimer !== undefined) clock.clearTimer(this.#transmitTimer);
          this.#transmitTimer = undefined;
        } else {
          if (this.#detectionTimer !== undefined) clock.clearTimer(this.#detectionTimer);
          this.#detectionTimer = undefined;
          this.#detectionGeneration++;
        }
        break;
      case 'stateChange':
        if (action.to === 'Up') this.#counters.upTransitions++;
        this.#o.onStateChange({ from: action.from, to: action.to, diag: action.diag, remoteDiag: this.#remoteDiag, at: clock.now() });
        break;
      case 'discard':
        break; // counted by receive()
    }
  }

  #transmit(packet: BfdControlPacket): void {
    const key = this.#keys[0];
    let bytes: Uint8Array;
    if (key === undefined) {
      bytes = encodeControlPacket(packet);
    } else {
      bytes = signControlPacket(packet, key, this.#xmitAuthSeq);
      this.#xmitAuthSeq = nextXmitAuthSeq(this.#xmitAuthSeq);
    }
    this.#counters.packetsOut++;
    try {
      this.#o.send(bytes);
    } catch (err) {
      this.#counters.sendErrors++;
      this.#o.onSendError?.(err);
    }
  }

  #onTransmitTimer(): void {
    this.#transmitTimer = undefined;
    const lateness = this.#o.clock.now() - this.#transmitDueAt;
    if (lateness > this.#o.lateTransmissionSlackMs) this.#counters.lateTransmissions++;
    if (lateness > this.#counters.maxTransmitLatenessMs) this.#counters.maxTransmitLatenessMs = lateness;
    this.#o.onTransmitLateness?.(Math.max(0, lateness));
    this.#apply({ type: 'transmitTimerExpired' });
  }

  #onDetectionTimer(generation: number): void {
    if (generation !== this.#detectionGeneration) return;
    this.#detectionTimer = undefined;
    // Read what waits on the socket first: a packet that arrived during a stall restarts the timer.
    this.#o.clock.afterPendingIo(() => {
      if (this.#stopped) return;
      if (generation !== this.#detectionGeneration) {
        if (this.#session.sessionState === 'Up' || this.#session.sessionState === 'Init') this.#counters.detectionsRescued++;
        return;
      }
      this.#counters.detectionTimeouts++;
      this.#apply({ type: 'detectionTimerExpired' });
    });
  }

  #clearTimers(): void {
    const clock = this.#o.clock;
    if (this.#transmitTimer !== undefined) clock.clearTimer(this.#transmitTimer);
    if (this.#detectionTimer !== undefined) clock.clearTimer(this.#detectionTimer);
    this.#transmitTimer = undefined;
    this.#detectionTimer = undefined;
    this.#detectionGeneration++;
  }
}
