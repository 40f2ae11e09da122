// Kubernetes Events (core/v1) about the objects we act on, mostly Services: "IPAllocated",
// "AnnouncementStarted", "PoolExhausted"... Repeats of the same reason and message on the same object
// within 10 minutes update the existing Event (count + 1, lastTimestamp) instead of piling up new
// ones, as kubectl describe users expect. Each object has a small burst budget that refills slowly,
// so a flapping Service cannot flood the API server. Recording never throws and never blocks the
// caller: writes are queued and failures are logged.
import { CoreV1Api, type CoreV1Event, type KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock } from '@bgp-announce/bgp-speaker';
import { errorText, silentLogger, statusCodeOf, withTimeout, type KubeLogger } from './api-errors.js';

/** Our name as the reporting controller of Events. */
export const REPORTING_CONTROLLER = 'bgp-announce.io/controller';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about (a Service from the cache fits; kind defaults to Service). */
export interface InvolvedObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

export interface EventRecorderOptions {
  kubeConfig: KubeConfig;
  /** Which instance reports (the node name). */
  reportingInstance: string;
  /** Default REPORTING_CONTROLLER. */
  reportingController?: string;
  /** Repeats within this window update the existing Event. Default 10 minutes. */
  aggregateWindowMs?: number;
  /** Events allowed per involved object at once. Default 25. */
  burst?: number;
  /** One more Event allowed per object after this long. Default 5 minutes (as client-go). */
  refillMs?: number;
  clock?: Clock;
  logger?: KubeLogger;
}

interface Recent {
  event: CoreV1Event;
  lastSeen: number;
}

interface Bucket {
  tokens: number;
  updated: number;
}

const MAX_REMEMBERED = 4096;
/** A write that has not answered by then is given up (and logged), so the queue moves on. */
const REQUEST_TIMEOUT_MS = 30_000;

/** Writes Events; see the file comment. */
export class EventRecorder {
  private readonly api: CoreV1Api;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;
  private readonly controller: string;
  private readonly windowMs: number;
  private readonly burst: number;
  private readonly refillMs: number;
  private readonly recent = new Map<string, Recent>();
  private readonly buckets = new Map<string, Bucket>();
  private queue: Promise<void> = Promise.resolve();
  private sequence = 0;
  /** Events dropped by the rate limit since start. */
  dropped = 0;

  constructor(private readonly options: EventRecorderOptions) {
    this.api = options.kubeConfig.makeApiClient(CoreV1Api);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.controller = options.reportingController ?? REPORTING_CONTROLLER;
    this.windowMs = options.aggregateWindowMs ?? 10 * 60_000;
    this.burst = options.burst ?? 25;
    this.refillMs = options.refillMs ?? 5 * 60_000;
  }

  /** Records an Event about `object` (queued; see flush()). */
  record(object: InvolvedObject, type: EventType, reason: string, message: string): void {
    const namespace = object.metadata?.namespace ?? 'default';
    const name = object.metadata?.name;
    if (name === undefined || name === '') {
      this.logger.warn({ reason }, 'event: the object has no name; not recorded');
      return;
    }
    const objectKey = `${object.kind ?? 'Service'}/${namespace}/${name}/${object.metadata?.uid ?? ''}`;
    if (!this.take(objectKey)) {
      this.dropped++;
      this.logger.debug({ object: `${namespace}/${name}`, reason }, 'event: rate limit reached; dropped');
      return;
    }
    const now = this.clock.now();
    this.queue = this.queue.then(() =>
      this.write(object, namespace, name, `${objectKey}|${type}|${reason}|${message}`, type, reason, message, now),
    );
  }

  /** Resolves when every Event recorded so far has been written (or has failed). */
  flush(): Promise<void> {
    return this.queue;
  }

