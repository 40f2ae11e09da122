// Public API of @bgp-announce/announcer, what a Kubernetes load-balancer controller needs: config
// objects and their validation, the IP allocator and the announce plan (pure), the daemon and its
// sources (Kubernetes, config file), the node checks. The BGP speaker itself is
// @bgp-announce/bgp-speaker. See README.md.
// allocation
export {
  Allocator,
  type AllocationFailure,
  type AllocationResult,
  type AllocationContext,
  type RestoreResult,
  type Assignment,
  type PoolUsage,
} from './allocation/allocator.js';
export { isOurService, wantedFamilies, type ServiceClassOptions, type FamilyWish } from './service/service-class.js';
export {
  ANNOTATION,
  EXCLUDE_LABEL,
  CLEANUP_FINALIZER,
  DEFAULT_LOAD_BALANCER_CLASS,
  serviceKey,
  type Service,
  type ServicePort,
  type EndpointSlice,
  type Node,
  type Namespace,
  type ObjectMeta,
} from './service/model.js';
export { METALLB_ANNOTATIONS, annotationKeys, readServiceAnnotation } from './service/annotations.js';
export { parseIP, formatIP, canonicalIP, type IPFamily, type IPValue } from './allocation/allocator-ip.js';
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
  type WeightedECMP,
  type StaticRoute,
  type HealthCheck,
  type AnnouncerConfig,
  type ConfigProblem,
  type KubeObject,
} from './config/types.js';
// import of MetalLB's configuration (`bgp-announce import metallb`)
export { importMetalLB, METALLB_KINDS, type MetalLBKind } from './import/metallb-import.js';
export { formatImportReport, objectsYaml, objectFileName } from './import/metallb-report.js';
export { readMetalLBFromCluster, MetalLBClusterError, type ReadMetalLBOptions } from './import/metallb-cluster.js';
export {
  METALLB_GROUP,
  DEFAULT_METALLB_NAMESPACE,
  DEFAULT_TARGET_NAMESPACE,
  type MetalLBDocument,
  type ImportNote,
  type ImportProblem,
  type MetalLBImportResult,
  type MetalLBImportOptions,
} from './import/metallb-types.js';
// announce plan
export {
  planAnnouncements,
  diffPlannedRoutes,
  peersOfNode,
  NO_ENDPOINT,
  NO_LOCAL_ENDPOINT,
  type PlanInput,
  type AnnouncePlan,
  type PlannedRoute,
  type RouteAttributesPlan,
  type ServicePlan,
} from './plan/announce-plan.js';
export {
  nodeExclusion,
  endpointServing,
  hasLocalEndpoint,
  hasServingEndpoint,
  localEndpointCount,
} from './plan/announce-plan-node.js';
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
export {
  findSocketOwners,
  readProcessInfo,
  processName,
  describeProcess,
  isBgpAnnounce,
  nodeProcFs,
  type ProcessInfo,
  type ProcFs,
  type SocketOwners,
} from './check/proc-owners.js';
export {
  readNodeSockets,
  socketOwner,
  type NodeSockets,
  type SocketOwner,
  type ReadNodeSocketsOptions,
} from './check/node-sockets.js';
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
export {
  createLogger,
  peerLogger,
  logSpeakerEvents,
  logBfdEngineErrors,
  notificationSummary,
  capabilityNames,
  type LoggerOptions,
} from './daemon/logger.js';
export {
  createDaemonMetrics,
  METRIC_PREFIX,
  SESSION_STATE_NUMBER,
  BFD_STATE_NUMBER,
  type DaemonMetrics,
  type MetricsSources,
} from './daemon/metrics.js';
export {
  startMetricsServer,
  EventLoopWatchdog,
  type RunningServer,
  type MetricsServerOptions,
  type ServeOptions,
} from './daemon/http.js';
export {
  DEFAULT_HTTP_LIMITS,
  resolveHttpLimits,
  createBoundedServer,
  type HttpLimits,
  type ConnectionStats,
  type BoundedServer,
} from './daemon/http-limits.js';
export { startAdminServer, checkAdminAddress, DEFAULT_ROUTE_LIMIT, type AdminServerOptions } from './daemon/admin.js';
export {
  statusView,
  peerView,
  routesView,
  messagesView,
  type AdminContext,
  type StatusView,
  type PeerView,
  type RouteView,
  type RoutesView,
  type MessagesView,
} from './daemon/admin-views.js';
export { BfdHistory, type BfdHistoryEntry } from './daemon/bfd-history.js';
export { Shutdown, stopPlan, handleSignals, type ShutdownOptions, type ShutdownResult } from './daemon/shutdown.js';
export {
  readRestartState,
  writeRestartState,
  clearRestartState,
  RestartRecorder,
  RESTART_STATE_FILE,
  type RestartRecord,
  type RestartCheck,
  type RestartRecorderOptions,
} from './daemon/restart-state.js';
export type {
  RouteSource,
  DaemonContext,
  PoolUsage as DaemonPoolUsage,
  ServiceAnnouncers,
} from './daemon/source.js';
// kubernetes
export type { ObjectCache, CacheChange, CacheHealth } from './kube/cache.js';
export {
  KubeConnectError,
  loadKubeConfig,
  userAgentOf,
  SERVICE_ACCOUNT_DIR,
  type KubeConnectOptions,
  type LoadedKubeConfig,
} from './kube/client.js';
export {
  errorText,
  statusCodeOf,
  silentLogger,
  withTimeout,
  ApiTimeoutError,
  type KubeLogger,
} from './kube/api-errors.js';
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
  watchNodeStates,
  type Secret,
  type CustomObject,
  type StatusCondition,
  type ClusterConfigKind,
  type SelectorTuning,
} from './kube/watches.js';
export {
  LeaderElection,
  leaseExpired,
  microTime,
  type LeaderElectionOptions,
  type LeaderElectionEvents,
} from './kube/lease.js';
export {
  KubeConfigSource,
  ACCEPTED_CONDITION,
  PASSWORD_SECRET_TYPE,
  type ConfigSourceOptions,
  type ConfigSourceEvents,
} from './kube/config-source.js';
export {
  EventRecorder,
  REPORTING_CONTROLLER,
  type EventRecorderOptions,
  type EventType,
  type InvolvedObject,
} from './kube/events.js';

