// Adj-RIB-In of one peer: what it announced to us, kept for inspection (never re-advertised). Per
// family a RouteMap (IPv4 keys packed) from route key to an interned attribute set id; a stale route (graceful restart) is
// stored as the negative -(id + 1), so marking stale costs no memory. A route whose AS path holds our
// AS (RFC 4271 9.1.2, as-loop.ts) is kept and shown, as GoBGP's adj-in shows it, but marked and
// counted apart: it is not eligible, as FRR and GoBGP do not accept it.
import {
  AFI,
  SAFI,
  familyOf,
  isTreatAsWithdraw,
  toHex,
  type Family,
  type NotificationMessage,
  type Nlri,
  type PathAttributes,
  type PackedNlri,
  type PackedUpdateMessage,
  type UpdateMessage,
  packedPathId,
  packedPrefixText,
} from '@bgp-announce/bgp-wire';
import {
  intern,
  newAttributeTable,
  parseRouteKey,
  release,
  retain,
  routeKey,
  setOf,
  type AttributeTable,
} from './route.js';
import { RouteMap } from './route-map.js';
import { hasAsLoop } from './as-loop.js';

export type MaxPrefixAction = 'warn' | 'teardown';
export interface MaxPrefixLimit {
  /** Most routes accepted in the family; more triggers the action. */
  limit: number;
  action: MaxPrefixAction;
}

export interface AdjRibInConfig {
  /** Maximum-prefix limits per family (they count every route, AS loops included). */
  maxPrefix?: Partial<Record<Family, MaxPrefixLimit>>;
  /**
   * Our AS on this session: a route whose AS path holds it is an AS loop (RFC 4271 9.1.2), kept but
   * marked `asLoop` and counted apart. Unset: no loop detection.
   */
  localAs?: number;
}

/** Received routes of one peer. Plain data; change it only through the functions here. */
export interface AdjRibIn {
  config: AdjRibInConfig;
  /** Attribute sets as received, without NLRI (mpReach keeps afi, safi and nextHops only). */
  table: AttributeTable<PathAttributes>;
  /** Route key to set id per family (IPv4 packed: see route-map.ts). */
  routes: Record<Family, RouteMap>;
  /** Stale routes per family (graceful restart). */
  stale: Record<Family, number>;
  /** Routes per family whose AS path holds config.localAs (not eligible, RFC 4271 9.1.2). */
  asLoop: Record<Family, number>;
  /** End-of-RIB received per family. */
  endOfRib: Record<Family, boolean>;
  /** A 'warn' limit has warned and not yet come back under the limit. */
  warned: Record<Family, boolean>;
}

export interface MaxPrefixExceeded {
  family: Family;
  count: number;
  limit: number;
}

/** What one UPDATE did. */
export interface RibInResult {
  announced: number;
  withdrawn: number;
  /** The UPDATE's prefixes were handled as withdrawn (RFC 7606). */
  treatAsWithdraw: boolean;
  /** The announced routes hold our AS in their AS path (RFC 4271 9.1.2): kept, marked, not eligible. */
  asLoop?: boolean;
  /** The UPDATE was the End-of-RIB of this family. */
  endOfRib?: Family;
  /** Stale routes removed because the End-of-RIB came. */
  swept: number;
  /** A 'warn' limit was exceeded (reported once until the count is back under the limit). */
  warning?: MaxPrefixExceeded;
  /** A 'teardown' limit was exceeded: send this NOTIFICATION (Cease 1, RFC 4486) and close. */
  teardown?: MaxPrefixExceeded & { notification: NotificationMessage };
}

/** One received route, for inspection. */
export interface RibInEntry {
  family: Family;
  prefix: string;
  pathId?: number;
  attributes: PathAttributes;
  stale: boolean;
  /** Our AS is in the route's AS path (RFC 4271 9.1.2): not eligible. Present only when true. */
  asLoop?: boolean;
}

const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];
const AFI_SAFI: Record<Family, { afi: number; safi: number }> = {
  'ipv4-unicast': { afi: AFI.IPV4, safi: SAFI.UNICAST },
  'ipv6-unicast': { afi: AFI.IPV6, safi: SAFI.UNICAST },
};

