// Leader election on a coordination.k8s.io/v1 Lease (client-node has none). One instance holds the
// Lease and renews it every leaseDuration/3; the others retry now and then and take it over only when
// it is free (no holder, after a release) or expired (renewTime + leaseDurationSeconds < now). Every
// write carries the resourceVersion read, so two candidates cannot both win: the loser gets 409.
// A leader that gets 409 on renew, or cannot renew before its deadline, has lost and says so at once,
// before anyone else can have taken over (the deadline is shorter than the lease).
import { EventEmitter } from 'node:events';
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { systemClock, type Clock, type TimerHandle } from '@bgp-announce/bgp-speaker';
import { errorText, silentLogger, statusCodeOf, withTimeout, type KubeLogger } from './api-errors.js';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  /** The Lease's name and namespace. */
  name: string;
  namespace: string;
  /** This candidate (the pod or node name). */
  identity: string;
  /** How long a Lease stays ours without renewal. Default 15 s. */
  leaseDurationSeconds?: number;
  /** How often the leader renews. Default leaseDuration / 3. */
  renewIntervalMs?: number;
  /** A leader that could not renew for this long gives up. Default leaseDuration * 2/3. */
  renewDeadlineMs?: number;
  /** How often a candidate tries to acquire, and a failed renew is retried. Default 2 s. */
  retryPeriodMs?: number;
  clock?: Clock;
  logger?: KubeLogger;
}

export interface LeaderElectionEvents {
  /** This candidate now holds the Lease. */
  leading: [];
  /** This candidate no longer holds the Lease (409 on renew, renew deadline passed, released). */
  lost: [reason: string];
}

/** A time as the Lease API wants it (RFC 3339 with 6 fractional digits, metav1.MicroTime). */
export function microTime(ms: number): V1MicroTime {
  return new V1MicroTime(ms);
}

/** Milliseconds of a MicroTime read back (a string on the wire; a Date if someone built it). */
function timeMs(value: unknown): number | undefined {
  if (value instanceof Date) return value.getTime();
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}

/** The Lease is free: nobody holds it, or its holder has not renewed within its duration. */
export function leaseExpired(lease: V1Lease, nowMs: number): boolean {
  const spec = lease.spec;
  if (spec?.holderIdentity === undefined || spec.holderIdentity === '') return true;
  const renewed = timeMs(spec.renewTime) ?? timeMs(spec.acquireTime);
  if (renewed === undefined) return true;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < nowMs;
}

/** One candidate in the election for one Lease. Call start(); listen for 'leading' and 'lost'. */
export class LeaderElection extends EventEmitter<LeaderElectionEvents> {
  private readonly api: CoordinationV1Api;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;
  private readonly durationSeconds: number;
  private readonly renewIntervalMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private leading = false;
  private running = false;
  private lease: V1Lease | undefined;
  private observedHolder: string | undefined;
  private tickTimer: TimerHandle | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private inflight: Promise<void> = Promise.resolve();
  /** Bumped when leadership is lost or the election stops: answers to older requests are ignored. */
  private epoch = 0;

  constructor(private readonly options: LeaderElectionOptions) {
    super();
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.durationSeconds = options.leaseDurationSeconds ?? 15;
    this.renewIntervalMs = options.renewIntervalMs ?? (this.durationSeconds * 1000) / 3;
    this.renewDeadlineMs = options.renewDeadlineMs ?? (this.durationSeconds * 2000) / 3;
    this.retryPeriodMs = options.retryPeriodMs ?? 2000;
  }

  /** Starts campaigning (the first attempt is made at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen in the Lease (ourselves when leading). */
  holder(): string | undefined {
    return this.leading ? this.options.identity : this.observedHolder;
  }

  /** Stops campaigning without touching the Lease (as a crash would: others wait for it to expire). */
  stop(): void {
    this.halt('stopped');
  }

  private halt(reason: string): void {
    this.running = false;
    this.epoch++;
    if (this.tickTimer !== undefined) this.clock.clearTimer(this.tickTimer);
    this.lose(reason);
  }

