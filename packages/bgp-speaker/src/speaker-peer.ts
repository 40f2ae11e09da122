// The Speaker's per-peer pieces as plain functions: peer options split into session settings and
// route policy, prefix checking, and the desired routes for one peer (our routes with the peer's
// defaults, next hop self and the AS path) that diffAdjRibOut compares with the Adj-RIB-Out.
import {
  formatIpv4,
  formatIpv6,
  isIpv4,
  linkBandwidth,
  parseExtendedCommunity,
  parseIp,
  type AsPathSegment,
  type ExtendedCommunity,
  type Family,
  type Origin,
} from '@bgp-announce/bgp-wire';
import type { PeerConfigInput } from './session/config.js';
import type { TransportOptions } from './session/driver.js';
import type { PeerBfdOptions } from './speaker-bfd.js';
import type { AdjRibInConfig } from './rib/adj-rib-in.js';
import type { RouteAttributes } from './rib/route.js';
import type { DesiredRoutes } from './rib/adj-rib-out.js';

/** Attributes of an announced route; each one overrides (or for communities, adds to) the peer's default. */
export interface AnnounceAttributes {
  /** Default: next hop self (the session's local address, or the peer's nextHop/nextHopIpv6 option). */
  nextHop?: string;
  /** Default 'igp'. */
  origin?: Origin;
  communities?: string[];
  largeCommunities?: string[];
  extendedCommunities?: (ExtendedCommunity | string)[];
  /** Sent on iBGP sessions only (default 100 there). */
  localPref?: number;
  med?: number;
  /** How many extra times our AS is put in front of the AS path (0-255). */
  asPathPrepend?: number;
  /**
   * The link bandwidth extended community (RFC 10005) to send, in bytes per second (1 Mbps =
   * 125,000), or with its form: `{ bytesPerSecond, transitive: false }` for the non-transitive type
   * 0x40 (default transitive, type 0x00, as FRR sends it). The global administrator is our AS on each
   * session (AS_TRANS when it needs four octets), so one announcement serves peers of different local
   * ASes. It replaces any link bandwidth community of `extendedCommunities`. Routers that honour it
   * (FRR) weight their multipath next hops by it.
   */
  linkBandwidth?: LinkBandwidth;
  /** Send the route only to these peers (ids given to addPeer). Default: every peer. */
  peers?: readonly string[];
}

/** Link bandwidth in bytes per second, or with its form (see AnnounceAttributes.linkBandwidth). */
export type LinkBandwidth = number | { bytesPerSecond: number; transitive?: boolean };

/** The community of a LinkBandwidth on a session whose local AS is `localAs`. Throws RangeError when out of range. */
export function linkBandwidthCommunity(localAs: number, lb: LinkBandwidth): ExtendedCommunity {
  return typeof lb === 'number'
    ? linkBandwidth(localAs, lb)
    : linkBandwidth(localAs, lb.bytesPerSecond, lb.transitive ?? true);
}

/**
 * What announce() takes for one prefix: one set of attributes, or alternatives for different peers
 * (each peer gets the first whose `peers` includes it, or that has no `peers`; none: not sent to it).
 */
export type Announcement = AnnounceAttributes | readonly AnnounceAttributes[];

/** Route policy applied to every route sent to one peer. */
export interface PeerRoutePolicy extends Omit<AnnounceAttributes, 'nextHop' | 'origin' | 'peers'> {
  /** Next hop for IPv4 routes. Default: our address on the session (when it is IPv4). */
  nextHop?: string;
  /** Next hop for IPv6 routes. Default: our address on the session (when it is IPv6). */
  nextHopIpv6?: string;
  /** Minimum route advertisement interval (ms) between two batches of changes. Default 0. */
  minRouteAdvertisementIntervalMs?: number;
  /** Maximum-prefix limits on what the peer sends us. */
  maxPrefix?: AdjRibInConfig['maxPrefix'];
}

/** Everything addPeer takes: where the peer is, session settings (PeerConfig fields), route policy. */
export type PeerOptions = TransportOptions &
  Omit<PeerConfigInput, 'localAs' | 'bgpId'> &
  PeerRoutePolicy & {
    /** Our AS on this session (MetalLB's per-peer myASN). Default: the Speaker's localAs. */
    localAs?: number;
    /** Our BGP identifier on this session (MetalLB's routerID). Default: the Speaker's bgpId. */
    bgpId?: string;
    /** Require BFD with this peer (the Speaker needs a BFD engine): see speaker-bfd.ts. */
    bfd?: PeerBfdOptions;
  };

const POLICY_KEYS: readonly (keyof PeerRoutePolicy)[] = [
  'communities',
  'largeCommunities',
  'extendedCommunities',
  'localPref',
  'med',
  'asPathPrepend',
  'linkBandwidth',
  'nextHop',
  'nextHopIpv6',
  'minRouteAdvertisementIntervalMs',
  'maxPrefix',
];

