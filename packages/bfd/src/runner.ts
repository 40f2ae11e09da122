// One BFD session at run time: the pure state machine (fsm.ts) driven by a clock, with the checks
// that need more than the packet: the received TTL (RFC 5881 5: 255 on single hop; RFC 5883 5: a
// configured minimum on multihop), authentication (auth.ts; bfd.AuthSeqKnown reset after twice the
// Detection Time without an authentic packet, RFC 5880 6.8.1), signing of what goes out, and the
// timers. The clock is injected (tests run in virtual time); sockets are the caller's (`send`). The
// detection timer (detection-timer.ts) expires at its deadline to well under a millisecond and only
// after the packets waiting on the sockets have been read.
//
// It runs for every packet, so it allocates little: the state machine's events and environment are
// reused objects, timer callbacks are bound once, and packets are encoded into one buffer per session.
import {
  initialAuthReceiveState,
  nextXmitAuthSeq,
  randomXmitAuthSeq,
  signControlPacket,
  verifyControlPacketAuth,
  type BfdAuthReceiveState,
} from './auth.js';
import type { BfdClock } from './clock.js';
import { BfdDetectionTimer } from './detection-timer.js';
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
import { BFD_MANDATORY_SECTION_LENGTH, encodeControlPacket } from './packet.js';
import type {
  BfdReceiveOutcome,
  BfdRunnerCounters,
  BfdRunnerStatus,
  BfdSessionDropReason,
  BfdStateChange,
} from './runner-status.js';
import { BfdPacketError, type BfdAuthKey, type BfdControlPacket, type BfdState } from './types.js';

export type { BfdClock } from './clock.js';
export * from './runner-status.js';

/** The TTL (hop limit) every single-hop packet is sent and must be received with (RFC 5881 5). */
export const BFD_SINGLE_HOP_TTL = 255;

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
  /**
   * Puts one encoded (and signed) packet on the wire. The bytes are reused for the next packet once
   * it returns: send them (or copy them) before. Should not throw; if it does, the error is counted
   * and passed to onSendError.
   */
  send(bytes: Uint8Array): void;
  onStateChange(change: BfdStateChange): void;
  /** Every transmit timer expiry with how late it ran (ms, may be ~0); for the engine's lateness histogram. */
  onTransmitLateness?(latenessMs: number): void;
  /** Every detection timeout acted on, with how long after its deadline (ms, >= 0); for the engine's histogram. */
  onDetectionLateness?(latenessMs: number): void;
  onSendError?(error: unknown): void;
  /** The first bfd.XmitAuthSeq (random when absent), for tests. */
  initialXmitAuthSeq?: number;
}

