// Typed decode errors. Every malformed input yields a BgpWireError carrying the NOTIFICATION the
// session should send and the RFC 7606 action; nothing else is ever thrown by a decoder.
import type { ErrorAction } from './types.js';
import { toHex } from './bytes.js';

/** NOTIFICATION error codes (RFC 4271 4.5, RFC 7313). */
export const ERROR_CODE = {
  MESSAGE_HEADER: 1,
  OPEN_MESSAGE: 2,
  UPDATE_MESSAGE: 3,
  HOLD_TIMER_EXPIRED: 4,
  FSM: 5,
  CEASE: 6,
  ROUTE_REFRESH: 7,
} as const;

export const HEADER_SUBCODE = { CONNECTION_NOT_SYNCHRONIZED: 1, BAD_MESSAGE_LENGTH: 2, BAD_MESSAGE_TYPE: 3 } as const;
export const OPEN_SUBCODE = {
  UNSPECIFIC: 0,
  UNSUPPORTED_VERSION: 1,
  BAD_PEER_AS: 2,
  BAD_BGP_IDENTIFIER: 3,
  UNSUPPORTED_OPTIONAL_PARAMETER: 4,
  UNACCEPTABLE_HOLD_TIME: 6,
  UNSUPPORTED_CAPABILITY: 7,
  ROLE_MISMATCH: 11,
} as const;
export const UPDATE_SUBCODE = {
  MALFORMED_ATTRIBUTE_LIST: 1,
  UNRECOGNIZED_WELL_KNOWN_ATTRIBUTE: 2,
  MISSING_WELL_KNOWN_ATTRIBUTE: 3,
  ATTRIBUTE_FLAGS_ERROR: 4,
  ATTRIBUTE_LENGTH_ERROR: 5,
  INVALID_ORIGIN: 6,
  INVALID_NEXT_HOP: 8,
  OPTIONAL_ATTRIBUTE_ERROR: 9,
  INVALID_NETWORK_FIELD: 10,
  MALFORMED_AS_PATH: 11,
} as const;
export const CEASE_SUBCODE = {
  MAXIMUM_PREFIXES_REACHED: 1,
  ADMINISTRATIVE_SHUTDOWN: 2,
  PEER_DECONFIGURED: 3,
  ADMINISTRATIVE_RESET: 4,
  CONNECTION_REJECTED: 5,
  OTHER_CONFIGURATION_CHANGE: 6,
  CONNECTION_COLLISION_RESOLUTION: 7,
  OUT_OF_RESOURCES: 8,
  HARD_RESET: 9,
  BFD_DOWN: 10,
} as const;
export const ROUTE_REFRESH_ERROR_SUBCODE = { INVALID_MESSAGE_LENGTH: 1 } as const;

const CODE_NAMES: Record<number, string> = {
  1: 'Message Header Error',
  2: 'OPEN Message Error',
  3: 'UPDATE Message Error',
  4: 'Hold Timer Expired',
  5: 'Finite State Machine Error',
  6: 'Cease',
  7: 'ROUTE-REFRESH Message Error',
};
const SUBCODE_NAMES: Record<number, Record<number, string>> = {
  1: { 1: 'Connection Not Synchronized', 2: 'Bad Message Length', 3: 'Bad Message Type' },
  2: {
    1: 'Unsupported Version Number',
    2: 'Bad Peer AS',
    3: 'Bad BGP Identifier',
    4: 'Unsupported Optional Parameter',
    6: 'Unacceptable Hold Time',
    7: 'Unsupported Capability',
    11: 'Role Mismatch',
  },
  3: {
    1: 'Malformed Attribute List',
    2: 'Unrecognized Well-known Attribute',
    3: 'Missing Well-known Attribute',
    4: 'Attribute Flags Error',
    5: 'Attribute Length Error',
    6: 'Invalid ORIGIN Attribute',
    8: 'Invalid NEXT_HOP Attribute',
    9: 'Optional Attribute Error',
    10: 'Invalid Network Field',
    11: 'Malformed AS_PATH',
  },
  5: {
    1: 'Receive Unexpected Message in OpenSent State',
    2: 'Receive Unexpected Message in OpenConfirm State',
    3: 'Receive Unexpected Message in Established State',
  },
  6: {
    1: 'Maximum Number of Prefixes Reached',
    2: 'Administrative Shutdown',
    3: 'Peer De-configured',
    4: 'Administrative Reset',
    5: 'Connection Rejected',
    6: 'Other Configuration Change',
    7: 'Connection Collision Resolution',
    8: 'Out of Resources',
    9: 'Hard Reset',
    10: 'BFD Down',
  },
  7: { 1: 'Invalid Message Length' },
};

/** "Cease/Administrative Shutdown", "Hold Timer Expired", or "Error 9/1" for codes we do not know. */
export function notificationName(code: number, subcode: number): string {
  const codeName = CODE_NAMES[code];
  if (codeName === undefined) return `Error ${code}/${subcode}`;
  if (subcode === 0) return codeName;
  const sub = SUBCODE_NAMES[code]?.[subcode];
  return `${codeName}/${sub ?? `subcode ${subcode}`}`;
}

export interface BgpWireErrorInit {
  code: number;
  subcode: number;
  /** NOTIFICATION data to send. */
  data?: Uint8Array;
  action?: ErrorAction;
  /** Byte offset of the problem within the message (or stream). */
  offset?: number;
  afi?: number;
  safi?: number;
}

/**
 * A malformed message. `code`/`subcode`/`data` are the NOTIFICATION to send when `action` is
 * 'session-reset'; `afi`/`safi` are set for 'afi-safi-disable'.
 */
export class BgpWireError extends Error {
  readonly code: number;
  readonly subcode: number;
  readonly data: Uint8Array;
  readonly action: ErrorAction;
  readonly offset: number;
  readonly afi: number | undefined;
  readonly safi: number | undefined;

  constructor(message: string, init: BgpWireErrorInit) {
    super(message);
    this.name = 'BgpWireError';
    this.code = init.code;
    this.subcode = init.subcode;
    this.data = init.data ?? new Uint8Array(0);
    this.action = init.action ?? 'session-reset';
    this.offset = init.offset ?? 0;
    this.afi = init.afi;
    this.safi = init.safi;
  }

  /** Plain-data view, as printed by `bgp-announce decode`. */
  toJSON(): {
    type: 'ERROR';
    code: number;
    subcode: number;
    name: string;
    action: ErrorAction;
    message: string;
    offset: number;
    data: string;
  } {
    return {
      type: 'ERROR',
      code: this.code,
      subcode: this.subcode,
      name: notificationName(this.code, this.subcode),
      action: this.action,
      message: this.message,
      offset: this.offset,
      data: toHex(this.data),
    };
  }
}
