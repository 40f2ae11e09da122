// A BGP session carries the family of its peer's address only (peer-options.ts offers just that
// one), so an IPv6 VIP planned for an IPv4 peer would never reach it. This narrows a plan to what the
// sessions can carry, before it is applied and before the Services are told who announces them.
import type { AnnouncePlan, PlannedRoute, RouteAttributesPlan, ServicePlan } from '../plan/announce-plan.js';

const familyOf = (address: string): 4 | 6 => (address.includes(':') ? 6 : 4);

/** The plan with each route sent only to peers of its family, and each Service's peers and reasons to match. */
export function carriedBySessions(plan: AnnouncePlan): AnnouncePlan {
  const peerFamily = new Map(plan.peers.map((p) => [p.name, familyOf(p.peerAddress)]));
  if (peerFamily.size === 0) return plan;
  // Routes share their per-peer maps; so do the narrowed ones (one per map and family).
  const narrowed = new Map<
    ReadonlyMap<string, RouteAttributesPlan>,
    Map<4 | 6, ReadonlyMap<string, RouteAttributesPlan>>
  >();
  const narrow = (
    perPeer: ReadonlyMap<string, RouteAttributesPlan>,
    family: 4 | 6,
  ): ReadonlyMap<string, RouteAttributesPlan> => {
    let byFamily = narrowed.get(perPeer);
    if (byFamily === undefined) narrowed.set(perPeer, (byFamily = new Map()));
    let out = byFamily.get(family);
    if (out === undefined) {
      const all = [...perPeer.keys()].every((p) => peerFamily.get(p) === family);
      out = all ? perPeer : new Map([...perPeer].filter(([p]) => peerFamily.get(p) === family));
      byFamily.set(family, out);
    }
    return out;
  };
  const routes = new Map<string, PlannedRoute>();
  for (const [prefix, route] of plan.routes) {
    const perPeer = narrow(route.perPeer, familyOf(prefix));
    if (perPeer.size === 0) continue;
    routes.set(prefix, perPeer === route.perPeer ? route : { ...route, perPeer });
  }
  const services = plan.services.map((s) => narrowService(s, peerFamily));
  return { ...plan, routes, services };
}

function narrowService(s: ServicePlan, peerFamily: ReadonlyMap<string, 4 | 6>): ServicePlan {
  if (!s.announced) return s;
  const families = new Set(s.ips.map(familyOf));
  const peers = s.peers.filter((p) => families.has(peerFamily.get(p) ?? 4));
  const uncarried = [...families].filter((f) => !peers.some((p) => peerFamily.get(p) === f));
  if (peers.length === s.peers.length && uncarried.length === 0) return s;
  const why = uncarried.map(
    (f) => `no BGP session of this node carries IPv${f} (a session carries its peer address's family)`,
  );
  const reason = [s.reason, ...why].filter((r): r is string => r !== undefined).join('; ');
  return { ...s, announced: peers.length > 0, peers, ...(reason ? { reason } : {}) };
}
