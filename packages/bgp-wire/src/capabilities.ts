// Capabilities (RFC 5492): the code/length/value triples carried in OPEN optional parameter type 2.
//
// Decoding turns the capabilities we model into the typed forms of types.ts. Anything else, and a
// capability we know whose value has the wrong length or shape, comes back as an UnknownCapability
// {code, name, hex} holding the value byte for byte: nothing is lost, encode writes it back as it came,
// and the session layer decides whether to refuse it. Tell the two apart with isRawCapability(): a raw
// capability of a known code carries the same name as the typed one (e.g. "graceful-restart").
//
// Reserved bits the RFCs tell receivers to ignore are not in the typed forms: the multiprotocol
// reserved octet, the graceful-restart flag bits other than R and N, and the per-family flag bits
// other than F (GR and LLGR). A capability on its own re-encodes byte for byte only when they are
// zero, as every implementation sends them; within an OPEN, decodeOpen keeps a non-zero multiprotocol
// reserved octet in layout.multiprotocolReserved, and encodeOpen writes it back.
import type {
  AddPathDirection,
  Capability,
  GracefulRestartCapability,
  LongLivedGracefulRestartCapability,
  UnknownCapability,
} from './types.js';
import { BgpWireError, ERROR_CODE, OPEN_SUBCODE } from './errors.js';
import { fromHex, readUint16, readUint32, toHex, writeUint16, writeUint32 } from './bytes.js';

/** Every capability this codec decodes into a typed form. */
export type TypedCapability = Exclude<Capability, UnknownCapability>;

/** Capability codes (IANA "Capability Codes" registry) of the typed forms. */
export const CAPABILITY_CODE = {
  MULTIPROTOCOL: 1,
  ROUTE_REFRESH: 2,
  EXTENDED_NEXT_HOP: 5,
  EXTENDED_MESSAGE: 6,
  GRACEFUL_RESTART: 64,
  FOUR_OCTET_AS: 65,
  ADD_PATH: 69,
  ENHANCED_ROUTE_REFRESH: 70,
  LONG_LIVED_GRACEFUL_RESTART: 71,
  FQDN: 73,
} as const;

const NAMES: Record<number, string> = {
  1: 'multiprotocol',
  2: 'route-refresh',
  3: 'outbound-route-filtering',
  4: 'multiple-routes',
  5: 'extended-next-hop',
  6: 'extended-message',
  7: 'bgpsec',
  8: 'multiple-labels',
  9: 'bgp-role',
  64: 'graceful-restart',
  65: 'four-octet-as',
  67: 'dynamic',
  68: 'multisession',
  69: 'add-path',
  70: 'enhanced-route-refresh',
  71: 'long-lived-graceful-restart',
  72: 'routing-policy-distribution',
  73: 'fqdn',
  75: 'software-version',
  76: 'paths-limit',
  128: 'route-refresh-cisco',
  130: 'outbound-route-filtering-cisco',
  131: 'multisession-cisco',
};

const TYPED_CODES: ReadonlySet<number> = new Set(Object.values(CAPABILITY_CODE));

/** True for the codes decoded into a typed form (when their value has the right shape). */
export function isTypedCapabilityCode(code: number): boolean {
  return TYPED_CODES.has(code);
}

/** The name of a capability code ("four-octet-as", "route-refresh-cisco"), or "unknown". */
export function capabilityName(code: number): string {
  return NAMES[code] ?? 'unknown';
}

/** True for a capability kept as raw bytes (an unknown code, or a known one with a malformed value). */
export function isRawCapability(cap: Capability): cap is UnknownCapability {
  return typeof (cap as { hex?: unknown }).hex === 'string';
}

// ---------------------------------------------------------------------------------------------
// Decode

const ADD_PATH_DIRECTIONS: readonly AddPathDirection[] = ['receive', 'send', 'both'];

// Strict UTF-8 that keeps a leading byte-order mark, so the text re-encodes to the same bytes.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function readUtf8(buf: Uint8Array, start: number, end: number): string | undefined {
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}

function raw(code: number, buf: Uint8Array, start: number, end: number): UnknownCapability {
  return { code, name: capabilityName(code), hex: toHex(buf, start, end) };
}

