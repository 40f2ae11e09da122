// OPEN (RFC 4271 4.2) with capabilities in optional parameter type 2 (RFC 5492) and the RFC 9072
// extended optional parameters length.
//
// Decode records in `layout` how the capabilities were spread over parameters (BIRD and GoBGP send
// them all in one, FRR one per capability), where other parameters sat among them, and the
// multiprotocol capabilities' reserved octets that were not zero, so that encodeOpen(decodeOpen(x))
// reproduces x. What does not round-trip byte for byte (no implementation we know produces it): an
// RFC 9072 Non-Ext OP Len other than 255 (the receiver must ignore it; encode writes 255), and the
// reserved bits of the graceful restart and long-lived graceful restart capabilities (see
// capabilities.ts).
//
// Parameters other than capabilities (type 1 authentication is deprecated) are kept raw in
// layout.otherParameters; refusing them (Unsupported Optional Parameter, RFC 4271 6.2) is the
// session layer's decision, as is refusing capabilities it does not support.
import {
  HEADER_LENGTH,
  MAX_MESSAGE_LENGTH,
  MESSAGE_TYPE,
  type Capability,
  type OpenLayout,
  type OpenMessage,
} from './types.js';
import { BgpWireError, ERROR_CODE, OPEN_SUBCODE } from './errors.js';
import { fromHex, readUint16, readUint32, toHex, writeUint16 } from './bytes.js';
import { formatIpv4, parseIpv4Into } from './ip.js';
import { requireMinimumLength, writeHeader } from './framing.js';
import {
  capabilityEncodingLength,
  decodeCapability,
  isRawCapability,
  isTypedCapabilityCode,
  writeCapability,
  type TypedCapability,
} from './capabilities.js';

/** Header, version, My AS, hold time, BGP identifier and the optional parameters length octet. */
const FIXED_LENGTH = HEADER_LENGTH + 10;
/** Offsets of the fields within the message. */
const AT_VERSION = 19;
const AT_MY_AS = 20;
const AT_HOLD_TIME = 22;
const AT_BGP_ID = 24;
const AT_OPT_LEN = 28;
const AT_EXT_LEN = 30;

const PARAM_CAPABILITIES = 2;
/** RFC 9072: Non-Ext OP Type 255 announces the extended encoding. */
const PARAM_EXTENDED_LENGTH = 255;
/** The only BGP version there is (RFC 4271). */
export const BGP_VERSION = 4;

function openError(subcode: number, message: string, offset: number, data?: Uint8Array): BgpWireError {
  return new BgpWireError(message, { code: ERROR_CODE.OPEN_MESSAGE, subcode, offset, ...(data ? { data } : {}) });
}

/**
 * Decodes the OPEN in buf[msgStart..msgEnd) (header included, already checked by readHeader).
 * Throws BgpWireError, always with action 'session-reset': OPEN Message Error subcode 1 (version not
 * 4; data 0x0004), 2 (My AS or the four-octet-as ASN is 0, RFC 7607), 3 (BGP identifier 0.0.0.0,
 * RFC 6286), 6 (hold time 1 or 2), 0 (optional parameters length inconsistent with the message
 * length, or a parameter or capability running past its end). Offsets are relative to msgStart:
 * the field at fault, or the start of the parameter or capability that overruns. Fewer than 29 bytes
 * is a Message Header Error (Bad Message Length).
 */
