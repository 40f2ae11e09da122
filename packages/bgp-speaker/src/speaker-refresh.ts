// Route refresh (RFC 2918; enhanced, RFC 7313): a peer's request for a negotiated family is answered
// with every route of that family in its Adj-RIB-Out again, between BoRR and EoRR when enhanced route
// refresh was negotiated. A peer's own BoRR/EoRR around its re-send needs no answer.
import { ROUTE_REFRESH_SUBTYPE, familyOf, type RouteRefreshMessage } from '@bgp-announce/bgp-wire';
import { routeRefreshUpdates } from './rib/adj-rib-out.js';
import { sendTo } from './speaker-advertise.js';
import type { Peer, SpeakerCore } from './speaker-types.js';

/** Answers a ROUTE-REFRESH the peer sent (nothing while the Speaker stops). */
export function answerRouteRefresh(core: SpeakerCore, peer: Peer, message: RouteRefreshMessage): void {
  const negotiated = peer.driver.negotiated;
  const family = familyOf(message.afi, message.safi);
  if (
    !negotiated ||
    family === undefined ||
    message.subtype !== ROUTE_REFRESH_SUBTYPE.REQUEST ||
    !negotiated.families.includes(family)
  )
    return;
  if (core.stopping) return;
  sendTo(peer, routeRefreshUpdates(peer.ribOut, negotiated, family, negotiated.enhancedRouteRefresh));
}
