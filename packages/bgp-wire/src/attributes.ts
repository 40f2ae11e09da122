// Path attributes (RFC 4271 4.3 and 5): the attribute header and flags, the decoding of each type we
// know, and the RFC 7606 classification of what is wrong with them. Encoding is in attributes-encode.ts.
import type { CodecContext, ErrorAction, Origin, PathAttributes, UpdateError } from './types.js';
import { BgpWireError, ERROR_CODE, UPDATE_SUBCODE } from './errors.js';
import { readUint16, readUint32, toHex } from './bytes.js';
import { formatIpv4 } from './ip.js';
import { decodeAsPath } from './as-path.js';
import { decodeCommunities, decodeExtendedCommunities, decodeLargeCommunities } from './communities.js';
import { decodeMpReach, decodeMpUnreach, mpOverrunError, type AttributeSpan } from './mp-nlri.js';
import type { PrefixReader, PrefixTally } from './nlri.js';

/** Path attribute type codes (IANA "BGP Path Attributes"). */
export const ATTR = {
  ORIGIN: 1,
  AS_PATH: 2,
  NEXT_HOP: 3,
  MULTI_EXIT_DISC: 4,
  LOCAL_PREF: 5,
  ATOMIC_AGGREGATE: 6,
  AGGREGATOR: 7,
  COMMUNITIES: 8,
  ORIGINATOR_ID: 9,
  CLUSTER_LIST: 10,
  MP_REACH_NLRI: 14,
  MP_UNREACH_NLRI: 15,
  EXTENDED_COMMUNITIES: 16,
  AS4_PATH: 17,
  AS4_AGGREGATOR: 18,
  LARGE_COMMUNITY: 32,
} as const;

/** Attribute flag bits (RFC 4271 4.3); the low four bits are unused. */
export const ATTR_FLAG = { OPTIONAL: 0x80, TRANSITIVE: 0x40, PARTIAL: 0x20, EXTENDED_LENGTH: 0x10 } as const;

export const ATTRIBUTE_NAMES: Readonly<Record<number, string>> = {
  1: 'ORIGIN',
  2: 'AS_PATH',
  3: 'NEXT_HOP',
  4: 'MULTI_EXIT_DISC',
  5: 'LOCAL_PREF',
  6: 'ATOMIC_AGGREGATE',
  7: 'AGGREGATOR',
  8: 'COMMUNITIES',
  9: 'ORIGINATOR_ID',
  10: 'CLUSTER_LIST',
  14: 'MP_REACH_NLRI',
  15: 'MP_UNREACH_NLRI',
  16: 'EXTENDED_COMMUNITIES',
  17: 'AS4_PATH',
  18: 'AS4_AGGREGATOR',
  32: 'LARGE_COMMUNITY',
};

const nameOf = (code: number): string => ATTRIBUTE_NAMES[code] ?? `attribute ${code}`;

/** Optional and transitive bits of each attribute this codec decodes; 0 for the others. */
const STANDARD = new Uint8Array(256);
for (const code of [1, 2, 3, 5, 6]) STANDARD[code] = ATTR_FLAG.TRANSITIVE; // well-known
for (const code of [4, 9, 10, 14, 15]) STANDARD[code] = ATTR_FLAG.OPTIONAL; // optional non-transitive
for (const code of [7, 8, 16, 17, 18, 32]) STANDARD[code] = ATTR_FLAG.OPTIONAL | ATTR_FLAG.TRANSITIVE;

/** The flags this codec writes for an attribute it knows (without the extended-length bit), else undefined. */
export function standardFlags(code: number): number | undefined {
  const flags = STANDARD[code];
  return flags === undefined || flags === 0 ? undefined : flags;
}

/**
 * Position of a type code in the canonical order: MP_REACH_NLRI, MP_UNREACH_NLRI (RFC 7606 5.1 wants
 * them first), then ascending type code (RFC 4271 5).
 */
export function canonicalRank(code: number): number {
  return code === ATTR.MP_REACH_NLRI ? 0 : code === ATTR.MP_UNREACH_NLRI ? 1 : code + 2;
}

const ORIGINS: readonly Origin[] = ['igp', 'egp', 'incomplete'];

// Which type codes were seen in the current decode: seen[code] === generation. Saves clearing.
const seen = new Uint32Array(256);
let generation = 0;

