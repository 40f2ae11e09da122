// Typed models of BGP-4 messages. Plain data: what decode returns and encode takes.
// Names follow the RFCs; the JSON printed by `bgp-announce decode` is these objects.

/** Address family identifiers (IANA). */
export const AFI = { IPV4: 1, IPV6: 2 } as const;
/** Subsequent address family identifiers (IANA). */
export const SAFI = { UNICAST: 1, MULTICAST: 2 } as const;

/** The families whose NLRI this codec decodes into prefixes. Others are kept raw. */
export type Family = 'ipv4-unicast' | 'ipv6-unicast';

export const MESSAGE_TYPE = {
  OPEN: 1,
  UPDATE: 2,
  NOTIFICATION: 3,
  KEEPALIVE: 4,
  ROUTE_REFRESH: 5,
} as const;

/** Size of the fixed header: 16-byte marker, 2-byte length, 1-byte type. */
export const HEADER_LENGTH = 19;
/** RFC 4271 maximum message size. */
export const MAX_MESSAGE_LENGTH = 4096;
/** RFC 8654 maximum message size once the extended message capability is negotiated. */
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;

/**
 * What the session negotiated, which changes how bytes are read and written.
 * Every field is optional; the defaults are a modern session (4-octet AS, no ADD-PATH, 4096 bytes).
 */
export interface CodecContext {
  /**
   * AS numbers in AS_PATH/AGGREGATOR are 4 octets (both ends sent the 4-octet AS capability). Default
   * true. AS4_PATH and AS4_AGGREGATOR are then discarded on decode (RFC 6793 4.1).
   */
  fourOctetAs?: boolean;
  /** Families whose NLRI carry a 4-byte ADD-PATH path identifier (RFC 7911) in this direction. */
  addPath?: readonly Family[];
  /** Largest message accepted or produced: 4096, or 65535 with RFC 8654. Default 4096. */
  maxMessageLength?: number;
  /**
   * The session is iBGP: an UPDATE carrying NLRI without LOCAL_PREF is then missing a well-known
   * attribute (RFC 4271 5.1.5). Default false.
   */
  ibgp?: boolean;
}

// ---------------------------------------------------------------------------------------------
// NLRI

/** One prefix, as in `{prefix: "203.0.113.0/24"}`; `pathId` only where ADD-PATH applies. */
export interface Nlri {
  prefix: string;
  pathId?: number;
}

// ---------------------------------------------------------------------------------------------
// OPEN and capabilities

interface AfiSafi {
  afi: number;
  safi: number;
}

export interface MultiprotocolCapability extends AfiSafi {
  code: 1;
  name: 'multiprotocol';
}
export interface RouteRefreshCapability {
  code: 2;
  name: 'route-refresh';
}
export interface ExtendedNextHopCapability {
  code: 5;
  name: 'extended-next-hop';
  /** RFC 8950: NLRI of (afi, safi) may carry a next hop of family nextHopAfi. */
  families: { afi: number; safi: number; nextHopAfi: number }[];
}
export interface ExtendedMessageCapability {
  code: 6;
  name: 'extended-message';
}
export interface GracefulRestartCapability {
  code: 64;
  name: 'graceful-restart';
  /** R bit: the sender has restarted. */
  restarting: boolean;
  /** N bit (RFC 8538): graceful restart also applies to NOTIFICATION messages. */
  notification: boolean;
  /** Seconds, 0-4095. */
  restartTime: number;
  families: { afi: number; safi: number; forwardingState: boolean }[];
}
export interface FourOctetAsCapability {
  code: 65;
  name: 'four-octet-as';
  asn: number;
}
export type AddPathDirection = 'receive' | 'send' | 'both';
export interface AddPathCapability {
  code: 69;
  name: 'add-path';
  /** sendReceive is a number when the peer sent a value RFC 7911 does not define. */
  families: { afi: number; safi: number; sendReceive: AddPathDirection | number }[];
}
export interface EnhancedRouteRefreshCapability {
  code: 70;
  name: 'enhanced-route-refresh';
}
export interface LongLivedGracefulRestartCapability {
  code: 71;
  name: 'long-lived-graceful-restart';
  /** staleTime in seconds (24 bits). */
  families: { afi: number; safi: number; forwardingState: boolean; staleTime: number }[];
}
export interface FqdnCapability {
  code: 73;
  name: 'fqdn';
  hostname: string;
  domainName: string;
}
/** Any capability this codec does not decode (or one of ours with a value we do not model), kept byte for byte. */
export interface UnknownCapability {
  code: number;
  /** A known name for the code where there is one (e.g. "route-refresh-cisco"), else "unknown". */
  name: string;
  hex: string;
}

