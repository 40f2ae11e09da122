// The Speaker's types: its options, events, status views, and (internal) its per-peer record and the
// state its parts share.
import type { EventEmitter } from 'node:events';
import type { Family, UpdateMessage } from '@bgp-announce/bgp-wire';
import type { SessionDriver } from './session/driver.js';
import type { MessageLog } from './session/message-log.js';
import type { TimerHandle, Clock } from './session/clock.js';
import type { FsmStateName, SessionCounters, SessionState } from './session/fsm.js';
import type { DownReason } from './session/down-reason.js';
import type { NegotiatedSession } from './session/open-policy.js';
import type { RestartLeave } from './session/graceful-restart.js';
import type { AdjRibOut } from './rib/adj-rib-out.js';
import type { AdjRibIn, RibInResult } from './rib/adj-rib-in.js';
import type { NormalRouteAttributes } from './rib/route.js';
import type { Announcement, PeerOptions, PeerRoutePolicy } from './speaker-peer.js';
import type { BfdChange, BfdSessions, PeerBfd } from './speaker-bfd.js';
import type { BfdState } from '@bgp-announce/bfd';

/** The speaker's identity, and (for tests) the clock and randomness its sessions use. */
export interface SpeakerOptions {
  localAs: number;
  bgpId: string;
  /** A running BFD engine (BfdEngine from @bgp-announce/bfd) for peers that require BFD; the caller owns it. */
  bfd?: BfdSessions;
  /** Keep the last N BGP messages of each peer for recentMessages() (default 0: none). */
  messageHistory?: number;
  clock?: Clock;
  random?: () => number;
  /**
   * We have just restarted (RFC 4724 4.1): the first OPEN to each peer that has gracefulRestart sets
   * the Restart State (R) bit, until that peer's first Established session. true: every peer; a list:
   * the peers with these ids (those we had sessions with before the restart). Default: none.
   */
  restarting?: boolean | readonly string[];
}

/** Events a Speaker emits; the first argument is always the peer id. */
export interface SpeakerEvents {
  peerState: [id: string, to: FsmStateName, from: FsmStateName];
  established: [id: string, negotiated: NegotiatedSession];
  /** What one UPDATE did to the Adj-RIB-In, and the UPDATE itself (its prefixes and attributes). */
  routesReceived: [id: string, result: RibInResult, update: UpdateMessage];
  down: [id: string, reason: DownReason];
  /** A passive/both peer's listener is up (port 0 picks one). */
  listening: [id: string, address: { address: string; port: number }];
  /** Something the speaker survives: socket errors, routes without a next hop, max-prefix warnings. */
  error: [id: string, error: Error];
  /** Graceful restart (receiving side): the peer's session ended and its routes are kept, marked stale. */
  staleRoutes: [id: string, info: { families: Family[]; count: number; restartTimeMs: number }];
  /** A BFD state change of a peer's BFD session; `outcome` says what it did to the BGP session. */
  bfd: [id: string, change: BfdChange, outcome: 'torn-down' | 'resumed' | undefined];
  /** Stale routes of a family were removed. */
  staleRoutesRemoved: [id: string, info: { family: Family; count: number; reason: StaleRemovalReason }];
}

/**
 * Why stale routes went: the peer's End-of-RIB came; it did not come back within its Restart Time; it
 * came back but no longer preserves that family (RFC 4724 4.2);
 * or its End-of-RIB did not come within the stale-path time.
 */
export type StaleRemovalReason = 'end-of-rib' | 'restart-time-expired' | 'not-preserved' | 'stale-path-time-expired';

/** One peer, as peers() shows it. */
export interface PeerStatus {
  id: string;
  peerAddress: string;
  peerAs: number;
  state: FsmStateName;
  negotiated?: NegotiatedSession;
  /** Routes in the Adj-RIB-Out. */
  advertised: number;
  /** Routes in the Adj-RIB-In. */
  received: number;
  /**
   * Of `received`, the routes whose AS path holds our AS (RFC 4271 9.1.2: AS loops, such as our own
   * routes echoed back): kept for inspection, marked `asLoop`, not eligible.
   */
  receivedAsLoop: number;
  /** The peer's BFD session, when it requires BFD (sessionId: the engine's, for engine.session()). */
  bfd?: { state: BfdState; holding: boolean; sessionId?: number };
  /** When and why the session (or the last attempt at one) last ended. */
  lastDown?: SessionState['lastDown'];
  /** Our AS and BGP identifier on this session (the peer's own, or the Speaker's). */
  localAs: number;
  bgpId: string;
  /** Our address on the current connection. */
  localAddress?: string;
  /** When the session became Established (clock ms), while it is. */
  establishedAt?: number;
  /** Messages counted on the peer's session (they start from 0 when updatePeer re-creates it). */
  counters: PeerMessageCounters;
  /** How stop({ restart: true }) would leave the peer now ('stop': it would not keep our routes). */
  restartLeave: RestartLeave;
}

