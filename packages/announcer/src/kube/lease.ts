// Leader election on a coordination.k8s.io/v1 Lease (client-node has none).
//
// The leader renews the Lease every leaseDuration/3. A leader that gets 409 on renew, or cannot renew
// within its renew deadline (2/3 of the lease, counted from the renewTime it last wrote), has lost and
// says so at once, before anyone else can have taken over.
//
// The other candidates do not poll: each WATCHES the Lease (lease-watch.ts: one list, then one watch
// request per 10-20 minute watch timeout, well under one request a minute at idle; the watch cache
// repairs itself after 410 Gone, errors and silence) and keeps the last record seen and the local time
// it first saw it. It tries to take the Lease
// - when leaseDurationSeconds have passed since the last change it saw (the holder stopped renewing;
//   timed by its own clock from the sighting, not from renewTime, so clock skew cannot shorten it),
// - at once when the Lease is free: absent, deleted, or released (holderIdentity cleared),
// - at once when the Lease names this candidate (a restart with the same identity),
// in the first two cases after a random 0..acquireJitterMs: the first candidate's write reaches the
// others through their watch while they wait, and they do not try at all. An attempt is one update
// carrying the resourceVersion of the record seen (or a create), so of two candidates writing the
// same record one gets 409 and has lost: the 409 alone keeps the election safe, the jitter keeps the
// losers' writes off the API server. A 409 the watch has not explained yet (it is stale or down) is
// followed by one read (a list by name); failed requests are retried with back-off.
// Failover after a crash: leaseDuration minus the time from the last renewal to the crash, plus the
// watch's delivery time and the jitter (10-17 s with the defaults).
import { EventEmitter } from 'node:events';
import { CoordinationV1Api, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import { systemClock, type Clock, type TimerHandle } from '@bgp-announce/bgp-speaker';
import { errorText, silentLogger, statusCodeOf, withTimeout, type KubeLogger } from './api-errors.js';
import type { ObjectCache } from './cache.js';
import { backoffDelay, type WatchTuning } from './informer.js';
import { microTime, sameRecord, takeoverAt, watchLease, type LeaseSighting } from './lease-watch.js';

export { leaseExpired, microTime } from './lease-watch.js';

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
  /**
   * How soon a failed renew is retried, and a failed attempt to take the Lease (doubling while it keeps
   * failing, up to the lease duration); also the pause after losing the Lease. Default 2 s.
   */
  retryPeriodMs?: number;
  /** A candidate waits a random 0..acquireJitterMs before taking a free or expired Lease. Default 2 s. */
  acquireJitterMs?: number;
  /** Tuning of the watch on the Lease (watchdog, back-off, watch timeout); clock and logger default to ours. */
  watch?: WatchTuning;
  /** Random numbers in [0, 1) for the jitter and back-off. Default Math.random. */
  random?: () => number;
  clock?: Clock;
  logger?: KubeLogger;
}

export interface LeaderElectionEvents {
  /** This candidate now holds the Lease. */
  leading: [];
  /** This candidate no longer holds the Lease (409 on renew, renew deadline passed, released). */
  lost: [reason: string];
}

/** What a candidate last saw of the Lease (for status and tests). */
export interface LeaseObservation {
  holder?: string;
  resourceVersion?: string;
  /** When this record was first seen (this candidate's clock). */
  observedAt: number;
  /** When this candidate will try to take the Lease (its clock); absent while leading or trying. */
  nextAttemptAt?: number;
}

type Attempt = 'won' | 'conflict' | 'failed';

/** One candidate in the election for one Lease. Call start(); listen for 'leading' and 'lost'. */
export class LeaderElection extends EventEmitter<LeaderElectionEvents> {
  private readonly api: CoordinationV1Api;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;
  private readonly random: () => number;
  private readonly durationSeconds: number;
  private readonly renewIntervalMs: number;
  private readonly renewDeadlineMs: number;
  private readonly retryPeriodMs: number;
  private readonly acquireJitterMs: number;
  private leading = false;
  private running = false;
  /** The Lease as we last wrote it while leading (the next renew carries its resourceVersion). */
  private lease: V1Lease | undefined;
  private cache: ObjectCache<V1Lease> | undefined;
  /** The newest record of the Lease seen (watch or read), and when. */
  private seen: LeaseSighting | undefined;
  private renewTimer: TimerHandle | undefined;
  private acquireTimer: TimerHandle | undefined;
  private nextAttemptAt: number | undefined;
  private deadlineTimer: TimerHandle | undefined;
  private attempting = false;
  /** Attempts in a row that failed without the API server answering (for the back-off). */
  private failures = 0;
  /** No attempt before this time (after a failure or a loss). */
  private notBefore = 0;
  private inflight: Promise<void> = Promise.resolve();
  /** Bumped when leadership is lost or the election stops: answers to older requests are ignored. */
  private epoch = 0;