  /**
   * Stops campaigning and, if leading, says 'lost' and then clears the holder of the Lease so that
   * another candidate takes over at once. Never throws (a failure is logged; the Lease then expires).
   */
  async release(): Promise<void> {
    const wasLeading = this.leading;
    this.halt('released');
    await this.inflight;
    if (!wasLeading || this.lease === undefined) return;
    const lease = this.lease;
    const spec = { ...lease.spec, renewTime: microTime(this.clock.now()), leaseDurationSeconds: 1 };
    delete spec.holderIdentity;
    try {
      await withTimeout(this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body: { ...lease, spec } }), this.renewDeadlineMs);
      this.logger.info({ lease: this.leaseName() }, 'leader election: released the lease');
    } catch (err) {
      this.logger.warn({ lease: this.leaseName(), err: errorText(err) }, 'leader election: could not release the lease; it will expire');
    }
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  private schedule(ms: number): void {
    if (!this.running) return;
    if (this.tickTimer !== undefined) this.clock.clearTimer(this.tickTimer);
    this.tickTimer = this.clock.setTimer(ms, () => {
      this.tickTimer = undefined;
      this.inflight = this.tick();
    });
  }

  private async tick(): Promise<void> {
    const epoch = this.epoch;
    let next = this.retryPeriodMs;
    try {
      if (this.leading) next = (await this.renew(epoch)) ? this.renewIntervalMs : Math.min(this.retryPeriodMs, this.renewIntervalMs);
      else if (await this.tryAcquire(epoch)) next = this.renewIntervalMs;
    } catch (err) {
      this.logger.error({ lease: this.leaseName(), err: errorText(err) }, 'leader election: unexpected error');
    }
    this.schedule(next);
  }

  /** Renews our Lease; false when it failed (and was perhaps lost). */
  private async renew(epoch: number): Promise<boolean> {
    const lease = this.lease!;
    const stamped = this.clock.now();
    const body: V1Lease = { ...lease, spec: { ...lease.spec, holderIdentity: this.options.identity, renewTime: microTime(stamped) } };
    try {
      const renewed = await withTimeout(this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body }), this.renewDeadlineMs);
      if (epoch !== this.epoch) return false;
      this.holding(renewed, stamped);
      return this.leading;
    } catch (err) {
      if (epoch !== this.epoch) return false;
      if (statusCodeOf(err) === 409) {
        this.lose('the lease was changed by someone else (409 Conflict on renew)');
      } else {
        this.logger.warn({ lease: this.leaseName(), err: errorText(err) }, 'leader election: renew failed, retrying');
      }
      return false;
    }
  }

  /** Reads the Lease and takes it if it is absent, free or expired; true when we hold it now. */
  private async tryAcquire(epoch: number): Promise<boolean> {
    const { name, namespace, identity } = this.options;
    const now = this.clock.now();
    let current: V1Lease;
    try {
      current = await withTimeout(this.api.readNamespacedLease({ name, namespace }), this.renewDeadlineMs);
    } catch (err) {
      if (statusCodeOf(err) !== 404) {
        this.logger.warn({ lease: this.leaseName(), err: errorText(err) }, 'leader election: cannot read the lease');
        return false;
      }
      const spec = { holderIdentity: identity, leaseDurationSeconds: this.durationSeconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 };
      return this.write(epoch, now, () => this.api.createNamespacedLease({ namespace, body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec } }));
    }
    const spec = current.spec ?? {};
    const ours = spec.holderIdentity === identity;
    this.observedHolder = spec.holderIdentity || undefined;
    if (!ours && !leaseExpired(current, now)) return false;
    const body: V1Lease = {
      ...current,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.durationSeconds,
        acquireTime: ours && spec.acquireTime !== undefined ? spec.acquireTime : microTime(now),
        renewTime: microTime(now),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (ours ? 0 : 1),
      },
    };
    return this.write(epoch, now, () => this.api.replaceNamespacedLease({ name, namespace, body }));
  }

  private async write(epoch: number, stamped: number, request: () => Promise<V1Lease>): Promise<boolean> {
    try {
      const lease = await withTimeout(request(), this.renewDeadlineMs);
      if (epoch !== this.epoch) return false;
      this.holding(lease, stamped);
      return this.leading;
    } catch (err) {
      // 409: another candidate wrote first (it won this round).
      if (statusCodeOf(err) !== 409) this.logger.warn({ lease: this.leaseName(), err: errorText(err) }, 'leader election: cannot take the lease');
      return false;
    }
  }

  /**
   * We hold `lease`, renewed at `stamped`: remember its resourceVersion and push the deadline out to
   * stamped + renewDeadline (counted from the renewTime written, so a slow answer cannot stretch it).
   */
  private holding(lease: V1Lease, stamped: number): void {
    this.lease = lease;
    this.clearDeadline();
    const left = stamped + this.renewDeadlineMs - this.clock.now();
    if (left <= 0) {
      // The answer came too late to count: others may already see the Lease as expired.
      this.lose(`the lease write took longer than ${this.renewDeadlineMs} ms`);
      return;
    }
    this.deadlineTimer = this.clock.setTimer(left, () => {
      this.deadlineTimer = undefined;
      this.epoch++;
      this.lose(`could not renew the lease within ${this.renewDeadlineMs} ms`);
      this.schedule(this.retryPeriodMs);
    });
    if (!this.leading) {
      this.leading = true;
      this.observedHolder = this.options.identity;
      this.logger.info({ lease: this.leaseName(), identity: this.options.identity }, 'leader election: leading');
      this.emit('leading');
    }
  }

  private lose(reason: string): void {
    this.clearDeadline();
    if (!this.leading) return;
    this.leading = false;
    this.logger.warn({ lease: this.leaseName(), reason }, 'leader election: lost the lease');
    this.emit('lost', reason);
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimer(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }
}
