// COMMUNITIES (RFC 1997), EXTENDED_COMMUNITIES (RFC 4360) and LARGE_COMMUNITY (RFC 8092): wire
// form, text form ("64496:100", "64496:1:2", "rt:64496:100", "lb:64497:125000") and the well-known
// community names. The link bandwidth extended community (RFC 10005) is decoded with its value.
import type { ExtendedCommunity } from './types.js';
import { AS_TRANS } from './as-path.js';
import { readUint16, readUint32, toHex, writeUint16, writeUint32, fromHex } from './bytes.js';
import { formatIpv4, parseIpv4Into } from './ip.js';
import { type Writer, reserve, checkUint } from './update-writer.js';

/** Well-known communities (IANA "BGP Well-known Communities"), by the names used in configs. */
export const WELL_KNOWN_COMMUNITIES = {
  'graceful-shutdown': 0xffff0000, // RFC 8326
  'accept-own': 0xffff0001, // RFC 7611
  'route-filter-translated-v4': 0xffff0002,
  'route-filter-v4': 0xffff0003,
  'route-filter-translated-v6': 0xffff0004,
  'route-filter-v6': 0xffff0005,
  'llgr-stale': 0xffff0006, // RFC 9494
  'no-llgr': 0xffff0007, // RFC 9494
  'accept-own-nexthop': 0xffff0008,
  'standby-pe': 0xffff0009, // RFC 9026
  blackhole: 0xffff029a, // RFC 7999
  'no-export': 0xffffff01, // RFC 1997
  'no-advertise': 0xffffff02, // RFC 1997
  'no-export-subconfed': 0xffffff03, // RFC 1997
  'no-peer': 0xffffff04, // RFC 3765
} as const;

export type WellKnownCommunityName = keyof typeof WELL_KNOWN_COMMUNITIES;

const ALIASES: Record<string, WellKnownCommunityName> = {
  'local-as': 'no-export-subconfed',
  nopeer: 'no-peer',
  'g-shut': 'graceful-shutdown',
};
const NAME_OF = new Map<number, WellKnownCommunityName>(
  Object.entries(WELL_KNOWN_COMMUNITIES).map(([name, value]) => [value, name as WellKnownCommunityName]),
);

const DECIMAL_RE = /^\d{1,10}$/;

/** The decimal number in text[from..to), or -1 if it is not 1-10 digits or exceeds max. */
function parseDecimal(text: string, max: number, from = 0, to = text.length): number {
  if (to <= from || to - from > 10) return -1;
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n <= max ? n : -1;
}

/**
 * "64496:100" or a well-known name ("no-export", "graceful-shutdown", "blackhole", "local-as", ...;
 * case and '_' vs '-' do not matter) to the 32-bit community value. Throws TypeError otherwise.
 */
export function parseCommunity(text: string): number {
  const colon = text.indexOf(':');
  if (colon >= 0) {
    const high = parseDecimal(text, 0xffff, 0, colon);
    const low = parseDecimal(text, 0xffff, colon + 1);
    if (high >= 0 && low >= 0) return ((high << 16) | low) >>> 0;
  } else {
    const key = text.toLowerCase().replace(/_/g, '-');
    const name = ALIASES[key] ?? key;
    if (Object.hasOwn(WELL_KNOWN_COMMUNITIES, name)) return WELL_KNOWN_COMMUNITIES[name as WellKnownCommunityName];
  }
  throw new TypeError(
    `not a community ("asn:value" with both parts 0-65535, or a well-known name): ${JSON.stringify(text)}`,
  );
}

/** A 32-bit community value as "high:low". */
export function formatCommunity(value: number): string {
  return `${value >>> 16}:${value & 0xffff}`;
}

/** The well-known name of a community value ("no-export"), or undefined. Accepts the value or "a:b" text. */
export function communityName(value: number | string): WellKnownCommunityName | undefined {
  return NAME_OF.get(typeof value === 'number' ? value >>> 0 : parseCommunity(value));
}

/** "64496:1:2" to its three 32-bit parts [global administrator, local data 1, local data 2]. Throws TypeError otherwise. */
export function parseLargeCommunity(text: string): [number, number, number] {
  const parts = text.split(':');
  if (parts.length === 3) {
    const a = parseDecimal(parts[0]!, 0xffffffff);
    const b = parseDecimal(parts[1]!, 0xffffffff);
    const c = parseDecimal(parts[2]!, 0xffffffff);
    if (a >= 0 && b >= 0 && c >= 0) return [a, b, c];
  }
  throw new TypeError(`not a large community ("a:b:c", each 0-4294967295): ${JSON.stringify(text)}`);
}

