// `bgp-announce status` output: the admin endpoint's JSON as tables and lines for people. Pure: JSON
// views in, lines out (status.ts fetches them). Times are UTC.
import {
  familyOf,
  reconcileAttributes,
  asPathToString,
  formatExtendedCommunity,
  type BgpMessage,
  type Capability,
  type UpdateMessage,
} from '@bgp-announce/bgp-wire';
import type { DescribedMessage } from '@bgp-announce/bgp-speaker';
import type {
  BfdHistoryEntry,
  HealthCheckView,
  MessagesView,
  PeerView,
  RouteView,
  RoutesView,
  StatusView,
} from '@bgp-announce/announcer';
import { diagName } from './bfd-output.js';
import { notificationText } from './peer-output.js';

/** "3d04h", "2h05m", "4m07s", "12s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (s >= 86400) return `${Math.floor(s / 86400)}d${pad(Math.floor((s % 86400) / 3600))}h`;
  if (s >= 3600) return `${Math.floor(s / 3600)}h${pad(Math.floor((s % 3600) / 60))}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${pad(s % 60)}s`;
  return `${s}s`;
}

/** Rows as columns padded to the widest cell (the last column is not padded). */
export function table(rows: readonly (readonly string[])[], indent = ''): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map(
    (row) =>
      indent +
      row
        .map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!)))
        .join('  ')
        .trimEnd(),
  );
}

/** One line on why a session last ended: "12:00:01 in OpenSent: NOTIFICATION 2/2 ... received". */
function lastDownText(d: NonNullable<PeerView['lastDown']>): string {
  const n = d.notification;
  const notification = n
    ? ` (NOTIFICATION ${n.code}/${n.subcode} ${n.name}${n.shutdownMessage ? ` "${n.shutdownMessage}"` : ''} ${d.kind === 'notification-received' ? 'received' : 'sent'})`
    : '';
  const socket = d.socketError && !d.reason.includes(d.socketError) ? ` [${d.socketError}]` : '';
  const retry =
    d.retryAfterSeconds === undefined
      ? ''
      : d.failure === 'protocol'
        ? `; protocol error: backing off ${d.retryAfterSeconds} s before the next attempt`
        : `; next attempt after ${d.retryAfterSeconds} s`;
  return `${d.at.replace('T', ' ').slice(0, 19)} in ${d.state}: ${d.reason}${notification}${socket}${retry}`;
}

function bfdCell(p: PeerView): string {
  if (!p.bfd) return '-';
  return p.bfd.holding ? `${p.bfd.state} (holding BGP)` : p.bfd.state;
}

/** The node and one row per peer. */
export function formatStatus(s: StatusView): string[] {
  const lines = [
    `node ${s.node}  router id ${s.routerId}  up ${formatDuration(s.uptimeSeconds)}  ${s.stopping ? 'stopping' : s.ready ? 'ready' : `not ready (${s.notReadyBecause ?? 'starting'})`}${s.bfd ? `  BFD ${s.bfd.sessions} session${s.bfd.sessions === 1 ? '' : 's'}` : ''}`,
  ];
  const health = healthLines(s.source);
  if (s.peers.length === 0) return [...lines, 'no peers', ...health];
  const rows = [['PEER', 'ADDRESS', 'AS', 'STATE', 'UPTIME', 'ADV', 'RCV', 'BFD', 'LAST DOWN']];
  for (const p of s.peers) {
    rows.push([
      p.id,
      p.peerAddress,
      String(p.peerAs),
      p.state,
      p.uptimeSeconds === undefined ? '-' : formatDuration(p.uptimeSeconds),
      String(p.prefixes.advertised),
      String(p.prefixes.received),
      bfdCell(p),
      p.lastDown && p.state !== 'Established' ? lastDownText(p.lastDown) : '',
    ]);
  }
  return [...lines, ...table(rows), ...health];
}

/** The StaticRoutes' health checks of the source's status, as a table (none: no lines). */
function healthLines(source: unknown): string[] {
  const checks = (source as { healthChecks?: HealthCheckView[] } | null)?.healthChecks ?? [];
  if (checks.length === 0) return [];
  const rows = [['HEALTH CHECK', 'TARGET', 'STATUS', 'SINCE', 'CHANGES', 'LAST PROBE']];
  for (const c of checks) {
    const status = c.status === 'draining' && c.drainUntil ? `draining until ${c.drainUntil.slice(11, 19)}` : c.status;
    const last = c.last
      ? `${c.last.ok ? 'pass' : 'FAIL'}: ${c.last.detail} (${c.last.durationMs} ms, ${c.last.at.slice(11, 19)})`
      : 'none yet';
    rows.push([c.route, c.target, status, c.since.slice(11, 19), String(c.transitions), last]);
  }
  return ['', ...table(rows)];
}

