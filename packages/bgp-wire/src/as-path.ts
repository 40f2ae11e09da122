// AS_PATH and AS4_PATH (RFC 4271 4.3 and 9.1.2.2, RFC 5065, RFC 6793): the wire form of the
// segments, a text form, the path length used in route selection, and the RFC 6793 4.2 conversions
// between what a 2-octet peer sends (AS_PATH with AS_TRANS plus AS4_PATH) and the real path.
import type { Aggregator, AsPathSegment, AsPathSegmentType, PathAttributes } from './types.js';
import { readUint16, readUint32, writeUint16, writeUint32 } from './bytes.js';
import { type Writer, reserve, checkUint } from './update-writer.js';

/** RFC 6793: the 2-octet stand-in for an AS number that needs 4 octets. */
export const AS_TRANS = 23456;

/** Segment type codes (RFC 4271 4.3, RFC 5065 3). */
export const AS_PATH_SEGMENT = { AS_SET: 1, AS_SEQUENCE: 2, AS_CONFED_SEQUENCE: 3, AS_CONFED_SET: 4 } as const;

const SEGMENT_NAMES: readonly (AsPathSegmentType | undefined)[] = [
  undefined,
  'AS_SET',
  'AS_SEQUENCE',
  'AS_CONFED_SEQUENCE',
  'AS_CONFED_SET',
];

/**
 * Decodes an AS_PATH or AS4_PATH value, buf[start..end), with asnSize-octet AS numbers. Returns the
 * segments, or a string saying why the value is malformed: an unknown segment type, a zero-length
 * segment, a segment overrunning the value (RFC 7606 7.2), or AS number 0 (RFC 7607).
 */
export function decodeAsPath(buf: Uint8Array, start: number, end: number, asnSize: 2 | 4): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let at = start;
  while (at < end) {
    if (at + 2 > end) return 'segment header overruns the attribute';
    const typeCode = buf[at]!;
    const count = buf[at + 1]!;
    const type = SEGMENT_NAMES[typeCode];
    if (type === undefined) return `unknown segment type ${typeCode}`;
    if (count === 0) return 'zero-length segment';
    const segmentEnd = at + 2 + count * asnSize;
    if (segmentEnd > end) return `segment of ${count} AS numbers overruns the attribute`;
    const asns: number[] = [];
    for (let p = at + 2; p < segmentEnd; p += asnSize) {
      const asn = asnSize === 4 ? readUint32(buf, p) : readUint16(buf, p);
      if (asn === 0) return 'AS number 0 (RFC 7607)';
      asns.push(asn);
    }
    segments.push({ type, asns });
    at = segmentEnd;
  }
  return segments;
}

/**
 * Writes segments as an AS_PATH/AS4_PATH value at w.buf[at] and returns the offset after it. Segments
 * longer than 255 AS numbers are split. Throws TypeError/RangeError for bad input, including a
 * 4-octet AS number on a 2-octet encoding (see toTwoOctetAsPath).
 */
export function writeAsPath(w: Writer, at: number, segments: readonly AsPathSegment[], asnSize: 2 | 4): number {
  if (!Array.isArray(segments)) throw new TypeError('asPath must be an array of segments');
  const maxAsn = asnSize === 4 ? 0xffffffff : 0xffff;
  for (const seg of segments as readonly AsPathSegment[]) {
    const typeCode = Object.hasOwn(AS_PATH_SEGMENT, seg?.type) ? AS_PATH_SEGMENT[seg.type] : undefined;
    if (typeCode === undefined) throw new TypeError(`unknown AS path segment type ${JSON.stringify(seg?.type)}`);
    const asns = seg.asns;
    if (!Array.isArray(asns) || asns.length === 0)
      throw new TypeError(`AS path segment ${seg.type} needs at least one AS number`);
    for (let from = 0; from < asns.length; from += 255) {
      const count = Math.min(255, asns.length - from);
      const buf = reserve(w, at + 2 + count * asnSize);
      buf[at] = typeCode;
      buf[at + 1] = count;
      at += 2;
      for (let i = from; i < from + count; i++) {
        const asn = asns[i];
        if (asnSize === 2 && typeof asn === 'number' && asn > 0xffff && asn <= 0xffffffff) {
          throw new RangeError(
            `AS ${asn} needs 4 octets but the session uses 2-octet AS numbers (map it with toTwoOctetAsPath)`,
          );
        }
        checkUint(asn, maxAsn, 'AS number');
        if (asnSize === 4) writeUint32(buf, at, asn as number);
        else writeUint16(buf, at, asn as number);
        at += asnSize;
      }
    }
  }
  return at;
}

/** "64496 64497 {64498,64499} (65000 65001) [65002,65003]": sets in braces, confederation segments in () and []. */
export function asPathToString(segments: readonly AsPathSegment[]): string {
  const parts: string[] = [];
  for (const seg of segments) {
    switch (seg.type) {
      case 'AS_SEQUENCE':
        parts.push(seg.asns.join(' '));
        break;
      case 'AS_SET':
        parts.push(`{${seg.asns.join(',')}}`);
        break;
      case 'AS_CONFED_SEQUENCE':
        parts.push(`(${seg.asns.join(' ')})`);
        break;
      case 'AS_CONFED_SET':
        parts.push(`[${seg.asns.join(',')}]`);
        break;
    }
  }
  return parts.join(' ');
}

