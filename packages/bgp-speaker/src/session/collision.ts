// Connection collision resolution (RFC 4271 6.8, with RFC 6286 2.3 for equal BGP identifiers).
// When both ends connect at once there are two connections to one peer; once the peer's BGP
// identifier is known (its OPEN arrived on one of them), exactly one must be closed with
// Cease/Connection Collision Resolution (the FSM of that connection gets OpenCollisionDump).
import { parseIp } from '@bgp-announce/bgp-wire';
import type { FsmStateName } from './fsm.js';

/** Who opened a connection: we (outbound) or the peer (inbound). */
export type ConnectionDirection = 'outbound' | 'inbound';

function idValue(bgpId: string): number {
  const bytes = parseIp(bgpId);
  if (bytes?.length !== 4)
    throw new TypeError(`BGP identifier must be dotted-quad IPv4 text, got ${JSON.stringify(bgpId)}`);
  return ((bytes[0]! << 24) >>> 0) + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!;
}

/**
 * Which of the two connections to close. RFC 4271 6.8: compare the identifiers as 4-octet unsigned
 * integers; if ours is lower, close the connection we opened, else close the one the peer opened.
 * RFC 6286 2.3, equal identifiers (eBGP): the connection opened by the speaker with the larger AS
 * survives. Equal identifiers and AS (not a valid session) close the inbound one.
 */
export function resolveCollision(input: { localBgpId: string; peerBgpId: string; localAs: number; peerAs: number }): {
  close: ConnectionDirection;
  keep: ConnectionDirection;
} {
  const local = idValue(input.localBgpId);
  const peer = idValue(input.peerBgpId);
  let close: ConnectionDirection;
  if (local !== peer) close = local < peer ? 'outbound' : 'inbound';
  else close = input.localAs < input.peerAs ? 'outbound' : 'inbound';
  return { close, keep: close === 'outbound' ? 'inbound' : 'outbound' };
}

/**
 * An OPEN arrived on connection `openOn` while the other connection to the same peer is in
 * `other.state`. Says which connection (if any) to close: none while the other has not exchanged
 * OPENs (Idle, Connect, Active: the edge may simply drop that attempt); resolution by identifiers
 * when it is in OpenSent or OpenConfirm; when it is Established, the new connection, unless
 * `collisionDetectEstablished` (RFC 4271 8.1.1 CollisionDetectEstablishedState) asks to resolve.
 */
export function detectCollision(input: {
  openOn: ConnectionDirection;
  other: { state: FsmStateName };
  localBgpId: string;
  peerBgpId: string;
  localAs: number;
  peerAs: number;
  collisionDetectEstablished?: boolean;
}): { close: ConnectionDirection | undefined } {
  switch (input.other.state) {
    case 'Idle':
    case 'Connect':
    case 'Active':
      return { close: undefined };
    case 'Established':
      if (!input.collisionDetectEstablished) return { close: input.openOn };
      return { close: resolveCollision(input).close };
    case 'OpenSent':
    case 'OpenConfirm':
      return { close: resolveCollision(input).close };
  }
}
