// The Speaker: the library API that holds peers and routes. Each peer is a SessionDriver plus an
// Adj-RIB-Out and Adj-RIB-In; every change to our routes is diffed per peer (coalesced by the
// minimum route advertisement interval on the injected clock) so only changes go on the wire.
import { EventEmitter } from 'node:events';
import { CEASE_SUBCODE, ROUTE_REFRESH_SUBTYPE, familyOf, type Family, type RouteRefreshMessage, type UpdateError, type UpdateMessage } from '@bgp-announce/bgp-wire';
import { peerConfig } from './session/config.js';
import { SessionDriver } from './session/driver.js';
import { MessageLog, describeMessage, type DescribedMessage } from './session/message-log.js';
import { systemClock, type Clock } from './session/clock.js';
import type { DownReason } from './session/fsm.js';
import type { NegotiatedSession } from './session/open-policy.js';
import { adjRibOutCounts, diffAdjRibOut, endOfRibUpdates, gracefulShutdownUpdates, newAdjRibOut, routeRefreshUpdates } from './rib/adj-rib-out.js';
import { adjRibInCounts, adjRibInEntries, applyUpdate, markStale, newAdjRibIn, sweepStale, type RibInEntry } from './rib/adj-rib-in.js';
import { RESTART_CEASE_SUBCODE, familiesToFlush, restartLeave, retentionOnDown } from './session/graceful-restart.js';
import { parseRouteKey, setOf } from './rib/route.js';
import { applyBfdChange, bfdSessionOptions, type BfdChange, type BfdSessions } from './speaker-bfd.js';
import { canonicalPrefix, peerDesiredRoutes, sameOptions, splitPeerOptions, type AnnounceAttributes, type Announcement, type PeerOptions } from './speaker-peer.js';

export type { AnnounceAttributes, Announcement, PeerOptions, PeerRoutePolicy } from './speaker-peer.js';
export type { AdvertisedRoute, PeerMessageCounters, PeerStatus, SpeakerEvents, SpeakerOptions, SpeakerStopOptions, StaleRemovalReason } from './speaker-types.js';
import type { AdvertisedRoute, Peer, PeerStatus, SpeakerEvents, SpeakerOptions, SpeakerStopOptions, StaleRemovalReason } from './speaker-types.js';

/** A BGP speaker: peers, our routes, and per-peer Adj-RIBs. See the package README. */
export class Speaker extends EventEmitter<SpeakerEvents> {
  readonly localAs: number;
  readonly bgpId: string;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly peerMap = new Map<string, Peer>();
  private readonly routes = new Map<string, Announcement>();
  private stopping = false;
  private readonly bfd: BfdSessions | undefined;
  private readonly messageHistory: number;
  /** Each peer's message log; kept across the re-creation of its session by updatePeer. */
  private readonly logs = new Map<string, MessageLog>();

  constructor(options: SpeakerOptions) {
    super();
    this.localAs = options.localAs;
    this.bgpId = options.bgpId;
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    peerConfig({ localAs: this.localAs, peerAs: this.localAs, bgpId: this.bgpId }); // throws RangeError early
    this.bfd = options.bfd;
    this.messageHistory = options.messageHistory ?? 0;
    if (this.messageHistory !== 0) new MessageLog(this.messageHistory); // throws RangeError early
    this.bfd?.on('state', this.onBfdState);
  }

