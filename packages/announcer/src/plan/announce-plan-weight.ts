// A node's weight for weighted ECMP (BGPAdvertisement weightedECMP) with externalTrafficPolicy
// Cluster: the integer value of the advertisement's node weight label, or its default.
import type { BGPAdvertisement } from '../config/types.js';
import { MAX_NODE_WEIGHT } from '../config/validate-weighted-ecmp.js';

/**
 * This node's weight under advertisement `a` (which has weightedECMP): its nodeWeightLabel's value
 * when that is an integer 0-1000000, else defaultNodeWeight; a label value that is not a weight is
 * warned about and the default used.
 */
export function nodeWeight(
  a: BGPAdvertisement,
  nodeName: string,
  labels: Readonly<Record<string, string>> | undefined,
  warnings: string[],
): number {
  const w = a.weightedECMP!;
  const label = w.nodeWeightLabel;
  if (label === undefined || labels === undefined || !Object.hasOwn(labels, label)) return w.defaultNodeWeight;
  const text = labels[label]!;
  const value = /^\d{1,7}$/.test(text) ? Number(text) : Number.NaN;
  if (value <= MAX_NODE_WEIGHT) return value;
  warnings.push(
    `node ${nodeName} label ${label}=${JSON.stringify(text)} is not a weight (an integer 0-${MAX_NODE_WEIGHT}); BGPAdvertisement ${a.name} uses its defaultNodeWeight ${w.defaultNodeWeight}`,
  );
  return w.defaultNodeWeight;
}
