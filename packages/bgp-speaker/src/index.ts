// Public API of @bgp-announce/bgp-speaker: the Speaker (peers, announcements per peer, Adj-RIBs, BFD,
// graceful restart), its types, the clock, and the printable forms of what it holds. The session
// internals are under ./session, the RIBs under ./rib. See README.md.
export {
  Speaker,
  MalformedUpdateError,
  type SpeakerOptions,
  type SpeakerEvents,
  type PeerStatus,
  type PeerMessageCounters,
  type AdvertisedRoute,
  type SpeakerStopOptions,
  type StaleRemovalReason,
  type AnnounceAttributes,
  type Announcement,
  type PeerOptions,
  type PeerRoutePolicy,
} from './speaker.js';
export {
  sameOptions as samePeerOptions,
  linkBandwidthCommunity,
  type LinkBandwidth,
} from './speaker-peer.js';
export {
  applyBfdChange,
  bfdSessionOptions,
  type BfdChange,
  type BfdSessions,
  type PeerBfdOptions,
  type PeerBfd,
} from './speaker-bfd.js';
export {
  peerConfig,
  type PeerConfig,
  type PeerConfigInput,
  type ConnectionMode,
  type GracefulRestartConfig,
} from './session/config.js';
export type { TransportOptions } from './session/driver.js';
export type { TransportSecurity } from './session/transport.js';
export type { NegotiatedSession } from './session/open-policy.js';
export type { FsmStateName, SessionCounters } from './session/fsm.js';
export type { DownReason } from './session/down-reason.js';
export type { FailureKind } from './session/failure-kind.js';
export type { DescribedMessage, LoggedMessage, MessageDirection } from './session/message-log.js';
export { systemClock, manualClock, type Clock, type ManualClock, type TimerHandle } from './session/clock.js';
export { notificationSummary, capabilityNames } from './session/describe.js';
export { printableAdvertised, printableReceived, type PrintableRoute } from './printable-route.js';
export { GRACEFUL_SHUTDOWN, type RouteAttributes, type NormalRouteAttributes } from './rib/route.js';
export type { RibInEntry } from './rib/adj-rib-in.js';