// sources of peers and routes for the daemon, and their parts
export { fileSource, hostAddresses, type FileSourceOptions, type FileSourceStatus } from './daemon/file-source.js';
export { kubernetesSource, type KubernetesSourceOptions, type KubernetesSourceStatus } from './kube/source.js';
export { NodeReconciler, type ReconcileInput } from './daemon/node-reconciler.js';
export {
  peerOptionsFor,
  applyPeers,
  GRACEFUL_RESTART_TIME,
  GRACEFUL_SHUTDOWN_COMMUNITY,
  type PeerContext,
  type PeerChanges,
} from './daemon/peer-options.js';
export { announcementOf, RouteApplier } from './daemon/apply-routes.js';
export {
  AllocationController,
  type AllocationControllerOptions,
  type AllocationStatus,
  type EventSink,
} from './kube/allocation-controller.js';
export { NodeAnnouncer, type NodeAnnouncerOptions } from './kube/node-announcer.js';
export {
  buildNodeStatus,
  nodeStateObject,
  nodeFreeReason,
  sameStatus,
  canonicalJson,
  NODE_STATE_KIND,
  NODE_STATE_PLURAL,
  MAX_LISTED_SERVICES,
  MAX_LISTED_BYTES,
  MAX_REASON_LENGTH,
  type BGPNodeState,
  type NodeStateStatus,
  type NodeSessionState,
  type AnnouncedService,
  type NotAnnouncedService,
  type NodeStateInput,
} from './kube/node-state.js';
export { NodeStateWriter, type NodeStateWriterOptions, type NodeStateWriterStats } from './kube/node-state-writer.js';
export {
  readClusterStatus,
  type ClusterStatus,
  type ClusterStatusOptions,
  type NodeStateView,
  type ServiceStatusView,
  type ConditionView,
} from './kube/cluster-status.js';
export {
  NodeStateIndex,
  ANNOUNCED_CONDITION,
  LEGACY_NODE_CONDITION_PREFIX,
  NAMES_IN_MESSAGE,
  removeLegacyConditions,
  messageOnlyChange,
  type IndexChange,
} from './kube/announced-aggregate.js';
export {
  ServiceWriter,
  ServiceGoneError,
  FIELD_MANAGER,
  ALLOCATED_CONDITION,
  ingressIps,
  setIngress,
  setCondition,
  removeCondition,
  setFinalizer,
  type Condition,
} from './kube/service-status.js';
// health checks of StaticRoutes (the API server's VIP)
export {
  HealthChecks,
  describeTarget,
  probeTarget,
  type HealthCheckView,
  type HealthChange,
  type Probe,
} from './health/health-monitor.js';
export { probe, type ProbeTarget } from './health/health-probe.js';
export {
  afterProbe,
  afterTime,
  initialHealth,
  type HealthState,
  type HealthStatus,
  type HealthThresholds,
  type ProbeResult,
} from './health/health-state.js';
export { HEALTH_CHECK_DEFAULTS, parseHostPort } from './config/validate-health-check.js';