/** The FSM's message counters, and the UPDATE messages we sent (End-of-RIB included). */
export interface PeerMessageCounters extends SessionCounters {
  updatesOut: number;
}

/** One advertised route, as adjRibOut() shows it. */
export interface AdvertisedRoute {
  prefix: string;
  /** ADD-PATH path identifier, for a route advertised with one (the Speaker's own routes have none). */
  pathId?: number;
  attributes: NormalRouteAttributes;
}

/** What stop() does before the Cease. */
export interface SpeakerStopOptions {
  /** RFC 8326: re-announce every route with GRACEFUL_SHUTDOWN and wait drainMs before the Cease. */
  gracefulShutdown?: {
    drainMs: number;
    /** Aborting it ends the drain early (the Cease still follows): a second SIGTERM. */
    signal?: AbortSignal;
  };
  /** RFC 9003 shutdown communication sent in the Cease. */
  message?: string;
  /**
   * We are restarting (RFC 4724 4.1): peers that negotiated graceful restart with us are left so they
   * keep our routes for our Restart Time (TCP closed without a NOTIFICATION, or with a Cease
   * Administrative Reset when both ends set the N bit); the other peers are stopped as usual
   * (gracefulShutdown applies to them only).
   */
  restart?: boolean;
}

/** The Speaker's record of one peer (internal). */
export interface Peer {
  id: string;
  options: PeerOptions;
  policy: PeerRoutePolicy;
  driver: SessionDriver;
  ribOut: AdjRibOut;
  ribIn: AdjRibIn;
  /** A flush is scheduled. */
  timer: TimerHandle | undefined;
  /** When changes were last sent (clock ms), for the advertisement interval. */
  lastSent: number;
  /** Prefixes left out for lack of a next hop, last time (to report once). */
  noNextHop: number;
  /** The last Established session's negotiation, kept after it ends (graceful restart decisions). */
  negotiated: NegotiatedSession | undefined;
  /** Families whose received routes are stale, waiting for the restarted peer. */
  staleFamilies: Family[];
  /** The peer's Restart Time while it is away, then the stale-path time: removes the stale routes. */
  staleTimer: TimerHandle | undefined;
  /** The BFD session, when the peer requires BFD. */
  bfd: PeerBfd | undefined;
  /** UPDATE messages sent on this session record (End-of-RIB included). */
  updatesOut: number;
}

/** What the Speaker's parts (speaker-*.ts) share: its identity and clock, its peers and routes (internal). */
export interface SpeakerCore {
  readonly localAs: number;
  readonly bgpId: string;
  readonly clock: Clock;
  readonly random: () => number;
  /** The BFD engine for peers that require BFD (the caller owns it). */
  readonly bfd: BfdSessions | undefined;
  /** BGP messages kept per peer (0: none). */
  readonly messageHistory: number;
  /** The current peers by id: a peer no longer here (removed, re-created) must not act any more. */
  readonly peers: Map<string, Peer>;
  /** Our routes: canonical prefix to the attributes given to announce(). */
  readonly routes: Map<string, Announcement>;
  /** Each peer's message log; kept across the re-creation of its session by updatePeer. */
  readonly logs: Map<string, MessageLog>;
  /** stop() has begun: nothing new is scheduled or started. */
  stopping: boolean;
  /** SpeakerOptions.restarting: peer ids whose first OPEN sets the R bit (true: every peer). */
  readonly restarting: true | ReadonlySet<string>;
  /** Peers that reached Established since we started: their next OPENs no longer set the R bit. */
  readonly restarted: Set<string>;
  /** The Speaker itself, for its events. */
  readonly events: Pick<EventEmitter<SpeakerEvents>, 'emit' | 'listenerCount'>;
}
