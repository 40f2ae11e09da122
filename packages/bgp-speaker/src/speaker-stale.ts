// Graceful restart, receiving side (RFC 4724 4.2) as the Speaker carries it out: when a peer's session
// ends, its routes are kept marked stale for its Restart Time (or dropped); when it comes back, the
// families it no longer preserves go at once and the others wait for its End-of-RIB or the stale-path
// time. The decisions are session/graceful-restart.ts's; the timers and events are here.
import type { Family } from '@bgp-announce/bgp-wire';
import { markStale, newAdjRibIn, sweepStale } from './rib/adj-rib-in.js';
import { familiesToFlush, retentionOnDown } from './session/graceful-restart.js';
import type { DownReason } from './session/down-reason.js';
import type { NegotiatedSession } from './session/open-policy.js';
import type { Peer, SpeakerCore, StaleRemovalReason } from './speaker-types.js';

/** The peer's session ended: keep its routes stale for its Restart Time (RFC 4724 4.2), or drop them. */
export function peerAway(core: SpeakerCore, peer: Peer, reason: DownReason): void {
  cancelStaleTimer(core, peer);
  const retention = retentionOnDown(peer.driver.state.config, peer.negotiated, reason);
  if (!retention) {
    peer.ribIn = newAdjRibIn(peer.ribIn.config);
    peer.staleFamilies = [];
    return;
  }
  const others = (['ipv4-unicast', 'ipv6-unicast'] as const).filter((f) => !retention.families.includes(f));
  markStale(peer.ribIn, others);
  for (const f of others) sweepStale(peer.ribIn, f);
  const count = markStale(peer.ribIn, retention.families);
  peer.staleFamilies = retention.families;
  core.events.emit('staleRoutes', peer.id, {
    families: retention.families,
    count,
    restartTimeMs: retention.restartTimeMs,
  });
  peer.staleTimer = core.clock.setTimer(retention.restartTimeMs, () => expireStale(core, peer, 'restart-time-expired'));
}

/** The peer is back: drop the families it no longer preserves; the rest wait for its End-of-RIB. */
export function peerBack(core: SpeakerCore, peer: Peer, negotiated: NegotiatedSession): void {
  cancelStaleTimer(core, peer);
  if (peer.staleFamilies.length === 0) return;
  for (const f of familiesToFlush(peer.staleFamilies, negotiated))
    staleGone(core, peer, f, sweepStale(peer.ribIn, f), 'not-preserved');
  if (peer.staleFamilies.length === 0) return;
  const stalePathMs = (peer.driver.state.config.gracefulRestart?.stalePathTime ?? 360) * 1000;
  peer.staleTimer = core.clock.setTimer(stalePathMs, () => expireStale(core, peer, 'stale-path-time-expired'));
}

/** The peer's End-of-RIB for `family` came, which swept `swept` stale routes (applyUpdate did). */
export function endOfRibReceived(core: SpeakerCore, peer: Peer, family: Family, swept: number): void {
  if (peer.staleFamilies.includes(family)) staleGone(core, peer, family, swept, 'end-of-rib');
}

/** Cancels the Restart Time or stale-path timer, if one runs. */
export function cancelStaleTimer(core: SpeakerCore, peer: Peer): void {
  if (peer.staleTimer !== undefined) core.clock.clearTimer(peer.staleTimer);
  peer.staleTimer = undefined;
}

function expireStale(core: SpeakerCore, peer: Peer, reason: StaleRemovalReason): void {
  peer.staleTimer = undefined;
  if (core.peers.get(peer.id) !== peer) return;
  for (const f of [...peer.staleFamilies]) staleGone(core, peer, f, sweepStale(peer.ribIn, f), reason);
}

/** Records that `family` has no stale routes left, and says how many went. */
function staleGone(core: SpeakerCore, peer: Peer, family: Family, count: number, reason: StaleRemovalReason): void {
  peer.staleFamilies = peer.staleFamilies.filter((f) => f !== family);
  if (peer.staleFamilies.length === 0) cancelStaleTimer(core, peer);
  core.events.emit('staleRoutesRemoved', peer.id, { family, count, reason });
}
