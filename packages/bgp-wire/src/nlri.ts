// NLRI: <length, prefix> tuples (RFC 4271 4.3, RFC 4760 5) with the optional ADD-PATH path
// identifier (RFC 7911), for IPv4 and IPv6 unicast.
import { AFI, type Family, type Nlri, type CodecContext } from './types.js';
import { BgpWireError, ERROR_CODE, UPDATE_SUBCODE } from './errors.js';
import { readUint32, writeUint32 } from './bytes.js';
import { formatIpv6, parseIpv4Into, parseIpv6Into } from './ip.js';

/** 'ipv4-unicast' for (1, 1), 'ipv6-unicast' for (2, 1), undefined for families kept raw. */
export function familyOf(afi: number, safi: number): Family | undefined {
  if (safi !== 1) return undefined;
  if (afi === AFI.IPV4) return 'ipv4-unicast';
  if (afi === AFI.IPV6) return 'ipv6-unicast';
  return undefined;
}

export function hasAddPath(ctx: CodecContext | undefined, family: Family): boolean {
  return ctx?.addPath?.includes(family) ?? false;
}

const pad = new Uint8Array(16);

/** TRAILING[bits]: the bits of a prefix's last byte that lie past its length (0 when bits is a multiple of 8). */
const TRAILING = new Uint8Array(129);
for (let bits = 0; bits <= 128; bits++) TRAILING[bits] = bits & 7 ? 0xff >>> (bits & 7) : 0;

/**
 * A prefix field decoder: decodePrefixes, or decodePackedPrefixes (packed-nlri.ts), whose PackedNlri
 * stands in for the Nlri[] in the messages decodeUpdatePacked builds (see update.ts).
 */
export type PrefixReader = typeof decodePrefixes;

/** What decodePrefixes counts for its caller, across calls: prefixes whose trailing bits it cleared. */
export interface PrefixTally {
  trailingBitsCleared: number;
}

/**
 * Decodes the prefixes in buf[start..end). Bits past a prefix's length are cleared in its text (RFC
 * 4271 4.3: their value is irrelevant), so a route reads the same however it was sent; each such
 * prefix adds one to tally.trailingBitsCleared when a tally is given. Throws BgpWireError (3/10
 * Invalid Network Field, session-reset) with `offset` relative to msgStart when a prefix is too long
 * or overruns the field; callers that need another classification catch and rethrow.
 */
export function decodePrefixes(
  buf: Uint8Array,
  start: number,
  end: number,
  afi: number,
  addPath: boolean,
  msgStart: number,
  tally?: PrefixTally,
): Nlri[] {
  const out: Nlri[] = [];
  const v4 = afi === AFI.IPV4;
  const maxBits = v4 ? 32 : 128;
  let at = start;
  while (at < end) {
    let pathId: number | undefined;
    if (addPath) {
      if (at + 4 > end) throw invalidNetwork('path identifier overruns the NLRI field', buf, at, end, msgStart);
      pathId = readUint32(buf, at);
      at += 4;
      if (at >= end) throw invalidNetwork('path identifier without a prefix', buf, at - 4, end, msgStart);
    }
    const bits = buf[at]!;
    if (bits > maxBits) throw invalidNetwork(`prefix length ${bits} exceeds ${maxBits}`, buf, at, end, msgStart);
    const bytes = (bits + 7) >>> 3;
    if (at + 1 + bytes > end)
      throw invalidNetwork(`prefix of length ${bits} overruns the NLRI field`, buf, at, end, msgStart);
    let prefix: string;
    const trailing = TRAILING[bits]!;
    if (trailing !== 0 && (buf[at + bytes]! & trailing) !== 0) {
      prefix = formatCleared(buf, at + 1, bytes, bits, v4);
      if (tally !== undefined) tally.trailingBitsCleared++;
    } else {
      prefix = v4 ? formatV4Prefix(buf, at + 1, bytes, bits) : formatV6Prefix(buf, at + 1, bytes, bits);
    }
    out.push(pathId === undefined ? { prefix } : { prefix, pathId });
    at += 1 + bytes;
  }
  return out;
}

