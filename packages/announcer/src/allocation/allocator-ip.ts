// IP addresses as numbers for the allocator: parse text to a bigint, format a bigint back to the
// canonical text (dotted quad for IPv4, RFC 5952 for IPv6), and the "buggy" IPv4 addresses some
// old firmware mishandles (last octet 0 or 255). Plain functions, no I/O.
// Hand-written on purpose, unlike the config's address math (config/address.ts, ip-num): these run
// once or more per address the allocator hands out, restores or checks, and ip-num takes 5-10 times
// as long to parse and 6-38 times as long to format or walk a range (bench/address.js); ip-num's
// own IPv6 text is not RFC 5952 either. test/address-ip-num.test.ts checks both accept and write the
// same text.
import { isIPv4, isIPv6 } from 'node:net';

export type IPFamily = 4 | 6;

/** An address as a number, with its family. */
export interface IPValue {
  family: IPFamily;
  value: bigint;
}

/** Parse an IPv4 or IPv6 address (no zone, no prefix length); undefined when it is not one. */
export function parseIP(text: string): IPValue | undefined {
  const s = text.trim();
  if (isIPv4(s)) return { family: 4, value: BigInt(ipv4Number(s)) };
  if (isIPv6(s) && !s.includes('%')) return { family: 6, value: ipv6Value(s) };
  return undefined;
}

/** The canonical text of an address: "192.0.2.1", "2001:db8::1" (RFC 5952: lower case, longest zero run shortened). */
export function formatIP(family: IPFamily, value: bigint): string {
  if (family === 4) {
    const n = Number(value);
    return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
  }
  const groups: number[] = [];
  for (let i = 7; i >= 0; i--) groups.push(Number((value >> BigInt(i * 16)) & 0xffffn));
  // Longest run of at least two zero groups, the first one on a tie (RFC 5952 section 4.2).
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** The canonical text of an address given as text; undefined when it is not an address. */
export function canonicalIP(text: string): string | undefined {
  const ip = parseIP(text);
  return ip === undefined ? undefined : formatIP(ip.family, ip.value);
}

/** "IPv4" / "IPv6", as Kubernetes writes families. */
export function familyName(family: IPFamily): 'IPv4' | 'IPv6' {
  return family === 4 ? 'IPv4' : 'IPv6';
}

/** True for IPv4 addresses ending in .0 or .255 (avoidBuggyIPs skips them). */
export function isBuggyIP(family: IPFamily, value: bigint): boolean {
  if (family !== 4) return false;
  const last = Number(value & 0xffn);
  return last === 0 || last === 255;
}

/** How many addresses of [first, last] end in .0 or .255 (IPv4); 0 for IPv6. */
export function countBuggyIPs(family: IPFamily, first: bigint, last: bigint): bigint {
  if (family !== 4 || last < first) return 0n;
  // Numbers x in [first, last] with x mod 256 == r, for r = 0 and r = 255.
  const upTo = (x: bigint, r: bigint): bigint => (x < r ? 0n : (x - r) / 256n + 1n);
  const count = (r: bigint): bigint => upTo(last, r) - (first === 0n ? 0n : upTo(first - 1n, r));
  return count(0n) + count(255n);
}

function ipv4Number(s: string): number {
  const parts = s.split('.');
  return ((Number(parts[0]) << 24) | (Number(parts[1]) << 16) | (Number(parts[2]) << 8) | Number(parts[3])) >>> 0;
}

function ipv6Value(s: string): bigint {
  let text = s.toLowerCase();
  // An embedded IPv4 tail ("::ffff:192.0.2.1") becomes two hex groups.
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const n = ipv4Number(tail);
    text = `${text.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head = '', rest] = text.split('::');
  const left = head === '' ? [] : head.split(':');
  const right = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - left.length - right.length;
  const groups = [...left, ...Array<string>(zeros).fill('0'), ...right];
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(parseInt(g, 16));
  return value;
}
