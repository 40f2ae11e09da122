// BFD authentication (RFC 5880 6.7): signing outgoing control packets and verifying received ones for
// all five Auth Types, and the sequence number rules (bfd.XmitAuthSeq, bfd.RcvAuthSeq,
// bfd.AuthSeqKnown) as plain data. MD5 and SHA1 come from node:crypto.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { BFD_AUTH_DIGEST_OFFSET, authDigestLength, encodeControlPacket } from './packet.js';
import {
  BfdPacketError,
  type BfdAuthKey,
  type BfdAuthSection,
  type BfdAuthType,
  type BfdControlPacket,
} from './types.js';

/** Receive-side sequence state of one session (RFC 5880 6.8.1): bfd.RcvAuthSeq and bfd.AuthSeqKnown. */
export interface BfdAuthReceiveState {
  /** bfd.RcvAuthSeq: the Sequence Number of the last authenticated packet. */
  lastSequence: number;
  /** bfd.AuthSeqKnown: false until a packet has been authenticated, and again after 2 x Detection Time without one. */
  known: boolean;
}

/** A fresh receive state: nothing known, so the first authentic packet sets the sequence (RFC 5880 6.8.1). */
export function initialAuthReceiveState(): BfdAuthReceiveState {
  return { lastSequence: 0, known: false };
}

/** True for the types that carry a Sequence Number that must increase with every packet (3 and 5). */
export function isMeticulous(type: BfdAuthType): boolean {
  return type === 'meticulous-keyed-md5' || type === 'meticulous-keyed-sha1';
}

/**
 * Why a key cannot be used, or undefined when it can: the key id must be 0-255 and the secret 1-16
 * bytes for simple passwords and MD5, 1-20 bytes for SHA1 (RFC 5880 4.2-4.4). For config checking.
 */
export function authKeyProblem(key: BfdAuthKey): string | undefined {
  if (!Number.isInteger(key.keyId) || key.keyId < 0 || key.keyId > 255) {
    return `BFD authentication key id ${key.keyId} is not from 0 to 255`;
  }
  const max = key.type === 'keyed-sha1' || key.type === 'meticulous-keyed-sha1' ? 20 : 16;
  if (key.secret.length < 1 || key.secret.length > max) {
    return `BFD ${key.type} secret of ${key.secret.length} bytes, expected 1 to ${max}`;
  }
  return undefined;
}

/**
 * A random initial bfd.XmitAuthSeq (RFC 5880 6.8.1 asks for a random 32-bit value), so a restarted
 * session does not replay sequence numbers the peer has already seen.
 */
export function randomXmitAuthSeq(): number {
  return randomBytes(4).readUInt32BE(0);
}

/**
 * The bfd.XmitAuthSeq to use for the next packet, incremented as an unsigned 32-bit number. We
 * increment for every packet sent, for all four digest types: the meticulous types require it, and
 * the keyed types allow it (RFC 5880 6.7.3: it MAY be incremented at any time), which is simpler than
 * tracking whether the contents changed.
 */
export function nextXmitAuthSeq(xmitAuthSeq: number): number {
  return (xmitAuthSeq + 1) >>> 0;
}

/**
 * Encode `packet` with an Authentication Section for `key` (any `packet.auth` is replaced): the simple
 * password as is (RFC 5880 6.7.2), or for MD5/SHA1 the Sequence Number `xmitAuthSeq` and the digest of
 * the whole packet computed with the secret, zero-padded, in the Auth Key/Digest field (6.7.3, 6.7.4).
 * `xmitAuthSeq` is ignored for simple passwords. Throws RangeError for an unusable key.
 */
export function signControlPacket(packet: BfdControlPacket, key: BfdAuthKey, xmitAuthSeq: number): Uint8Array {
  const problem = authKeyProblem(key);
  if (problem !== undefined) throw new RangeError(problem);
  if (key.type === 'simple') {
    return encodeControlPacket({ ...packet, auth: { type: 'simple', keyId: key.keyId, password: key.secret } });
  }
  const auth: BfdAuthSection = {
    type: key.type,
    keyId: key.keyId,
    sequence: xmitAuthSeq,
    digest: paddedSecret(key.type, key.secret),
  };
  const bytes = encodeControlPacket({ ...packet, auth });
  bytes.set(digestOf(key.type, bytes), BFD_AUTH_DIGEST_OFFSET);
  return bytes;
}

