// BGPNodeState (bgp-announce.io/v1alpha1): what one node's daemon does, in one object per node named
// after the node, owned by the Node (garbage-collected with it) and written only by that node's daemon
// (node-state-writer.ts). This file is the object's shape and the pure function that builds its status
// from the node's announce plan and its Speaker's sessions. The status holds no fast-moving values
// (no uptime, no message counters): times are "since when", counts of prefixes change only with the
// routes, and a session that keeps failing the same way keeps the same entry.
import type { PeerStatus } from '@bgp-announce/bgp-speaker';
import type { AnnouncePlan } from '../plan/announce-plan.js';
import { API_GROUP_VERSION } from '../config/types.js';

export const NODE_STATE_KIND = 'BGPNodeState';
export const NODE_STATE_PLURAL = 'bgpnodestates';

/** Services listed at most (announced and not announced together); the rest are only counted. */
export const MAX_LISTED_SERVICES = 1000;
/** Bytes (JSON) the two Service lists may take together, whatever the names, addresses and reasons. */
export const MAX_LISTED_BYTES = 256 * 1024;
/** Longest reason or down reason kept (longer ones are cut, with "..."). */
export const MAX_REASON_LENGTH = 512;
/** Sessions listed at most (the CRD's maxItems; sessionsTotal counts them all), and peers per Service. */
export const MAX_SESSIONS = 256;
/** Addresses listed per Service at most (the CRD's maxItems). */
export const MAX_ADDRESSES = 16;

/** One BGP session of the node. */
export interface NodeSessionState {
  /** The BGPPeer's name. */
  peer: string;
  peerAddress: string;
  peerASN: number;
  /** Established, or Down (the FSM's finer states, which change at every connection attempt, are in `bgp-announce status`). */
  state: 'Established' | 'Down';
  /** While Established: since when (RFC 3339). */
  establishedSince?: string;
  /** Why the session (or the attempts at one) last ended; `at`: when it first ended so (repeats keep the time). */
  lastDown?: { at: string; reason: string };
  /** Routes in the Adj-RIB-Out (sent) and the Adj-RIB-In (received). */
  prefixesSent: number;
  prefixesReceived: number;
  /** The peer's BFD session state, when the peer uses BFD. */
  bfd?: 'AdminDown' | 'Down' | 'Init' | 'Up';
}

/** A Service this node announces: its addresses, and the peers (with an Established session) it goes to. */
export interface AnnouncedService {
  /** "namespace/name" */
  service: string;
  addresses: string[];
  peers: string[];
}

/** A Service this node does not announce, and why. */
export interface NotAnnouncedService {
  service: string;
  addresses: string[];
  reason: string;
}

/** BGPNodeState status. */
export interface NodeStateStatus {
  sessionsEstablished: number;
  sessionsTotal: number;
  /** Counts of every Service of our class this node planned, listed or not. */
  servicesAnnounced: number;
  servicesNotAnnounced: number;
  sessions: NodeSessionState[];
  /** Sorted by service; at most MAX_LISTED_SERVICES entries with notAnnounced, MAX_LISTED_BYTES. */
  announced: AnnouncedService[];
  notAnnounced: NotAnnouncedService[];
  /** Services counted above but left out of the two lists by the cap. */
  unlisted: number;
}

/** A BGPNodeState object as the API holds it. */
export interface BGPNodeState {
  apiVersion?: string;
  kind?: string;
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string | Date;
    ownerReferences?: {
      apiVersion: string;
      kind: string;
      name: string;
      uid: string;
      controller?: boolean;
      blockOwnerDeletion?: boolean;
    }[];
    labels?: Record<string, string>;
  };
  status?: NodeStateStatus;
}

/** What the status is built from. */
export interface NodeStateInput {
  nodeName: string;
  /** The plan last applied (undefined before the first: no Services then). */
  plan: Pick<AnnouncePlan, 'services'> | undefined;
  /** The Speaker's peers. */
  peers: readonly PeerStatus[];
  /** The status written before, so a repeated down reason keeps its time. */
  previous?: NodeStateStatus | undefined;
  maxListed?: number;
  maxBytes?: number;
}

const iso = (ms: number): string => new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');

function cut(text: string): string {
  return text.length > MAX_REASON_LENGTH ? `${text.slice(0, MAX_REASON_LENGTH - 3)}...` : text;
}

/** A reason without this node's name in it, so that nodes giving the same reason give the same text. */
export function nodeFreeReason(reason: string, nodeName: string): string {
  return reason.split(`node ${nodeName} `).join('the node ');
}

function sessionOf(p: PeerStatus, previous: NodeSessionState | undefined): NodeSessionState {
  const established = p.state === 'Established';
  const s: NodeSessionState = {
    peer: p.id,
    peerAddress: p.peerAddress,
    peerASN: p.peerAs,
    state: established ? 'Established' : 'Down',
    prefixesSent: p.advertised,
    prefixesReceived: p.received,
  };
  if (established && p.establishedAt !== undefined) s.establishedSince = iso(p.establishedAt);
  if (p.lastDown !== undefined) {
    // A protocol failure says so (it backs off up to the peer's maxIdleHoldTime); the pause itself is
    // left out, so repeats of the same failure keep the same text and cost no write.
    const reason = cut(
      p.lastDown.failure === 'protocol' ? `${p.lastDown.message} (protocol error: backing off)` : p.lastDown.message,
    );
    s.lastDown = { at: previous?.lastDown?.reason === reason ? previous.lastDown.at : iso(p.lastDown.at), reason };
  }
  if (p.bfd !== undefined) s.bfd = p.bfd.state;
  return s;
}

