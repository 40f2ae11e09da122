// From an announce plan to the Speaker: each planned prefix becomes one announcement whose
// alternatives name the peers that get each attribute set, and only the difference from the last
// plan applied is announced or withdrawn.
import type { PlannedRoute, RouteAttributesPlan } from '../plan/announce-plan-types.js';
import { diffPlannedRoutes } from '../plan/announce-plan.js';
import type { AnnounceAttributes, Announcement, Speaker } from '@bgp-announce/bgp-speaker';

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
    return out;
  });
  const announcement: Announcement = alternatives.length === 1 ? alternatives[0]! : alternatives;
  memo.set(route.perPeer, announcement);
  return announcement;
}

function sameAttributes(a: RouteAttributesPlan, b: RouteAttributesPlan): boolean {
  return (
    a.localPref === b.localPref &&
    a.communities.join() === b.communities.join() &&
    a.largeCommunities.join() === b.largeCommunities.join()
  );
}

/** Applies plans to a Speaker, remembering the last one applied. */
export class RouteApplier {
  private applied: ReadonlyMap<string, PlannedRoute> = new Map();
  private readonly memo = new WeakMap<ReadonlyMap<string, RouteAttributesPlan>, Announcement>();

  constructor(private readonly speaker: Speaker) {}

  /** Announces what changed since the last plan and withdraws what is gone; returns the counts. */
  apply(routes: ReadonlyMap<string, PlannedRoute>): { announced: number; withdrawn: number } {
    const { changed, withdrawn } = diffPlannedRoutes(this.applied, routes);
    for (const prefix of withdrawn) this.speaker.withdraw(prefix);
    for (const route of changed) this.speaker.announce(route.prefix, announcementOf(route, this.memo));
    this.applied = routes;
    return { announced: changed.length, withdrawn: withdrawn.length };
  }

  /** The last plan applied. */
  current(): ReadonlyMap<string, PlannedRoute> {
    return this.applied;
  }
}
