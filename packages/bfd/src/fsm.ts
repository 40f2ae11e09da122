// The BFD session state machine of RFC 5880 sections 6.1-6.8 (Asynchronous mode) as a pure transition
// function: (session, event, env) -> (session, actions). The I/O edge carries the actions out (sends
// the packets, arms the timers) and feeds back events; nothing here reads a clock or a socket.
//
// Choices: Demand mode is not implemented (bfd.DemandMode is always 0, the D bit never set), but a
// peer's Demand mode is honoured (6.8.7). The Echo function is not implemented: Required Min Echo
// RX Interval is always 0. Authentication is checked before a packet gets here and the auth section
// is added after: this module only keeps bfd.AuthType. Intervals are in microseconds, as on the wire.
//
// It runs for every packet sent and received, so it allocates little: the session is copied only
// when an event changes it (a steady Up session's packets and timers change nothing, and the session
// given is returned as it is), the periodic packet and the detection timer restart of an unchanged
// session are made once and shared (frozen), and the working state of a step is one reused object.
import { assign, changing, current, emit, releaseStep, shared, takeStep, type Step } from './fsm-step.js';
import type { BfdAction, BfdEvent } from './fsm-types.js';
import {
  checkConfig,
  detectionTime,
  finalInterval,
  jitteredTransmitInterval,
  negotiatedTransmitInterval,
  SLOW_DESIRED_MIN_TX_INTERVAL,
  type BfdSession,
} from './session-state.js';
import { BFD_DIAG, type BfdControlPacket, type BfdState } from './types.js';

export {
  createBfdSession,
  detectionTime,
  finalInterval,
  jitteredTransmitInterval,
  negotiatedTransmitInterval,
  SLOW_DESIRED_MIN_TX_INTERVAL,
  type BfdCounters,
  type BfdSession,
  type BfdSessionConfig,
} from './session-state.js';

export type { BfdAction, BfdEvent, BfdTimerName } from './fsm-types.js';

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
  const covers = s.pollCovers ?? {
    desiredMinTxInterval: s.desiredMinTxInterval,
    requiredMinRxInterval: s.requiredMinRxInterval,
  };
  const up = s.sessionState === 'Up';
  s.actingDesiredMinTxInterval = up
    ? Math.min(s.desiredMinTxInterval, covers.desiredMinTxInterval)
    : s.desiredMinTxInterval;
  s.actingRequiredMinRxInterval = up
    ? Math.max(s.requiredMinRxInterval, covers.requiredMinRxInterval)
    : s.requiredMinRxInterval;
  s.pollActive = false;
  s.pollCovers = undefined;
  if (s.pollPending) startPoll(s);
}

/**
 * Brings the advertised values in line with the configuration and the state (1 s floor while not Up).
 * A change starts a Poll Sequence (or queues one behind the running one). While Up a faster TX and a
 * slower RX act at once; a slower TX and a faster RX wait for the Final (6.8.3).
 */
function updateAdvertised(t: Step): void {
  const c = current(t).config;
  const up = current(t).sessionState === 'Up';
  const tx = up ? c.desiredMinTxInterval : Math.max(c.desiredMinTxInterval, SLOW_DESIRED_MIN_TX_INTERVAL);
  const rx = c.requiredMinRxInterval;
  if (
    tx === current(t).desiredMinTxInterval &&
    rx === current(t).requiredMinRxInterval &&
    c.detectMult === current(t).detectMult
  )
    return;
  const s = changing(t);
  s.actingDesiredMinTxInterval = up ? Math.min(s.actingDesiredMinTxInterval, tx) : tx;
  s.actingRequiredMinRxInterval = up ? Math.max(s.actingRequiredMinRxInterval, rx) : rx;
  s.desiredMinTxInterval = tx;
  s.requiredMinRxInterval = rx;
  s.detectMult = c.detectMult;
  if (s.pollActive) s.pollPending = true;
  else startPoll(s);
}

