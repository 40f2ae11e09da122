// The I/O edge of one BGP session: it owns the TCP connection (and, in passive/both mode, a listener)
// and the timers, turns received bytes into FSM events with bgp-wire's framer and decoder, and carries
// out the actions transition() returns. All decisions stay in fsm.ts; this file only does I/O.
//
// Connection collision (RFC 4271 6.8): an inbound connection taken before ours is up replaces our
// pending attempt; one that arrives while ours is in OpenSent or OpenConfirm is read up to the peer's
// OPEN (inbound-candidate.ts) and then one of the two is closed with Cease 7 by the BGP identifiers
// (collision.ts); while Established, a new inbound connection is closed.
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  CEASE_SUBCODE,
  MessageFramer,
  encodeMessage,
  type CodecContext,
  type NotificationMessage,
  type RouteRefreshMessage,
  type PackedUpdateMessage,
  type UpdateMessage,
} from '@bgp-announce/bgp-wire';
import type { PeerConfig } from './config.js';
import { TIMER_EVENT, addressInUseMessage, messageEvent } from './driver-events.js';
import { detectCollision, type ConnectionDirection } from './collision.js';
import { InboundCandidate } from './inbound-candidate.js';
import { cease } from './open-policy.js';
import {
  initialSession,
  transition,
  type FsmAction,
  type FsmEvent,
  type FsmStateName,
  type SessionState,
  type TimerName,
} from './fsm.js';
import type { DownReason, SocketError } from './down-reason.js';
import type { NegotiatedSession } from './open-policy.js';
import { systemClock, type Clock, type TimerHandle } from './clock.js';
import type { MessageLog } from './message-log.js';

export { addressInUseMessage, wireErrorEvent } from './driver-events.js';
import { TransportSetupError, connectTransport, listenTransport, type TransportOptions } from './transport.js';

export type { TransportOptions } from './transport.js';

/** A SessionDriver's configuration: the peer, the transport, and (for tests) the clock and randomness. */
export interface SessionDriverOptions extends TransportOptions {
  config: PeerConfig;
  /** Where to record every message sent and received (for the daemon's admin endpoint). */
  messageLog?: MessageLog;
  clock?: Clock;
  random?: () => number;
}

/** The grid Keepalive and Hold timers of at least TIMER_GRID_MIN_MS fire on (see alignedFiring). */
export const TIMER_GRID_MS = 1000;
/** Shorter Keepalive and Hold timers fire at their exact time. */
export const TIMER_GRID_MIN_MS = 8000;

/**
 * When a timer due at `due` fires. Keepalive and Hold timers of TIMER_GRID_MIN_MS or more fire on a
 * whole TIMER_GRID_MS of the clock: the Keepalive timer at the boundary before its due time (a
 * KEEPALIVE up to 1 s early, never late), the Hold timer at the one after (expiry noticed up to 1 s
 * late, never early: BIRD and FRR count hold times in whole seconds too). The timers of every session
 * then fall due together, so 100 idle sessions wake the event loop about once a second instead of
 * once per timer.
 */
export function alignedFiring(timer: TimerName, now: number, due: number): number {
  if ((timer !== 'Keepalive' && timer !== 'Hold') || due - now < TIMER_GRID_MIN_MS) return due;
  return timer === 'Keepalive'
    ? Math.floor(due / TIMER_GRID_MS) * TIMER_GRID_MS
    : Math.ceil(due / TIMER_GRID_MS) * TIMER_GRID_MS;
}

/** Events a SessionDriver emits. */
export interface SessionDriverEvents {
  state: [to: FsmStateName, from: FsmStateName];
  established: [negotiated: NegotiatedSession];
  /**
   * An UPDATE in Established: `update` in string form (built when its prefix fields are first read),
   * and the same message with its prefixes packed (decodeUpdatePacked), which costs no string per prefix.
   */
  update: [update: UpdateMessage, packed: PackedUpdateMessage];
  routeRefresh: [message: RouteRefreshMessage];
  notificationSent: [notification: NotificationMessage];
  notificationReceived: [notification: NotificationMessage];
  /** The Established session ended. */
  down: [reason: DownReason];
  /** The listener is up (passive/both mode), with the address and port it got. */
  listening: [address: { address: string; port: number }];
  /** Something went wrong that the session survives (listener failure, socket errors). */
  error: [error: Error];
  /** Two connections to the peer (RFC 4271 6.8): which one was kept; the other got Cease 7. */
  collision: [kept: ConnectionDirection, peerBgpId: string];
}

