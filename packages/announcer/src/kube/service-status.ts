// What we write on Services, all of it by the leader (the allocator): the load balancer addresses
// (status.loadBalancer.ingress with ipMode VIP), conditions (IPAllocated, and Announced aggregated
// from every node's BGPNodeState: announced-aggregate.ts), and the load-balancer-cleanup finalizer.
// Mutations are pure functions of the object; ServiceWriter does the read-modify-write with the
// resourceVersion and retries on 409 Conflict (someone else, kubectl or another controller, wrote it).
import type { CoreV1Api, V1Service } from '@kubernetes/client-node';
import { CLEANUP_FINALIZER, type Service } from '../service/model.js';
import { errorText, statusCodeOf } from './api-errors.js';

/** A metav1.Condition as we write it. */
export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime?: Date | string;
}

/** Our name in the objects' managedFields (`bgp-announce check` looks for other managers). */
export const FIELD_MANAGER = 'bgp-announce';

/** The allocator's condition type. */
export const ALLOCATED_CONDITION = 'bgp-announce.io/IPAllocated';

/** The ingress addresses the Service's status shows. */
export function ingressIps(svc: Service): string[] {
  return (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
}

/** Sets status.loadBalancer.ingress to `ips` (ipMode VIP); false when it already says exactly that. */
export function setIngress(svc: Service, ips: readonly string[]): boolean {
  const current = svc.status?.loadBalancer?.ingress ?? [];
  if (
    current.length === ips.length &&
    current.every((c, i) => c.ip === ips[i] && c.ipMode === 'VIP' && c.hostname === undefined)
  )
    return false;
  svc.status = {
    ...svc.status,
    loadBalancer: { ...svc.status?.loadBalancer, ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' })) },
  };
  return true;
}

/**
 * Sets one condition (by type); the transition time moves only when the status changes. Returns
 * false when nothing changed.
 */
export function setCondition(svc: Service, condition: Condition, now: Date = new Date()): boolean {
  const conditions = [...(svc.status?.conditions ?? [])];
  const i = conditions.findIndex((c) => c.type === condition.type);
  const old = i >= 0 ? conditions[i] : undefined;
  if (old && old.status === condition.status && old.reason === condition.reason && old.message === condition.message)
    return false;
  const next = {
    ...condition,
    lastTransitionTime: old && old.status === condition.status && old.lastTransitionTime ? old.lastTransitionTime : now,
  };
  if (i >= 0) conditions[i] = next;
  else conditions.push(next);
  svc.status = { ...svc.status, conditions };
  return true;
}

/** Removes a condition by type; false when there was none. */
export function removeCondition(svc: Service, type: string): boolean {
  const conditions = svc.status?.conditions ?? [];
  if (!conditions.some((c) => c.type === type)) return false;
  svc.status = { ...svc.status, conditions: conditions.filter((c) => c.type !== type) };
  return true;
}

/** Adds (or removes) the load-balancer-cleanup finalizer; false when it was already so. */
export function setFinalizer(svc: Service, present: boolean): boolean {
  const finalizers = svc.metadata?.finalizers ?? [];
  if (finalizers.includes(CLEANUP_FINALIZER) === present) return false;
  svc.metadata = {
    ...svc.metadata,
    finalizers: present ? [...finalizers, CLEANUP_FINALIZER] : finalizers.filter((f) => f !== CLEANUP_FINALIZER),
  };
  return true;
}

/** A Service that is gone (404): there is nothing left to write. */
export class ServiceGoneError extends Error {
  constructor(readonly key: string) {
    super(`Service ${key} no longer exists`);
    this.name = 'ServiceGoneError';
  }
}

/**
 * Read-modify-write of Services. `mutate` changes the object in place and returns whether it changed
 * anything; nothing is written when it did not. On 409 Conflict the object is read again and the
 * mutation re-applied (up to `attempts` times).
 */
export class ServiceWriter {
  constructor(
    private readonly api: CoreV1Api,
    private readonly attempts = 5,
  ) {}

  /** Changes the status subresource. Resolves true when something was written. */
  async updateStatus(key: string, mutate: (svc: Service) => boolean, cached?: Service): Promise<boolean> {
    return (await this.writeStatus(key, mutate, cached)).written;
  }

  /** updateStatus that also gives the object as the API server now has it (see writeObject). */
  writeStatus(
    key: string,
    mutate: (svc: Service) => boolean,
    cached?: Service,
  ): Promise<{ written: boolean; object: Service }> {
    return this.write(key, mutate, cached, (namespace, name, body) =>
      this.api.replaceNamespacedServiceStatus({ namespace, name, body, fieldManager: FIELD_MANAGER }),
    );
  }

  /** Changes the object itself (metadata: finalizers). Resolves true when something was written. */
  async updateObject(key: string, mutate: (svc: Service) => boolean, cached?: Service): Promise<boolean> {
    return (await this.writeObject(key, mutate, cached)).written;
  }

  /**
   * updateObject that also gives the object as the API server now has it (the PUT's answer, or the
   * object read when nothing needed writing), so a status write that follows does not start from a
   * stale resourceVersion and pay a 409.
   */
  writeObject(
    key: string,
    mutate: (svc: Service) => boolean,
    cached?: Service,
  ): Promise<{ written: boolean; object: Service }> {
    return this.write(key, mutate, cached, (namespace, name, body) =>
      this.api.replaceNamespacedService({ namespace, name, body, fieldManager: FIELD_MANAGER }),
    );
  }

  private async write(
    key: string,
    mutate: (svc: Service) => boolean,
    cached: Service | undefined,
    put: (namespace: string, name: string, body: V1Service) => Promise<V1Service>,
  ): Promise<{ written: boolean; object: Service }> {
    const slash = key.indexOf('/');
    const namespace = key.slice(0, slash);
    const name = key.slice(slash + 1);
    let current: Service | undefined = cached ? structuredClone(cached) : undefined;
    for (let attempt = 1; ; attempt++) {
      if (current === undefined) {
        try {
          current = (await this.api.readNamespacedService({ namespace, name })) as Service;
        } catch (err) {
          if (statusCodeOf(err) === 404) throw new ServiceGoneError(key);
          throw new Error(`reading Service ${key}: ${errorText(err)}`);
        }
      }
      if (!mutate(current)) return { written: false, object: current };
      try {
        const answer = (await put(namespace, name, current as V1Service)) as Service | undefined;
        return { written: true, object: answer ?? current };
      } catch (err) {
        const code = statusCodeOf(err);
        if (code === 404) throw new ServiceGoneError(key);
        if (code !== 409 || attempt >= this.attempts) throw new Error(`writing Service ${key}: ${errorText(err)}`);
        current = undefined; // someone else wrote it meanwhile: read it again and re-apply
      }
    }
  }
}
