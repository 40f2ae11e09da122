// IPv4/IPv6 address text <-> bytes, hand-written because the codec has no runtime dependencies and
// this sits on the hot path of NLRI encode/decode. IPv6 text follows RFC 5952.

export function formatIpv4(buf: Uint8Array, at: number): string {
  return `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`;
}

const groups = new Uint16Array(8);
/** Hex text of a byte without and with its leading zero: formatting a group is two lookups. */
const HEX_BARE: string[] = [];
const HEX_PAIR: string[] = [];
for (let i = 0; i < 256; i++) {
  HEX_BARE.push(i.toString(16));
  HEX_PAIR.push(i.toString(16).padStart(2, '0'));
}

/** Formats 16 bytes as RFC 5952 text (lower case, longest zero run as "::", IPv4-mapped in dotted form). */
export function formatIpv6(buf: Uint8Array, at: number): string {
  // Find the longest run of two or more zero groups (the leftmost of equal runs) in one pass.
  let bestStart = -1;
  let bestLen = 1;
  let runStart = -1;
  for (let i = 0; i < 8; i++) {
    const g = (buf[at + 2 * i]! << 8) | buf[at + 2 * i + 1]!;
    groups[i] = g;
    if (g === 0) {
      if (runStart < 0) runStart = i;
      if (i - runStart + 1 > bestLen) {
        bestStart = runStart;
        bestLen = i - runStart + 1;
      }
    } else {
      runStart = -1;
    }
  }
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) return `::ffff:${formatIpv4(buf, at + 12)}`;
  let text = '';
  for (let i = 0; i < 8; i++) {
    if (i === bestStart) {
      text += '::';
      i += bestLen - 1;
      continue;
    }
    if (text.length > 0 && i !== bestStart + bestLen) text += ':';
    const hi = buf[at + 2 * i]!;
    text += hi === 0 ? HEX_BARE[buf[at + 2 * i + 1]!]! : HEX_BARE[hi]! + HEX_PAIR[buf[at + 2 * i + 1]!]!;
  }
  return text;
}

/**
 * Parses dotted-quad IPv4 text into out[at..at+4]. Returns false (writing nothing useful) if the text
 * is not exactly four decimal octets.
 */
export function parseIpv4Into(
  text: string,
  out: Uint8Array,
  at: number,
  textStart = 0,
  textEnd = text.length,
): boolean {
  let octet = 0;
  let digits = 0;
  let index = 0;
  for (let i = textStart; i < textEnd; i++) {
    const c = text.charCodeAt(i);
    if (c === 46 /* . */) {
      if (digits === 0 || index === 3) return false;
      out[at + index++] = octet;
      octet = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits === 3 || (digits > 0 && octet === 0)) return false; // too long, or a leading zero
      octet = octet * 10 + (c - 48);
      if (octet > 255) return false;
      digits++;
    } else {
      return false;
    }
  }
  if (digits === 0 || index !== 3) return false;
  out[at + 3] = octet;
  return true;
}

/** Parses IPv6 text (any RFC 4291 form, including embedded IPv4) into out[at..at+16]. */
export function parseIpv6Into(
  text: string,
  out: Uint8Array,
  at: number,
  textStart = 0,
  textEnd = text.length,
): boolean {
  const s = text.slice(textStart, textEnd);
  if (s.length < 2 || s.length > 45) return false;
  const dbl = s.indexOf('::');
  if (dbl !== s.lastIndexOf('::')) return false;
  const parseGroups = (part: string, allowV4: boolean): number[] | undefined => {
    if (part === '') return [];
    const pieces = part.split(':');
    const result: number[] = [];
    for (let k = 0; k < pieces.length; k++) {
      const p = pieces[k]!;
      if (allowV4 && k === pieces.length - 1 && p.includes('.')) {
        const v4 = new Uint8Array(4);
        if (!parseIpv4Into(p, v4, 0)) return undefined;
        result.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        result.push(parseInt(p, 16));
      }
    }
    return result;
  };
  let groups: number[];
  if (dbl >= 0) {
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (!head || !tail || head.length + tail.length > 7) return false;
    groups = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  } else {
    const all = parseGroups(s, true);
    if (all?.length !== 8) return false;
    groups = all;
  }
  for (let i = 0; i < 8; i++) {
    out[at + 2 * i] = groups[i]! >>> 8;
    out[at + 2 * i + 1] = groups[i]! & 0xff;
  }
  return true;
}

const scratch = new Uint8Array(16);

/** Address text to bytes (4 or 16), or undefined if it is neither an IPv4 nor an IPv6 address. */
export function parseIp(text: string): Uint8Array | undefined {
  if (parseIpv4Into(text, scratch, 0)) return scratch.slice(0, 4);
  if (text.includes(':') && parseIpv6Into(text, scratch, 0)) return scratch.slice(0, 16);
  return undefined;
}

export function isIpv4(text: string): boolean {
  return parseIpv4Into(text, scratch, 0);
}

export function isIpv6(text: string): boolean {
  return text.includes(':') && parseIpv6Into(text, scratch, 0);
}
