// What the Speaker shows of a peer: its status for peers() (state, counts, counters, negotiation, BFD,
// last down) and its advertised routes for adjRibOut().
import type { Family } from '@bgp-announce/bgp-wire';
import { adjRibOutCounts } from './rib/adj-rib-out.js';
import { adjRibInCounts } from './rib/adj-rib-in.js';
import { parseRouteKey, setOf } from './rib/route.js';
import { restartLeave } from './session/graceful-restart.js';
import type { AdvertisedRoute, Peer, PeerStatus } from './speaker-types.js';

/** One peer as peers() shows it. */
export function peerStatus(p: Peer): PeerStatus {
  const ribIn = adjRibInCounts(p.ribIn);
  const out: PeerStatus = {
    id: p.id,
    peerAddress: p.options.peerAddress,
    peerAs: p.options.peerAs,
    state: p.driver.state.state,
    advertised: sum(adjRibOutCounts(p.ribOut)),
    received: ribIn['ipv4-unicast'].routes + ribIn['ipv6-unicast'].routes,
    receivedAsLoop: ribIn['ipv4-unicast'].asLoop + ribIn['ipv6-unicast'].asLoop,
    localAs: p.driver.state.config.localAs,
    bgpId: p.driver.state.config.bgpId,
    counters: { ...p.driver.state.counters, updatesOut: p.updatesOut },
    restartLeave: restartLeave(p.driver.state.config, p.driver.negotiated),
  };
  const negotiated = p.driver.negotiated;
  if (negotiated) out.negotiated = negotiated;
  if (p.bfd) out.bfd = { state: p.bfd.state, holding: p.bfd.holding, sessionId: p.bfd.sessionId };
  const lastDown = p.driver.state.lastDown;
  if (lastDown) out.lastDown = lastDown;
  const localAddress = p.driver.localAddress;
  if (localAddress !== undefined) out.localAddress = localAddress;
  const establishedAt = p.driver.state.establishedAt;
  if (establishedAt !== undefined && out.state === 'Established') out.establishedAt = establishedAt;
  return out;
}

/** The peer's Adj-RIB-Out as adjRibOut() shows it. */
export function advertisedRoutes(p: Peer): AdvertisedRoute[] {
  return [...p.ribOut.routes].map(([key, setId]) => {
    const { prefix, pathId } = parseRouteKey(key);
    const route: AdvertisedRoute = { prefix, attributes: setOf(p.ribOut.table, setId) };
    if (pathId !== undefined) route.pathId = pathId;
    return route;
  });
}

function sum(counts: Record<Family, number>): number {
  return counts['ipv4-unicast'] + counts['ipv6-unicast'];
}