export function decodeOpen(buf: Uint8Array, msgStart: number, msgEnd: number): OpenMessage {
  const length = msgEnd - msgStart;
  requireMinimumLength(buf, msgStart, msgEnd, MESSAGE_TYPE.OPEN);
  const version = buf[msgStart + AT_VERSION]!;
  if (version !== BGP_VERSION) {
    throw openError(
      OPEN_SUBCODE.UNSUPPORTED_VERSION,
      `unsupported BGP version ${version} (only 4)`,
      AT_VERSION,
      Uint8Array.of(0, BGP_VERSION),
    );
  }
  const myAs = readUint16(buf, msgStart + AT_MY_AS);
  if (myAs === 0) throw openError(OPEN_SUBCODE.BAD_PEER_AS, 'My Autonomous System is 0 (RFC 7607)', AT_MY_AS);
  const holdTime = readUint16(buf, msgStart + AT_HOLD_TIME);
  if (holdTime === 1 || holdTime === 2) {
    throw openError(
      OPEN_SUBCODE.UNACCEPTABLE_HOLD_TIME,
      `hold time ${holdTime} s is unacceptable (must be 0 or at least 3)`,
      AT_HOLD_TIME,
    );
  }
  if (readUint32(buf, msgStart + AT_BGP_ID) === 0) {
    throw openError(OPEN_SUBCODE.BAD_BGP_IDENTIFIER, 'BGP identifier 0.0.0.0 is not valid (RFC 6286)', AT_BGP_ID);
  }
  const optLen = buf[msgStart + AT_OPT_LEN]!;
  // RFC 9072 2: a non-zero Non-Ext OP Len followed by type 255 announces the extended encoding.
  const extended = optLen !== 0 && length > FIXED_LENGTH && buf[msgStart + FIXED_LENGTH] === PARAM_EXTENDED_LENGTH;
  let at = msgStart + FIXED_LENGTH;
  if (extended) {
    if (length < FIXED_LENGTH + 3) {
      throw openError(
        OPEN_SUBCODE.UNSPECIFIC,
        `OPEN announces RFC 9072 extended optional parameters but ends before the 2-byte length`,
        AT_OPT_LEN,
      );
    }
    const extLen = readUint16(buf, msgStart + AT_EXT_LEN);
    at += 3;
    if (length - (FIXED_LENGTH + 3) !== extLen) {
      throw openError(
        OPEN_SUBCODE.UNSPECIFIC,
        `extended optional parameters length ${extLen} does not match the ${length - (FIXED_LENGTH + 3)} bytes left in the ${length}-byte OPEN`,
        AT_EXT_LEN,
      );
    }
  } else if (length - FIXED_LENGTH !== optLen) {
    throw openError(
      OPEN_SUBCODE.UNSPECIFIC,
      `optional parameters length ${optLen} does not match the ${length - FIXED_LENGTH} bytes left in the ${length}-byte OPEN`,
      AT_OPT_LEN,
    );
  }

  const capabilities: Capability[] = [];
  const layout: OpenLayout = { groups: [], extended };
  const headerLength = extended ? 3 : 2;
  while (at < msgEnd) {
    const offset = at - msgStart;
    if (at + headerLength > msgEnd) {
      throw openError(
        OPEN_SUBCODE.UNSPECIFIC,
        `optional parameter header at offset ${offset} runs past the end of the OPEN`,
        offset,
      );
    }
    const type = buf[at]!;
    const valueLength = extended ? readUint16(buf, at + 1) : buf[at + 1]!;
    const start = at + headerLength;
    const end = start + valueLength;
    if (end > msgEnd) {
      throw openError(
        OPEN_SUBCODE.UNSPECIFIC,
        `optional parameter ${type} at offset ${offset} says ${valueLength} bytes, only ${msgEnd - start} left in the OPEN`,
        offset,
      );
    }
    if (type === PARAM_CAPABILITIES) {
      const before = capabilities.length;
      for (let c = start; c < end; ) {
        const capStart = c;
        c = decodeCapability(buf, c, end, msgStart, capabilities);
        const cap = capabilities[capabilities.length - 1]!;
        if (isRawCapability(cap)) continue;
        if (cap.code === 65 && cap.asn === 0) {
          throw openError(
            OPEN_SUBCODE.BAD_PEER_AS,
            'four-octet-as capability carries AS 0 (RFC 7607)',
            capStart - msgStart,
          );
        }
        // Code, length, AFI (2), then the reserved octet.
        if (cap.code === 1 && buf[capStart + 4] !== 0)
          (layout.multiprotocolReserved ??= {})[capabilities.length - 1] = buf[capStart + 4]!;
      }
      layout.groups.push(capabilities.length - before);
    } else {
      (layout.otherParameters ??= []).push({ type, hex: toHex(buf, start, end), afterGroups: layout.groups.length });
    }
    at = end;
  }
  // Parameters after the last capabilities parameter are where encode puts them by default.
  for (const p of layout.otherParameters ?? []) if (p.afterGroups === layout.groups.length) delete p.afterGroups;
  return {
    type: 'OPEN',
    length,
    version,
    myAs,
    holdTime,
    bgpId: formatIpv4(buf, msgStart + AT_BGP_ID),
    capabilities,
    layout,
  };
}