/** The prefix with its trailing bits cleared (off the hot path: only for prefixes that have some set). */
function formatCleared(buf: Uint8Array, at: number, bytes: number, bits: number, v4: boolean): string {
  pad.fill(0);
  pad.set(buf.subarray(at, at + bytes), 0);
  pad[bytes - 1] = pad[bytes - 1]! & ~TRAILING[bits]!;
  return v4 ? formatV4Prefix(pad, 0, bytes, bits) : `${formatIpv6(pad, 0)}/${bits}`;
}

function formatV4Prefix(buf: Uint8Array, at: number, bytes: number, bits: number): string {
  switch (bytes) {
    case 4:
      return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}/${bits}`;
    case 3:
      return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.0/${bits}`;
    case 2:
      return `${buf[at]}.${buf[at + 1]}.0.0/${bits}`;
    case 1:
      return `${buf[at]}.0.0.0/${bits}`;
    default:
      return `0.0.0.0/${bits}`;
  }
}

function formatV6Prefix(buf: Uint8Array, at: number, bytes: number, bits: number): string {
  if (bytes === 16) return `${formatIpv6(buf, at)}/${bits}`;
  pad.fill(0);
  pad.set(buf.subarray(at, at + bytes), 0);
  return `${formatIpv6(pad, 0)}/${bits}`;
}

function invalidNetwork(message: string, buf: Uint8Array, at: number, end: number, msgStart: number): BgpWireError {
  return new BgpWireError(message, {
    code: ERROR_CODE.UPDATE_MESSAGE,
    subcode: UPDATE_SUBCODE.INVALID_NETWORK_FIELD,
    action: 'session-reset',
    offset: at - msgStart,
    data: buf.slice(at, end),
  });
}

/**
 * Writes one prefix ("203.0.113.0/24" or "2001:db8::/32") at out[at] and returns the offset after it.
 * Throws TypeError for text that is not a prefix of this family (a caller's mistake).
 */
export function writePrefix(out: Uint8Array, at: number, prefix: string, afi: number, pathId?: number): number {
  if (pathId !== undefined) {
    writeUint32(out, at, pathId);
    at += 4;
  }
  const slash = prefix.indexOf('/');
  const bits = slash < 0 ? -1 : parseBits(prefix, slash + 1);
  const v4 = afi === AFI.IPV4;
  if (bits < 0 || bits > (v4 ? 32 : 128))
    throw new TypeError(`not an ${v4 ? 'IPv4' : 'IPv6'} prefix: ${JSON.stringify(prefix)}`);
  const ok = v4 ? parseIpv4Into(prefix, scratch, 0, 0, slash) : parseIpv6Into(prefix, scratch, 0, 0, slash);
  if (!ok) throw new TypeError(`not an ${v4 ? 'IPv4' : 'IPv6'} prefix: ${JSON.stringify(prefix)}`);
  out[at] = bits;
  const bytes = (bits + 7) >>> 3;
  for (let i = 0; i < bytes; i++) out[at + 1 + i] = scratch[i]!;
  return at + 1 + bytes;
}

const scratch = new Uint8Array(16);

function parseBits(text: string, from: number): number {
  if (from >= text.length || from + 3 < text.length) return -1;
  let n = 0;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    n = n * 10 + (c - 48);
  }
  return n;
}

/** Bytes writePrefix would write for this prefix (without parsing the address part). */
export function prefixEncodingLength(prefix: string, pathId?: number): number {
  const slash = prefix.indexOf('/');
  const bits = slash < 0 ? -1 : parseBits(prefix, slash + 1);
  if (bits < 0) throw new TypeError(`not a prefix: ${JSON.stringify(prefix)}`);
  return (pathId === undefined ? 0 : 4) + 1 + ((bits + 7) >>> 3);
}
