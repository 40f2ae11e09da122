// Path attribute encoding: each attribute from its named field in PathAttributes, in the canonical
// order and flags, or in the order and flags an UpdateLayout recorded when the message was decoded.
import type { Aggregator, CodecContext, PathAttributes, UnknownAttribute, UpdateLayout } from './types.js';
import { fromHex, writeUint16, writeUint32 } from './bytes.js';
import { parseIpv4Into } from './ip.js';
import { ATTR, ATTR_FLAG, standardFlags } from './attributes.js';
import { writeAsPath } from './as-path.js';
import { writeCommunities, writeExtendedCommunities, writeLargeCommunities } from './communities.js';
import { writeMpReach, writeMpUnreach } from './mp-nlri.js';
import { type Writer, reserve, checkUint } from './update-writer.js';

/** Known type codes in canonical order (MP attributes first, RFC 7606 5.1; then ascending). */
const CANONICAL: readonly number[] = [14, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 17, 18, 32];
/** Index in CANONICAL of each known type code, -1 for the others. */
const INDEX = new Int8Array(256).fill(-1);
CANONICAL.forEach((code, i) => (INDEX[code] = i));

/** The value of each known attribute, in CANONICAL order; undefined where absent. */
function presentValues(a: PathAttributes): unknown[] {
  return [
    a.mpReach,
    a.mpUnreach,
    a.origin,
    a.asPath,
    a.nextHop,
    a.med,
    a.localPref,
    a.atomicAggregate === true ? true : undefined,
    a.aggregator,
    a.communities,
    a.originatorId,
    a.clusterList,
    a.extendedCommunities,
    a.as4Path,
    a.as4Aggregator,
    a.largeCommunities,
  ];
}

const ORIGIN_CODE: Readonly<Record<string, number>> = { igp: 0, egp: 1, incomplete: 2 };

function writeIpv4(w: Writer, at: number, text: unknown, what: string): number {
  const buf = reserve(w, at + 4);
  if (typeof text !== 'string' || !parseIpv4Into(text, buf, at))
    throw new TypeError(`${what} must be an IPv4 address, got ${JSON.stringify(text)}`);
  return at + 4;
}

function writeU32(w: Writer, at: number, value: unknown, what: string): number {
  writeUint32(reserve(w, at + 4), at, checkUint(value, 0xffffffff, what));
  return at + 4;
}

function writeAggregator(w: Writer, at: number, agg: Aggregator, asnSize: 2 | 4, what: string): number {
  const buf = reserve(w, at + asnSize + 4);
  if (asnSize === 2) {
    if (typeof agg.asn === 'number' && agg.asn > 0xffff && agg.asn <= 0xffffffff) {
      throw new RangeError(
        `${what}.asn ${agg.asn} needs 4 octets but the session uses 2-octet AS numbers (see toTwoOctetAttributes)`,
      );
    }
    writeUint16(buf, at, checkUint(agg.asn, 0xffff, what === 'aggregator' ? 'aggregator.asn' : 'as4Aggregator.asn'));
  } else {
    writeUint32(
      buf,
      at,
      checkUint(agg.asn, 0xffffffff, what === 'aggregator' ? 'aggregator.asn' : 'as4Aggregator.asn'),
    );
  }
  return writeIpv4(
    w,
    at + asnSize,
    agg.address,
    what === 'aggregator' ? 'aggregator.address' : 'as4Aggregator.address',
  );
}

/** Writes the value of known attribute `code` at w.buf[at]; returns the offset after it. */
function writeValue(w: Writer, at: number, code: number, attrs: PathAttributes, ctx: CodecContext | undefined): number {
  const asnSize = ctx?.fourOctetAs === false ? 2 : 4;
  switch (code) {
    case ATTR.ORIGIN: {
      const origin = Object.hasOwn(ORIGIN_CODE, attrs.origin!) ? ORIGIN_CODE[attrs.origin!] : undefined;
      if (origin === undefined)
        throw new TypeError(`origin must be 'igp', 'egp' or 'incomplete', got ${JSON.stringify(attrs.origin)}`);
      reserve(w, at + 1)[at] = origin;
      return at + 1;
    }
    case ATTR.AS_PATH:
      return writeAsPath(w, at, attrs.asPath!, asnSize);
    case ATTR.NEXT_HOP:
      return writeIpv4(w, at, attrs.nextHop, 'nextHop');
    case ATTR.MULTI_EXIT_DISC:
      return writeU32(w, at, attrs.med, 'med');
    case ATTR.LOCAL_PREF:
      return writeU32(w, at, attrs.localPref, 'localPref');
    case ATTR.ATOMIC_AGGREGATE:
      return at;
    case ATTR.AGGREGATOR:
      return writeAggregator(w, at, attrs.aggregator!, asnSize, 'aggregator');
    case ATTR.COMMUNITIES:
      return writeCommunities(w, at, attrs.communities!);
    case ATTR.ORIGINATOR_ID:
      return writeIpv4(w, at, attrs.originatorId, 'originatorId');
    case ATTR.CLUSTER_LIST:
      for (const id of attrs.clusterList!) at = writeIpv4(w, at, id, 'clusterList entry');
      return at;
    case ATTR.MP_REACH_NLRI:
      return writeMpReach(w, at, attrs.mpReach!, ctx);
    case ATTR.MP_UNREACH_NLRI:
      return writeMpUnreach(w, at, attrs.mpUnreach!, ctx);
    case ATTR.EXTENDED_COMMUNITIES:
      return writeExtendedCommunities(w, at, attrs.extendedCommunities!);
    case ATTR.AS4_PATH:
      return writeAsPath(w, at, attrs.as4Path!, 4);
    case ATTR.AS4_AGGREGATOR:
      return writeAggregator(w, at, attrs.as4Aggregator!, 4, 'as4Aggregator');
    case ATTR.LARGE_COMMUNITY:
      return writeLargeCommunities(w, at, attrs.largeCommunities!);
    default:
      throw new TypeError(`attribute ${code} has no named field`);
  }
}

