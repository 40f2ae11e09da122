// BFD for BGP peers (RFC 5882 as BFD's client): a peer that requires BFD gets a BFD session beside its
// BGP session. When BFD goes from Up to Down the BGP session is torn down at once (Cease 10, BFD Down)
// and is not started again until BFD is back Up; a peer's AdminDown is not a failure (RFC 5882 3.2).
// The engine is @bgp-announce/bfd's BfdEngine, or anything with the same small surface.
import { CEASE_SUBCODE } from '@bgp-announce/bgp-wire';
import type { BfdAuthOptions, BfdProfileInput, BfdSessionOptions, BfdState } from '@bgp-announce/bfd';
import type { SessionDriver } from './session/driver.js';

/** A BFD state change as the engine reports it. */
export interface BfdChange {
  from: BfdState;
  to: BfdState;
  diag: number;
}

/** What the Speaker needs of a BFD engine (BfdEngine from @bgp-announce/bfd has it). */
export interface BfdSessions {
  addSession(options: BfdSessionOptions): number;
  removeSession(id: number): Promise<void>;
  on(event: 'state', listener: (id: number, change: BfdChange) => void): unknown;
  off(event: 'state', listener: (id: number, change: BfdChange) => void): unknown;
}

/** A peer's BFD requirement (PeerOptions.bfd). */
export interface PeerBfdOptions {
  /** MetalLB-style profile: receiveInterval, transmitInterval, detectMultiplier, passiveMode, minimumTtl. */
  profile?: BfdProfileInput;
  /** RFC 5883 multihop (for eBGP multihop or loopback peering). Default single hop. */
  multihop?: boolean;
  auth?: BfdAuthOptions;
  /** Our address for BFD; default the peer's localAddress (one of the two is required). */
  localAddress?: string;
  /** Bind to this network device. */
  interface?: string;
  /** The peer's BFD UDP port; 3784 (single hop) or 4784 (multihop) unless given (tests, unusual set-ups). */
  port?: number;
}

/** One peer's BFD session and whether its BGP session waits for BFD to come back Up. */
export interface PeerBfd {
  sessionId: number;
  state: BfdState;
  /** BFD went Down: the BGP session is stopped until BFD is Up again. */
  holding: boolean;
}

/** The engine's session options for a peer; throws Error when there is no local address to use. */
export function bfdSessionOptions(
  peerId: string,
  peerAddress: string,
  localAddress: string | undefined,
  o: PeerBfdOptions,
): BfdSessionOptions {
  const local = o.localAddress ?? localAddress;
  if (local === undefined)
    throw new Error(`peer ${JSON.stringify(peerId)}: BFD needs a local address (set localAddress or bfd.localAddress)`);
  const options: BfdSessionOptions = { peerAddress, localAddress: local };
  if (o.profile !== undefined) options.profile = o.profile;
  if (o.multihop !== undefined) options.multihop = o.multihop;
  if (o.auth !== undefined) options.auth = o.auth;
  if (o.interface !== undefined) options.interface = o.interface;
  if (o.port !== undefined) options.port = o.port;
  return options;
}

/**
 * Applies a BFD state change to the peer's BGP session: Up to Down stops it with Cease 10; Up after
 * that starts it again. Returns what happened, for the Speaker's event and logs.
 */
export function applyBfdChange(
  bfd: PeerBfd,
  driver: SessionDriver,
  change: BfdChange,
): 'torn-down' | 'resumed' | undefined {
  bfd.state = change.to;
  if (change.from === 'Up' && change.to === 'Down') {
    if (bfd.holding) return undefined;
    bfd.holding = true;
    void driver.stop(`BFD down (diagnostic ${change.diag})`, CEASE_SUBCODE.BFD_DOWN);
    return 'torn-down';
  }
  if (change.to === 'Up' && bfd.holding) {
    bfd.holding = false;
    driver.start();
    return 'resumed';
  }
  return undefined;
}

/** A peer as the BFD wiring sees it (the Speaker's peer record fits). */
export interface BfdPeer {
  readonly id: string;
  readonly driver: SessionDriver;
  bfd: PeerBfd | undefined;
}

/**
 * The engine reported a change of `sessionId`: applies it to the peer that owns the session (unless
 * the Speaker is stopping) and returns that peer and the outcome, or undefined when no peer owns it.
 */
export function bfdStateChange<P extends BfdPeer>(
  peers: Iterable<P>,
  sessionId: number,
  change: BfdChange,
  stopping: boolean,
): { peer: P; outcome: 'torn-down' | 'resumed' | undefined } | undefined {
  for (const peer of peers) {
    if (peer.bfd?.sessionId !== sessionId) continue;
    return { peer, outcome: stopping ? undefined : applyBfdChange(peer.bfd, peer.driver, change) };
  }
  return undefined;
}

/** Ends the peer's BFD session (the engine sends AdminDown first); an error goes to `onError`, not thrown. */
export async function removeBfd(
  engine: BfdSessions | undefined,
  peer: BfdPeer,
  onError: (err: unknown) => void,
): Promise<void> {
  const bfd = peer.bfd;
  peer.bfd = undefined;
  if (!bfd || !engine) return;
  try {
    await engine.removeSession(bfd.sessionId);
  } catch (err) {
    onError(err);
  }
}
