// Public API of @bgp-announce/announcer: see README.md. So far: the session core (FSM, OPEN policy,
// collision resolution) as pure functions; sockets, timers, RIBs and the Speaker come next.
export { peerConfig, type PeerConfig, type PeerConfigInput, type ConnectionMode, type GracefulRestartConfig } from './session/config.js';
export {
  buildOpen,
  checkOpen,
  cease,
  type NegotiatedSession,
  type OpenCheck,
  type PeerGracefulRestart,
} from './session/open-policy.js';
export {
  initialSession,
  transition,
  jitter,
  backoffMs,
  notificationOf,
  type FsmStateName,
  type FsmEvent,
  type FsmAction,
  type TimerName,
  type DownReason,
  type SocketError,
  type SessionState,
  type SessionCounters,
  type WireErrorLike,
} from './session/fsm.js';
export { resolveCollision, detectCollision, type ConnectionDirection } from './session/collision.js';
export {
  SessionDriver,
  addressInUseMessage,
  wireErrorEvent,
  type SessionDriverOptions,
  type TransportOptions,
  type SessionDriverEvents,
} from './session/driver.js';
export {
  socketOptionPlan,
  connectTransport,
  listenTransport,
  TransportSetupError,
  type TransportSecurity,
  type ConnectTarget,
  type SocketOptionPlan,
} from './session/transport.js';
export {
  retentionOnDown,
  familiesToFlush,
  restartLeave,
  withHardReset,
  notificationGraceful,
  RESTART_CEASE_SUBCODE,
  type Retention,
  type RestartLeave,
} from './session/graceful-restart.js';
export { systemClock, manualClock, type Clock, type ManualClock, type TimerHandle } from './session/clock.js';
export {
  routeKey,
  parseRouteKey,
  prefixFamily,
  normalizeAttributes,
  prependAsPath,
  GRACEFUL_SHUTDOWN,
  type RouteAttributes,
  type NormalRouteAttributes,
} from './rib/route.js';
export { RouteMap } from './rib/route-map.js';
export { applyBfdChange, bfdSessionOptions, type BfdChange, type BfdSessions, type PeerBfdOptions, type PeerBfd } from './speaker-bfd.js';
export {
  newAdjRibOut,
  diffAdjRibOut,
  allUpdates,
  routeRefreshUpdates,
  endOfRibUpdates,
  gracefulShutdownUpdates,
  adjRibOutCounts,
  advertised,
  DEFAULT_LOCAL_PREF,
  type AdjRibOut,
  type SendSession,
  type DesiredRoutes,
  type RibOutChanges,
} from './rib/adj-rib-out.js';
export {
  newAdjRibIn,
  applyUpdate,
  markStale,
  sweepStale,
  adjRibInCounts,
  adjRibInEntries,
  receivedRoute,
  type AdjRibIn,
  type AdjRibInConfig,
  type MaxPrefixLimit,
  type MaxPrefixAction,
  type MaxPrefixExceeded,
  type RibInResult,
  type RibInEntry,
} from './rib/adj-rib-in.js';
export {
  Speaker,
  MalformedUpdateError,
  type SpeakerOptions,
  type SpeakerEvents,
  type PeerStatus,
  type AdvertisedRoute,
  type SpeakerStopOptions,
  type StaleRemovalReason,
  type AnnounceAttributes,
  type Announcement,
  type PeerOptions,
  type PeerRoutePolicy,
} from './speaker.js';
