// What every kind of lab router has in common, apart from starting one (router.ts): the Router
// interface and what it answers (sessions, paths, the ECMP next hops of a prefix), and the helpers
// the kinds share (kernel next hops, address order, BFD state names). The router-*.ts modules and
// the lab's snapshot import this; router.ts imports them, never the other way round.
import type { LabPlan, PeerKind } from './plan.js';
import type { LabProcess } from './process.js';
import { ip } from './run.js';

/** One node's session as the router sees it. */
export interface RouterSession {
  node: string;
  address: string;
  /** The router's own word for the state (Established, Active, Idle, ...). */
  state: string;
  established: boolean;
  /** With --bfd: the router's BFD session state with the node (Up, Down, Init, AdminDown, or Unknown). */
  bfd?: string;
}

/** One BGP path of a prefix at the router. */
export interface RouterPath {
  nextHop: string;
  asPath: string;
  /** The router's best path. */
  best: boolean;
  /** Part of the ECMP set (best included), as far as the router says. */
  multipath: boolean;
}

/** The router's view of one prefix. */
export interface RouterRoute {
  prefix: string;
  /** Where traffic to the prefix goes, sorted: the kernel route's next hops (FRR, BIRD) or gobgpd's multipath set. */
  nextHops: string[];
  paths: RouterPath[];
  /** Where nextHops come from, in words. */
  nextHopsFrom: string;
  /** The kernel route's weight of each next hop (FRR), by address; absent where the router has none. */
  weights?: Record<string, number>;
}

/** A running router. */
export interface Router {
  kind: PeerKind;
  /** What runs, e.g. "gobgpd", "FRR (zebra, bgpd)". */
  software: string;
  sessions(): Promise<RouterSession[]>;
  /** Every prefix in the router's BGP table. */
  prefixes(): Promise<string[]>;
  route(prefix: string): Promise<RouterRoute>;
  /** Commands a person can run to look inside. */
  inspect: string[];
  processes: LabProcess[];
  /** The last lines of each daemon's log. */
  logs(): string;
  stop(): Promise<void>;
}

/** What a router needs to start. */
export interface RouterSetup {
  plan: LabPlan;
  /** The run's work directory (configs, logs, sockets). */
  workDir: string;
}

/**
 * The next hops of `ip route show <prefix>` output, sorted. One path: "<dst> nhid N via A dev D proto
 * bgp ..."; several: "<dst> nhid N proto bgp ...", then one "nexthop via A dev D weight 1" line each.
 */
export function parseKernelNextHops(text: string): string[] {
  return [...text.matchAll(/\bvia (?:inet6 )?([0-9a-fA-F.:]+)/g)].map((m) => m[1]!).sort(compareAddresses);
}

/**
 * The weight of each next hop in `ip route show <prefix>` output, by address: "nexthop via A dev D
 * weight W" lines, or weight 1 for a route with a single next hop.
 */
export function parseKernelWeights(text: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/\bvia (?:inet6 )?([0-9a-fA-F.:]+)(?: dev \S+)?(?: weight (\d+))?/g))
    out[m[1]!] = m[2] === undefined ? 1 : Number(m[2]);
  return out;
}

/** The kernel route's next hops to `prefix` inside `namespace`, with their weights. */
export async function kernelRoute(
  namespace: string,
  prefix: string,
): Promise<{ nextHops: string[]; weights: Record<string, number> }> {
  const text = await ip(prefix.includes(':') ? '-6' : '-4', '-n', namespace, 'route', 'show', prefix);
  return { nextHops: parseKernelNextHops(text), weights: parseKernelWeights(text) };
}

/** The kernel route's next hops to `prefix` inside `namespace`. */
export async function kernelNextHops(namespace: string, prefix: string): Promise<string[]> {
  return parseKernelNextHops(await ip(prefix.includes(':') ? '-6' : '-4', '-n', namespace, 'route', 'show', prefix));
}

/** Orders IPv4 addresses numerically (others as text). */
export function compareAddresses(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && pa.every(Number.isInteger) && pb.every(Number.isInteger)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i]! - pb[i]!;
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

/** "up" -> "Up", "admin_down" -> "AdminDown": BFD states as RFC 5880 names them. */
export function bfdStateName(text: string): string {
  return text
    .split(/[_\s-]+/)
    .filter((w) => w !== '')
    .map((w) => w[0]!.toUpperCase() + w.slice(1).toLowerCase())
    .join('');
}

/** Sessions with each node's BFD state added from `states` (address -> state; Unknown when missing). */
export function withBfd(sessions: RouterSession[], states: ReadonlyMap<string, string>): RouterSession[] {
  return sessions.map((s) => ({ ...s, bfd: states.get(s.address) ?? 'Unknown' }));
}
