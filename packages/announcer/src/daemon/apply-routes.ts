// From an announce plan to the Speaker: each planned prefix becomes one announcement whose
// alternatives name the peers that get each attribute set, and only the difference from what the
// Speaker holds is announced or withdrawn. A change of a route's link bandwidth alone (weighted ECMP:
// a pod started or stopped) is damped: sent at once when the last one sent for that prefix is older
// than the plan's weightUpdateIntervalMs, else held and sent, newest value only, when the interval
// ends; a rolling update then costs one UPDATE per prefix per interval, and a value that comes back
// before the interval ends costs none. New routes, withdrawals and other changes go at once.
import type { PlannedRoute, RouteAttributesPlan } from '../plan/announce-plan-types.js';
import { diffPlannedRoutes, sameAttributes } from '../plan/announce-plan.js';
import {
  systemClock,
  type AnnounceAttributes,
  type Announcement,
  type Clock,
  type Speaker,
  type TimerHandle,
} from '@bgp-announce/bgp-speaker';

/**
 * The Speaker announcement of one planned route: one alternative per distinct attribute set, naming
 * its peers. Plans share their per-peer maps between routes, and so do the announcements made from
 * them (one object per map), which lets the Speaker build each attribute set once.
 */
export function announcementOf(
  route: PlannedRoute,
  memo: WeakMap<ReadonlyMap<string, RouteAttributesPlan>, Announcement> = new WeakMap(),
): Announcement {
  const known = memo.get(route.perPeer);
  if (known !== undefined) return known;
  const groups = new Map<RouteAttributesPlan, string[]>();
  for (const [peer, attributes] of route.perPeer) {
    const same = [...groups.keys()].find((a) => a === attributes || sameAttributes(a, attributes)) ?? attributes;
    const peers = groups.get(same);
    if (peers) peers.push(peer);
    else groups.set(same, [peer]);
  }
  const alternatives: AnnounceAttributes[] = [...groups].map(([a, peers]) => {
    const out: AnnounceAttributes = { peers };
    if (a.communities.length > 0) out.communities = a.communities;
    if (a.largeCommunities.length > 0) out.largeCommunities = a.largeCommunities;
    if (a.localPref !== undefined) out.localPref = a.localPref;
    if (a.linkBandwidth !== undefined) out.linkBandwidth = a.linkBandwidth;
    return out;
  });
  const announcement: Announcement = alternatives.length === 1 ? alternatives[0]! : alternatives;
  memo.set(route.perPeer, announcement);
  return announcement;
}

/** True when the two routes differ in nothing but link bandwidth (same peers, same other attributes). */
function onlyLinkBandwidthDiffers(before: PlannedRoute, after: PlannedRoute): boolean {
  if (before.perPeer.size !== after.perPeer.size) return false;
  for (const [peer, b] of before.perPeer) {
    const a = after.perPeer.get(peer);
    if (a === undefined || (a.linkBandwidth === undefined) !== (b.linkBandwidth === undefined)) return false;
    if (!sameAttributes({ ...a, linkBandwidth: b.linkBandwidth }, b)) return false;
  }
  return true;
}

/** What apply() did: routes announced and withdrawn now, link bandwidth changes held for later. */
export interface ApplyCounts {
  announced: number;
  withdrawn: number;
  held: number;
}

/** Applies plans to a Speaker, remembering what the Speaker holds. */
export class RouteApplier {
  /** What the Speaker holds: the last plan applied, except for held prefixes (their older route). */
  private sent: ReadonlyMap<string, PlannedRoute> = new Map();
  private latest: ReadonlyMap<string, PlannedRoute> = new Map();
  private intervalMs = 0;
  /** When a link bandwidth change was last sent, by prefix (only prefixes whose bandwidth changed). */
  private readonly bandwidthSentAt = new Map<string, number>();
  private readonly held = new Set<string>();
  private timer: TimerHandle | undefined;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly memo = new WeakMap<ReadonlyMap<string, RouteAttributesPlan>, Announcement>();

  constructor(
    private readonly speaker: Speaker,
    private readonly clock: Clock = systemClock,
  ) {}

  /**
   * Announces what changed since what the Speaker holds and withdraws what is gone; a link bandwidth
   * change alone may be held (see the file comment). `weightUpdateIntervalMs` is the plan's.
   */
  apply(routes: ReadonlyMap<string, PlannedRoute>, weightUpdateIntervalMs = 0): ApplyCounts {
    this.latest = routes;
    this.intervalMs = weightUpdateIntervalMs;
    const { changed, withdrawn } = diffPlannedRoutes(this.sent, routes);
    const now = this.clock.now();
    for (const prefix of withdrawn) {
      this.speaker.withdraw(prefix);
      this.bandwidthSentAt.delete(prefix);
    }
    const stillHeld = new Set<string>();
    let announced = 0;
    let dueAt = Number.POSITIVE_INFINITY;
    for (const route of changed) {
      const before = this.sent.get(route.prefix);
      if (before !== undefined && onlyLinkBandwidthDiffers(before, route)) {
        const last = this.bandwidthSentAt.get(route.prefix);
        if (last !== undefined && now - last < weightUpdateIntervalMs) {
          stillHeld.add(route.prefix);
          dueAt = Math.min(dueAt, last + weightUpdateIntervalMs);
          continue;
        }
        this.bandwidthSentAt.set(route.prefix, now);
      }
      this.speaker.announce(route.prefix, announcementOf(route, this.memo));
      announced++;
    }
    // A held prefix whose plan came back to what was sent needs nothing: it is not in `changed`.
    this.held.clear();
    for (const p of stillHeld) this.held.add(p);
    if (stillHeld.size === 0) {
      this.sent = routes;
    } else {
      const sent = new Map(routes);
      for (const prefix of stillHeld) sent.set(prefix, this.sent.get(prefix)!);
      this.sent = sent;
    }
    this.schedule(dueAt);
    return { announced, withdrawn: withdrawn.length, held: stillHeld.size };
  }

  /** The routes the Speaker holds (held link bandwidth changes not yet in). */
  current(): ReadonlyMap<string, PlannedRoute> {
    return this.sent;
  }

  /** Prefixes whose link bandwidth change waits for its interval, sorted. */
  heldPrefixes(): string[] {
    return [...this.held].sort();
  }

  /** Cancels the pending send of held changes (on shutdown). */
  stop(): void {
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    this.timer = undefined;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private schedule(dueAt: number): void {
    if (dueAt === this.timerAt) return;
    this.stop();
    if (dueAt === Number.POSITIVE_INFINITY) return;
    this.timerAt = dueAt;
    this.timer = this.clock.setTimer(Math.max(0, dueAt - this.clock.now()), () => {
      this.timer = undefined;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.apply(this.latest, this.intervalMs);
    });
  }
}
