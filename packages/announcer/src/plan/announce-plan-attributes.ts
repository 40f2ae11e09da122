// The sources of announcements (BGPAdvertisements and StaticRoutes, reduced to what this node needs)
// and the per-peer attributes of a route built from the set of sources that give it. Attribute
// objects and per-peer maps are memoized by source set, so thousands of routes given by the same
// advertisements share one map and one attribute object per peer.
import { formatCommunity, parseCommunity, parseLargeCommunity } from '@bgp-announce/bgp-wire';
import type { RouteAttributesPlan } from './announce-plan-types.js';

/** A BGPAdvertisement or StaticRoute as this node applies it. */
export interface AnnounceSource {
  kind: 'BGPAdvertisement' | 'StaticRoute';
  name: string;
  /** Peers it announces to that this node runs, sorted. */
  peers: string[];
  peerSet: ReadonlySet<string>;
  /** Community values (32-bit). */
  communities: number[];
  /** Large communities as [global administrator, local data 1, local data 2]. */
  largeCommunities: [number, number, number][];
  localPref?: number;
  /** BGPAdvertisement weightedECMP, with this node's weight for Cluster Services. */
  weighted?: SourceWeighting;
}

/** How a weighted source turns a route's weight into a link bandwidth on this node. */
export interface SourceWeighting {
  bytesPerSecondPerWeight: number;
  transitive: boolean;
  /** This node's weight for a Cluster Service (its weight label, or the default). */
  nodeWeight: number;
}

/**
 * What a route's weight is made of on this node: the serving local endpoints of its Local Services,
 * and how many Cluster Services it covers (each weighs the node weight of the source).
 */
export interface RouteWeight {
  endpoints: number;
  clusterServices: number;
}

/** What a source is made from (the shared fields of BGPAdvertisement and StaticRoute). */
export interface SourceSpec {
  name: string;
  communities: readonly string[];
  largeCommunities: readonly string[];
  localPref?: number;
  /** Peers by name; empty: every peer. */
  peers: readonly string[];
}

const LARGE_PREFIX = 'large:';

/**
 * The source for `spec` on a node running `nodePeers` (sorted names). A "large:a:b:c" entry of
 * `communities` is a large community (MetalLB's spelling). Unusable communities are skipped with a
 * warning (the validator should have refused them).
 */
export function makeSource(
  kind: AnnounceSource['kind'],
  spec: SourceSpec,
  nodePeers: readonly string[],
  warnings: string[],
): AnnounceSource {
  const wanted = spec.peers.length === 0 ? undefined : new Set(spec.peers);
  const peers = wanted === undefined ? [...nodePeers] : nodePeers.filter((p) => wanted.has(p));
  const communities: number[] = [];
  const large: [number, number, number][] = [];
  const addLarge = (text: string): void => {
    try {
      large.push(parseLargeCommunity(text));
    } catch {
      warnings.push(`${kind} ${spec.name}: large community ${JSON.stringify(text)} is not "a:b:c"; ignored`);
    }
  };
  for (const c of spec.communities) {
    if (c.toLowerCase().startsWith(LARGE_PREFIX)) {
      addLarge(c.slice(LARGE_PREFIX.length));
      continue;
    }
    try {
      communities.push(parseCommunity(c));
    } catch {
      warnings.push(
        `${kind} ${spec.name}: community ${JSON.stringify(c)} is neither "a:b" nor a well-known name; ignored`,
      );
    }
  }
  for (const c of spec.largeCommunities) addLarge(c);
  const source: AnnounceSource = {
    kind,
    name: spec.name,
    peers,
    peerSet: new Set(peers),
    communities,
    largeCommunities: large,
  };
  if (spec.localPref !== undefined) source.localPref = spec.localPref;
  return source;
}

/** Per-peer attributes of one source set, with the routes using it (for warnings). */
interface SetEntry {
  perPeer: Map<string, RouteAttributesPlan>;
  /** Peers whose sources disagree on localPref, with the subset key of those sources. */
  conflicts: { peer: string; subset: string }[];
  firstPrefix: string;
  routes: number;
}

