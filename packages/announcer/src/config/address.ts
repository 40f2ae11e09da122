// Address text for the config: single addresses, prefixes ("192.0.2.0/28") and ranges
// ("192.0.2.10-192.0.2.20"), IPv4 and IPv6, as numbers (bigint) so ranges can be compared and
// overlaps found. Parsing of the address text itself is bgp-wire's (strict dotted quad, RFC 4291).
import { formatIpv4, formatIpv6, parseIp } from '@bgp-announce/bgp-wire';
import type { AddressRange } from './types.js';

export interface Address {
  family: 4 | 6;
  value: bigint;
}

/** The address, or undefined if the text is not exactly an IPv4 or IPv6 address. */
export function parseAddress(text: string): Address | undefined {
  const bytes = parseIp(text);
  if (bytes === undefined) return undefined;
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return { family: bytes.length === 4 ? 4 : 6, value };
}

/** Canonical text of an address (RFC 5952 for IPv6). */
export function formatAddress(family: 4 | 6, value: bigint): string {
  const bytes = new Uint8Array(family === 4 ? 4 : 16);
  for (let i = bytes.length - 1; i >= 0; i--) {
    bytes[i] = Number(value & 0xffn);
    value >>= 8n;
  }
  return family === 4 ? formatIpv4(bytes, 0) : formatIpv6(bytes, 0);
}

export function familyBits(family: 4 | 6): number {
  return family === 4 ? 32 : 128;
}

/** A prefix: its network address and length. */
export interface Prefix {
  family: 4 | 6;
  network: bigint;
  length: number;
}

/** "192.0.2.0/28" or "2001:db8::/64" to a prefix, or a string saying what is wrong. Host bits must be zero. */
export function parsePrefix(text: string): Prefix | string {
  const slash = text.indexOf('/');
  if (slash < 0) {
    const single = parseAddress(text);
    if (single) return `is a single address, not a prefix: write ${JSON.stringify(`${text}/${familyBits(single.family)}`)}`;
    return `is not a prefix like "192.0.2.0/28" or "2001:db8::/64": ${JSON.stringify(text)}`;
  }
  const address = parseAddress(text.slice(0, slash));
  if (address === undefined) return `${JSON.stringify(text.slice(0, slash))} in ${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
  const bits = familyBits(address.family);
  const lengthText = text.slice(slash + 1);
  if (!/^(0|[1-9]\d{0,2})$/.test(lengthText) || Number(lengthText) > bits) {
    return `prefix length ${JSON.stringify(lengthText)} in ${JSON.stringify(text)} must be 0-${bits} for IPv${address.family}`;
  }
  const length = Number(lengthText);
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  if ((address.value & hostMask) !== 0n) {
    const network = address.value & ~hostMask;
    return `${JSON.stringify(text)} has host bits set: the prefix is ${formatAddress(address.family, network)}/${length}`;
  }
  return { family: address.family, network: address.value, length };
}

/** Canonical text of a prefix. */
export function formatPrefix(p: Prefix): string {
  return `${formatAddress(p.family, p.network)}/${p.length}`;
}

/**
 * One entry of a pool's `addresses`: a prefix ("192.0.2.0/28") or an inclusive range
 * ("192.0.2.10-192.0.2.20", spaces around the dash allowed), as its first and last address; or a
 * string saying what is wrong.
 */
export function parseAddressRange(text: string): AddressRange | string {
  const dash = text.indexOf('-');
  if (dash < 0) {
    const prefix = parsePrefix(text);
    if (typeof prefix === 'string') return prefix;
    const size = 1n << BigInt(familyBits(prefix.family) - prefix.length);
    return range(prefix.family, text, prefix.network, prefix.network + size - 1n);
  }
  const firstText = text.slice(0, dash).trim();
  const lastText = text.slice(dash + 1).trim();
  const first = parseAddress(firstText);
  const last = parseAddress(lastText);
  if (first === undefined) return `range start ${JSON.stringify(firstText)} in ${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
  if (last === undefined) return `range end ${JSON.stringify(lastText)} in ${JSON.stringify(text)} is not an IPv4 or IPv6 address`;
  if (first.family !== last.family) return `range ${JSON.stringify(text)} mixes IPv${first.family} and IPv${last.family}`;
  if (first.value > last.value) return `range ${JSON.stringify(text)} starts after it ends`;
  return range(first.family, text, first.value, last.value);
}

function range(family: 4 | 6, text: string, first: bigint, last: bigint): AddressRange {
  return { family, text, first: formatAddress(family, first), last: formatAddress(family, last) };
}

/** First and last address of a (validated) range as numbers. */
export function rangeBounds(r: AddressRange): [bigint, bigint] {
  return [parseAddress(r.first)!.value, parseAddress(r.last)!.value];
}

/** True when two ranges share at least one address. */
export function rangesOverlap(a: AddressRange, b: AddressRange): boolean {
  if (a.family !== b.family) return false;
  const [a1, a2] = rangeBounds(a);
  const [b1, b2] = rangeBounds(b);
  return a1 <= b2 && b1 <= a2;
}

/**
 * The shortest prefix length among the prefixes that exactly cover the range (the range split into
 * the fewest aligned blocks). An aggregate shorter than this would cover addresses outside the range.
 */
export function shortestCoveringPrefix(r: AddressRange): number {
  const bits = familyBits(r.family);
  const [first, last] = rangeBounds(r);
  let at = first;
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
