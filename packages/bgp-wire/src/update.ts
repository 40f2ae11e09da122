// The UPDATE message (RFC 4271 4.3) with RFC 7606 error handling, and End-of-RIB markers (RFC 4724 2).
import {
  AFI,
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MESSAGE_TYPE,
  type CodecContext,
  type Nlri,
  type UpdateError,
  type UpdateLayout,
  type UpdateMessage,
} from './types.js';
import { BgpWireError, ERROR_CODE, HEADER_SUBCODE, UPDATE_SUBCODE } from './errors.js';
import { fromHex, readUint16, writeUint16 } from './bytes.js';
import { writeHeader } from './framing.js';
import { decodePrefixes, hasAddPath, type PrefixReader, type PrefixTally } from './nlri.js';
import { ATTR, decodeAttributes } from './attributes.js';
import { writeAttributes } from './attributes-encode.js';
import { writeNlriList } from './mp-nlri.js';
import { newWriter, checkUint } from './update-writer.js';

function malformedList(message: string, at: number, msgStart: number): BgpWireError {
  return new BgpWireError(message, {
    code: ERROR_CODE.UPDATE_MESSAGE,
    subcode: UPDATE_SUBCODE.MALFORMED_ATTRIBUTE_LIST,
    offset: at - msgStart,
  });
}

/** Prefixes with trailing bits cleared in the UPDATE being decoded; reset by each decodeUpdate (no object per message). */
const tally: PrefixTally = { trailingBitsCleared: 0 };

/** Well-known mandatory attributes of every UPDATE that announces something (RFC 4271 5, RFC 4760 3). */
const MANDATORY: readonly number[] = [ATTR.ORIGIN, ATTR.AS_PATH];

/**
 * Decodes the UPDATE in buf[msgStart..msgEnd) (header included). Fatal problems throw BgpWireError
 * with the NOTIFICATION to send and the RFC 7606 action ('session-reset', or 'afi-safi-disable' with
 * afi/safi for a malformed MP_REACH_NLRI/MP_UNREACH_NLRI); the others come back in `errors`, where any
 * 'treat-as-withdraw' means every announced prefix must be handled as withdrawn; an UPDATE with no
 * prefix in its NLRI field or MP_REACH_NLRI but other attributes than MP_UNREACH_NLRI throws instead
 * (session reset, RFC 7606 5.2) unless its errors are all attribute discards. `layout` is set when
 * the attributes are not in canonical order or carry non-canonical flags, so that encodeUpdate gives
 * back the same bytes. Offsets are relative to msgStart. With ctx.ibgp === false (an external
 * peer) LOCAL_PREF, ORIGINATOR_ID and CLUSTER_LIST are discarded (RFC 7606 7.5, 7.9, 7.10); with
 * ctx.ibgp === true a missing LOCAL_PREF is an error. Unless ctx.fourOctetAs === false, AS4_PATH and
 * AS4_AGGREGATOR are discarded (RFC 6793 4.1). Bits past a prefix's length are cleared in every
 * prefix field (RFC 4271 4.3); `trailingBitsCleared` then says how many prefixes had some.
 */
export function decodeUpdate(buf: Uint8Array, msgStart: number, msgEnd: number, ctx?: CodecContext): UpdateMessage {
  return decodeUpdateWith(buf, msgStart, msgEnd, ctx, decodePrefixes);
}

/**
 * decodeUpdate with `read` for every prefix field (withdrawn routes, NLRI, MP_REACH_NLRI and
 * MP_UNREACH_NLRI): decodePrefixes gives the string form, decodePackedPrefixes the packed form (see
 * decodeUpdatePacked), the rest of the message and every error being the same.
 */