function decodeGracefulRestart(buf: Uint8Array, v: number, end: number): GracefulRestartCapability | undefined {
  if (end - v < 2 || (end - v - 2) % 4 !== 0) return undefined;
  const cap: GracefulRestartCapability = {
    code: 64,
    name: 'graceful-restart',
    restarting: (buf[v]! & 0x80) !== 0,
    notification: (buf[v]! & 0x40) !== 0,
    restartTime: readUint16(buf, v) & 0x0fff,
    families: [],
  };
  for (let at = v + 2; at < end; at += 4) {
    cap.families.push({ afi: readUint16(buf, at), safi: buf[at + 2]!, forwardingState: (buf[at + 3]! & 0x80) !== 0 });
  }
  return cap;
}

function decodeLongLivedGracefulRestart(
  buf: Uint8Array,
  v: number,
  end: number,
): LongLivedGracefulRestartCapability | undefined {
  if ((end - v) % 7 !== 0) return undefined;
  const cap: LongLivedGracefulRestartCapability = { code: 71, name: 'long-lived-graceful-restart', families: [] };
  for (let at = v; at < end; at += 7) {
    cap.families.push({
      afi: readUint16(buf, at),
      safi: buf[at + 2]!,
      forwardingState: (buf[at + 3]! & 0x80) !== 0,
      staleTime: (buf[at + 4]! << 16) | (buf[at + 5]! << 8) | buf[at + 6]!,
    });
  }
  return cap;
}

/** Decodes one capability value buf[v..end); undefined when the value does not have the RFC's shape. */
function decodeTyped(code: number, buf: Uint8Array, v: number, end: number): TypedCapability | undefined {
  const len = end - v;
  switch (code) {
    case 1:
      // AFI (2), reserved (1, ignored), SAFI (1): RFC 4760 8.
      return len === 4 ? { code: 1, name: 'multiprotocol', afi: readUint16(buf, v), safi: buf[v + 3]! } : undefined;
    case 2:
      return len === 0 ? { code: 2, name: 'route-refresh' } : undefined;
    case 5: {
      // RFC 8950 3: tuples of NLRI AFI (2), NLRI SAFI (2), Nexthop AFI (2).
      if (len % 6 !== 0) return undefined;
      const families: { afi: number; safi: number; nextHopAfi: number }[] = [];
      for (let at = v; at < end; at += 6) {
        families.push({ afi: readUint16(buf, at), safi: readUint16(buf, at + 2), nextHopAfi: readUint16(buf, at + 4) });
      }
      return { code: 5, name: 'extended-next-hop', families };
    }
    case 6:
      return len === 0 ? { code: 6, name: 'extended-message' } : undefined;
    case 64:
      return decodeGracefulRestart(buf, v, end);
    case 65:
      return len === 4 ? { code: 65, name: 'four-octet-as', asn: readUint32(buf, v) } : undefined;
    case 69: {
      // RFC 7911 4: tuples of AFI (2), SAFI (1), Send/Receive (1).
      if (len % 4 !== 0) return undefined;
      const families: { afi: number; safi: number; sendReceive: AddPathDirection | number }[] = [];
      for (let at = v; at < end; at += 4) {
        const sr = buf[at + 3]!;
        families.push({ afi: readUint16(buf, at), safi: buf[at + 2]!, sendReceive: ADD_PATH_DIRECTIONS[sr - 1] ?? sr });
      }
      return { code: 69, name: 'add-path', families };
    }
    case 70:
      return len === 0 ? { code: 70, name: 'enhanced-route-refresh' } : undefined;
    case 71:
      return decodeLongLivedGracefulRestart(buf, v, end);
    case 73: {
      // Hostname length (1), hostname, domain name length (1), domain name; nothing after.
      if (len < 2) return undefined;
      const hostEnd = v + 1 + buf[v]!;
      if (hostEnd + 1 > end || hostEnd + 1 + buf[hostEnd]! !== end) return undefined;
      const hostname = readUtf8(buf, v + 1, hostEnd);
      const domainName = readUtf8(buf, hostEnd + 1, end);
      if (hostname === undefined || domainName === undefined) return undefined;
      return { code: 73, name: 'fqdn', hostname, domainName };
    }
    default:
      return undefined;
  }
}

