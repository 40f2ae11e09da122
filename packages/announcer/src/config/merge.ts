// A local configuration (a file on the node: `daemon --local-config`) merged with the cluster's: the
// union of both, kind by kind. The local objects win: one of the cluster's with the same kind and name
// is left out, and so is a cluster BGPPeer to an address a local one already peers with (a router keeps
// one neighbor per source address: two sessions would replace each other). Each such case is a warning.
import type { AnnouncerConfig, ConfigKind } from './types.js';

const LISTS: readonly [ConfigKind, keyof AnnouncerConfig][] = [
  ['IPAddressPool', 'pools'],
  ['BGPPeer', 'peers'],
  ['BGPAdvertisement', 'advertisements'],
  ['BFDProfile', 'bfdProfiles'],
  ['StaticRoute', 'staticRoutes'],
];

/** The merged configuration and what was left out of the cluster's, in words. */
export function mergeLocalConfig(
  local: AnnouncerConfig,
  cluster: AnnouncerConfig | undefined,
): { config: AnnouncerConfig; warnings: string[] } {
  if (cluster === undefined) return { config: local, warnings: [] };
  const warnings: string[] = [];
  const out = {} as Record<keyof AnnouncerConfig, { name: string }[]>;
  for (const [kind, key] of LISTS) {
    const mine = local[key] as { name: string }[];
    const names = new Set(mine.map((o) => o.name));
    const theirs = (cluster[key] as { name: string }[]).filter((o) => {
      if (!names.has(o.name)) return true;
      warnings.push(`${kind} ${o.name} is in the local configuration and in the cluster: the local one is used`);
      return false;
    });
    out[key] = [...mine, ...theirs];
  }
  const localAddresses = new Map(local.peers.map((p) => [p.peerAddress, p.name]));
  out.peers = (out.peers as AnnouncerConfig['peers']).filter((p) => {
    const owner = localAddresses.get(p.peerAddress);
    if (owner === undefined || owner === p.name) return true;
    warnings.push(
      `BGPPeer ${p.name} of the cluster peers with ${p.peerAddress}, as the local BGPPeer ${owner} does: the local one is used (one session per router address)`,
    );
    return false;
  });
  return { config: out as unknown as AnnouncerConfig, warnings };
}