/** Path length for route selection (RFC 4271 9.1.2.2, RFC 5065 5.3): an AS_SET counts 1, confederation segments 0. */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const seg of segments) {
    if (seg.type === 'AS_SEQUENCE') n += seg.asns.length;
    else if (seg.type === 'AS_SET') n += 1;
  }
  return n;
}

const isConfed = (seg: AsPathSegment): boolean => seg.type === 'AS_CONFED_SEQUENCE' || seg.type === 'AS_CONFED_SET';
const copySegment = (seg: AsPathSegment): AsPathSegment => ({ type: seg.type, asns: seg.asns.slice() });

/**
 * Rebuilds the real AS path from what a 2-octet (OLD) speaker sent, per RFC 6793 4.2.3: if AS_PATH
 * counts fewer AS numbers than AS4_PATH, AS4_PATH is ignored; otherwise the leading part of AS_PATH
 * that AS4_PATH does not cover (with adjacent confederation segments) is prepended to AS4_PATH.
 * Confederation segments in AS4_PATH are dropped. Returns new arrays.
 */
export function reconcileAsPath(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): AsPathSegment[] {
  const as4 = as4Path.filter((seg) => !isConfed(seg));
  const n2 = asPathLength(asPath);
  const n4 = asPathLength(as4);
  if (n2 < n4) return asPath.map(copySegment);
  let need = n2 - n4;
  const out: AsPathSegment[] = [];
  let i = 0;
  let partial = false;
  while (i < asPath.length && need > 0) {
    const seg = asPath[i++]!;
    if (seg.type === 'AS_SEQUENCE') {
      if (seg.asns.length > need) {
        out.push({ type: seg.type, asns: seg.asns.slice(0, need) });
        partial = true;
        need = 0;
        break;
      }
      need -= seg.asns.length;
    } else if (seg.type === 'AS_SET') {
      need -= 1;
    }
    out.push(copySegment(seg));
  }
  // A confederation segment that leads the path or follows a prepended segment is prepended too.
  if (!partial) while (i < asPath.length && isConfed(asPath[i]!)) out.push(copySegment(asPath[i++]!));
  for (const seg of as4) {
    const last = out[out.length - 1];
    if (last !== undefined && last.type === 'AS_SEQUENCE' && seg.type === 'AS_SEQUENCE') last.asns.push(...seg.asns);
    else out.push(copySegment(seg));
  }
  return out;
}

/**
 * What to send a 2-octet (OLD) peer for a path (RFC 6793 4.2.2): AS_PATH with every AS number above
 * 65535 replaced by AS_TRANS, and, only when something was replaced, AS4_PATH carrying the real path
 * without its confederation segments.
 */
export function toTwoOctetAsPath(asPath: readonly AsPathSegment[]): {
  asPath: AsPathSegment[];
  as4Path?: AsPathSegment[];
} {
  let mapped = false;
  const two = asPath.map((seg) => ({
    type: seg.type,
    asns: seg.asns.map((asn) => {
      if (asn <= 0xffff) return asn;
      mapped = true;
      return AS_TRANS;
    }),
  }));
  if (!mapped) return { asPath: two };
  return { asPath: two, as4Path: asPath.filter((seg) => !isConfed(seg)).map(copySegment) };
}

/**
 * The attributes to send a 2-octet peer: AS_PATH and AGGREGATOR mapped to AS_TRANS where needed,
 * with AS4_PATH and AS4_AGGREGATOR added (RFC 6793 4.2.2). Other attributes are shared, not copied.
 */
export function toTwoOctetAttributes(attrs: PathAttributes): PathAttributes {
  const out: PathAttributes = { ...attrs };
  delete out.as4Path;
  delete out.as4Aggregator;
  if (attrs.asPath !== undefined) {
    const { asPath, as4Path } = toTwoOctetAsPath(attrs.asPath);
    out.asPath = asPath;
    if (as4Path !== undefined) out.as4Path = as4Path;
  }
  const agg: Aggregator | undefined = attrs.aggregator;
  if (agg !== undefined && agg.asn > 0xffff) {
    out.aggregator = { asn: AS_TRANS, address: agg.address };
    out.as4Aggregator = { asn: agg.asn, address: agg.address };
  }
  return out;
}

/**
 * The real path information from a 2-octet peer's attributes (RFC 6793 4.2.3): when AGGREGATOR is
 * not AS_TRANS while AS4_AGGREGATOR is present, AS4_PATH and AS4_AGGREGATOR are ignored; otherwise
 * AS4_AGGREGATOR replaces AGGREGATOR and the path is rebuilt with reconcileAsPath. The result has
 * no as4Path/as4Aggregator.
 */
export function reconcileAttributes(attrs: PathAttributes): PathAttributes {
  const out: PathAttributes = { ...attrs };
  delete out.as4Path;
  delete out.as4Aggregator;
  if (attrs.aggregator !== undefined && attrs.as4Aggregator !== undefined) {
    if (attrs.aggregator.asn !== AS_TRANS) return out;
    out.aggregator = { ...attrs.as4Aggregator };
  }
  if (attrs.asPath !== undefined && attrs.as4Path !== undefined)
    out.asPath = reconcileAsPath(attrs.asPath, attrs.as4Path);
  return out;
}
