// The RFC 4271 section 8 finite state machine of one BGP connection, as a pure transition function:
// (session, event, clock) -> (session, actions). The I/O edge carries the actions out (sockets,
// timers) and feeds back events; nothing here reads a clock or touches a socket.
//
// Choices among the RFC's optional attributes: no DelayOpen, no SendNOTIFICATIONwithoutOPEN,
// passive mode from the config (and never connect out in it), collision detection decided outside
// (collision.ts; the losing connection gets OpenCollisionDump). Every failure goes to Idle and, while
// the session is started, re-starts after an IdleHold pause whose length depends on the kind of
// failure (failure-kind.ts):
// - a transport failure (refused, unreachable, reset, timed out, hold timer expiry, BFD down, the
//   peer's own Cease for a restart or reset) pauses reconnectTime, doubling per consecutive transport
//   failure up to maxReconnectTime (a second by default), and forgotten once a session is Established:
//   active-only sessions have only our own timer to come back, so it must stay short whatever
//   happened before;
// - a protocol failure (an OPEN or UPDATE error either way, a NOTIFICATION of anything else, FSM
//   errors, maximum prefixes) backs off as RFC 4271 8.1.1 DampPeerOscillations: idleHoldTime doubling
//   per consecutive protocol failure up to maxIdleHoldTime, so a misconfigured peer is not hammered;
//   the count is reset when a session that stayed Established for stableTime ends, and decays (starts
//   again at one) when the previous protocol failure is older than twice maxIdleHoldTime.
// We never answer a NOTIFICATION with one.
import {
  CEASE_SUBCODE,
  ERROR_CODE,
  toHex,
  type NotificationMessage,
  type OpenMessage,
  type RouteRefreshMessage,
  type PackedUpdateMessage,
  type UpdateMessage,
} from '@bgp-announce/bgp-wire';
import type { PeerConfig } from './config.js';
import { buildOpen, cease, checkOpen, type NegotiatedSession } from './open-policy.js';
import { withHardReset } from './graceful-restart.js';
import type { DownReason, SocketError } from './down-reason.js';
import { automaticStopFailureKind, notificationFailureKind, type FailureKind } from './failure-kind.js';

export type { DownReason, SocketError } from './down-reason.js';

export type FsmStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';
export type TimerName = 'ConnectRetry' | 'Hold' | 'Keepalive' | 'IdleHold';

/** The parts of a BgpWireError the FSM uses (a BgpWireError fits). */
export interface WireErrorLike {
  code: number;
  subcode: number;
  data: Uint8Array;
  message: string;
}

/** RFC 4271 8.1 events (names kept), plus UpdateSent (restarts our KeepaliveTimer, RFC 4271 4.4). */
export type FsmEvent =
  | { type: 'ManualStart' }
  | { type: 'AutomaticStart' }
  /**
   * Cease to send: subcode (default 2, Administrative Shutdown) and an RFC 9003 shutdown communication.
   * `notify: false` closes without a NOTIFICATION (leaving for a graceful restart, RFC 4724 4.1).
   */
  | { type: 'ManualStop'; subcode?: number; shutdownMessage?: string; notify?: boolean }
  /** E.g. maximum prefixes reached (Cease 1) or BFD down (Cease 10); the session re-starts after back-off. */
  /** `data` (hex) goes in the Cease, e.g. RFC 4486's AFI, SAFI and limit for Cease 1; `reason` in the down reason. */
  | { type: 'AutomaticStop'; subcode: number; shutdownMessage?: string; data?: string; reason?: string }
  | { type: 'ConnectRetryTimerExpires' }
  | { type: 'HoldTimerExpires' }
  | { type: 'KeepaliveTimerExpires' }
  | { type: 'IdleHoldTimerExpires' }
  /** Our outbound connection is up (RFC Tcp_CR_Acked). */
  | { type: 'TcpCrAcked' }
  /** We accepted the peer's inbound connection. */
  | { type: 'TcpConnectionConfirmed' }
  /** `error`: what the socket said (e.g. ECONNREFUSED), kept in lastDown. */
  | { type: 'TcpConnectionFails'; error?: SocketError }
  | { type: 'BGPOpen'; open: OpenMessage }
  | { type: 'BGPHeaderErr'; error: WireErrorLike }
  | { type: 'BGPOpenMsgErr'; error: WireErrorLike }
  | { type: 'NotifMsg'; notification: NotificationMessage }
  | { type: 'KeepAliveMsg' }
  | { type: 'UpdateMsg'; update?: UpdateMessage; packed?: PackedUpdateMessage }
  | { type: 'UpdateMsgErr'; error: WireErrorLike }
  | { type: 'RouteRefreshMsg'; message?: RouteRefreshMessage }
  | { type: 'UpdateSent' }
  /** Collision resolution chose to close this connection (RFC 4271 6.8). */
  | { type: 'OpenCollisionDump' }
  /**
   * Collision resolution (RFC 4271 6.8) kept the peer's inbound connection over ours, which is in
   * OpenSent or OpenConfirm: Cease 7 on ours, then the session goes on over the inbound one from OpenSent.
   */
  | { type: 'CollisionKeepInbound' };

