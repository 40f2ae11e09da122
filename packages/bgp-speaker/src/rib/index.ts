// @bgp-announce/bgp-speaker/rib: route keys and attribute sets, the packed route map, and the
// per-peer Adj-RIB-Out (what we advertised) and Adj-RIB-In (what the peer sent, kept for inspection).
export {
  routeKey,
  parseRouteKey,
  prefixFamily,
  normalizeAttributes,
  prependAsPath,
  GRACEFUL_SHUTDOWN,
  type RouteAttributes,
  type NormalRouteAttributes,
} from './route.js';
export { RouteMap } from './route-map.js';
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
} from './adj-rib-out.js';
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
} from './adj-rib-in.js';
export { hasAsLoop } from './as-loop.js';
