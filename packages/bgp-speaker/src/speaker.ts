// The Speaker: the library API that holds peers and routes. Each peer is a SessionDriver plus an
// Adj-RIB-Out and Adj-RIB-In; every change to our routes is diffed per peer (coalesced by the
// minimum route advertisement interval on the injected clock) so only changes go on the wire.
// This class is the facade; its parts share a SpeakerCore: peer lifecycle (speaker-lifecycle.ts),
// session events (speaker-session-events.ts), advertisement scheduling (speaker-advertise.ts),
// graceful-restart stale routes (speaker-stale.ts), route refresh (speaker-refresh.ts), BFD
// (speaker-bfd.ts), status views (speaker-status.ts).
import { EventEmitter } from 'node:events';
import { peerConfig } from './session/config.js';
import { MessageLog, describeMessage, type DescribedMessage } from './session/message-log.js';
import { systemClock } from './session/clock.js';
import { RESTART_CEASE_SUBCODE, restartLeave } from './session/graceful-restart.js';
import { adjRibInEntries, type RibInEntry } from './rib/adj-rib-in.js';
import { bfdStateChange, type BfdChange } from './speaker-bfd.js';
import {
  canonicalPrefix,
  checkLinkBandwidth,
  type AnnounceAttributes,
  type Announcement,
  type PeerOptions,
} from './speaker-peer.js';
import { addPeer, endBfd, removePeer, updatePeer } from './speaker-lifecycle.js';
import { cancelFlush, scheduleAll, sendGracefulShutdown } from './speaker-advertise.js';
import { cancelStaleTimer } from './speaker-stale.js';
import { advertisedRoutes, peerStatus } from './speaker-status.js';
import type { Clock } from './session/clock.js';
import type {
  AdvertisedRoute,
  Peer,
  PeerStatus,
  SpeakerCore,
  SpeakerEvents,
  SpeakerOptions,
  SpeakerStopOptions,
} from './speaker-types.js';

export type { AnnounceAttributes, Announcement, PeerOptions, PeerRoutePolicy } from './speaker-peer.js';
export type {
  AdvertisedRoute,
  PeerMessageCounters,
  PeerStatus,
  SpeakerEvents,
  SpeakerOptions,
  SpeakerStopOptions,
  StaleRemovalReason,
} from './speaker-types.js';
export { MalformedUpdateError } from './speaker-errors.js';

/** A BGP speaker: peers, our routes, and per-peer Adj-RIBs. See the package README. */
export class Speaker extends EventEmitter<SpeakerEvents> {
  readonly localAs: number;
  readonly bgpId: string;
  private readonly core: SpeakerCore;

  constructor(options: SpeakerOptions) {
    super();
    this.localAs = options.localAs;
    this.bgpId = options.bgpId;
    peerConfig({ localAs: this.localAs, peerAs: this.localAs, bgpId: this.bgpId }); // throws RangeError early
    const messageHistory = options.messageHistory ?? 0;
    if (messageHistory !== 0) new MessageLog(messageHistory); // throws RangeError early
    this.core = {
      localAs: this.localAs,
      bgpId: this.bgpId,
      clock: options.clock ?? systemClock,
      random: options.random ?? Math.random,
      bfd: options.bfd,
      messageHistory,
      peers: new Map(),
      routes: new Map(),
      logs: new Map(),
      stopping: false,
      restarting: options.restarting === true ? true : new Set(options.restarting || []),
      restarted: new Set(),
      events: this,
    };
    this.core.bfd?.on('state', this.onBfdState);
  }

  /** Adds a peer and starts its session. Throws Error if the id is taken, RangeError for bad settings. */
  addPeer(id: string, options: PeerOptions): void {
    addPeer(this.core, id, options);
  }

  /** Removes a peer: Cease 3 (Peer De-configured), and resolves once its connection is closed. */
  removePeer(id: string, message?: string): Promise<void> {
    return removePeer(this.core, id, message);
  }

  /**
   * Changes a peer's options (merged into the current ones). Route policy changes are diffed onto the
   * running session; anything else (address, port, AS, timers, capabilities) re-creates the session
   * after a Cease 6 (Other Configuration Change).
   */
  updatePeer(id: string, options: Partial<PeerOptions>): Promise<void> {
    return updatePeer(this.core, id, options);
  }

