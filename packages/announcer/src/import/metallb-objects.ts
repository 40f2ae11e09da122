// MetalLB's IPAddressPool, BFDProfile, Community and BGPAdvertisement to ours. Pools, profiles and
// advertisements have the same fields as ours; a Community holds aliases, which are expanded in place
// in the advertisements that use them (we have no Community kind).
import { formatPrefix, parseAddress } from '../config/address.js';
import { describe, isFields, type Fields } from '../config/check.js';
import {
  type ImportContext,
  changed,
  copyFields,
  needsUser,
  present,
  problem,
  specOf,
  unknownFields,
} from './metallb-context.js';

export const METALLB_POOL_FIELDS = ['addresses', 'autoAssign', 'avoidBuggyIPs', 'serviceAllocation'] as const;
const ALLOCATION_FIELDS = ['priority', 'namespaces', 'namespaceSelectors', 'serviceSelectors'] as const;

export const METALLB_BFD_FIELDS = [
  'receiveInterval',
  'transmitInterval',
  'detectMultiplier',
  'echoInterval',
  'echoMode',
  'passiveMode',
  'minimumTtl',
] as const;

export const METALLB_ADVERTISEMENT_FIELDS = [
  'aggregationLength',
  'aggregationLengthV6',
  'localPref',
  'communities',
  'ipAddressPools',
  'ipAddressPoolSelectors',
  'nodeSelectors',
  'peers',
  'serviceSelectors',
] as const;

export const METALLB_L2_FIELDS = [
  'ipAddressPools',
  'ipAddressPoolSelectors',
  'nodeSelectors',
  'interfaces',
  'serviceSelectors',
  'preferredNodeSelectors',
] as const;

/** Our IPAddressPool spec, or undefined (problems recorded). */
export function convertPool(ctx: ImportContext, spec: Fields): Fields | undefined {
  unknownFields(ctx, spec, METALLB_POOL_FIELDS, 'IPAddressPool');
  const out: Fields = {};
  copyFields(spec, out, ['addresses', 'autoAssign', 'avoidBuggyIPs']);
  if (Array.isArray(out.addresses)) out.addresses = out.addresses.map((a, i) => networkOf(ctx, a, i));
  const allocation = present(spec, 'serviceAllocation');
  if (allocation !== undefined) {
    if (!isFields(allocation)) {
      problem(ctx, 'spec.serviceAllocation', `must be an object, got ${describe(allocation)}`);
      return undefined;
    }
    unknownFields(ctx, allocation, ALLOCATION_FIELDS, 'IPAddressPool', 'spec.serviceAllocation');
    const copy: Fields = {};
    copyFields(allocation, copy, ALLOCATION_FIELDS);
    if (copy.priority === 0) {
      // Go's omitempty: MetalLB cannot tell 0 from unset, and a pool without a priority comes last.
      delete copy.priority;
      changed(
        ctx,
        'spec.serviceAllocation.priority',
        'left out: 0 means "no priority" in MetalLB, but is the highest priority in ours',
      );
    }
    out.serviceAllocation = copy;
  }
  return out;
}

/**
 * MetalLB reads a prefix with host bits set ("203.0.113.7/24") as its network (Go's net.ParseCIDR);
 * ours refuses it, so it is rewritten (noted). Anything else stays for our validation to judge.
 */
function networkOf(ctx: ImportContext, entry: unknown, i: number): unknown {
  if (typeof entry !== 'string' || entry.includes('-')) return entry;
  const slash = entry.indexOf('/');
  const address = slash < 0 ? undefined : parseAddress(entry.slice(0, slash).trim());
  const lengthText = entry.slice(slash + 1).trim();
  if (address === undefined || !/^\d{1,3}$/.test(lengthText)) return entry;
  const bits = address.family === 4 ? 32 : 128;
  const length = Number(lengthText);
  if (length > bits) return entry;
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  if ((address.value & hostMask) === 0n) return entry;
  const network = formatPrefix({ family: address.family, network: address.value & ~hostMask, length });
  changed(
    ctx,
    `spec.addresses[${i}]`,
    `${JSON.stringify(entry)} has host bits set: MetalLB reads it as ${network}, written so`,
  );
  return network;
}

/** Our BFDProfile spec (the same fields), echoMode true left out with a note. */
export function convertBfdProfile(ctx: ImportContext, spec: Fields): Fields {
  unknownFields(ctx, spec, METALLB_BFD_FIELDS, 'BFDProfile');
  const out: Fields = {};
  copyFields(spec, out, METALLB_BFD_FIELDS);
  if (out.echoMode === true) {
    delete out.echoMode;
    needsUser(
      ctx,
      'spec.echoMode',
      'left out: the BFD echo function is not implemented; failures are detected from control packets (transmitInterval x detectMultiplier): lower those if echo made detection faster',
    );
  }
  return out;
}

