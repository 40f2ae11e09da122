// The node-side coexistence checks of `bgp-announce check`, as pure functions from the configuration
// and the node's sockets to findings, each with its fix:
// - port179: who listens on :179, and whether that stops our passive/both peers from listening;
// - sourceCollision: a router keeps one neighbor per source address, so another speaker's session
//   to the same router from the address we would use takes our place (or we take its place).
// The Services check (another controller) is in checks-services.ts.
import { parseAddress } from '../config/address.js';
import type { BGPPeer } from '../config/types.js';
import { socketOwner, type NodeSockets, type SocketOwner } from './node-sockets.js';
import { formatEndpoint, type TcpSocket } from './proc-net.js';

export type FindingStatus = 'ok' | 'warn' | 'fail' | 'skip';

/** One result of a check. */
export interface Finding {
  check: string;
  status: FindingStatus;
  message: string;
  /** What to do about it (warn and fail). */
  fix?: string;
}

/** True when both texts are the same address (IPv6 compared by value, not spelling). */
export function sameAddress(a: string, b: string): boolean {
  const x = parseAddress(a);
  const y = parseAddress(b);
  return x !== undefined && y !== undefined && x.family === y.family && x.value === y.value;
}

/** 4 or 6 for the wildcard address of that family ("0.0.0.0", "::"), else undefined. */
function wildcardFamily(address: string): 4 | 6 | undefined {
  const a = parseAddress(address);
  return a !== undefined && a.value === 0n ? a.family : undefined;
}

/**
 * True when a listener on `held` keeps us from listening on `wanted` at the same port (undefined:
 * every address, as Node binds "::" dual-stack). Linux refuses a bind that overlaps a listener: the
 * same address, a wildcard of the same family on either side, and "::" (dual-stack unless
 * IPV6_V6ONLY, which /proc does not show) against IPv4 too.
 */
export function listenersOverlap(held: string, wanted: string | undefined): boolean {
  const heldAny = wildcardFamily(held);
  if (heldAny === 6) return true;
  if (wanted === undefined) return true;
  const wantedAny = wildcardFamily(wanted);
  const heldFamily = parseAddress(held)?.family;
  const wantedFamily = parseAddress(wanted)?.family;
  if (wantedAny === 6) return true;
  if (heldAny === 4 || wantedAny === 4) return heldFamily === wantedFamily;
  return sameAddress(held, wanted);
}

const BGP_PORT = 179;

/** Where a passive/both peer listens: listenAddress, else sourceAddress, else every address; listenPort, else 179. */
export function listenEndpoint(peer: BGPPeer): { address: string | undefined; port: number } {
  return { address: peer.listenAddress ?? peer.sourceAddress, port: peer.listenPort ?? BGP_PORT };
}

function endpointText(address: string | undefined, port: number): string {
  return address === undefined ? `every address, port ${port}` : formatEndpoint(address, port);
}

function holderText(socket: TcpSocket, owner: SocketOwner): string {
  return `${owner.text} on ${formatEndpoint(socket.localAddress, socket.localPort)}`;
}

function names(peers: readonly BGPPeer[]): string {
  return `BGPPeer ${peers.map((p) => p.name).join(', ')}`;
}

/**
 * Who listens on :179, and whether our peers that listen (connectionMode passive or both) can: one
 * finding per listen address and port of ours, or one saying there is no conflict while every peer
 * is active-only.
 */
export function checkPort179(peers: readonly BGPPeer[], node: NodeSockets): Finding[] {
  const listeners = node.sockets.filter((s) => s.state === 'LISTEN');
  const on179 = listeners.filter((s) => s.localPort === BGP_PORT).map((s) => holderText(s, socketOwner(s, node)));
  const listening = peers.filter((p) => p.connectionMode !== 'active');
  if (listening.length === 0) {
    const who = on179.length === 0 ? 'nobody listens on :179' : `${on179.join('; ')} listens on :179`;
    return [
      {
        check: 'port179',
        status: 'ok',
        message: `${who}; no conflict while active-only (our peers connect out and do not listen)`,
      },
    ];
  }
  const groups = new Map<string, { address: string | undefined; port: number; peers: BGPPeer[] }>();
  for (const peer of listening) {
    const { address, port } = listenEndpoint(peer);
    const key = `${address ?? '*'} ${port}`;
    const group = groups.get(key) ?? { address, port, peers: [] };
    group.peers.push(peer);
    groups.set(key, group);
  }
  return [...groups.values()].map((g) => listenFinding(g, listeners, node));
}

