// Checks across objects, once each object is valid on its own: names that refer to other objects,
// pools that overlap, aggregation lengths that would announce addresses outside a pool (MetalLB's
// rule), and two peers that would open the same session.
import { rangesOverlap, shortestCoveringPrefix } from './address.js';
import { type ObjectContext, describe, objectName, report } from './check.js';
import { matchesAny } from './selector.js';
import type { AnnouncerConfig, BGPAdvertisement, ConfigKind, ConfigProblem, IPAddressPool } from './types.js';

/** Names of every object of each kind, valid or not: a reference to an invalid object is not reported twice. */
export type NamesByKind = Record<ConfigKind, ReadonlySet<string>>;

/** The most names a "which does not exist (known: ...)" message lists. */
const MAX_KNOWN_NAMES = 20;

/** "a, b, c", or the first MAX_KNOWN_NAMES and how many more; each name cut as problems cut names. */
function knownNames(names: ReadonlySet<string>): string {
  const shown = [...names].slice(0, MAX_KNOWN_NAMES).map(objectName);
  return names.size > MAX_KNOWN_NAMES
    ? `${shown.join(', ')} and ${names.size - MAX_KNOWN_NAMES} more`
    : shown.join(', ');
}

/** Records every cross-object problem of a config whose objects are each valid. */
export function crossCheck(config: AnnouncerConfig, allNames: NamesByKind, problems: ConfigProblem[]): void {
  const ctx = (kind: ConfigKind, name: string): ObjectContext => ({ kind, name, problems });
  const missing = (c: ObjectContext, at: string, kind: ConfigKind, name: string): void => {
    if (!allNames[kind].has(name)) {
      const have = allNames[kind];
      report(
        c,
        at,
        `refers to ${kind} ${describe(name)}, which does not exist (${have.size === 0 ? `there is no ${kind}` : `known: ${knownNames(have)}`})`,
      );
    }
  };

  checkPoolOverlaps(config.pools, problems);

  for (const peer of config.peers) {
    if (peer.bfdProfile !== undefined)
      missing(ctx('BGPPeer', peer.name), 'spec.bfdProfile', 'BFDProfile', peer.bfdProfile);
  }
  for (let i = 0; i < config.peers.length; i++) {
    const a = config.peers[i]!;
    const twin = config.peers
      .slice(0, i)
      .find(
        (b) =>
          b.peerAddress === a.peerAddress &&
          b.peerPort === a.peerPort &&
          b.sourceAddress === a.sourceAddress &&
          JSON.stringify(b.nodeSelectors) === JSON.stringify(a.nodeSelectors),
      );
    if (twin) {
      report(
        ctx('BGPPeer', a.name),
        'spec.peerAddress',
        `BGPPeer ${twin.name} already peers with ${a.peerAddress} from the same nodes and source address: the router would see two sessions from one neighbor`,
      );
    }
  }

  for (const adv of config.advertisements) {
    const c = ctx('BGPAdvertisement', adv.name);
    adv.ipAddressPools.forEach((name, i) => missing(c, `spec.ipAddressPools[${i}]`, 'IPAddressPool', name));
    adv.peers.forEach((name, i) => missing(c, `spec.peers[${i}]`, 'BGPPeer', name));
    checkAggregation(c, adv, poolsOf(adv, config.pools));
  }

  for (const route of config.staticRoutes) {
    const c = ctx('StaticRoute', route.name);
    route.peers.forEach((name, i) => missing(c, `spec.peers[${i}]`, 'BGPPeer', name));
  }
}

/** The pools an advertisement applies to: by name, by selector, or every pool when it names none. */
export function poolsOf(adv: BGPAdvertisement, pools: readonly IPAddressPool[]): IPAddressPool[] {
  if (adv.ipAddressPools.length === 0 && adv.ipAddressPoolSelectors.length === 0) return [...pools];
  return pools.filter(
    (p) =>
      adv.ipAddressPools.includes(p.name) ||
      (adv.ipAddressPoolSelectors.length > 0 && matchesAny(adv.ipAddressPoolSelectors, p.labels)),
  );
}

/** No address may be in two pools (the allocator could hand it out twice). Reported on the later pool. */
function checkPoolOverlaps(pools: readonly IPAddressPool[], problems: ConfigProblem[]): void {
  pools.forEach((pool, p) => {
    pool.ranges.forEach((range, i) => {
      for (const earlier of pools.slice(0, p)) {
        const clash = earlier.ranges.find((r) => rangesOverlap(r, range));
        if (clash) {
          problems.push({
            kind: 'IPAddressPool',
            name: pool.name,
            field: `spec.addresses[${i}]`,
            message: `${JSON.stringify(range.text)} overlaps ${JSON.stringify(clash.text)} of IPAddressPool ${earlier.name}: an address may be in one pool only`,
          });
          break;
        }
      }
    });
  });
}

/**
 * MetalLB's rule: the aggregation length may not be shorter than the largest prefix that fits inside
 * an address entry of a pool the advertisement applies to, or the aggregate would cover (and attract
 * traffic for) addresses outside the pool.
 */
function checkAggregation(ctx: ObjectContext, adv: BGPAdvertisement, pools: readonly IPAddressPool[]): void {
  for (const family of [4, 6] as const) {
    const field = family === 4 ? 'aggregationLength' : 'aggregationLengthV6';
    const length = adv[field];
    for (const pool of pools) {
      const range = pool.ranges.find((r) => r.family === family && length < shortestCoveringPrefix(r));
      if (range) {
        report(
          ctx,
          `spec.${field}`,
          `${length} is shorter than /${shortestCoveringPrefix(range)}, the largest prefix inside ${JSON.stringify(range.text)} of IPAddressPool ${pool.name}: a /${length} aggregate would announce addresses outside the pool`,
        );
        break;
      }
    }
  }
}