  constructor(private readonly options: LeaderElectionOptions) {
    super();
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.random = options.random ?? Math.random;
    this.durationSeconds = options.leaseDurationSeconds ?? 15;
    this.renewIntervalMs = options.renewIntervalMs ?? (this.durationSeconds * 1000) / 3;
    this.renewDeadlineMs = options.renewDeadlineMs ?? (this.durationSeconds * 2000) / 3;
    this.retryPeriodMs = options.retryPeriodMs ?? 2000;
    this.acquireJitterMs = options.acquireJitterMs ?? 2000;
  }

  /** Starts campaigning: watches the Lease and takes it when it is (or becomes) free. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.seen = undefined;
    this.notBefore = 0;
    this.failures = 0;
    const { kubeConfig, namespace, name } = this.options;
    const cache = watchLease(kubeConfig, namespace, name, {
      clock: this.clock,
      logger: this.logger,
      ...this.options.watch,
    });
    this.cache = cache;
    cache.on('change', (change, obj) => this.observe(change === 'delete' ? undefined : obj));
    // A Lease that exists arrives as an 'add' before synced() resolves; one that does not, only here.
    void cache.synced().then(() => {
      if (this.cache === cache) this.observe(cache.get(`${namespace}/${name}`));
    });
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** The holder last seen in the Lease (ourselves when leading). */
  holder(): string | undefined {
    return this.leading ? this.options.identity : this.seen?.lease?.spec?.holderIdentity || undefined;
  }

  /** What this candidate last saw of the Lease; undefined before the first list. */
  observed(): LeaseObservation | undefined {
    const seen = this.seen;
    if (seen === undefined) return undefined;
    const o: LeaseObservation = { observedAt: seen.observedAt };
    const holder = seen.lease?.spec?.holderIdentity;
    if (holder) o.holder = holder;
    const rv = seen.lease?.metadata?.resourceVersion;
    if (rv !== undefined) o.resourceVersion = rv;
    if (this.nextAttemptAt !== undefined) o.nextAttemptAt = this.nextAttemptAt;
    return o;
  }

  /** Stops campaigning without touching the Lease (as a crash would: others wait for it to expire). */
  stop(): void {
    this.halt('stopped');
  }

