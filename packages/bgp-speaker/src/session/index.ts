// @bgp-announce/bgp-speaker/session: one BGP session. The RFC 4271 FSM, OPEN policy, collision
// resolution and graceful-restart decisions as pure functions; the driver and transport at the I/O edge.
export {
  peerConfig,
  type PeerConfig,
  type PeerConfigInput,
  type ConnectionMode,
  type GracefulRestartConfig,
} from './config.js';
export {
  buildOpen,
  checkOpen,
  cease,
  type NegotiatedSession,
  type OpenCheck,
  type PeerGracefulRestart,
} from './open-policy.js';
export {
  initialSession,
  transition,
  jitter,
  backoffMs,
  reconnectMs,
  notificationOf,
  type FsmStateName,
  type FsmEvent,
  type FsmAction,
  type TimerName,
  type SessionState,
  type SessionCounters,
  type WireErrorLike,
} from './fsm.js';
export type { DownReason, SocketError } from './down-reason.js';
export { notificationFailureKind, automaticStopFailureKind, type FailureKind } from './failure-kind.js';
export { resolveCollision, detectCollision, type ConnectionDirection } from './collision.js';
export {
  SessionDriver,
  addressInUseMessage,
  wireErrorEvent,
  type SessionDriverOptions,
  type TransportOptions,
  type SessionDriverEvents,
} from './driver.js';
export {
  socketOptionPlan,
  connectTransport,
  listenTransport,
  TransportSetupError,
  type TransportSecurity,
  type ConnectTarget,
  type SocketOptionPlan,
} from './transport.js';
export {
  retentionOnDown,
  familiesToFlush,
  restartLeave,
  withHardReset,
  notificationGraceful,
  RESTART_CEASE_SUBCODE,
  type Retention,
  type RestartLeave,
} from './graceful-restart.js';
export {
  MessageLog,
  describeMessage,
  type LoggedMessage,
  type DescribedMessage,
  type MessageDirection,
} from './message-log.js';
export { systemClock, manualClock, type Clock, type ManualClock, type TimerHandle } from './clock.js';
export { notificationSummary, capabilityNames } from './describe.js';