export function decodeUpdateWith(
  buf: Uint8Array,
  msgStart: number,
  msgEnd: number,
  ctx: CodecContext | undefined,
  read: PrefixReader,
): UpdateMessage {
  const length = msgEnd - msgStart;
  if (length < 23 || msgEnd > buf.length || readUint16(buf, msgStart + 16) !== length) {
    throw new BgpWireError(`UPDATE of ${length} bytes does not match its header (a minimum of 23 bytes)`, {
      code: ERROR_CODE.MESSAGE_HEADER,
      subcode: HEADER_SUBCODE.BAD_MESSAGE_LENGTH,
      data: length >= 18 ? buf.slice(msgStart + 16, msgStart + 18) : undefined,
      offset: Math.min(16, Math.max(0, length)),
    });
  }
  tally.trailingBitsCleared = 0;
  let at = msgStart + HEADER_LENGTH;
  const withdrawnLength = readUint16(buf, at);
  at += 2;
  if (at + withdrawnLength + 2 > msgEnd) {
    throw malformedList(`withdrawn routes length ${withdrawnLength} overruns the message`, at - 2, msgStart);
  }
  const v4AddPath = hasAddPath(ctx, 'ipv4-unicast');
  const withdrawn: Nlri[] = read(buf, at, at + withdrawnLength, AFI.IPV4, v4AddPath, msgStart, tally);
  at += withdrawnLength;
  const attributesLength = readUint16(buf, at);
  at += 2;
  const attributesEnd = at + attributesLength;
  if (attributesEnd > msgEnd) {
    throw malformedList(`total path attribute length ${attributesLength} overruns the message`, at - 2, msgStart);
  }
  const decoded = decodeAttributes(buf, at, attributesEnd, msgStart, ctx, tally, read);
  const nlri: Nlri[] = read(buf, attributesEnd, msgEnd, AFI.IPV4, v4AddPath, msgStart, tally);
  const { attributes, errors, order } = decoded;

  // Missing well-known attributes (RFC 4271 6.3, RFC 4760 3, RFC 7606 3.d): ORIGIN and AS_PATH come
  // with any NLRI and with MP_REACH_NLRI, NEXT_HOP with the NLRI field.
  if (nlri.length > 0 || attributes.mpReach !== undefined) {
    const missing: number[] = [];
    for (const code of MANDATORY) if (!order.includes(code)) missing.push(code);
    if (nlri.length > 0 && !order.includes(ATTR.NEXT_HOP)) missing.push(ATTR.NEXT_HOP);
    if (ctx?.ibgp === true && !order.includes(ATTR.LOCAL_PREF)) missing.push(ATTR.LOCAL_PREF);
    for (const code of missing) {
      errors.push({
        action: 'treat-as-withdraw',
        code: ERROR_CODE.UPDATE_MESSAGE,
        subcode: UPDATE_SUBCODE.MISSING_WELL_KNOWN_ATTRIBUTE,
        data: code.toString(16).padStart(2, '0'),
        attribute: code,
        message: `missing well-known attribute ${code}`,
        offset: at - msgStart,
      });
    }
  }
  // RFC 7606 5.2: an UPDATE that encodes no reachable NLRI (nothing in the NLRI field or in
  // MP_REACH_NLRI) but holds attributes other than MP_UNREACH_NLRI gives no proof that its NLRI were
  // read right: any error other than attribute discard resets the session.
  if (errors.length > 0 && nlri.length === 0 && !hasReachableNlri(attributes.mpReach)) {
    const severe = errors.find((e) => e.action !== 'attribute-discard');
    const onlyUnreach =
      order.every((code) => code === ATTR.MP_UNREACH_NLRI) &&
      errors.every((e) => e.action === 'attribute-discard' || e.attribute === ATTR.MP_UNREACH_NLRI);
    if (severe !== undefined && !onlyUnreach) {
      throw new BgpWireError(`${severe.message}, in an UPDATE with no reachable NLRI (RFC 7606 5.2)`, {
        code: severe.code,
        subcode: severe.subcode,
        data: fromHex(severe.data),
        offset: severe.offset,
      });
    }
  }

  const msg: UpdateMessage = { type: 'UPDATE', length, withdrawn, attributes, nlri };
  if (withdrawnLength === 0 && nlri.length === 0 && errors.length === 0) {
    if (attributesLength === 0) msg.endOfRib = { afi: AFI.IPV4, safi: 1 };
    else if (order.length === 1 && isEmptyUnreach(attributes.mpUnreach))
      msg.endOfRib = { afi: attributes.mpUnreach!.afi, safi: attributes.mpUnreach!.safi };
  }
  if (errors.length > 0) msg.errors = errors;
  if (tally.trailingBitsCleared > 0) msg.trailingBitsCleared = tally.trailingBitsCleared;
  if (!decoded.canonicalOrder || decoded.flags !== undefined) {
    const layout: UpdateLayout = { order };
    if (decoded.flags !== undefined) layout.flags = decoded.flags;
    msg.layout = layout;
  }
  return msg;
}

