// The allocator's controller, run by the one instance that holds the Lease: it restores every
// Service's addresses from their status at start (so allocation survives restarts and never hands
// one address to two Services), then assigns addresses to Services of our class as they come, and
// writes the result on the Service: status.loadBalancer.ingress, the IPAllocated condition, an Event,
// and the load-balancer-cleanup finalizer so an address is released before its Service is gone.
//
// It is also the only writer of the Announced condition: it watches every node's BGPNodeState,
// indexes them by Service (announced-aggregate.ts) and writes one aggregate condition per Service in
// the same status write as the address. Node reports are let settle first (they come within a second
// of each other after a change), so a change costs one write whatever the node count; and when the
// message gives counts rather than names (more than NAMES_IN_MESSAGE nodes), a change of the counts
// alone is written at most once per messageIntervalMs per Service, so that nodes coming and going in
// a large cluster do not rewrite every Service each time. The per-node conditions of earlier versions
// are removed in the same write.
import { NO_ENDPOINT } from '../plan/announce-plan.js';
import { systemClock, type Clock, type TimerHandle } from '@bgp-announce/bgp-speaker';
import type { KubeLogger } from './api-errors.js';
import type { CacheChange, ObjectCache } from './cache.js';
import { Allocator, type AllocationResult } from '../allocation/allocator.js';
import { isOurService, type ServiceClassOptions } from '../service/service-class.js';
import { CLEANUP_FINALIZER, serviceKey, type Namespace, type Service } from '../service/model.js';
import type { IPAddressPool } from '../config/types.js';
import type { PoolUsage } from '../allocation/allocator.js';
import type { ServiceAnnouncers } from '../daemon/source.js';
import {
  ALLOCATED_CONDITION,
  ServiceGoneError,
  ingressIps,
  removeCondition,
  setCondition,
  setFinalizer,
  setIngress,
  type Condition,
  type ServiceWriter,
} from './service-status.js';
import {
  ANNOUNCED_CONDITION,
  LEGACY_NODE_CONDITION_PREFIX,
  NodeStateIndex,
  messageOnlyChange,
  removeLegacyConditions,
  type IndexChange,
} from './announced-aggregate.js';
import type { BGPNodeState } from './node-state.js';

/** Where Events go (kube/events.ts's recorder has this shape). */
export interface EventSink {
  record(object: Service, type: 'Normal' | 'Warning', reason: string, message: string): void;
}

export interface AllocationControllerOptions {
  services: ObjectCache<Service>;
  namespaces?: ObjectCache<Namespace>;
  writer: ServiceWriter;
  events: EventSink;
  serviceClass: ServiceClassOptions;
  logger: KubeLogger;
  setPoolUsage?(usage: readonly PoolUsage[]): void;
  /** Delay before retrying a Service whose write failed. Default 1000 ms, doubling up to 30 s. */
  retryMs?: number;
  /**
   * Every node's BGPNodeState (watches.ts watchNodeStates), made when a term starts and stopped when it
   * ends (only the leader watches them all). Without it no Announced condition is written.
   */
  nodeStates?: () => ObjectCache<BGPNodeState>;
  /**
   * The aggregate is written once node reports have been quiet this long. Default 1500 ms: longer than
   * a node's least interval between writes (1 s), so the reports of one change come in together.
   */
  settleMs?: number;
  /** ...but no later than this after the first report. Default 5000 ms. */
  maxSettleMs?: number;
  /**
   * A change of the aggregate's message alone, when it gives counts, not names (more than
   * NAMES_IN_MESSAGE nodes), is written at most this often per Service. Default 30 s.
   */
  messageIntervalMs?: number;
  /** How long start() waits for the first list of the BGPNodeStates (their CRD may be missing). Default 10 s. */
  nodeStatesSyncMs?: number;
  clock?: Clock;
}

/** One Service as the admin endpoint shows the allocator's view of it. */
export interface AllocationStatus {
  key: string;
  ips: string[];
  pool?: string;
  error?: { reason: string; message: string };
}

