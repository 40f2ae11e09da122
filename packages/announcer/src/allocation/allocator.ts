// The IP allocator: which Service holds which addresses of which pool. Pure state, no I/O; the
// controller feeds it Services and writes the results to their status. Rules (MetalLB's):
// - a Service keeps its current addresses while they are still valid (in its pool, the pool still
//   admits it, they match what it requests, sharing still allowed); a PreferDualStack Service that
//   got one family is topped up from the same pool when that pool gains the other, and a Service
//   going from dual to single stack keeps its primary address;
// - requested addresses come from the bgp-announce.io/loadBalancerIPs annotation or
//   spec.loadBalancerIP; the pool from the bgp-announce.io/address-pool annotation;
// - without a request, pools with autoAssign that admit the Service (serviceAllocation) are tried
//   by priority (lower first, none last), then by name; a pool named or holding a requested
//   address is used even without autoAssign, but its serviceAllocation still applies;
// - a Service's addresses all come from one pool; PreferDualStack prefers a pool that can give
//   both families over a higher-priority pool that gives one;
// - avoidBuggyIPs pools never hand out .0/.255; sharing follows allocator-request.ts;
// - free addresses are found from a per-range cursor (next fit): a released address is reused
//   only after the cursor wraps around, and allocation never rescans a range from its start.
// autoAssign turning false does not invalidate Services already holding the pool's addresses.
import type { IPAddressPool } from '../config/types.js';
import { serviceKey, type Service } from '../service/model.js';
import { canonicalIP, familyName, parseIP, type IPFamily } from './allocator-ip.js';
import {
  admits,
  comparePools,
  familyUsage,
  indexPools,
  nextFree,
  poolAllows,
  poolHasFamily,
  rangeAllows,
  type PoolIndex,
} from './allocator-pools.js';
import { readRequest, shareInfo, sharingConflict, type ServiceRequest, type ShareInfo } from './allocator-request.js';

/** Why a Service got no address (a condition reason on the Service). */
export type AllocationFailure =
  | 'InvalidRequest'
  | 'NoPoolMatches'
  | 'PoolNotFound'
  | 'PoolNotAllowed'
  | 'FamilyUnavailable'
  | 'PoolExhausted'
  | 'RequestedIPNotInPool'
  | 'RequestedIPInUse';

export type AllocationResult =
  | { ok: true; ips: string[]; pool: string; changed: boolean }
  | { ok: false; reason: AllocationFailure; message: string };

/** restore(): what was recorded (no ips and no pool when the status holds no address). */
export type RestoreResult =
  | { ok: true; ips: string[]; pool?: string }
  | { ok: false; reason: AllocationFailure; message: string };

export interface AllocationContext {
  /** Labels of the Service's namespace, for serviceAllocation.namespaceSelectors. */
  namespaceLabels?: Record<string, string>;
}

export interface Assignment {
  ips: string[];
  pool: string;
}

/**
 * Addresses of one family of one pool. `total` is the exact count as a Number: exact up to 2^53,
 * the nearest double above (an IPv6 /64 shows as 18446744073709551616), which is what a
 * Prometheus gauge holds anyway.
 */
export interface PoolUsage {
  pool: string;
  /** 4 or 6, as AddressRange.family. */
  family: IPFamily;
  used: number;
  total: number;
}

interface ServiceRecord extends Assignment {
  share: ShareInfo;
  namespace: string;
  labels: Record<string, string>;
  namespaceLabels: Record<string, string> | undefined;
}

type Failure = Extract<AllocationResult, { ok: false }>;
const fail = (reason: AllocationFailure, message: string): Failure => ({ ok: false, reason, message });

export class Allocator {
  private pools = new Map<string, PoolIndex>();
  /** Pools in the order auto-assignment tries them. */
  private ordered: PoolIndex[] = [];
  private readonly records = new Map<string, ServiceRecord>();
  /** Address -> keys of the Services holding it (more than one only when shared). */
  private readonly holders = new Map<string, Set<string>>();
  /** allow-shared-ip key -> addresses held by Services with that key. */
  private readonly sharedByKey = new Map<string, Set<string>>();