/**
 * Whether a received Sequence Number is inside the window of RFC 5880 6.7.3/6.7.4, counting in the
 * unsigned 32-bit circle: keyed types accept bfd.RcvAuthSeq to bfd.RcvAuthSeq + 3 x Detect Mult,
 * meticulous types bfd.RcvAuthSeq + 1 to bfd.RcvAuthSeq + 3 x Detect Mult. Anything is accepted while
 * bfd.AuthSeqKnown is false. `detectMult` is the Detect Mult of the received packet.
 */
export function isAuthSequenceAcceptable(
  type: Exclude<BfdAuthType, 'simple'>,
  state: BfdAuthReceiveState,
  sequence: number,
  detectMult: number,
): boolean {
  if (!state.known) return true;
  const ahead = (sequence - state.lastSequence) >>> 0;
  const lowest = isMeticulous(type) ? 1 : 0;
  return ahead >= lowest && ahead <= 3 * detectMult;
}

/**
 * Authenticate a received packet (RFC 5880 6.7 and the A bit checks of 6.8.6). `bytes` are the bytes
 * decodeControlPacket decoded into `packet`; `keys` are the session's configured keys (empty when
 * authentication is not in use), looked up by Auth Key ID. Returns the receive state to keep: for the
 * digest types bfd.RcvAuthSeq becomes the packet's sequence and bfd.AuthSeqKnown true; unchanged for
 * simple passwords and unauthenticated sessions. Throws BfdPacketError: 'auth-unexpected' (A bit set,
 * no keys), 'auth-missing' (keys, A bit clear), 'auth-failed' (unknown key id, other Auth Type, wrong
 * password or digest), 'auth-sequence' (authentic but outside the sequence window: a replay).
 */
export function verifyControlPacketAuth(
  bytes: Uint8Array,
  packet: BfdControlPacket,
  keys: readonly BfdAuthKey[],
  state: BfdAuthReceiveState,
): BfdAuthReceiveState {
  const auth = packet.auth;
  if (keys.length === 0) {
    if (auth !== undefined)
      throw new BfdPacketError(
        'auth-unexpected',
        'BFD packet is authenticated but this session uses no authentication',
      );
    return state;
  }
  if (auth === undefined)
    throw new BfdPacketError('auth-missing', 'BFD packet has no authentication but this session requires it');
  const key = keys.find((k) => k.keyId === auth.keyId);
  if (key === undefined)
    throw new BfdPacketError('auth-failed', `BFD Auth Key ID ${auth.keyId} is not a configured key`);
  if (key.type !== auth.type) {
    throw new BfdPacketError('auth-failed', `BFD Auth Type ${auth.type} for key ${auth.keyId}, configured ${key.type}`);
  }
  if (auth.type === 'simple') {
    if (!sameBytes(auth.password, key.secret))
      throw new BfdPacketError('auth-failed', `BFD password for key ${auth.keyId} does not match`);
    return state;
  }
  const length = bytes[3] ?? 0;
  const digestLength = authDigestLength(auth.type);
  if (length < BFD_AUTH_DIGEST_OFFSET + digestLength || bytes.length < length) {
    throw new BfdPacketError(
      'bad-auth-section',
      `BFD ${auth.type} packet of Length ${length} has no room for its digest`,
    );
  }
  const signed = new Uint8Array(bytes.subarray(0, length)); // a copy, also when bytes is a Buffer (its slice is a view)
  signed.set(paddedSecret(auth.type, key.secret), BFD_AUTH_DIGEST_OFFSET);
  if (!sameBytes(digestOf(auth.type, signed), auth.digest)) {
    throw new BfdPacketError('auth-failed', `BFD ${auth.type} digest for key ${auth.keyId} does not match`);
  }
  if (!isAuthSequenceAcceptable(auth.type, state, auth.sequence, packet.detectMult)) {
    throw new BfdPacketError(
      'auth-sequence',
      `BFD ${auth.type} Sequence Number ${auth.sequence} is outside the window after ${state.lastSequence} (replay?)`,
    );
  }
  return { lastSequence: auth.sequence, known: true };
}

/** The secret zero-padded to the digest length, as it stands in the Auth Key/Digest field while hashing. */
function paddedSecret(type: Exclude<BfdAuthType, 'simple'>, secret: Uint8Array): Uint8Array {
  const field = new Uint8Array(authDigestLength(type));
  field.set(secret.subarray(0, field.length));
  return field;
}

/** MD5 or SHA1 of the packet bytes, which hold the padded secret in the digest field. */
function digestOf(type: Exclude<BfdAuthType, 'simple'>, signed: Uint8Array): Uint8Array {
  const algorithm = type === 'keyed-md5' || type === 'meticulous-keyed-md5' ? 'md5' : 'sha1';
  return new Uint8Array(createHash(algorithm).update(signed).digest());
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}