/**
 * The status of this node's BGPNodeState. A Service counts as announced when the plan announces it
 * and at least one of its peers has an Established session; its peers are those. Services without an
 * address are left out. Deterministic: sessions sorted by peer, Services by key.
 */
export function buildNodeStatus(input: NodeStateInput): NodeStateStatus {
  const before = new Map((input.previous?.sessions ?? []).map((s) => [s.peer, s]));
  const all = [...input.peers]
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((p) => sessionOf(p, before.get(p.id)));
  const up = new Set(all.filter((s) => s.state === 'Established').map((s) => s.peer));
  const sessions = all.slice(0, MAX_SESSIONS);
  const announced: AnnouncedService[] = [];
  const notAnnounced: NotAnnouncedService[] = [];
  for (const sp of input.plan?.services ?? []) {
    // A Service without an address has nothing to announce: its IPAllocated condition says why, and
    // listing it here would cost every node a write when a Service is created, before its address.
    if (sp.ips.length === 0) continue;
    if (sp.announced) {
      const peers = sp.peers.filter((p) => up.has(p));
      if (peers.length > 0) {
        announced.push({
          service: sp.key,
          addresses: sp.ips.slice(0, MAX_ADDRESSES),
          peers: peers.slice(0, MAX_SESSIONS),
        });
        continue;
      }
      notAnnounced.push({
        service: sp.key,
        addresses: sp.ips.slice(0, MAX_ADDRESSES),
        reason: cut(`no Established BGP session to its peers (${sp.peers.join(', ')})`),
      });
      continue;
    }
    notAnnounced.push({
      service: sp.key,
      addresses: sp.ips.slice(0, MAX_ADDRESSES),
      reason: cut(nodeFreeReason(sp.reason ?? 'unknown', input.nodeName)),
    });
  }
  const listed = capLists(
    announced,
    notAnnounced,
    input.maxListed ?? MAX_LISTED_SERVICES,
    input.maxBytes ?? MAX_LISTED_BYTES,
  );
  return {
    sessionsEstablished: up.size,
    sessionsTotal: all.length,
    servicesAnnounced: announced.length,
    servicesNotAnnounced: notAnnounced.length,
    sessions,
    announced: listed.announced,
    notAnnounced: listed.notAnnounced,
    unlisted: announced.length + notAnnounced.length - listed.announced.length - listed.notAnnounced.length,
  };
}

/**
 * The lists cut to `maxEntries` and `maxBytes` together, in key order across both (so that every node
 * lists the same Services first, and the leader's per-Service view stays whole for those).
 */
function capLists(
  announced: AnnouncedService[],
  notAnnounced: NotAnnouncedService[],
  maxEntries: number,
  maxBytes: number,
): Pick<NodeStateStatus, 'announced' | 'notAnnounced'> {
  if (
    announced.length + notAnnounced.length <= maxEntries &&
    JSON.stringify(announced).length + JSON.stringify(notAnnounced).length <= maxBytes
  )
    return { announced, notAnnounced };
  const a: AnnouncedService[] = [];
  const n: NotAnnouncedService[] = [];
  let bytes = 4;
  let i = 0;
  let j = 0;
  while (a.length + n.length < maxEntries && (i < announced.length || j < notAnnounced.length)) {
    const takeA =
      j >= notAnnounced.length || (i < announced.length && announced[i]!.service < notAnnounced[j]!.service);
    const entry = takeA ? announced[i]! : notAnnounced[j]!;
    bytes += JSON.stringify(entry).length + 1;
    if (bytes > maxBytes) break;
    if (takeA) {
      a.push(announced[i++]!);
    } else {
      n.push(notAnnounced[j++]!);
    }
  }
  return { announced: a, notAnnounced: n };
}

/** The BGPNodeState object of a node: in `namespace`, named after the node, owned by it. */
export function nodeStateObject(
  namespace: string,
  node: { name: string; uid: string },
  status?: NodeStateStatus,
): BGPNodeState {
  const object: BGPNodeState = {
    apiVersion: API_GROUP_VERSION,
    kind: NODE_STATE_KIND,
    metadata: {
      name: node.name,
      namespace,
      labels: { 'app.kubernetes.io/managed-by': 'bgp-announce' },
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid }],
    },
  };
  if (status !== undefined) object.status = status;
  return object;
}

/** Two statuses say the same (key order aside: both come from buildNodeStatus or the API's JSON). */
export function sameStatus(a: NodeStateStatus | undefined, b: NodeStateStatus | undefined): boolean {
  return canonicalJson(a) === canonicalJson(b);
}

/** JSON with object keys sorted (objects read back from the API may order keys otherwise). */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return v;
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)),
    );
  });
}
