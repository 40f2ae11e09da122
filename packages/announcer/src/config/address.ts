// Address text for the config: single addresses, prefixes ("192.0.2.0/28") and ranges
// ("192.0.2.10-192.0.2.20"), IPv4 and IPv6. The address math is ip-num's: parsing (IPv4, IPv6),
// prefixes (IPv4CidrRange, IPv6CidrRange), first-last ranges (RangedSet), containment and overlap.
// Ours are the error messages, the strict prefix length syntax, the canonical text (RFC 5952, through
// ip-num's collapseIPv6Number) and the split of a range into aligned blocks (ip-num has none).
// The allocator's per-address hot path keeps its own parser and formatter (allocation/allocator-ip.ts,
// measured in bench/address.js); both accept and write the same text (test/address-ip-num.test.ts).
import {
  type AbstractIPNum,
  IPv4,
  IPv4CidrRange,
  IPv4Prefix,
  IPv6,
  IPv6CidrRange,
  IPv6Prefix,
  RangedSet,
  collapseIPv6Number,
  isIPv4,
} from 'ip-num';
import type { AddressRange } from './types.js';

export interface Address {
  family: 4 | 6;
  value: bigint;
}

/** An address as ip-num holds it. */
export type IPNum = IPv4 | IPv6;

/** A first-last range of one family, as ip-num holds it. */
export type IPRangeSet = RangedSet<IPNum>;

/**
 * ip-num's address for exactly an IPv4 or IPv6 address (strict dotted quad, RFC 4291 text, no zone,
 * no prefix length), or undefined.
 */
export function parseIPNum(text: string): IPNum | undefined {
  try {
    if (!text.includes(':')) return new IPv4(text);
    // ip-num takes "fe80::1%eth0" (a zone); an address in the config has none.
    return text.includes('%') ? undefined : new IPv6(text);
  } catch {
    return undefined;
  }
}

function familyOf(ip: AbstractIPNum): 4 | 6 {
  return isIPv4(ip) ? 4 : 6;
}

/** The address, or undefined if the text is not exactly an IPv4 or IPv6 address. */
export function parseAddress(text: string): Address | undefined {
  const ip = parseIPNum(text);
  return ip === undefined ? undefined : { family: familyOf(ip), value: ip.value };
}

/** Canonical text of an address (RFC 5952 for IPv6: ip-num's own text is not shortened). */
export function canonicalText(ip: AbstractIPNum): string {
  return isIPv4(ip) ? ip.toString() : collapseIPv6Number(ip.toString());
}

/** Canonical text of an address (RFC 5952 for IPv6). */
export function formatAddress(family: 4 | 6, value: bigint): string {
  return canonicalText(family === 4 ? IPv4.fromNumber(value) : IPv6.fromBigInt(value));
}

/** A prefix: its network address and length. */
export interface Prefix {
  family: 4 | 6;
  network: bigint;
  length: number;
}

/** "192.0.2.0/28" or "2001:db8::/64" to ip-num's CIDR range, or a string saying what is wrong. Host bits must be zero. */
function parseCidr(text: string): IPv4CidrRange | IPv6CidrRange | string {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const single = parseIPNum(text);
    if (single) return `is a single address, not a prefix: write ${JSON.stringify(`${text}/${single.bitSize}`)}`;
    return `is not a prefix like "192.0.2.0/28" or "2001:db8::/64": ${JSON.stringify(text)}`;
  }
  const address = parseIPNum(text.slice(0, slash));
  if (address === undefined)
    return `${JSON.stringify(text.slice(0, slash))} in ${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
  const bits = address.bitSize;
  const lengthText = text.slice(slash + 1);
  // Stricter than ip-num, which takes "/024".
  if (!/^(0|[1-9]\d{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return `prefix length ${JSON.stringify(lengthText)} in ${JSON.stringify(text)} must be 0-${bits} for IPv${familyOf(address)}`;
  }
  const length = BigInt(lengthText);
  const cidr = isIPv4(address)
    ? new IPv4CidrRange(address, new IPv4Prefix(length))
    : new IPv6CidrRange(address, new IPv6Prefix(length));
  if (!cidr.getFirst().isEquals(address)) {
    return `${JSON.stringify(text)} has host bits set: the prefix is ${canonicalText(cidr.getFirst())}/${length}`;
  }
  return cidr;
}

/** "192.0.2.0/28" or "2001:db8::/64" to a prefix, or a string saying what is wrong. Host bits must be zero. */
export function parsePrefix(text: string): Prefix | string {
  const cidr = parseCidr(text);
  if (typeof cidr === 'string') return cidr;
  const network = cidr.getFirst();
  return { family: familyOf(network), network: network.value, length: Number(cidr.getPrefix().value) };
}

/** Canonical text of a prefix. */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.family, p.network)}/${p.length}`;
}

