// IPAddressPool: the addresses Services get their VIPs from. Checks one object; overlaps between
// pools are checked across the whole config (cross-check.ts).
import { parseAddressRange, rangesOverlap } from './address.js';
import { POOL_SPEC_FIELDS } from './fields.js';
import {
  type Fields,
  type ObjectContext,
  checkUnknownFields,
  readBoolean,
  readFields,
  readInteger,
  readStringList,
  report,
} from './check.js';
import { readLabelSelectors } from './labels.js';
import type { AddressRange, IPAddressPool, ServiceAllocation } from './types.js';

const DNS_LABEL_RE = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** The pool with defaults filled (autoAssign true, avoidBuggyIPs false), or undefined with problems recorded. */
export function validatePool(
  ctx: ObjectContext,
  spec: Fields,
  labels: Record<string, string>,
): IPAddressPool | undefined {
  const before = ctx.problems.length;
  checkUnknownFields(ctx, spec, POOL_SPEC_FIELDS, 'spec');
  const ranges: AddressRange[] = [];
  readStringList(ctx, spec, 'addresses', 'spec', true).forEach((text) => {
    // Index in the original list, for the field path (readStringList drops bad entries).
    const index = (spec.addresses as unknown[]).indexOf(text);
    const at = `spec.addresses[${index}]`;
    const range = parseAddressRange(text);
    if (typeof range === 'string') {
      report(ctx, at, `${range} (write a prefix like "192.0.2.0/28" or a range like "192.0.2.10-192.0.2.20")`);
      return;
    }
    const clash = ranges.find((r) => rangesOverlap(r, range));
    if (clash) {
      report(ctx, at, `${JSON.stringify(text)} overlaps ${JSON.stringify(clash.text)} of the same pool`);
      return;
    }
    ranges.push(range);
  });
  const autoAssign = readBoolean(ctx, spec, 'autoAssign', 'spec') ?? true;
  const avoidBuggyIPs = readBoolean(ctx, spec, 'avoidBuggyIPs', 'spec') ?? false;
  const allocation = readFields(ctx, spec, 'serviceAllocation', 'spec');
  const serviceAllocation =
    allocation === undefined ? undefined : readServiceAllocation(ctx, allocation, 'spec.serviceAllocation');
  if (ctx.problems.length !== before) return undefined;
  const pool: IPAddressPool = { name: ctx.name, ranges, autoAssign, avoidBuggyIPs, labels: { ...labels } };
  if (serviceAllocation !== undefined) pool.serviceAllocation = serviceAllocation;
  return pool;
}

function readServiceAllocation(ctx: ObjectContext, allocation: Fields, path: string): ServiceAllocation {
  checkUnknownFields(ctx, allocation, POOL_SPEC_FIELDS.serviceAllocation, path);
  const priority = readInteger(ctx, allocation, 'priority', path, 0, 2147483647);
  const namespaces = readStringList(ctx, allocation, 'namespaces', path);
  namespaces.forEach((ns) => {
    if (!DNS_LABEL_RE.test(ns)) {
      const index = (allocation.namespaces as unknown[]).indexOf(ns);
      report(
        ctx,
        `${path}.namespaces[${index}]`,
        `${JSON.stringify(ns)} is not a namespace name (lower-case letters, digits and '-', at most 63 characters)`,
      );
    }
  });
  const out: ServiceAllocation = {
    namespaces,
    namespaceSelectors: readLabelSelectors(ctx, allocation, 'namespaceSelectors', path),
    serviceSelectors: readLabelSelectors(ctx, allocation, 'serviceSelectors', path),
  };
  if (priority !== undefined) out.priority = priority;
  return out;
}
