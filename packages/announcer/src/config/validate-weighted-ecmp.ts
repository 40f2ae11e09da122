// BGPAdvertisement spec.weightedECMP: weighted ECMP by the RFC 10005 link bandwidth extended
// community. How a node's weight is found (endpoints for Local Services, a node label for Cluster
// ones), the bandwidth one unit of weight stands for, the community's form, and how often a weight
// change alone may be re-announced.
import {
  type Fields,
  type ObjectContext,
  checkUnknownFields,
  join,
  readBoolean,
  readFields,
  readInteger,
  readString,
  report,
} from './check.js';
import { ADVERTISEMENT_SPEC_FIELDS } from './fields.js';
import { parseDuration } from './duration.js';
import { labelKeyProblem } from './labels.js';
import type { WeightedECMP } from './types.js';

export const WEIGHTED_ECMP_DEFAULTS = {
  defaultNodeWeight: 1,
  bandwidthPerWeight: '1Mbps',
  transitive: true,
  minUpdateInterval: '5s',
} as const;

/** The largest node weight (label value or default): a million Mbps per node is past any link. */
export const MAX_NODE_WEIGHT = 1_000_000;

const UNIT_BYTES_PER_SECOND: Readonly<Record<string, number>> = {
  bps: 1 / 8,
  kbps: 1e3 / 8,
  mbps: 1e6 / 8,
  gbps: 1e9 / 8,
};

/**
 * "1Mbps", "100Kbps", "2.5Gbps", "800bps" (bits per second, decimal units, case-insensitive) to bytes
 * per second, or a message saying what is wrong.
 */
export function parseBandwidth(text: string): number | string {
  const m = /^(\d+(?:\.\d+)?)\s*(bps|kbps|mbps|gbps)$/i.exec(text);
  if (m === null) return `must be a bandwidth such as "1Mbps", "100Kbps" or "10Gbps", got ${JSON.stringify(text)}`;
  const bytes = Number(m[1]) * UNIT_BYTES_PER_SECOND[m[2]!.toLowerCase()]!;
  if (!(bytes > 0)) return `must be more than 0, got ${JSON.stringify(text)}`;
  if (bytes * MAX_NODE_WEIGHT > 3.4e38) return `is too large, got ${JSON.stringify(text)}`;
  return bytes;
}

/** spec.weightedECMP with defaults filled, undefined when absent or (with problems recorded) bad. */
export function readWeightedECMP(ctx: ObjectContext, spec: Fields): WeightedECMP | undefined {
  const w = readFields(ctx, spec, 'weightedECMP', 'spec');
  if (w === undefined) return undefined;
  const path = 'spec.weightedECMP';
  const before = ctx.problems.length;
  checkUnknownFields(ctx, w, ADVERTISEMENT_SPEC_FIELDS.weightedECMP, path);
  const nodeWeightLabel = readString(ctx, w, 'nodeWeightLabel', path);
  if (nodeWeightLabel !== undefined) {
    const problem = labelKeyProblem(nodeWeightLabel);
    if (problem !== undefined) report(ctx, join(path, 'nodeWeightLabel'), problem);
  }
  const defaultNodeWeight =
    readInteger(ctx, w, 'defaultNodeWeight', path, 0, MAX_NODE_WEIGHT) ?? WEIGHTED_ECMP_DEFAULTS.defaultNodeWeight;
  const bandwidthText = readString(ctx, w, 'bandwidthPerWeight', path) ?? WEIGHTED_ECMP_DEFAULTS.bandwidthPerWeight;
  const bytesPerSecondPerWeight = parseBandwidth(bandwidthText);
  if (typeof bytesPerSecondPerWeight === 'string')
    report(ctx, join(path, 'bandwidthPerWeight'), bytesPerSecondPerWeight);
  const transitive = readBoolean(ctx, w, 'transitive', path) ?? WEIGHTED_ECMP_DEFAULTS.transitive;
  const intervalText = readString(ctx, w, 'minUpdateInterval', path) ?? WEIGHTED_ECMP_DEFAULTS.minUpdateInterval;
  const seconds = parseDuration(intervalText);
  if (typeof seconds === 'string') report(ctx, join(path, 'minUpdateInterval'), seconds);
  else if (seconds > 600)
    report(ctx, join(path, 'minUpdateInterval'), `must be at most 10m, got ${JSON.stringify(intervalText)}`);
  if (ctx.problems.length !== before || typeof bytesPerSecondPerWeight === 'string' || typeof seconds === 'string')
    return undefined;
  const out: WeightedECMP = {
    defaultNodeWeight,
    bytesPerSecondPerWeight,
    transitive,
    minUpdateIntervalMs: Math.round(seconds * 1000),
  };
  if (nodeWeightLabel !== undefined) out.nodeWeightLabel = nodeWeightLabel;
  return out;
}
