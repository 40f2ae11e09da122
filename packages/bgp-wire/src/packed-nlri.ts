// NLRI in packed numeric form: the prefixes of one NLRI field (RFC 4271 4.3, RFC 4760 3-4, with RFC
// 7911 path identifiers) as 32-bit words in one Int32Array, instead of one string and one object per
// prefix. decodePackedPrefixes reads exactly what decodePrefixes (nlri.ts) reads and throws exactly
// the same errors; packedNlriList turns the packed form back into the string form.
import { AFI, type Nlri } from './types.js';
import { BgpWireError, ERROR_CODE, UPDATE_SUBCODE } from './errors.js';
import { readUint32 } from './bytes.js';
import { formatIpv6 } from './ip.js';
import type { PrefixTally } from './nlri.js';

/**
 * The prefixes of one NLRI field, packed. Prefix i takes `stride` words from `words[i * stride]`:
 * IPv4 (stride 3): the address (its four bytes as one big-endian number, read it with `>>> 0`), the
 * prefix length, the path identifier; IPv6 (stride 6): the address as four big-endian words, the
 * prefix length, the path identifier. Bits past the prefix length are zero (RFC 4271 4.3: they are
 * cleared, as in the string form). The path identifier is 0 when `addPath` is false (no identifier
 * on the wire); read it with `>>> 0`.
 */
export interface PackedNlri {
  /** AFI.IPV4 (1) or AFI.IPV6 (2). */
  afi: number;
  /** Whether the prefixes carried path identifiers (ADD-PATH, RFC 7911). */
  addPath: boolean;
  /** Number of prefixes. */
  length: number;
  /** Words per prefix: 3 for IPv4, 6 for IPv6. */
  stride: number;
  words: Int32Array;
}

/** Words per IPv4 prefix: address, prefix length, path identifier. */
export const IPV4_STRIDE = 3;
/** Words per IPv6 prefix: four address words, prefix length, path identifier. */
export const IPV6_STRIDE = 6;

const NO_WORDS = new Int32Array(0);