/** Everything about one peer: session, capabilities, counters, last down, BFD. */
export function formatPeer(p: PeerView): string[] {
  const lines = [
    `peer ${p.id}: ${p.peerAddress} AS ${p.peerAs}; we are AS ${p.localAs}, router id ${p.bgpId}${p.localAddress ? `, from ${p.localAddress}` : ''}`,
  ];
  lines.push(
    `  state ${p.state}${p.uptimeSeconds !== undefined ? ` for ${formatDuration(p.uptimeSeconds)} (since ${p.establishedAt})` : ''}`,
  );
  const s = p.session;
  if (s) {
    lines.push(
      `  peer router id ${s.peerBgpId}, ${s.ibgp ? 'iBGP' : 'eBGP'}, hold time ${s.holdTime} s, keepalive ${s.keepaliveTime} s`,
    );
    lines.push(`  families ${s.families.join(' ')}`);
    lines.push(`  capabilities ${s.capabilities.join(' ') || '(none)'}`);
    const gr = s.gracefulRestart;
    if (gr)
      lines.push(
        `  peer's graceful restart: restart time ${gr.restartTime} s, N bit ${gr.notification ? 'on' : 'off'}, families ${gr.families.join(' ') || '(none)'}`,
      );
  }
  const loops = p.prefixes.receivedAsLoop
    ? ` (${p.prefixes.receivedAsLoop} with our AS in the AS path: not eligible, RFC 4271 9.1.2)`
    : '';
  lines.push(`  prefixes advertised ${p.prefixes.advertised}, received ${p.prefixes.received}${loops}`);
  const m = p.messages;
  lines.push(
    `  messages in/out: UPDATE ${m.updatesIn}/${m.updatesOut}, NOTIFICATION ${m.notificationsIn}/${m.notificationsOut}, KEEPALIVE ${m.keepalivesIn}/${m.keepalivesOut}, OPEN ${m.opensIn}/${m.opensOut}; established ${m.establishedTransitions} times`,
  );
  if (p.lastDown) lines.push(`  last down ${lastDownText(p.lastDown)}`);
  if (p.bfd) {
    const b = p.bfd.session;
    const timers = b
      ? `, peer ${b.remoteState}, tx ${b.transmitIntervalMs} ms, rx ${b.receiveIntervalMs} ms, detection ${b.detectionTimeMs} ms, ${b.multihop ? 'multihop' : 'single hop'} ${b.localAddress} -> ${b.peerAddress}:${b.port}`
      : '';
    const diag = b && b.localDiag !== 0 ? `, diag ${diagName(b.localDiag)}` : '';
    lines.push(
      `  BFD ${p.bfd.state}${p.bfd.holding ? ' (BGP held down until BFD is Up)' : ''}${timers}${diag}${b?.error ? `, error: ${b.error}` : ''}`,
    );
  }
  return lines;
}

function routeAttributes(r: RouteView): string {
  const parts: string[] = [];
  if (r.origin !== undefined) parts.push(`origin ${r.origin}`);
  if (r.med !== undefined) parts.push(`med ${r.med}`);
  if (r.localPref !== undefined) parts.push(`local-pref ${r.localPref}`);
  if (r.communities) parts.push(`communities ${r.communities.join(' ')}`);
  if (r.largeCommunities) parts.push(`large-communities ${r.largeCommunities.join(' ')}`);
  if (r.extendedCommunities) parts.push(`extended-communities ${r.extendedCommunities.join(' ')}`);
  if (r.originatorId !== undefined) parts.push(`originator-id ${r.originatorId}`);
  if (r.clusterList) parts.push(`cluster-list ${r.clusterList.join(' ')}`);
  if (r.stale) parts.push('STALE (peer restarting)');
  if (r.asLoop) parts.push('AS-LOOP (our AS is in the AS path: not eligible)');
  return parts.join(', ');
}

function nextHopText(r: RouteView): string {
  if (r.nextHop === undefined) return '-';
  return r.linkLocalNextHop === undefined ? r.nextHop : `${r.nextHop} (${r.linkLocalNextHop})`;
}

/** The advertised and received routes of a peer, as two tables. */
export function formatRoutes(v: RoutesView): string[] {
  const lines: string[] = [];
  for (const [title, list, count] of [
    ['advertised', v.advertised, v.counts.advertised],
    ['received', v.received, v.counts.received],
  ] as const) {
    lines.push(`${title} (${count}${list.length < count ? `, first ${list.length} shown` : ''}):`);
    if (list.length === 0) continue;
    const rows = [['PREFIX', 'NEXT HOP', 'AS PATH', 'ATTRIBUTES']];
    for (const r of list)
      rows.push([
        r.pathId === undefined ? r.prefix : `${r.prefix} path-id ${r.pathId}`,
        nextHopText(r),
        r.asPath === '' ? '(empty)' : r.asPath,
        routeAttributes(r),
      ]);
    lines.push(...table(rows, '  '));
  }
  return lines;
}

const familyName = (afi: number, safi: number): string => familyOf(afi, safi) ?? `afi ${afi} safi ${safi}`;

