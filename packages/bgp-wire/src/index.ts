// Public API of @bgp-announce/bgp-wire: see README.md.
export * from './types.js';
export * from './errors.js';
export {
  readHeader,
  writeHeader,
  splitMessages,
  MessageFramer,
  type MessageHeader,
  type FramerOutput,
} from './framing.js';
export { decodeMessage, encodeMessage } from './message.js';
export { toHex, fromHex } from './bytes.js';
export { formatIpv4, formatIpv6, parseIp, isIpv4, isIpv6 } from './ip.js';
export { familyOf, decodePrefixes, writePrefix, prefixEncodingLength, type PrefixTally } from './nlri.js';
export { decodeOpen, encodeOpen, effectiveAsn, findCapability, findCapabilities, BGP_VERSION } from './open.js';
export {
  CAPABILITY_CODE,
  capabilityName,
  isRawCapability,
  decodeCapabilities,
  capabilityEncodingLength,
  writeCapability,
  type TypedCapability,
} from './capabilities.js';
export { decodeUpdate, encodeUpdate, endOfRib, isTreatAsWithdraw } from './update.js';
export {
  decodePackedPrefixes,
  packedNlriList,
  packedPrefixText,
  packedPathId,
  IPV4_STRIDE,
  IPV6_STRIDE,
  type PackedNlri,
} from './packed-nlri.js';
export {
  decodeUpdatePacked,
  unpackUpdate,
  unpackAttributes,
  updateView,
  type PackedUpdateMessage,
  type PackedPathAttributes,
  type PackedMpReach,
  type PackedMpUnreach,
} from './packed-update.js';
export { packUpdates, type PackInput } from './pack.js';
export { ATTR, ATTR_FLAG, ATTRIBUTE_NAMES } from './attributes.js';
export {
  AS_TRANS,
  asPathLength,
  asPathToString,
  reconcileAsPath,
  reconcileAttributes,
  toTwoOctetAsPath,
  toTwoOctetAttributes,
} from './as-path.js';
export {
  WELL_KNOWN_COMMUNITIES,
  type WellKnownCommunityName,
  communityName,
  formatCommunity,
  formatExtendedCommunity,
  linkBandwidth,
  parseCommunity,
  parseExtendedCommunity,
  parseLargeCommunity,
  routeOrigin,
  routeTarget,
} from './communities.js';
export { decodeNotification, encodeNotification, MAX_SHUTDOWN_MESSAGE_LENGTH } from './notification.js';
export { decodeRouteRefresh, encodeRouteRefresh } from './route-refresh.js';