  /** Pools as validated by the config (throws a RangeError on a malformed range). */
  constructor(pools: readonly IPAddressPool[]) {
    this.setPools(pools);
  }

  /**
   * Replace the pools. Returns the keys of Services whose addresses are no longer in their pool (or
   * whose pool no longer admits them), sorted; they keep their addresses until assign() moves them.
   */
  setPools(pools: readonly IPAddressPool[]): string[] {
    const index = indexPools(pools);
    // Unchanged ranges keep their cursor, so a reload does not hand out just-released addresses.
    for (const p of index.values()) {
      for (const r of p.ranges) {
        const before = this.pools
          .get(p.pool.name)
          ?.ranges.find((o) => o.family === r.family && o.first === r.first && o.last === r.last);
        if (before !== undefined) r.cursor = before.cursor;
      }
    }
    this.pools = index;
    this.ordered = [...index.values()].sort(comparePools);
    for (const ip of this.holders.keys()) this.countHeld(ip, 1);
    const affected: string[] = [];
    for (const [key, rec] of this.records) {
      const p = index.get(rec.pool);
      const valid =
        p !== undefined &&
        rec.ips.every((ip) => poolAllows(p, parseIP(ip)!)) &&
        admits(p, rec.namespace, rec.labels, rec.namespaceLabels);
      if (!valid) affected.push(key);
    }
    return affected.sort();
  }

  /**
   * At start-up, record the addresses the Service's status.loadBalancer.ingress already shows, so
   * allocation survives restarts. Refused when they are in no single pool, or another Service holds
   * one and may not share it (the first Service restored keeps it).
   */
  restore(svc: Service, ctx: AllocationContext = {}): RestoreResult {
    const key = serviceKey(svc);
    const ips: string[] = [];
    for (const entry of svc.status?.loadBalancer?.ingress ?? []) {
      if (entry.ip === undefined || entry.ip === '') continue;
      const ip = canonicalIP(entry.ip);
      if (ip === undefined)
        return fail('InvalidRequest', `status.loadBalancer.ingress: ${JSON.stringify(entry.ip)} is not an IP address`);
      if (!ips.includes(ip)) ips.push(ip);
    }
    if (ips.length === 0) return { ok: true, ips: [] };
    const pool = this.ordered.find((p) => ips.every((ip) => poolAllows(p, parseIP(ip)!)));
    if (pool === undefined)
      return fail('RequestedIPNotInPool', `status address ${ips.join(', ')} of ${key} is in no single address pool`);
    const share = shareInfo(svc);
    for (const ip of ips) {
      const conflict = this.conflictAt(ip, key, share);
      if (conflict !== undefined) return fail('RequestedIPInUse', `status address ${ip} of ${key} is ${conflict}`);
    }
    this.release(key);
    this.commit(key, {
      ips,
      pool: pool.pool.name,
      share,
      namespace: svc.metadata?.namespace ?? 'default',
      labels: svc.metadata?.labels ?? {},
      namespaceLabels: ctx.namespaceLabels,
    });
    return { ok: true, ips: [...ips], pool: pool.pool.name };
  }

  /**
   * Give the Service its addresses: the current ones while valid, else new ones by the rules above.
   * A malformed request leaves the current assignment alone; any other failure releases it (it was
   * no longer valid).
   */
  assign(svc: Service, ctx: AllocationContext = {}): AllocationResult {
    const read = readRequest(svc);
    if (!read.ok) return fail('InvalidRequest', read.message);
    const req = read.request;
    const current = this.records.get(req.key);
    const record = (a: Assignment): ServiceRecord => ({
      ...a,
      share: req.share,
      namespace: req.namespace,
      labels: req.labels,
      namespaceLabels: ctx.namespaceLabels,
    });
    if (current !== undefined) {
      const kept = this.keepCurrent(current, req, ctx.namespaceLabels);
      if (kept !== undefined) {
        this.release(req.key);
        this.commit(req.key, record({ ips: kept, pool: current.pool }));
        return { ok: true, ips: [...kept], pool: current.pool, changed: !sameList(kept, current.ips) };
      }
      this.release(req.key);
    }
    const result =
      req.requestedIPs.length > 0
        ? this.allocateRequested(req, ctx.namespaceLabels)
        : this.allocateFree(req, ctx.namespaceLabels);
    if (!result.ok) return result;
    this.commit(req.key, record(result));
    return {
      ...result,
      ips: [...result.ips],
      changed: current === undefined || current.pool !== result.pool || !sameList(current.ips, result.ips),
    };
  }

