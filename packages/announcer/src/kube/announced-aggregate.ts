// The leader's view of who announces what: every node's BGPNodeState indexed by Service, and the one
// aggregate condition per Service computed from it ("announced by 3 nodes to 2 peers", or False with
// the commonest reason and how many nodes give it). Pure: the allocation controller feeds the index
// from its watch of the BGPNodeStates and writes the condition with the Service's other status.
import { canonicalIP } from '../allocation/allocator-ip.js';
import type { Service } from '../service/model.js';
import type { Condition } from './service-status.js';
import type { NodeStateStatus } from './node-state.js';

/** The aggregate condition's type on the Service. */
export const ANNOUNCED_CONDITION = 'bgp-announce.io/Announced';
/** Earlier versions wrote one condition per node, "announced.bgp-announce.io/<node>"; the leader removes them. */
export const LEGACY_NODE_CONDITION_PREFIX = 'announced.bgp-announce.io/';
/** Node and peer names are spelt out in the message up to this many. */
export const NAMES_IN_MESSAGE = 5;

type Entry =
  | { announced: true; addresses: string; peers: readonly string[] }
  | { announced: false; addresses: string; reason: string };

interface IndexedNode {
  entries: Map<string, Entry>;
  /** Every Service of the node is listed (none cut by the size cap). */
  complete: boolean;
}

/** Addresses as one comparable text: canonical, sorted. */
function addressKey(addresses: readonly string[]): string {
  return addresses
    .map((a) => canonicalIP(a) ?? a)
    .sort()
    .join(',');
}

function entriesOf(status: NodeStateStatus | undefined): Map<string, Entry> {
  const out = new Map<string, Entry>();
  for (const a of status?.announced ?? [])
    out.set(a.service, { announced: true, addresses: addressKey(a.addresses ?? []), peers: a.peers ?? [] });
  for (const n of status?.notAnnounced ?? [])
    out.set(n.service, { announced: false, addresses: addressKey(n.addresses ?? []), reason: n.reason ?? 'unknown' });
  return out;
}

function sameEntry(a: Entry | undefined, b: Entry | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  if (a.announced !== b.announced || a.addresses !== b.addresses) return false;
  if (a.announced && b.announced) return a.peers.join(',') === b.peers.join(',');
  return !a.announced && !b.announced && a.reason === b.reason;
}

/** What one set() or delete() changed: the Services whose entries differ, or all of them. */
export interface IndexChange {
  services: Set<string>;
  /** A node's lists became cut or whole: every Service's aggregate may change. */
  all: boolean;
}

/** Every node's entries, by node. */
export class NodeStateIndex {
  private readonly nodes = new Map<string, IndexedNode>();

  /** Records a node's status (undefined: the object has none yet). */
  set(node: string, status: NodeStateStatus | undefined): IndexChange {
    const before = this.nodes.get(node);
    const after: IndexedNode = { entries: entriesOf(status), complete: (status?.unlisted ?? 0) === 0 };
    this.nodes.set(node, after);
    return diff(before, after);
  }

  /** The node's BGPNodeState is gone (the Node was deleted: garbage collection). */
  delete(node: string): IndexChange {
    const before = this.nodes.get(node);
    this.nodes.delete(node);
    return diff(before, undefined);
  }

  /** Nodes known. */
  size(): number {
    return this.nodes.size;
  }

  clear(): void {
    this.nodes.clear();
  }

  /**
   * The aggregate condition of Service `key` whose status shows `addresses`; undefined when there is
   * nothing to say: no address (IPAllocated says why), or no node reports on these addresses yet (a
   * node's report about other addresses is stale: it has not seen the new ones yet).
   */
  aggregate(key: string, addresses: readonly string[]): Condition | undefined {
    return this.summarize(key, addresses)?.condition;
  }

  /** How many nodes report announcing Service `key` with exactly `addresses` (what the status shows). */
  announcing(key: string, addresses: readonly string[]): number {
    const want = addressKey(addresses);
    let n = 0;
    for (const indexed of this.nodes.values()) {
      const entry = indexed.entries.get(key);
      if (entry?.announced && entry.addresses === want) n++;
    }
    return n;
  }