const perFamily = <T>(value: () => T): Record<Family, T> => ({ 'ipv4-unicast': value(), 'ipv6-unicast': value() });

/** An empty Adj-RIB-In. Throws RangeError for a limit that is not a non-negative integer. */
export function newAdjRibIn(config: AdjRibInConfig = {}): AdjRibIn {
  for (const [family, max] of Object.entries(config.maxPrefix ?? {})) {
    if (max === undefined) continue;
    if (!Number.isInteger(max.limit) || max.limit < 0 || max.limit > 0xffffffff)
      throw new RangeError(`maxPrefix ${family} limit must be an integer 0-4294967295, got ${max.limit}`);
    if (max.action !== 'warn' && max.action !== 'teardown')
      throw new TypeError(`maxPrefix ${family} action must be 'warn' or 'teardown'`);
  }
  return {
    config,
    table: newAttributeTable(),
    routes: perFamily(() => new RouteMap()),
    stale: perFamily(() => 0),
    asLoop: perFamily(() => 0),
    endOfRib: perFamily(() => false),
    warned: perFamily(() => false),
  };
}

/** The attribute set to store for an UPDATE, and its key (one JSON text per UPDATE, not per prefix). */
function storedAttributes(attrs: PathAttributes | PackedUpdateMessage['attributes']): {
  set: PathAttributes;
  key: string;
} {
  const { mpReach, mpUnreach: _unreach, ...rest } = attrs;
  const set: PathAttributes =
    mpReach === undefined
      ? rest
      : {
          ...rest,
          mpReach: {
            afi: mpReach.afi,
            safi: mpReach.safi,
            ...(mpReach.nextHops ? { nextHops: mpReach.nextHops } : {}),
          },
        };
  return { set, key: JSON.stringify(set) };
}

/** The attribute set id of a stored value (a stale route is stored as -(id + 1)). */
const setIdOf = (stored: number): number => (stored < 0 ? -stored - 1 : stored);

/** Whether the attribute set `id` holds our AS in its AS path (only looked at while the family has AS loops). */
function isAsLoop(rib: AdjRibIn, family: Family, id: number): boolean {
  const localAs = rib.config.localAs;
  return localAs !== undefined && rib.asLoop[family] > 0 && hasAsLoop(setOf(rib.table, id), localAs);
}

/** Forgets a stored route's counts and its reference to its attribute set. */
function drop(rib: AdjRibIn, family: Family, stored: number): void {
  const id = setIdOf(stored);
  if (stored < 0) rib.stale[family]--;
  if (isAsLoop(rib, family, id)) rib.asLoop[family]--;
  release(rib.table, id);
}

/** A prefix list of a decoded UPDATE, in string or packed form. */
type PrefixList = readonly Nlri[] | PackedNlri;

/**
 * The route key of packed prefix i. IPv4 prefixes never need one (the RouteMap takes their numbers);
 * IPv6 keys are text, as the RouteMap keeps them in a Map.
 */
const packedKey = (list: PackedNlri, i: number): string => routeKey(packedPrefixText(list, i), packedPathId(list, i));

/** Removes one route (the value stored for it, or undefined when it was not there). */
function removeOne(rib: AdjRibIn, family: Family, stored: number | undefined): number {
  if (stored === undefined) return 0;
  drop(rib, family, stored);
  return 1;
}

function remove(rib: AdjRibIn, family: Family, list: PrefixList | undefined): number {
  if (list === undefined) return 0;
  const routes = rib.routes[family];
  let n = 0;
  if (Array.isArray(list)) {
    for (const { prefix, pathId } of list as readonly Nlri[])
      n += removeOne(rib, family, routes.remove(routeKey(prefix, pathId)));
    return n;
  }
  const packed = list as PackedNlri;
  const { words, stride } = packed;
  for (let i = 0, w = 0; i < packed.length; i++, w += stride) {
    const stored =
      packed.afi === AFI.IPV4
        ? routes.removeIpv4(words[w]!, words[w + 1]!, packed.addPath ? words[w + 2]! >>> 0 : undefined)
        : routes.remove(packedKey(packed, i));
    n += removeOne(rib, family, stored);
  }
  return n;
}