function checkInt(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value))
    throw new TypeError(`OPEN ${what} must be an integer, got ${String(value)}`);
  if (value < 0 || value > max) throw new RangeError(`OPEN ${what} ${value} is outside 0-${max}`);
  return value;
}

interface Parameter {
  type: number;
  /** Capabilities of a type-2 parameter, or the raw value of another. */
  capabilities?: Capability[];
  value?: Uint8Array;
  valueLength: number;
}

/**
 * Splits the capabilities into parameters as the layout (or the canonical one-parameter form) asks,
 * with the other parameters in their places.
 */
function parameters(msg: OpenMessage): Parameter[] {
  const caps = msg.capabilities;
  if (!Array.isArray(caps)) throw new TypeError('OPEN capabilities must be an array');
  const groups = msg.layout ? msg.layout.groups : caps.length > 0 ? [caps.length] : [];
  if (!Array.isArray(groups)) throw new TypeError('OPEN layout.groups must be an array');
  const others = (msg.layout?.otherParameters ?? []).map((p) => {
    let value: Uint8Array;
    try {
      value = fromHex(p.hex);
    } catch {
      throw new TypeError(`OPEN optional parameter ${p.type} hex is not even-length hex`);
    }
    const after =
      p.afterGroups === undefined
        ? groups.length
        : checkInt(p.afterGroups, groups.length, 'optional parameter afterGroups');
    return {
      after,
      param: { type: checkInt(p.type, 255, 'optional parameter type'), value, valueLength: value.length },
    };
  });
  const params: Parameter[] = [];
  let next = 0;
  for (let g = 0; g <= groups.length; g++) {
    for (const o of others) if (o.after === g) params.push(o.param);
    if (g === groups.length) break;
    const count = checkInt(groups[g], caps.length, 'layout.groups entry');
    const group = caps.slice(next, next + count);
    next += count;
    params.push({
      type: PARAM_CAPABILITIES,
      capabilities: group,
      valueLength: group.reduce((n, c) => n + capabilityEncodingLength(c), 0),
    });
  }
  if (next !== caps.length) {
    throw new RangeError(`OPEN layout.groups account for ${next} capabilities, the message has ${caps.length}`);
  }
  return params;
}

/** layout.multiprotocolReserved checked against the capabilities: reserved octet by capability index. */
function multiprotocolReserved(msg: OpenMessage): Map<number, number> | undefined {
  const reserved = msg.layout?.multiprotocolReserved;
  if (reserved === undefined) return undefined;
  if (reserved === null || typeof reserved !== 'object')
    throw new TypeError('OPEN layout.multiprotocolReserved must be an object');
  const out = new Map<number, number>();
  for (const [key, value] of Object.entries(reserved)) {
    const index = Number(key);
    const cap = msg.capabilities[index];
    if (!Number.isInteger(index) || cap === undefined || cap.code !== 1 || isRawCapability(cap)) {
      throw new RangeError(
        `OPEN layout.multiprotocolReserved names capability ${key}, which is not a typed multiprotocol capability`,
      );
    }
    out.set(index, checkInt(value, 0xff, 'layout.multiprotocolReserved entry'));
  }
  return out;
}

/**
 * Encodes an OPEN (header included). Without `layout` the capabilities go in one type-2 parameter,
 * in the RFC 9072 extended form only when they do not fit in 255 bytes; with it, as the layout says.
 * Throws TypeError/RangeError for bad fields, a layout that does not match the capabilities, a
 * non-extended layout whose parameters exceed 255 bytes, or a message over 4096 bytes.
 */