/** One BGP session over TCP, driven by the pure FSM. */
export class SessionDriver extends EventEmitter<SessionDriverEvents> {
  readonly options: Readonly<Omit<SessionDriverOptions, 'config'>>;
  private session: SessionState;
  private readonly clock: Clock;
  private readonly random: () => number;
  /** Running timers: when each is due, and when its clock timer fires (earlier if it was pushed back). */
  private readonly timers = new Map<TimerName, { due: number; firesAt: number; handle: TimerHandle }>();
  private socket: net.Socket | undefined;
  private connected = false;
  /** The current connection is the one we opened. */
  private outbound = false;
  /** A second, inbound connection waiting for the peer's OPEN (collision). */
  private candidate: InboundCandidate | undefined;
  /** The inbound connection collision resolution kept, for the FSM's takeInbound action. */
  private keptInbound: { socket: net.Socket; framer: MessageFramer } | undefined;
  private framer = new MessageFramer();
  private receiveCtx: CodecContext | undefined;
  private sendCtx: CodecContext | undefined;
  private server: net.Server | undefined;
  private accepting = false;
  private readonly closing = new Set<Promise<void>>();
  private readonly queue: FsmEvent[] = [];
  private running = false;

  constructor(options: SessionDriverOptions) {
    super();
    const { config, ...rest } = options;
    this.options = rest;
    this.session = initialSession(config);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
  }

  /** The FSM's state (plain data; do not mutate). */
  get state(): SessionState {
    return this.session;
  }

  /** What the OPENs agreed, while OpenConfirm or Established. */
  get negotiated(): NegotiatedSession | undefined {
    return this.session.negotiated;
  }

  /** Starts the session (ManualStart): connects out, and listens in passive/both mode. */
  start(): void {
    this.dispatch({ type: 'ManualStart' });
  }

  /**
   * Stops the session for good (ManualStop): a Cease/Administrative Shutdown with the optional RFC 9003
   * shutdown message if a session was open (none with `notify: false`), then closes. Resolves once the sockets and listener are closed.
   */
  async stop(shutdownMessage?: string, subcode?: number, options: { notify?: boolean } = {}): Promise<void> {
    const event: FsmEvent = { type: 'ManualStop' };
    if (shutdownMessage !== undefined) event.shutdownMessage = shutdownMessage;
    if (subcode !== undefined) event.subcode = subcode;
    if (options.notify === false) event.notify = false;
    this.candidate?.discard();
    this.candidate = undefined;
    this.dispatch(event);
    this.accepting = false;
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    while (this.closing.size > 0) await Promise.all([...this.closing]);
  }

  /**
   * Sends encoded UPDATE messages (e.g. from packUpdates with `negotiated.send` as context) on the
   * Established session. Returns false when the socket buffer is full (wait for 'drain' on it as usual).
   * Throws Error when the session is not Established.
   */
  send(messages: Uint8Array | readonly Uint8Array[]): boolean {
    if (this.session.state !== 'Established' || !this.socket) {
      throw new Error(
        `cannot send UPDATEs: session with ${this.options.peerAddress} is ${this.session.state}, not Established`,
      );
    }
    const list = messages instanceof Uint8Array ? [messages] : messages;
    let ok = true;
    const log = this.options.messageLog;
    for (const m of list) {
      ok = this.socket.write(m);
      log?.record('sent', m, this.sendCtx);
    }
    this.dispatch({ type: 'UpdateSent' });
    return ok;
  }

