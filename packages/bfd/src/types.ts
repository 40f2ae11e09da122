// The BFD model (RFC 5880): control packets, authentication, states and diagnostics as plain typed
// data. The codec (packet.ts, auth.ts) turns bytes into these and back; the session state machine
// (fsm.ts) consumes and produces them. Intervals are in microseconds, as on the wire.

/** RFC 5880 4.1 State. */
export type BfdState = 'AdminDown' | 'Down' | 'Init' | 'Up';
export const BFD_STATE: Readonly<Record<BfdState, number>> = { AdminDown: 0, Down: 1, Init: 2, Up: 3 };

/** RFC 5880 4.1 Diagnostic codes. */
export const BFD_DIAG = {
  NONE: 0,
  CONTROL_DETECTION_TIME_EXPIRED: 1,
  ECHO_FUNCTION_FAILED: 2,
  NEIGHBOR_SIGNALED_SESSION_DOWN: 3,
  FORWARDING_PLANE_RESET: 4,
  PATH_DOWN: 5,
  CONCATENATED_PATH_DOWN: 6,
  ADMINISTRATIVELY_DOWN: 7,
  REVERSE_CONCATENATED_PATH_DOWN: 8,
} as const;

/** RFC 5880 4.1 Auth Type. */
export type BfdAuthType = 'simple' | 'keyed-md5' | 'meticulous-keyed-md5' | 'keyed-sha1' | 'meticulous-keyed-sha1';
export const BFD_AUTH_TYPE: Readonly<Record<BfdAuthType, number>> = {
  simple: 1,
  'keyed-md5': 2,
  'meticulous-keyed-md5': 3,
  'keyed-sha1': 4,
  'meticulous-keyed-sha1': 5,
};

/** The authentication section of a received or to-be-sent packet (RFC 5880 4.2-4.4). */
export type BfdAuthSection =
  | { type: 'simple'; keyId: number; password: Uint8Array }
  /** MD5 and SHA1 types: `digest` is the 16- or 20-byte Auth Key/Digest field as it is on the wire. */
  | { type: Exclude<BfdAuthType, 'simple'>; keyId: number; sequence: number; digest: Uint8Array };

/** One BFD control packet (RFC 5880 4.1). Intervals in microseconds. */
export interface BfdControlPacket {
  /** Always 1 when encoding; decode rejects others. */
  version: number;
  diag: number;
  state: BfdState;
  poll: boolean;
  final: boolean;
  /** C bit. */
  controlPlaneIndependent: boolean;
  /** D bit. */
  demand: boolean;
  /** M bit (must be 0). */
  multipoint: boolean;
  detectMult: number;
  myDiscriminator: number;
  yourDiscriminator: number;
  desiredMinTxInterval: number;
  requiredMinRxInterval: number;
  requiredMinEchoRxInterval: number;
  /** Present when the A bit is set. */
  auth?: BfdAuthSection;
}

/** A key for authentication: the key id and the secret (1-16 bytes for simple/MD5, 1-20 for SHA1). */
export interface BfdAuthKey {
  type: BfdAuthType;
  keyId: number;
  secret: Uint8Array;
}

/** Why a packet was dropped (RFC 5880 6.8.6): a short machine code and a sentence for logs. */
export class BfdPacketError extends Error {
  constructor(
    readonly code:
      | 'too-short'
      | 'bad-version'
      | 'bad-length'
      | 'zero-detect-mult'
      | 'multipoint'
      | 'zero-my-discriminator'
      | 'zero-your-discriminator'
      | 'bad-auth-section'
      | 'auth-missing'
      | 'auth-unexpected'
      | 'auth-failed'
      | 'auth-sequence',
    message: string,
  ) {
    super(message);
    this.name = 'BfdPacketError';
  }
}
