// One node's announcer under Kubernetes: it reads the watched Services, EndpointSlices and its own
// Node, plans what this node announces (announce-plan.ts), applies it to the Speaker through the
// NodeReconciler, and reports what it announces, to which peers, why not, and its sessions in this
// node's BGPNodeState (node-state.ts, written by node-state-writer.ts: this node's own object only,
// at most once a second). It never writes Services: the leader aggregates the nodes' reports into one
// condition per Service. Watch trouble never withdraws routes: the caches keep their last state while
// they re-list, and only real changes reach the plan.
import type { ObjectCache } from './cache.js';
import type { AnnouncerConfig } from '../config/types.js';
import { Allocator } from '../allocation/allocator.js';
import { isOurService, type ServiceClassOptions } from '../service/service-class.js';
import { sliceServiceKey, type EndpointSlice, type Node, type Service } from '../service/model.js';
import type { ServicePlan } from '../plan/announce-plan.js';
import { NodeReconciler, type ReconcileInput } from '../daemon/node-reconciler.js';
import { mergeLocalConfig } from '../config/merge.js';
import type { HealthCheckView } from '../health/health-monitor.js';
import type { DaemonContext } from '../daemon/source.js';
import { buildNodeStatus, type NodeStateStatus } from './node-state.js';
import { NodeStateWriter, type NodeStateWriterOptions } from './node-state-writer.js';

export interface NodeAnnouncerOptions {
  services: ObjectCache<Service>;
  endpointSlices: ObjectCache<EndpointSlice>;
  /** This node only. */
  nodes: ObjectCache<Node>;
  serviceClass: ServiceClassOptions;
  /** Where and how to write this node's BGPNodeState; without it none is written. */
  nodeState?: Omit<NodeStateWriterOptions, 'nodeName' | 'nodeUid' | 'compute' | 'logger'>;
  /**
   * A local configuration (`daemon --local-config`) merged into the cluster's, local objects first
   * (config/merge.ts). It is planned from the start, before the API server answers and while it is
   * down: its peers and StaticRoutes (the API server's VIP) need nothing from Kubernetes.
   */
  localConfig?: AnnouncerConfig;
}

/** The Speaker events after which this node's BGPNodeState may say something new. */
const SESSION_EVENTS = ['peerState', 'established', 'down', 'bfd', 'routesReceived', 'staleRoutesRemoved'] as const;

export class NodeAnnouncer {
  private config: AnnouncerConfig | undefined;
  private pools: Allocator | undefined;
  private readonly reconciler: NodeReconciler;
  private readonly stateWriter: NodeStateWriter | undefined;
  private stopped = false;
  /** The last merge warnings logged (so a reconcile logs them once). */
  private mergeWarnings = '';
  /** Every cache has its first list: before that a plan would see half the cluster (slices missing: Local Services "not announced"). */
  private synced = false;
  private readonly onChange = (): void => void this.reconcile();
  private readonly onSession = (): void => this.stateWriter?.request();

  constructor(
    private readonly ctx: DaemonContext,
    private readonly options: NodeAnnouncerOptions,
  ) {
    this.reconciler = new NodeReconciler(ctx, () => this.input());
    if (options.nodeState) {
      this.stateWriter = new NodeStateWriter({
        ...options.nodeState,
        nodeName: ctx.nodeName,
        logger: ctx.logger,
        nodeUid: () => options.nodes.get(ctx.nodeName)?.metadata?.uid,
        compute: (previous) => this.nodeStatus(previous),
      });
    }
  }

  /** A new good configuration. */
  setConfig(config: AnnouncerConfig): void {
    this.config = config;
    if (this.pools) this.pools.setPools(config.pools);
    else this.pools = new Allocator(config.pools);
    void this.reconcile();
  }

