// MP_REACH_NLRI and MP_UNREACH_NLRI (RFC 4760 3-4): IPv4/IPv6 unicast decoded into prefixes (with
// RFC 2545 link-local and RFC 8950 IPv6 next hops, and RFC 7911 path identifiers), other families
// kept raw. Malformed attributes are fatal for the family (RFC 7606 7.11-7.12).
import { AFI, type CodecContext, type MpReach, type MpUnreach } from './types.js';
import { BgpWireError, ERROR_CODE, UPDATE_SUBCODE } from './errors.js';
import { readUint16, toHex, writeUint16, fromHex } from './bytes.js';
import { formatIpv4, formatIpv6, parseIpv4Into, parseIpv6Into } from './ip.js';
import { decodePrefixes, familyOf, hasAddPath, writePrefix, type PrefixReader, type PrefixTally } from './nlri.js';
import { type Writer, reserve, checkUint } from './update-writer.js';

/** Where an MP attribute sits in the message, for error reports. */
export interface AttributeSpan {
  /** Offset of the attribute's flags byte in buf. */
  start: number;
  /** Offset just past its value in buf. */
  end: number;
  msgStart: number;
}

function mpError(
  message: string,
  buf: Uint8Array,
  span: AttributeSpan,
  afi?: number,
  safi?: number,
  offset = span.start,
): BgpWireError {
  const known = afi !== undefined;
  return new BgpWireError(message, {
    code: ERROR_CODE.UPDATE_MESSAGE,
    subcode: UPDATE_SUBCODE.OPTIONAL_ATTRIBUTE_ERROR,
    data: buf.slice(span.start, span.end),
    action: known ? 'afi-safi-disable' : 'session-reset',
    offset: offset - span.msgStart,
    ...(known ? { afi, safi } : {}),
  });
}

/**
 * The error for an MP attribute whose length overruns the path attributes, span.end being the end of
 * the path attributes: the family is disabled when its AFI/SAFI can still be read, else the session
 * is reset.
 */
export function mpOverrunError(name: string, buf: Uint8Array, valueStart: number, span: AttributeSpan): BgpWireError {
  const readable = span.end - valueStart >= 3;
  const afi = readable ? readUint16(buf, valueStart) : undefined;
  const safi = readable ? buf[valueStart + 2] : undefined;
  return mpError(`${name} length overruns the path attributes`, buf, span, afi, safi);
}

function decodeNlriField(
  buf: Uint8Array,
  start: number,
  end: number,
  afi: number,
  safi: number,
  addPath: boolean,
  span: AttributeSpan,
  what: string,
  tally: PrefixTally | undefined,
  read: PrefixReader,
): ReturnType<typeof decodePrefixes> {
  try {
    return read(buf, start, end, afi, addPath, span.msgStart, tally);
  } catch (err) {
    if (!(err instanceof BgpWireError)) throw err;
    throw mpError(`${what}: ${err.message}`, buf, span, afi, safi, err.offset + span.msgStart);
  }
}

/**
 * Decodes an MP_REACH_NLRI value buf[start..end) with `read` for its prefixes (decodePrefixes unless
 * given); prefixes whose trailing bits were cleared are counted in tally (see decodePrefixes). Throws BgpWireError: 'afi-safi-disable' (with afi/safi) when the
 * family can be read but the rest is malformed, 'session-reset' when even that cannot be read.
 */
export function decodeMpReach(
  buf: Uint8Array,
  start: number,
  end: number,
  span: AttributeSpan,
  ctx?: CodecContext,
  tally?: PrefixTally,
  read: PrefixReader = decodePrefixes,
): MpReach {
  if (end - start < 3) throw mpError(`MP_REACH_NLRI of ${end - start} bytes has no AFI/SAFI`, buf, span);
  const afi = readUint16(buf, start);
  const safi = buf[start + 2]!;
  if (end - start < 5) throw mpError(`MP_REACH_NLRI of ${end - start} bytes is truncated`, buf, span, afi, safi);
  const nhLength = buf[start + 3]!;
  const nhStart = start + 4;
  const nlriStart = nhStart + nhLength + 1; // past the reserved octet
  if (nlriStart > end)
    throw mpError(`MP_REACH_NLRI next hop length ${nhLength} overruns the attribute`, buf, span, afi, safi);
  const family = familyOf(afi, safi);
  if (family === undefined) {
    return { afi, safi, nextHopHex: toHex(buf, nhStart, nhStart + nhLength), nlriHex: toHex(buf, nlriStart, end) };
  }
  let nextHops: string[];
  if (nhLength === 16) nextHops = [formatIpv6(buf, nhStart)];
  else if (nhLength === 32) nextHops = [formatIpv6(buf, nhStart), formatIpv6(buf, nhStart + 16)];
  else if (nhLength === 4 && afi === AFI.IPV4) nextHops = [formatIpv4(buf, nhStart)];
  else throw mpError(`MP_REACH_NLRI next hop length ${nhLength} is not valid for ${family}`, buf, span, afi, safi);
  const addPath = hasAddPath(ctx, family);
  const nlri = decodeNlriField(buf, nlriStart, end, afi, safi, addPath, span, 'MP_REACH_NLRI', tally, read);
  return { afi, safi, nextHops, nlri };
}

