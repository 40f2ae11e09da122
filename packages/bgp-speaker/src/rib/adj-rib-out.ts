// Adj-RIB-Out of one peer: what we have advertised to it (route key -> interned attribute set id),
// and the UPDATE bytes that move it to a desired set with as few messages as fit. Only changes go on
// the wire; the RIB is updated in the same call, so the caller must send the bytes it gets.
import {
  AFI,
  SAFI,
  ROUTE_REFRESH_SUBTYPE,
  encodeRouteRefresh,
  endOfRib,
  packUpdates,
  toTwoOctetAttributes,
  type CodecContext,
  type Family,
  type Nlri,
  type PathAttributes,
} from '@bgp-announce/bgp-wire';
import {
  GRACEFUL_SHUTDOWN,
  attributeKey,
  intern,
  newAttributeTable,
  normalizeAttributes,
  parseRouteKey,
  prefixFamily,
  release,
  retain,
  setOf,
  type AttributeTable,
  type NormalRouteAttributes,
  type RouteAttributes,
} from './route.js';
import { RouteMap } from './route-map.js';

/** What has been advertised to one peer. Plain data; change it only through the functions here. */
export interface AdjRibOut {
  table: AttributeTable<NormalRouteAttributes>;
  /** Route key ("prefix" or "prefix#pathId", see routeKey) to attribute set id (IPv4 packed: see route-map.ts). */
  routes: RouteMap;
}

/** The part of a negotiated session the RIB needs (a NegotiatedSession fits). */
export interface SendSession {
  /** Codec context for what we send: fourOctetAs, addPath, maxMessageLength, ibgp. */
  send: CodecContext;
  /** Negotiated families: routes of other families are not advertised (nor kept here). */
  families: readonly Family[];
}

/**
 * Desired routes: route key (see routeKey) to attributes, e.g. a Map. Share attribute objects between
 * routes: each distinct object is normalized and interned once per diff.
 */
export interface DesiredRoutes {
  get(key: string): RouteAttributes | undefined;
  /** Calls `callback` for every route (a Map's forEach fits). */
  forEach(callback: (attributes: RouteAttributes, key: string) => void): void;
}

export interface RibOutChanges {
  /** UPDATE messages to send, in order: withdrawals first, then announcements. */
  updates: Uint8Array[];
  announced: number;
  withdrawn: number;
}

/** LOCAL_PREF sent on iBGP sessions when a route does not set one (RFC 4271 5.1.5 requires it there). */
export const DEFAULT_LOCAL_PREF = 100;

const AFI_SAFI: Record<Family, { afi: number; safi: number }> = {
  'ipv4-unicast': { afi: AFI.IPV4, safi: SAFI.UNICAST },
  'ipv6-unicast': { afi: AFI.IPV6, safi: SAFI.UNICAST },
};

/** An empty Adj-RIB-Out. */
export function newAdjRibOut(): AdjRibOut {
  return { table: newAttributeTable(), routes: new RouteMap() };
}

/** Announcements of one attribute set: IPv4 in the NLRI field, IPv4 with an IPv6 next hop, IPv6. */
interface Group {
  v4: Nlri[];
  v4mp: Nlri[];
  v6: Nlri[];
  /** The set's next hop is IPv6 (IPv4 routes then go in MP_REACH_NLRI). */
  v6NextHop: boolean;
}
type Groups = Map<number, Group>;

function nlriOf(key: string, family: Family, ctx: CodecContext): Nlri {
  if (key.indexOf('#') < 0) return { prefix: key };
  const { prefix, pathId } = parseRouteKey(key);
  if (pathId === undefined) return { prefix };
  if (!(ctx.addPath ?? []).includes(family))
    throw new TypeError(
      `route ${JSON.stringify(key)} has a path identifier but ADD-PATH send is not negotiated for ${family}`,
    );
  if (!Number.isInteger(pathId) || pathId < 0 || pathId > 0xffffffff)
    throw new RangeError(`route ${JSON.stringify(key)}: path identifier must be 0-4294967295`);
  return { prefix, pathId };
}