function hasReachableNlri(mp: UpdateMessage['attributes']['mpReach']): boolean {
  if (mp === undefined) return false;
  return mp.nlriHex !== undefined ? mp.nlriHex !== '' : mp.nlri !== undefined && mp.nlri.length > 0;
}

function isEmptyUnreach(mp: UpdateMessage['attributes']['mpUnreach']): boolean {
  if (mp === undefined) return false;
  return mp.withdrawnHex !== undefined
    ? mp.withdrawnHex === ''
    : mp.withdrawn === undefined || mp.withdrawn.length === 0;
}

/** True when any error asks for the UPDATE's prefixes to be handled as withdrawn. */
export function isTreatAsWithdraw(errors: readonly UpdateError[] | undefined): boolean {
  return errors?.some((e) => e.action === 'treat-as-withdraw') ?? false;
}

// ---------------------------------------------------------------------------------------------
// Encoding

const writer = newWriter(8192);

/**
 * Encodes an UPDATE, header included. Attributes follow msg.layout when given, else the canonical
 * layout. An UPDATE with no routes and no attributes but `endOfRib` set gives that family's
 * End-of-RIB marker. Throws RangeError beyond ctx.maxMessageLength (default 4096) and TypeError or
 * RangeError for values that cannot be encoded.
 */
export function encodeUpdate(msg: UpdateMessage, ctx?: CodecContext): Uint8Array {
  const max = Math.min(ctx?.maxMessageLength ?? MAX_MESSAGE_LENGTH, 0xffff);
  const withdrawn = msg.withdrawn ?? [];
  const nlri = msg.nlri ?? [];
  const attributes = msg.attributes ?? {};
  if (
    msg.endOfRib !== undefined &&
    withdrawn.length === 0 &&
    nlri.length === 0 &&
    Object.keys(attributes).length === 0
  ) {
    return endOfRib(msg.endOfRib.afi, msg.endOfRib.safi);
  }
  const v4AddPath = hasAddPath(ctx, 'ipv4-unicast');
  const w = writer;
  let at = writeNlriList(w, HEADER_LENGTH + 2, withdrawn, AFI.IPV4, v4AddPath);
  const withdrawnLength = at - HEADER_LENGTH - 2;
  const attributesAt = at;
  at = writeAttributes(w, at + 2, attributes, msg.layout, ctx);
  const attributesLength = at - attributesAt - 2;
  at = writeNlriList(w, at, nlri, AFI.IPV4, v4AddPath);
  if (at > max) throw new RangeError(`UPDATE of ${at} bytes exceeds the maximum message length ${max}`);
  const buf = w.buf;
  writeHeader(buf, at, MESSAGE_TYPE.UPDATE);
  writeUint16(buf, HEADER_LENGTH, withdrawnLength);
  writeUint16(buf, attributesAt, attributesLength);
  // A pooled Buffer: for small messages far cheaper than a fresh ArrayBuffer, and it is a Uint8Array.
  const out = Buffer.allocUnsafe(at);
  out.set(buf.subarray(0, at), 0);
  return out;
}

const IPV4_END_OF_RIB = new Uint8Array(23);
writeHeader(IPV4_END_OF_RIB, 23, MESSAGE_TYPE.UPDATE);

/**
 * The End-of-RIB marker for a family (RFC 4724 2): for IPv4 unicast the empty 23-byte UPDATE, for
 * the others an UPDATE holding only an empty MP_UNREACH_NLRI.
 */
export function endOfRib(afi: number, safi: number): Uint8Array {
  checkUint(afi, 0xffff, 'afi');
  checkUint(safi, 0xff, 'safi');
  if (afi === AFI.IPV4 && safi === 1) return IPV4_END_OF_RIB.slice();
  const out = new Uint8Array(29);
  writeHeader(out, 29, MESSAGE_TYPE.UPDATE);
  writeUint16(out, 21, 6); // total path attribute length
  out[23] = 0x80; // optional, non-transitive
  out[24] = ATTR.MP_UNREACH_NLRI;
  out[25] = 3;
  writeUint16(out, 26, afi);
  out[28] = safi;
  return out;
}