/** What the I/O edge must do, in order. Stopping a timer that is not running is a no-op. */
export type FsmAction =
  | { type: 'connect' }
  /** Accept (or stop accepting) inbound connections from this peer. Never true in active mode. */
  | { type: 'accept'; enabled: boolean }
  | { type: 'close' }
  /** Make the waiting inbound connection the session's connection (after 'close' of the old one). */
  | { type: 'takeInbound' }
  | { type: 'send'; message: OpenMessage | NotificationMessage | { type: 'KEEPALIVE' } }
  | { type: 'startTimer'; timer: TimerName; durationMs: number }
  | { type: 'stopTimer'; timer: TimerName }
  | { type: 'established'; negotiated: NegotiatedSession }
  | { type: 'down'; reason: DownReason };

export interface SessionCounters {
  opensIn: number;
  opensOut: number;
  updatesIn: number;
  keepalivesIn: number;
  keepalivesOut: number;
  notificationsIn: number;
  notificationsOut: number;
  routeRefreshesIn: number;
  establishedTransitions: number;
}

/** Everything the FSM remembers: plain data, never mutated by transition (it returns a new one). */
export interface SessionState {
  config: PeerConfig;
  state: FsmStateName;
  /** Started (ManualStart/AutomaticStart) and not stopped since: failures re-start after IdleHold. */
  started: boolean;
  /** RFC 4271 ConnectRetryCounter: failures since the last ManualStart/ManualStop. */
  connectRetryCounter: number;
  /** Protocol failures since the last stable session (decaying); drives the back-off. */
  consecutiveFailures: number;
  /** When the last protocol failure happened (ms), for the decay. */
  lastProtocolFailureAt?: number;
  /** Transport failures since the session was last Established; drives the short reconnect pause. */
  transportFailures: number;
  /** The IdleHold pause armed at the last failure (ms), 0 when none is pending (its kind: lastDown.failure). */
  idleHoldMs: number;
  /** Set from OpenConfirm on: what the OPENs agreed. */
  negotiated?: NegotiatedSession;
  establishedAt?: number;
  /**
   * The last time the session or an attempt ended, and why; for a failure, its kind and the pause
   * armed before the next attempt (ms; absent when the session was not started).
   */
  lastDown?: DownReason & { at: number; state: FsmStateName; failure?: FailureKind; pauseMs?: number };
  counters: SessionCounters;
}

/** A session in Idle, not started. */
export function initialSession(config: PeerConfig): SessionState {
  return {
    config,
    state: 'Idle',
    started: false,
    connectRetryCounter: 0,
    consecutiveFailures: 0,
    transportFailures: 0,
    idleHoldMs: 0,
    counters: {
      opensIn: 0,
      opensOut: 0,
      updatesIn: 0,
      keepalivesIn: 0,
      keepalivesOut: 0,
      notificationsIn: 0,
      notificationsOut: 0,
      routeRefreshesIn: 0,
      establishedTransitions: 0,
    },
  };
}

/** RFC 4271 10: a jittered timer runs 75-100 % of its base. random() is in [0, 1). */
export function jitter(baseMs: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.floor(baseMs * (0.75 + 0.25 * r));
}

/** `firstS` doubled per failure after the first, capped at `capS`; in ms. */
function doublingMs(firstS: number, capS: number, failures: number): number {
  return Math.min(firstS * 2 ** Math.max(0, Math.min(failures - 1, 30)), capS) * 1000;
}

