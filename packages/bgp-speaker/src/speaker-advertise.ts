// Advertisement scheduling: our routes are diffed against each peer's Adj-RIB-Out and only the changes
// are sent, coalesced over the peer's minimum route advertisement interval on the Speaker's clock. All
// the Speaker sends goes through sendTo, which counts the UPDATE messages by their header's type.
import { MAX_EXTENDED_MESSAGE_LENGTH, MESSAGE_TYPE, readHeader } from '@bgp-announce/bgp-wire';
import { diffAdjRibOut, gracefulShutdownUpdates } from './rib/adj-rib-out.js';
import { peerDesiredRoutes } from './speaker-peer.js';
import { asError, report } from './speaker-errors.js';
import type { Peer, SpeakerCore } from './speaker-types.js';

/** Schedules a flush for every peer (our routes changed). */
export function scheduleAll(core: SpeakerCore): void {
  if (core.stopping) return;
  for (const peer of core.peers.values()) schedule(core, peer);
}

/** Sends the peer's changes after the advertisement interval (now, on the next tick, when it is 0). */
export function schedule(core: SpeakerCore, peer: Peer): void {
  if (peer.timer !== undefined || peer.driver.state.state !== 'Established') return;
  const interval = peer.policy.minRouteAdvertisementIntervalMs ?? 0;
  const delay = Math.max(0, peer.lastSent + interval - core.clock.now());
  peer.timer = core.clock.setTimer(delay, () => {
    peer.timer = undefined;
    if (core.peers.get(peer.id) === peer && !core.stopping) flush(core, peer);
  });
}

/** Cancels the peer's scheduled flush, if any. */
export function cancelFlush(core: SpeakerCore, peer: Peer): void {
  if (peer.timer !== undefined) core.clock.clearTimer(peer.timer);
  peer.timer = undefined;
}

/** Diffs our routes against the peer's Adj-RIB-Out and sends the changes. */
export function flush(core: SpeakerCore, peer: Peer): void {
  const d = peer.driver;
  const negotiated = d.negotiated;
  if (d.state.state !== 'Established' || !negotiated) return;
  const { routes, noNextHop } = peerDesiredRoutes(core.routes, peer.policy, {
    peerId: peer.id,
    localAs: peer.driver.state.config.localAs,
    ibgp: negotiated.ibgp,
    localAddress: d.localAddress,
    extendedNextHop: negotiated.extendedNextHop,
  });
  if (noNextHop.length !== peer.noNextHop && noNextHop.length > 0) {
    report(
      core,
      peer.id,
      new Error(
        `${noNextHop.length} routes (e.g. ${noNextHop[0]}) not sent to peer ${peer.id}: no next hop of their family (set nextHop/nextHopIpv6)`,
      ),
    );
  }
  peer.noNextHop = noNextHop.length;
  let changes: ReturnType<typeof diffAdjRibOut>;
  try {
    changes = diffAdjRibOut(peer.ribOut, routes, negotiated);
  } catch (err) {
    report(core, peer.id, asError(err));
    return;
  }
  if (changes.updates.length === 0) return;
  peer.lastSent = core.clock.now();
  sendTo(peer, changes.updates);
}

/**
 * RFC 8326: to each Established peer among `peers`, its pending changes, then every route again with
 * GRACEFUL_SHUTDOWN (65535:0). Returns whether anything was sent (so a drain is worth waiting for).
 */
export function sendGracefulShutdown(core: SpeakerCore, peers: readonly Peer[]): boolean {
  let sent = false;
  for (const peer of peers) {
    const negotiated = peer.driver.negotiated;
    if (peer.driver.state.state !== 'Established' || !negotiated) continue;
    flush(core, peer); // pending changes first, so the drain covers the current routes
    const { updates } = gracefulShutdownUpdates(peer.ribOut, negotiated);
    if (updates.length > 0) {
      sendTo(peer, updates);
      sent = true;
    }
  }
  return sent;
}

/** Sends encoded messages on the peer's session, counting the UPDATEs among them. */
export function sendTo(peer: Peer, messages: readonly Uint8Array[]): void {
  peer.updatesOut += updateCount(messages);
  peer.driver.send(messages);
}

/** How many of these encoded messages are UPDATEs (End-of-RIB included), read from their headers. */
export function updateCount(messages: readonly Uint8Array[]): number {
  let n = 0;
  for (const m of messages) if (readHeader(m, 0, MAX_EXTENDED_MESSAGE_LENGTH).type === MESSAGE_TYPE.UPDATE) n++;
  return n;
}