const ACCEPTED: BfdReceiveOutcome = Object.freeze({ accepted: true });
// Events without data are the same every time: one object each.
const TRANSMIT_TIMER_EXPIRED: BfdEvent = Object.freeze({ type: 'transmitTimerExpired' });
const DETECTION_TIMER_EXPIRED: BfdEvent = Object.freeze({ type: 'detectionTimerExpired' });
const FINAL_TIMER_EXPIRED: BfdEvent = Object.freeze({ type: 'finalTimerExpired' });

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
  #finalTimer: unknown;
  readonly #detection: BfdDetectionTimer;
  #stopped = false;
  /** Reused for every transition: the state machine keeps neither. */
  readonly #env: { now: number; random: () => number };
  readonly #received: { type: 'packetReceived'; packet: BfdControlPacket };
  /** The encoded packet of an unauthenticated session, rewritten for every packet sent. */
  readonly #sendBuffer = new Uint8Array(BFD_MANDATORY_SECTION_LENGTH);
  readonly #onTransmitTimerBound = (): void => this.#onTransmitTimer();
  readonly #onFinalTimerBound = (): void => {
    this.#finalTimer = undefined;
    this.#apply(FINAL_TIMER_EXPIRED);
  };
  readonly #counters: BfdRunnerCounters = {
    packetsIn: 0,
    packetsOut: 0,
    dropped: { ttl: 0, auth: 0, rejected: 0 },
    sendErrors: 0,
    upTransitions: 0,
    lateTransmissions: 0,
    maxTransmitLatenessMs: 0,
    detectionTimeouts: 0,
    maxDetectionLatenessMs: 0,
    detectionsRescued: 0,
    authSequenceResets: 0,
  };

  constructor(options: BfdRunnerOptions) {
    this.#o = options;
    this.#keys = options.authKeys ?? [];
    const authType = this.#keys[0]?.type;
    this.#session = createBfdSession(
      { ...options.config, ...(authType === undefined ? {} : { authType }) },
      options.localDiscr,
      options.clock.now(),
    );
    this.#minimumTtl = options.minimumTtl;
    this.#xmitAuthSeq = options.initialXmitAuthSeq ?? randomXmitAuthSeq();
    this.#env = { now: 0, random: options.clock.random };
    this.#received = { type: 'packetReceived', packet: undefined as unknown as BfdControlPacket };
    this.#detection = new BfdDetectionTimer(
      options.clock,
      (latenessMs) => this.#onDetectionExpired(latenessMs),
      () => {
        if (this.#session.sessionState === 'Up' || this.#session.sessionState === 'Init')
          this.#counters.detectionsRescued++;
      },
    );
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
  changeParameters(change: {
    desiredMinTxInterval?: number;
    requiredMinRxInterval?: number;
    detectMult?: number;
  }): void {
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
        const detail = this.#o.multihop
          ? `TTL ${ttl ?? 'unknown'} below the minimum ${minimum} (RFC 5883)`
          : `TTL ${ttl ?? 'unknown'} is not 255 (RFC 5881)`;
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
    this.#received.packet = packet;
    const actions = this.#apply(this.#received);
    if (authenticated) {
      this.#lastAuthenticAt = this.#o.clock.now();
      this.#authResetAfterMs = (2 * detectionTime(this.#session)) / 1000;
    }
    for (let i = 0; i < actions.length; i++) {
      const action = actions[i]!;
      if (action.type !== 'discard') continue;
      if (this.#session.sessionState !== 'AdminDown') this.#remoteDiag = previousRemoteDiag; // rejected before its values were taken
      return this.#drop('rejected', action.reason);
    }
    return ACCEPTED;
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

  /** Runs one transition at `now` (read from the clock unless given) and carries out its actions. */
  #apply(event: BfdEvent, now = this.#o.clock.now()): BfdAction[] {
    if (this.#stopped && event.type !== 'start') return [];
    this.#env.now = now;
    const { session, actions } = bfdTransition(this.#session, event, this.#env);
    this.#session = session;
    for (let i = 0; i < actions.length; i++) this.#carryOut(actions[i]!);
    return actions;
  }

  #carryOut(action: BfdAction): void {
    const clock = this.#o.clock;
    switch (action.type) {
      case 'send':
        this.#transmit(action.packet);
        break;
      case 'startTimer':
        if (action.timer === 'transmit') {
          if (this.#transmitTimer !== undefined) clock.clearTimer(this.#transmitTimer);
          const ms = Math.max(1, Math.floor(action.durationUs / 1000)); // never late by rounding
          this.#transmitDueAt = this.#env.now + ms;
          this.#transmitTimer = clock.setTimer(ms, this.#onTransmitTimerBound);
        } else if (action.timer === 'detection') {
          this.#detection.start(action.durationUs / 1000, this.#env.now);
        } else {
          if (this.#finalTimer !== undefined) clock.clearTimer(this.#finalTimer);
          this.#finalTimer = clock.setTimer(Math.max(1, Math.ceil(action.durationUs / 1000)), this.#onFinalTimerBound); // never early: it is a rate limit
        }
        break;
      case 'stopTimer':
        if (action.timer === 'detection') this.#detection.stop();
        else this.#clearTimer(action.timer);
        break;
      case 'stateChange':
        if (action.to === 'Up') this.#counters.upTransitions++;
        this.#o.onStateChange({
          from: action.from,
          to: action.to,
          diag: action.diag,
          remoteDiag: this.#remoteDiag,
          at: clock.now(),
        });
        break;
      case 'discard':
        break; // counted by receive()
    }
  }

  #transmit(packet: BfdControlPacket): void {
    const key = this.#keys[0];
    let bytes: Uint8Array;
    if (key === undefined) {
      bytes = encodeControlPacket(packet, this.#sendBuffer);
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
    const now = this.#o.clock.now();
    const lateness = now - this.#transmitDueAt;
    if (lateness > this.#o.lateTransmissionSlackMs) this.#counters.lateTransmissions++;
    if (lateness > this.#counters.maxTransmitLatenessMs) this.#counters.maxTransmitLatenessMs = lateness;
    this.#o.onTransmitLateness?.(Math.max(0, lateness));
    this.#apply(TRANSMIT_TIMER_EXPIRED, now);
  }

  #onDetectionExpired(latenessMs: number): void {
    if (this.#stopped) return;
    this.#counters.detectionTimeouts++;
    if (latenessMs > this.#counters.maxDetectionLatenessMs) this.#counters.maxDetectionLatenessMs = latenessMs;
    this.#o.onDetectionLateness?.(latenessMs);
    this.#apply(DETECTION_TIMER_EXPIRED);
  }

  #clearTimer(timer: 'transmit' | 'final'): void {
    const handle = timer === 'transmit' ? this.#transmitTimer : this.#finalTimer;
    if (handle !== undefined) this.#o.clock.clearTimer(handle);
    if (timer === 'transmit') this.#transmitTimer = undefined;
    else this.#finalTimer = undefined;
  }

  #clearTimers(): void {
    this.#clearTimer('transmit');
    this.#clearTimer('final');
    this.#detection.stop();
  }
}
