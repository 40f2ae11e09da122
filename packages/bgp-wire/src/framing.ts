// Framing: the 19-byte header (RFC 4271 4.1) and splitting a TCP byte stream into messages.
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MESSAGE_TYPE } from './types.js';
import { BgpWireError, ERROR_CODE, HEADER_SUBCODE } from './errors.js';
import { readUint16, writeUint16 } from './bytes.js';

/** Smallest legal length of each message type (RFC 4271 4.2-4.4, RFC 2918 3). */
const MIN_LENGTH: Record<number, number> = {
  [MESSAGE_TYPE.OPEN]: 29,
  [MESSAGE_TYPE.UPDATE]: 23,
  [MESSAGE_TYPE.NOTIFICATION]: 21,
  [MESSAGE_TYPE.KEEPALIVE]: 19,
  [MESSAGE_TYPE.ROUTE_REFRESH]: 23,
};

export interface MessageHeader {
  length: number;
  type: number;
}

/**
 * Validates the header at buf[at] (which must hold at least 19 bytes) and returns its length and type.
 * Throws BgpWireError with the Message Header Error NOTIFICATION RFC 4271 6.1 prescribes.
 */
export function readHeader(buf: Uint8Array, at: number, maxMessageLength = MAX_MESSAGE_LENGTH): MessageHeader {
  for (let i = 0; i < 16; i++) {
    if (buf[at + i] !== 0xff) {
      throw new BgpWireError('marker is not all ones', {
        code: ERROR_CODE.MESSAGE_HEADER,
        subcode: HEADER_SUBCODE.CONNECTION_NOT_SYNCHRONIZED,
        offset: i,
      });
    }
  }
  const length = readUint16(buf, at + 16);
  const type = buf[at + 18]!;
  const min = MIN_LENGTH[type];
  if (min === undefined) {
    throw new BgpWireError(`unknown message type ${type}`, {
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_SUBCODE.BAD_MESSAGE_TYPE,
      data: Uint8Array.of(type),
      offset: 18,
    });
  }
  const max = type === MESSAGE_TYPE.KEEPALIVE ? HEADER_LENGTH : maxMessageLength;
  if (length < min || length > max) {
    throw new BgpWireError(
      length > max && type !== MESSAGE_TYPE.KEEPALIVE
        ? `message length ${length} exceeds the maximum of ${max}`
        : `bad length ${length} for message type ${type} (must be ${min === max ? min : `${min}-${max}`})`,
      {
        code: ERROR_CODE.MESSAGE_HEADER,
        subcode: HEADER_SUBCODE.BAD_MESSAGE_LENGTH,
        data: buf.slice(at + 16, at + 18),
        offset: 16,
      },
    );
  }
  return { length, type };
}

const TYPE_NAMES: Record<number, string> = {
  1: 'OPEN',
  2: 'UPDATE',
  3: 'NOTIFICATION',
  4: 'KEEPALIVE',
  5: 'ROUTE-REFRESH',
};

/**
 * Throws the Bad Message Length error when buf[msgStart..msgEnd) is shorter than the smallest legal
 * message of `type`: the per-type decoders are public and may be called without readHeader.
 */
export function requireMinimumLength(buf: Uint8Array, msgStart: number, msgEnd: number, type: number): void {
  const length = msgEnd - msgStart;
  const min = MIN_LENGTH[type] ?? HEADER_LENGTH;
  if (length >= min) return;
  throw new BgpWireError(
    `${TYPE_NAMES[type] ?? `type ${type}`} of ${length} bytes is shorter than the minimum of ${min}`,
    {
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_SUBCODE.BAD_MESSAGE_LENGTH,
      data: buf.slice(msgStart + 16, msgStart + 18),
      offset: 16,
    },
  );
}

/** Writes the marker, length and type into out[0..19). */
export function writeHeader(out: Uint8Array, length: number, type: number): void {
  out.fill(0xff, 0, 16);
  writeUint16(out, 16, length);
  out[18] = type;
}

/**
 * Splits whole messages off the front of buf. Returns the messages (subarrays of buf, not copies) and
 * the offset where the first incomplete message starts. Throws BgpWireError on a bad header.
 */
export function splitMessages(
  buf: Uint8Array,
  maxMessageLength = MAX_MESSAGE_LENGTH,
): { messages: Uint8Array[]; rest: number } {
  const messages: Uint8Array[] = [];
  let at = 0;
  while (buf.length - at >= HEADER_LENGTH) {
    const { length } = readHeader(buf, at, maxMessageLength);
    if (buf.length - at < length) break;
    messages.push(buf.subarray(at, at + length));
    at += length;
  }
  return { messages, rest: at };
}

/** What MessageFramer.push hands back: the whole messages, and the framing error that followed them. */
export interface FramerOutput {
  messages: Uint8Array[];
  /**
   * A bad header (marker, length or type) found after `messages`. The stream cannot be
   * resynchronised after one: every later push returns the same error and no messages.
   */
  error?: BgpWireError;
}

/**
 * Accumulates TCP chunks and hands out whole messages. Its state is explicit: the incomplete tail of
 * the stream (`pending`) and, once the stream is broken, the framing error (`error`). Messages returned
 * from push() may share memory with the chunk passed in.
 */
export class MessageFramer {
  /** Bytes received but not yet part of a whole message. */
  pending: Uint8Array = new Uint8Array(0);
  /** 4096 until RFC 8654 extended messages are negotiated, then 65535. */
  maxMessageLength: number;
  /** The framing error that broke the stream, if one did; its offset counts from the stream's start. */
  error: BgpWireError | undefined;
  /** Bytes of the stream handed out as whole messages so far. */
  framedBytes = 0;

  constructor(maxMessageLength = MAX_MESSAGE_LENGTH) {
    this.maxMessageLength = maxMessageLength;
  }

  /**
   * Adds a chunk and returns the messages it completes. The messages before a bad header are returned
   * with the error, so that, say, a peer's NOTIFICATION followed by garbage is still seen. Never throws.
   */
  push(chunk: Uint8Array): FramerOutput {
    if (this.error !== undefined) return { messages: [], error: this.error };
    let buf = chunk;
    if (this.pending.length > 0) {
      buf = new Uint8Array(this.pending.length + chunk.length);
      buf.set(this.pending, 0);
      buf.set(chunk, this.pending.length);
    }
    const messages: Uint8Array[] = [];
    let at = 0;
    while (buf.length - at >= HEADER_LENGTH) {
      let length: number;
      try {
        length = readHeader(buf, at, this.maxMessageLength).length;
      } catch (err) {
        // readHeader throws only BgpWireError; its offset is within the message, make it the stream's.
        const e = err as BgpWireError;
        this.error = new BgpWireError(e.message, {
          code: e.code,
          subcode: e.subcode,
          data: e.data,
          offset: this.framedBytes + at + e.offset,
        });
        this.framedBytes += at;
        this.pending = new Uint8Array(0);
        return { messages, error: this.error };
      }
      if (buf.length - at < length) break;
      messages.push(buf.subarray(at, at + length));
      at += length;
    }
    this.framedBytes += at;
    // Copy the tail so the caller's chunk can be reused.
    this.pending = at === buf.length ? new Uint8Array(0) : buf.slice(at);
    return { messages };
  }
}