/** Splits peer options into the session part (a change re-creates the session) and the route policy. */
export function splitPeerOptions(options: PeerOptions): {
  session: Omit<PeerOptions, keyof PeerRoutePolicy>;
  policy: PeerRoutePolicy;
} {
  const session: Record<string, unknown> = {};
  const policy: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(options)) {
    if (v === undefined) continue;
    ((POLICY_KEYS as readonly string[]).includes(k) ? policy : session)[k] = v;
  }
  return { session: session as Omit<PeerOptions, keyof PeerRoutePolicy>, policy: policy as PeerRoutePolicy };
}

/** Structural equality of plain option values (JSON-shaped). */
export function sameOptions(a: unknown, b: unknown): boolean {
  const norm = (v: unknown): unknown =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>)
            .filter(([, x]) => x !== undefined)
            .sort(([x], [y]) => (x < y ? -1 : 1))
            .map(([k, x]) => [k, norm(x)]),
        )
      : Array.isArray(v)
        ? v.map(norm)
        : v;
  return JSON.stringify(norm(a)) === JSON.stringify(norm(b));
}

/**
 * The canonical text of an IPv4 or IPv6 prefix ("192.0.2.0/24", "2001:db8::/32"). Throws TypeError
 * for text that is not a prefix and RangeError for a bad length or host bits set.
 */
export function canonicalPrefix(prefix: string): string {
  if (isCanonicalIpv4Prefix(prefix)) return prefix;
  const slash = prefix.indexOf('/');
  const bytes = slash > 0 ? parseIp(prefix.slice(0, slash)) : undefined;
  const lenText = prefix.slice(slash + 1);
  if (bytes === undefined || !/^\d{1,3}$/.test(lenText))
    throw new TypeError(`not an IP prefix: ${JSON.stringify(prefix)}`);
  const len = Number(lenText);
  if (len > bytes.length * 8) throw new RangeError(`prefix ${prefix}: length ${len} is more than ${bytes.length * 8}`);
  for (let bit = len; bit < bytes.length * 8; bit++) {
    if ((bytes[bit >> 3]! >> (7 - (bit & 7))) & 1)
      throw new RangeError(`prefix ${prefix} has host bits set beyond /${len}`);
  }
  return `${bytes.length === 4 ? formatIpv4(bytes, 0) : formatIpv6(bytes, 0)}/${len}`;
}

/**
 * True for IPv4 prefix text already in canonical form: four octets 0-255 and a length 0-32, without
 * leading zeros, no host bits set. The common case of canonicalPrefix, checked without allocating.
 */
function isCanonicalIpv4Prefix(text: string): boolean {
  let address = 0;
  let value = 0;
  let digits = 0;
  let part = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if ((digits > 0 && value === 0) || digits === 3) return false;
      value = value * 10 + (c - 48);
      digits++;
    } else if (digits > 0 && value <= 255 && ((c === 46 && part < 3) || (c === 47 && part === 3))) {
      address = ((address << 8) | value) >>> 0;
      part++;
      value = 0;
      digits = 0;
    } else return false;
  }
  if (part !== 4 || digits === 0 || value > 32) return false;
  return value === 32 || (value === 0 ? address === 0 : address << value === 0);
}

/** What building a peer's desired routes needs to know about its session. */
export interface PeerSendContext {
  /** The peer's id: routes whose `peers` leave it out are not sent. */
  peerId?: string;
  localAs: number;
  ibgp: boolean;
  /** Our address on the session (next hop self). */
  localAddress?: string | undefined;
  /** Families negotiated with an IPv6 next hop for IPv4 NLRI (RFC 8950). */
  extendedNextHop?: readonly Family[];
}

/** The peer's desired routes, and the prefixes left out because no next hop of their family is known. */
export interface PeerDesired {
  /** A view over the routes given to peerDesiredRoutes (no copy): use it before they change. */
  routes: DesiredRoutes;
  noNextHop: string[];
}

function merged(a: readonly string[] | undefined, b: readonly string[] | undefined): string[] | undefined {
  if (a === undefined) return b === undefined ? undefined : [...b];
  return b === undefined ? [...a] : [...a, ...b];
}

/**
 * Our routes as sent to one peer: the peer's defaults under each route's attributes, next hop self
 * unless set, and the AS path (our AS once for eBGP, plus the prepends). Routes that share an
 * attributes object share the result, so the Adj-RIB-Out interns each set once. The result is a view
 * over `routes`, not a copy (a million routes would cost a second Map per peer and flush).
 */
