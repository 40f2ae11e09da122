// Routes as the RIBs keep them: a route key (prefix, optionally with an ADD-PATH path identifier)
// mapped to the id of an interned attribute set. Attribute sets are stored once in an AttributeTable
// and reference-counted, so a million routes sharing a few sets cost a Map entry each and no more.
import {
  isIpv4,
  isIpv6,
  formatCommunity,
  parseCommunity,
  parseExtendedCommunity,
  parseIp,
  formatIpv6,
  parseLargeCommunity,
  type AsPathSegment,
  type ExtendedCommunity,
  type Family,
  type Origin,
} from '@bgp-announce/bgp-wire';

/**
 * What we announce for a prefix. The AS_PATH is sent as given: the caller builds it (our AS first for
 * eBGP, prepends included: see prependAsPath; empty or absent for iBGP). LOCAL_PREF is only sent on
 * iBGP sessions. An IPv4 prefix with an IPv6 next hop goes out in MP_REACH_NLRI (RFC 8950).
 */
export interface RouteAttributes {
  /** IPv4 or IPv6 address. IPv6 prefixes need an IPv6 next hop. */
  nextHop: string;
  /** Optional IPv6 link-local next hop, sent after the global one (RFC 2545). */
  linkLocalNextHop?: string;
  /** Default 'igp'. */
  origin?: Origin;
  /** Default empty. */
  asPath?: AsPathSegment[];
  med?: number;
  localPref?: number;
  /** "64496:100" or well-known names ("no-export", "graceful-shutdown"). */
  communities?: string[];
  /** "64496:1:2". */
  largeCommunities?: string[];
  /** Typed, or text accepted by parseExtendedCommunity ("rt:64496:100"). */
  extendedCommunities?: (ExtendedCommunity | string)[];
}

/** The canonical form kept in the table: communities as sorted unique "a:b", extended ones typed. */
export interface NormalRouteAttributes {
  nextHop: string;
  linkLocalNextHop?: string;
  origin: Origin;
  asPath: AsPathSegment[];
  med?: number;
  localPref?: number;
  communities: string[];
  largeCommunities: string[];
  extendedCommunities: ExtendedCommunity[];
}

/** Interned attribute sets of type T, by id; plain data, changed only by the functions below. */
export interface AttributeTable<T> {
  /** Key (see attributeKey) to id. */
  ids: Map<string, number>;
  /** Id to the set; undefined once released. */
  sets: (T | undefined)[];
  keys: (string | undefined)[];
  /** Id to the number of routes using it. */
  refs: number[];
  /** Released ids for reuse. */
  free: number[];
}

/** An empty attribute table. */
export function newAttributeTable<T>(): AttributeTable<T> {
  return { ids: new Map(), sets: [], keys: [], refs: [], free: [] };
}

/**
 * The id of the set with this key, adding `set` if it is new; the reference count is not changed
 * (use retain for each route that points at it).
 */
export function intern<T>(table: AttributeTable<T>, key: string, set: T): number {
  const known = table.ids.get(key);
  if (known !== undefined) return known;
  const id = table.free.pop() ?? table.sets.length;
  table.ids.set(key, id);
  table.sets[id] = set;
  table.keys[id] = key;
  table.refs[id] = 0;
  return id;
}

/** One more route uses set `id`. */
export function retain<T>(table: AttributeTable<T>, id: number): void {
  table.refs[id] = (table.refs[id] ?? 0) + 1;
}

/** One route fewer uses set `id`; the set is dropped when none does. */
export function release<T>(table: AttributeTable<T>, id: number): void {
  const n = (table.refs[id] ?? 0) - 1;
  table.refs[id] = n;
  if (n > 0) return;
  const key = table.keys[id];
  if (key !== undefined) table.ids.delete(key);
  table.sets[id] = undefined;
  table.keys[id] = undefined;
  table.free.push(id);
}

/** Set `id` (throws if it was released: a RIB bug, not a caller error). */
export function setOf<T>(table: AttributeTable<T>, id: number): T {
  const set = table.sets[id];
  if (set === undefined) throw new Error(`attribute set ${id} is not in the table`);
  return set;
}

/** Number of distinct attribute sets in use. */
export function attributeSetCount<T>(table: AttributeTable<T>): number {
  return table.ids.size;
}

// ---------------------------------------------------------------------------------------------
// Route keys

/** "prefix" or, with an ADD-PATH path identifier, "prefix#pathId". */
export function routeKey(prefix: string, pathId?: number): string {
  return pathId === undefined ? prefix : `${prefix}#${pathId}`;
}

