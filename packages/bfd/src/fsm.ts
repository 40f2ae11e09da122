// The BFD session state machine of RFC 5880 sections 6.1-6.8 (Asynchronous mode) as a pure transition
// function: (session, event, env) -> (session, actions). The I/O edge carries the actions out (sends
// the packets, arms the timers) and feeds back events; nothing here reads a clock or a socket.
//
// Choices: Demand mode is not implemented (bfd.DemandMode is always 0, the D bit never set), but a
// peer's Demand mode is honoured (6.8.7). The Echo function is not implemented: Required Min Echo
// RX Interval is always 0. Authentication is checked before a packet gets here and the auth section
// is added after: this module only keeps bfd.AuthType. Intervals are in microseconds, as on the wire.
import { BFD_DIAG, type BfdAuthType, type BfdControlPacket, type BfdState } from './types.js';

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

export type BfdTimerName = 'transmit' | 'detection';

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

export interface BfdCounters {
  controlPacketsIn: number;
  controlPacketsOut: number;
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

function checkConfig(c: BfdSessionConfig): void {
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
    lastStateChangeAt: now,
    counters: { controlPacketsIn: 0, controlPacketsOut: 0, discarded: 0, upTransitions: 0 },
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

/** RFC 5880 6.8.7: whether periodic packets may go out now. */
function mayTransmit(s: BfdSession): boolean {
  if (!s.started) return false;
  if (s.config.passive && s.remoteDiscr === 0) return false;
  if (s.remoteMinRxInterval === 0) return false;
  const remoteDemandActive = s.remoteDemandMode && s.sessionState === 'Up' && s.remoteSessionState === 'Up';
  return !remoteDemandActive || s.pollActive;
}

/** RFC 5880 6.8.7: the packet we send now. A Final never carries Poll (6.5). */
function controlPacket(s: BfdSession, final: boolean): BfdControlPacket {
  return {
    version: 1,
    diag: s.localDiag,
    state: s.sessionState,
    poll: s.pollActive && !final,
    final,
    controlPlaneIndependent: false,
    demand: false,
    multipoint: false,
    detectMult: s.detectMult,
    myDiscriminator: s.localDiscr,
    yourDiscriminator: s.remoteDiscr,
    desiredMinTxInterval: s.desiredMinTxInterval,
    requiredMinRxInterval: s.requiredMinRxInterval,
    requiredMinEchoRxInterval: 0,
  };
}

function startPoll(s: BfdSession): void {
  s.pollActive = true;
  s.pollPending = false;
  s.pollCovers = { desiredMinTxInterval: s.desiredMinTxInterval, requiredMinRxInterval: s.requiredMinRxInterval };
}

/** RFC 5880 6.5/6.8.3: a Final ended our Poll Sequence: the values it announced are now in force. */
function endPoll(s: BfdSession): void {
  const covers = s.pollCovers ?? { desiredMinTxInterval: s.desiredMinTxInterval, requiredMinRxInterval: s.requiredMinRxInterval };
  const up = s.sessionState === 'Up';
  s.actingDesiredMinTxInterval = up ? Math.min(s.desiredMinTxInterval, covers.desiredMinTxInterval) : s.desiredMinTxInterval;
  s.actingRequiredMinRxInterval = up ? Math.max(s.requiredMinRxInterval, covers.requiredMinRxInterval) : s.requiredMinRxInterval;
  s.pollActive = false;
  s.pollCovers = undefined;
  if (s.pollPending) startPoll(s);
}

/**
 * Brings the advertised values in line with the configuration and the state (1 s floor while not Up).
 * A change starts a Poll Sequence (or queues one behind the running one). While Up a faster TX and a
 * slower RX act at once; a slower TX and a faster RX wait for the Final (6.8.3).
 */
function updateAdvertised(s: BfdSession): void {
  const c = s.config;
  const up = s.sessionState === 'Up';
  const tx = up ? c.desiredMinTxInterval : Math.max(c.desiredMinTxInterval, SLOW_DESIRED_MIN_TX_INTERVAL);
  const rx = c.requiredMinRxInterval;
  if (tx === s.desiredMinTxInterval && rx === s.requiredMinRxInterval && c.detectMult === s.detectMult) return;
  s.actingDesiredMinTxInterval = up ? Math.min(s.actingDesiredMinTxInterval, tx) : tx;
  s.actingRequiredMinRxInterval = up ? Math.max(s.actingRequiredMinRxInterval, rx) : rx;
  s.desiredMinTxInterval = tx;
  s.requiredMinRxInterval = rx;
  s.detectMult = c.detectMult;
  if (s.pollActive) s.pollPending = true;
  else startPoll(s);
}

/** RFC 5880 6.8.1/6.8.18: a Detection Time without packets: forget the peer. */
function forgetRemote(s: BfdSession): void {
  s.remoteDiscr = 0;
  s.remoteSessionState = 'Down';
  s.remoteMinRxInterval = 1;
  s.remoteDemandMode = false;
  s.remoteDesiredMinTxInterval = 0;
  s.remoteDetectMult = 0;
}

/** Why RFC 5880 6.8.6 drops this packet before touching the session, or undefined to go on. */
function rejectReason(s: BfdSession, p: BfdControlPacket): string | undefined {
  if (!s.started) return 'session not started';
  if (p.version !== 1) return `version ${p.version} is not 1`;
  if (p.detectMult === 0) return 'Detect Mult is 0';
  if (p.multipoint) return 'Multipoint (M) bit set';
  if (p.myDiscriminator === 0) return 'My Discriminator is 0';
  if (p.yourDiscriminator !== 0 && p.yourDiscriminator !== s.localDiscr) {
    return `Your Discriminator ${p.yourDiscriminator} is not ours (${s.localDiscr})`;
  }
  if (p.yourDiscriminator === 0 && p.state !== 'Down' && p.state !== 'AdminDown') {
    return `Your Discriminator 0 with state ${p.state} (only Down or AdminDown may omit it)`;
  }
  return undefined;
}

/**
 * One step of the state machine: the new session and the actions to carry out. `env.now` (ms) stamps
 * state changes; `env.random` (in [0, 1)) jitters the transmit timer. Never mutates its input.
 */
export function bfdTransition(session: BfdSession, event: BfdEvent, env: { now: number; random: () => number }): { session: BfdSession; actions: BfdAction[] } {
  const s: BfdSession = { ...session, config: { ...session.config }, counters: { ...session.counters } };
  const actions: BfdAction[] = [];
  let stateChanged = false;
  let sendFinal = false;

  const setState = (to: BfdState, diag: number): void => {
    actions.push({ type: 'stateChange', from: s.sessionState, to, diag });
    s.sessionState = to;
    s.localDiag = diag;
    s.lastStateChangeAt = env.now;
    if (to === 'Up') s.counters.upTransitions++;
    stateChanged = true;
    updateAdvertised(s);
  };
  const armTransmit = (): void => {
    s.transmitInterval = negotiatedTransmitInterval(s);
    actions.push({ type: 'startTimer', timer: 'transmit', durationUs: jitteredTransmitInterval(s.transmitInterval, s.detectMult, env.random) });
  };
  const send = (final: boolean): void => {
    actions.push({ type: 'send', packet: controlPacket(s, final) });
    s.counters.controlPacketsOut++;
  };
  const discard = (reason: string): { session: BfdSession; actions: BfdAction[] } => {
    s.counters.discarded++;
    actions.push({ type: 'discard', reason });
    return { session: s, actions };
  };

  if (!s.started && (event.type === 'stop' || event.type === 'transmitTimerExpired' || event.type === 'detectionTimerExpired')) {
    return { session: s, actions }; // a stopped session has no timers
  }

  switch (event.type) {
    case 'start':
      if (s.started) break;
      s.started = true;
      if (mayTransmit(s)) send(false);
      armTransmit();
      return { session: s, actions };

    case 'stop':
      s.started = false;
      actions.push({ type: 'stopTimer', timer: 'transmit' }, { type: 'stopTimer', timer: 'detection' });
      return { session: s, actions };

    case 'adminDown':
      // RFC 5880 6.8.16. Packets keep going out (at 1 s) so the peer learns of it; the detection timer
      // keeps running only to forget the peer after a Detection Time (received packets are discarded).
      if (s.sessionState !== 'AdminDown') setState('AdminDown', event.diag ?? BFD_DIAG.ADMINISTRATIVELY_DOWN);
      break;

    case 'adminUp':
      if (s.sessionState === 'AdminDown') setState('Down', s.localDiag);
      break;

    case 'parametersChanged': {
      const c = { ...s.config };
      if (event.desiredMinTxInterval !== undefined) c.desiredMinTxInterval = event.desiredMinTxInterval;
      if (event.requiredMinRxInterval !== undefined) c.requiredMinRxInterval = event.requiredMinRxInterval;
      if (event.detectMult !== undefined) c.detectMult = event.detectMult;
      checkConfig(c);
      s.config = c;
      updateAdvertised(s);
      break;
    }

    case 'transmitTimerExpired':
      if (mayTransmit(s)) send(false);
      armTransmit();
      return { session: s, actions };

    case 'detectionTimerExpired':
      // RFC 5880 6.8.4: the session has gone down; 6.8.1: forget the peer's discriminator either way.
      if (s.sessionState === 'Init' || s.sessionState === 'Up') setState('Down', BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
      forgetRemote(s);
      break;

    case 'packetReceived': {
      s.counters.controlPacketsIn++;
      const p = event.packet;
      const reason = rejectReason(s, p);
      if (reason !== undefined) return discard(reason);
      s.remoteDiscr = p.myDiscriminator;
      s.remoteSessionState = p.state;
      s.remoteDemandMode = p.demand;
      s.remoteMinRxInterval = p.requiredMinRxInterval;
      s.remoteDesiredMinTxInterval = p.desiredMinTxInterval;
      s.remoteDetectMult = p.detectMult;
      if (p.final && s.pollActive) endPoll(s);
      if (s.sessionState === 'AdminDown') {
        s.counters.discarded++;
        actions.push({ type: 'discard', reason: 'session is AdminDown' });
        break;
      }
      const local = s.sessionState;
      if (p.state === 'AdminDown') {
        if (local !== 'Down') setState('Down', BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN);
      } else if (local === 'Down') {
        if (p.state === 'Down') setState('Init', BFD_DIAG.NONE);
        else if (p.state === 'Init') setState('Up', BFD_DIAG.NONE);
      } else if (local === 'Init') {
        if (p.state === 'Init' || p.state === 'Up') setState('Up', BFD_DIAG.NONE);
      } else if (p.state === 'Down') {
        setState('Down', BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN);
      }
      if (p.poll) sendFinal = true;
      // With a Required Min RX of 0 we asked for no periodic packets: nothing to time.
      if (s.actingRequiredMinRxInterval > 0) actions.push({ type: 'startTimer', timer: 'detection', durationUs: detectionTime(s) });
      break;
    }
  }

  // RFC 5880 6.8.7: answer a Poll at once, whatever the timers or the passive role say; send a packet
  // between periodic ones when its contents changed (a new state), so the peer learns of it quickly.
  if (sendFinal) send(true);
  else if (stateChanged && mayTransmit(s)) send(false);
  // 6.8.3: a shorter transmit interval is honoured at once, not after the running timer.
  if (s.started && negotiatedTransmitInterval(s) < s.transmitInterval) armTransmit();
  return { session: s, actions };
}
