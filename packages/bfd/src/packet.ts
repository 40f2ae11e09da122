// The BFD control packet codec (RFC 5880 4.1-4.4) and the reception checks of 6.8.6 that need only the
// packet: bytes in, a plain BfdControlPacket out, and back. Authentication (digests, passwords,
// sequence windows) is in auth.ts; the checks that need a session (discriminator lookup, whether
// authentication is in use) are the caller's.

import {
  BFD_AUTH_TYPE,
  BFD_STATE,
  BfdPacketError,
  type BfdAuthSection,
  type BfdAuthType,
  type BfdControlPacket,
  type BfdState,
} from './types.js';

/** Length of the Mandatory Section (RFC 5880 4.1). */
export const BFD_MANDATORY_SECTION_LENGTH = 24;
/** The only protocol version RFC 5880 defines. */
export const BFD_VERSION = 1;

/** The Auth Len each digest type must carry (RFC 5880 4.3, 4.4): type, len, key id, reserved, sequence, digest. */
export const BFD_AUTH_LEN: Readonly<Record<Exclude<BfdAuthType, 'simple'>, number>> = {
  'keyed-md5': 24,
  'meticulous-keyed-md5': 24,
  'keyed-sha1': 28,
  'meticulous-keyed-sha1': 28,
};

/** Length of the Auth Key/Digest field of a digest type: 16 for MD5, 20 for SHA1. */
export function authDigestLength(type: Exclude<BfdAuthType, 'simple'>): number {
  return BFD_AUTH_LEN[type] - 8;
}

/** Offset of the Auth Key/Digest field from the start of the packet (after type, len, key id, reserved, sequence). */
export const BFD_AUTH_DIGEST_OFFSET = BFD_MANDATORY_SECTION_LENGTH + 8;

const STATE_BY_NUMBER: readonly BfdState[] = ['AdminDown', 'Down', 'Init', 'Up'];
const AUTH_TYPE_BY_NUMBER: readonly (BfdAuthType | undefined)[] = [
  undefined,
  'simple',
  'keyed-md5',
  'meticulous-keyed-md5',
  'keyed-sha1',
  'meticulous-keyed-sha1',
];

// Bits of the second byte: Sta (2 bits), then P F C A D M.
const POLL_BIT = 0x20;
const FINAL_BIT = 0x10;
const CONTROL_PLANE_INDEPENDENT_BIT = 0x08;
const AUTH_PRESENT_BIT = 0x04;
const DEMAND_BIT = 0x02;
const MULTIPOINT_BIT = 0x01;

function drop(code: BfdPacketError['code'], message: string): never {
  throw new BfdPacketError(code, message);
}

/**
 * Decode one BFD control packet (the UDP payload) and apply every reception check of RFC 5880 6.8.6
 * that needs only the packet: version 1, Length at least 24 (26 with the A bit) and no more than the
 * bytes, Detect Mult non-zero, M bit clear, My Discriminator non-zero, Your Discriminator zero only in
 * Down or AdminDown, and an Authentication Section of a known type with the Auth Len that type needs,
 * inside Length. Bytes after Length are ignored. Throws only BfdPacketError; never verifies a digest
 * or password (see verifyControlPacketAuth in auth.ts). With `into`, every field (`auth` too, undefined
 * when absent) is written into that object, which is returned: a receiver that keeps no packet can
 * reuse one object for all (left as it was when the packet is dropped).
 */
