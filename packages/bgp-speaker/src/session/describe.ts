// Words for people about a session: a NOTIFICATION as "6/2 Cease/Administrative Shutdown", the
// negotiated capabilities by name, a route's attributes as printable fields. Shared by the daemon's logs and admin views and the CLI's output;
// light on purpose (no logger, no Kubernetes client) so the CLI can load it alone.
import { asPathToString, formatExtendedCommunity, notificationName, type NotificationMessage, type PathAttributes } from '@bgp-announce/bgp-wire';
import type { NegotiatedSession } from './open-policy.js';
import type { NormalRouteAttributes } from '../rib/route.js';

/** "6/2 Cease/Administrative Shutdown ("maintenance")". */
export function notificationSummary(n: NotificationMessage): string {
  const text = `${n.code}/${n.subcode} ${notificationName(n.code, n.subcode)}`;
  return n.shutdownMessage ? `${text} ("${n.shutdownMessage}")` : text;
}

/** The negotiated capabilities by name (4-octet-as, route-refresh, graceful-restart, ...). */
export function capabilityNames(n: NegotiatedSession): string[] {
  const out: string[] = [];
  if (n.fourOctetAs) out.push('4-octet-as');
  if (n.routeRefresh) out.push('route-refresh');
  if (n.enhancedRouteRefresh) out.push('enhanced-route-refresh');
  if (n.extendedMessage) out.push('extended-message');
  if (n.extendedNextHop.length > 0) out.push('extended-next-hop');
  if (n.addPath.receive.length > 0 || n.addPath.send.length > 0) out.push('add-path');
  if (n.gracefulRestart) out.push('graceful-restart');
  return out;
}

/** A route's path attributes as printed (the daemon's admin views, `bgp-announce peer`); unset ones left out. */
export interface AttributeFields {
  nextHop?: string;
  /** AS path as text: "64496 64511", sets in braces; "" when empty. */
  asPath: string;
  origin?: string;
  med?: number;
  localPref?: number;
  communities?: string[];
  largeCommunities?: string[];
  extendedCommunities?: string[];
}

/** One of our advertised routes' attributes (an Adj-RIB-Out entry) as printable fields. */
export function advertisedFields(a: NormalRouteAttributes): AttributeFields {
  const out: AttributeFields = { nextHop: a.nextHop, asPath: asPathToString(a.asPath), origin: a.origin };
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.communities.length > 0) out.communities = [...a.communities];
  if (a.largeCommunities.length > 0) out.largeCommunities = [...a.largeCommunities];
  if (a.extendedCommunities.length > 0) out.extendedCommunities = a.extendedCommunities.map(formatExtendedCommunity);
  return out;
}

/** A received route's attributes as printable fields; the next hop is the caller's (it depends on the family). */
export function receivedFields(a: PathAttributes): AttributeFields {
  const out: AttributeFields = { asPath: asPathToString(a.asPath ?? []) };
  if (a.origin !== undefined) out.origin = a.origin;
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined) out.localPref = a.localPref;
  if (a.communities?.length) out.communities = [...a.communities];
  if (a.largeCommunities?.length) out.largeCommunities = [...a.largeCommunities];
  if (a.extendedCommunities?.length) out.extendedCommunities = a.extendedCommunities.map(formatExtendedCommunity);
  return out;
}
