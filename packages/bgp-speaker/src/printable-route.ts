// One printable shape for a route and its path attributes, the same wherever a route is shown to
// people or written as JSON (the daemon's admin views behind `bgp-announce status`, the events of
// `bgp-announce peer`): built from an Adj-RIB-Out entry (a route we advertised) or an Adj-RIB-In
// entry (a route a peer sent; one prefix of a decoded UPDATE fits too).
import {
  asPathToString,
  familyOf,
  formatExtendedCommunity,
  reconcileAsPath,
  type ExtendedCommunity,
  type Family,
  type Origin,
} from '@bgp-announce/bgp-wire';
import { prefixFamily } from './rib/route.js';
import type { RibInEntry } from './rib/adj-rib-in.js';
import type { AdvertisedRoute } from './speaker-types.js';

/** A route as printed. Unset attributes are left out; JSON has the keys in this order. */
export interface PrintableRoute {
  family: Family;
  prefix: string;
  /** ADD-PATH path identifier (RFC 7911). */
  pathId?: number;
  nextHop?: string;
  /** The link-local next hop after the global one (RFC 2545). */
  linkLocalNextHop?: string;
  /** AS path as text: "64496 64511", sets in braces; "" when empty (AS4_PATH merged in, RFC 6793). */
  asPath: string;
  origin?: Origin;
  med?: number;
  localPref?: number;
  /** "64496:100", or the name of a well-known community as the codec gives it. */
  communities?: string[];
  largeCommunities?: string[];
  /** As text: "rt:64496:100", ... */
  extendedCommunities?: string[];
  /** Route reflection (RFC 4456). */
  originatorId?: string;
  clusterList?: string[];
  /** Received routes only: our AS is in the AS path (RFC 4271 9.1.2), so the route is not eligible. */
  asLoop?: boolean;
}

/** A route we advertised (an Adj-RIB-Out entry, as Speaker.adjRibOut() gives it) as printed. */
export function printableAdvertised(route: AdvertisedRoute): PrintableRoute {
  const a = route.attributes;
  const out = { family: prefixFamily(route.prefix), prefix: route.prefix } as PrintableRoute; // filled in key order
  if (route.pathId !== undefined) out.pathId = route.pathId;
  out.nextHop = a.nextHop;
  if (a.linkLocalNextHop !== undefined) out.linkLocalNextHop = a.linkLocalNextHop;
  out.asPath = asPathToString(a.asPath);
  out.origin = a.origin;
  return withCommon(out, a);
}

/**
 * A received route (an Adj-RIB-In entry, or one prefix of a decoded UPDATE with its attributes) as printed. Its next hop is MP_REACH_NLRI's (and the link-local one after it) when
 * that carries the route's family, NEXT_HOP's otherwise; a 2-octet peer's AS4_PATH is merged into the
 * AS path. An AS loop (the entry's asLoop) is marked `asLoop: true`.
 */
export function printableReceived(
  route: Pick<RibInEntry, 'family' | 'prefix' | 'pathId' | 'attributes' | 'asLoop'>,
): PrintableRoute {
  const a = route.attributes;
  const out = { family: route.family, prefix: route.prefix } as PrintableRoute; // filled in key order
  if (route.pathId !== undefined) out.pathId = route.pathId;
  const reach = a.mpReach;
  const [nextHop, linkLocal] =
    reach && familyOf(reach.afi, reach.safi) === route.family ? (reach.nextHops ?? []) : [a.nextHop];
  if (nextHop !== undefined) out.nextHop = nextHop;
  if (linkLocal !== undefined) out.linkLocalNextHop = linkLocal;
  const asPath = a.asPath ?? [];
  out.asPath = asPathToString(a.as4Path === undefined ? asPath : reconcileAsPath(asPath, a.as4Path));
  if (a.origin !== undefined) out.origin = a.origin;
  withCommon(out, a);
  if (a.originatorId !== undefined) out.originatorId = a.originatorId;
  if (a.clusterList?.length) out.clusterList = [...a.clusterList];
  if (route.asLoop) out.asLoop = true;
  return out;
}

/** MED, LOCAL_PREF and the communities, when set. */
function withCommon(
  out: PrintableRoute,
  a: {
    med?: number | undefined;
    localPref?: number | undefined;
    communities?: readonly string[] | undefined;
    largeCommunities?: readonly string[] | undefined;
    extendedCommunities?: readonly ExtendedCommunity[] | undefined;
  },
): PrintableRoute {
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.communities?.length) out.communities = [...a.communities];
  if (a.largeCommunities?.length) out.largeCommunities = [...a.largeCommunities];
  if (a.extendedCommunities?.length) out.extendedCommunities = a.extendedCommunities.map(formatExtendedCommunity);
  return out;
}
