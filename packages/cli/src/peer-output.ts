// `bgp-announce peer` output: what happened on the session as plain event objects, printed as one
// JSON object per line (--json) or as a readable line; and the sentence that says why a session could
// not be established. Pure: peer-run.ts feeds it the Speaker's events and writes the lines.
import {
  familyOf,
  isTreatAsWithdraw,
  type Family,
  type NotificationMessage,
  type UpdateMessage,
} from '@bgp-announce/bgp-wire';
import type {
  AdvertisedRoute,
  DownReason,
  FsmStateName,
  NegotiatedSession,
  PrintableRoute,
} from '@bgp-announce/bgp-speaker';
import {
  capabilityNames,
  notificationSummary,
  printableAdvertised,
  printableReceived,
} from '@bgp-announce/bgp-speaker';
import type { BfdState } from '@bgp-announce/bfd';

/** One line of output. `time` is ms since the epoch. */
export type PeerEvent = { time: number; peer: string } & (
  | { type: 'state'; from: FsmStateName; to: FsmStateName }
  | { type: 'listening'; address: string; port: number }
  | {
      type: 'established';
      peerAs: number;
      peerBgpId: string;
      holdTime: number;
      families: Family[];
      capabilities: string[];
    }
  /** A route in the Speaker's printable form (family, prefix, path id, next hops, attributes). */
  | ({ type: 'advertised' } & PrintableRoute)
  | ({ type: 'received' } & PrintableRoute)
  | { type: 'withdrawn'; family: Family; prefix: string; pathId?: number; treatAsWithdraw?: boolean }
  | { type: 'end-of-rib'; family: Family }
  | { type: 'down'; reason: string; notification?: string }
  /** A BFD state change (diag by its RFC 5880 name); outcome: what it did to the BGP session (RFC 5882). */
  | { type: 'bfd'; from: BfdState; to: BfdState; diag: string; outcome?: 'torn-down' | 'resumed' }
  | { type: 'warning'; message: string }
  | { type: 'stopped'; status: number; reason: string }
);

/** "NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS", with the RFC 9003 shutdown message if any. */
export function notificationText(n: NotificationMessage): string {
  return `NOTIFICATION ${notificationSummary(n)}`;
}

/** What the two OPENs agreed, as an event. */
export function establishedEvent(time: number, peer: string, n: NegotiatedSession): PeerEvent {
  return {
    time,
    peer,
    type: 'established',
    peerAs: n.peerAs,
    peerBgpId: n.peerBgpId,
    holdTime: n.holdTime,
    families: [...n.families],
    capabilities: capabilityNames(n),
  };
}

/** One route we advertised (from the Speaker's Adj-RIB-Out), as an event. */
export function advertisedEvent(time: number, peer: string, route: AdvertisedRoute): PeerEvent {
  return { time, peer, type: 'advertised', ...printableAdvertised(route) };
}

/**
 * The events of one received UPDATE: its withdrawals, then its announcements (as withdrawals when
 * RFC 7606 says treat-as-withdraw), or its End-of-RIB. Families other than IPv4/IPv6 unicast are left out.
 * `asLoop`: the Adj-RIB-In found our AS in the UPDATE's AS path (RibInResult.asLoop): its routes are
 * marked as not eligible (RFC 4271 9.1.2).
 */
