// One entry point for whole messages: decode any message, encode any message.
import { MESSAGE_TYPE, type BgpMessage, type CodecContext } from './types.js';
import { BgpWireError, ERROR_CODE, HEADER_SUBCODE } from './errors.js';
import { readHeader, writeHeader } from './framing.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeUpdate, encodeUpdate } from './update.js';
import { decodeNotification, encodeNotification } from './notification.js';
import { decodeRouteRefresh, encodeRouteRefresh } from './route-refresh.js';

/**
 * Decodes the message at the start of buf (which must hold all of it). Throws BgpWireError for
 * anything malformed; RFC 7606 non-fatal UPDATE problems come back in `errors` of the UPDATE instead.
 */
export function decodeMessage(buf: Uint8Array, ctx?: CodecContext): BgpMessage {
  if (buf.length < 19) {
    throw new BgpWireError(`truncated message: ${buf.length} bytes, a header needs 19`, {
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_SUBCODE.BAD_MESSAGE_LENGTH,
      offset: buf.length,
    });
  }
  const { length, type } = readHeader(buf, 0, ctx?.maxMessageLength);
  if (buf.length < length) {
    throw new BgpWireError(`truncated message: header says ${length} bytes, ${buf.length} present`, {
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_SUBCODE.BAD_MESSAGE_LENGTH,
      data: buf.slice(16, 18),
      offset: buf.length,
    });
  }
  switch (type) {
    case MESSAGE_TYPE.OPEN:
      return decodeOpen(buf, 0, length);
    case MESSAGE_TYPE.UPDATE:
      return decodeUpdate(buf, 0, length, ctx);
    case MESSAGE_TYPE.NOTIFICATION:
      return decodeNotification(buf, 0, length);
    case MESSAGE_TYPE.ROUTE_REFRESH:
      return decodeRouteRefresh(buf, 0, length);
    default: // readHeader admits only the five types, so this is KEEPALIVE
      return { type: 'KEEPALIVE', length };
  }
}

const KEEPALIVE = new Uint8Array(19);
writeHeader(KEEPALIVE, 19, MESSAGE_TYPE.KEEPALIVE);

/** Encodes one message. Throws RangeError if it would exceed the context's maximum message length. */
export function encodeMessage(msg: BgpMessage, ctx?: CodecContext): Uint8Array {
  switch (msg.type) {
    case 'OPEN':
      return encodeOpen(msg);
    case 'UPDATE':
      return encodeUpdate(msg, ctx);
    case 'NOTIFICATION':
      return encodeNotification(msg, ctx);
    case 'ROUTE-REFRESH':
      return encodeRouteRefresh(msg, ctx);
    case 'KEEPALIVE':
      return KEEPALIVE.slice();
  }
}