export type Capability =
  | MultiprotocolCapability
  | RouteRefreshCapability
  | ExtendedNextHopCapability
  | ExtendedMessageCapability
  | GracefulRestartCapability
  | FourOctetAsCapability
  | AddPathCapability
  | EnhancedRouteRefreshCapability
  | LongLivedGracefulRestartCapability
  | FqdnCapability
  | UnknownCapability;

/**
 * How an OPEN laid its capabilities out in optional parameters. Decode fills it in so that encode
 * reproduces the input byte for byte; leave it out to get the canonical layout (all capabilities in
 * one parameter; RFC 9072 extended lengths only when they do not fit in 255 bytes).
 */
export interface OpenLayout {
  /** How many capabilities each capabilities parameter (type 2) held, in order. */
  groups: number[];
  /** RFC 9072 extended optional parameters length was used. */
  extended: boolean;
  /**
   * Optional parameters other than capabilities (type != 2), kept raw, in wire order. `afterGroups` is
   * how many capabilities parameters (entries of `groups`) come before one; without it, it comes after
   * all of them.
   */
  otherParameters?: { type: number; hex: string; afterGroups?: number }[];
  /**
   * The reserved octet of multiprotocol capabilities (RFC 4760 8: sent as 0, ignored on receipt) where
   * it was not 0, by index in `capabilities`.
   */
  multiprotocolReserved?: Record<number, number>;
}

export interface OpenMessage {
  type: 'OPEN';
  length?: number;
  version: number;
  /** The 2-octet My Autonomous System field (AS_TRANS 23456 when the real AS needs 4 octets). */
  myAs: number;
  holdTime: number;
  bgpId: string;
  capabilities: Capability[];
  layout?: OpenLayout;
}

// ---------------------------------------------------------------------------------------------
// UPDATE and path attributes

export type Origin = 'igp' | 'egp' | 'incomplete';
export type AsPathSegmentType = 'AS_SET' | 'AS_SEQUENCE' | 'AS_CONFED_SEQUENCE' | 'AS_CONFED_SET';
export interface AsPathSegment {
  type: AsPathSegmentType;
  asns: number[];
}

export interface Aggregator {
  asn: number;
  address: string;
}

/**
 * An extended community (RFC 4360). `hex` is always the full 8 bytes; the typed fields are set for the
 * kinds this codec understands (route target, route origin) and win over `hex` when encoding.
 */
export interface ExtendedCommunity {
  /** Type high octet, with the IANA authority (0x80) and transitive (0x40) bits. */
  type: number;
  subtype: number;
  name?: 'route-target' | 'route-origin' | 'link-bandwidth';
  /** Global administrator for 2-/4-octet AS specific kinds. */
  asn?: number;
  /** Global administrator for IPv4 address specific kinds. */
  address?: string;
  /** Local administrator. */
  value?: number;
  /**
   * Link bandwidth (RFC 10005, subtype 0x04 of type 0x00 or 0x40) in bytes per second: the local
   * administrator read as an IEEE 754 single-precision number (as sent, even if negative or NaN).
   */
  bandwidth?: number;
  hex: string;
}

export interface MpReach {
  afi: number;
  safi: number;
  /**
   * Next hops as addresses: one (IPv4, or IPv6 global) or two (IPv6 global and link-local).
   * Absent for families this codec does not decode; see nextHopHex.
   */
  nextHops?: string[];
  nlri?: Nlri[];
  /** Raw next hop and NLRI of families this codec does not decode. */
  nextHopHex?: string;
  nlriHex?: string;
}

export interface MpUnreach {
  afi: number;
  safi: number;
  withdrawn?: Nlri[];
  withdrawnHex?: string;
}

export interface UnknownAttribute {
  code: number;
  /** Flags as received, including the partial bit (0x20). */
  flags: number;
  hex: string;
}