/** Counts a route just stored with attribute set `id` in place of `stored` (undefined: a new route). */
function added(rib: AdjRibIn, family: Family, stored: number | undefined, id: number, asLoop: boolean): void {
  retain(rib.table, id);
  if (stored !== undefined) drop(rib, family, stored);
  if (asLoop) rib.asLoop[family]++;
}

function add(rib: AdjRibIn, family: Family, list: PrefixList | undefined, id: number, asLoop: boolean): number {
  if (list === undefined) return 0;
  const routes = rib.routes[family];
  if (Array.isArray(list)) {
    for (const { prefix, pathId } of list as readonly Nlri[])
      added(rib, family, routes.replace(routeKey(prefix, pathId), id), id, asLoop);
    return list.length;
  }
  const packed = list as PackedNlri;
  const { words, stride } = packed;
  for (let i = 0, w = 0; i < packed.length; i++, w += stride) {
    const stored =
      packed.afi === AFI.IPV4
        ? routes.replaceIpv4(words[w]!, words[w + 1]!, packed.addPath ? words[w + 2]! >>> 0 : undefined, id)
        : routes.replace(packedKey(packed, i), id);
    added(rib, family, stored, id, asLoop);
  }
  return packed.length;
}

/** Cease 1, Maximum Number of Prefixes Reached, data AFI (2), SAFI (1), limit (4) (RFC 4486 4). */
function maxPrefixNotification(family: Family, limit: number): NotificationMessage {
  const data = new Uint8Array(7);
  const { afi, safi } = AFI_SAFI[family];
  data[0] = afi >> 8;
  data[1] = afi & 0xff;
  data[2] = safi;
  new DataView(data.buffer).setUint32(3, limit);
  return { type: 'NOTIFICATION', code: 6, subcode: 1, data: toHex(data) };
}

function checkLimits(rib: AdjRibIn, result: RibInResult): void {
  for (const family of FAMILIES) {
    const max = rib.config.maxPrefix?.[family];
    if (max === undefined) continue;
    const count = rib.routes[family].size;
    if (count <= max.limit) {
      rib.warned[family] = false;
      continue;
    }
    const exceeded = { family, count, limit: max.limit };
    if (max.action === 'teardown') {
      if (result.teardown === undefined)
        result.teardown = { ...exceeded, notification: maxPrefixNotification(family, max.limit) };
    } else if (!rib.warned[family]) {
      rib.warned[family] = true;
      if (result.warning === undefined) result.warning = exceeded;
    }
  }
}

/**
 * Applies a decoded UPDATE, in string form (decodeUpdate) or packed form (decodeUpdatePacked, which
 * costs no string per prefix): withdrawals (withdrawn routes and MP_UNREACH_NLRI), then announcements
 * (NLRI and MP_REACH_NLRI) with the UPDATE's attributes, or, when RFC 7606 says treat-as-withdraw,
 * the announced prefixes withdrawn instead. An End-of-RIB is recorded and sweeps that family's stale
 * routes. Re-announcing a stale route makes it fresh. Families other than IPv4/IPv6 unicast are
 * ignored. Returns counts and any maximum-prefix warning or teardown.
 */
