// The allocator's controller, run by the one instance that holds the Lease: it restores every
// Service's addresses from their status at start (so allocation survives restarts and never hands
// one address to two Services), then assigns addresses to Services of our class as they come, and
// writes the result on the Service: status.loadBalancer.ingress, the IPAllocated condition, an Event,
// and the load-balancer-cleanup finalizer so an address is released before its Service is gone.
import type { KubeLogger } from './api-errors.js';
import type { ObjectCache } from './cache.js';
import { Allocator, type AllocationResult } from '../allocation/allocator.js';
import { isOurService, type ServiceClassOptions } from '../service/service-class.js';
import { CLEANUP_FINALIZER, serviceKey, type Namespace, type Service } from '../service/model.js';
import type { IPAddressPool } from '../config/types.js';
import type { PoolUsage } from '../allocation/allocator.js';
import { ALLOCATED_CONDITION, ServiceGoneError, ingressIps, setCondition, setFinalizer, setIngress, type ServiceWriter } from './service-status.js';

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
  private readonly onService = (_change: unknown, svc: Service): void => this.enqueue(serviceKey(svc));
  private readonly onNamespace = (_change: unknown, ns: Namespace): void => {
    for (const svc of this.options.services.list()) if (svc.metadata?.namespace === ns.metadata?.name) this.enqueue(serviceKey(svc));
  };

  constructor(private readonly options: AllocationControllerOptions) {}

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
    await Promise.all([this.options.services.synced(), this.options.namespaces?.synced()]);
    if (this.stopped || this.started) return;
    this.started = true;
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
    await this.working;
    this.allocator = undefined;
    this.failures.clear();
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
    const ours = this.options.services.list().filter((s) => isOurService(s, this.options.serviceClass) && !s.metadata?.deletionTimestamp);
    ours.sort((a, b) => created(a) - created(b) || (serviceKey(a) < serviceKey(b) ? -1 : 1));
    for (const svc of ours) {
      const result = allocator.restore(svc, { namespaceLabels: this.namespaceLabels(svc) });
      if (!result.ok) this.options.logger.warn({ service: serviceKey(svc), reason: result.reason }, `cannot keep the address in the status: ${result.message}; re-allocating`);
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
    this.options.logger.warn({ service: key, attempt, retryInMs: delay }, err instanceof Error ? err.message : String(err));
    if (before) clearTimeout(before.timer);
    const timer = setTimeout(() => this.enqueue(key), delay);
    timer.unref();
    this.retries.set(key, { attempt, timer });
  }

  private async reconcile(key: string): Promise<void> {
    const allocator = this.allocator!;
    const { writer, events } = this.options;
    const svc = this.options.services.get(key);
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
      if (svc.metadata?.finalizers?.includes(CLEANUP_FINALIZER)) await writer.updateObject(key, (s) => setFinalizer(s, false), svc);
      if (released) events.record(svc, 'Normal', 'IPReleased', `released ${ingressIps(svc).join(', ') || 'its addresses'}`);
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
      const { object } = await writer.writeObject(key, (s) => setFinalizer(s, true), svc);
      const message = `${result.ips.join(', ')} from pool ${result.pool}`;
      const wrote = await writer.updateStatus(key, (s) => [setIngress(s, result.ips), setCondition(s, { type: ALLOCATED_CONDITION, status: 'True', reason: 'Allocated', message })].includes(true), object);
      if (wrote && (result.changed || ingressIps(svc).join() !== result.ips.join())) events.record(svc, 'Normal', 'IPAllocated', `assigned ${message}`);
      return;
    }
    const before = this.failures.get(key);
    this.failures.set(key, { reason: result.reason, message: result.message });
    // A failure other than a malformed request released what the Service held: others may fit now.
    if (result.reason !== 'InvalidRequest' && ingressIps(svc).length > 0) for (const waiting of this.failures.keys()) if (waiting !== key) this.enqueue(waiting);
    await writer.updateStatus(key, (s) => [setIngress(s, []), setCondition(s, { type: ALLOCATED_CONDITION, status: 'False', reason: result.reason, message: result.message })].includes(true), svc);
    if (before?.message !== result.message) events.record(svc, 'Warning', 'AllocationFailed', result.message);
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
  const kept = conditions.filter((c) => c.type !== ALLOCATED_CONDITION && !c.type.startsWith('announced.bgp-announce.io/'));
  if (kept.length === conditions.length) return false;
  svc.status = { ...svc.status, conditions: kept };
  return true;
}