/** The prefix and path identifier of a route key. */
export function parseRouteKey(key: string): { prefix: string; pathId?: number } {
  const hash = key.indexOf('#');
  if (hash < 0) return { prefix: key };
  return { prefix: key.slice(0, hash), pathId: Number(key.slice(hash + 1)) };
}

/** The family of a prefix (IPv6 when it holds a ':'). */
export function prefixFamily(prefix: string): Family {
  return prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast';
}

// ---------------------------------------------------------------------------------------------
// Attributes we announce

function uint32(value: number | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0 || value > 0xffffffff)
    throw new RangeError(`${what} must be an integer 0-4294967295, got ${value}`);
  return value;
}

function canonicalIp(text: string, what: string): string {
  if (isIpv4(text)) return text;
  const bytes = isIpv6(text) ? parseIp(text) : undefined;
  if (bytes === undefined) throw new TypeError(`${what} is not an IP address: ${JSON.stringify(text)}`);
  return formatIpv6(bytes, 0);
}

/**
 * Checks and canonicalizes route attributes: addresses in canonical text (RFC 5952), communities
 * parsed and sorted numerically without duplicates, large communities sorted, extended communities
 * parsed and sorted by their bytes. Throws TypeError/RangeError for bad input.
 */
export function normalizeAttributes(attrs: RouteAttributes): NormalRouteAttributes {
  const communities = [...new Set((attrs.communities ?? []).map(parseCommunity))]
    .sort((a, b) => a - b)
    .map(formatCommunity);
  const large = [...new Set((attrs.largeCommunities ?? []).map((c) => parseLargeCommunity(c).join(':')))];
  large.sort((a, b) => {
    const x = parseLargeCommunity(a);
    const y = parseLargeCommunity(b);
    return x[0] - y[0] || x[1] - y[1] || x[2] - y[2];
  });
  const byHex = new Map<string, ExtendedCommunity>();
  for (const ec of attrs.extendedCommunities ?? []) {
    const typed = typeof ec === 'string' ? parseExtendedCommunity(ec) : ec;
    byHex.set(typed.hex.toLowerCase(), typed);
  }
  const extended = [...byHex.keys()].sort().map((hex) => byHex.get(hex)!);
  const out: NormalRouteAttributes = {
    nextHop: canonicalIp(attrs.nextHop, 'nextHop'),
    origin: attrs.origin ?? 'igp',
    asPath: attrs.asPath ?? [],
    communities,
    largeCommunities: large,
    extendedCommunities: extended,
  };
  if (attrs.linkLocalNextHop !== undefined)
    out.linkLocalNextHop = canonicalIp(attrs.linkLocalNextHop, 'linkLocalNextHop');
  const med = uint32(attrs.med, 'med');
  if (med !== undefined) out.med = med;
  const localPref = uint32(attrs.localPref, 'localPref');
  if (localPref !== undefined) out.localPref = localPref;
  return out;
}

/** A stable key for a normalized attribute set: equal sets give equal keys, whatever the input order. */
export function attributeKey(a: NormalRouteAttributes): string {
  return JSON.stringify([
    a.nextHop,
    a.linkLocalNextHop ?? null,
    a.origin,
    a.asPath.map((s) => [s.type, s.asns]),
    a.med ?? null,
    a.localPref ?? null,
    a.communities,
    a.largeCommunities,
    a.extendedCommunities.map((e) => e.hex.toLowerCase()),
  ]);
}

/** `asPath` with `asn` put in front `times` times (into the leading AS_SEQUENCE when there is one). */
export function prependAsPath(asPath: readonly AsPathSegment[], asn: number, times = 1): AsPathSegment[] {
  uint32(asn, 'asn');
  if (!Number.isInteger(times) || times < 0 || times > 255)
    throw new RangeError(`times must be an integer 0-255, got ${times}`);
  if (times === 0) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const added = new Array<number>(times).fill(asn);
  const [first, ...rest] = asPath;
  if (first !== undefined && first.type === 'AS_SEQUENCE' && first.asns.length + times <= 255) {
    return [
      { type: 'AS_SEQUENCE', asns: [...added, ...first.asns] },
      ...rest.map((s) => ({ type: s.type, asns: [...s.asns] })),
    ];
  }
  return [{ type: 'AS_SEQUENCE', asns: added }, ...asPath.map((s) => ({ type: s.type, asns: [...s.asns] }))];
}

/** The GRACEFUL_SHUTDOWN community (RFC 8326), 65535:0. */
export const GRACEFUL_SHUTDOWN = '65535:0';