// ---------------------------------------------------------------------------------------------
// Wire form of COMMUNITIES and LARGE_COMMUNITY values (length checks are the caller's).

export function decodeCommunities(buf: Uint8Array, start: number, end: number): string[] {
  const out: string[] = [];
  for (let p = start; p < end; p += 4) out.push(`${readUint16(buf, p)}:${readUint16(buf, p + 2)}`);
  return out;
}

export function writeCommunities(w: Writer, at: number, list: readonly string[]): number {
  const buf = reserve(w, at + 4 * list.length);
  for (const text of list) {
    writeUint32(buf, at, parseCommunity(text));
    at += 4;
  }
  return at;
}

export function decodeLargeCommunities(buf: Uint8Array, start: number, end: number): string[] {
  const out: string[] = [];
  for (let p = start; p < end; p += 12)
    out.push(`${readUint32(buf, p)}:${readUint32(buf, p + 4)}:${readUint32(buf, p + 8)}`);
  return out;
}

export function writeLargeCommunities(w: Writer, at: number, list: readonly string[]): number {
  const buf = reserve(w, at + 12 * list.length);
  for (const text of list) {
    const [a, b, c] = parseLargeCommunity(text);
    writeUint32(buf, at, a);
    writeUint32(buf, at + 4, b);
    writeUint32(buf, at + 8, c);
    at += 12;
  }
  return at;
}

// ---------------------------------------------------------------------------------------------
// Extended communities.

/** Type high octets with a global administrator field we decode (transitive, RFC 4360 3.1-3.2, RFC 5668). */
export const EXTENDED_COMMUNITY_TYPE = { TWO_OCTET_AS: 0x00, IPV4_ADDRESS: 0x01, FOUR_OCTET_AS: 0x02 } as const;
export const EXTENDED_COMMUNITY_SUBTYPE = { ROUTE_TARGET: 0x02, ROUTE_ORIGIN: 0x03, LINK_BANDWIDTH: 0x04 } as const;

/** The non-transitive two-octet AS-specific type (RFC 7153), one of the two link bandwidth forms. */
export const NON_TRANSITIVE_TWO_OCTET_AS = 0x40;

const HEX_BYTE: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Hex of buf[at..at+8): faster than a Buffer round trip for 8 bytes. */
function hex8(buf: Uint8Array, at: number): string {
  return (
    HEX_BYTE[buf[at]!]! +
    HEX_BYTE[buf[at + 1]!]! +
    HEX_BYTE[buf[at + 2]!]! +
    HEX_BYTE[buf[at + 3]!]! +
    HEX_BYTE[buf[at + 4]!]! +
    HEX_BYTE[buf[at + 5]!]! +
    HEX_BYTE[buf[at + 6]!]! +
    HEX_BYTE[buf[at + 7]!]!
  );
}

const KIND_NAMES: Record<number, 'route-target' | 'route-origin'> = { 2: 'route-target', 3: 'route-origin' };

export function decodeExtendedCommunities(buf: Uint8Array, start: number, end: number): ExtendedCommunity[] {
  const out: ExtendedCommunity[] = [];
  for (let p = start; p < end; p += 8) {
    const type = buf[p]!;
    const subtype = buf[p + 1]!;
    const hex = hex8(buf, p);
    if (
      subtype === EXTENDED_COMMUNITY_SUBTYPE.LINK_BANDWIDTH &&
      (type === 0x00 || type === NON_TRANSITIVE_TWO_OCTET_AS)
    ) {
      const bandwidth = new DataView(buf.buffer, buf.byteOffset + p + 4, 4).getFloat32(0);
      out.push({ type, subtype, name: 'link-bandwidth', asn: readUint16(buf, p + 2), bandwidth, hex });
      continue;
    }
    const name = type <= 2 ? KIND_NAMES[subtype] : undefined;
    if (name === undefined) out.push({ type, subtype, hex });
    else if (type === 0x00)
      out.push({ type, subtype, name, asn: readUint16(buf, p + 2), value: readUint32(buf, p + 4), hex });
    else if (type === 0x01)
      out.push({ type, subtype, name, address: formatIpv4(buf, p + 2), value: readUint16(buf, p + 6), hex });
    else out.push({ type, subtype, name, asn: readUint32(buf, p + 2), value: readUint16(buf, p + 6), hex });
  }
  return out;
}