export class AllocationController {
  private allocator: Allocator | undefined;
  private pools: readonly IPAddressPool[] | undefined;
  private readonly dirty = new Set<string>();
  private readonly failures = new Map<string, { reason: string; message: string }>();
  private readonly retries = new Map<string, { attempt: number; timer: NodeJS.Timeout }>();
  private working: Promise<void> | undefined;
  private started = false;
  private stopped = false;
  private readonly clock: Clock;
  private states: ObjectCache<BGPNodeState> | undefined;
  private readonly index = new NodeStateIndex();
  private readonly settling = new Set<string>();
  private settleAll = false;
  private settleTimer: TimerHandle | undefined;
  private settleFirstAt: number | undefined;
  /** When each Service's Announced condition was last written (this term), and rechecks put off by messageIntervalMs. */
  private readonly announcedWrittenAt = new Map<string, number>();
  private readonly deferred = new Map<string, TimerHandle>();
  /**
   * Services we wrote whose change the watch has not brought back yet: the object our last write got
   * back, and the resourceVersions the cache may still show meanwhile (older than it). Reading from it
   * instead of the cache spares a 409 Conflict when the Service comes up again at once.
   */
  private readonly ahead = new Map<string, { object: Service; behind: Set<string> }>();
  private readonly onNodeState = (change: CacheChange, obj: BGPNodeState): void => {
    const node = obj.metadata?.name;
    if (node === undefined) return;
    this.noteReports(change === 'delete' ? this.index.delete(node) : this.index.set(node, obj.status));
  };
  private readonly onService = (_change: unknown, svc: Service): void => this.enqueue(serviceKey(svc));
  private readonly onNamespace = (_change: unknown, ns: Namespace): void => {
    for (const svc of this.options.services.list())
      if (svc.metadata?.namespace === ns.metadata?.name) this.enqueue(serviceKey(svc));
  };

