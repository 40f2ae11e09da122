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
export { MessageLog, describeMessage, type LoggedMessage, type DescribedMessage, type MessageDirection } from './session/message-log.js';
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
// allocation
export {
  Allocator,
  type AllocationFailure,
  type AllocationResult,
  type AllocationContext,
  type RestoreResult,
  type Assignment,
  type PoolUsage,
} from './controller/allocator.js';
export { isOurService, wantedFamilies, type ServiceClassOptions, type FamilyWish } from './controller/service-class.js';
export { parseIP, formatIP, canonicalIP, type IPFamily, type IPValue } from './controller/allocator-ip.js';
// config
export {
  validateConfig,
  acceptConfig,
  decideConfig,
  emptyConfig,
  problemsOf,
  CONFIG_KINDS,
  type ValidateOptions,
  type ConfigDecision,
} from './config/validate.js';
export { loadConfigFile, parseConfigText, readConfigDocuments, type ConfigDocuments } from './config/file.js';
export { SPEC_FIELDS, fieldPaths, type FieldTree } from './config/fields.js';
export { parseDuration, formatDuration } from './config/duration.js';
export { parseAddressRange, shortestCoveringPrefix } from './config/address.js';
export { PEER_DEFAULTS } from './config/validate-peer.js';
export { ADVERTISEMENT_DEFAULTS } from './config/validate-advertisement.js';
export { matchesSelector, matchesAny } from './config/selector.js';
export {
  API_GROUP,
  API_VERSION,
  API_GROUP_VERSION,
  ConfigError,
  formatProblem,
  type ConfigKind,
  type LabelSelector,
  type ServiceAllocation,
  type AddressRange,
  type IPAddressPool,
  type BGPPeer,
  type BGPAdvertisement,
  type StaticRoute,
  type AnnouncerConfig,
  type ConfigProblem,
  type KubeObject,
} from './config/types.js';
// announce plan
export {
  planAnnouncements,
  diffPlannedRoutes,
  peersOfNode,
  type PlanInput,
  type AnnouncePlan,
  type PlannedRoute,
  type RouteAttributesPlan,
  type ServicePlan,
} from './controller/announce-plan.js';
export { nodeExclusion, endpointServing, hasLocalEndpoint } from './controller/announce-plan-node.js';
// check
export {
  parseProcNetTcp,
  decodeProcAddress,
  decodeProcAddressBytes,
  readTcpSockets,
  formatEndpoint,
  TCP_STATES,
  type TcpSocket,
  type TcpStateName,
  type TcpTable,
  type TcpSocketTable,
} from './check/proc-net.js';
export { findSocketOwners, readProcessInfo, processName, describeProcess, isBgpAnnounce, nodeProcFs, type ProcessInfo, type ProcFs, type SocketOwners } from './check/proc-owners.js';
export { readNodeSockets, socketOwner, type NodeSockets, type SocketOwner, type ReadNodeSocketsOptions } from './check/node-sockets.js';
export {
  checkPort179,
  checkSourceCollision,
  findingsExitStatus,
  listenersOverlap,
  listenEndpoint,
  sameAddress,
  type Finding,
  type FindingStatus,
  type SourceCollisionOptions,
} from './check/checks.js';
export {
  checkOtherController,
  wroteLoadBalancerStatus,
  inPools,
  OUR_FIELD_MANAGERS,
  type ManagedFieldsEntry,
  type ServiceWithManagedFields,
  type OtherControllerInput,
} from './check/checks-services.js';
export { kernelSourceAddress, kernelSources } from './check/kernel-source.js';
export { DEFAULT_LOAD_BALANCER_CLASS } from './controller/model.js';
export { readClusterConfig, readNodeLabels, listServices, withDeadline, API_TIMEOUT_MS } from './check/cluster.js';
// daemon
export { startDaemon, resolveDaemonOptions, type RunningDaemon } from './daemon/daemon.js';
export {
  DEFAULT_METRICS_ADDRESS,
  DEFAULT_ADMIN_ADDRESS,
  DEFAULT_DRAIN_MS,
  DEFAULT_MESSAGE_HISTORY,
  PLACEHOLDER_LOCAL_AS,
  DaemonOptionError,
  parseListenAddress,
  formatListenAddress,
  isLoopback,
  defaultRouterId,
  type DaemonOptions,
  type ListenAddress,
} from './daemon/options.js';
export { createLogger, peerLogger, logSpeakerEvents, logBfdEngineErrors, notificationSummary, capabilityNames, type LoggerOptions } from './daemon/logger.js';
export { createDaemonMetrics, METRIC_PREFIX, SESSION_STATE_NUMBER, BFD_STATE_NUMBER, type DaemonMetrics, type MetricsSources } from './daemon/metrics.js';
export { startMetricsServer, EventLoopWatchdog, type RunningServer, type MetricsServerOptions } from './daemon/http.js';
export { startAdminServer, checkAdminAddress, DEFAULT_ROUTE_LIMIT, type AdminServerOptions } from './daemon/admin.js';
export { statusView, peerView, routesView, messagesView, type AdminContext, type StatusView, type PeerView, type RouteView, type RoutesView, type MessagesView } from './daemon/admin-views.js';
export { BfdHistory, type BfdHistoryEntry } from './daemon/bfd-history.js';
export { Shutdown, stopPlan, handleSignals, type ShutdownOptions, type ShutdownResult } from './daemon/shutdown.js';
export type { RouteSource, DaemonContext, PoolUsage as DaemonPoolUsage } from './daemon/source.js';
export type { PeerMessageCounters } from './speaker.js';
// kubernetes
export type { ObjectCache, CacheChange, CacheHealth } from './kube/cache.js';
export { KubeConnectError, loadKubeConfig, SERVICE_ACCOUNT_DIR, type KubeConnectOptions, type LoadedKubeConfig } from './kube/client.js';
export { errorText, statusCodeOf, silentLogger, withTimeout, ApiTimeoutError, type KubeLogger } from './kube/api-errors.js';
export {
  watchCache,
  backoffDelay,
  objectKey,
  type WatchCacheOptions,
  type WatchTuning,
  type BackoffOptions,
  type ListResult,
  type ListSelectors,
  type CachedObject,
} from './kube/informer.js';
export {
  watchServices,
  watchEndpointSlices,
  watchNodes,
  watchNamespaces,
  watchSecrets,
  watchConfigObjects,
  type Secret,
  type CustomObject,
  type StatusCondition,
  type ClusterConfigKind,
  type SelectorTuning,
} from './kube/watches.js';
export { LeaderElection, leaseExpired, microTime, type LeaderElectionOptions, type LeaderElectionEvents } from './kube/lease.js';
export { KubeConfigSource, ACCEPTED_CONDITION, PASSWORD_SECRET_TYPE, type ConfigSourceOptions, type ConfigSourceEvents } from './kube/config-source.js';
export { EventRecorder, REPORTING_CONTROLLER, type EventRecorderOptions, type EventType, type InvolvedObject } from './kube/events.js';

// sources of peers and routes for the daemon, and their parts
export { fileSource, hostAddresses, type FileSourceOptions, type FileSourceStatus } from './daemon/file-source.js';
export { kubernetesSource, type KubernetesSourceOptions, type KubernetesSourceStatus } from './kube/source.js';
export { NodeReconciler, type ReconcileInput } from './daemon/node-reconciler.js';
export { peerOptionsFor, applyPeers, GRACEFUL_RESTART_TIME, type PeerContext, type PeerChanges } from './daemon/peer-options.js';
export { announcementOf, RouteApplier } from './daemon/apply-routes.js';
export { AllocationController, type AllocationControllerOptions, type AllocationStatus, type EventSink } from './kube/allocation-controller.js';
export { NodeAnnouncer, type NodeAnnouncerOptions } from './kube/node-announcer.js';
export {
  ServiceWriter,
  ServiceGoneError,
  FIELD_MANAGER,
  ALLOCATED_CONDITION,
  nodeConditionType,
  ingressIps,
  setIngress,
  setCondition,
  removeCondition,
  setFinalizer,
  type Condition,
} from './kube/service-status.js';