/** Writes one extended community's 8 bytes at out[at]: from the typed fields when they are set, else from hex. */
export function writeExtendedCommunity(out: Uint8Array, at: number, ec: ExtendedCommunity): void {
  if (ec.bandwidth !== undefined && ec.asn !== undefined) {
    writeLinkBandwidth(out, at, ec);
    return;
  }
  const kind = ec.type & 0x3f;
  if (ec.value !== undefined && kind <= 2 && (ec.asn !== undefined || ec.address !== undefined)) {
    out[at] = checkUint(ec.type, 0xff, 'extended community type');
    out[at + 1] = checkUint(ec.subtype, 0xff, 'extended community subtype');
    if (kind === 0x00) {
      writeUint16(out, at + 2, checkUint(ec.asn, 0xffff, 'extended community AS number (2-octet AS type)'));
      writeUint32(out, at + 4, checkUint(ec.value, 0xffffffff, 'extended community value'));
      return;
    }
    if (kind === 0x01) {
      if (typeof ec.address !== 'string' || !parseIpv4Into(ec.address, out, at + 2)) {
        throw new TypeError(`extended community address must be IPv4, got ${JSON.stringify(ec.address)}`);
      }
      writeUint16(out, at + 6, checkUint(ec.value, 0xffff, 'extended community value (IPv4 address type)'));
      return;
    }
    writeUint32(out, at + 2, checkUint(ec.asn, 0xffffffff, 'extended community AS number'));
    writeUint16(out, at + 6, checkUint(ec.value, 0xffff, 'extended community value (4-octet AS type)'));
    return;
  }
  if (typeof ec.hex !== 'string' || ec.hex.length !== 16)
    throw new TypeError(`extended community hex must be 8 bytes, got ${JSON.stringify(ec.hex)}`);
  out.set(fromHex(ec.hex), at);
}

function writeLinkBandwidth(out: Uint8Array, at: number, ec: ExtendedCommunity): void {
  if (ec.type !== 0x00 && ec.type !== NON_TRANSITIVE_TWO_OCTET_AS)
    throw new RangeError(`link bandwidth community type must be 0x00 or 0x40, got ${ec.type}`);
  checkBandwidth(ec.bandwidth!);
  out[at] = ec.type;
  out[at + 1] = EXTENDED_COMMUNITY_SUBTYPE.LINK_BANDWIDTH;
  writeUint16(out, at + 2, checkUint(ec.asn, 0xffff, 'link bandwidth AS number (use AS_TRANS 23456 for a 4-octet AS)'));
  new DataView(out.buffer, out.byteOffset + at + 4, 4).setFloat32(0, ec.bandwidth!);
}

/** The largest finite IEEE 754 single-precision value. */
const FLOAT32_MAX = 3.4028234663852886e38;

function checkBandwidth(bytesPerSecond: number): void {
  if (!(typeof bytesPerSecond === 'number' && bytesPerSecond >= 0 && bytesPerSecond <= FLOAT32_MAX))
    throw new RangeError(
      `link bandwidth must be a number of bytes per second from 0 to ${FLOAT32_MAX}, got ${String(bytesPerSecond)}`,
    );
}

export function writeExtendedCommunities(w: Writer, at: number, list: readonly ExtendedCommunity[]): number {
  const buf = reserve(w, at + 8 * list.length);
  for (const ec of list) {
    writeExtendedCommunity(buf, at, ec);
    at += 8;
  }
  return at;
}

function makeExtended(subtype: number, global: number | string, local: number): ExtendedCommunity {
  const ec: ExtendedCommunity =
    typeof global === 'string'
      ? { type: 0x01, subtype, address: global, value: local, hex: '' }
      : global <= 0xffff
        ? { type: 0x00, subtype, asn: global, value: local, hex: '' }
        : { type: 0x02, subtype, asn: global, value: local, hex: '' };
  ec.name = KIND_NAMES[subtype];
  const bytes = new Uint8Array(8);
  writeExtendedCommunity(bytes, 0, ec);
  ec.hex = toHex(bytes);
  return ec;
}

/**
 * A route target (RFC 4360 4): global administrator an AS number (2-octet type when it fits, with a
 * 32-bit local value; else 4-octet type with a 16-bit value) or an IPv4 address (16-bit value).
 */
export function routeTarget(global: number | string, local: number): ExtendedCommunity {
  return makeExtended(EXTENDED_COMMUNITY_SUBTYPE.ROUTE_TARGET, global, local);
}