/** Attributes of one subset of sources (those giving a route to one peer). */
interface SubsetEntry {
  attributes: RouteAttributesPlan;
  /** Set when the sources give different localPrefs: who gives which. */
  localPrefConflict?: string;
}

/** The memo of per-peer maps and attribute objects for one plan. */
export interface AttributeMemo {
  sources: readonly AnnounceSource[];
  nodePeers: readonly string[];
  bySet: Map<string, SetEntry>;
  bySubset: Map<string, SubsetEntry>;
  /** Weighted per-peer maps by source set key and weight. */
  weighted: Map<string, ReadonlyMap<string, RouteAttributesPlan>>;
  /** Weighted attribute objects by the unweighted one they extend, then by bandwidth and form. */
  weightedAttributes: Map<RouteAttributesPlan, Map<string, RouteAttributesPlan>>;
}

/** An empty memo over `sources` for a node running `nodePeers` (sorted names). */
export function newAttributeMemo(sources: readonly AnnounceSource[], nodePeers: readonly string[]): AttributeMemo {
  return {
    sources,
    nodePeers,
    bySet: new Map(),
    bySubset: new Map(),
    weighted: new Map(),
    weightedAttributes: new Map(),
  };
}

/**
 * The per-peer attributes of a route given by sources `ids` (key `key`) with weight `weight`: those of
 * perPeerAttributes, plus the link bandwidth towards each peer that a weighted source reaches. The
 * weighted source with the lowest id (advertisements by name) sets it; others that differ are warned
 * about. Shared by every route with the same sources and weight.
 */
export function weightedPerPeerAttributes(
  memo: AttributeMemo,
  base: ReadonlyMap<string, RouteAttributesPlan>,
  ids: readonly number[],
  key: string,
  weight: RouteWeight,
  warnings: string[],
): ReadonlyMap<string, RouteAttributesPlan> {
  const weightedIds = ids.filter((id) => memo.sources[id]!.weighted !== undefined);
  if (weightedIds.length === 0) return base;
  const memoKey = `${key}|${weight.endpoints}|${weight.clusterServices}`;
  const known = memo.weighted.get(memoKey);
  if (known !== undefined) return known;
  const perPeer = new Map<string, RouteAttributesPlan>();
  for (const [peer, attrs] of base) {
    const reaching = weightedIds.filter((id) => memo.sources[id]!.peerSet.has(peer));
    if (reaching.length === 0) {
      perPeer.set(peer, attrs);
      continue;
    }
    const first = memo.sources[reaching[0]!]!;
    const w = first.weighted!;
    const bytesPerSecond = (weight.endpoints + weight.clusterServices * w.nodeWeight) * w.bytesPerSecondPerWeight;
    const differing = reaching.slice(1).filter((id) => {
      const o = memo.sources[id]!.weighted!;
      return (
        o.bytesPerSecondPerWeight !== w.bytesPerSecondPerWeight ||
        o.transitive !== w.transitive ||
        o.nodeWeight !== w.nodeWeight
      );
    });
    if (differing.length > 0)
      warnings.push(
        `BGPAdvertisements ${[first, ...differing.map((id) => memo.sources[id]!)].map((s) => s.name).join(', ')} give different weightedECMP settings for the same prefix to peer ${peer}; using ${first.name}'s`,
      );
    const attrKey = `${bytesPerSecond}|${w.transitive}`;
    let weighted = memo.weightedAttributes.get(attrs)?.get(attrKey);
    if (weighted === undefined) {
      weighted = { ...attrs, linkBandwidth: { bytesPerSecond, transitive: w.transitive } };
      let byAttrs = memo.weightedAttributes.get(attrs);
      if (byAttrs === undefined) memo.weightedAttributes.set(attrs, (byAttrs = new Map()));
      byAttrs.set(attrKey, weighted);
    }
    perPeer.set(peer, weighted);
  }
  memo.weighted.set(memoKey, perPeer);
  return perPeer;
}

