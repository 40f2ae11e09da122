// BGPAdvertisement (how a pool's addresses are announced: aggregation, communities, local preference,
// to which peers, from which nodes) and StaticRoute (fixed prefixes, for the config file). References
// to pools and peers, and aggregation against the pools' ranges, are checked in cross-check.ts.
import { parseCommunity, parseLargeCommunity } from '@bgp-announce/bgp-wire';
import { formatPrefix, parsePrefix } from './address.js';
import { type Fields, type ObjectContext, checkUnknownFields, readInteger, readStringList, report } from './check.js';
import { ADVERTISEMENT_SPEC_FIELDS, STATIC_ROUTE_SPEC_FIELDS } from './fields.js';
import { readLabelSelectors } from './labels.js';
import type { BGPAdvertisement, StaticRoute } from './types.js';
import { readWeightedECMP } from './validate-weighted-ecmp.js';
import { readHealthCheck } from './validate-health-check.js';

export const ADVERTISEMENT_DEFAULTS = { aggregationLength: 32, aggregationLengthV6: 128 } as const;

const LARGE_PREFIX = 'large:';

/**
 * `spec.communities`: "64496:100", a well-known name ("no-export", "no-advertise",
 * "no-export-subconfed", "no-peer", "graceful-shutdown", "blackhole"...), or "large:64496:1:2" for a
 * large community (RFC 8092), as MetalLB writes them. Split into standard and large communities
 * (the latter without the "large:" prefix); bad entries are recorded.
 */
export function readCommunities(
  ctx: ObjectContext,
  spec: Fields,
): { communities: string[]; largeCommunities: string[] } {
  const communities: string[] = [];
  const largeCommunities: string[] = [];
  const list = readStringList(ctx, spec, 'communities', 'spec');
  const values = new Set<string>();
  for (const text of list) {
    const at = `spec.communities[${(spec.communities as unknown[]).indexOf(text)}]`;
    if (text.startsWith(LARGE_PREFIX)) {
      const body = text.slice(LARGE_PREFIX.length);
      try {
        const value = parseLargeCommunity(body).join(':');
        if (values.has(`large:${value}`))
          report(ctx, at, `${JSON.stringify(text)} is the same large community as an earlier entry`);
        values.add(`large:${value}`);
        largeCommunities.push(body);
      } catch {
        report(
          ctx,
          at,
          `${JSON.stringify(text)} is not a large community: write "large:" and three numbers 0-4294967295 ("large:64496:1:2")`,
        );
      }
      continue;
    }
    try {
      const value = String(parseCommunity(text));
      if (values.has(value)) report(ctx, at, `${JSON.stringify(text)} is the same community as an earlier entry`);
      values.add(value);
      communities.push(text);
    } catch {
      report(
        ctx,
        at,
        `${JSON.stringify(text)} is not a community: write two numbers 0-65535 ("64496:100"), a well-known name (no-export, no-advertise, no-export-subconfed, no-peer, graceful-shutdown, blackhole) or "large:a:b:c"`,
      );
    }
  }
  return { communities, largeCommunities };
}

/** The advertisement with defaults filled (aggregation 32/128), or undefined with problems recorded. */
export function validateAdvertisement(ctx: ObjectContext, spec: Fields): BGPAdvertisement | undefined {
  const before = ctx.problems.length;
  checkUnknownFields(ctx, spec, ADVERTISEMENT_SPEC_FIELDS, 'spec');
  const ipAddressPools = readStringList(ctx, spec, 'ipAddressPools', 'spec');
  const ipAddressPoolSelectors = readLabelSelectors(ctx, spec, 'ipAddressPoolSelectors', 'spec');
  const aggregationLength =
    readInteger(ctx, spec, 'aggregationLength', 'spec', 0, 32, false, ' (an IPv4 prefix length)') ??
    ADVERTISEMENT_DEFAULTS.aggregationLength;
  const aggregationLengthV6 =
    readInteger(ctx, spec, 'aggregationLengthV6', 'spec', 0, 128, false, ' (an IPv6 prefix length)') ??
    ADVERTISEMENT_DEFAULTS.aggregationLengthV6;
  const localPref = readInteger(ctx, spec, 'localPref', 'spec', 0, 4294967295);
  const { communities, largeCommunities } = readCommunities(ctx, spec);
  const peers = readStringList(ctx, spec, 'peers', 'spec');
  const nodeSelectors = readLabelSelectors(ctx, spec, 'nodeSelectors', 'spec');
  const weightedECMP = readWeightedECMP(ctx, spec);
  if (ctx.problems.length !== before) return undefined;
  const adv: BGPAdvertisement = {
    name: ctx.name,
    ipAddressPools,
    ipAddressPoolSelectors,
    aggregationLength,
    aggregationLengthV6,
    communities,
    largeCommunities,
    peers,
    nodeSelectors,
  };
  if (localPref !== undefined) adv.localPref = localPref;
  if (weightedECMP !== undefined) adv.weightedECMP = weightedECMP;
  return adv;
}

/** The static route with its prefixes in canonical text, or undefined with problems recorded. */
export function validateStaticRoute(ctx: ObjectContext, spec: Fields): StaticRoute | undefined {
  const before = ctx.problems.length;
  checkUnknownFields(ctx, spec, STATIC_ROUTE_SPEC_FIELDS, 'spec');
  const prefixes: string[] = [];
  for (const text of readStringList(ctx, spec, 'prefixes', 'spec', true)) {
    const at = `spec.prefixes[${(spec.prefixes as unknown[]).indexOf(text)}]`;
    const prefix = parsePrefix(text);
    if (typeof prefix === 'string') {
      report(ctx, at, prefix);
      continue;
    }
    const canonical = formatPrefix(prefix);
    if (prefixes.includes(canonical))
      report(ctx, at, `${JSON.stringify(text)} is the same prefix as an earlier entry (${canonical})`);
    else prefixes.push(canonical);
  }
  const peers = readStringList(ctx, spec, 'peers', 'spec');
  const { communities, largeCommunities } = readCommunities(ctx, spec);
  const localPref = readInteger(ctx, spec, 'localPref', 'spec', 0, 4294967295);
  const healthCheck = readHealthCheck(ctx, spec);
  if (ctx.problems.length !== before) return undefined;
  // Kept for as long as the configuration runs, and a config file may hold 10,000 of them: exact-size
  // copies of the lists, as an array grown by push() keeps room for 17 elements (152 bytes each).
  const route: StaticRoute = {
    name: ctx.name,
    prefixes: prefixes.slice(),
    peers: peers.slice(),
    communities: communities.slice(),
    largeCommunities: largeCommunities.slice(),
  };
  if (localPref !== undefined) route.localPref = localPref;
  if (healthCheck !== undefined) route.healthCheck = healthCheck;
  return route;
}