export function encodeOpen(msg: OpenMessage): Uint8Array {
  const version = checkInt(msg.version, 0xff, 'version');
  const myAs = checkInt(msg.myAs, 0xffff, 'myAs');
  const holdTime = checkInt(msg.holdTime, 0xffff, 'holdTime');
  const bgpId = new Uint8Array(4);
  if (typeof msg.bgpId !== 'string' || !parseIpv4Into(msg.bgpId, bgpId, 0)) {
    throw new TypeError(`OPEN bgpId must be dotted-quad IPv4 text, got ${JSON.stringify(msg.bgpId)}`);
  }
  const params = parameters(msg);
  const reserved = multiprotocolReserved(msg);
  const classicLength = params.reduce((n, p) => n + 2 + p.valueLength, 0);
  const fitsClassic = classicLength <= 255 && params.every((p) => p.valueLength <= 255);
  const extended = msg.layout ? msg.layout.extended === true : !fitsClassic;
  if (!extended && !fitsClassic) {
    throw new RangeError(
      `OPEN optional parameters need ${classicLength} bytes: more than 255 needs layout.extended (RFC 9072)`,
    );
  }
  if (!extended && params[0]?.type === PARAM_EXTENDED_LENGTH) {
    throw new RangeError('OPEN optional parameter type 255 cannot come first outside the RFC 9072 extended form');
  }
  const paramsLength = extended ? params.reduce((n, p) => n + 3 + p.valueLength, 0) : classicLength;
  const length = FIXED_LENGTH + (extended ? 3 : 0) + paramsLength;
  if (length > MAX_MESSAGE_LENGTH)
    throw new RangeError(`OPEN of ${length} bytes exceeds the maximum of ${MAX_MESSAGE_LENGTH}`);

  const out = new Uint8Array(length);
  writeHeader(out, length, MESSAGE_TYPE.OPEN);
  out[AT_VERSION] = version;
  writeUint16(out, AT_MY_AS, myAs);
  writeUint16(out, AT_HOLD_TIME, holdTime);
  out.set(bgpId, AT_BGP_ID);
  let at = FIXED_LENGTH;
  if (extended) {
    out[AT_OPT_LEN] = 255;
    out[FIXED_LENGTH] = PARAM_EXTENDED_LENGTH;
    writeUint16(out, AT_EXT_LEN, paramsLength);
    at += 3;
  } else {
    out[AT_OPT_LEN] = paramsLength;
  }
  let capIndex = 0;
  for (const p of params) {
    out[at] = p.type;
    if (extended) writeUint16(out, at + 1, p.valueLength);
    else out[at + 1] = p.valueLength;
    at += extended ? 3 : 2;
    if (p.capabilities) {
      for (const cap of p.capabilities) {
        const capStart = at;
        at = writeCapability(out, at, cap);
        const octet = reserved?.get(capIndex++);
        if (octet !== undefined) out[capStart + 4] = octet; // after code, length and AFI
      }
    } else {
      out.set(p.value!, at);
      at += p.valueLength;
    }
  }
  return out;
}

/** The first decoded (typed) capability with this code; raw ones of a typed code are skipped. */
export function findCapability<C extends TypedCapability['code']>(
  open: OpenMessage,
  code: C,
): Extract<TypedCapability, { code: C }> | undefined;
/** The first capability with this code, typed or raw. */
export function findCapability(open: OpenMessage, code: number): Capability | undefined;
export function findCapability(open: OpenMessage, code: number): Capability | undefined {
  let rawMatch: Capability | undefined;
  for (const cap of open.capabilities) {
    if (cap.code !== code) continue;
    if (!isRawCapability(cap)) return cap;
    rawMatch ??= cap;
  }
  // A typed code only ever answers with a typed capability.
  return isTypedCapabilityCode(code) ? undefined : rawMatch;
}

/** Every decoded (typed) capability with this code, e.g. all multiprotocol families. */
export function findCapabilities<C extends TypedCapability['code']>(
  open: OpenMessage,
  code: C,
): Extract<TypedCapability, { code: C }>[] {
  return open.capabilities.filter((cap) => cap.code === code && !isRawCapability(cap)) as Extract<
    TypedCapability,
    { code: C }
  >[];
}

/** The sender's AS: the four-octet-as capability's ASN when present (RFC 6793), else My AS. */
export function effectiveAsn(open: OpenMessage): number {
  return findCapability(open, 65)?.asn ?? open.myAs;
}