/** Community aliases by name, and the description of the Community that defines each. */
export type CommunityAliases = Map<string, { value: string; from: string }>;

/** Adds a Community's aliases to `aliases`; problems for malformed entries and clashing names. */
export function readCommunityAliases(ctx: ImportContext, object: Fields, aliases: CommunityAliases): void {
  const spec = specOf(ctx, object);
  if (spec === undefined) return;
  unknownFields(ctx, spec, ['communities'], 'Community');
  const list = present(spec, 'communities') ?? [];
  if (!Array.isArray(list)) {
    problem(ctx, 'spec.communities', `must be a list of {name, value}, got ${describe(list)}`);
    return;
  }
  list.forEach((entry, i) => {
    const at = `spec.communities[${i}]`;
    if (!isFields(entry) || typeof entry.name !== 'string' || typeof entry.value !== 'string' || entry.name === '') {
      problem(ctx, at, `must be {name, value} with two strings, got ${describe(entry)}`);
      return;
    }
    for (const key of Object.keys(entry))
      if (key !== 'name' && key !== 'value')
        problem(ctx, `${at}.${key}`, 'unknown field (known fields here: name, value)');
    const earlier = aliases.get(entry.name);
    if (earlier !== undefined && earlier.value !== entry.value) {
      problem(
        ctx,
        `${at}.name`,
        `alias ${JSON.stringify(entry.name)} is also defined by ${earlier.from} as ${JSON.stringify(earlier.value)}`,
      );
      return;
    }
    aliases.set(entry.name, { value: entry.value, from: ctx.from });
  });
}

/** Our BGPAdvertisement spec (aliases expanded, localPref 0 left out), or undefined (problems recorded). */
export function convertAdvertisement(ctx: ImportContext, spec: Fields, aliases: CommunityAliases): Fields | undefined {
  const before = ctx.problems.length;
  unknownFields(ctx, spec, METALLB_ADVERTISEMENT_FIELDS, 'BGPAdvertisement');
  const out: Fields = {};
  copyFields(
    spec,
    out,
    METALLB_ADVERTISEMENT_FIELDS.filter((f) => f !== 'communities' && f !== 'localPref' && f !== 'serviceSelectors'),
  );
  if (present(spec, 'serviceSelectors') !== undefined) {
    // Without its Service selectors it would announce every Service of its pools: left out instead.
    needsUser(
      ctx,
      'spec.serviceSelectors',
      'an advertisement for some Services only has no equivalent: not carried over; give those Services a pool of their own (serviceAllocation.serviceSelectors) and a BGPAdvertisement of that pool',
    );
    return undefined;
  }
  const localPref = spec.localPref;
  if (localPref === 0)
    changed(
      ctx,
      'spec.localPref',
      'left out: MetalLB cannot tell 0 from unset (its native speaker then sends LOCAL_PREF 0 to iBGP peers, its FRR mode 100); ours sends 100 when unset: write localPref: 0 to match native MetalLB nodes during a move',
    );
  else if (localPref !== undefined && localPref !== null) out.localPref = localPref;
  const communities = present(spec, 'communities');
  if (communities !== undefined) {
    if (!Array.isArray(communities))
      problem(ctx, 'spec.communities', `must be a list of strings, got ${describe(communities)}`);
    else out.communities = communities.map((c, i) => expandCommunity(ctx, c, i, aliases));
  }
  return ctx.problems.length === before ? out : undefined;
}

/** One communities entry: an alias becomes its value (noted); a value stays; anything else is a problem. */
function expandCommunity(ctx: ImportContext, entry: unknown, i: number, aliases: CommunityAliases): unknown {
  const at = `spec.communities[${i}]`;
  if (typeof entry !== 'string') {
    problem(ctx, at, `must be a string, got ${describe(entry)}`);
    return entry;
  }
  const alias = aliases.get(entry);
  if (alias !== undefined) {
    changed(ctx, at, `alias ${JSON.stringify(entry)} expanded to ${JSON.stringify(alias.value)} (from ${alias.from})`);
    return alias.value;
  }
  if (!entry.includes(':')) {
    const known = [...aliases.keys()];
    problem(
      ctx,
      at,
      `${JSON.stringify(entry)} is neither a community ("64496:100", "large:64496:1:2") nor an alias of a Community in the input (${known.length === 0 ? 'there is none' : `known: ${known.join(', ')}`})`,
    );
  }
  return entry;
}

/** An L2Advertisement is not carried over; its fields are only read to say which pools it covered. */
export function readL2Advertisement(ctx: ImportContext, spec: Fields): void {
  unknownFields(ctx, spec, METALLB_L2_FIELDS, 'L2Advertisement');
  for (const key of ['ipAddressPools', 'ipAddressPoolSelectors'] as const) {
    const value = present(spec, key);
    if (value !== undefined && !Array.isArray(value))
      problem(ctx, `spec.${key}`, `must be a list, got ${describe(value)}`);
  }
}