export function peerDesiredRoutes(
  routes: ReadonlyMap<string, Announcement>,
  policy: PeerRoutePolicy,
  ctx: PeerSendContext,
): PeerDesired {
  const local = ctx.localAddress;
  const localV4 = local !== undefined && isIpv4(local) ? local : undefined;
  const localV6 = local !== undefined && !isIpv4(local) ? local : undefined;
  const v4NextHop = policy.nextHop ?? localV4 ?? (ctx.extendedNextHop?.includes('ipv4-unicast') ? localV6 : undefined);
  const v6NextHop = policy.nextHopIpv6 ?? localV6;
  const byObject = new Map<AnnounceAttributes, { v4?: RouteAttributes; v6?: RouteAttributes }>();
  const build = (a: AnnounceAttributes, nextHop: string): RouteAttributes => {
    const prepend = a.asPathPrepend ?? policy.asPathPrepend ?? 0;
    const times = (ctx.ibgp ? 0 : 1) + prepend;
    const asPath: AsPathSegment[] =
      times > 0 ? [{ type: 'AS_SEQUENCE', asns: new Array<number>(times).fill(ctx.localAs) }] : [];
    const out: RouteAttributes = { nextHop, origin: a.origin ?? 'igp', asPath };
    const communities = merged(policy.communities, a.communities);
    if (communities) out.communities = communities;
    const large = merged(policy.largeCommunities, a.largeCommunities);
    if (large) out.largeCommunities = large;
    let ext =
      policy.extendedCommunities || a.extendedCommunities
        ? [...(policy.extendedCommunities ?? []), ...(a.extendedCommunities ?? [])]
        : undefined;
    const lb = a.linkBandwidth ?? policy.linkBandwidth;
    if (lb !== undefined) {
      const others = (ext ?? []).filter(
        (ec) => (typeof ec === 'string' ? parseExtendedCommunity(ec) : ec).name !== 'link-bandwidth',
      );
      ext = [...others, linkBandwidthCommunity(ctx.localAs, lb)];
    }
    if (ext) out.extendedCommunities = ext;
    const localPref = a.localPref ?? policy.localPref;
    if (localPref !== undefined) out.localPref = localPref;
    const med = a.med ?? policy.med;
    if (med !== undefined) out.med = med;
    return out;
  };
  const peerId = ctx.peerId;
  /** The attributes this peer gets of an announcement, or undefined when it is not for this peer. */
  const select = (a: Announcement): AnnounceAttributes | undefined => {
    if (!isAlternatives(a))
      return a.peers === undefined || (peerId !== undefined && a.peers.includes(peerId)) ? a : undefined;
    for (const v of a) if (v.peers === undefined || (peerId !== undefined && v.peers.includes(peerId))) return v;
    return undefined;
  };
  // Routes mostly share one attributes object: the last one resolved is remembered.
  let lastA: Announcement | undefined;
  let lastV6 = false;
  let lastOut: RouteAttributes | undefined;
  /** The attributes sent for a route, or undefined when its family has no next hop. */
  const resolve = (prefix: string, announcement: Announcement): RouteAttributes | undefined => {
    const v6 = prefix.includes(':');
    if (announcement === lastA && v6 === lastV6) return lastOut;
    const a = select(announcement);
    const nextHop = a === undefined ? undefined : (a.nextHop ?? (v6 ? v6NextHop : v4NextHop));
    let out: RouteAttributes | undefined;
    if (a !== undefined && nextHop !== undefined) {
      let cached = byObject.get(a);
      if (cached === undefined) byObject.set(a, (cached = {}));
      out = a.nextHop !== undefined || !v6 ? (cached.v4 ??= build(a, nextHop)) : (cached.v6 ??= build(a, nextHop));
    }
    lastA = announcement;
    lastV6 = v6;
    lastOut = out;
    return out;
  };
  const noNextHop: string[] = [];
  if (v4NextHop === undefined || v6NextHop === undefined) {
    for (const [prefix, a] of routes)
      if (resolve(prefix, a) === undefined && select(a) !== undefined) noNextHop.push(prefix);
  }
  const view: DesiredRoutes = {
    get(prefix: string): RouteAttributes | undefined {
      const a = routes.get(prefix);
      return a === undefined ? undefined : resolve(prefix, a);
    },
    forEach(callback: (attributes: RouteAttributes, prefix: string) => void): void {
      routes.forEach((a, prefix) => {
        const out = resolve(prefix, a);
        if (out !== undefined) callback(out, prefix);
      });
    },
  };
  return { routes: view, noNextHop };
}

/** Throws RangeError when an announcement's link bandwidth (any alternative's) cannot be sent. */
export function checkLinkBandwidth(announcement: Announcement): void {
  for (const a of isAlternatives(announcement) ? announcement : [announcement])
    if (a.linkBandwidth !== undefined) linkBandwidthCommunity(0, a.linkBandwidth);
}

function isAlternatives(a: Announcement): a is readonly AnnounceAttributes[] {
  return Array.isArray(a);
}