function capabilityText(c: Capability): string {
  switch (c.name) {
    case 'multiprotocol':
      return familyName((c as { afi: number }).afi, (c as { safi: number }).safi);
    case 'four-octet-as':
      return `4-octet-as ${(c as { asn: number }).asn}`;
    case 'graceful-restart': {
      const g = c as Extract<Capability, { code: 64 }>;
      return `graceful-restart ${g.restartTime}s${g.restarting ? ' R' : ''}${g.notification ? ' N' : ''}`;
    }
    case 'add-path':
      return `add-path ${(c as Extract<Capability, { code: 69 }>).families.map((f) => `${familyName(f.afi, f.safi)}:${f.sendReceive}`).join(',')}`;
    default:
      return c.name === 'unknown' ? `capability ${c.code}` : c.name;
  }
}

/** At most `max` prefixes, then "(+N more)". */
function prefixList(prefixes: string[], max = 8): string {
  return prefixes.length <= max
    ? prefixes.join(' ')
    : `${prefixes.slice(0, max).join(' ')} (+${prefixes.length - max} more)`;
}

function updateText(u: UpdateMessage): string {
  if (u.endOfRib) return `End-of-RIB ${familyName(u.endOfRib.afi, u.endOfRib.safi)}`;
  const a = reconcileAttributes(u.attributes);
  const withdrawn = [...u.withdrawn, ...(a.mpUnreach?.withdrawn ?? [])].map((n) => n.prefix);
  const announced = [...u.nlri, ...(a.mpReach?.nlri ?? [])].map((n) => n.prefix);
  const parts: string[] = [];
  if (withdrawn.length > 0) parts.push(`withdraw ${prefixList(withdrawn)}`);
  if (announced.length > 0) {
    parts.push(`announce ${prefixList(announced)}`);
    const nextHop = a.nextHop ?? a.mpReach?.nextHops?.[0];
    if (nextHop !== undefined) parts.push(`next-hop ${nextHop}`);
    parts.push(`as-path ${a.asPath && a.asPath.length > 0 ? asPathToString(a.asPath) : '(empty)'}`);
    if (a.origin !== undefined) parts.push(`origin ${a.origin}`);
    if (a.med !== undefined) parts.push(`med ${a.med}`);
    if (a.localPref !== undefined) parts.push(`local-pref ${a.localPref}`);
    if (a.communities?.length) parts.push(`communities ${a.communities.join(' ')}`);
    if (a.largeCommunities?.length) parts.push(`large-communities ${a.largeCommunities.join(' ')}`);
    if (a.extendedCommunities?.length)
      parts.push(`extended-communities ${a.extendedCommunities.map(formatExtendedCommunity).join(' ')}`);
  }
  if (u.errors?.length) parts.push(`errors: ${u.errors.map((e) => `${e.message} (${e.action})`).join('; ')}`);
  return parts.join(' ') || '(empty)';
}

/** "OPEN AS 64496 id 192.0.2.1 hold 90 s: ipv4-unicast route-refresh ..." and so on, per message type. */
export function messageSummary(m: BgpMessage): string {
  switch (m.type) {
    case 'OPEN':
      return `OPEN AS ${m.myAs} id ${m.bgpId} hold ${m.holdTime} s: ${m.capabilities.map(capabilityText).join(' ') || 'no capabilities'}`;
    case 'UPDATE':
      return `UPDATE ${updateText(m)}`;
    case 'NOTIFICATION':
      return notificationText(m);
    case 'KEEPALIVE':
      return 'KEEPALIVE';
    case 'ROUTE-REFRESH':
      return `ROUTE-REFRESH ${familyName(m.afi, m.safi)}${m.subtype === 1 ? ' BoRR' : m.subtype === 2 ? ' EoRR' : ''}`;
  }
}

const clock = (iso: string): string => iso.slice(11, 23);

/** One line per BGP message and BFD state change, merged by time: "12:00:00.123 sent     UPDATE ...". */
export function formatMessages(v: MessagesView): string[] {
  type Line = { at: string; order: number; text: string };
  const lines: Line[] = v.bgp.map((m: DescribedMessage, i) => ({
    at: m.at,
    order: i,
    text: `${clock(m.at)} ${m.direction.padEnd(8)} ${m.message ? messageSummary(m.message) : `undecodable message of ${m.length} bytes: ${m.error ?? '?'}${m.hex ? ` (${m.hex.slice(0, 64)}${m.hex.length > 64 ? '...' : ''})` : ''}`}`,
  }));
  v.bfd.forEach((e: BfdHistoryEntry, i) => {
    const outcome =
      e.outcome === 'torn-down'
        ? ': BGP session torn down until BFD is Up again'
        : e.outcome === 'resumed'
          ? ': BGP session started again'
          : '';
    lines.push({
      at: e.at,
      order: v.bgp.length + i,
      text: `${clock(e.at)} bfd      BFD ${e.from} -> ${e.to} (diag: ${diagName(e.diag)})${outcome}`,
    });
  });
  lines.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : a.order - b.order));
  if (lines.length === 0)
    return [
      `peer ${v.peer}: no messages recorded (the daemon keeps the last --message-history of each peer; 0 keeps none)`,
    ];
  return [
    `peer ${v.peer}: last ${v.bgp.length} BGP messages and ${v.bfd.length} BFD state changes (UTC)`,
    ...lines.map((l) => `  ${l.text}`),
  ];
}