function overrun(message: string, offset: number): BgpWireError {
  return new BgpWireError(message, { code: ERROR_CODE.OPEN_MESSAGE, subcode: OPEN_SUBCODE.UNSPECIFIC, offset });
}

/**
 * Decodes the capability whose code octet is at buf[at], within a parameter value that ends at `end`,
 * and appends it to `out`. Returns the offset after it. Throws BgpWireError (OPEN Message Error,
 * subcode 0, offset relative to msgStart) when its header or value runs past `end`.
 */
export function decodeCapability(
  buf: Uint8Array,
  at: number,
  end: number,
  msgStart: number,
  out: Capability[],
): number {
  if (at + 2 > end) {
    throw overrun(
      `capability header at offset ${at - msgStart} runs past the end of its optional parameter`,
      at - msgStart,
    );
  }
  const code = buf[at]!;
  const v = at + 2;
  const next = v + buf[at + 1]!;
  if (next > end) {
    throw overrun(
      `capability ${code} (${capabilityName(code)}) at offset ${at - msgStart} says ${buf[at + 1]} value bytes, only ${end - v} left in its optional parameter`,
      at - msgStart,
    );
  }
  out.push(decodeTyped(code, buf, v, next) ?? raw(code, buf, v, next));
  return next;
}

/**
 * Decodes all capabilities in a capabilities parameter value buf[start..end), appending them to `out`
 * (a new array by default), which it returns. Offsets in errors are relative to msgStart.
 */
export function decodeCapabilities(
  buf: Uint8Array,
  start: number,
  end: number,
  msgStart = 0,
  out: Capability[] = [],
): Capability[] {
  for (let at = start; at < end; ) at = decodeCapability(buf, at, end, msgStart, out);
  return out;
}

// ---------------------------------------------------------------------------------------------
// Encode

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkInt(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`${what} must be an integer, got ${String(value)}`);
  if (value < 0 || value > max) throw new RangeError(`${what} ${value} is outside 0-${max}`);
  return value;
}

function checkArray<T>(value: T[] | undefined, what: string): T[] {
  if (!Array.isArray(value)) throw new TypeError(`${what} must be an array`);
  return value;
}

function utf8Bytes(text: unknown, what: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError(`${what} must be a string`);
  if (LONE_SURROGATE.test(text)) throw new TypeError(`${what} is not well-formed Unicode (lone surrogate)`);
  const bytes = new Uint8Array(Buffer.from(text, 'utf8'));
  if (bytes.length > 255) throw new RangeError(`${what} is ${bytes.length} bytes of UTF-8, at most 255 fit`);
  return bytes;
}

function rawValue(cap: UnknownCapability): Uint8Array {
  try {
    return fromHex(cap.hex);
  } catch {
    throw new TypeError(`capability ${cap.code} hex is not even-length hex: ${JSON.stringify(cap.hex.slice(0, 40))}`);
  }
}

function asTyped(cap: Capability): TypedCapability {
  if (cap === null || typeof cap !== 'object') throw new TypeError('a capability must be an object');
  if (!TYPED_CODES.has(cap.code)) {
    throw new TypeError(`capability code ${String(cap.code)} has no typed form: give its value as hex`);
  }
  return cap as TypedCapability;
}

/**
 * Checks a capability and returns the bytes of its value. Typed capabilities are written from their
 * fields (reserved bits zero); a raw one (with `hex`) from its hex, whatever its code.
 */
