// One node's announcer under Kubernetes: it reads the watched Services, EndpointSlices and its own
// Node, plans what this node announces (announce-plan.ts), applies it to the Speaker through the
// NodeReconciler, and says on each Service whether this node announces it and to which peers (a
// condition per node, and an Event when that changes). Watch trouble never withdraws routes: the
// caches keep their last state while they re-list, and only real changes reach the plan.
import type { KubeLogger } from './api-errors.js';
import type { ObjectCache } from './cache.js';
import type { AnnouncerConfig } from '../config/types.js';
import { Allocator } from '../allocation/allocator.js';
import { isOurService, type ServiceClassOptions } from '../service/service-class.js';
import { serviceKey, sliceServiceKey, type EndpointSlice, type Node, type Service } from '../service/model.js';
import type { ServicePlan } from '../plan/announce-plan.js';
import { NodeReconciler, type ReconcileInput } from '../daemon/node-reconciler.js';
import type { DaemonContext } from '../daemon/source.js';
import type { EventSink } from './allocation-controller.js';
import { ServiceGoneError, nodeConditionType, removeCondition, setCondition, type ServiceWriter } from './service-status.js';

export interface NodeAnnouncerOptions {
  services: ObjectCache<Service>;
  endpointSlices: ObjectCache<EndpointSlice>;
  /** This node only. */
  nodes: ObjectCache<Node>;
  serviceClass: ServiceClassOptions;
  writer?: ServiceWriter;
  events?: EventSink;
}

export class NodeAnnouncer {
  private config: AnnouncerConfig | undefined;
  private pools: Allocator | undefined;
  private readonly reconciler: NodeReconciler;
  private readonly written = new Map<string, string>();
  private statusWork: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Every cache has its first list: before that a plan would see half the cluster (slices missing: Local Services "not announced"). */
  private synced = false;
  private readonly onChange = (): void => void this.reconcile();
  private readonly logger: KubeLogger;

  constructor(
    private readonly ctx: DaemonContext,
    private readonly options: NodeAnnouncerOptions,
  ) {
    this.logger = ctx.logger;
    this.reconciler = new NodeReconciler(ctx, () => this.input());
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
    await Promise.all([services.synced(), endpointSlices.synced(), nodes.synced()]);
    this.synced = true;
    for (const c of [services, endpointSlices, nodes] as ObjectCache<unknown>[]) c.on('change', this.onChange);
    await this.reconcile();
  }

  stop(): Promise<void> {
    this.stopped = true;
    const { services, endpointSlices, nodes } = this.options;
    for (const c of [services, endpointSlices, nodes] as ObjectCache<unknown>[]) c.off('change', this.onChange);
    return this.statusWork;
  }

  /** True once a plan has been applied with a configuration and synced caches. */
  ready(): boolean {
    return this.reconciler.plan() !== undefined;
  }

  /** The services part of the admin endpoint's status: each Service, announced from here or why not. */
  status(): { services: ServicePlan[]; warnings: string[] } {
    const plan = this.reconciler.plan();
    return { services: plan?.services ?? [], warnings: plan?.warnings ?? [] };
  }

  /** Plans and applies now (folded with any reconcile already running), then writes the conditions. */
  async reconcile(): Promise<void> {
    if (this.stopped) return;
    await this.reconciler.request();
    this.writeConditions();
  }

  private input(): ReconcileInput | undefined {
    const config = this.config;
    const pools = this.pools;
    if (config === undefined || pools === undefined || !this.synced) return undefined;
    const { services, endpointSlices, nodes, serviceClass } = this.options;
    const ours = services.list().filter((s) => isOurService(s, serviceClass) && s.metadata?.deletionTimestamp === undefined);
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
      nodeAddresses: (node?.status?.addresses ?? []).filter((a) => a.type === 'InternalIP' || a.type === 'ExternalIP').map((a) => a.address),
    };
  }

  /** Writes this node's condition on every Service whose announcement from here changed (in the background). */
  private writeConditions(): void {
    const { writer, events, services } = this.options;
    const plan = this.reconciler.plan();
    if (!writer || !plan || this.stopped) return;
    const type = nodeConditionType(this.ctx.nodeName);
    const todo: { key: string; plan: ServicePlan | undefined; before: string | undefined }[] = [];
    const seen = new Set<string>();
    for (const sp of plan.services) {
      seen.add(sp.key);
      const text = conditionMessage(this.ctx.nodeName, sp);
      const before = this.written.get(sp.key);
      if (before === text) continue;
      // Recorded as written when queued, so the reconciles that run meanwhile do not queue it again;
      // a write that fails forgets it, and the next reconcile tries again.
      this.written.set(sp.key, text);
      todo.push({ key: sp.key, plan: sp, before });
    }
    for (const key of [...this.written.keys()]) {
      if (seen.has(key)) continue;
      this.written.delete(key);
      todo.push({ key, plan: undefined, before: undefined });
    }
    if (todo.length === 0) return;
    this.statusWork = this.statusWork.then(async () => {
      for (const { key, plan: sp, before } of todo) {
        if (this.stopped) return;
        const cached = services.get(key);
        try {
          if (sp === undefined) {
            if (cached) await writer.updateStatus(key, (s) => removeCondition(s, type), cached);
            continue;
          }
          const message = conditionMessage(this.ctx.nodeName, sp);
          if (this.written.get(key) !== message) continue; // a newer plan changed it meanwhile: its own entry writes it
          const condition = { type, status: sp.announced ? ('True' as const) : ('False' as const), reason: sp.announced ? 'Announced' : 'NotAnnounced', message };
          // After a restart the Service often says so already: no write and no Event then.
          const current = cached?.status?.conditions?.find((c) => c.type === type);
          if (current?.status === condition.status && current.message === message) continue;
          await writer.updateStatus(key, (s) => setCondition(s, condition), cached);
          // Events tell of changes: the first "not announced yet" of a new Service is not one.
          if (events && cached && (sp.announced || before !== undefined)) events.record(cached, 'Normal', condition.reason, message);
        } catch (err) {
          if (this.written.get(key) === (sp ? conditionMessage(this.ctx.nodeName, sp) : undefined)) this.written.delete(key);
          if (err instanceof ServiceGoneError) continue;
          this.logger.warn({ service: key }, `cannot write this node's condition: ${err instanceof Error ? err.message : String(err)}`);
        }
      }
    });
  }
}


/** The condition message of one node about one Service. */
function conditionMessage(nodeName: string, sp: ServicePlan): string {
  return sp.announced ? `node ${nodeName} announces ${sp.ips.join(', ')} to peers ${sp.peers.join(', ')}` : `node ${nodeName} does not announce: ${sp.reason ?? 'unknown'}`;
}
