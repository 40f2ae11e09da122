// Peer lifecycle: addPeer makes a peer's record from its options (session driver, Adj-RIBs, message
// log, BFD session) and starts it; removePeer ends it with Cease 3; updatePeer applies route policy
// changes to the running session and re-creates the session, after a Cease 6, for anything else.
import { CEASE_SUBCODE } from '@bgp-announce/bgp-wire';
import { peerConfig } from './session/config.js';
import { SessionDriver } from './session/driver.js';
import { MessageLog } from './session/message-log.js';
import { newAdjRibOut } from './rib/adj-rib-out.js';
import { newAdjRibIn, type AdjRibInConfig } from './rib/adj-rib-in.js';
import { bfdSessionOptions, removeBfd } from './speaker-bfd.js';
import {
  checkLinkBandwidth,
  sameOptions,
  splitPeerOptions,
  type PeerOptions,
  type PeerRoutePolicy,
} from './speaker-peer.js';
import { cancelFlush, schedule } from './speaker-advertise.js';
import { cancelStaleTimer } from './speaker-stale.js';
import { wireSession } from './speaker-session-events.js';
import { asError, report } from './speaker-errors.js';
import type { Peer, SpeakerCore } from './speaker-types.js';

/** The Adj-RIB-In's settings: the policy's maximum-prefix limits, and our AS for loop detection. */
function ribInConfig(localAs: number, policy: PeerRoutePolicy): AdjRibInConfig {
  return policy.maxPrefix === undefined ? { localAs } : { localAs, maxPrefix: policy.maxPrefix };
}

/** Adds a peer and starts its session. Throws Error if the id is taken, RangeError for bad settings. */
export function addPeer(core: SpeakerCore, id: string, options: PeerOptions): void {
  if (core.stopping) throw new Error('speaker is stopping');
  if (core.peers.has(id)) throw new Error(`peer ${JSON.stringify(id)} exists already`);
  const { session, policy } = splitPeerOptions(options);
  if (policy.linkBandwidth !== undefined) checkLinkBandwidth(policy);
  const {
    peerAddress,
    peerPort,
    localAddress,
    localPort,
    listen,
    closeTimeoutMs,
    md5Password,
    ttlSecurity,
    ebgpMultihop,
    bfd,
    ...configInput
  } = session;
  if (bfd !== undefined && !core.bfd)
    throw new Error(
      `peer ${JSON.stringify(id)} requires BFD, but the Speaker has no BFD engine (give SpeakerOptions.bfd)`,
    );
  const bfdOptions = bfd === undefined ? undefined : bfdSessionOptions(id, peerAddress, localAddress, bfd);
  const config = peerConfig({
    ...configInput,
    localAs: configInput.localAs ?? core.localAs,
    bgpId: configInput.bgpId ?? core.bgpId,
  });
  if (config.gracefulRestart && restartingTo(core, id))
    config.gracefulRestart = { ...config.gracefulRestart, restarting: true };
  const transport = {
    peerAddress,
    peerPort,
    localAddress,
    localPort,
    listen,
    closeTimeoutMs,
    md5Password,
    ttlSecurity,
    ebgpMultihop,
  };
  let messageLog = core.logs.get(id);
  if (messageLog === undefined && core.messageHistory > 0)
    core.logs.set(id, (messageLog = new MessageLog(core.messageHistory)));
  const driver = new SessionDriver({
    ...transport,
    config,
    clock: core.clock,
    random: core.random,
    ...(messageLog ? { messageLog } : {}),
  });
  const peer: Peer = {
    id,
    options: { ...options },
    policy,
    driver,
    ribOut: newAdjRibOut(),
    ribIn: newAdjRibIn(ribInConfig(config.localAs, policy)),
    timer: undefined,
    lastSent: Number.NEGATIVE_INFINITY,
    noNextHop: 0,
    negotiated: undefined,
    staleFamilies: [],
    staleTimer: undefined,
    bfd: undefined,
    updatesOut: 0,
  };
  // The BFD session first (it may refuse the options), so nothing is left half made.
  if (bfdOptions && core.bfd) peer.bfd = { sessionId: core.bfd.addSession(bfdOptions), state: 'Down', holding: false };
  core.peers.set(id, peer);
  wireSession(core, peer);
  driver.start();
}

/** RFC 4724 4.1: the Speaker restarted and this peer has not seen an Established session with us since. */
function restartingTo(core: SpeakerCore, id: string): boolean {
  return !core.restarted.has(id) && (core.restarting === true || core.restarting.has(id));
}

/** Removes a peer: Cease 3 (Peer De-configured), and resolves once its connection is closed. */
export async function removePeer(core: SpeakerCore, id: string, message?: string): Promise<void> {
  const peer = core.peers.get(id);
  if (!peer) return;
  core.peers.delete(id);
  core.logs.delete(id);
  await retire(core, peer, message, CEASE_SUBCODE.PEER_DECONFIGURED);
}

/**
 * Changes a peer's options (merged into the current ones). Route policy changes are diffed onto the
 * running session; anything else (address, port, AS, timers, capabilities) re-creates the session
 * after a Cease 6 (Other Configuration Change).
 */
export async function updatePeer(core: SpeakerCore, id: string, options: Partial<PeerOptions>): Promise<void> {
  const peer = core.peers.get(id);
  if (!peer) throw new Error(`no peer ${JSON.stringify(id)}`);
  const next = { ...peer.options, ...options } as PeerOptions;
  const before = splitPeerOptions(peer.options);
  const after = splitPeerOptions(next);
  if (after.policy.linkBandwidth !== undefined) checkLinkBandwidth(after.policy);
  if (!sameOptions(before.session, after.session)) {
    core.peers.delete(id);
    await retire(core, peer, undefined, CEASE_SUBCODE.OTHER_CONFIGURATION_CHANGE);
    addPeer(core, id, next);
    return;
  }
  peer.options = next;
  peer.policy = after.policy;
  peer.ribIn.config = ribInConfig(peer.driver.state.config.localAs, after.policy);
  schedule(core, peer);
}

/** Ends the BFD session of a peer already taken out of the Speaker; an error is reported, not thrown. */
export function endBfd(core: SpeakerCore, peer: Peer): Promise<void> {
  return removeBfd(core.bfd, peer, (err) => report(core, peer.id, asError(err)));
}

/** Ends a peer already taken out of the Speaker: its timers, its session (Cease `subcode`), its BFD session. */
async function retire(core: SpeakerCore, peer: Peer, message: string | undefined, subcode: number): Promise<void> {
  cancelFlush(core, peer);
  cancelStaleTimer(core, peer);
  await Promise.all([peer.driver.stop(message, subcode), endBfd(core, peer)]);
}