  /**
   * Announces (or changes) a route: to every peer, to the peers its `peers` names, or with different
   * attributes for different peers (an array of alternatives). Throws TypeError/RangeError for a bad
   * prefix or link bandwidth.
   */
  announce(prefix: string, attributes: Announcement = EMPTY): void {
    const canonical = canonicalPrefix(prefix);
    checkLinkBandwidth(attributes);
    this.core.routes.set(canonical, attributes);
    scheduleAll(this.core);
  }

  /** Withdraws a route from every peer (a no-op for a route not announced). */
  withdraw(prefix: string): void {
    if (this.core.routes.delete(canonicalPrefix(prefix))) scheduleAll(this.core);
  }

  /** Our routes: prefix to the attributes given to announce(). */
  announced(): Map<string, Announcement> {
    return new Map(this.core.routes);
  }

  /** The peer's last messages (SpeakerOptions.messageHistory of them), oldest first, decoded; undefined for no such peer. */
  recentMessages(id: string): DescribedMessage[] | undefined {
    if (!this.core.peers.has(id)) return undefined;
    return (this.core.logs.get(id)?.entries() ?? []).map(describeMessage);
  }

  /** Every peer's state and route counts. */
  peers(): PeerStatus[] {
    return [...this.core.peers.values()].map(peerStatus);
  }

  /** What a peer sent us (undefined for an unknown peer). */
  adjRibIn(id: string): RibInEntry[] | undefined {
    const peer = this.core.peers.get(id);
    return peer ? [...adjRibInEntries(peer.ribIn)] : undefined;
  }

  /** What we advertised to a peer (undefined for an unknown peer). */
  adjRibOut(id: string): AdvertisedRoute[] | undefined {
    const peer = this.core.peers.get(id);
    return peer ? advertisedRoutes(peer) : undefined;
  }

  /**
   * Stops every session: with gracefulShutdown, first re-announces every route with GRACEFUL_SHUTDOWN
   * (65535:0) to each Established peer and waits drainMs on the clock; then a Cease (Administrative
   * Shutdown, with `message`) to all. Resolves when every connection is closed.
   */
  async stop(options: SpeakerStopOptions = {}): Promise<void> {
    const core = this.core;
    core.stopping = true;
    const all = [...core.peers.values()];
    for (const peer of all) {
      cancelFlush(core, peer);
      cancelStaleTimer(core, peer);
    }
    const leaving: Promise<void>[] = [];
    let peers: Peer[] = all;
    if (options.restart) {
      peers = [];
      for (const peer of all) {
        const leave = restartLeave(peer.driver.state.config, peer.driver.negotiated);
        if (leave === 'stop') peers.push(peer);
        else if (leave === 'cease')
          leaving.push(peer.driver.stop(options.message ?? 'restarting', RESTART_CEASE_SUBCODE));
        else leaving.push(peer.driver.stop(undefined, undefined, { notify: false }));
      }
    }
    if (options.gracefulShutdown) {
      const sent = sendGracefulShutdown(core, peers);
      const { drainMs, signal } = options.gracefulShutdown;
      if (sent && drainMs > 0 && !signal?.aborted) await drain(core.clock, drainMs, signal);
    }
    core.peers.clear();
    await Promise.all([...leaving, ...peers.map((p) => p.driver.stop(options.message))]);
    await Promise.all(all.map((p) => endBfd(core, p)));
    core.bfd?.off('state', this.onBfdState);
  }

  /** A BFD state change from the engine: tear the peer's BGP session down, or let it come back. */
  private readonly onBfdState = (sessionId: number, change: BfdChange): void => {
    const applied = bfdStateChange(this.core.peers.values(), sessionId, change, this.core.stopping);
    if (applied) this.emit('bfd', applied.peer.id, change, applied.outcome);
  };
}

const EMPTY: AnnounceAttributes = Object.freeze({});

/** Waits `ms` on the clock, or until `signal` aborts. */
function drain(clock: Clock, ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = clock.setTimer(ms, done);
    function done(): void {
      signal?.removeEventListener('abort', abort);
      resolve();
    }
    const abort = (): void => {
      clock.clearTimer(timer);
      done();
    };
    signal?.addEventListener('abort', abort, { once: true });
  });
}
