// Words for people about a session: a NOTIFICATION as "6/2 Cease/Administrative Shutdown", the
// negotiated capabilities by name. Shared by the daemon's logs and admin views and the CLI's output;
// light on purpose (no logger, no Kubernetes client) so the CLI can load it alone. A route's printable
// form is in ../printable-route.ts.
import { notificationName, type NotificationMessage } from '@bgp-announce/bgp-wire';
import type { NegotiatedSession } from './open-policy.js';

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