export function applyUpdate(rib: AdjRibIn, update: UpdateMessage | PackedUpdateMessage): RibInResult {
  const result: RibInResult = { announced: 0, withdrawn: 0, treatAsWithdraw: false, swept: 0 };
  if (update.endOfRib !== undefined) {
    const family = familyOf(update.endOfRib.afi, update.endOfRib.safi);
    if (family !== undefined) {
      rib.endOfRib[family] = true;
      result.endOfRib = family;
      result.swept = sweepStale(rib, family);
    }
    return result;
  }
  const attrs = update.attributes;
  result.withdrawn += remove(rib, 'ipv4-unicast', update.withdrawn);
  const unreach = attrs.mpUnreach;
  const unreachFamily = unreach === undefined ? undefined : familyOf(unreach.afi, unreach.safi);
  if (unreachFamily !== undefined) result.withdrawn += remove(rib, unreachFamily, unreach?.withdrawn);

  const reach = attrs.mpReach;
  const reachFamily = reach === undefined ? undefined : familyOf(reach.afi, reach.safi);
  if (isTreatAsWithdraw(update.errors)) {
    result.treatAsWithdraw = true;
    result.withdrawn += remove(rib, 'ipv4-unicast', update.nlri);
    if (reachFamily !== undefined) result.withdrawn += remove(rib, reachFamily, reach?.nlri);
  } else if (update.nlri.length > 0 || (reachFamily !== undefined && (reach?.nlri?.length ?? 0) > 0)) {
    const { set, key } = storedAttributes(attrs);
    const id = intern(rib.table, key, set);
    const asLoop = rib.config.localAs !== undefined && hasAsLoop(attrs, rib.config.localAs);
    if (asLoop) result.asLoop = true;
    result.announced += add(rib, 'ipv4-unicast', update.nlri, id, asLoop);
    if (reachFamily !== undefined) result.announced += add(rib, reachFamily, reach?.nlri, id, asLoop);
  }
  checkLimits(rib, result);
  return result;
}

/** Marks every route of `families` (default all) stale: the peer restarted (RFC 4724 4.2). */
export function markStale(rib: AdjRibIn, families: readonly Family[] = FAMILIES): number {
  let n = 0;
  for (const family of families) {
    const routes = rib.routes[family];
    for (const [key, stored] of routes) if (stored >= 0) routes.set(key, -stored - 1);
    rib.stale[family] = routes.size;
    rib.endOfRib[family] = false;
    n += routes.size;
  }
  return n;
}

/** Removes the stale routes of `family` (End-of-RIB came, or the caller's stale timer fired); returns how many. */
export function sweepStale(rib: AdjRibIn, family: Family): number {
  if (rib.stale[family] === 0) return 0;
  const routes = rib.routes[family];
  let n = 0;
  for (const [key, stored] of routes) {
    if (stored >= 0) continue;
    routes.delete(key);
    drop(rib, family, stored);
    n++;
  }
  rib.stale[family] = 0;
  return n;
}

/** Routes per family, how many of them are stale, and how many are AS loops (not eligible). */
export function adjRibInCounts(rib: AdjRibIn): Record<Family, { routes: number; stale: number; asLoop: number }> {
  const counts = (f: Family) => ({ routes: rib.routes[f].size, stale: rib.stale[f], asLoop: rib.asLoop[f] });
  return { 'ipv4-unicast': counts('ipv4-unicast'), 'ipv6-unicast': counts('ipv6-unicast') };
}

/** A stored route as an entry. */
function entryOf(
  rib: AdjRibIn,
  family: Family,
  prefix: string,
  pathId: number | undefined,
  stored: number,
): RibInEntry {
  const id = setIdOf(stored);
  const entry: RibInEntry = { family, prefix, attributes: setOf(rib.table, id), stale: stored < 0 };
  if (pathId !== undefined) entry.pathId = pathId;
  if (isAsLoop(rib, family, id)) entry.asLoop = true;
  return entry;
}

/** Every received route (of `family`, or all), for inspection. */
export function* adjRibInEntries(rib: AdjRibIn, family?: Family): Generator<RibInEntry> {
  for (const f of family === undefined ? FAMILIES : [family]) {
    for (const [key, stored] of rib.routes[f]) {
      const { prefix, pathId } = parseRouteKey(key);
      yield entryOf(rib, f, prefix, pathId, stored);
    }
  }
}

/** The received route for a prefix (and path id), or undefined. */
export function receivedRoute(rib: AdjRibIn, prefix: string, pathId?: number): RibInEntry | undefined {
  const family: Family = prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
  const stored = rib.routes[family].get(routeKey(prefix, pathId));
  return stored === undefined ? undefined : entryOf(rib, family, prefix, pathId, stored);
}
