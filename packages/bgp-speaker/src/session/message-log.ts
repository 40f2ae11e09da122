// The last N BGP messages of one session, kept for people: on Talos there is no tcpdump, so the
// daemon's admin endpoint shows these decoded. Recording costs a few field writes per message (the
// ring's entries are allocated once and the bytes are kept by reference, never copied), so it can
// stay on while a million routes go by.
import { decodeMessage, type BgpMessage, type CodecContext } from '@bgp-announce/bgp-wire';

export type MessageDirection = 'sent' | 'received';

/** One recorded message: when (ms since the epoch), which way, its bytes and the context to decode them. */
export interface LoggedMessage {
  at: number;
  direction: MessageDirection;
  bytes: Uint8Array;
  ctx: CodecContext | undefined;
}

/** A message as the admin endpoint shows it: decoded, or the decode error and the raw bytes. */
export interface DescribedMessage {
  at: string;
  direction: MessageDirection;
  length: number;
  message?: BgpMessage;
  error?: string;
  hex?: string;
}

/** A ring buffer of the last `capacity` messages of a session. */
export class MessageLog {
  private readonly ring: LoggedMessage[];
  private next = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 10_000)
      throw new RangeError(`message log capacity must be an integer 1-10000, got ${capacity}`);
    this.ring = Array.from({ length: capacity }, () => ({
      at: 0,
      direction: 'sent' as MessageDirection,
      bytes: EMPTY,
      ctx: undefined,
    }));
  }

  /** Records one message (the bytes are kept, not copied: do not reuse the buffer). */
  record(direction: MessageDirection, bytes: Uint8Array, ctx: CodecContext | undefined, at = Date.now()): void {
    const e = this.ring[this.next]!;
    e.at = at;
    e.direction = direction;
    e.bytes = bytes;
    e.ctx = ctx;
    this.next = (this.next + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** The recorded messages, oldest first (copies of the entries). */
  entries(): LoggedMessage[] {
    const out: LoggedMessage[] = [];
    const start = (this.next - this.count + this.capacity) % this.capacity;
    for (let i = 0; i < this.count; i++) out.push({ ...this.ring[(start + i) % this.capacity]! });
    return out;
  }
}

/** Decodes a recorded message for display; a message that does not decode shows its error and bytes. */
export function describeMessage(m: LoggedMessage): DescribedMessage {
  const base = { at: new Date(m.at).toISOString(), direction: m.direction, length: m.bytes.length };
  try {
    return { ...base, message: decodeMessage(m.bytes, m.ctx) };
  } catch (err) {
    return {
      ...base,
      error: err instanceof Error ? err.message : String(err),
      hex: Buffer.from(m.bytes.buffer, m.bytes.byteOffset, m.bytes.byteLength).toString('hex'),
    };
  }
}

const EMPTY = new Uint8Array(0);