/** An empty packed list of a family. */
export function emptyPackedNlri(afi: number, addPath: boolean): PackedNlri {
  return { afi, addPath, length: 0, stride: afi === AFI.IPV4 ? IPV4_STRIDE : IPV6_STRIDE, words: NO_WORDS };
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

/** Counts the prefixes of buf[start..end), throwing decodePrefixes' errors for a malformed field. */
function countPrefixes(
  buf: Uint8Array,
  start: number,
  end: number,
  maxBits: number,
  addPath: boolean,
  msgStart: number,
): number {
  let n = 0;
  let at = start;
  while (at < end) {
    if (addPath) {
      if (at + 4 > end) throw invalidNetwork('path identifier overruns the NLRI field', buf, at, end, msgStart);
      at += 4;
      if (at >= end) throw invalidNetwork('path identifier without a prefix', buf, at - 4, end, msgStart);
    }
    const bits = buf[at]!;
    if (bits > maxBits) throw invalidNetwork(`prefix length ${bits} exceeds ${maxBits}`, buf, at, end, msgStart);
    const bytes = (bits + 7) >>> 3;
    if (at + 1 + bytes > end)
      throw invalidNetwork(`prefix of length ${bits} overruns the NLRI field`, buf, at, end, msgStart);
    at += 1 + bytes;
    n++;
  }
  return n;
}

/** MASK[bits]: the network mask of a word holding `bits` (0-32) prefix bits. */
const MASK = new Int32Array(33);
for (let bits = 1; bits <= 32; bits++) MASK[bits] = (0xffffffff << (32 - bits)) | 0;

/** One address word from up to 4 bytes at buf[at] (missing bytes zero). */
function word(buf: Uint8Array, at: number, bytes: number): number {
  switch (bytes) {
    case 0:
      return 0;
    case 1:
      return buf[at]! << 24;
    case 2:
      return (buf[at]! << 24) | (buf[at + 1]! << 16);
    case 3:
      return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8);
    default:
      return (buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!;
  }
}

/**
 * decodePrefixes (nlri.ts) in packed form: the prefixes of buf[start..end), the same ones, with the
 * same errors (BgpWireError 3/10, session-reset, `offset` relative to msgStart) and the same count of
 * cleared trailing bits in tally. One Int32Array per call, no string or object per prefix.
 */
export function decodePackedPrefixes(
  buf: Uint8Array,
  start: number,
  end: number,
  afi: number,
  addPath: boolean,
  msgStart: number,
  tally?: PrefixTally,
): PackedNlri {
  const v4 = afi === AFI.IPV4;
  const count = countPrefixes(buf, start, end, v4 ? 32 : 128, addPath, msgStart);
  if (count === 0) return emptyPackedNlri(v4 ? AFI.IPV4 : AFI.IPV6, addPath);
  const stride = v4 ? IPV4_STRIDE : IPV6_STRIDE;
  const words = new Int32Array(count * stride);
  let cleared = 0;
  let at = start;
  for (let w = 0; w < words.length; w += stride) {
    let pathId = 0;
    if (addPath) {
      pathId = readUint32(buf, at) | 0;
      at += 4;
    }
    const bits = buf[at++]!;
    const bytes = (bits + 7) >>> 3;
    if (v4) {
      const raw = word(buf, at, bytes);
      const address = raw & MASK[bits]!;
      if (address !== raw) cleared++;
      words[w] = address;
      words[w + 1] = bits;
      words[w + 2] = pathId;
    } else {
      let dirty = false;
      for (let i = 0; i < 4; i++) {
        const left = bits - 32 * i; // prefix bits in this word
        const inWord = left <= 0 ? 0 : left >= 32 ? 32 : left;
        const have = bytes - 4 * i;
        const raw = word(buf, at + 4 * i, have <= 0 ? 0 : have >= 4 ? 4 : have);
        const value = raw & MASK[inWord]!;
        if (value !== raw) dirty = true;
        words[w + i] = value;
      }
      if (dirty) cleared++;
      words[w + 4] = bits;
      words[w + 5] = pathId;
    }
    at += bytes;
  }
  if (tally !== undefined) tally.trailingBitsCleared += cleared;
  return { afi: v4 ? AFI.IPV4 : AFI.IPV6, addPath, length: count, stride, words };
}

const v6bytes = new Uint8Array(16);

/** The text of packed prefix i ("192.0.2.0/24", "2001:db8::/32"), as decodePrefixes writes it. */
export function packedPrefixText(list: PackedNlri, i: number): string {
  const w = list.words;
  const at = i * list.stride;
  if (list.stride === IPV4_STRIDE) {
    const a = w[at]!;
    return `${a >>> 24}.${(a >>> 16) & 0xff}.${(a >>> 8) & 0xff}.${a & 0xff}/${w[at + 1]}`;
  }
  for (let k = 0; k < 4; k++) {
    const a = w[at + k]!;
    v6bytes[4 * k] = a >>> 24;
    v6bytes[4 * k + 1] = a >>> 16;
    v6bytes[4 * k + 2] = a >>> 8;
    v6bytes[4 * k + 3] = a;
  }
  return `${formatIpv6(v6bytes, 0)}/${w[at + 4]}`;
}

/** The path identifier of packed prefix i, or undefined when the list has none. */
export function packedPathId(list: PackedNlri, i: number): number | undefined {
  return list.addPath ? list.words[i * list.stride + list.stride - 1]! >>> 0 : undefined;
}

/** The string form of a packed list: what decodePrefixes gives for the same bytes. */
export function packedNlriList(list: PackedNlri): Nlri[] {
  const out: Nlri[] = new Array(list.length);
  for (let i = 0; i < list.length; i++) {
    const prefix = packedPrefixText(list, i);
    out[i] = list.addPath ? { prefix, pathId: packedPathId(list, i)! } : { prefix };
  }
  return out;
}
