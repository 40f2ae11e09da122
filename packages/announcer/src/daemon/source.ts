// The contract between the daemon (speaker, BFD engine, logs, metrics, admin endpoint, shutdown) and
// where its peers and routes come from: the Kubernetes controller, or a config file on hosts without
// Kubernetes. A source turns its input into BGP peers and announcements on the daemon's Speaker.
import type { Logger } from 'pino';
import type { Speaker } from '@bgp-announce/bgp-speaker';
import type { HealthCheckView } from '../health/health-monitor.js';
import type { HealthStatus } from '../health/health-state.js';

/** One pool's usage per family (the allocator's PoolUsage), for the pool usage metric. */
export type { PoolUsage } from '../allocation/allocator.js';
import type { PoolUsage } from '../allocation/allocator.js';

/** What the daemon hands a source. */
export interface DaemonContext {
  nodeName: string;
  speaker: Speaker;
  logger: Logger;
  /** A reconcile (plan + apply) took this long: the reconcile latency histogram. */
  observeReconcile(seconds: number, result: 'ok' | 'error'): void;
  /** The allocator's pools (leader only; others never call it). */
  setPoolUsage(usage: readonly PoolUsage[]): void;
  /**
   * The configuration objects rejected now, by kind (a kind absent counts 0): called after every
   * evaluation of the configuration, with {} once one is accepted. Optional for older callers.
   */
  setRejectedConfigObjects?(byKind: Readonly<Record<string, number>>): void;
  /**
   * Registers what the leader knows of who announces its Services, read on each scrape: one entry per
   * Service of our class that has an address (an empty list when not leading). Optional for older callers.
   */
  readAnnouncingNodes?(read: () => readonly ServiceAnnouncers[]): void;
  /** Registers the health checks of the StaticRoutes, read on each scrape. Optional for older callers. */
  readHealthChecks?(read: () => readonly HealthCheckView[]): void;
  /** A health check's status changed (the transitions counter). Optional for older callers. */
  observeHealthChange?(route: string, to: HealthStatus): void;
}

/** How many nodes announce one Service's addresses (the leader's aggregate of the BGPNodeStates). */
export interface ServiceAnnouncers {
  namespace: string;
  service: string;
  nodes: number;
}

export interface RouteSource {
  /** Starts watching its input and applying peers and routes to ctx.speaker as they change. */
  start(ctx: DaemonContext): Promise<void>;
  /** True once the first good configuration (and for Kubernetes, the first list of every watched kind) is applied. */
  ready(): boolean;
  /** Plain JSON for the admin endpoint: the configuration, the Services, and why each is or is not announced. */
  status(): unknown;
  /** Stops watching. Peers and routes stay on the Speaker: the daemon's shutdown decides about them. */
  stop(): Promise<void>;
}