/** RFC 5880 6.8.1/6.8.18: a Detection Time without packets: forget the peer. */
function forgetRemote(t: Step): void {
  assign(t, 'remoteDiscr', 0);
  assign(t, 'remoteSessionState', 'Down');
  assign(t, 'remoteMinRxInterval', 1);
  assign(t, 'remoteDemandMode', false);
  assign(t, 'remoteDesiredMinTxInterval', 0);
  assign(t, 'remoteDetectMult', 0);
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

function setState(t: Step, to: BfdState, diag: number): void {
  const s = changing(t);
  emit(t, { type: 'stateChange', from: s.sessionState, to, diag });
  s.sessionState = to;
  s.localDiag = diag;
  s.lastStateChangeAt = t.now;
  if (to === 'Up') s.counters.upTransitions++;
  t.stateChanged = true;
  updateAdvertised(t);
}

function armTransmit(t: Step): void {
  const interval = negotiatedTransmitInterval(current(t));
  assign(t, 'transmitInterval', interval);
  emit(t, {
    type: 'startTimer',
    timer: 'transmit',
    durationUs: jitteredTransmitInterval(interval, current(t).detectMult, t.random),
  });
}

function send(t: Step, final: boolean): void {
  if (final) {
    const s = changing(t);
    s.finalPending = false;
    s.lastFinalSentAt = t.now;
  } else if (t.copy === undefined) {
    // The periodic packet of a session that has not changed: the same every time.
    const a = shared(t.given);
    emit(t, (a.send ??= Object.freeze({ type: 'send', packet: Object.freeze(controlPacket(t.given, false)) })));
    return;
  }
  emit(t, { type: 'send', packet: controlPacket(current(t), final) });
}

/** Restart the detection timer for the Detection Time in force. */
function restartDetection(t: Step): void {
  if (t.copy === undefined) {
    const a = shared(t.given);
    emit(
      t,
      (a.detection ??= Object.freeze({ type: 'startTimer', timer: 'detection', durationUs: detectionTime(t.given) })),
    );
    return;
  }
  emit(t, { type: 'startTimer', timer: 'detection', durationUs: detectionTime(t.copy) });
}

function discard(t: Step, reason: string): void {
  changing(t).counters.discarded++;
  emit(t, { type: 'discard', reason });
}

/**
 * RFC 5880 6.8.7: a Poll is answered with a Final at once, unless one went out less than
 * finalInterval() ago: then one Final follows when that has passed, for all the Polls in between.
 * Returns whether a Final went out now.
 */
function answerPoll(t: Step): boolean {
  const s = current(t);
  const sinceUs = s.lastFinalSentAt === undefined ? Infinity : (t.now - s.lastFinalSentAt) * 1000;
  const limitUs = finalInterval(s);
  if (sinceUs >= limitUs) {
    if (s.finalPending) emit(t, { type: 'stopTimer', timer: 'final' }); // the limit got shorter meanwhile
    send(t, true);
    return true;
  }
  if (!s.finalPending) {
    changing(t).finalPending = true;
    emit(t, { type: 'startTimer', timer: 'final', durationUs: Math.ceil(limitUs - sinceUs) });
  }
  return false;
}

/**
 * One step of the state machine: the new session and the actions to carry out. `env.now` (ms) stamps
 * state changes and paces Finals; `env.random` (in [0, 1)) jitters the transmit timer. Never mutates
 * its input; returns the session it was given when the event changed nothing.
 */
export function bfdTransition(
  session: BfdSession,
  event: BfdEvent,
  env: { now: number; random: () => number },
): { session: BfdSession; actions: BfdAction[] } {
  const t = takeStep(session, env);
  try {
    transition(t, event);
    return { session: t.copy ?? session, actions: t.actions.slice(0, t.count) as BfdAction[] };
  } finally {
    releaseStep(t);
  }
}

function transition(t: Step, event: BfdEvent): void {
  const session = t.given;
  const stoppedTimer =
    event.type === 'stop' ||
    event.type === 'transmitTimerExpired' ||
    event.type === 'detectionTimerExpired' ||
    event.type === 'finalTimerExpired';
  if (!session.started && stoppedTimer) return; // a stopped session has no timers
  switch (event.type) {
    case 'start':
      if (session.started) break;
      changing(t).started = true;
      if (mayTransmit(current(t))) send(t, false);
      armTransmit(t);
      return;

    case 'stop': {
      const s = changing(t);
      s.started = false;
      emit(t, { type: 'stopTimer', timer: 'transmit' });
      emit(t, { type: 'stopTimer', timer: 'detection' });
      if (s.finalPending) emit(t, { type: 'stopTimer', timer: 'final' });
      s.finalPending = false;
      return;
    }

    case 'adminDown':
      // RFC 5880 6.8.16. Packets keep going out (at 1 s) so the peer learns of it; the detection timer
      // keeps running only to forget the peer after a Detection Time (received packets are discarded).
      if (session.sessionState !== 'AdminDown') setState(t, 'AdminDown', event.diag ?? BFD_DIAG.ADMINISTRATIVELY_DOWN);
      break;

    case 'adminUp':
      if (session.sessionState === 'AdminDown') setState(t, 'Down', session.localDiag);
      break;

    case 'parametersChanged': {
      const c = { ...session.config };
      if (event.desiredMinTxInterval !== undefined) c.desiredMinTxInterval = event.desiredMinTxInterval;
      if (event.requiredMinRxInterval !== undefined) c.requiredMinRxInterval = event.requiredMinRxInterval;
      if (event.detectMult !== undefined) c.detectMult = event.detectMult;
      checkConfig(c);
      changing(t).config = c;
      updateAdvertised(t);
      break;
    }

    case 'transmitTimerExpired':
      if (mayTransmit(session)) send(t, false);
      armTransmit(t);
      return;

    case 'finalTimerExpired':
      if (session.finalPending) send(t, true);
      return;

    case 'detectionTimerExpired':
      // RFC 5880 6.8.4: the session has gone down; 6.8.1: forget the peer's discriminator either way.
      if (session.sessionState === 'Init' || session.sessionState === 'Up')
        setState(t, 'Down', BFD_DIAG.CONTROL_DETECTION_TIME_EXPIRED);
      forgetRemote(t);
      break;

    case 'packetReceived': {
      const p = event.packet;
      const reason = rejectReason(session, p);
      if (reason !== undefined) {
        discard(t, reason);
        return;
      }
      assign(t, 'remoteDiscr', p.myDiscriminator);
      assign(t, 'remoteSessionState', p.state);
      assign(t, 'remoteDemandMode', p.demand);
      assign(t, 'remoteMinRxInterval', p.requiredMinRxInterval);
      assign(t, 'remoteDesiredMinTxInterval', p.desiredMinTxInterval);
      assign(t, 'remoteDetectMult', p.detectMult);
      if (p.final && session.pollActive) endPoll(changing(t));
      const local = current(t).sessionState;
      if (local === 'AdminDown') {
        discard(t, 'session is AdminDown');
        break;
      }
      if (p.state === 'AdminDown') {
        if (local !== 'Down') setState(t, 'Down', BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN);
      } else if (local === 'Down') {
        if (p.state === 'Down') setState(t, 'Init', BFD_DIAG.NONE);
        else if (p.state === 'Init') setState(t, 'Up', BFD_DIAG.NONE);
      } else if (local === 'Init') {
        if (p.state === 'Init' || p.state === 'Up') setState(t, 'Up', BFD_DIAG.NONE);
      } else if (p.state === 'Down') {
        setState(t, 'Down', BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN);
      }
      t.pollReceived = p.poll;
      // With a Required Min RX of 0 we asked for no periodic packets: nothing to time.
      if (current(t).actingRequiredMinRxInterval > 0) restartDetection(t);
      break;
    }
  }

  // RFC 5880 6.8.7: answer a Poll (within the rate limit), whatever the timers or the passive role say;
  // send a packet between periodic ones when its contents changed (a new state), so the peer learns of
  // it quickly, unless a Final just told it.
  const finalSent = t.pollReceived && answerPoll(t);
  if (!finalSent && t.stateChanged && mayTransmit(current(t))) send(t, false);
  // 6.8.3: a shorter transmit interval is honoured at once, not after the running timer.
  const s = current(t);
  if (s.started && negotiatedTransmitInterval(s) < s.transmitInterval) armTransmit(t);
}
