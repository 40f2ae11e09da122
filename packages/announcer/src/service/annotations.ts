// The Service annotations we read, under our keys and under MetalLB's, so that Services moved from
// MetalLB need no edits. Ours win when both are set; of MetalLB's, the current metallb.io/ key wins
// over metallb.universe.tf/, which MetalLB keeps reading as deprecated.
import { ANNOTATION, type ObjectMeta } from './model.js';

/** MetalLB's keys for each of our annotations, in the order they are read after ours. */
export const METALLB_ANNOTATIONS: Readonly<Record<keyof typeof ANNOTATION, readonly string[]>> = {
  loadBalancerIPs: ['metallb.io/loadBalancerIPs', 'metallb.universe.tf/loadBalancerIPs'],
  addressPool: ['metallb.io/address-pool', 'metallb.universe.tf/address-pool'],
  allowSharedIP: ['metallb.io/allow-shared-ip', 'metallb.universe.tf/allow-shared-ip'],
};

/** Every key read for one annotation: ours first, then MetalLB's. */
export function annotationKeys(name: keyof typeof ANNOTATION): readonly string[] {
  return [ANNOTATION[name], ...METALLB_ANNOTATIONS[name]];
}

/**
 * The annotation's value and the key it was read under: the first key of annotationKeys(name) that
 * the Service carries (even with an empty value: a key of ours that is set is never overridden by
 * MetalLB's). Undefined when it carries none of them.
 */
export function readServiceAnnotation(
  svc: { metadata?: ObjectMeta },
  name: keyof typeof ANNOTATION,
): { key: string; value: string } | undefined {
  const annotations = svc.metadata?.annotations;
  if (annotations === undefined || annotations === null) return undefined;
  for (const key of annotationKeys(name)) {
    const value = annotations[key];
    if (typeof value === 'string') return { key, value };
  }
  return undefined;
}