export function updateEvents(time: number, peer: string, update: UpdateMessage, asLoop = false): PeerEvent[] {
  const out: PeerEvent[] = [];
  if (update.endOfRib !== undefined) {
    const family = familyOf(update.endOfRib.afi, update.endOfRib.safi);
    if (family !== undefined) out.push({ time, peer, type: 'end-of-rib', family });
    return out;
  }
  const attrs = update.attributes;
  const withdrawn = (family: Family, prefix: string, pathId: number | undefined, treatAsWithdraw = false): void => {
    const e: PeerEvent = { time, peer, type: 'withdrawn', family, prefix };
    if (pathId !== undefined) e.pathId = pathId;
    if (treatAsWithdraw) e.treatAsWithdraw = true;
    out.push(e);
  };
  for (const n of update.withdrawn) withdrawn('ipv4-unicast', n.prefix, n.pathId);
  const unreach = attrs.mpUnreach;
  const unreachFamily = unreach && familyOf(unreach.afi, unreach.safi);
  if (unreachFamily) for (const n of unreach.withdrawn ?? []) withdrawn(unreachFamily, n.prefix, n.pathId);

  const { mpReach: reach, ...nlriAttrs } = attrs; // NLRI-field routes take NEXT_HOP, even beside an IPv4 MP_REACH_NLRI
  const reachFamily = reach && familyOf(reach.afi, reach.safi);
  const announced: [Family, { prefix: string; pathId?: number }[], typeof attrs][] = [
    ['ipv4-unicast', update.nlri, nlriAttrs],
  ];
  if (reachFamily) announced.push([reachFamily, reach.nlri ?? [], attrs]);
  const treatAsWithdraw = isTreatAsWithdraw(update.errors);
  for (const [family, list, attributes] of announced) {
    for (const n of list) {
      if (treatAsWithdraw) withdrawn(family, n.prefix, n.pathId, true);
      else
        out.push({
          time,
          peer,
          type: 'received',
          ...printableReceived({ family, prefix: n.prefix, pathId: n.pathId, attributes, asLoop }),
        });
    }
  }
  return out;
}

/** A session that ended (or an attempt that failed), as an event. */
export function downEvent(time: number, peer: string, reason: DownReason): PeerEvent {
  const e: PeerEvent = { time, peer, type: 'down', reason: reason.message };
  if (reason.notification)
    e.notification = `${notificationText(reason.notification)} ${reason.kind === 'notification-received' ? 'received' : 'sent'}`;
  return e;
}

function routeText(f: PrintableRoute): string {
  const parts: string[] = [];
  if (f.nextHop !== undefined)
    parts.push(`next-hop ${f.nextHop}${f.linkLocalNextHop ? ` (${f.linkLocalNextHop})` : ''}`);
  parts.push(`as-path ${f.asPath === '' ? '(empty)' : f.asPath}`);
  if (f.origin !== undefined) parts.push(`origin ${f.origin}`);
  if (f.med !== undefined) parts.push(`med ${f.med}`);
  if (f.localPref !== undefined) parts.push(`local-pref ${f.localPref}`);
  if (f.communities) parts.push(`communities ${f.communities.join(' ')}`);
  if (f.largeCommunities) parts.push(`large-communities ${f.largeCommunities.join(' ')}`);
  if (f.extendedCommunities) parts.push(`extended-communities ${f.extendedCommunities.join(' ')}`);
  if (f.originatorId !== undefined) parts.push(`originator-id ${f.originatorId}`);
  if (f.clusterList) parts.push(`cluster-list ${f.clusterList.join(' ')}`);
  if (f.asLoop) parts.push('AS-LOOP (our AS is in the AS path: not eligible, RFC 4271 9.1.2)');
  return parts.join(' ');
}

/** One output line: the event as JSON (`type` first, `time` as ISO text), or as readable text with a UTC time. */
export function formatEvent(e: PeerEvent, json: boolean): string {
  const iso = new Date(e.time).toISOString();
  if (json) {
    const { type, time: _time, peer, ...rest } = e;
    return JSON.stringify({ type, time: iso, peer, ...rest });
  }
  const at = `${iso.slice(11, 23)} `;
  const path = (p: { prefix: string; pathId?: number }): string =>
    p.pathId === undefined ? p.prefix : `${p.prefix} path-id ${p.pathId}`;
  switch (e.type) {
    case 'state':
      return `${at}${e.peer} ${e.from} -> ${e.to}`;
    case 'listening':
      return `${at}listening on ${e.address.includes(':') ? `[${e.address}]` : e.address}:${e.port}`;
    case 'established':
      return `${at}${e.peer} established: AS ${e.peerAs}, router id ${e.peerBgpId}, hold time ${e.holdTime} s, families ${e.families.join(' ')}${e.capabilities.length ? `, ${e.capabilities.join(' ')}` : ''}`;
    case 'advertised':
      return `${at}advertised ${e.prefix} ${routeText(e)}`;
    case 'received':
      return `${at}received ${path(e)} ${routeText(e)}`;
    case 'withdrawn':
      return `${at}withdrawn ${path(e)}${e.treatAsWithdraw ? ' (malformed UPDATE treated as withdraw, RFC 7606)' : ''}`;
    case 'end-of-rib':
      return `${at}end-of-rib ${e.family}`;
    case 'down':
      return `${at}${e.peer} down: ${e.reason}${e.notification ? ` (${e.notification})` : ''}`;
    case 'bfd': {
      const outcome =
        e.outcome === 'torn-down'
          ? ': BGP session torn down until BFD is Up again'
          : e.outcome === 'resumed'
            ? ': BGP session started again'
            : '';
      return `${at}${e.peer} BFD ${e.from} -> ${e.to} (diag: ${e.diag})${outcome}`;
    }
    case 'warning':
      return `${at}warning: ${e.message}`;
    case 'stopped':
      return `${at}stopped (exit ${e.status}): ${e.reason}`;
  }
}