function capabilityValue(cap: Capability): Uint8Array {
  if (isRawCapability(cap)) {
    checkInt(cap.code, 255, 'capability code');
    return rawValue(cap);
  }
  const c = asTyped(cap);
  switch (c.code) {
    case 1: {
      const out = new Uint8Array(4);
      writeUint16(out, 0, checkInt(c.afi, 0xffff, 'multiprotocol afi'));
      out[3] = checkInt(c.safi, 0xff, 'multiprotocol safi');
      return out;
    }
    case 2:
    case 6:
    case 70:
      return new Uint8Array(0);
    case 5: {
      const families = checkArray(c.families, 'extended-next-hop families');
      const out = new Uint8Array(6 * families.length);
      families.forEach((f, i) => {
        writeUint16(out, 6 * i, checkInt(f.afi, 0xffff, 'extended-next-hop afi'));
        writeUint16(out, 6 * i + 2, checkInt(f.safi, 0xffff, 'extended-next-hop safi'));
        writeUint16(out, 6 * i + 4, checkInt(f.nextHopAfi, 0xffff, 'extended-next-hop nextHopAfi'));
      });
      return out;
    }
    case 64: {
      const families = checkArray(c.families, 'graceful-restart families');
      const out = new Uint8Array(2 + 4 * families.length);
      writeUint16(out, 0, checkInt(c.restartTime, 0x0fff, 'graceful-restart restartTime'));
      out[0] = out[0]! | (c.restarting ? 0x80 : 0) | (c.notification ? 0x40 : 0);
      families.forEach((f, i) => {
        writeUint16(out, 2 + 4 * i, checkInt(f.afi, 0xffff, 'graceful-restart afi'));
        out[4 + 4 * i] = checkInt(f.safi, 0xff, 'graceful-restart safi');
        out[5 + 4 * i] = f.forwardingState ? 0x80 : 0;
      });
      return out;
    }
    case 65: {
      const out = new Uint8Array(4);
      writeUint32(out, 0, checkInt(c.asn, 0xffffffff, 'four-octet-as asn'));
      return out;
    }
    case 69: {
      const families = checkArray(c.families, 'add-path families');
      const out = new Uint8Array(4 * families.length);
      families.forEach((f, i) => {
        writeUint16(out, 4 * i, checkInt(f.afi, 0xffff, 'add-path afi'));
        out[4 * i + 2] = checkInt(f.safi, 0xff, 'add-path safi');
        const dir = typeof f.sendReceive === 'string' ? ADD_PATH_DIRECTIONS.indexOf(f.sendReceive) + 1 : f.sendReceive;
        if (typeof f.sendReceive === 'string' && dir === 0)
          throw new TypeError(
            `add-path sendReceive must be 'receive', 'send', 'both' or a number, got ${JSON.stringify(f.sendReceive)}`,
          );
        out[4 * i + 3] = checkInt(dir, 0xff, 'add-path sendReceive');
      });
      return out;
    }
    case 71: {
      const families = checkArray(c.families, 'long-lived-graceful-restart families');
      const out = new Uint8Array(7 * families.length);
      families.forEach((f, i) => {
        const at = 7 * i;
        writeUint16(out, at, checkInt(f.afi, 0xffff, 'long-lived-graceful-restart afi'));
        out[at + 2] = checkInt(f.safi, 0xff, 'long-lived-graceful-restart safi');
        out[at + 3] = f.forwardingState ? 0x80 : 0;
        const stale = checkInt(f.staleTime, 0xffffff, 'long-lived-graceful-restart staleTime');
        out[at + 4] = stale >>> 16;
        out[at + 5] = stale >>> 8;
        out[at + 6] = stale;
      });
      return out;
    }
    case 73: {
      const host = utf8Bytes(c.hostname, 'fqdn hostname');
      const domain = utf8Bytes(c.domainName, 'fqdn domainName');
      const out = new Uint8Array(2 + host.length + domain.length);
      out[0] = host.length;
      out.set(host, 1);
      out[1 + host.length] = domain.length;
      out.set(domain, 2 + host.length);
      return out;
    }
  }
}

function checkedValue(cap: Capability): Uint8Array {
  const value = capabilityValue(cap);
  if (value.length > 255) {
    throw new RangeError(
      `capability ${cap.code} (${capabilityName(cap.code)}) value is ${value.length} bytes, at most 255 fit`,
    );
  }
  return value;
}

/** Bytes the capability takes on the wire (code, length and value). Throws TypeError/RangeError for bad fields. */
export function capabilityEncodingLength(cap: Capability): number {
  return 2 + checkedValue(cap).length;
}

/**
 * Writes the capability (code, length, value) at out[at] and returns the offset after it. Throws
 * TypeError/RangeError for bad fields (a raw capability's hex, a value over 255 bytes, out-of-range
 * numbers), and RangeError when out is too small.
 */
export function writeCapability(out: Uint8Array, at: number, cap: Capability): number {
  const value = checkedValue(cap);
  if (at + 2 + value.length > out.length)
    throw new RangeError(`capability ${cap.code} does not fit in the output buffer`);
  out[at] = cap.code;
  out[at + 1] = value.length;
  out.set(value, at + 2);
  return at + 2 + value.length;
}