export interface DecodedAttributes {
  attributes: PathAttributes;
  /** Non-fatal problems, in wire order (possibly none). */
  errors: UpdateError[];
  /** Type codes of the attributes in wire order (first occurrences only). */
  order: number[];
  /** order is the canonical one (see canonicalRank). */
  canonicalOrder: boolean;
  /** Received flags of known attributes whose flags are not the canonical ones, by type code. */
  flags: Record<number, number> | undefined;
}

interface State {
  buf: Uint8Array;
  msgStart: number;
  errors: UpdateError[];
}

const TAW = 'treat-as-withdraw';
const DISCARD = 'attribute-discard';

function report(
  st: State,
  action: UpdateError['action'],
  subcode: number,
  code: number | undefined,
  start: number,
  end: number,
  message: string,
): void {
  const e: UpdateError = {
    action,
    code: ERROR_CODE.UPDATE_MESSAGE,
    subcode,
    data: toHex(st.buf, start, end),
    message,
    offset: start - st.msgStart,
  };
  if (code !== undefined) e.attribute = code;
  st.errors.push(e);
}

function lengthError(
  st: State,
  action: UpdateError['action'],
  code: number,
  start: number,
  end: number,
  expected: string,
): void {
  const length = end - start - (st.buf[start]! & ATTR_FLAG.EXTENDED_LENGTH ? 4 : 3);
  report(
    st,
    action,
    UPDATE_SUBCODE.ATTRIBUTE_LENGTH_ERROR,
    code,
    start,
    end,
    `${nameOf(code)} length ${length}, expected ${expected}`,
  );
}

function fatal(
  message: string,
  subcode: number,
  buf: Uint8Array,
  start: number,
  end: number,
  msgStart: number,
  action: ErrorAction = 'session-reset',
): BgpWireError {
  return new BgpWireError(message, {
    code: ERROR_CODE.UPDATE_MESSAGE,
    subcode,
    action,
    data: buf.slice(start, end),
    offset: start - msgStart,
  });
}

/**
 * Decodes the path attributes in buf[start..end) of the message starting at msgStart. Problems RFC
 * 7606 handles by treat-as-withdraw or attribute-discard are returned in `errors` (the attribute is
 * then left out); the fatal ones throw BgpWireError: MP_REACH_NLRI/MP_UNREACH_NLRI repeated (3/1) or
 * malformed (3/9, 'afi-safi-disable' when the family can be read), an unrecognized well-known
 * attribute (3/2). With ctx.ibgp === false (an external peer), LOCAL_PREF, ORIGINATOR_ID and
 * CLUSTER_LIST are discarded (RFC 7606 7.5, 7.9, 7.10); unless ctx.fourOctetAs === false, AS4_PATH and
 * AS4_AGGREGATOR are discarded (RFC 6793 4.1). These discards are reported with subcode 0. MP_REACH_NLRI
 * and MP_UNREACH_NLRI prefixes whose trailing bits were cleared are counted in tally; their prefixes
 * are read with `read` (decodePrefixes unless given).
 */
