// A second connection to the same peer (RFC 4271 6.8, connection collision): the peer connected to
// us while our own connection to it is in OpenSent or OpenConfirm. We read until its OPEN arrives on
// this connection, which gives the identifier the collision is resolved by; the driver then keeps one
// of the two connections. Nothing is sent here.
import type net from 'node:net';
import { BgpWireError, MessageFramer, decodeMessage, type OpenMessage } from '@bgp-announce/bgp-wire';
import type { Clock, TimerHandle } from './clock.js';

/**
 * What the candidate reports: the peer's OPEN decoded, the framer (it may hold part of a later
 * message) and the framed messages so far, the OPEN's bytes first; or why it failed.
 */
export interface CandidateHandlers {
  open(open: OpenMessage, framer: MessageFramer, messages: Uint8Array[]): void;
  fail(reason: string): void;
}

/** Reads one inbound connection up to the peer's OPEN, within `timeoutMs` on `clock`. */
export class InboundCandidate {
  readonly socket: net.Socket;
  private readonly framer = new MessageFramer();
  private readonly timer: TimerHandle;
  private done = false;

  constructor(
    socket: net.Socket,
    private readonly clock: Clock,
    timeoutMs: number,
    private readonly handlers: CandidateHandlers,
  ) {
    this.socket = socket;
    this.timer = clock.setTimer(timeoutMs, () => this.finish(`no OPEN within ${Math.round(timeoutMs / 1000)} s`));
    socket.on('data', this.onData);
    socket.on('error', () => {}); // 'close' follows
    socket.once('close', () => this.finish('connection closed before its OPEN'));
  }

  /** Stops reading and destroys the connection (unless it was handed over). */
  discard(): void {
    if (this.done) return;
    this.stop();
    this.socket.destroy();
  }

  private readonly onData = (chunk: Buffer): void => {
    if (this.done) return;
    const { messages, error } = this.framer.push(chunk);
    const first = messages[0];
    if (first === undefined) {
      if (error) this.finish(`bad message header: ${error.message}`);
      return;
    }
    let open: ReturnType<typeof decodeMessage>;
    try {
      open = decodeMessage(first, { maxMessageLength: this.framer.maxMessageLength });
    } catch (err) {
      if (!(err instanceof BgpWireError)) throw err;
      this.finish(`bad OPEN: ${err.message}`);
      return;
    }
    if (open.type !== 'OPEN') {
      this.finish(`${open.type} before OPEN`);
      return;
    }
    this.stop();
    this.handlers.open(open, this.framer, messages);
  };

  private finish(reason: string): void {
    if (this.done) return;
    this.stop();
    this.socket.destroy();
    this.handlers.fail(reason);
  }

  private stop(): void {
    this.done = true;
    this.clock.clearTimer(this.timer);
    this.socket.off('data', this.onData);
  }
}
