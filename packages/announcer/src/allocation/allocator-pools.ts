// The allocator's view of the address pools: each range as numbers, how many of its usable addresses
// are held, and a cursor where the next search for a free address starts (next fit), so handing out
// thousands of addresses from a /16 never rescans the range from its start.
// The pools' ranges are read with ip-num (config/address.ts) once per setPools(); what runs per
// address (containment of a parsed address, the next-fit walk and its text) is plain bigint math and
// allocator-ip.ts, which bench/address.js measures against ip-num.
import { rangeSet } from '../config/address.js';
import type { IPAddressPool } from '../config/types.js';
import { matchesAny, matchesSelector } from '../config/selector.js';
import { countBuggyIPs, formatIP, isBuggyIP, type IPFamily, type IPValue } from './allocator-ip.js';

/** One range of one pool, indexed. */
export interface RangeIndex {
  pool: string;
  family: IPFamily;
  /** As written in the pool ("192.0.2.0/28"). */
  text: string;
  first: bigint;
  last: bigint;
  avoidBuggyIPs: boolean;
  /** Usable addresses: all of the range, less .0 and .255 when avoidBuggyIPs. */
  total: bigint;
  /** Usable addresses of the range held by some Service (kept by the allocator). */
  used: number;
  /** The next search for a free address starts here. */
  cursor: bigint;
}

/** One pool with its ranges indexed. */
export interface PoolIndex {
  pool: IPAddressPool;
  ranges: RangeIndex[];
}

/**
 * Index validated pools by name. Throws a RangeError naming the pool and range when a range is not
 * two addresses of one family in order (validation should have caught it).
 */
export function indexPools(pools: readonly IPAddressPool[]): Map<string, PoolIndex> {
  const byName = new Map<string, PoolIndex>();
  for (const pool of pools) {
    if (byName.has(pool.name)) throw new RangeError(`IPAddressPool ${pool.name}: defined twice`);
    const ranges: RangeIndex[] = [];
    for (const r of pool.ranges) {
      const set = rangeSet(r);
      if (set === undefined)
        throw new RangeError(
          `IPAddressPool ${pool.name}: range ${r.text}: not an address range (${r.first} - ${r.last})`,
        );
      const first = set.getFirst().value;
      const last = set.getLast().value;
      const size = set.getSize();
      ranges.push({
        pool: pool.name,
        family: r.family,
        text: r.text,
        first,
        last,
        avoidBuggyIPs: pool.avoidBuggyIPs,
        total: pool.avoidBuggyIPs ? size - countBuggyIPs(r.family, first, last) : size,
        used: 0,
        cursor: first,
      });
    }
    byName.set(pool.name, { pool, ranges });
  }
  return byName;
}

/** True when the range holds the address and may hand it out (not a .0/.255 it avoids). */
export function rangeAllows(r: RangeIndex, ip: IPValue): boolean {
  return (
    r.family === ip.family &&
    ip.value >= r.first &&
    ip.value <= r.last &&
    !(r.avoidBuggyIPs && isBuggyIP(ip.family, ip.value))
  );
}

/** True when one of the pool's ranges may hand out the address. */
export function poolAllows(p: PoolIndex, ip: IPValue): boolean {
  return p.ranges.some((r) => rangeAllows(r, ip));
}

/** True when the pool has at least one usable address of the family. */
export function poolHasFamily(p: PoolIndex, family: IPFamily): boolean {
  return p.ranges.some((r) => r.family === family && r.total > 0n);
}

/** Used and usable addresses of one family of a pool. */
export function familyUsage(p: PoolIndex, family: IPFamily): { used: number; total: bigint } {
  let used = 0;
  let total = 0n;
  for (const r of p.ranges) {
    if (r.family !== family) continue;
    used += r.used;
    total += r.total;
  }
  return { used, total };
}

/**
 * The next usable address of the range that `isHeld` says is free, searching from the cursor and
 * wrapping around once; moves the cursor past it. Undefined when the range is full.
 */
export function nextFree(r: RangeIndex, isHeld: (ip: string) => boolean): string | undefined {
  if (BigInt(r.used) >= r.total) return undefined;
  const size = r.last - r.first + 1n;
  let v = r.cursor < r.first || r.cursor > r.last ? r.first : r.cursor;
  for (let step = 0n; step < size; step++) {
    if (!(r.avoidBuggyIPs && isBuggyIP(r.family, v))) {
      const text = formatIP(r.family, v);
      if (!isHeld(text)) {
        r.cursor = v === r.last ? r.first : v + 1n;
        return text;
      }
    }
    v = v === r.last ? r.first : v + 1n;
  }
  return undefined;
}

/** serviceAllocation: namespace by name or label, and Service by label; no serviceAllocation admits all. */
export function admits(
  p: PoolIndex,
  namespace: string,
  labels: Record<string, string>,
  namespaceLabels: Record<string, string> | undefined,
): boolean {
  const sa = p.pool.serviceAllocation;
  if (sa === undefined) return true;
  if (sa.namespaces.length > 0 || sa.namespaceSelectors.length > 0) {
    const byName = sa.namespaces.includes(namespace);
    const byLabel = sa.namespaceSelectors.some((s) => matchesSelector(s, namespaceLabels));
    if (!byName && !byLabel) return false;
  }
  return matchesAny(sa.serviceSelectors, labels);
}

/** Priority (lower first, none last), then name. */
export function comparePools(a: PoolIndex, b: PoolIndex): number {
  const pa = a.pool.serviceAllocation?.priority;
  const pb = b.pool.serviceAllocation?.priority;
  if (pa !== pb) {
    if (pa === undefined) return 1;
    if (pb === undefined) return -1;
    return pa - pb;
  }
  return a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0;
}