export interface PathAttributes {
  origin?: Origin;
  asPath?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: Aggregator;
  communities?: string[];
  originatorId?: string;
  clusterList?: string[];
  mpReach?: MpReach;
  mpUnreach?: MpUnreach;
  extendedCommunities?: ExtendedCommunity[];
  /** RFC 6793 AS4_PATH: decoded only on a 2-octet session (ctx.fourOctetAs false); see reconcileAsPath. */
  as4Path?: AsPathSegment[];
  /** RFC 6793 AS4_AGGREGATOR: decoded only on a 2-octet session, like as4Path. */
  as4Aggregator?: Aggregator;
  largeCommunities?: string[];
  unknown?: UnknownAttribute[];
}

/**
 * How an UPDATE laid its attributes out. Decode fills it in when the input is not canonical, so that
 * encode reproduces the input byte for byte; leave it out for the canonical layout (MP_REACH_NLRI and
 * MP_UNREACH_NLRI first as RFC 7606 5.1 asks, then ascending type code; standard flags; extended
 * length only where the value exceeds 255 bytes).
 */
export interface UpdateLayout {
  /** Attribute type codes in wire order. */
  order: number[];
  /** Flags of attributes whose flags differ from the canonical ones, by type code. */
  flags?: Record<number, number>;
}

export type ErrorAction = 'session-reset' | 'afi-safi-disable' | 'treat-as-withdraw' | 'attribute-discard';

/** A non-fatal problem found in an UPDATE, handled per RFC 7606 (the fatal ones throw BgpWireError). */
export interface UpdateError {
  action: 'treat-as-withdraw' | 'attribute-discard';
  code: number;
  subcode: number;
  /** Hex of the NOTIFICATION data the error would carry (usually the offending attribute). */
  data: string;
  /** Type code of the attribute at fault, when there is one. */
  attribute?: number;
  message: string;
  /** Byte offset within the message. */
  offset: number;
}

export interface UpdateMessage {
  type: 'UPDATE';
  length?: number;
  withdrawn: Nlri[];
  attributes: PathAttributes;
  nlri: Nlri[];
  /** Set when the UPDATE is an End-of-RIB marker (RFC 4724) for this family. */
  endOfRib?: { afi: number; safi: number };
  /**
   * RFC 7606 problems found while decoding. When any has action 'treat-as-withdraw', every prefix in
   * nlri and attributes.mpReach.nlri must be handled as withdrawn. Attributes with action
   * 'attribute-discard' have already been left out of `attributes`.
   */
  errors?: UpdateError[];
  /**
   * How many prefixes (in withdrawn, nlri, MP_REACH_NLRI and MP_UNREACH_NLRI) had bits set past their
   * prefix length. RFC 4271 4.3 makes their value irrelevant, so they are cleared in `prefix` (the same
   * route reads the same however it was sent) and this is no error; absent when there were none.
   * Encoding writes them as zero, so such a message does not re-encode byte for byte.
   */
  trailingBitsCleared?: number;
  layout?: UpdateLayout;
}

// ---------------------------------------------------------------------------------------------
// NOTIFICATION, KEEPALIVE, ROUTE-REFRESH

export interface NotificationMessage {
  type: 'NOTIFICATION';
  length?: number;
  code: number;
  subcode: number;
  /** e.g. "Cease/Administrative Shutdown"; filled by decode, ignored by encode. */
  name?: string;
  /** Hex of the data field. When encoding, wins over shutdownMessage. */
  data?: string;
  /** RFC 9003 shutdown communication (Cease, subcodes 2 and 4). */
  shutdownMessage?: string;
}

export interface KeepaliveMessage {
  type: 'KEEPALIVE';
  length?: number;
}

/** RFC 7313 message subtypes: 0 normal request, 1 Beginning of Route Refresh, 2 End of Route Refresh. */
export const ROUTE_REFRESH_SUBTYPE = { REQUEST: 0, BORR: 1, EORR: 2 } as const;

export interface RouteRefreshMessage {
  type: 'ROUTE-REFRESH';
  length?: number;
  afi: number;
  safi: number;
  subtype: number;
  /** Anything after the 4 fixed bytes (RFC 5291 ORF entries), kept raw. */
  orfHex?: string;
}

export type BgpMessage = OpenMessage | UpdateMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage;
export type BgpMessageType = BgpMessage['type'];