function listenFinding(
  group: { address: string | undefined; port: number; peers: BGPPeer[] },
  listeners: readonly TcpSocket[],
  node: NodeSockets,
): Finding {
  const where = endpointText(group.address, group.port);
  const holders = listeners
    .filter((s) => s.localPort === group.port && listenersOverlap(s.localAddress, group.address))
    .map((s) => ({ socket: s, owner: socketOwner(s, node) }));
  const others = holders.filter((h) => h.owner.kind === 'other');
  const unknown = holders.filter((h) => h.owner.kind === 'unknown');
  const ours = holders.filter((h) => h.owner.kind === 'ours');
  const subject = `${names(group.peers)} listen${group.peers.length === 1 ? 's' : ''} on ${where} (connectionMode ${group.peers.map((p) => p.connectionMode).join('/')})`;
  const fix =
    `set connectionMode: active on ${names(group.peers)} (we connect out and need no listener; the router must accept the connection), ` +
    `or give ${group.peers.length === 1 ? 'it' : 'them'} a listenAddress or listenPort nobody holds and point the router there, ` +
    `or stop the other speaker from listening on port ${group.port}`;
  if (others.length > 0) {
    const list = [...others, ...unknown].map((h) => holderText(h.socket, h.owner)).join('; ');
    return {
      check: 'port179',
      status: 'fail',
      message: `${subject}, but ${list} already holds it: our listener cannot bind (address in use) and the router's connections reach the other speaker`,
      fix,
    };
  }
  if (unknown.length > 0) {
    const list = unknown.map((h) => holderText(h.socket, h.owner)).join('; ');
    return {
      check: 'port179',
      status: 'warn',
      message: `${subject}, and ${list} holds it: unless that is bgp-announce's own daemon, our listener cannot bind`,
      fix: `run the check as root to name the process; if it is another speaker: ${fix}`,
    };
  }
  if (ours.length > 0) {
    return {
      check: 'port179',
      status: 'ok',
      message: `${subject}: held by our own daemon, ${ours.map((h) => holderText(h.socket, h.owner)).join('; ')}`,
    };
  }
  return { check: 'port179', status: 'ok', message: `${subject}: free, nobody else listens there` };
}

/** TCP states of a session (or an attempt at one) that occupies the router's neighbor entry. */
const SESSION_STATES = new Set<TcpSocket['state']>(['ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'NEW_SYN_RECV']);

/** Options of the source collision check. */
export interface SourceCollisionOptions {
  /**
   * The source address the kernel picks toward each router (peerAddress -> address), for peers with
   * no sourceAddress. Absent for a router: unknown, any other speaker's session may collide.
   */
  kernelSource?: ReadonlyMap<string, string>;
}

/**
 * For each peer: the TCP sessions to the same router (ours to peerAddress:peerPort, or the router's
 * to a listener on :179) held by another process. A router sees one neighbor per source address, so
 * another speaker's session from the source address we use (sourceAddress, else the kernel's choice)
 * fails the check.
 */
export function checkSourceCollision(
  peers: readonly BGPPeer[],
  node: NodeSockets,
  options: SourceCollisionOptions = {},
): Finding[] {
  return peers.map((peer) => {
    const router = peer.peerAddress;
    const sessions = node.sockets.filter(
      (s) =>
        SESSION_STATES.has(s.state) &&
        sameAddress(s.remoteAddress, router) &&
        (s.remotePort === peer.peerPort || s.localPort === BGP_PORT || s.localPort === peer.listenPort),
    );
    const kernel = [...(options.kernelSource ?? new Map<string, string>())].find(([peerAddress]) =>
      sameAddress(peerAddress, router),
    )?.[1];
    const source = peer.sourceAddress ?? kernel;
    const sourceText =
      peer.sourceAddress !== undefined
        ? `our sourceAddress ${source}`
        : source !== undefined
          ? `${source} (the kernel's source toward it; no sourceAddress is set)`
          : "the kernel's source toward it (no sourceAddress is set)";
    const owned = sessions
      .map((s) => ({ socket: s, owner: socketOwner(s, node) }))
      .filter((h) => h.owner.kind !== 'ours');
    const colliding = owned.filter((h) => source === undefined || sameAddress(h.socket.localAddress, source));
    const subject = `BGPPeer ${peer.name}: router ${router} sees one neighbor per source address`;
    const fix =
      `give each speaker its own source address: set spec.sourceAddress of BGPPeer ${peer.name} to another address of this node (add a second address to the interface) and configure it as a neighbor on the router, ` +
      `or peer with ${router} from one speaker only`;
    const sessionsText = (list: typeof owned) =>
      list.map((h) => `${h.owner.text} already has a session from ${h.socket.localAddress}`).join('; ');
    const known = colliding.filter((h) => h.owner.kind === 'other');
    if (known.length > 0) {
      return {
        check: 'sourceCollision',
        status: 'fail',
        message: `${subject}: ${sessionsText(colliding)}, and we would connect from ${sourceText}`,
        fix,
      };
    }
    if (colliding.length > 0) {
      return {
        check: 'sourceCollision',
        status: 'warn',
        message: `${subject}: ${sessionsText(colliding)}, and we would connect from ${sourceText}; unless that is bgp-announce's own daemon, the two collide`,
        fix: `run the check as root to name the process; if it is another speaker: ${fix}`,
      };
    }
    if (owned.length > 0) {
      return {
        check: 'sourceCollision',
        status: 'ok',
        message: `BGPPeer ${peer.name}: ${owned.map((h) => `${h.owner.text} peers with ${router} from ${h.socket.localAddress}`).join('; ')}; we use ${source}: a different neighbor`,
      };
    }
    return {
      check: 'sourceCollision',
      status: 'ok',
      message: `BGPPeer ${peer.name}: no other speaker has a session with ${formatEndpoint(router, peer.peerPort)}`,
    };
  });
}

/** The exit status for findings: 1 when any check failed, else 0. */
export function findingsExitStatus(findings: readonly Finding[]): 0 | 1 {
  return findings.some((f) => f.status === 'fail') ? 1 : 0;
}