  /**
   * Ends the session with a Cease of `subcode` (e.g. 1, maximum prefixes reached, with RFC 4486 `data`
   * in hex) and re-starts it after the back-off (AutomaticStop), unlike stop(). `reason` is logged.
   */
  automaticStop(subcode: number, options: { shutdownMessage?: string; data?: string; reason?: string } = {}): void {
    const event: FsmEvent = { type: 'AutomaticStop', subcode };
    if (options.shutdownMessage !== undefined) event.shutdownMessage = options.shutdownMessage;
    if (options.data !== undefined) event.data = options.data;
    if (options.reason !== undefined) event.reason = options.reason;
    this.dispatch(event);
  }

  /** Our address on the current connection (IPv4-mapped IPv6 shown as IPv4), or undefined. */
  get localAddress(): string | undefined {
    return this.socket?.localAddress?.replace(/^::ffff:(?=\d+\.)/, '');
  }

  /** The codec context for encoding UPDATEs to this peer, once OPENs were exchanged. */
  get sendContext(): CodecContext | undefined {
    return this.sendCtx;
  }

  /** Feeds one event to the FSM and carries out its actions; events raised meanwhile are queued. */
  private dispatch(event: FsmEvent): void {
    this.queue.push(event);
    if (this.running) return;
    this.running = true;
    try {
      for (let next = this.queue.shift(); next !== undefined; next = this.queue.shift()) {
        const from = this.session.state;
        const out = transition(this.session, next, { now: this.clock.now(), random: this.random });
        this.session = out.session;
        for (const action of out.actions) this.execute(action);
        if (this.session.state !== from) this.emit('state', this.session.state, from);
      }
    } finally {
      this.running = false;
    }
  }

  private execute(action: FsmAction): void {
    switch (action.type) {
      case 'connect':
        this.connect();
        break;
      case 'accept':
        this.accepting = action.enabled;
        if (action.enabled && !this.server) this.listen();
        break;
      case 'close':
        this.closeSocket();
        break;
      case 'takeInbound':
        if (this.keptInbound) this.adopt(this.keptInbound.socket, true, this.keptInbound.framer);
        this.keptInbound = undefined;
        break;
      case 'send':
        if (this.socket && this.connected) {
          const bytes = encodeMessage(action.message, this.sendCtx);
          this.socket.write(bytes);
          this.options.messageLog?.record('sent', bytes, this.sendCtx);
        }
        if (action.message.type === 'NOTIFICATION') this.emit('notificationSent', action.message);
        break;
      case 'startTimer':
        this.startTimer(action.timer, action.durationMs);
        break;
      case 'stopTimer':
        this.stopTimer(action.timer);
        break;
      case 'established':
        this.framer.maxMessageLength = action.negotiated.maxMessageLength;
        this.emit('established', action.negotiated);
        break;
      case 'down':
        this.emit('down', action.reason);
        break;
    }
  }

  /**
   * (Re)starts a timer. The FSM restarts the Hold timer on every message received; re-arming the
   * clock's timer each time costs more than the message itself at a million routes, so a restart that
   * only moves the deadline later just records it, and the timer, when it fires early, sleeps again
   * for the rest.
   */
  private startTimer(timer: TimerName, durationMs: number): void {
    const due = this.clock.now() + durationMs;
    const running = this.timers.get(timer);
    if (running && running.firesAt <= due) {
      running.due = due;
      return;
    }
    this.stopTimer(timer);
    this.arm(timer, due);
  }

  private arm(timer: TimerName, due: number): void {
    const now = this.clock.now();
    const firesAt = alignedFiring(timer, now, due);
    // A Keepalive timer moved to a second boundary sends up to TIMER_GRID_MS early (not a late one).
    const early = timer === 'Keepalive' && firesAt < due ? TIMER_GRID_MS : 0;
    const entry = { due, firesAt, handle: undefined as unknown as TimerHandle };
    entry.handle = this.clock.setTimer(Math.max(0, firesAt - now), () => {
      if (this.timers.get(timer) !== entry) return;
      if (this.clock.now() + early < entry.due) return this.arm(timer, entry.due); // moved later meanwhile
      this.timers.delete(timer);
      this.dispatch({ type: TIMER_EVENT[timer] } as FsmEvent);
    });
    this.timers.set(timer, entry);
  }