  /** Forget a Service's addresses; false when it held none. */
  release(key: string): boolean {
    const rec = this.records.get(key);
    if (rec === undefined) return false;
    this.records.delete(key);
    for (const ip of rec.ips) {
      const keys = this.holders.get(ip);
      keys?.delete(key);
      if (keys === undefined || keys.size === 0) {
        this.holders.delete(ip);
        this.countHeld(ip, -1);
      }
      const sk = rec.share.sharingKey;
      if (sk !== undefined && ![...(keys ?? [])].some((k) => this.records.get(k)?.share.sharingKey === sk)) {
        const set = this.sharedByKey.get(sk);
        set?.delete(ip);
        if (set?.size === 0) this.sharedByKey.delete(sk);
      }
    }
    return true;
  }

  /** Every Service's addresses and pool (a copy). */
  assignments(): Map<string, Assignment> {
    const out = new Map<string, Assignment>();
    for (const [key, rec] of this.records) out.set(key, { ips: [...rec.ips], pool: rec.pool });
    return out;
  }

  /** Used and usable addresses per pool and family, pools in name order (for metrics). */
  poolUsage(): PoolUsage[] {
    const out: PoolUsage[] = [];
    for (const p of [...this.pools.values()].sort((a, b) =>
      a.pool.name < b.pool.name ? -1 : a.pool.name > b.pool.name ? 1 : 0,
    )) {
      for (const family of [4, 6] as const) {
        if (!p.ranges.some((r) => r.family === family)) continue;
        const u = familyUsage(p, family);
        out.push({ pool: p.pool.name, family, used: u.used, total: Number(u.total) });
      }
    }
    return out;
  }

  /** The pool an address belongs to: its holder's pool, else the first pool that may hand it out. */
  poolOf(ip: string): string | undefined {
    const text = canonicalIP(ip);
    if (text === undefined) return undefined;
    const holder = this.holders.get(text)?.values().next().value;
    if (holder !== undefined) return this.records.get(holder)?.pool;
    const v = parseIP(text)!;
    return this.ordered.find((p) => poolAllows(p, v))?.pool.name;
  }

  /** The current addresses (topped up with missing families) when still valid, else undefined. */
  private keepCurrent(
    rec: ServiceRecord,
    req: ServiceRequest,
    namespaceLabels: Record<string, string> | undefined,
  ): string[] | undefined {
    const p = this.pools.get(rec.pool);
    if (p === undefined || !admits(p, req.namespace, req.labels, namespaceLabels)) return undefined;
    if (req.poolName !== undefined && req.poolName !== rec.pool) return undefined;
    const families: IPFamily[] = [];
    for (const ip of rec.ips) {
      const v = parseIP(ip)!;
      if (!poolAllows(p, v) || families.includes(v.family)) return undefined;
      if (this.conflictAt(ip, req.key, req.share) !== undefined) return undefined;
      families.push(v.family);
    }
    if (req.requestedIPs.length > 0) {
      return sameList([...rec.ips].sort(), req.requestedIPs.map((r) => r.ip).sort())
        ? orderByFamily(rec.ips, req)
        : undefined;
    }
    // Drop families no longer wanted (dual stack -> single stack keeps the primary), then top up.
    const ips = orderByFamily(
      rec.ips.filter((ip) => req.wish.families.includes(parseIP(ip)!.family)),
      req,
    ).slice(0, req.wish.atMost);
    for (const f of req.wish.families) {
      if (ips.length >= req.wish.atMost) break;
      if (ips.some((ip) => parseIP(ip)!.family === f) || !poolHasFamily(p, f)) continue;
      const ip = this.pick(p, f, req);
      if (ip !== undefined) ips.push(ip);
    }
    return ips.length >= req.wish.atLeast ? orderByFamily(ips, req) : undefined;
  }