/**
 * Completes the attribute whose value was written at w.buf[at + 4..at + 4 + length): writes flags,
 * type and length, using one length octet (and moving the value back by one) unless the flags ask
 * for the extended length or the value needs it. Returns the offset after the attribute.
 */
export function finishAttribute(w: Writer, at: number, flags: number, code: number, length: number): number {
  if (length > 0xffff) throw new RangeError(`attribute ${code} value of ${length} bytes exceeds 65535`);
  const buf = w.buf;
  buf[at + 1] = code;
  if (flags & ATTR_FLAG.EXTENDED_LENGTH || length > 255) {
    buf[at] = flags | ATTR_FLAG.EXTENDED_LENGTH;
    writeUint16(buf, at + 2, length);
    return at + 4 + length;
  }
  buf[at] = flags;
  buf[at + 2] = length;
  buf.copyWithin(at + 3, at + 4, at + 4 + length);
  return at + 3 + length;
}

/** Value length of the fixed-size attributes (ORIGIN, NEXT_HOP, MED, LOCAL_PREF, ATOMIC_AGGREGATE, ORIGINATOR_ID). */
const FIXED_LENGTH = new Int8Array(256).fill(-1);
FIXED_LENGTH[1] = 1;
FIXED_LENGTH[3] = 4;
FIXED_LENGTH[4] = 4;
FIXED_LENGTH[5] = 4;
FIXED_LENGTH[6] = 0;
FIXED_LENGTH[9] = 4;

function writeKnown(
  w: Writer,
  at: number,
  code: number,
  attrs: PathAttributes,
  layout: UpdateLayout | undefined,
  ctx: CodecContext | undefined,
): number {
  const flags = checkUint(layout?.flags?.[code] ?? standardFlags(code), 0xff, 'layout.flags entry');
  const fixed = FIXED_LENGTH[code]!;
  if (fixed >= 0 && (flags & ATTR_FLAG.EXTENDED_LENGTH) === 0) {
    // Short header straight away, no need to move the value.
    const buf = reserve(w, at + 3);
    buf[at] = flags;
    buf[at + 1] = code;
    buf[at + 2] = fixed;
    return writeValue(w, at + 3, code, attrs, ctx);
  }
  reserve(w, at + 4);
  const end = writeValue(w, at + 4, code, attrs, ctx);
  return finishAttribute(w, at, flags, code, end - at - 4);
}

function writeUnknown(w: Writer, at: number, u: UnknownAttribute): number {
  const flags = checkUint(u.flags, 0xff, 'unknown attribute flags');
  const code = checkUint(u.code, 0xff, 'unknown attribute code');
  if (typeof u.hex !== 'string') throw new TypeError(`unknown attribute ${code} needs hex`);
  const value = fromHex(u.hex);
  reserve(w, at + 4 + value.length).set(value, at + 4);
  return finishAttribute(w, at, flags, code, value.length);
}

const NO_UNKNOWN: readonly UnknownAttribute[] = [];

/**
 * Writes the path attributes at w.buf[at] and returns the offset after them. Attributes named in
 * layout.order come first, in that order, with layout.flags; the rest follow in canonical order
 * (MP_REACH_NLRI, MP_UNREACH_NLRI, then ascending type code) with standard flags. `unknown`
 * attributes are written as given. Throws TypeError/RangeError for values that cannot be encoded.
 */
export function writeAttributes(
  w: Writer,
  at: number,
  attrs: PathAttributes,
  layout: UpdateLayout | undefined,
  ctx?: CodecContext,
): number {
  const values = presentValues(attrs);
  const unknown = attrs.unknown ?? NO_UNKNOWN;
  let unknownDone: boolean[] | undefined;

  if (layout?.order !== undefined) {
    unknownDone = unknown.map(() => false);
    for (const code of layout.order) {
      const i = INDEX[code] ?? -1;
      if (i >= 0) {
        if (values[i] !== undefined) {
          at = writeKnown(w, at, code, attrs, layout, ctx);
          values[i] = undefined; // written
        }
      } else {
        for (let k = 0; k < unknown.length; k++) {
          if (!unknownDone[k] && unknown[k]!.code === code) {
            at = writeUnknown(w, at, unknown[k]!);
            unknownDone[k] = true;
          }
        }
      }
    }
  }

  // Unknown attributes still to write, by ascending code, interleaved with the known ones.
  let pending: number[] | undefined;
  if (unknown.length > 0) {
    pending = [];
    for (let k = 0; k < unknown.length; k++) if (unknownDone === undefined || !unknownDone[k]) pending.push(k);
    pending.sort((a, b) => unknown[a]!.code - unknown[b]!.code);
  }
  let next = 0;
  for (let i = 0; i < CANONICAL.length; i++) {
    const code = CANONICAL[i]!;
    if (pending !== undefined && i >= 2) {
      while (next < pending.length && unknown[pending[next]!]!.code < code)
        at = writeUnknown(w, at, unknown[pending[next++]!]!);
    }
    if (values[i] !== undefined) at = writeKnown(w, at, code, attrs, layout, ctx);
  }
  if (pending !== undefined) while (next < pending.length) at = writeUnknown(w, at, unknown[pending[next++]!]!);
  return at;
}
