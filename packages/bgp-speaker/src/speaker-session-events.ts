// What a peer's session events do: Established ends graceful restart's wait and sends our routes, then
// End-of-RIB; an UPDATE goes into the Adj-RIB-In (RFC 7606 repairs and maximum-prefix limits reported,
// a teardown carried out); a ROUTE-REFRESH is answered; a session that ends leaves an empty Adj-RIB-Out
// and, unless graceful restart keeps them, an empty Adj-RIB-In. Each event is re-emitted by the Speaker.
import {
  CEASE_SUBCODE,
  type PackedUpdateMessage,
  type RouteRefreshMessage,
  type UpdateMessage,
} from '@bgp-announce/bgp-wire';
import { endOfRibUpdates, newAdjRibOut } from './rib/adj-rib-out.js';
import { applyUpdate, newAdjRibIn } from './rib/adj-rib-in.js';
import { cancelFlush, flush, sendTo } from './speaker-advertise.js';
import { endOfRibReceived, peerAway, peerBack } from './speaker-stale.js';
import { answerRouteRefresh } from './speaker-refresh.js';
import { MalformedUpdateError, report } from './speaker-errors.js';
import type { Peer, SpeakerCore } from './speaker-types.js';

/** Subscribes to the peer's session driver (once, when the peer record is made). */
export function wireSession(core: SpeakerCore, peer: Peer): void {
  const d = peer.driver;
  const events = core.events;
  const current = (): boolean => core.peers.get(peer.id) === peer;
  d.on('state', (to, from) => events.emit('peerState', peer.id, to, from));
  d.on('established', (negotiated) => {
    if (!current()) return;
    peer.negotiated = negotiated;
    core.restarted.add(peer.id); // RFC 4724 3: the R bit went in this session's OPEN only
    events.emit('established', peer.id, negotiated);
    peerBack(core, peer, negotiated);
    if (core.stopping) return;
    cancelFlush(core, peer);
    flush(core, peer);
    sendTo(peer, endOfRibUpdates(negotiated.families));
  });
  d.on('update', (update: UpdateMessage, packed: PackedUpdateMessage) => {
    const result = applyUpdate(peer.ribIn, packed);
    events.emit('routesReceived', peer.id, result, update);
    for (const e of update.errors ?? []) report(core, peer.id, new MalformedUpdateError(peer.id, e));
    if (result.endOfRib !== undefined) endOfRibReceived(core, peer, result.endOfRib, result.swept);
    if (result.warning) {
      const w = result.warning;
      report(
        core,
        peer.id,
        new Error(`peer ${peer.id} sent ${w.count} ${w.family} routes, more than the limit of ${w.limit}`),
      );
    }
    if (result.teardown) {
      const t = result.teardown;
      const options: { reason: string; data?: string } = {
        reason: `maximum prefixes reached: ${t.count} ${t.family} routes, limit ${t.limit}`,
      };
      if (t.notification.data !== undefined) options.data = t.notification.data;
      d.automaticStop(CEASE_SUBCODE.MAXIMUM_PREFIXES_REACHED, options);
    }
  });
  d.on('routeRefresh', (message: RouteRefreshMessage) => answerRouteRefresh(core, peer, message));
  d.on('down', (reason) => {
    // A new session starts from an empty Adj-RIB-Out: the peer dropped what we sent (or keeps it
    // stale until our End-of-RIB). What it sent us is dropped too, unless graceful restart keeps it.
    cancelFlush(core, peer);
    peer.ribOut = newAdjRibOut();
    peer.lastSent = Number.NEGATIVE_INFINITY;
    events.emit('down', peer.id, reason);
    if (current() && !core.stopping) peerAway(core, peer, reason);
    else peer.ribIn = newAdjRibIn(peer.ribIn.config);
  });
  d.on('listening', (address) => events.emit('listening', peer.id, address));
  d.on('error', (err) => report(core, peer.id, err));
}