  /** The requested addresses, from the one pool holding them all. */
  private allocateRequested(
    req: ServiceRequest,
    namespaceLabels: Record<string, string> | undefined,
  ): AllocationResult {
    const values = req.requestedIPs.map((r) => parseIP(r.ip)!);
    const list = req.requestedIPs.map((r) => r.ip).join(', ');
    let candidates = this.ordered.filter((p) => values.every((v) => poolAllows(p, v)));
    if (req.poolName !== undefined) {
      const named = this.pools.get(req.poolName);
      if (named === undefined) return fail('PoolNotFound', `no address pool named '${req.poolName}'`);
      if (!candidates.includes(named))
        return fail(
          'RequestedIPNotInPool',
          `requested ${list} not in pool '${req.poolName}'${this.whyNotIn(named, values)}`,
        );
      candidates = [named];
    }
    if (candidates.length === 0) {
      const outside = req.requestedIPs.filter((_, i) => !this.ordered.some((p) => poolAllows(p, values[i]!)));
      if (outside.length === 0)
        return fail('RequestedIPNotInPool', `requested ${list} are not all in one address pool`);
      const near = this.ordered.find((p) =>
        p.ranges.some(
          (r) => r.family === values[0]!.family && values[0]!.value >= r.first && values[0]!.value <= r.last,
        ),
      );
      return fail(
        'RequestedIPNotInPool',
        `requested ${outside.map((r) => r.ip).join(', ')} in no address pool${near === undefined ? '' : this.whyNotIn(near, values)}`,
      );
    }
    const admitted = candidates.find((p) => admits(p, req.namespace, req.labels, namespaceLabels));
    if (admitted === undefined) {
      return fail(
        'PoolNotAllowed',
        `pool '${candidates[0]!.pool.name}' (holding ${list}) does not admit ${req.key} (serviceAllocation)`,
      );
    }
    for (const r of req.requestedIPs) {
      const conflict = this.conflictAt(r.ip, req.key, req.share);
      if (conflict !== undefined) return fail('RequestedIPInUse', `requested ${r.ip} is ${conflict}`);
    }
    return { ok: true, ips: req.requestedIPs.map((r) => r.ip), pool: admitted.pool.name, changed: true };
  }

  /** Free (or shareable) addresses from the best pool that admits the Service. */
  private allocateFree(req: ServiceRequest, namespaceLabels: Record<string, string> | undefined): AllocationResult {
    let candidates: PoolIndex[];
    if (req.poolName !== undefined) {
      const named = this.pools.get(req.poolName);
      if (named === undefined) return fail('PoolNotFound', `no address pool named '${req.poolName}'`);
      if (!admits(named, req.namespace, req.labels, namespaceLabels))
        return fail('PoolNotAllowed', `pool '${req.poolName}' does not admit ${req.key} (serviceAllocation)`);
      candidates = [named];
    } else {
      candidates = this.ordered.filter(
        (p) => p.pool.autoAssign && admits(p, req.namespace, req.labels, namespaceLabels),
      );
      if (candidates.length === 0) {
        const why = this.ordered.map(
          (p) =>
            `'${p.pool.name}' ${p.pool.autoAssign ? 'does not admit it (serviceAllocation)' : 'has autoAssign false'}`,
        );
        return fail(
          'NoPoolMatches',
          `no address pool may give ${req.key} an address${why.length === 0 ? ' (no pools configured)' : `: ${why.join(', ')}`}`,
        );
      }
    }
    const { families, atLeast, atMost } = req.wish;
    const offered = (p: PoolIndex): number => Math.min(atMost, families.filter((f) => poolHasFamily(p, f)).length);
    const usable = candidates.filter((p) => offered(p) >= atLeast);
    if (usable.length === 0) {
      const names = candidates.map((p) => `'${p.pool.name}'`).join(', ');
      return fail(
        'FamilyUnavailable',
        `${req.key} wants ${req.wish.policy} ${families.map(familyName).join('/')}, which ${candidates.length === 1 ? 'pool' : 'pools'} ${names} cannot give`,
      );
    }
    // First pass (dual stack): only a pool that gives every wanted family; second pass: any pool
    // that gives at least atLeast. Picks are remembered so the second pass does not pick again.
    const picked = new Map<PoolIndex, string[]>();
    const full: string[] = [];
    const pickAll = (p: PoolIndex): string[] => {
      let ips = picked.get(p);
      if (ips !== undefined) return ips;
      ips = [];
      for (const f of families) {
        if (ips.length >= atMost) break;
        if (!poolHasFamily(p, f)) continue;
        const ip = this.pick(p, f, req);
        if (ip !== undefined) ips.push(ip);
        else full.push(this.fullText(p, f, atMost > 1 || (poolHasFamily(p, 4) && poolHasFamily(p, 6))));
      }
      picked.set(p, ips);
      return ips;
    };
    const passes = atMost > 1 ? [atMost, atLeast] : [atLeast];
    for (const need of passes) {
      for (const p of usable) {
        if (offered(p) < need) continue;
        const ips = pickAll(p);
        if (ips.length >= need) return { ok: true, ips, pool: p.pool.name, changed: true };
      }
    }
    return fail('PoolExhausted', full.join('; '));
  }