  /** Adds a peer and starts its session. Throws Error if the id is taken, RangeError for bad settings. */
  addPeer(id: string, options: PeerOptions): void {
    if (this.stopping) throw new Error('speaker is stopping');
    if (this.peerMap.has(id)) throw new Error(`peer ${JSON.stringify(id)} exists already`);
    const { session, policy } = splitPeerOptions(options);
    const { peerAddress, peerPort, localAddress, localPort, listen, closeTimeoutMs, md5Password, ttlSecurity, ebgpMultihop, bfd, ...configInput } = session;
    if (bfd !== undefined && !this.bfd) throw new Error(`peer ${JSON.stringify(id)} requires BFD, but the Speaker has no BFD engine (give SpeakerOptions.bfd)`);
    const bfdOptions = bfd === undefined ? undefined : bfdSessionOptions(id, peerAddress, localAddress, bfd);
    const config = peerConfig({ ...configInput, localAs: configInput.localAs ?? this.localAs, bgpId: configInput.bgpId ?? this.bgpId });
    const transport = { peerAddress, peerPort, localAddress, localPort, listen, closeTimeoutMs, md5Password, ttlSecurity, ebgpMultihop };
    let messageLog = this.logs.get(id);
    if (messageLog === undefined && this.messageHistory > 0) this.logs.set(id, (messageLog = new MessageLog(this.messageHistory)));
    const driver = new SessionDriver({ ...transport, config, clock: this.clock, random: this.random, ...(messageLog ? { messageLog } : {}) });
    const peer: Peer = {
      id,
      options: { ...options },
      policy,
      driver,
      ribOut: newAdjRibOut(),
      ribIn: newAdjRibIn(policy.maxPrefix === undefined ? {} : { maxPrefix: policy.maxPrefix }),
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
    if (bfdOptions && this.bfd) peer.bfd = { sessionId: this.bfd.addSession(bfdOptions), state: 'Down', holding: false };
    this.peerMap.set(id, peer);
    this.wire(peer);
    driver.start();
  }

  /** Removes a peer: Cease 3 (Peer De-configured), and resolves once its connection is closed. */
  async removePeer(id: string, message?: string): Promise<void> {
    const peer = this.peerMap.get(id);
    if (!peer) return;
    this.peerMap.delete(id);
    this.logs.delete(id);
    this.cancelFlush(peer);
    this.cancelStaleTimer(peer);
    await Promise.all([peer.driver.stop(message, CEASE_SUBCODE.PEER_DECONFIGURED), this.removeBfd(peer)]);
  }

  /**
   * Changes a peer's options (merged into the current ones). Route policy changes are diffed onto the
   * running session; anything else (address, port, AS, timers, capabilities) re-creates the session
   * after a Cease 6 (Other Configuration Change).
   */
  async updatePeer(id: string, options: Partial<PeerOptions>): Promise<void> {
    const peer = this.peerMap.get(id);
    if (!peer) throw new Error(`no peer ${JSON.stringify(id)}`);
    const next = { ...peer.options, ...options } as PeerOptions;
    const before = splitPeerOptions(peer.options);
    const after = splitPeerOptions(next);
    if (!sameOptions(before.session, after.session)) {
      this.peerMap.delete(id);
      this.cancelFlush(peer);
      this.cancelStaleTimer(peer);
      await Promise.all([peer.driver.stop(undefined, CEASE_SUBCODE.OTHER_CONFIGURATION_CHANGE), this.removeBfd(peer)]);
      this.addPeer(id, next);
      return;
    }
    peer.options = next;
    peer.policy = after.policy;
    peer.ribIn.config = after.policy.maxPrefix === undefined ? {} : { maxPrefix: after.policy.maxPrefix };
    this.schedule(peer);
  }

  /**
   * Announces (or changes) a route: to every peer, to the peers its `peers` names, or with different
   * attributes for different peers (an array of alternatives). Throws TypeError/RangeError for a bad prefix.
   */
  announce(prefix: string, attributes: Announcement = EMPTY): void {
    this.routes.set(canonicalPrefix(prefix), attributes);
    this.scheduleAll();
  }

  /** Withdraws a route from every peer (a no-op for a route not announced). */
  withdraw(prefix: string): void {
    if (this.routes.delete(canonicalPrefix(prefix))) this.scheduleAll();
  }

  /** Our routes: prefix to the attributes given to announce(). */
  announced(): Map<string, Announcement> {
    return new Map(this.routes);
  }

  /** The peer's last messages (SpeakerOptions.messageHistory of them), oldest first, decoded; undefined for no such peer. */
  recentMessages(id: string): DescribedMessage[] | undefined {
    if (!this.peerMap.has(id)) return undefined;
    return (this.logs.get(id)?.entries() ?? []).map(describeMessage);
  }

  /** Every peer's state and route counts. */
  peers(): PeerStatus[] {
    return [...this.peerMap.values()].map((p) => {
      const out: PeerStatus = {
        id: p.id,
        peerAddress: p.options.peerAddress,
        peerAs: p.options.peerAs,
        state: p.driver.state.state,
        advertised: sum(adjRibOutCounts(p.ribOut)),
        received: sum(Object.fromEntries(Object.entries(adjRibInCounts(p.ribIn)).map(([f, c]) => [f, c.routes])) as Record<Family, number>),
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
    });
  }

  /** What a peer sent us (undefined for an unknown peer). */
  adjRibIn(id: string): RibInEntry[] | undefined {
    const peer = this.peerMap.get(id);
    return peer ? [...adjRibInEntries(peer.ribIn)] : undefined;
  }

  /** What we advertised to a peer (undefined for an unknown peer). */
  adjRibOut(id: string): AdvertisedRoute[] | undefined {
    const peer = this.peerMap.get(id);
    if (!peer) return undefined;
    return [...peer.ribOut.routes].map(([key, setId]) => ({ prefix: parseRouteKey(key).prefix, attributes: setOf(peer.ribOut.table, setId) }));
  }

  /**
   * Stops every session: with gracefulShutdown, first re-announces every route with GRACEFUL_SHUTDOWN
   * (65535:0) to each Established peer and waits drainMs on the clock; then a Cease (Administrative
   * Shutdown, with `message`) to all. Resolves when every connection is closed.
   */
  async stop(options: SpeakerStopOptions = {}): Promise<void> {
    this.stopping = true;
    const all = [...this.peerMap.values()];
    for (const peer of all) {
      this.cancelFlush(peer);
      this.cancelStaleTimer(peer);
    }
    const leaving: Promise<void>[] = [];
    let peers = all;
    if (options.restart) {
      peers = [];
      for (const peer of all) {
        const leave = restartLeave(peer.driver.state.config, peer.driver.negotiated);
        if (leave === 'stop') peers.push(peer);
        else if (leave === 'cease') leaving.push(peer.driver.stop(options.message ?? 'restarting', RESTART_CEASE_SUBCODE));
        else leaving.push(peer.driver.stop(undefined, undefined, { notify: false }));
      }
    }
    if (options.gracefulShutdown) {
      let sent = false;
      for (const peer of peers) {
        const negotiated = peer.driver.negotiated;
        if (peer.driver.state.state !== 'Established' || !negotiated) continue;
        this.flush(peer); // pending changes first, so the drain covers the current routes
        const { updates } = gracefulShutdownUpdates(peer.ribOut, negotiated);
        if (updates.length > 0) {
          this.sendTo(peer, updates);
          sent = true;
        }
      }
      const { drainMs, signal } = options.gracefulShutdown;
      if (sent && drainMs > 0 && !signal?.aborted) {
        await new Promise<void>((resolve) => {
          const timer = this.clock.setTimer(drainMs, done);
          function done(): void {
            signal?.removeEventListener('abort', abort);
            resolve();
          }
          const abort = (): void => {
            this.clock.clearTimer(timer);
            done();
          };
          signal?.addEventListener('abort', abort, { once: true });
        });
      }
    }
    this.peerMap.clear();
    await Promise.all([...leaving, ...peers.map((p) => p.driver.stop(options.message))]);
    await Promise.all(all.map((p) => this.removeBfd(p)));
    this.bfd?.off('state', this.onBfdState);
  }

  private wire(peer: Peer): void {
    const d = peer.driver;
    const current = (): boolean => this.peerMap.get(peer.id) === peer;
    d.on('state', (to, from) => this.emit('peerState', peer.id, to, from));
    d.on('established', (negotiated) => {
      if (!current()) return;
      peer.negotiated = negotiated;
      this.emit('established', peer.id, negotiated);
      this.peerBack(peer, negotiated);
      if (this.stopping) return;
      this.cancelFlush(peer);
      this.flush(peer);
      this.sendTo(peer, endOfRibUpdates(negotiated.families));
    });
    d.on('update', (update: UpdateMessage) => {
      const result = applyUpdate(peer.ribIn, update);
      this.emit('routesReceived', peer.id, result, update);
      for (const e of update.errors ?? []) this.report(peer, new MalformedUpdateError(peer.id, e));
      if (result.endOfRib !== undefined && peer.staleFamilies.includes(result.endOfRib)) this.staleGone(peer, result.endOfRib, result.swept, 'end-of-rib');
      if (result.warning) {
        const w = result.warning;
        this.report(peer, new Error(`peer ${peer.id} sent ${w.count} ${w.family} routes, more than the limit of ${w.limit}`));
      }
      if (result.teardown) {
        const t = result.teardown;
        const options: { reason: string; data?: string } = { reason: `maximum prefixes reached: ${t.count} ${t.family} routes, limit ${t.limit}` };
        if (t.notification.data !== undefined) options.data = t.notification.data;
        d.automaticStop(CEASE_SUBCODE.MAXIMUM_PREFIXES_REACHED, options);
      }
    });
    d.on('routeRefresh', (message: RouteRefreshMessage) => this.answerRouteRefresh(peer, message));
    d.on('down', (reason) => {
      // A new session starts from an empty Adj-RIB-Out: the peer dropped what we sent (or keeps it
      // stale until our End-of-RIB). What it sent us is dropped too, unless graceful restart keeps it.
      this.cancelFlush(peer);
      peer.ribOut = newAdjRibOut();
      peer.lastSent = Number.NEGATIVE_INFINITY;
      this.emit('down', peer.id, reason);
      if (current() && !this.stopping) this.peerAway(peer, reason);
      else peer.ribIn = newAdjRibIn(peer.ribIn.config);
    });
    d.on('listening', (address) => this.emit('listening', peer.id, address));
    d.on('error', (err) => this.report(peer, err));
  }

  /** The peer's session ended: keep its routes stale for its Restart Time (RFC 4724 4.2), or drop them. */
  private peerAway(peer: Peer, reason: DownReason): void {
    this.cancelStaleTimer(peer);
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
    this.emit('staleRoutes', peer.id, { families: retention.families, count, restartTimeMs: retention.restartTimeMs });
    peer.staleTimer = this.clock.setTimer(retention.restartTimeMs, () => this.expireStale(peer, 'restart-time-expired'));
  }

  /** The peer is back: drop the families it no longer preserves; the rest wait for its End-of-RIB. */
  private peerBack(peer: Peer, negotiated: NegotiatedSession): void {
    this.cancelStaleTimer(peer);
    if (peer.staleFamilies.length === 0) return;
    for (const f of familiesToFlush(peer.staleFamilies, negotiated)) this.staleGone(peer, f, sweepStale(peer.ribIn, f), 'not-preserved');
    if (peer.staleFamilies.length === 0) return;
    const stalePathMs = (peer.driver.state.config.gracefulRestart?.stalePathTime ?? 360) * 1000;
    peer.staleTimer = this.clock.setTimer(stalePathMs, () => this.expireStale(peer, 'stale-path-time-expired'));
  }

  private expireStale(peer: Peer, reason: StaleRemovalReason): void {
    peer.staleTimer = undefined;
    if (this.peerMap.get(peer.id) !== peer) return;
    for (const f of [...peer.staleFamilies]) this.staleGone(peer, f, sweepStale(peer.ribIn, f), reason);
  }

  /** Records that `family` has no stale routes left, and says how many went. */
  private staleGone(peer: Peer, family: Family, count: number, reason: StaleRemovalReason): void {
    peer.staleFamilies = peer.staleFamilies.filter((f) => f !== family);
    if (peer.staleFamilies.length === 0) this.cancelStaleTimer(peer);
    this.emit('staleRoutesRemoved', peer.id, { family, count, reason });
  }

  private cancelStaleTimer(peer: Peer): void {
    if (peer.staleTimer !== undefined) this.clock.clearTimer(peer.staleTimer);
    peer.staleTimer = undefined;
  }

  /** A BFD state change from the engine: tear the peer's BGP session down, or let it come back. */
  private readonly onBfdState = (sessionId: number, change: BfdChange): void => {
    for (const peer of this.peerMap.values()) {
      if (peer.bfd?.sessionId !== sessionId) continue;
      const outcome = this.stopping ? undefined : applyBfdChange(peer.bfd, peer.driver, change);
      this.emit('bfd', peer.id, change, outcome);
      return;
    }
  };

  /** Ends the peer's BFD session (the engine sends AdminDown first); errors are reported, not thrown. */
  private async removeBfd(peer: Peer): Promise<void> {
    const bfd = peer.bfd;
    peer.bfd = undefined;
    if (!bfd || !this.bfd) return;
    try {
      await this.bfd.removeSession(bfd.sessionId);
    } catch (err) {
      this.report(peer, err instanceof Error ? err : new Error(String(err)));
    }
  }

  private answerRouteRefresh(peer: Peer, message: RouteRefreshMessage): void {
    const negotiated = peer.driver.negotiated;
    const family = familyOf(message.afi, message.safi);
    // Only a request (subtype 0) is answered; a peer's BoRR/EoRR around its own re-send needs nothing.
    if (!negotiated || family === undefined || message.subtype !== ROUTE_REFRESH_SUBTYPE.REQUEST || !negotiated.families.includes(family)) return;
    if (this.stopping) return;
    this.sendTo(peer, routeRefreshUpdates(peer.ribOut, negotiated, family, negotiated.enhancedRouteRefresh));
  }

  private scheduleAll(): void {
    if (this.stopping) return;
    for (const peer of this.peerMap.values()) this.schedule(peer);
  }

  /** Sends the peer's changes after the advertisement interval (now, on the next tick, when it is 0). */
  private schedule(peer: Peer): void {
    if (peer.timer !== undefined || peer.driver.state.state !== 'Established') return;
    const interval = peer.policy.minRouteAdvertisementIntervalMs ?? 0;
    const delay = Math.max(0, peer.lastSent + interval - this.clock.now());
    peer.timer = this.clock.setTimer(delay, () => {
      peer.timer = undefined;
      if (this.peerMap.get(peer.id) === peer && !this.stopping) this.flush(peer);
    });
  }

  private cancelFlush(peer: Peer): void {
    if (peer.timer !== undefined) this.clock.clearTimer(peer.timer);
    peer.timer = undefined;
  }

  /** Diffs our routes against the peer's Adj-RIB-Out and sends the changes. */
  private flush(peer: Peer): void {
    const d = peer.driver;
    const negotiated = d.negotiated;
    if (d.state.state !== 'Established' || !negotiated) return;
    const { routes, noNextHop } = peerDesiredRoutes(this.routes, peer.policy, {
      peerId: peer.id,
      localAs: peer.driver.state.config.localAs,
      ibgp: negotiated.ibgp,
      localAddress: d.localAddress,
      extendedNextHop: negotiated.extendedNextHop,
    });
    if (noNextHop.length !== peer.noNextHop && noNextHop.length > 0) {
      this.report(peer, new Error(`${noNextHop.length} routes (e.g. ${noNextHop[0]}) not sent to peer ${peer.id}: no next hop of their family (set nextHop/nextHopIpv6)`));
    }
    peer.noNextHop = noNextHop.length;
    let changes;
    try {
      changes = diffAdjRibOut(peer.ribOut, routes, negotiated);
    } catch (err) {
      this.report(peer, err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (changes.updates.length === 0) return;
    peer.lastSent = this.clock.now();
    this.sendTo(peer, changes.updates);
  }

  /** Sends encoded messages on the peer's session, counting the UPDATEs (type 2 at byte 18) among them. */
  private sendTo(peer: Peer, messages: readonly Uint8Array[]): void {
    for (const m of messages) if (m[18] === 2) peer.updatesOut++;
    peer.driver.send(messages);
  }

  private report(peer: Peer, error: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', peer.id, error);
    else process.emitWarning(error.message, 'BgpSpeakerWarning');
  }
}

/**
 * A peer sent an UPDATE with an error RFC 7606 handles without a session reset (treat-as-withdraw or
 * attribute-discard); reported through the 'error' event with the offending bytes.
 */
export class MalformedUpdateError extends Error {
  constructor(
    readonly peerId: string,
    readonly detail: UpdateError,
  ) {
    const attr = detail.attribute === undefined ? '' : ` in attribute ${detail.attribute}`;
    const bytes = detail.data.length > 0 ? `, bytes ${detail.data}` : '';
    super(`peer ${peerId} sent a malformed UPDATE${attr} at offset ${detail.offset}: ${detail.message}; ${detail.action === 'treat-as-withdraw' ? 'its routes are treated as withdrawn' : 'the attribute is discarded'} (RFC 7606)${bytes}`);
    this.name = 'MalformedUpdateError';
  }
}

const EMPTY: AnnounceAttributes = Object.freeze({});

function sum(counts: Record<Family, number>): number {
  return counts['ipv4-unicast'] + counts['ipv6-unicast'];
}