  async start(): Promise<void> {
    const { services, endpointSlices, nodes } = this.options;
    // The local configuration does not wait for the API server.
    if (this.options.localConfig !== undefined) await this.reconcile();
    await Promise.all([services.synced(), endpointSlices.synced(), nodes.synced()]);
    this.synced = true;
    for (const c of [services, endpointSlices, nodes] as ObjectCache<unknown>[]) c.on('change', this.onChange);
    await this.reconcile();
    if (this.stateWriter && !this.stopped) {
      for (const e of SESSION_EVENTS) this.ctx.speaker.on(e, this.onSession);
      // Not awaited: it starts once the watch of this node's object has listed (never, if the CRD is missing).
      void this.stateWriter.start();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.reconciler.stop();
    const { services, endpointSlices, nodes } = this.options;
    for (const c of [services, endpointSlices, nodes] as ObjectCache<unknown>[]) c.off('change', this.onChange);
    for (const e of SESSION_EVENTS) this.ctx.speaker.off(e, this.onSession);
    await this.stateWriter?.stop();
  }

  /** True once a plan has been applied with a configuration and synced caches. */
  ready(): boolean {
    return this.reconciler.plan() !== undefined;
  }

  /** The services part of the admin endpoint's status: each Service, announced from here or why not. */
  status(): { services: ServicePlan[]; warnings: string[]; healthChecks: HealthCheckView[] } {
    const plan = this.reconciler.plan();
    return {
      services: plan?.services ?? [],
      warnings: plan?.warnings ?? [],
      healthChecks: this.reconciler.healthChecks(),
    };
  }

  /** What this node's BGPNodeState says now; undefined before the first plan. */
  nodeStatus(previous?: NodeStateStatus): NodeStateStatus | undefined {
    const plan = this.reconciler.plan();
    if (plan === undefined) return undefined;
    return buildNodeStatus({ nodeName: this.ctx.nodeName, plan, peers: this.ctx.speaker.peers(), previous });
  }

  /** The writer of this node's BGPNodeState (its stats), if any. */
  nodeStateWriter(): NodeStateWriter | undefined {
    return this.stateWriter;
  }

  /** Plans and applies now (folded with any reconcile already running), then asks for this node's BGPNodeState to follow. */
  async reconcile(): Promise<void> {
    if (this.stopped) return;
    await this.reconciler.request();
    this.stateWriter?.request();
  }

  private input(): ReconcileInput | undefined {
    const local = this.options.localConfig;
    if (local !== undefined && (this.config === undefined || !this.synced)) return this.localInput(local);
    const pools = this.pools;
    if (this.config === undefined || pools === undefined || !this.synced) return undefined;
    const { config, warnings } =
      local === undefined ? { config: this.config, warnings: [] } : mergeLocalConfig(local, this.config);
    const said = warnings.join('\n');
    if (said !== this.mergeWarnings) for (const w of warnings) this.ctx.logger.warn(w);
    this.mergeWarnings = said;
    const { services, endpointSlices, nodes, serviceClass } = this.options;
    const ours = services
      .list()
      .filter((s) => isOurService(s, serviceClass) && s.metadata?.deletionTimestamp === undefined);
    const slices = new Map<string, EndpointSlice[]>();
    for (const slice of endpointSlices.list()) {
      const key = sliceServiceKey(slice);
      if (key === undefined) continue;
      const list = slices.get(key);
      if (list) list.push(slice);
      else slices.set(key, [slice]);
    }
    const node = nodes.get(this.ctx.nodeName);
    return {
      nodeName: this.ctx.nodeName,
      node,
      config,
      services: ours,
      endpointSlices: slices,
      poolOf: (ip) => pools.poolOf(ip),
      nodeAddresses: (node?.status?.addresses ?? [])
        .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
        .map((a) => a.address),
    };
  }

  /**
   * The input before the cluster is known (the API server not answering yet, or no configuration
   * accepted): the local configuration alone, no Services, this node as last seen or, never seen, with
   * no labels.
   */
  private localInput(local: AnnouncerConfig): ReconcileInput {
    const node: Node = this.options.nodes.get(this.ctx.nodeName) ?? {
      metadata: { name: this.ctx.nodeName, labels: {} },
    };
    return {
      nodeName: this.ctx.nodeName,
      node,
      config: local,
      services: [],
      endpointSlices: new Map(),
      poolOf: () => undefined,
      nodeAddresses: (node.status?.addresses ?? [])
        .filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP')
        .map((a) => a.address),
    };
  }
}