function groupOf(groups: Groups, id: number, attrs: NormalRouteAttributes): Group {
  let g = groups.get(id);
  if (g === undefined) {
    g = { v4: [], v4mp: [], v6: [], v6NextHop: attrs.nextHop.includes(':') };
    groups.set(id, g);
  }
  return g;
}

function addToGroup(g: Group, attrs: NormalRouteAttributes, nlri: Nlri, family: Family): void {
  if (family === 'ipv6-unicast') {
    if (!g.v6NextHop) throw new TypeError(`IPv6 prefix ${nlri.prefix} needs an IPv6 next hop, got ${attrs.nextHop}`);
    g.v6.push(nlri);
  } else if (g.v6NextHop) g.v4mp.push(nlri);
  else g.v4.push(nlri);
}

/** The path attributes sent for a set (without next hop or NLRI). */
function baseAttributes(a: NormalRouteAttributes, ctx: CodecContext): PathAttributes {
  const p: PathAttributes = { origin: a.origin, asPath: a.asPath };
  if (a.med !== undefined) p.med = a.med;
  if (ctx.ibgp === true) p.localPref = a.localPref ?? DEFAULT_LOCAL_PREF;
  if (a.communities.length > 0) p.communities = a.communities;
  if (a.extendedCommunities.length > 0) p.extendedCommunities = a.extendedCommunities;
  if (a.largeCommunities.length > 0) p.largeCommunities = a.largeCommunities;
  return ctx.fourOctetAs === false ? toTwoOctetAttributes(p) : p;
}

function nextHops(a: NormalRouteAttributes): string[] {
  return a.linkLocalNextHop === undefined ? [a.nextHop] : [a.nextHop, a.linkLocalNextHop];
}

/** UPDATEs for grouped announcements: per set, MP_REACH (IPv6, then IPv4 with IPv6 next hop), then IPv4 NLRI. */
function packGroups(
  out: Uint8Array[],
  groups: Groups,
  table: AttributeTable<NormalRouteAttributes>,
  ctx: CodecContext,
): void {
  for (const [id, g] of groups) {
    const a = setOf(table, id);
    const base = baseAttributes(a, ctx);
    if (g.v6.length > 0)
      push(
        out,
        packUpdates(
          {
            attributes: { ...base, mpReach: { afi: AFI.IPV6, safi: SAFI.UNICAST, nextHops: nextHops(a), nlri: g.v6 } },
          },
          ctx,
        ),
      );
    if (g.v4mp.length > 0)
      push(
        out,
        packUpdates(
          {
            attributes: {
              ...base,
              mpReach: { afi: AFI.IPV4, safi: SAFI.UNICAST, nextHops: nextHops(a), nlri: g.v4mp },
            },
          },
          ctx,
        ),
      );
    if (g.v4.length > 0) push(out, packUpdates({ attributes: { ...base, nextHop: a.nextHop }, nlri: g.v4 }, ctx));
  }
}

function packWithdrawals(out: Uint8Array[], v4: Nlri[], v6: Nlri[], ctx: CodecContext): void {
  if (v6.length > 0)
    push(out, packUpdates({ attributes: { mpUnreach: { afi: AFI.IPV6, safi: SAFI.UNICAST, withdrawn: v6 } } }, ctx));
  if (v4.length > 0) push(out, packUpdates({ attributes: {}, withdrawn: v4 }, ctx));
}

function push(out: Uint8Array[], more: Uint8Array[]): void {
  for (const m of more) out.push(m);
}

/** Drops sets interned during a call that no route ended up using. */
function dropUnused(table: AttributeTable<NormalRouteAttributes>, created: number[]): void {
  for (const id of created) if (table.refs[id] === 0) release(table, id);
}

function internNormal(
  table: AttributeTable<NormalRouteAttributes>,
  a: NormalRouteAttributes,
  created: number[],
): number {
  const key = attributeKey(a);
  const before = table.ids.size;
  const id = intern(table, key, a);
  if (table.ids.size > before) created.push(id);
  return id;
}