/** ip-num's range of each AddressRange this module made or read, so overlap checks parse each once. */
const rangeSets = new WeakMap<AddressRange, IPRangeSet>();

/**
 * One entry of a pool's `addresses`: a prefix ("192.0.2.0/28") or an inclusive range
 * ("192.0.2.10-192.0.2.20", spaces around the dash allowed), as its first and last address; or a
 * string saying what is wrong.
 */
export function parseAddressRange(text: string): AddressRange | string {
  const dash = text.indexOf('-');
  if (dash < 0) {
    const cidr = parseCidr(text);
    if (typeof cidr === 'string') return cidr;
    return addressRange(text, new RangedSet<IPNum>(cidr.getFirst(), cidr.getLast()));
  }
  const firstText = text.slice(0, dash).trim();
  const lastText = text.slice(dash + 1).trim();
  const first = parseIPNum(firstText);
  const last = parseIPNum(lastText);
  if (first === undefined)
    return `range start ${JSON.stringify(firstText)} in ${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
  if (last === undefined)
    return `range end ${JSON.stringify(lastText)} in ${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
  if (familyOf(first) !== familyOf(last))
    return `range ${JSON.stringify(text)} mixes IPv${familyOf(first)} and IPv${familyOf(last)}`;
  if (first.isGreaterThan(last)) return `range ${JSON.stringify(text)} starts after it ends`;
  return addressRange(text, new RangedSet<IPNum>(first, last));
}

function addressRange(text: string, set: IPRangeSet): AddressRange {
  const r: AddressRange = {
    family: familyOf(set.getFirst()),
    text,
    first: canonicalText(set.getFirst()),
    last: canonicalText(set.getLast()),
  };
  rangeSets.set(r, set);
  return r;
}

/**
 * ip-num's range for an AddressRange, or undefined when it is not two addresses of its family in
 * order (a validated range always is).
 */
export function rangeSet(r: AddressRange): IPRangeSet | undefined {
  const known = rangeSets.get(r);
  if (known !== undefined) return known;
  const first = parseIPNum(r.first);
  const last = parseIPNum(r.last);
  if (
    first === undefined ||
    last === undefined ||
    familyOf(first) !== r.family ||
    familyOf(last) !== r.family ||
    first.isGreaterThan(last)
  )
    return undefined;
  const set = new RangedSet<IPNum>(first, last);
  rangeSets.set(r, set);
  return set;
}

function validRangeSet(r: AddressRange): IPRangeSet {
  const set = rangeSet(r);
  if (set === undefined) throw new RangeError(`not an address range: ${r.first} - ${r.last} (IPv${r.family})`);
  return set;
}

/** True when two ranges share at least one address. */
export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  if (a.family !== b.family) return false;
  const x = validRangeSet(a);
  const y = validRangeSet(b);
  // Not ip-num's isOverlapping: in 1.6.2 it says false for two ranges that share only one end
  // (192.0.2.0-192.0.2.15 and 192.0.2.15-192.0.2.30). Two ranges overlap when either holds the
  // other's first address.
  return (
    x.contains(RangedSet.fromSingleIP<IPNum>(y.getFirst())) || y.contains(RangedSet.fromSingleIP<IPNum>(x.getFirst()))
  );
}

/**
 * The shortest prefix length among the prefixes that exactly cover the range (the range split into
 * the fewest aligned blocks). An aggregate shorter than this would cover addresses outside the range.
 */
export function shortestCoveringPrefix(r: AddressRange): number {
  const set = validRangeSet(r);
  const bits = set.getFirst().bitSize;
  const last = set.getLast().value;
  let at = set.getFirst().value;
  let shortest = bits;
  while (at <= last) {
    // The largest aligned block starting at `at` that stays within the range.
    let hostBits = 0;
    while (hostBits < bits) {
      const size = 1n << BigInt(hostBits + 1);
      if ((at & (size - 1n)) !== 0n || at + size - 1n > last) break;
      hostBits++;
    }
    shortest = Math.min(shortest, bits - hostBits);
    at += 1n << BigInt(hostBits);
  }
  return shortest;
}