  private halt(reason: string): void {
    this.running = false;
    this.epoch++;
    this.clearRenew();
    this.clearAcquire();
    this.cache?.stop();
    this.cache = undefined;
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
      await withTimeout(
        this.api.replaceNamespacedLease({
          name: this.options.name,
          namespace: this.options.namespace,
          body: { ...lease, spec },
        }),
        this.renewDeadlineMs,
      );
      this.logger.info({ lease: this.leaseName() }, 'leader election: released the lease');
    } catch (err) {
      this.logger.warn(
        { lease: this.leaseName(), err: errorText(err) },
        'leader election: could not release the lease; it will expire',
      );
    }
  }

  private leaseName(): string {
    return `${this.options.namespace}/${this.options.name}`;
  }

  /** A record from the watch or a read: if it is new, note when we saw it and plan the next attempt. */
  private observe(lease: V1Lease | undefined): void {
    if (!this.running) return;
    if (this.seen !== undefined && sameRecord(this.seen.lease, lease)) return;
    this.seen = { lease, observedAt: this.clock.now() };
    this.plan();
  }

  /** Arms the timer of the next attempt to take the Lease (candidates only). */
  private plan(): void {
    this.clearAcquire();
    const seen = this.seen;
    if (!this.running || this.leading || this.attempting || seen === undefined) return;
    const takeover = takeoverAt(seen, this.options.identity, this.durationSeconds);
    const jitter = takeover.reason === 'ours' ? 0 : Math.floor(this.random() * this.acquireJitterMs);
    const at = Math.max(takeover.at + jitter, this.notBefore);
    this.nextAttemptAt = at;
    this.acquireTimer = this.clock.setTimer(Math.max(0, at - this.clock.now()), () => {
      this.acquireTimer = undefined;
      this.nextAttemptAt = undefined;
      this.inflight = this.attempt();
    });
  }

  private clearAcquire(): void {
    if (this.acquireTimer !== undefined) this.clock.clearTimer(this.acquireTimer);
    this.acquireTimer = undefined;
    this.nextAttemptAt = undefined;
  }

  private scheduleRenew(ms: number): void {
    this.clearRenew();
    if (!this.running || !this.leading) return;
    this.renewTimer = this.clock.setTimer(ms, () => {
      this.renewTimer = undefined;
      this.inflight = this.renewTick();
    });
  }

  private clearRenew(): void {
    if (this.renewTimer !== undefined) this.clock.clearTimer(this.renewTimer);
    this.renewTimer = undefined;
  }

  /** One try to take the Lease as last seen; then lead, or plan the next try. */
  private async attempt(): Promise<void> {
    const epoch = this.epoch;
    const seen = this.seen;
    if (!this.running || this.leading || seen === undefined) return;
    this.attempting = true;
    let outcome: Attempt = 'failed';
    try {
      outcome = await this.tryAcquire(epoch, seen.lease);
      // 409 (or 404: gone meanwhile) and the watch has not shown us why yet: read the Lease once.
      if (outcome === 'conflict' && epoch === this.epoch && this.seen === seen) await this.refresh(epoch);
    } catch (err) {
      this.logger.error({ lease: this.leaseName(), err: errorText(err) }, 'leader election: unexpected error');
    } finally {
      this.attempting = false;
    }
    if (epoch !== this.epoch || !this.running) return;
    if (this.leading) {
      this.failures = 0;
      this.scheduleRenew(this.renewIntervalMs);
      return;
    }
    if (outcome === 'conflict') this.failures = 0;
    // An attempt that neither won nor taught us something new must not be repeated at once.
    if (this.seen === seen) {
      const backoff = {
        initialMs: this.retryPeriodMs,
        maxMs: Math.max(this.retryPeriodMs, this.durationSeconds * 1000),
        random: this.random,
      };
      this.notBefore = this.clock.now() + backoffDelay(this.failures++, backoff);
    }
    this.plan();
  }

  /**
   * Reads the Lease (after a 409 the watch has not explained), as the watch does: a list selecting it
   * by name, so that RBAC needs list, watch and update on this one name, and no get.
   */
  private async refresh(epoch: number): Promise<void> {
    const { name, namespace } = this.options;
    try {
      const list = await withTimeout(
        this.api.listNamespacedLease({ namespace, fieldSelector: `metadata.name=${name}` }),
        this.renewDeadlineMs,
      );
      const lease = list.items.find((l) => l.metadata?.name === name);
      if (epoch === this.epoch)
        this.observe(lease === undefined ? undefined : (JSON.parse(JSON.stringify(lease)) as V1Lease));
    } catch (err) {
      this.logger.warn({ lease: this.leaseName(), err: errorText(err) }, 'leader election: cannot read the lease');
    }
  }

  private async renewTick(): Promise<void> {
    const epoch = this.epoch;
    if (!this.leading) return;
    let ok = false;
    try {
      ok = await this.renew(epoch);
    } catch (err) {
      this.logger.error({ lease: this.leaseName(), err: errorText(err) }, 'leader election: unexpected error');
    }
    if (epoch !== this.epoch || !this.running) return;
    if (this.leading)
      this.scheduleRenew(ok ? this.renewIntervalMs : Math.min(this.retryPeriodMs, this.renewIntervalMs));
    else this.plan();
  }

  /** Renews our Lease; false when it failed (and was perhaps lost). */
  private async renew(epoch: number): Promise<boolean> {
    const lease = this.lease!;
    const stamped = this.clock.now();
    const body: V1Lease = {
      ...lease,
      spec: { ...lease.spec, holderIdentity: this.options.identity, renewTime: microTime(stamped) },
    };
    try {
      const renewed = await withTimeout(
        this.api.replaceNamespacedLease({ name: this.options.name, namespace: this.options.namespace, body }),
        this.renewDeadlineMs,
      );
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

  /** Takes the Lease as seen (`current`; undefined: create it) with one write carrying its resourceVersion. */
  private async tryAcquire(epoch: number, current: V1Lease | undefined): Promise<Attempt> {
    const { name, namespace, identity } = this.options;
    const now = this.clock.now();
    if (current === undefined) {
      const spec = {
        holderIdentity: identity,
        leaseDurationSeconds: this.durationSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      };
      return this.write(epoch, now, () =>
        this.api.createNamespacedLease({
          namespace,
          body: { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
        }),
      );
    }
    const spec = current.spec ?? {};
    const ours = spec.holderIdentity === identity;
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

  private async write(epoch: number, stamped: number, request: () => Promise<V1Lease>): Promise<Attempt> {
    try {
      const lease = await withTimeout(request(), this.renewDeadlineMs);
      if (epoch !== this.epoch) return 'failed';
      this.holding(lease, stamped);
      return this.leading ? 'won' : 'failed';
    } catch (err) {
      // 409: another candidate wrote first (it won this round); 404: the Lease was deleted meanwhile.
      const code = statusCodeOf(err);
      if (code === 409 || code === 404) return 'conflict';
      this.logger.warn({ lease: this.leaseName(), err: errorText(err) }, 'leader election: cannot take the lease');
      return 'failed';
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
      this.clearRenew();
      this.lose(`could not renew the lease within ${this.renewDeadlineMs} ms`);
      this.plan();
    });
    if (!this.leading) {
      this.leading = true;
      this.clearAcquire();
      this.logger.info({ lease: this.leaseName(), identity: this.options.identity }, 'leader election: leading');
      this.emit('leading');
    }
  }

  private lose(reason: string): void {
    this.clearDeadline();
    if (!this.leading) return;
    this.leading = false;
    // Not straight back: whatever made us lose (a conflict, an unreachable server) needs a moment.
    this.notBefore = this.clock.now() + this.retryPeriodMs;
    this.logger.warn({ lease: this.leaseName(), reason }, 'leader election: lost the lease');
    this.emit('lost', reason);
  }

  private clearDeadline(): void {
    if (this.deadlineTimer !== undefined) this.clock.clearTimer(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }
}