export function decodeAttributes(
  buf: Uint8Array,
  start: number,
  end: number,
  msgStart: number,
  ctx?: CodecContext,
  tally?: PrefixTally,
  read?: PrefixReader,
): DecodedAttributes {
  const attributes: PathAttributes = {};
  const st: State = { buf, msgStart, errors: [] };
  const order: number[] = [];
  let flagsRecord: Record<number, number> | undefined;
  let canonicalOrder = true;
  let lastRank = -1;
  const asnSize = ctx?.fourOctetAs === false ? 2 : 4;
  const external = ctx?.ibgp === false;
  generation = (generation + 1) >>> 0;
  if (generation === 0) {
    seen.fill(0);
    generation = 1;
  }
  const gen = generation;

  let at = start;
  while (at < end) {
    const attrStart = at;
    const flags = buf[at]!;
    const headerLength = flags & ATTR_FLAG.EXTENDED_LENGTH ? 4 : 3;
    if (end - at < headerLength) {
      report(
        st,
        TAW,
        UPDATE_SUBCODE.MALFORMED_ATTRIBUTE_LIST,
        undefined,
        at,
        end,
        `${end - at} bytes left in the path attributes, too few for an attribute header`,
      );
      break;
    }
    const code = buf[at + 1]!;
    const length = headerLength === 4 ? readUint16(buf, at + 2) : buf[at + 2]!;
    const valueStart = at + headerLength;
    const valueEnd = valueStart + length;
    if (valueEnd > end) {
      if (code === ATTR.MP_REACH_NLRI || code === ATTR.MP_UNREACH_NLRI) {
        throw mpOverrunError(nameOf(code), buf, valueStart, { start: attrStart, end, msgStart });
      }
      report(
        st,
        TAW,
        UPDATE_SUBCODE.ATTRIBUTE_LENGTH_ERROR,
        code,
        at,
        end,
        `${nameOf(code)} length ${length} overruns the path attributes by ${valueEnd - end} bytes`,
      );
      break;
    }
    at = valueEnd;

    if (seen[code] === gen) {
      if (code === ATTR.MP_REACH_NLRI || code === ATTR.MP_UNREACH_NLRI) {
        throw fatal(
          `${nameOf(code)} appears more than once`,
          UPDATE_SUBCODE.MALFORMED_ATTRIBUTE_LIST,
          buf,
          attrStart,
          valueEnd,
          msgStart,
        );
      }
      report(
        st,
        DISCARD,
        UPDATE_SUBCODE.MALFORMED_ATTRIBUTE_LIST,
        code,
        attrStart,
        valueEnd,
        `${nameOf(code)} appears more than once; the first is kept`,
      );
      continue;
    }
    seen[code] = gen;
    order.push(code);
    const rank = canonicalRank(code);
    if (rank < lastRank) canonicalOrder = false;
    lastRank = rank;

    const standard = STANDARD[code]!;
    if (standard === 0) {
      if ((flags & ATTR_FLAG.OPTIONAL) === 0) {
        throw fatal(
          `unrecognized well-known attribute ${code}`,
          UPDATE_SUBCODE.UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE,
          buf,
          attrStart,
          valueEnd,
          msgStart,
        );
      }
      (attributes.unknown ??= []).push({ code, flags, hex: toHex(buf, valueStart, valueEnd) });
      continue;
    }
    if ((code === ATTR.AS4_PATH || code === ATTR.AS4_AGGREGATOR) && asnSize === 4) {
      // RFC 6793 4.1: a NEW speaker never sends them to another NEW speaker; received anyway, they are discarded.
      report(
        st,
        DISCARD,
        0,
        code,
        attrStart,
        valueEnd,
        `${nameOf(code)} from a 4-octet AS speaker is ignored (RFC 6793 4.1)`,
      );
      continue;
    }
    const isMp = code === ATTR.MP_REACH_NLRI || code === ATTR.MP_UNREACH_NLRI;
    if ((flags & 0xc0) !== standard) {
      // RFC 7606 3.c; RFC 6793 6 has malformed AS4_* attributes discarded instead.
      const action = code === ATTR.AS4_PATH || code === ATTR.AS4_AGGREGATOR ? DISCARD : TAW;
      const want = `${standard & ATTR_FLAG.OPTIONAL ? 'optional' : 'well-known'}${standard & ATTR_FLAG.TRANSITIVE ? ' transitive' : ' non-transitive'}`;
      report(
        st,
        action,
        UPDATE_SUBCODE.ATTRIBUTE_FLAGS_ERROR,
        code,
        attrStart,
        valueEnd,
        `${nameOf(code)} flags 0x${flags.toString(16)} conflict with its type (${want})`,
      );
      if (!isMp) continue; // the MP attributes are still read: their prefixes are what gets withdrawn
    } else if (flags !== (standard | (length > 255 ? ATTR_FLAG.EXTENDED_LENGTH : 0))) {
      (flagsRecord ??= {})[code] = flags;
    }

    switch (code) {
      case ATTR.ORIGIN: {
        if (length !== 1) lengthError(st, TAW, code, attrStart, valueEnd, '1');
        else if (buf[valueStart]! > 2)
          report(
            st,
            TAW,
            UPDATE_SUBCODE.INVALID_ORIGIN,
            code,
            attrStart,
            valueEnd,
            `ORIGIN value ${buf[valueStart]} is undefined`,
          );
        else attributes.origin = ORIGINS[buf[valueStart]!]!;
        break;
      }
      case ATTR.AS_PATH: {
        const path = decodeAsPath(buf, valueStart, valueEnd, asnSize);
        if (typeof path === 'string')
          report(st, TAW, UPDATE_SUBCODE.MALFORMED_AS_PATH, code, attrStart, valueEnd, `malformed AS_PATH: ${path}`);
        else attributes.asPath = path;
        break;
      }
      case ATTR.NEXT_HOP:
        if (length !== 4) lengthError(st, TAW, code, attrStart, valueEnd, '4');
        else attributes.nextHop = formatIpv4(buf, valueStart);
        break;
      case ATTR.MULTI_EXIT_DISC:
        if (length !== 4) lengthError(st, TAW, code, attrStart, valueEnd, '4');
        else attributes.med = readUint32(buf, valueStart);
        break;
      case ATTR.LOCAL_PREF:
        if (external) report(st, DISCARD, 0, code, attrStart, valueEnd, 'LOCAL_PREF from an external peer is ignored');
        else if (length !== 4) lengthError(st, TAW, code, attrStart, valueEnd, '4');
        else attributes.localPref = readUint32(buf, valueStart);
        break;
      case ATTR.ATOMIC_AGGREGATE:
        if (length !== 0) lengthError(st, DISCARD, code, attrStart, valueEnd, '0');
        else attributes.atomicAggregate = true;
        break;
      case ATTR.AGGREGATOR:
      case ATTR.AS4_AGGREGATOR: {
        const size = code === ATTR.AGGREGATOR ? asnSize : 4;
        if (length !== size + 4) {
          lengthError(st, DISCARD, code, attrStart, valueEnd, String(size + 4));
          break;
        }
        const asn = size === 4 ? readUint32(buf, valueStart) : readUint16(buf, valueStart);
        const address = formatIpv4(buf, valueStart + size);
        if (asn === 0)
          report(
            st,
            DISCARD,
            UPDATE_SUBCODE.OPTIONAL_ATTRIBUTE_ERROR,
            code,
            attrStart,
            valueEnd,
            `${nameOf(code)} with AS 0 (RFC 7607)`,
          );
        else if (code === ATTR.AGGREGATOR) attributes.aggregator = { asn, address };
        else attributes.as4Aggregator = { asn, address };
        break;
      }
      case ATTR.COMMUNITIES:
        if (length === 0 || length % 4 !== 0)
          lengthError(st, TAW, code, attrStart, valueEnd, 'a non-zero multiple of 4');
        else attributes.communities = decodeCommunities(buf, valueStart, valueEnd);
        break;
      case ATTR.ORIGINATOR_ID:
        if (external)
          report(st, DISCARD, 0, code, attrStart, valueEnd, 'ORIGINATOR_ID from an external peer is ignored');
        else if (length !== 4) lengthError(st, TAW, code, attrStart, valueEnd, '4');
        else attributes.originatorId = formatIpv4(buf, valueStart);
        break;
      case ATTR.CLUSTER_LIST:
        if (external)
          report(st, DISCARD, 0, code, attrStart, valueEnd, 'CLUSTER_LIST from an external peer is ignored');
        else if (length === 0 || length % 4 !== 0)
          lengthError(st, TAW, code, attrStart, valueEnd, 'a non-zero multiple of 4');
        else {
          const list: string[] = [];
          for (let p = valueStart; p < valueEnd; p += 4) list.push(formatIpv4(buf, p));
          attributes.clusterList = list;
        }
        break;
      case ATTR.MP_REACH_NLRI: {
        const span: AttributeSpan = { start: attrStart, end: valueEnd, msgStart };
        attributes.mpReach = decodeMpReach(buf, valueStart, valueEnd, span, ctx, tally, read);
        break;
      }
      case ATTR.MP_UNREACH_NLRI: {
        const span: AttributeSpan = { start: attrStart, end: valueEnd, msgStart };
        attributes.mpUnreach = decodeMpUnreach(buf, valueStart, valueEnd, span, ctx, tally, read);
        break;
      }
      case ATTR.EXTENDED_COMMUNITIES:
        if (length === 0 || length % 8 !== 0)
          lengthError(st, TAW, code, attrStart, valueEnd, 'a non-zero multiple of 8');
        else attributes.extendedCommunities = decodeExtendedCommunities(buf, valueStart, valueEnd);
        break;
      case ATTR.AS4_PATH: {
        const path = decodeAsPath(buf, valueStart, valueEnd, 4);
        if (typeof path === 'string')
          report(
            st,
            DISCARD,
            UPDATE_SUBCODE.MALFORMED_AS_PATH,
            code,
            attrStart,
            valueEnd,
            `malformed AS4_PATH: ${path}`,
          );
        else attributes.as4Path = path;
        break;
      }
      case ATTR.LARGE_COMMUNITY:
        if (length === 0 || length % 12 !== 0)
          lengthError(st, TAW, code, attrStart, valueEnd, 'a non-zero multiple of 12');
        else attributes.largeCommunities = decodeLargeCommunities(buf, valueStart, valueEnd);
        break;
    }
  }
  return { attributes, errors: st.errors, order, canonicalOrder, flags: flagsRecord };
}