/** Decodes an MP_UNREACH_NLRI value buf[start..end); `read` and errors as decodeMpReach. */
export function decodeMpUnreach(
  buf: Uint8Array,
  start: number,
  end: number,
  span: AttributeSpan,
  ctx?: CodecContext,
  tally?: PrefixTally,
  read: PrefixReader = decodePrefixes,
): MpUnreach {
  if (end - start < 3) throw mpError(`MP_UNREACH_NLRI of ${end - start} bytes has no AFI/SAFI`, buf, span);
  const afi = readUint16(buf, start);
  const safi = buf[start + 2]!;
  const family = familyOf(afi, safi);
  if (family === undefined) return { afi, safi, withdrawnHex: toHex(buf, start + 3, end) };
  const addPath = hasAddPath(ctx, family);
  const withdrawn = decodeNlriField(buf, start + 3, end, afi, safi, addPath, span, 'MP_UNREACH_NLRI', tally, read);
  return { afi, safi, withdrawn };
}

// ---------------------------------------------------------------------------------------------
// Encoding

/**
 * Writes AFI, SAFI, next hop length, next hop and the reserved octet of an MP_REACH_NLRI value at
 * w.buf[at]; returns the offset where its NLRI starts. nextHopHex wins over nextHops. One IPv4
 * address gives a 4-byte next hop (IPv4 NLRI only), one IPv6 address 16 bytes, two IPv6 addresses
 * (global, link-local) 32 bytes.
 */
export function writeMpReachHead(w: Writer, at: number, mp: MpReach): number {
  const afi = checkUint(mp.afi, 0xffff, 'mpReach.afi');
  const safi = checkUint(mp.safi, 0xff, 'mpReach.safi');
  let buf = reserve(w, at + 4 + 32 + 1);
  writeUint16(buf, at, afi);
  buf[at + 2] = safi;
  const nhStart = at + 4;
  let nhLength: number;
  if (mp.nextHopHex !== undefined) {
    const bytes = fromHex(mp.nextHopHex);
    if (bytes.length > 255) throw new RangeError('mpReach.nextHopHex is longer than 255 bytes');
    buf = reserve(w, nhStart + bytes.length + 1);
    buf.set(bytes, nhStart);
    nhLength = bytes.length;
  } else {
    const hops = mp.nextHops;
    if (!Array.isArray(hops) || hops.length < 1 || hops.length > 2) {
      throw new TypeError('mpReach.nextHops must hold one address, or two IPv6 addresses (global, link-local)');
    }
    const first = String(hops[0]);
    if (hops.length === 1 && parseIpv4Into(first, buf, nhStart)) {
      if (afi === AFI.IPV6) throw new TypeError(`an IPv4 next hop (${first}) cannot carry IPv6 NLRI`);
      nhLength = 4;
    } else {
      hops.forEach((hop, i) => {
        if (!parseIpv6Into(String(hop), buf, nhStart + 16 * i))
          throw new TypeError(`mpReach.nextHops[${i}] is not an IPv6 address: ${JSON.stringify(hop)}`);
      });
      nhLength = 16 * hops.length;
    }
  }
  buf[at + 3] = nhLength;
  buf[nhStart + nhLength] = 0; // reserved
  return nhStart + nhLength + 1;
}

/** Writes prefixes of (afi, safi) at w.buf[at]; returns the offset after them. */
export function writeNlriList(
  w: Writer,
  at: number,
  list: readonly { prefix: string; pathId?: number }[],
  afi: number,
  addPath: boolean,
): number {
  if (!Array.isArray(list)) throw new TypeError('NLRI must be an array of {prefix}');
  for (const n of list) {
    const buf = reserve(w, at + 21);
    at = writePrefix(buf, at, n.prefix, afi, addPath ? (n.pathId ?? 0) : undefined);
  }
  return at;
}

function familyForNlri(afi: number, safi: number, what: string): ReturnType<typeof familyOf> & string {
  const family = familyOf(afi, safi);
  if (family === undefined) throw new TypeError(`${what} for AFI ${afi}/SAFI ${safi} can only be given as hex`);
  return family;
}

/** Writes a whole MP_REACH_NLRI value at w.buf[at]; nlriHex wins over nlri. */
export function writeMpReach(w: Writer, at: number, mp: MpReach, ctx?: CodecContext): number {
  at = writeMpReachHead(w, at, mp);
  if (mp.nlriHex !== undefined) {
    const bytes = fromHex(mp.nlriHex);
    reserve(w, at + bytes.length).set(bytes, at);
    return at + bytes.length;
  }
  if (mp.nlri === undefined || mp.nlri.length === 0) return at;
  const family = familyForNlri(mp.afi, mp.safi, 'mpReach.nlri');
  return writeNlriList(w, at, mp.nlri, mp.afi, hasAddPath(ctx, family));
}

/** Writes a whole MP_UNREACH_NLRI value at w.buf[at]; withdrawnHex wins over withdrawn. */
export function writeMpUnreach(w: Writer, at: number, mp: MpUnreach, ctx?: CodecContext): number {
  const buf = reserve(w, at + 3);
  writeUint16(buf, at, checkUint(mp.afi, 0xffff, 'mpUnreach.afi'));
  buf[at + 2] = checkUint(mp.safi, 0xff, 'mpUnreach.safi');
  at += 3;
  if (mp.withdrawnHex !== undefined) {
    const bytes = fromHex(mp.withdrawnHex);
    reserve(w, at + bytes.length).set(bytes, at);
    return at + bytes.length;
  }
  if (mp.withdrawn === undefined || mp.withdrawn.length === 0) return at;
  const family = familyForNlri(mp.afi, mp.safi, 'mpUnreach.withdrawn');
  return writeNlriList(w, at, mp.withdrawn, mp.afi, hasAddPath(ctx, family));
}