/** The IdleHold back-off (ms) after `failures` consecutive protocol failures: idleHoldTime * 2^(n-1), capped. */
export function backoffMs(config: PeerConfig, failures: number): number {
  return doublingMs(config.idleHoldTime, config.maxIdleHoldTime, failures);
}

/** The pause (ms, before jitter) after `failures` consecutive transport failures: reconnectTime * 2^(n-1), capped. */
export function reconnectMs(config: PeerConfig, failures: number): number {
  return doublingMs(config.reconnectTime, config.maxReconnectTime, failures);
}

/** The NOTIFICATION a decode error asks for. */
export function notificationOf(error: WireErrorLike): NotificationMessage {
  const n: NotificationMessage = { type: 'NOTIFICATION', code: error.code, subcode: error.subcode };
  if (error.data.length > 0) n.data = toHex(error.data);
  return n;
}

const FSM_SUBCODE: Partial<Record<FsmStateName, number>> = { OpenSent: 1, OpenConfirm: 2, Established: 3 };

/**
 * One step of the FSM: the new session and the actions to carry out. `env.now` (ms) stamps the
 * session's history; `env.random` jitters ConnectRetry and Keepalive timers.
 */
export function transition(
  session: SessionState,
  event: FsmEvent,
  env: { now: number; random: () => number },
): { session: SessionState; actions: FsmAction[] } {
  const s: SessionState = { ...session, counters: { ...session.counters } };
  const c = s.config;
  const actions: FsmAction[] = [];
  const from = s.state;

  const send = (message: OpenMessage | NotificationMessage | { type: 'KEEPALIVE' }): void => {
    actions.push({ type: 'send', message });
    if (message.type === 'OPEN') s.counters.opensOut++;
    else if (message.type === 'KEEPALIVE') s.counters.keepalivesOut++;
    else s.counters.notificationsOut++;
  };
  const start = (timer: TimerName, durationMs: number): void =>
    void actions.push({ type: 'startTimer', timer, durationMs });
  const stop = (timer: TimerName): void => void actions.push({ type: 'stopTimer', timer });
  const holdMs = (): number => (s.negotiated?.holdTime ?? 0) * 1000;
  const keepaliveMs = (): number => jitter((s.negotiated?.keepaliveTime ?? 0) * 1000, env.random);

  /** Leaves for Idle. A failure arms the pause its kind asks for while started; `stopSession` ends the session. */
  const goIdle = (reason: DownReason, how: { failure: FailureKind | false; stopSession?: boolean }): void => {
    stop('ConnectRetry');
    stop('Hold');
    stop('Keepalive');
    actions.push({ type: 'close' });
    if (c.mode !== 'active') actions.push({ type: 'accept', enabled: false });
    if (from === 'Established') {
      actions.push({ type: 'down', reason });
      if (s.establishedAt !== undefined && env.now - s.establishedAt >= c.stableTime * 1000) s.consecutiveFailures = 0;
    }
    s.lastDown = { ...reason, at: env.now, state: from };
    delete s.negotiated;
    delete s.establishedAt;
    s.state = 'Idle';
    if (how.stopSession) {
      s.started = false;
      s.connectRetryCounter = 0;
      s.consecutiveFailures = 0;
      s.transportFailures = 0;
      s.idleHoldMs = 0;
      delete s.lastProtocolFailureAt;
      return;
    }
    if (how.failure) {
      s.connectRetryCounter++;
      const kind = how.failure;
      if (kind === 'transport') {
        s.transportFailures++;
        s.idleHoldMs = jitter(reconnectMs(c, s.transportFailures), env.random);
      } else {
        const decayed =
          s.lastProtocolFailureAt !== undefined && env.now - s.lastProtocolFailureAt > 2 * c.maxIdleHoldTime * 1000;
        s.consecutiveFailures = decayed ? 1 : s.consecutiveFailures + 1;
        s.lastProtocolFailureAt = env.now;
        s.idleHoldMs = backoffMs(c, s.consecutiveFailures);
      }
      s.lastDown.failure = kind;
      if (s.started) {
        start('IdleHold', s.idleHoldMs);
        s.lastDown.pauseMs = s.idleHoldMs;
      } else s.idleHoldMs = 0;
    }
  };
  const notify = (notification: NotificationMessage, message: string, stopSession = false): void => {
    send(notification);
    goIdle(
      { kind: 'notification-sent', message, notification },
      { failure: notificationFailureKind(notification), stopSession },
    );
  };
  /** A Cease that ends an Established session becomes a Hard Reset where RFC 8538 asks for one. */
  const established = (n: NotificationMessage): NotificationMessage =>
    from === 'Established' ? withHardReset(c, s.negotiated, n) : n;
  const fsmError = (): void => {
    const subcode = FSM_SUBCODE[from] ?? 0;
    notify({ type: 'NOTIFICATION', code: ERROR_CODE.FSM, subcode }, `unexpected ${event.type} in ${from}`);
  };
  const begin = (): void => {
    s.idleHoldMs = 0;
    if (c.mode === 'passive') {
      actions.push({ type: 'accept', enabled: true });
      s.state = 'Active';
      return;
    }
    start('ConnectRetry', jitter(c.connectRetryTime * 1000, env.random));
    if (c.mode === 'both') actions.push({ type: 'accept', enabled: true });
    actions.push({ type: 'connect' });
    s.state = 'Connect';
  };
  const openSent = (): void => {
    stop('ConnectRetry');
    send(buildOpen(c));
    start('Hold', c.openHoldTime * 1000);
    s.state = 'OpenSent';
  };

  switch (event.type) {
    case 'BGPOpen':
      s.counters.opensIn++;
      break;
    case 'NotifMsg':
      s.counters.notificationsIn++;
      break;
    case 'KeepAliveMsg':
      s.counters.keepalivesIn++;
      break;
    case 'UpdateMsg':
      s.counters.updatesIn++;
      break;
    case 'RouteRefreshMsg':
      s.counters.routeRefreshesIn++;
      break;
    default:
      break;
  }

  // Events handled alike in every state but Idle.
  if (from !== 'Idle') {
    switch (event.type) {
      case 'ManualStart':
      case 'AutomaticStart':
      case 'IdleHoldTimerExpires':
        return { session: s, actions };
      case 'ManualStop': {
        const message = `stopped by the operator${event.shutdownMessage ? `: ${event.shutdownMessage}` : ''}`;
        if (from === 'Connect' || from === 'Active' || event.notify === false)
          goIdle({ kind: 'manual-stop', message }, { failure: false, stopSession: true });
        else {
          const notification = established(
            cease(event.subcode ?? CEASE_SUBCODE.ADMINISTRATIVE_SHUTDOWN, event.shutdownMessage),
          );
          send(notification);
          goIdle({ kind: 'manual-stop', message, notification }, { failure: false, stopSession: true });
        }
        return { session: s, actions };
      }
      case 'TcpConnectionFails':
        goIdle(
          {
            kind: 'connection-failed',
            message: `TCP connection failed in ${from}${event.error ? `: ${event.error.message}` : ''}`,
            ...(event.error ? { socketError: event.error } : {}),
          },
          { failure: 'transport' },
        );
        return { session: s, actions };
      case 'NotifMsg':
        if (from !== 'Connect' && from !== 'Active') {
          goIdle(
            {
              kind: 'notification-received',
              message: `peer sent NOTIFICATION ${event.notification.code}/${event.notification.subcode}`,
              notification: event.notification,
            },
            { failure: notificationFailureKind(event.notification) },
          );
          return { session: s, actions };
        }
        break;
      default:
        break;
    }
  }

  switch (from) {
    case 'Idle':
      if (event.type === 'ManualStart') {
        s.started = true;
        s.connectRetryCounter = 0;
        if (s.idleHoldMs > 0) stop('IdleHold');
        begin();
      } else if (event.type === 'AutomaticStart') {
        s.started = true;
        if (s.idleHoldMs === 0) begin();
      } else if (event.type === 'IdleHoldTimerExpires') {
        if (s.started) begin();
      } else if (event.type === 'ManualStop') {
        if (s.idleHoldMs > 0) stop('IdleHold');
        s.started = false;
        s.connectRetryCounter = 0;
        s.consecutiveFailures = 0;
        s.transportFailures = 0;
        s.idleHoldMs = 0;
        delete s.lastProtocolFailureAt;
      } else if (event.type === 'TcpConnectionConfirmed' || event.type === 'TcpCrAcked') {
        actions.push({ type: 'close' });
      }
      break;

    case 'Connect':
    case 'Active':
      if (event.type === 'TcpCrAcked' || event.type === 'TcpConnectionConfirmed') openSent();
      else if (event.type === 'ConnectRetryTimerExpires') {
        if (c.mode === 'passive') break;
        if (from === 'Connect') actions.push({ type: 'close' });
        start('ConnectRetry', jitter(c.connectRetryTime * 1000, env.random));
        actions.push({ type: 'connect' });
        s.state = 'Connect';
      } else if (event.type === 'AutomaticStop') {
        goIdle(
          { kind: 'connection-failed', message: `stopped automatically (Cease ${event.subcode}) in ${from}` },
          { failure: automaticStopFailureKind(event.subcode) },
        );
      } else if (event.type !== 'UpdateSent') {
        // RFC 4271 8.2.2: any other event drops the connection without a NOTIFICATION (no OPEN was sent).
        goIdle({ kind: 'connection-failed', message: `unexpected ${event.type} in ${from}` }, { failure: 'protocol' });
      }
      break;

    case 'OpenSent':
    case 'OpenConfirm':
    case 'Established':
      switch (event.type) {
        case 'TcpCrAcked':
        case 'TcpConnectionConfirmed':
          break; // a second connection: collision.ts decides, the loser gets OpenCollisionDump
        case 'AutomaticStop':
          {
            const n = cease(event.subcode, event.shutdownMessage);
            if (event.data !== undefined) n.data = event.data;
            notify(
              established(n),
              `stopped automatically (Cease ${event.subcode})${event.reason ? `: ${event.reason}` : ''}`,
            );
          }
          break;
        case 'HoldTimerExpires':
          notify(
            { type: 'NOTIFICATION', code: ERROR_CODE.HOLD_TIMER_EXPIRED, subcode: 0 },
            `hold timer expired in ${from}`,
          );
          break;
        case 'OpenCollisionDump':
          notify(
            cease(CEASE_SUBCODE.CONNECTION_COLLISION_RESOLUTION),
            'connection collision: this connection lost',
            true,
          );
          break;
        case 'CollisionKeepInbound':
          if (from === 'Established') {
            fsmError();
            break;
          }
          send(cease(CEASE_SUBCODE.CONNECTION_COLLISION_RESOLUTION));
          stop('Hold');
          stop('Keepalive');
          actions.push({ type: 'close' }, { type: 'takeInbound' });
          delete s.negotiated;
          openSent();
          break;
        case 'BGPHeaderErr':
        case 'BGPOpenMsgErr':
        case 'UpdateMsgErr':
          if (event.type === 'UpdateMsgErr' && from !== 'Established') fsmError();
          else notify(notificationOf(event.error), event.error.message);
          break;
        case 'BGPOpen':
          if (from !== 'OpenSent') {
            fsmError();
            break;
          }
          {
            const check = checkOpen(c, event.open);
            if (!check.ok) {
              notify(check.notification, check.reason);
              break;
            }
            s.negotiated = check.negotiated;
            send({ type: 'KEEPALIVE' });
            if (check.negotiated.holdTime > 0) {
              start('Keepalive', keepaliveMs());
              start('Hold', holdMs());
            } else stop('Hold');
            s.state = 'OpenConfirm';
          }
          break;
        case 'KeepaliveTimerExpires':
          if (from === 'OpenSent') fsmError();
          else if (holdMs() > 0) {
            send({ type: 'KEEPALIVE' });
            start('Keepalive', keepaliveMs());
          }
          break;
        case 'UpdateSent':
          if (from === 'Established' && holdMs() > 0) start('Keepalive', keepaliveMs());
          break;
        case 'KeepAliveMsg':
          if (from === 'OpenSent') {
            fsmError();
            break;
          }
          if (holdMs() > 0) start('Hold', holdMs());
          if (from === 'OpenConfirm') {
            s.state = 'Established';
            s.establishedAt = env.now;
            s.transportFailures = 0;
            s.counters.establishedTransitions++;
            // RFC 4724 3: the Restart State bit goes in the first OPEN after our restart only.
            if (c.gracefulRestart?.restarting)
              s.config = { ...c, gracefulRestart: { ...c.gracefulRestart, restarting: false } };
            actions.push({ type: 'established', negotiated: s.negotiated! });
          }
          break;
        case 'UpdateMsg':
        case 'RouteRefreshMsg':
          if (from !== 'Established') fsmError();
          else if (holdMs() > 0) start('Hold', holdMs());
          break;
        case 'ConnectRetryTimerExpires':
          fsmError();
          break;
        default:
          break;
      }
      break;
  }
  return { session: s, actions };
}