/** A socket error in words: "connection refused (ECONNREFUSED)". */
export function socketErrorText(err: { code?: string; message: string }): string {
  const words: Record<string, string> = {
    ECONNREFUSED: 'connection refused',
    ECONNRESET: 'connection reset by the peer',
    EHOSTUNREACH: 'no route to host',
    ENETUNREACH: 'network unreachable',
    ETIMEDOUT: 'connection timed out',
    EADDRNOTAVAIL: 'the local address is not on this machine',
    EACCES: 'permission denied',
  };
  const known = err.code === undefined ? undefined : words[err.code];
  return known ? `${known} (${err.code})` : err.message;
}

/** What failureText needs to know about the session's last failure. */
export interface FailureFacts {
  peer: string;
  port: number;
  passive: boolean;
  /** A TCP MD5 key is set: a peer without the same key never answers. */
  md5?: boolean;
  /** The session's last end (SessionState.lastDown), if any. */
  lastDown?: DownReason & { state: FsmStateName };
  /** The last error of a TCP connection attempt to the peer, if any. */
  socketError?: { code?: string; message: string };
}

/**
 * Why no session is Established, in one sentence naming the NOTIFICATION or the socket error:
 * "peer 192.0.2.1 refused the session: NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS".
 */
export function failureText(f: FailureFacts): string {
  const d = f.lastDown;
  const where = `${f.peer} port ${f.port}`;
  if (d?.kind === 'notification-received' && d.notification) {
    return d.state === 'Established'
      ? `peer ${f.peer} ended the session: ${notificationText(d.notification)}`
      : `peer ${f.peer} refused the session: ${notificationText(d.notification)}`;
  }
  if (d?.kind === 'notification-sent' && d.notification) {
    const n = notificationText(d.notification);
    if (d.notification.code === 2) return `we refused peer ${f.peer}'s OPEN (${d.message}): ${n} sent`;
    if (d.notification.code === 4) return `hold timer expired in ${d.state}, the peer stopped talking: ${n} sent`;
    return `${d.message}: ${n} sent`;
  }
  if (
    d?.kind === 'connection-failed' &&
    (d.state === 'OpenSent' || d.state === 'OpenConfirm' || d.state === 'Established')
  ) {
    // A socket error (ECONNRESET, ETIMEDOUT, ...) is what happened: say that, not a guess about a clean close.
    if (d.socketError) {
      const hint = d.state === 'Established' ? '' : ' (is this address configured as its neighbor?)';
      return `connection to ${where} lost in ${d.state}: ${socketErrorText(d.socketError)}${hint}`;
    }
    return `peer ${f.peer} closed the connection in ${d.state} without a NOTIFICATION (is this address configured as its neighbor? some routers also turn connections away for a while after a session ended)`;
  }
  if (f.socketError) return `cannot connect to ${where}: ${socketErrorText(f.socketError)}`;
  if (f.passive) return `no connection from ${f.peer} (passive: waiting for the peer to connect)`;
  if (d) return `cannot connect to ${where}: ${d.message}`;
  const why = f.md5 ? 'a peer without the same TCP MD5 key drops our SYNs' : 'a firewall may drop the SYN';
  return `no TCP connection to ${where}: no answer (is the address right? ${why})`;
}
