// From configuration to Speaker peers: a BGPPeer (with its BFD profile) as the Speaker's PeerOptions,
// and the add/update/remove calls that move the Speaker's peers to a wanted set. Peer ids are the
// BGPPeer names.
import { isIpv4 } from '@bgp-announce/bgp-wire';
import type { BfdProfile } from '@bgp-announce/bfd';
import type { BGPPeer } from '../config/types.js';
import { type PeerOptions, type Speaker, samePeerOptions as sameOptions } from '@bgp-announce/bgp-speaker';

/** Restart Time we advertise with graceful restart (seconds), as MetalLB does. */
export const GRACEFUL_RESTART_TIME = 120;

/** What a BGPPeer's options depend on besides the peer itself. */
export interface PeerContext {
  bfdProfiles: readonly BfdProfile[];
  /** The node's addresses: our BFD source address when the peer has no sourceAddress. */
  nodeAddresses: readonly string[];
  /** The node is cordoned (spec.unschedulable): peers with gracefulShutdownWhenUnschedulable get 65535:0. */
  unschedulable?: boolean;
}

/** RFC 8326's GRACEFUL_SHUTDOWN community (65535:0), added to every route while the node is cordoned. */
export const GRACEFUL_SHUTDOWN_COMMUNITY = 'graceful-shutdown';

/**
 * The Speaker options of one BGPPeer. The session offers the family of the peer's address (an IPv4
 * session carries IPv4 VIPs, an IPv6 session IPv6 VIPs). Throws Error when the peer's BFD profile is
 * missing or BFD has no source address of the peer's family.
 */
export function peerOptionsFor(peer: BGPPeer, ctx: PeerContext): PeerOptions {
  const v4 = isIpv4(peer.peerAddress);
  const options: PeerOptions = {
    peerAddress: peer.peerAddress,
    peerPort: peer.peerPort,
    peerAs: peer.peerASN,
    localAs: peer.myASN,
    holdTime: peer.holdTime,
    connectRetryTime: peer.connectTime,
    mode: peer.connectionMode,
    families: [v4 ? 'ipv4-unicast' : 'ipv6-unicast'],
  };
  // holdTime 0 comes with keepaliveTime 0 (no keepalives), which the session takes as no keepaliveTime.
  if (peer.keepaliveTime > 0) options.keepaliveTime = peer.keepaliveTime;
  if (peer.sourceAddress !== undefined) options.localAddress = peer.sourceAddress;
  if (peer.routerID !== undefined) options.bgpId = peer.routerID;
  if (peer.connectionMode !== 'active') {
    const host = peer.listenAddress ?? peer.sourceAddress;
    options.listen = { ...(host !== undefined ? { host } : {}), port: peer.listenPort ?? 179 };
  }
  if (peer.password !== undefined) options.md5Password = peer.password;
  if (peer.ebgpMultiHop) options.ebgpMultihop = 255;
  // F bit: kube-proxy (not this process) forwards the VIPs' traffic, so forwarding survives our restart.
  if (peer.enableGracefulRestart)
    options.gracefulRestart = {
      restartTime: GRACEFUL_RESTART_TIME,
      notification: true,
      forwardingState: options.families!,
    };
  // A cordon is not a drain: de-prefer (RFC 8326), never withdraw. A route policy change, so the
  // session stays up and only the routes are sent again.
  if (peer.gracefulShutdownWhenUnschedulable && ctx.unschedulable) options.communities = [GRACEFUL_SHUTDOWN_COMMUNITY];
  if (peer.bfdProfile !== undefined) {
    const profile = ctx.bfdProfiles.find((p) => p.name === peer.bfdProfile);
    if (profile === undefined)
      throw new Error(`BGPPeer ${peer.name}: BFD profile ${JSON.stringify(peer.bfdProfile)} does not exist`);
    const localAddress = peer.sourceAddress ?? ctx.nodeAddresses.find((a) => isIpv4(a) === v4);
    if (localAddress === undefined) {
      throw new Error(
        `BGPPeer ${peer.name}: BFD needs our address of the peer's family; set spec.sourceAddress or give the node an ${v4 ? 'IPv4' : 'IPv6'} address`,
      );
    }
    options.bfd = { profile: { ...profile }, multihop: peer.ebgpMultiHop, localAddress };
  }
  return options;
}

/** What applyPeers did, for logs. */
export interface PeerChanges {
  added: string[];
  updated: string[];
  removed: string[];
  /** Peers that could not be added or changed, with why (the others still were). */
  failed: { id: string; error: string }[];
}

/**
 * Moves the Speaker's peers to `wanted` (id → options): new ids are added, changed ones updated (the
 * Speaker re-creates a session only when a session setting changed), missing ones removed with Cease 3.
 * `current` is the options last applied per id (kept by the caller); it is updated in place.
 */
export async function applyPeers(
  speaker: Speaker,
  wanted: ReadonlyMap<string, PeerOptions>,
  current: Map<string, PeerOptions>,
): Promise<PeerChanges> {
  const changes: PeerChanges = { added: [], updated: [], removed: [], failed: [] };
  const work: Promise<void>[] = [];
  for (const id of [...current.keys()]) {
    if (wanted.has(id)) continue;
    current.delete(id);
    changes.removed.push(id);
    work.push(speaker.removePeer(id, 'peer removed from the configuration'));
  }
  for (const [id, options] of wanted) {
    const before = current.get(id);
    if (before !== undefined && sameOptions(before, options)) continue;
    const failed = (err: unknown): void => {
      changes.failed.push({ id, error: err instanceof Error ? err.message : String(err) });
    };
    if (before === undefined) {
      try {
        speaker.addPeer(id, options);
        changes.added.push(id);
        current.set(id, options);
      } catch (err) {
        failed(err);
      }
      continue;
    }
    // Options not given now must not survive from before: updatePeer merges, so clear them.
    const cleared = Object.fromEntries(
      Object.keys(before)
        .filter((k) => !(k in options))
        .map((k) => [k, undefined]),
    );
    work.push(
      speaker.updatePeer(id, { ...cleared, ...options }).then(
        () => {
          changes.updated.push(id);
          current.set(id, options);
        },
        (err: unknown) => {
          // A session change that failed half way leaves no peer: forget it so the next apply adds it.
          if (!speaker.peers().some((p) => p.id === id)) current.delete(id);
          failed(err);
        },
      ),
    );
  }
  await Promise.all(work);
  return changes;
}