  constructor(private readonly options: AllocationControllerOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** New pools: Services whose addresses left them, and those still waiting for one, are looked at again. */
  setPools(pools: readonly IPAddressPool[]): void {
    this.pools = pools;
    if (!this.started) return;
    if (this.allocator === undefined) {
      this.allocator = new Allocator(pools);
      this.restoreAll();
      return;
    }
    for (const key of this.allocator.setPools(pools)) this.enqueue(key);
    for (const key of this.failures.keys()) this.enqueue(key);
    this.publishUsage();
  }

  /**
   * Starts (on winning the Lease): waits for the caches, restores every address from the Services'
   * statuses (another instance may have allocated meanwhile), then follows changes. May be called
   * again after stop(), for the next term.
   */
  async start(): Promise<void> {
    this.stopped = false;
    if (this.options.nodeStates && this.states === undefined) this.states = this.options.nodeStates();
    const states = this.states;
    await Promise.all([
      this.options.services.synced(),
      this.options.namespaces?.synced(),
      states && this.statesSynced(states),
    ]);
    if (this.stopped || this.started) return;
    this.started = true;
    if (states) {
      for (const s of states.list()) if (s.metadata?.name) this.index.set(s.metadata.name, s.status);
      states.on('change', this.onNodeState);
    }
    this.options.services.on('change', this.onService);
    this.options.namespaces?.on('change', this.onNamespace);
    if (this.pools) {
      this.allocator = new Allocator(this.pools);
      this.restoreAll();
    }
  }

  /** Stops (on losing the Lease or shutting down): nothing more is written; start() begins anew. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.started = false;
    this.options.services.off('change', this.onService);
    this.options.namespaces?.off('change', this.onNamespace);
    for (const r of this.retries.values()) clearTimeout(r.timer);
    this.retries.clear();
    this.dirty.clear();
    this.states?.off('change', this.onNodeState);
    this.states?.stop();
    this.states = undefined;
    if (this.settleTimer !== undefined) this.clock.clearTimer(this.settleTimer);
    for (const t of this.deferred.values()) this.clock.clearTimer(t);
    this.settleTimer = this.settleFirstAt = undefined;
    this.deferred.clear();
    this.settling.clear();
    this.settleAll = false;
    await this.working;
    // The pools' series belong to the leader: the next one publishes them.
    if (this.allocator) this.options.setPoolUsage?.([]);
    this.allocator = undefined;
    this.failures.clear();
    this.index.clear();
    this.announcedWrittenAt.clear();
    this.ahead.clear();
  }

  /** The first list of the BGPNodeStates, or a warning after nodeStatesSyncMs (the allocator runs on; aggregates follow once they list). */
  private async statesSynced(states: ObjectCache<BGPNodeState>): Promise<void> {
    const ms = this.options.nodeStatesSyncMs ?? 10_000;
    let timer: TimerHandle | undefined;
    const late = new Promise<'late'>((resolve) => (timer = this.clock.setTimer(ms, () => resolve('late'))));
    const first = await Promise.race([states.synced().then(() => 'synced' as const), late]);
    if (timer !== undefined) this.clock.clearTimer(timer);
    if (first === 'synced') return;
    this.options.logger.warn(
      { waitedMs: ms, watch: states.health() },
      'the BGPNodeStates cannot be listed (is the BGPNodeState CRD installed?); allocating without the Announced condition until they can',
    );
    void states.synced().then(() => {
      if (this.states !== states || !this.started) return;
      for (const s of states.list()) if (s.metadata?.name) this.index.set(s.metadata.name, s.status);
      this.noteReports({ services: new Set(), all: true });
    });
  }

  /** Node reports changed these Services' entries: look at them once the reports have settled. */
  private noteReports(change: IndexChange): void {
    if (!this.started || this.stopped) return;
    for (const key of change.services) this.settling.add(key);
    if (change.all) this.settleAll = true;
    if (this.settling.size === 0 && !this.settleAll) return;
    const now = this.clock.now();
    this.settleFirstAt ??= now;
    if (this.settleTimer !== undefined) this.clock.clearTimer(this.settleTimer);
    const due = Math.min(
      now + (this.options.settleMs ?? 1500),
      this.settleFirstAt + (this.options.maxSettleMs ?? 5000),
    );
    this.settleTimer = this.clock.setTimer(Math.max(0, due - now), () => {
      this.settleTimer = this.settleFirstAt = undefined;
      const keys = this.settleAll ? this.options.services.list().map(serviceKey) : [...this.settling];
      this.settling.clear();
      this.settleAll = false;
      for (const key of keys) this.enqueue(key);
    });
  }

  /** The pool an address belongs to (the announce plan needs it); undefined before the first config. */
  poolOf(ip: string): string | undefined {
    return this.allocator?.poolOf(ip);
  }

  /** Every Service's allocation, or why it has none. */
  status(): AllocationStatus[] {
    const out: AllocationStatus[] = [];
    for (const [key, a] of this.allocator?.assignments() ?? []) out.push({ key, ips: a.ips, pool: a.pool });
    for (const [key, error] of this.failures) out.push({ key, ips: [], error });
    return out.sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /**
   * Every Service of our class that has an address, and how many nodes report announcing it (the
   * announcing-nodes metric); empty when not leading or without the BGPNodeStates watch. A Cluster
   * Service that every node withdraws because it has no serving endpoint anywhere is left out: it is
   * not announced on purpose (as MetalLB), and the not-announced alert is for VIPs that should be.
   */
  announcingNodes(): ServiceAnnouncers[] {
    if (!this.started || this.states === undefined || this.allocator === undefined) return [];
    const out: ServiceAnnouncers[] = [];
    for (const [key, a] of this.allocator.assignments()) {
      if (a.ips.length === 0) continue;
      if (this.index.withdrawnFor(key, a.ips, NO_ENDPOINT)) continue;
      const slash = key.indexOf('/');
      out.push({
        namespace: key.slice(0, slash),
        service: key.slice(slash + 1),
        nodes: this.index.announcing(key, a.ips),
      });
    }
    return out;
  }

  /** Resolves when no Service is waiting to be processed (tests and the bench). */
  async idle(): Promise<void> {
    while (this.working) await this.working;
  }

  /**
   * Records what the Services' statuses already hold, oldest Service first, so a conflict (two
   * Services showing one address) leaves it with the one that had it first; the other is re-allocated.
   */
  private restoreAll(): void {
    const allocator = this.allocator!;
    const ours = this.options.services
      .list()
      .filter((s) => isOurService(s, this.options.serviceClass) && !s.metadata?.deletionTimestamp);
    ours.sort((a, b) => created(a) - created(b) || (serviceKey(a) < serviceKey(b) ? -1 : 1));
    for (const svc of ours) {
      const result = allocator.restore(svc, { namespaceLabels: this.namespaceLabels(svc) });
      if (!result.ok)
        this.options.logger.warn(
          { service: serviceKey(svc), reason: result.reason },
          `cannot keep the address in the status: ${result.message}; re-allocating`,
        );
    }
    for (const svc of this.options.services.list()) this.enqueue(serviceKey(svc));
    this.publishUsage();
  }

  private enqueue(key: string): void {
    if (this.stopped || !this.started || this.allocator === undefined) return;
    this.dirty.add(key);
    if (!this.working) {
      this.working = this.drain().finally(() => {
        this.working = undefined;
      });
    }
  }

  private async drain(): Promise<void> {
    while (this.dirty.size > 0 && !this.stopped) {
      const key = this.dirty.values().next().value as string;
      this.dirty.delete(key);
      try {
        await this.reconcile(key);
        const r = this.retries.get(key);
        if (r) clearTimeout(r.timer);
        this.retries.delete(key);
      } catch (err) {
        if (err instanceof ServiceGoneError) continue;
        this.retryLater(key, err);
      }
    }
    this.publishUsage();
  }

  private retryLater(key: string, err: unknown): void {
    const before = this.retries.get(key);
    const attempt = (before?.attempt ?? 0) + 1;
    const delay = Math.min(30_000, (this.options.retryMs ?? 1000) * 2 ** (attempt - 1));
    this.options.logger.warn(
      { service: key, attempt, retryInMs: delay },
      err instanceof Error ? err.message : String(err),
    );
    if (before) clearTimeout(before.timer);
    const timer = setTimeout(() => this.enqueue(key), delay);
    timer.unref();
    this.retries.set(key, { attempt, timer });
  }

  private async reconcile(key: string): Promise<void> {
    const allocator = this.allocator!;
    const { writer, events } = this.options;
    const svc = this.newest(key);
    if (svc === undefined) {
      // Deleted (without our finalizer, or after it was removed).
      this.release(key);
      this.failures.delete(key);
      return;
    }
    const ours = isOurService(svc, this.options.serviceClass);
    if (svc.metadata?.deletionTimestamp !== undefined || !ours) {
      const released = this.release(key);
      this.failures.delete(key);
      // Other implementations (kube-vip, a cloud provider) put the same finalizer on their Services:
      // clean only those we allocated for (now, or before a restart: our condition is on it).
      if (!ours && !released && !hasAllocatedCondition(svc)) return;
      if (!ours && (ingressIps(svc).length > 0 || hasAllocatedCondition(svc))) {
        // No longer ours (type changed): take our addresses and conditions back off it.
        await writer.updateStatus(key, (s) => [setIngress(s, []), removeOwnCondition(s)].includes(true), svc);
      }
      if (svc.metadata?.finalizers?.includes(CLEANUP_FINALIZER))
        await writer.updateObject(key, (s) => setFinalizer(s, false), svc);
      if (released)
        events.record(svc, 'Normal', 'IPReleased', `released ${ingressIps(svc).join(', ') || 'its addresses'}`);
      return;
    }
    const result = allocator.assign(svc, { namespaceLabels: this.namespaceLabels(svc) });
    await this.write(key, svc, result);
  }

  /** Forgets a Service's addresses; Services still waiting for one are looked at again (they may fit now). */
  private release(key: string): boolean {
    const released = this.allocator!.release(key);
    if (released) for (const waiting of this.failures.keys()) if (waiting !== key) this.enqueue(waiting);
    return released;
  }

  private async write(key: string, svc: Service, result: AllocationResult): Promise<void> {
    const { writer, events } = this.options;
    if (result.ok) {
      this.failures.delete(key);
      // The finalizer first: an address is never shown on a Service that could vanish without its release.
      const finalizer = await writer.writeObject(key, (s) => setFinalizer(s, true), svc);
      const object = finalizer.object;
      if (finalizer.written) this.wrote(key, svc, object);
      const message = `${result.ips.join(', ')} from pool ${result.pool}`;
      let announced: Condition | undefined;
      const { written: wrote, object: after } = await writer.writeStatus(
        key,
        (s) => {
          announced = this.announcedFor(key, s, result.ips);
          return [
            setIngress(s, result.ips),
            setCondition(s, { type: ALLOCATED_CONDITION, status: 'True', reason: 'Allocated', message }),
            announced !== undefined && setCondition(s, announced),
            removeLegacyConditions(s),
          ].includes(true);
        },
        object,
      );
      if (wrote) this.wrote(key, object, after);
      if (wrote && (result.changed || ingressIps(svc).join() !== result.ips.join()))
        events.record(svc, 'Normal', 'IPAllocated', `assigned ${message}`);
      if (wrote) this.announcedWritten(key, svc, announced);
      return;
    }
    const before = this.failures.get(key);
    this.failures.set(key, { reason: result.reason, message: result.message });
    // A failure other than a malformed request released what the Service held: others may fit now.
    if (result.reason !== 'InvalidRequest' && ingressIps(svc).length > 0)
      for (const waiting of this.failures.keys()) if (waiting !== key) this.enqueue(waiting);
    // No address, nothing announced: the Announced condition goes (IPAllocated says why).
    await writer.updateStatus(
      key,
      (s) =>
        [
          setIngress(s, []),
          setCondition(s, {
            type: ALLOCATED_CONDITION,
            status: 'False',
            reason: result.reason,
            message: result.message,
          }),
          removeCondition(s, ANNOUNCED_CONDITION),
          removeLegacyConditions(s),
        ].includes(true),
      svc,
    );
    if (before?.message !== result.message) events.record(svc, 'Warning', 'AllocationFailed', result.message);
  }

  /** The Service as we last know it: the cache, unless it has not caught up with our own last write yet. */
  private newest(key: string): Service | undefined {
    const cached = this.options.services.get(key);
    const a = this.ahead.get(key);
    if (a === undefined) return cached;
    const rv = cached?.metadata?.resourceVersion;
    if (cached !== undefined && rv !== undefined && a.behind.has(rv)) return a.object;
    this.ahead.delete(key); // caught up (or changed by someone else, or gone): the cache is right
    return cached;
  }

  /** We turned `before` into `after`: until the cache shows it, use `after`. */
  private wrote(key: string, before: Service, after: Service): void {
    const a = this.ahead.get(key) ?? { object: after, behind: new Set<string>() };
    const rv = before.metadata?.resourceVersion;
    if (rv !== undefined) a.behind.add(rv);
    a.object = after;
    this.ahead.set(key, a);
  }

  /**
   * The Announced condition to write on `s` (which shows `ips` once written), or undefined to leave it
   * as it is: no node has reported on these addresses yet, or only the counts of a message over many
   * nodes would change and it was written less than messageIntervalMs ago (a recheck is then set for
   * when it may be).
   */
  private announcedFor(key: string, s: Service, ips: readonly string[]): Condition | undefined {
    if (this.states === undefined) return undefined;
    const summary = this.index.summarize(key, ips);
    if (summary === undefined) return undefined;
    const wanted = summary.condition;
    const current = s.status?.conditions?.find((c) => c.type === ANNOUNCED_CONDITION);
    if (!messageOnlyChange(current, wanted) || !summary.countsOnly) return wanted;
    const interval = this.options.messageIntervalMs ?? 30_000;
    const last = this.announcedWrittenAt.get(key);
    const now = this.clock.now();
    if (last === undefined || now - last >= interval) return wanted;
    if (!this.deferred.has(key)) {
      this.deferred.set(
        key,
        this.clock.setTimer(last + interval - now, () => {
          this.deferred.delete(key);
          this.enqueue(key);
        }),
      );
    }
    return undefined;
  }

  /** After a status write: when the Announced condition changed, remember when, and tell of a new status in an Event. */
  private announcedWritten(key: string, before: Service, written: Condition | undefined): void {
    if (written === undefined) return;
    const old = before.status?.conditions?.find((c) => c.type === ANNOUNCED_CONDITION);
    if (old?.status === written.status && old.reason === written.reason && old.message === written.message) return;
    this.announcedWrittenAt.set(key, this.clock.now());
    if (old?.status === written.status) return;
    // Events tell of real changes: a Service going from announced to not announced is one to look at.
    this.options.events.record(before, old?.status === 'True' ? 'Warning' : 'Normal', written.reason, written.message);
  }

  private namespaceLabels(svc: Service): Record<string, string> | undefined {
    const ns = svc.metadata?.namespace;
    return ns === undefined ? undefined : this.options.namespaces?.get(ns)?.metadata?.labels;
  }

  private publishUsage(): void {
    if (this.allocator && this.options.setPoolUsage) this.options.setPoolUsage(this.allocator.poolUsage());
  }
}

function created(svc: Service): number {
  const t = (svc.metadata as { creationTimestamp?: Date | string } | undefined)?.creationTimestamp;
  return t === undefined ? 0 : new Date(t).getTime();
}

function hasAllocatedCondition(svc: Service): boolean {
  return svc.status?.conditions?.some((c) => c.type === ALLOCATED_CONDITION) ?? false;
}

function removeOwnCondition(svc: Service): boolean {
  const conditions = svc.status?.conditions ?? [];
  const kept = conditions.filter(
    (c) =>
      c.type !== ALLOCATED_CONDITION &&
      c.type !== ANNOUNCED_CONDITION &&
      !c.type.startsWith(LEGACY_NODE_CONDITION_PREFIX),
  );
  if (kept.length === conditions.length) return false;
  svc.status = { ...svc.status, conditions: kept };
  return true;
}
