// Address and prefix text for the announce plan: an address to the covering prefix of a given length,
// in canonical text (IPv4 dotted quad, IPv6 as RFC 5952), so equal prefixes are equal strings.
// Addresses are parsed into a scratch buffer by a small loop (the general parser of bgp-wire splits
// and matches regular expressions, too slow for thousands of Services per plan); text it does not
// take (embedded IPv4) goes to bgp-wire's parser.
import { formatIpv4, formatIpv6, parseIp } from '@bgp-announce/bgp-wire';

/** A parsed address: its family and canonical text. */
export interface ParsedAddress {
  family: 4 | 6;
  text: string;
}

const scratch = new Uint8Array(16);
const groups = new Uint16Array(8);

/** Address text to its family and canonical text, or undefined when it is not an IPv4 or IPv6 address. */
export function parseAddress(text: string): ParsedAddress | undefined {
  const family = parseInto(text, scratch);
  if (family === 0) return undefined;
  return family === 4 ? { family, text } : { family, text: formatIpv6(scratch, 0) };
}

/** The prefix of `length` bits covering the address ("203.0.113.0/24", "2001:db8::/64", "192.0.2.7/32"). */
export function coveringPrefix(address: ParsedAddress, length: number): string {
  const size = address.family === 4 ? 4 : 16;
  if (length >= size * 8) return `${address.text}/${size * 8}`;
  parseInto(address.text, scratch);
  for (let i = 0; i < size; i++) {
    const keep = length - i * 8;
    if (keep < 8) scratch[i] = keep <= 0 ? 0 : scratch[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return `${size === 4 ? formatIpv4(scratch, 0) : formatIpv6(scratch, 0)}/${length}`;
}

/** Parses text into out (4 or 16 bytes); returns the family, or 0 when it is not an address. */
function parseInto(text: string, out: Uint8Array): 0 | 4 | 6 {
  if (text.indexOf(':') < 0) return parseIpv4(text, out) ? 4 : 0;
  if (parseIpv6(text, out)) return 6;
  const bytes = parseIp(text); // embedded IPv4 ("::ffff:192.0.2.1") and the like
  if (bytes === undefined || bytes.length !== 16) return 0;
  out.set(bytes);
  return 6;
}

/** Four decimal octets without leading zeros. */
function parseIpv4(text: string, out: Uint8Array): boolean {
  let index = 0;
  let octet = 0;
  let digits = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || index === 3) return false;
      out[index++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57 && !(digits > 0 && octet === 0) && digits < 3) {
      octet = octet * 10 + c - 48;
      if (octet > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  if (digits === 0 || index !== 3) return false;
  out[3] = octet;
  return true;
}

/** Hex groups separated by ':', at most one '::'; no embedded IPv4. */
function parseIpv6(text: string, out: Uint8Array): boolean {
  const end = text.length;
  if (end < 2 || end > 39) return false;
  let n = 0;
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === 58) {
    if (text.charCodeAt(1) !== 58) return false;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    let value = 0;
    let digits = 0;
    for (; i < end; i++) {
      const c = text.charCodeAt(i);
      const h = c >= 48 && c <= 57 ? c - 48 : c >= 97 && c <= 102 ? c - 87 : c >= 65 && c <= 70 ? c - 55 : -1;
      if (h < 0) break;
      if (++digits > 4) return false;
      value = value * 16 + h;
    }
    if (digits === 0 || n === 8) return false;
    groups[n++] = value;
    if (i === end) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = n;
      i++;
    } else if (i === end) {
      return false;
    }
  }
  if (gap < 0 ? n !== 8 : n > 7) return false;
  const zeros = 8 - n;
  for (let g = 0, k = 0; g < 8; g++) {
    const v = gap >= 0 && g >= gap && g < gap + zeros ? 0 : groups[k++]!;
    out[2 * g] = v >>> 8;
    out[2 * g + 1] = v & 0xff;
  }
  return true;
}

/** A prefix of a static route: its canonical text, or why it cannot be used. */
export type StaticPrefix = { prefix: string; hostBitsSet: boolean } | { problem: string };

/** "192.0.2.0/24" (or a bare address, taken as /32 or /128) to canonical prefix text. */
export function parseStaticPrefix(text: string): StaticPrefix {
  const slash = text.indexOf('/');
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === undefined) return { problem: `${JSON.stringify(text)} is not an IP prefix` };
  const bits = address.family === 4 ? 32 : 128;
  let length = bits;
  if (slash >= 0) {
    const lengthText = text.slice(slash + 1);
    length = /^\d{1,3}$/.test(lengthText) ? Number(lengthText) : NaN;
    if (!(length >= 0 && length <= bits))
      return { problem: `${JSON.stringify(text)} has a prefix length outside 0-${bits}` };
  }
  const prefix = coveringPrefix(address, length);
  return { prefix, hostBitsSet: slash >= 0 && prefix !== `${address.text}/${length}` };
}