  /** Token bucket per involved object. */
  private take(key: string): boolean {
    const now = this.clock.now();
    const bucket = this.buckets.get(key) ?? { tokens: this.burst, updated: now };
    const refilled = Math.floor((now - bucket.updated) / this.refillMs);
    if (refilled > 0) {
      bucket.tokens = Math.min(this.burst, bucket.tokens + refilled);
      bucket.updated += refilled * this.refillMs;
    }
    if (bucket.tokens === this.burst) bucket.updated = now;
    this.buckets.delete(key);
    this.buckets.set(key, bucket);
    if (this.buckets.size > MAX_REMEMBERED) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens <= 0) return false;
    bucket.tokens--;
    return true;
  }

  private async write(
    object: InvolvedObject,
    namespace: string,
    name: string,
    key: string,
    type: EventType,
    reason: string,
    message: string,
    now: number,
  ): Promise<void> {
    try {
      const recent = this.recent.get(key);
      if (recent !== undefined && now - recent.lastSeen <= this.windowMs) {
        const updated = await this.repeat(recent.event, now);
        if (updated !== undefined) {
          this.remember(key, updated, now);
          return;
        }
      }
      const body = this.newEvent(object, namespace, name, type, reason, message, now);
      const event = await withTimeout(this.api.createNamespacedEvent({ namespace, body }), REQUEST_TIMEOUT_MS);
      this.remember(key, event, now);
    } catch (err) {
      this.logger.warn({ object: `${namespace}/${name}`, reason, err: errorText(err) }, 'event: could not be written');
    }
  }

  /** count + 1 on an existing Event; undefined when it is gone (a new one is then created). */
  private async repeat(event: CoreV1Event, now: number): Promise<CoreV1Event | undefined> {
    const name = event.metadata.name!;
    const namespace = event.metadata.namespace!;
    let base = event;
    for (let attempt = 0; attempt < 2; attempt++) {
      const body: CoreV1Event = { ...base, count: (base.count ?? 1) + 1, lastTimestamp: new Date(now) };
      try {
        return await withTimeout(this.api.replaceNamespacedEvent({ name, namespace, body }), REQUEST_TIMEOUT_MS);
      } catch (err) {
        const code = statusCodeOf(err);
        if (code === 404) return undefined;
        if (code !== 409 || attempt > 0) throw err;
        // Someone else changed it (another instance counted too): count on from the stored one.
        base = await withTimeout(this.api.readNamespacedEvent({ name, namespace }), REQUEST_TIMEOUT_MS);
      }
    }
    return undefined;
  }

  private remember(key: string, event: CoreV1Event, now: number): void {
    this.recent.delete(key);
    this.recent.set(key, { event, lastSeen: now });
    for (const [k, r] of this.recent) {
      if (this.recent.size <= MAX_REMEMBERED && now - r.lastSeen <= this.windowMs) break;
      this.recent.delete(k);
    }
  }

  private newEvent(
    object: InvolvedObject,
    namespace: string,
    name: string,
    type: EventType,
    reason: string,
    message: string,
    now: number,
  ): CoreV1Event {
    const involved: CoreV1Event['involvedObject'] = {
      apiVersion: object.apiVersion ?? 'v1',
      kind: object.kind ?? 'Service',
      name,
      namespace,
    };
    if (object.metadata?.uid !== undefined) involved.uid = object.metadata.uid;
    if (object.metadata?.resourceVersion !== undefined) involved.resourceVersion = object.metadata.resourceVersion;
    // Unique per Event, like client-go's "<object>.<hex nanoseconds>".
    const suffix = (BigInt(now) * 1_000_000n + BigInt(this.sequence++ % 1_000_000)).toString(16);
    return {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { name: `${name}.${suffix}`, namespace },
      involvedObject: involved,
      type,
      reason,
      message: message.length > 1024 ? `${message.slice(0, 1021)}...` : message,
      count: 1,
      firstTimestamp: new Date(now),
      lastTimestamp: new Date(now),
      source: { component: this.controller, host: this.options.reportingInstance },
      reportingComponent: this.controller,
      reportingInstance: this.options.reportingInstance,
    };
  }
}