/** A route origin (site of origin, RFC 4360 5), laid out as routeTarget. */
export function routeOrigin(global: number | string, local: number): ExtendedCommunity {
  return makeExtended(EXTENDED_COMMUNITY_SUBTYPE.ROUTE_ORIGIN, global, local);
}

/**
 * The link bandwidth extended community (RFC 10005): `bytesPerSecond` as an IEEE 754 single-precision
 * value (rounded to its 24-bit mantissa), the global administrator `asn` (AS_TRANS, 23456, when it
 * does not fit in two octets). Transitive (type 0x00) unless `transitive` is false (type 0x40, which
 * a router does not pass to another AS). Throws RangeError for a negative, non-finite or too large
 * bandwidth and an AS number outside 0-4294967295.
 */
export function linkBandwidth(asn: number, bytesPerSecond: number, transitive = true): ExtendedCommunity {
  checkUint(asn, 0xffffffff, 'link bandwidth AS number');
  checkBandwidth(bytesPerSecond);
  const ec: ExtendedCommunity = {
    type: transitive ? 0x00 : NON_TRANSITIVE_TWO_OCTET_AS,
    subtype: EXTENDED_COMMUNITY_SUBTYPE.LINK_BANDWIDTH,
    name: 'link-bandwidth',
    asn: asn > 0xffff ? AS_TRANS : asn,
    bandwidth: Math.fround(bytesPerSecond),
    hex: '',
  };
  const bytes = new Uint8Array(8);
  writeLinkBandwidth(bytes, 0, ec);
  ec.hex = toHex(bytes);
  return ec;
}

/**
 * "rt:64496:100", "rt:192.0.2.1:7", "ro:65536:1" (also "soo:"), "lb:64497:125000" (link bandwidth
 * in bytes per second, transitive; "lb-nt:" for the non-transitive form) or 16 hex digits (optionally "0x")
 * to an extended community. Throws TypeError/RangeError otherwise.
 */
export function parseExtendedCommunity(text: string): ExtendedCommunity {
  const lb = /^(lb|lb-nt):(\d{1,10}):([0-9.eE+]+)$/i.exec(text);
  if (lb !== null) {
    const bandwidth = Number(lb[3]!);
    if (!Number.isFinite(bandwidth)) throw new TypeError(`link bandwidth is not a number: ${JSON.stringify(text)}`);
    return linkBandwidth(Number(lb[2]!), bandwidth, lb[1]!.toLowerCase() === 'lb');
  }
  const m = /^(rt|ro|soo|target|origin):(.+):(\d{1,10})$/i.exec(text);
  if (m !== null) {
    const kind = m[1]!.toLowerCase();
    const subtype =
      kind === 'rt' || kind === 'target'
        ? EXTENDED_COMMUNITY_SUBTYPE.ROUTE_TARGET
        : EXTENDED_COMMUNITY_SUBTYPE.ROUTE_ORIGIN;
    const globalText = m[2]!;
    const local = Number(m[3]!);
    if (DECIMAL_RE.test(globalText))
      return makeExtended(subtype, checkUint(Number(globalText), 0xffffffff, 'AS number'), local);
    return makeExtended(subtype, globalText, local);
  }
  const hex = text.startsWith('0x') || text.startsWith('0X') ? text.slice(2) : text;
  if (/^[0-9a-fA-F]{16}$/.test(hex)) {
    const bytes = fromHex(hex);
    return decodeExtendedCommunities(bytes, 0, 8)[0]!;
  }
  throw new TypeError(
    `not an extended community ("rt:asn:value", "rt:ipv4:value", "ro:...", "lb:asn:bytesPerSecond", or 16 hex digits): ${JSON.stringify(text)}`,
  );
}

/**
 * "rt:64496:100" for route targets and origins, "lb:64497:125000" (bytes per second; "lb-nt:" when
 * non-transitive) for link bandwidth, else the 16 hex digits.
 */
export function formatExtendedCommunity(ec: ExtendedCommunity): string {
  if (ec.name === 'link-bandwidth' && ec.bandwidth !== undefined && ec.asn !== undefined)
    return `${ec.type === 0x00 ? 'lb' : 'lb-nt'}:${ec.asn}:${ec.bandwidth}`;
  if (ec.name !== undefined && ec.value !== undefined) {
    const global = ec.address ?? ec.asn;
    if (global !== undefined) return `${ec.name === 'route-target' ? 'rt' : 'ro'}:${global}:${ec.value}`;
  }
  return ec.hex;
}