/** The id of the same set with the GRACEFUL_SHUTDOWN community added (cached per call). */
function withGshut(
  table: AttributeTable<NormalRouteAttributes>,
  id: number,
  cache: Map<number, number>,
  created: number[],
): number {
  let out = cache.get(id);
  if (out === undefined) {
    const a = setOf(table, id);
    out = a.communities.includes(GRACEFUL_SHUTDOWN)
      ? id
      : internNormal(table, normalizeAttributes({ ...a, communities: [...a.communities, GRACEFUL_SHUTDOWN] }), created);
    cache.set(id, out);
  }
  return out;
}

function commit(rib: AdjRibOut, key: string, id: number | undefined): void {
  let old: number | undefined;
  if (id !== undefined) {
    retain(rib.table, id);
    old = rib.routes.replace(key, id);
  } else old = rib.routes.remove(key);
  if (old !== undefined) release(rib.table, old);
}

/**
 * Moves the RIB to `desired` and returns the UPDATEs that do it: withdrawals of advertised routes no
 * longer desired, announcements of new routes and of routes whose attributes changed (implicit
 * withdraw), grouped by attribute set and packed with packUpdates for session.send. Routes of
 * families the session did not negotiate are left out. With `gracefulShutdown`, every route carries
 * the GRACEFUL_SHUTDOWN community (RFC 8326). Nothing changed gives no bytes. Throws TypeError/
 * RangeError for bad routes, leaving the RIB as it was.
 */
export function diffAdjRibOut(
  rib: AdjRibOut,
  desired: DesiredRoutes,
  session: SendSession,
  options: { gracefulShutdown?: boolean } = {},
): RibOutChanges {
  const ctx = session.send;
  const families = new Set(session.families);
  const created: number[] = [];
  const routes = rib.routes;
  const advertisedBefore = routes.size > 0; // the first send skips a lookup per route
  try {
    const byObject = new Map<RouteAttributes, number>();
    const gshut = new Map<number, number>();
    const groups: Groups = new Map();
    const changed: string[] = [];
    const changedIds: number[] = [];
    // Routes mostly share a few attribute objects: remember the last one and its set and group.
    let lastAttrs: RouteAttributes | undefined;
    let lastId = -1;
    let lastSet: NormalRouteAttributes | undefined;
    let lastGroup: Group | undefined;
    let added = 0;
    desired.forEach((attrs, key) => {
      const family = prefixFamily(key);
      if (!families.has(family)) return;
      if (attrs !== lastAttrs) {
        let id = byObject.get(attrs);
        if (id === undefined) {
          id = internNormal(rib.table, normalizeAttributes(attrs), created);
          byObject.set(attrs, id);
        }
        if (options.gracefulShutdown === true) id = withGshut(rib.table, id, gshut, created);
        lastAttrs = attrs;
        lastId = id;
        lastSet = setOf(rib.table, id);
        lastGroup = undefined;
      }
      // Marks the advertised routes still desired: the others are withdrawn below.
      const current = advertisedBefore ? routes.markedGet(key) : undefined;
      if (current === lastId) return;
      if (current === undefined) added++;
      lastGroup ??= groupOf(groups, lastId, lastSet!);
      addToGroup(lastGroup, lastSet!, nlriOf(key, family, ctx), family);
      changed.push(key);
      changedIds.push(lastId);
    });
    const w4: Nlri[] = [];
    const w6: Nlri[] = [];
    const withdrawKeys = advertisedBefore ? routes.unmarkedKeys() : [];
    for (const key of withdrawKeys) {
      const family = prefixFamily(key);
      (family === 'ipv6-unicast' ? w6 : w4).push(nlriOf(key, family, ctx));
    }
    const updates: Uint8Array[] = [];
    packWithdrawals(updates, w4, w6, ctx);
    packGroups(updates, groups, rib.table, ctx);
    // Announcements first: a withdrawn route may hold the last reference to a set a new route reuses.
    routes.reserve(routes.size + added);
    for (let i = 0; i < changed.length; i++) commit(rib, changed[i]!, changedIds[i]!);
    for (const key of withdrawKeys) commit(rib, key, undefined);
    return { updates, announced: changed.length, withdrawn: withdrawKeys.length };
  } finally {
    routes.clearMarks();
    dropUnused(rib.table, created);
  }
}

