// ROUTE-REFRESH (RFC 2918) with the enhanced route refresh subtypes of RFC 7313 in the former reserved
// octet and, for plain requests, RFC 5291 ORF entries after the fixed part (kept raw).
import {
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MESSAGE_TYPE,
  ROUTE_REFRESH_SUBTYPE,
  type CodecContext,
  type RouteRefreshMessage,
} from './types.js';
import { BgpWireError, ERROR_CODE, ROUTE_REFRESH_ERROR_SUBCODE } from './errors.js';
import { fromHex, readUint16, toHex, writeUint16 } from './bytes.js';
import { requireMinimumLength, writeHeader } from './framing.js';

/** Header, AFI (2), subtype (1), SAFI (1). */
const FIXED_LENGTH = HEADER_LENGTH + 4;

/**
 * Decodes the ROUTE-REFRESH in buf[msgStart..msgEnd) (header included). A BoRR or EoRR whose length
 * is not 23 throws BgpWireError 7/1 carrying the whole message (RFC 7313 5). Subtypes other than
 * 0-2 are returned as they are: RFC 7313 asks the receiver to ignore them.
 */
export function decodeRouteRefresh(buf: Uint8Array, msgStart: number, msgEnd: number): RouteRefreshMessage {
  const length = msgEnd - msgStart;
  requireMinimumLength(buf, msgStart, msgEnd, MESSAGE_TYPE.ROUTE_REFRESH);
  const at = msgStart + HEADER_LENGTH;
  const afi = readUint16(buf, at);
  const subtype = buf[at + 2]!;
  const safi = buf[at + 3]!;
  if (length !== FIXED_LENGTH && (subtype === ROUTE_REFRESH_SUBTYPE.BORR || subtype === ROUTE_REFRESH_SUBTYPE.EORR)) {
    throw new BgpWireError(
      `${subtype === ROUTE_REFRESH_SUBTYPE.BORR ? 'BoRR' : 'EoRR'} ROUTE-REFRESH must be ${FIXED_LENGTH} bytes, got ${length}`,
      {
        code: ERROR_CODE.ROUTE_REFRESH,
        subcode: ROUTE_REFRESH_ERROR_SUBCODE.INVALID_MESSAGE_LENGTH,
        data: buf.slice(msgStart, msgEnd),
        offset: 16,
      },
    );
  }
  const msg: RouteRefreshMessage = { type: 'ROUTE-REFRESH', length, afi, safi, subtype };
  if (length > FIXED_LENGTH) msg.orfHex = toHex(buf, msgStart + FIXED_LENGTH, msgEnd);
  return msg;
}

function checkField(value: unknown, what: string, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`ROUTE-REFRESH ${what} must be an integer, got ${String(value)}`);
  if (value < 0 || value > max) throw new RangeError(`ROUTE-REFRESH ${what} ${value} is outside 0-${max}`);
  return value;
}

/**
 * Encodes a ROUTE-REFRESH. `orfHex` is written after the fixed part; it is refused (RangeError) on a
 * BoRR/EoRR, which RFC 7313 fixes at 23 bytes. Also RangeError/TypeError for out-of-range fields,
 * invalid hex, or a message over ctx.maxMessageLength.
 */
export function encodeRouteRefresh(msg: RouteRefreshMessage, ctx?: CodecContext): Uint8Array {
  const afi = checkField(msg.afi, 'afi', 0xffff);
  const safi = checkField(msg.safi, 'safi', 0xff);
  const subtype = checkField(msg.subtype ?? ROUTE_REFRESH_SUBTYPE.REQUEST, 'subtype', 0xff);
  let orf: Uint8Array | undefined;
  if (msg.orfHex !== undefined && msg.orfHex !== '') {
    if (subtype === ROUTE_REFRESH_SUBTYPE.BORR || subtype === ROUTE_REFRESH_SUBTYPE.EORR) {
      throw new RangeError(`ROUTE-REFRESH subtype ${subtype} (BoRR/EoRR) cannot carry ORF entries`);
    }
    try {
      orf = fromHex(msg.orfHex);
    } catch {
      throw new RangeError(`ROUTE-REFRESH orfHex is not even-length hex: ${JSON.stringify(msg.orfHex.slice(0, 40))}`);
    }
  }
  const length = FIXED_LENGTH + (orf?.length ?? 0);
  const max = ctx?.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  if (length > max)
    throw new RangeError(`ROUTE-REFRESH of ${length} bytes exceeds the maximum message length of ${max}`);
  const out = new Uint8Array(length);
  writeHeader(out, length, MESSAGE_TYPE.ROUTE_REFRESH);
  writeUint16(out, HEADER_LENGTH, afi);
  out[HEADER_LENGTH + 2] = subtype;
  out[HEADER_LENGTH + 3] = safi;
  if (orf !== undefined) out.set(orf, FIXED_LENGTH);
  return out;
}