  private stopTimer(timer: TimerName): void {
    const entry = this.timers.get(timer);
    if (entry !== undefined) this.clock.clearTimer(entry.handle);
    this.timers.delete(timer);
  }

  private connect(): void {
    this.closeSocket();
    // md5Password, ttlSecurity and ebgpMultihop are set before the SYN (transport.ts). When they cannot
    // be, the socket fails with a TransportSetupError, reported here, and the FSM retries after back-off.
    const socket = connectTransport(this.options);
    this.adopt(socket, false);
    this.outbound = true;
    socket.once('error', (err) => {
      if (err instanceof TransportSetupError && this.socket === socket) this.emitError(err);
    });
    socket.once('connect', () => {
      if (this.socket !== socket) return;
      this.connected = true;
      this.dispatch({ type: 'TcpCrAcked' });
    });
  }

  /** Makes `socket` the session's connection and wires its events. */
  private adopt(socket: net.Socket, connected: boolean, framer = new MessageFramer()): void {
    this.socket = socket;
    this.connected = connected;
    this.outbound = false;
    this.framer = framer;
    this.receiveCtx = undefined;
    this.sendCtx = undefined;
    socket.on('data', (chunk: Buffer) => this.receive(socket, chunk));
    let lastError: SocketError | undefined;
    socket.on('error', (err: NodeJS.ErrnoException) => {
      lastError = err.code === undefined ? { message: err.message } : { code: err.code, message: err.message };
      if (this.socket === socket && this.connected)
        this.emitError(new Error(`connection to ${this.options.peerAddress}: ${err.message}`));
    });
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      this.connected = false;
      this.dispatch(
        lastError === undefined ? { type: 'TcpConnectionFails' } : { type: 'TcpConnectionFails', error: lastError },
      );
    });
  }

  /** Bytes from the peer: frame, decode with the negotiated context, feed to the FSM. */
  private receive(socket: net.Socket, chunk: Buffer): void {
    if (this.socket !== socket) return;
    const { messages, error } = this.framer.push(chunk);
    this.process(socket, messages);
    if (error && this.socket === socket) this.dispatch({ type: 'BGPHeaderErr', error });
  }

  /** Decodes framed messages with the negotiated context and feeds them to the FSM. */
  private process(socket: net.Socket, messages: readonly Uint8Array[]): void {
    for (const bytes of messages) {
      if (this.socket !== socket) return; // the FSM closed this connection meanwhile
      const ctx = this.receiveCtx ?? { maxMessageLength: this.framer.maxMessageLength };
      this.options.messageLog?.record('received', bytes, ctx);
      const event = messageEvent(bytes, ctx);
      if (event.type === 'NotifMsg') this.emit('notificationReceived', event.notification);
      this.dispatch(event);
      if (event.type === 'BGPOpen' && this.session.negotiated) {
        this.receiveCtx = this.session.negotiated.receive;
        this.sendCtx = this.session.negotiated.send;
      }
      if (this.session.state === 'Established' && this.socket === socket) {
        if (event.type === 'UpdateMsg' && event.update && event.packed) this.emit('update', event.update, event.packed);
        else if (event.type === 'RouteRefreshMsg' && event.message) this.emit('routeRefresh', event.message);
      }
    }
  }

  /** Detaches the current connection and closes it after what was written is flushed. */
  private closeSocket(): void {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    const wasConnected = this.connected;
    this.connected = false;
    const done = new Promise<void>((resolve) => {
      if (socket.destroyed) return resolve();
      const timer = this.clock.setTimer(this.options.closeTimeoutMs ?? 3000, () => socket.destroy());
      socket.once('close', () => {
        this.clock.clearTimer(timer);
        resolve();
      });
      if (wasConnected) socket.end();
      else socket.destroy();
    });
    this.closing.add(done);
    void done.then(() => this.closing.delete(done));
  }

  private listen(): void {
    const host = this.options.listen?.host ?? this.options.localAddress;
    const port = this.options.listen?.port ?? 179;
    const server = net.createServer((socket) => this.inbound(socket));
    this.server = server;
    server.on('error', (err: NodeJS.ErrnoException) => {
      if (this.server !== server) return;
      this.server = undefined;
      this.accepting = false;
      server.close();
      const where = host ?? '0.0.0.0';
      this.emitError(
        err.code === 'EADDRINUSE'
          ? new Error(addressInUseMessage(where, port))
          : new Error(`cannot listen on ${where}:${port}: ${err.message}`),
      );
      this.fallBackToActive();
    });
    listenTransport(server, { host, port }, this.options, () => {
      const a = server.address();
      if (a && typeof a === 'object') this.emit('listening', { address: a.address, port: a.port });
    });
  }

  /** The listener failed: connect out instead (the FSM's config switches to active mode). */
  private fallBackToActive(): void {
    if (this.session.config.mode === 'active') return;
    const mode = this.session.config.mode;
    this.session = { ...this.session, config: { ...this.session.config, mode: 'active' } };
    // In passive mode the FSM waits in Active without a ConnectRetry timer: kick it to connect now.
    if (mode === 'passive' && this.session.state === 'Active' && !this.socket)
      this.dispatch({ type: 'ConnectRetryTimerExpires' });
  }

  private inbound(socket: net.Socket): void {
    const remote = (socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    if (!this.accepting || remote !== this.options.peerAddress.replace(/^::ffff:/, '')) {
      socket.destroy();
      return;
    }
    socket.setNoDelay(true);
    if (this.canTakeInbound()) {
      this.takeInbound(socket);
      return;
    }
    const state = this.session.state;
    if (this.outbound && (state === 'OpenSent' || state === 'OpenConfirm') && !this.candidate) {
      const openHoldMs = this.session.config.openHoldTime * 1000;
      this.candidate = new InboundCandidate(socket, this.clock, openHoldMs, {
        open: (open, framer, messages) => this.resolveCollision(socket, open.bgpId, framer, messages),
        fail: () => (this.candidate = undefined),
      });
      return;
    }
    socket.destroy(); // Established (RFC 4271 6.8), or a second inbound connection
  }

  /** No connection of ours is up: an inbound one may replace a pending attempt. */
  private canTakeInbound(): boolean {
    const state = this.session.state;
    return (state === 'Active' || state === 'Connect') && (!this.socket || !this.connected);
  }

  private takeInbound(socket: net.Socket, framer?: MessageFramer, messages: readonly Uint8Array[] = []): void {
    if (this.socket) this.closeSocket(); // drop our pending outbound attempt in favour of this one
    this.adopt(socket, true, framer);
    this.dispatch({ type: 'TcpConnectionConfirmed' });
    if (messages.length > 0) this.process(socket, messages);
  }

  /** The peer's OPEN arrived on the second connection: keep one of the two (RFC 4271 6.8). */
  private resolveCollision(
    socket: net.Socket,
    peerBgpId: string,
    framer: MessageFramer,
    messages: readonly Uint8Array[],
  ): void {
    this.candidate = undefined;
    if (this.accepting && this.canTakeInbound()) {
      this.takeInbound(socket, framer, messages); // ours failed meanwhile: no collision any more
      return;
    }
    const c = this.session.config;
    const { close } = detectCollision({
      openOn: 'inbound',
      other: { state: this.session.state },
      localBgpId: c.bgpId,
      peerBgpId,
      localAs: c.localAs,
      peerAs: c.peerAs,
    });
    if (
      close === 'outbound' &&
      this.outbound &&
      (this.session.state === 'OpenSent' || this.session.state === 'OpenConfirm')
    ) {
      this.keptInbound = { socket, framer };
      this.dispatch({ type: 'CollisionKeepInbound' });
      this.emit('collision', 'inbound', peerBgpId);
      this.process(socket, messages);
      return;
    }
    socket.end(encodeMessage(cease(CEASE_SUBCODE.CONNECTION_COLLISION_RESOLUTION)));
    this.clock.setTimer(this.options.closeTimeoutMs ?? 3000, () => socket.destroy());
    if (this.session.state !== 'Idle') this.emit('collision', 'outbound', peerBgpId);
  }

  private emitError(error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error.message, 'BgpSessionWarning');
  }
}