/** A stable key of a sorted list of source ids. */
export function sourceSetKey(ids: readonly number[]): string {
  return ids.length === 1 ? String(ids[0]) : ids.join(',');
}

/**
 * The per-peer attributes of a route given by sources `ids` (sorted, key `key`), shared with every
 * other route given by the same sources. `prefix` is remembered for the localPref conflict warning.
 */
export function perPeerAttributes(
  memo: AttributeMemo,
  ids: readonly number[],
  key: string,
  prefix: string,
): Map<string, RouteAttributesPlan> {
  const known = memo.bySet.get(key);
  if (known !== undefined) {
    known.routes++;
    return known.perPeer;
  }
  const entry: SetEntry = { perPeer: new Map(), conflicts: [], firstPrefix: prefix, routes: 1 };
  for (const peer of memo.nodePeers) {
    const subset = ids.filter((id) => memo.sources[id]!.peerSet.has(peer));
    if (subset.length === 0) continue;
    const subsetKey = sourceSetKey(subset);
    let attrs = memo.bySubset.get(subsetKey);
    if (attrs === undefined) {
      attrs = mergeSources(subset.map((id) => memo.sources[id]!));
      memo.bySubset.set(subsetKey, attrs);
    }
    entry.perPeer.set(peer, attrs.attributes);
    if (attrs.localPrefConflict !== undefined) entry.conflicts.push({ peer, subset: subsetKey });
  }
  memo.bySet.set(key, entry);
  return entry.perPeer;
}

/** Union of communities; the highest localPref, noting a conflict when the sources differ. */
function mergeSources(sources: readonly AnnounceSource[]): SubsetEntry {
  const communities = new Set<number>();
  const large = new Map<string, [number, number, number]>();
  for (const s of sources) {
    for (const c of s.communities) communities.add(c);
    for (const l of s.largeCommunities) large.set(l.join(':'), l);
  }
  const attributes: RouteAttributesPlan = {
    communities: [...communities].sort((a, b) => a - b).map(formatCommunity),
    largeCommunities: [...large.values()]
      .sort((x, y) => x[0] - y[0] || x[1] - y[1] || x[2] - y[2])
      .map((l) => l.join(':')),
  };
  const withLocalPref = sources.filter((s) => s.localPref !== undefined);
  if (withLocalPref.length > 0) attributes.localPref = Math.max(...withLocalPref.map((s) => s.localPref!));
  const entry: SubsetEntry = { attributes };
  if (new Set(withLocalPref.map((s) => s.localPref)).size > 1) {
    entry.localPrefConflict = withLocalPref.map((s) => `${s.kind} ${s.name} (localPref ${s.localPref})`).join(', ');
  }
  return entry;
}

/**
 * One warning per group of peers whose sources disagree on localPref, naming the sources, the
 * peers, the first prefix (and how many more) and the localPref used.
 */
export function localPrefWarnings(memo: AttributeMemo): string[] {
  const warnings: string[] = [];
  for (const entry of memo.bySet.values()) {
    const peersBySubset = new Map<string, string[]>();
    for (const c of entry.conflicts) {
      const list = peersBySubset.get(c.subset);
      if (list === undefined) peersBySubset.set(c.subset, [c.peer]);
      else list.push(c.peer);
    }
    const more = entry.routes - 1;
    const where =
      more === 0 ? entry.firstPrefix : `${entry.firstPrefix} (and ${more} more ${more === 1 ? 'prefix' : 'prefixes'})`;
    for (const [subset, peers] of peersBySubset) {
      const merged = memo.bySubset.get(subset)!;
      const to = peers.length === 1 ? `peer ${peers[0]}` : `peers ${peers.join(', ')}`;
      warnings.push(
        `different localPrefs for ${where} to ${to}: ${merged.localPrefConflict}; using ${merged.attributes.localPref}`,
      );
    }
  }
  return warnings;
}
