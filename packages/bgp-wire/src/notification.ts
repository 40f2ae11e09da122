// NOTIFICATION (RFC 4271 4.5) with the RFC 9003 shutdown communication carried by Cease subcodes
// 2 (Administrative Shutdown) and 4 (Administrative Reset).
import {
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MESSAGE_TYPE,
  type CodecContext,
  type NotificationMessage,
} from './types.js';
import { CEASE_SUBCODE, ERROR_CODE, notificationName } from './errors.js';
import { decodeUtf8, encodeUtf8, fromHex, toHex } from './bytes.js';
import { requireMinimumLength, writeHeader } from './framing.js';

/** Header, error code and error subcode. */
const FIXED_LENGTH = HEADER_LENGTH + 2;
/** RFC 9003 2: the shutdown communication is at most 255 octets of UTF-8. */
export const MAX_SHUTDOWN_MESSAGE_LENGTH = 255;

function carriesShutdownMessage(code: number, subcode: number): boolean {
  return (
    code === ERROR_CODE.CEASE &&
    (subcode === CEASE_SUBCODE.ADMINISTRATIVE_SHUTDOWN || subcode === CEASE_SUBCODE.ADMINISTRATIVE_RESET)
  );
}

/**
 * Reads an RFC 9003 shutdown communication from data buf[start..end): a length octet, then exactly
 * that many bytes of UTF-8. Returns undefined when the data is not that (or the length is zero).
 */
function readShutdownMessage(buf: Uint8Array, start: number, end: number): string | undefined {
  if (end - start < 1) return undefined;
  const length = buf[start]!;
  if (length === 0 || start + 1 + length !== end) return undefined;
  return decodeUtf8(buf, start + 1, end);
}

/**
 * Decodes the NOTIFICATION in buf[msgStart..msgEnd) (header included). A malformed shutdown
 * communication is not an error: `data` still holds the bytes and `shutdownMessage` is left out.
 */
export function decodeNotification(buf: Uint8Array, msgStart: number, msgEnd: number): NotificationMessage {
  const length = msgEnd - msgStart;
  requireMinimumLength(buf, msgStart, msgEnd, MESSAGE_TYPE.NOTIFICATION);
  const code = buf[msgStart + HEADER_LENGTH]!;
  const subcode = buf[msgStart + HEADER_LENGTH + 1]!;
  const dataStart = msgStart + FIXED_LENGTH;
  const msg: NotificationMessage = {
    type: 'NOTIFICATION',
    length,
    code,
    subcode,
    name: notificationName(code, subcode),
    data: toHex(buf, dataStart, msgEnd),
  };
  if (carriesShutdownMessage(code, subcode)) {
    const text = readShutdownMessage(buf, dataStart, msgEnd);
    if (text !== undefined) msg.shutdownMessage = text;
  }
  return msg;
}

function checkOctet(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`NOTIFICATION ${what} must be an integer, got ${String(value)}`);
  if (value < 0 || value > 255) throw new RangeError(`NOTIFICATION ${what} ${value} is outside 0-255`);
  return value;
}

/** The data field to send: `data` hex if given, else the shutdown communication, else nothing. */
function dataBytes(msg: NotificationMessage): Uint8Array {
  if (msg.data !== undefined) {
    try {
      return fromHex(msg.data);
    } catch {
      throw new RangeError(`NOTIFICATION data is not even-length hex: ${JSON.stringify(msg.data.slice(0, 40))}`);
    }
  }
  if (msg.shutdownMessage === undefined) return new Uint8Array(0);
  if (typeof msg.shutdownMessage !== 'string') throw new TypeError('NOTIFICATION shutdownMessage must be a string');
  const text = encodeUtf8(msg.shutdownMessage);
  if (text.length > MAX_SHUTDOWN_MESSAGE_LENGTH) {
    throw new RangeError(
      `shutdown message is ${text.length} bytes of UTF-8, RFC 9003 allows at most ${MAX_SHUTDOWN_MESSAGE_LENGTH}`,
    );
  }
  const out = new Uint8Array(1 + text.length);
  out[0] = text.length;
  out.set(text, 1);
  return out;
}

/**
 * Encodes a NOTIFICATION. `data` (hex) wins over `shutdownMessage`, which is written as RFC 9003 asks
 * (whatever the code; it is only meaningful for Cease 2 and 4). Throws TypeError/RangeError for bad
 * fields, invalid hex, a shutdown message over 255 bytes, or a message over ctx.maxMessageLength.
 */
export function encodeNotification(msg: NotificationMessage, ctx?: CodecContext): Uint8Array {
  const code = checkOctet(msg.code, 'code');
  const subcode = checkOctet(msg.subcode, 'subcode');
  const data = dataBytes(msg);
  const length = FIXED_LENGTH + data.length;
  const max = ctx?.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  if (length > max)
    throw new RangeError(`NOTIFICATION of ${length} bytes exceeds the maximum message length of ${max}`);
  const out = new Uint8Array(length);
  writeHeader(out, length, MESSAGE_TYPE.NOTIFICATION);
  out[HEADER_LENGTH] = code;
  out[HEADER_LENGTH + 1] = subcode;
  out.set(data, FIXED_LENGTH);
  return out;
}