  /** An address of the family from the pool: one the Service may share, else the next free one. */
  private pick(p: PoolIndex, family: IPFamily, req: ServiceRequest): string | undefined {
    const sk = req.share.sharingKey;
    if (sk !== undefined) {
      for (const ip of this.sharedByKey.get(sk) ?? []) {
        const v = parseIP(ip)!;
        if (v.family === family && poolAllows(p, v) && this.conflictAt(ip, req.key, req.share) === undefined) return ip;
      }
    }
    for (const r of p.ranges) {
      if (r.family !== family) continue;
      const ip = nextFree(r, (text) => this.holders.has(text));
      if (ip !== undefined) return ip;
    }
    return undefined;
  }

  /** Why `key` may not hold `ip` next to its current holders; undefined when it may. */
  private conflictAt(ip: string, key: string, share: ShareInfo): string | undefined {
    for (const other of this.holders.get(ip) ?? []) {
      if (other === key) continue;
      const rec = this.records.get(other);
      const conflict = rec === undefined ? `held by ${other}` : sharingConflict(share, other, rec.share);
      if (conflict !== undefined) return conflict;
    }
    return undefined;
  }

  private commit(key: string, rec: ServiceRecord): void {
    this.records.set(key, rec);
    for (const ip of rec.ips) {
      let keys = this.holders.get(ip);
      if (keys === undefined) {
        keys = new Set();
        this.holders.set(ip, keys);
        this.countHeld(ip, 1);
      }
      keys.add(key);
      const sk = rec.share.sharingKey;
      if (sk !== undefined) {
        let set = this.sharedByKey.get(sk);
        if (set === undefined) this.sharedByKey.set(sk, (set = new Set()));
        set.add(ip);
      }
    }
  }

  /** Count an address becoming held (+1) or free (-1) in every range that may hand it out. */
  private countHeld(ip: string, delta: 1 | -1): void {
    const v = parseIP(ip)!;
    for (const p of this.pools.values()) for (const r of p.ranges) if (rangeAllows(r, v)) r.used += delta;
  }

  private fullText(p: PoolIndex, family: IPFamily, named: boolean): string {
    const u = familyUsage(p, family);
    return `no free ${named ? `${familyName(family)} ` : ''}address in pool '${p.pool.name}' (${u.used} of ${u.total} in use)`;
  }

  private whyNotIn(p: PoolIndex, values: { family: IPFamily; value: bigint }[]): string {
    const buggy = values.some((v) =>
      p.ranges.some(
        (r) =>
          r.avoidBuggyIPs && v.value >= r.first && v.value <= r.last && r.family === v.family && !rangeAllows(r, v),
      ),
    );
    return buggy ? ` (pool '${p.pool.name}' avoids .0 and .255 addresses: avoidBuggyIPs)` : '';
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function orderByFamily(ips: string[], req: ServiceRequest): string[] {
  const rank = (ip: string): number => req.wish.families.indexOf(parseIP(ip)!.family);
  return [...ips].sort((a, b) => rank(a) - rank(b));
}