  /**
   * True when every node reporting on Service `key` (with `addresses`) withdraws it for `reason` alone
   * (and at least one reports): not announced on purpose, as a Cluster Service with no serving endpoint.
   */
  withdrawnFor(key: string, addresses: readonly string[], reason: string): boolean {
    const want = addressKey(addresses);
    let reporting = 0;
    for (const indexed of this.nodes.values()) {
      const entry = indexed.entries.get(key);
      if (entry === undefined || entry.addresses !== want) continue;
      if (entry.announced || entry.reason !== reason) return false;
      reporting++;
    }
    return reporting > 0;
  }

  /**
   * aggregate(), and whether its message gives counts only (more than NAMES_IN_MESSAGE nodes announce
   * it, or, not announced, report on it): the leader puts off changes of such counts.
   */
  summarize(key: string, addresses: readonly string[]): { condition: Condition; countsOnly: boolean } | undefined {
    if (addresses.length === 0) return undefined;
    const want = addressKey(addresses);
    const announcing: string[] = [];
    const peers = new Set<string>();
    const reasons = new Map<string, number>();
    let reporting = 0;
    let unlisted = 0;
    for (const [node, indexed] of this.nodes) {
      const entry = indexed.entries.get(key);
      if (entry === undefined) {
        if (!indexed.complete) unlisted++;
        continue;
      }
      if (entry.addresses !== want) continue;
      reporting++;
      if (entry.announced) {
        announcing.push(node);
        for (const p of entry.peers) peers.add(p);
      } else {
        reasons.set(entry.reason, (reasons.get(entry.reason) ?? 0) + 1);
      }
    }
    const cut = unlisted === 0 ? '' : `; ${count(unlisted, 'node')} list too many Services to include it`;
    if (announcing.length > 0) {
      announcing.sort();
      const message = `announced by ${named(announcing, 'node')} to ${named([...peers].sort(), 'peer')}${cut}`;
      return {
        condition: { type: ANNOUNCED_CONDITION, status: 'True', reason: 'Announced', message },
        countsOnly: announcing.length > NAMES_IN_MESSAGE,
      };
    }
    if (reporting === 0) return undefined;
    const ranked = [...reasons].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
    const [top, n] = ranked[0]!;
    const others = ranked.length > 1 ? `; ${count(ranked.length - 1, 'other reason')}` : '';
    const message = `announced by no node: ${top} (${n} of ${count(reporting, 'node')}${others})${cut}`;
    return {
      condition: { type: ANNOUNCED_CONDITION, status: 'False', reason: 'NotAnnounced', message },
      countsOnly: reporting > NAMES_IN_MESSAGE,
    };
  }
}

function count(n: number, what: string): string {
  return `${n} ${what}${n === 1 ? '' : 's'}`;
}

/** "3 nodes (a, b, c)", or "12 nodes" beyond NAMES_IN_MESSAGE. */
function named(names: readonly string[], what: string): string {
  return names.length <= NAMES_IN_MESSAGE
    ? `${count(names.length, what)} (${names.join(', ')})`
    : count(names.length, what);
}

function diff(before: IndexedNode | undefined, after: IndexedNode | undefined): IndexChange {
  const services = new Set<string>();
  const b = before?.entries ?? new Map<string, Entry>();
  const a = after?.entries ?? new Map<string, Entry>();
  for (const [key, entry] of b) if (!sameEntry(entry, a.get(key))) services.add(key);
  for (const [key, entry] of a) if (!b.has(key) && entry !== undefined) services.add(key);
  const all = (before?.complete ?? true) !== (after?.complete ?? true);
  return { services, all };
}

/** True when the two conditions differ only in their message (same status and reason). */
export function messageOnlyChange(
  before: { status: string; reason?: string; message?: string } | undefined,
  after: Condition,
): boolean {
  return (
    before !== undefined &&
    before.status === after.status &&
    before.reason === after.reason &&
    before.message !== after.message
  );
}

/** Removes the per-node conditions of earlier versions; false when there were none. */
export function removeLegacyConditions(svc: Service): boolean {
  const conditions = svc.status?.conditions ?? [];
  if (!conditions.some((c) => c.type.startsWith(LEGACY_NODE_CONDITION_PREFIX))) return false;
  svc.status = {
    ...svc.status,
    conditions: conditions.filter((c) => !c.type.startsWith(LEGACY_NODE_CONDITION_PREFIX)),
  };
  return true;
}