/**
 * Every advertised route of `families` (default: all negotiated) as UPDATEs, grouped by attribute
 * set: the answer to a route refresh, or a full re-send. The RIB is not changed.
 */
export function allUpdates(
  rib: AdjRibOut,
  session: SendSession,
  families: readonly Family[] = session.families,
): Uint8Array[] {
  const wanted = new Set(families);
  const groups: Groups = new Map();
  for (const [key, id] of rib.routes) {
    const family = prefixFamily(key);
    if (!wanted.has(family)) continue;
    const set = setOf(rib.table, id);
    addToGroup(groupOf(groups, id, set), set, nlriOf(key, family, session.send), family);
  }
  const out: Uint8Array[] = [];
  packGroups(out, groups, rib.table, session.send);
  return out;
}

/**
 * The answer to a ROUTE-REFRESH for `family`: every route of it again; with `enhanced` (RFC 7313)
 * wrapped in a Beginning-of-Route-Refresh and an End-of-Route-Refresh message.
 */
export function routeRefreshUpdates(
  rib: AdjRibOut,
  session: SendSession,
  family: Family,
  enhanced = false,
): Uint8Array[] {
  const updates = allUpdates(rib, session, [family]);
  if (!enhanced) return updates;
  const { afi, safi } = AFI_SAFI[family];
  return [
    encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi, safi, subtype: ROUTE_REFRESH_SUBTYPE.BORR }, session.send),
    ...updates,
    encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi, safi, subtype: ROUTE_REFRESH_SUBTYPE.EORR }, session.send),
  ];
}

/** End-of-RIB markers (RFC 4724), one per family, to send after the initial updates. */
export function endOfRibUpdates(families: readonly Family[]): Uint8Array[] {
  return families.map((f) => endOfRib(AFI_SAFI[f].afi, AFI_SAFI[f].safi));
}

/**
 * Re-announces every advertised route with the GRACEFUL_SHUTDOWN community 65535:0 added (RFC 8326),
 * before an administrative shutdown. The RIB records it, so a later diff without the option takes
 * the community away again. Routes already carrying it are not re-sent.
 */
export function gracefulShutdownUpdates(rib: AdjRibOut, session: SendSession): RibOutChanges {
  const created: number[] = [];
  try {
    const gshut = new Map<number, number>();
    const groups: Groups = new Map();
    const changed: string[] = [];
    const changedIds: number[] = [];
    for (const [key, id] of rib.routes) {
      const next = withGshut(rib.table, id, gshut, created);
      if (next === id) continue;
      const set = setOf(rib.table, next);
      addToGroup(groupOf(groups, next, set), set, nlriOf(key, prefixFamily(key), session.send), prefixFamily(key));
      changed.push(key);
      changedIds.push(next);
    }
    const updates: Uint8Array[] = [];
    packGroups(updates, groups, rib.table, session.send);
    for (let i = 0; i < changed.length; i++) commit(rib, changed[i]!, changedIds[i]!);
    return { updates, announced: changed.length, withdrawn: 0 };
  } finally {
    dropUnused(rib.table, created);
  }
}

/** Routes advertised, per family. */
export function adjRibOutCounts(rib: AdjRibOut): Record<Family, number> {
  // Packed keys are all IPv4: only the others need looking at.
  const counts: Record<Family, number> = { 'ipv4-unicast': rib.routes.packedSize, 'ipv6-unicast': 0 };
  for (const key of rib.routes.otherKeys()) counts[prefixFamily(key)]++;
  return counts;
}

/** What is advertised for a route key, or undefined. */
export function advertised(rib: AdjRibOut, key: string): NormalRouteAttributes | undefined {
  const id = rib.routes.get(key);
  return id === undefined ? undefined : setOf(rib.table, id);
}