export function decodeControlPacket(bytes: Uint8Array, into?: BfdControlPacket): BfdControlPacket {
  if (bytes.length < BFD_MANDATORY_SECTION_LENGTH) {
    drop('too-short', `BFD control packet of ${bytes.length} bytes, shorter than the 24-byte Mandatory Section`);
  }
  // Read byte by byte (no DataView): this runs for every packet received.
  const first = bytes[0]!;
  const flags = bytes[1]!;
  const version = first >>> 5;
  if (version !== BFD_VERSION) drop('bad-version', `BFD version ${version}, expected 1`);
  const authPresent = (flags & AUTH_PRESENT_BIT) !== 0;
  const length = bytes[3]!;
  const minimum = authPresent ? BFD_MANDATORY_SECTION_LENGTH + 2 : BFD_MANDATORY_SECTION_LENGTH;
  if (length < minimum) {
    drop('bad-length', `BFD Length ${length} is below the minimum ${minimum}${authPresent ? ' (A bit set)' : ''}`);
  }
  if (length > bytes.length) {
    drop('bad-length', `BFD Length ${length} is more than the ${bytes.length} bytes received`);
  }
  const detectMult = bytes[2]!;
  if (detectMult === 0) drop('zero-detect-mult', 'BFD Detect Mult is zero');
  if ((flags & MULTIPOINT_BIT) !== 0) drop('multipoint', 'BFD Multipoint (M) bit is set');
  const myDiscriminator = readUint32(bytes, 4);
  if (myDiscriminator === 0) drop('zero-my-discriminator', 'BFD My Discriminator is zero');
  const yourDiscriminator = readUint32(bytes, 8);
  const state = STATE_BY_NUMBER[flags >>> 6] as BfdState;
  if (yourDiscriminator === 0 && state !== 'Down' && state !== 'AdminDown') {
    drop(
      'zero-your-discriminator',
      `BFD Your Discriminator is zero in state ${state} (allowed only in Down or AdminDown)`,
    );
  }
  const auth = authPresent ? decodeAuthSection(bytes, length) : undefined;
  if (into === undefined) {
    const packet: BfdControlPacket = {
      version,
      diag: first & 0x1f,
      state,
      poll: (flags & POLL_BIT) !== 0,
      final: (flags & FINAL_BIT) !== 0,
      controlPlaneIndependent: (flags & CONTROL_PLANE_INDEPENDENT_BIT) !== 0,
      demand: (flags & DEMAND_BIT) !== 0,
      multipoint: false,
      detectMult,
      myDiscriminator,
      yourDiscriminator,
      desiredMinTxInterval: readUint32(bytes, 12),
      requiredMinRxInterval: readUint32(bytes, 16),
      requiredMinEchoRxInterval: readUint32(bytes, 20),
    };
    if (auth !== undefined) packet.auth = auth;
    return packet;
  }
  into.version = version;
  into.diag = first & 0x1f;
  into.state = state;
  into.poll = (flags & POLL_BIT) !== 0;
  into.final = (flags & FINAL_BIT) !== 0;
  into.controlPlaneIndependent = (flags & CONTROL_PLANE_INDEPENDENT_BIT) !== 0;
  into.demand = (flags & DEMAND_BIT) !== 0;
  into.multipoint = false;
  into.detectMult = detectMult;
  into.myDiscriminator = myDiscriminator;
  into.yourDiscriminator = yourDiscriminator;
  into.desiredMinTxInterval = readUint32(bytes, 12);
  into.requiredMinRxInterval = readUint32(bytes, 16);
  into.requiredMinEchoRxInterval = readUint32(bytes, 20);
  into.auth = auth;
  return into;
}

function readUint32(bytes: Uint8Array, at: number): number {
  return ((bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!) >>> 0;
}

function writeUint32(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}

/** The Authentication Section at offset 24 of a packet whose Length (already checked >= 26) is `length`. */
function decodeAuthSection(bytes: Uint8Array, length: number): BfdAuthSection {
  const at = BFD_MANDATORY_SECTION_LENGTH;
  const typeNumber = bytes[at]!;
  const authLen = bytes[at + 1]!;
  const type = AUTH_TYPE_BY_NUMBER[typeNumber];
  if (type === undefined) return drop('bad-auth-section', `BFD Auth Type ${typeNumber} is not defined`);
  if (type === 'simple') {
    // Auth Len = 3 + a password of 1 to 16 bytes (RFC 5880 4.2).
    if (authLen < 4 || authLen > 19)
      drop('bad-auth-section', `BFD simple password Auth Len ${authLen}, expected 4 to 19`);
  } else if (authLen !== BFD_AUTH_LEN[type]) {
    drop('bad-auth-section', `BFD ${type} Auth Len ${authLen}, expected ${BFD_AUTH_LEN[type]}`);
  }
  if (at + authLen > length) {
    drop('bad-auth-section', `BFD Authentication Section of ${authLen} bytes does not fit in Length ${length}`);
  }
  const keyId = bytes[at + 2]!;
  // Copies (new Uint8Array(view)), also when bytes is a Buffer, whose slice() is a view.
  if (type === 'simple') return { type, keyId, password: new Uint8Array(bytes.subarray(at + 3, at + authLen)) };
  return {
    type,
    keyId,
    sequence: readUint32(bytes, at + 4),
    digest: new Uint8Array(bytes.subarray(at + 8, at + authLen)),
  };
}

/** Bytes the packet takes on the wire: 24, plus the Authentication Section when present. */
export function controlPacketLength(p: BfdControlPacket): number {
  return BFD_MANDATORY_SECTION_LENGTH + (p.auth === undefined ? 0 : authSectionLength(p.auth));
}

function authSectionLength(auth: BfdAuthSection): number {
  return auth.type === 'simple' ? 3 + auth.password.length : BFD_AUTH_LEN[auth.type];
}

const checkField = (name: string, value: number, max: number): void => {
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`BFD ${name} ${value} is not an integer from 0 to ${max}`);
  }
};

