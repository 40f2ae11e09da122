// The Lease as a candidate sees it without polling: a watch on the one Lease (fieldSelector
// metadata.name=<name>), kept by the project's watch cache (informer.ts: 410 re-list, back-off,
// watchdog), the rule that says when a candidate may try to take it, and the Lease's time format.
//
// Expiry is measured from when this candidate saw the Lease change, by its own clock, not from the
// renewTime the holder wrote (as client-go's leader election does): clocks of different nodes may
// disagree by more than the margin between the renew deadline and the lease duration, and a candidate
// whose clock runs ahead must not take a Lease that is being renewed.
import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { ObjectCache } from './cache.js';
import { watchCache, type WatchTuning } from './informer.js';

/** The Lease (one name in one namespace) as a self-repairing cache of zero or one object. */
export function watchLease(
  kubeConfig: KubeConfig,
  namespace: string,
  name: string,
  tuning: WatchTuning = {},
): ObjectCache<V1Lease> {
  const coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  return watchCache<V1Lease>({
    ...tuning,
    kubeConfig,
    name: `lease ${namespace}/${name}`,
    path: `/apis/coordination.k8s.io/v1/namespaces/${encodeURIComponent(namespace)}/leases`,
    fieldSelector: `metadata.name=${name}`,
    list: (s) => coordination.listNamespacedLease({ namespace, ...s }),
  });
}

/** A record of the Lease (undefined: there is none) and the local time it was first seen. */
export interface LeaseSighting {
  lease: V1Lease | undefined;
  observedAt: number;
}

/** Both absent, or the same resourceVersion (a renewal always writes a new one). */
export function sameRecord(a: V1Lease | undefined, b: V1Lease | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ra = a.metadata?.resourceVersion;
  return ra !== undefined && ra === b.metadata?.resourceVersion;
}

/** Why a candidate may take the Lease, and from when (by its own clock). */
export interface Takeover {
  /** absent/free: nobody holds it (take it after a jitter); ours: it names us; held: wait for expiry. */
  reason: 'absent' | 'free' | 'ours' | 'held';
  at: number;
}

/**
 * When `identity` may try to take the Lease last seen in `seen`: at once if it is absent, released
 * (no holder) or ours; otherwise once its leaseDurationSeconds (ours, `defaultSeconds`, if it has none)
 * have passed since the record was seen without a newer one.
 */
export function takeoverAt(seen: LeaseSighting, identity: string, defaultSeconds: number): Takeover {
  const spec = seen.lease?.spec;
  if (seen.lease === undefined) return { reason: 'absent', at: seen.observedAt };
  if (spec?.holderIdentity === undefined || spec.holderIdentity === '') return { reason: 'free', at: seen.observedAt };
  if (spec.holderIdentity === identity) return { reason: 'ours', at: seen.observedAt };
  const declared = spec.leaseDurationSeconds;
  const seconds = declared !== undefined && declared > 0 ? declared : defaultSeconds;
  return { reason: 'held', at: seen.observedAt + seconds * 1000 };
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

/**
 * The Lease is free: nobody holds it, or its renewTime + leaseDurationSeconds is before `nowMs` (by
 * the writer's clock; the election itself uses takeoverAt, which does not trust other clocks).
 */
export function leaseExpired(lease: V1Lease, nowMs: number): boolean {
  const spec = lease.spec;
  if (spec?.holderIdentity === undefined || spec.holderIdentity === '') return true;
  const renewed = timeMs(spec.renewTime) ?? timeMs(spec.acquireTime);
  if (renewed === undefined) return true;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 < nowMs;
}
