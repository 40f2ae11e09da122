// A Service's MetalLB annotations, for the report. Nothing is written for a Service: the annotations
// that have an equivalent are read by bgp-announce under MetalLB's keys as well (service/annotations.ts).
import { isFields, type Fields } from '../config/check.js';
import { METALLB_ANNOTATIONS, annotationKeys } from '../service/annotations.js';
import { ANNOTATION } from '../service/model.js';
import { type ImportContext, kept, needsUser } from './metallb-context.js';

const METALLB_PREFIXES = ['metallb.io/', 'metallb.universe.tf/'];
/** Written by MetalLB's controller on the Services it allocated for; nothing to carry over. */
const ALLOCATED_FROM = ['metallb.io/ip-allocated-from-pool', 'metallb.universe.tf/ip-allocated-from-pool'];

/** True when the Service carries any annotation under MetalLB's prefixes (only those are reported). */
export function hasMetalLBAnnotations(object: Fields): boolean {
  const annotations = isFields(object.metadata) ? object.metadata.annotations : undefined;
  return isFields(annotations) && Object.keys(annotations).some((k) => METALLB_PREFIXES.some((p) => k.startsWith(p)));
}

/** Notes for each MetalLB annotation of a Service: honoured (kept), MetalLB's own bookkeeping, or no equivalent. */
export function reportServiceAnnotations(ctx: ImportContext, object: Fields): void {
  const annotations = isFields(object.metadata) ? object.metadata.annotations : undefined;
  if (!isFields(annotations)) return;
  for (const key of Object.keys(annotations)) {
    if (!METALLB_PREFIXES.some((p) => key.startsWith(p))) continue;
    const field = `metadata.annotations[${JSON.stringify(key)}]`;
    const ours = (Object.keys(METALLB_ANNOTATIONS) as (keyof typeof ANNOTATION)[]).find((name) =>
      METALLB_ANNOTATIONS[name].includes(key),
    );
    if (ours !== undefined) {
      const winner = annotationKeys(ours).find((k) => typeof annotations[k] === 'string');
      kept(
        ctx,
        field,
        winner !== undefined && winner !== key
          ? `not read: the Service also carries ${winner}, which wins`
          : `read by bgp-announce as ${ANNOTATION[ours]} is: no edit needed`,
      );
    } else if (ALLOCATED_FROM.includes(key))
      kept(ctx, field, "written by MetalLB's controller: not read (bgp-announce writes the Service's status)");
    else needsUser(ctx, field, 'no equivalent in bgp-announce: not read');
  }
}