/**
 * Encode a control packet as RFC 5880 4.1 lays it out: the A bit is set when `auth` is present, Length
 * is computed, and the Authentication Section is written as given (a digest is not computed here: use
 * signControlPacket in auth.ts). Fields are written as they are, including a zero Detect Mult or a set
 * M bit, so tests can build packets the decoder must drop. With `into` (exactly the packet's length,
 * see controlPacketLength) the bytes are written there and `into` is returned, so a sender can reuse
 * one buffer. Throws RangeError for a value that does not fit its field or an auth section of the
 * wrong size (a programming error, not peer input).
 */
export function encodeControlPacket(p: BfdControlPacket, into?: Uint8Array): Uint8Array {
  checkField('version', p.version, 7);
  checkField('Diag', p.diag, 31);
  checkField('Detect Mult', p.detectMult, 255);
  checkField('My Discriminator', p.myDiscriminator, 0xffffffff);
  checkField('Your Discriminator', p.yourDiscriminator, 0xffffffff);
  checkField('Desired Min TX Interval', p.desiredMinTxInterval, 0xffffffff);
  checkField('Required Min RX Interval', p.requiredMinRxInterval, 0xffffffff);
  checkField('Required Min Echo RX Interval', p.requiredMinEchoRxInterval, 0xffffffff);
  const stateNumber = BFD_STATE[p.state];
  if (stateNumber === undefined) throw new RangeError(`BFD state ${String(p.state)} is not defined`);
  const length = controlPacketLength(p);
  if (into !== undefined && into.length !== length)
    throw new RangeError(`BFD packet of ${length} bytes cannot be encoded into ${into.length} bytes`);
  const bytes = into ?? new Uint8Array(length);
  bytes[0] = (p.version << 5) | p.diag;
  bytes[1] =
    (stateNumber << 6) |
    (p.poll ? POLL_BIT : 0) |
    (p.final ? FINAL_BIT : 0) |
    (p.controlPlaneIndependent ? CONTROL_PLANE_INDEPENDENT_BIT : 0) |
    (p.auth !== undefined ? AUTH_PRESENT_BIT : 0) |
    (p.demand ? DEMAND_BIT : 0) |
    (p.multipoint ? MULTIPOINT_BIT : 0);
  bytes[2] = p.detectMult;
  bytes[3] = length;
  writeUint32(bytes, 4, p.myDiscriminator);
  writeUint32(bytes, 8, p.yourDiscriminator);
  writeUint32(bytes, 12, p.desiredMinTxInterval);
  writeUint32(bytes, 16, p.requiredMinRxInterval);
  writeUint32(bytes, 20, p.requiredMinEchoRxInterval);
  if (p.auth !== undefined) encodeAuthSection(p.auth, bytes);
  return bytes;
}

function encodeAuthSection(auth: BfdAuthSection, bytes: Uint8Array): void {
  const at = BFD_MANDATORY_SECTION_LENGTH;
  const typeNumber = BFD_AUTH_TYPE[auth.type];
  if (typeNumber === undefined) throw new RangeError(`BFD Auth Type ${String(auth.type)} is not defined`);
  checkField('Auth Key ID', auth.keyId, 255);
  bytes[at] = typeNumber;
  bytes[at + 1] = authSectionLength(auth);
  bytes[at + 2] = auth.keyId;
  if (auth.type === 'simple') {
    if (auth.password.length < 1 || auth.password.length > 16) {
      throw new RangeError(`BFD simple password of ${auth.password.length} bytes, expected 1 to 16`);
    }
    bytes.set(auth.password, at + 3);
    return;
  }
  checkField('Sequence Number', auth.sequence, 0xffffffff);
  const digestLength = authDigestLength(auth.type);
  if (auth.digest.length !== digestLength) {
    throw new RangeError(`BFD ${auth.type} digest of ${auth.digest.length} bytes, expected ${digestLength}`);
  }
  bytes[at + 3] = 0; // Reserved
  writeUint32(bytes, at + 4, auth.sequence);
  bytes.set(auth.digest, at + 8);
}
