// What the admin endpoint answers, as plain JSON-ready objects built from the Speaker, the BFD
// engine, the BFD history and the route source. `bgp-announce status` prints these.
import { familyOf, notificationName } from '@bgp-announce/bgp-wire';
import {
  printableAdvertised,
  printableReceived,
  type PeerMessageCounters,
  type PeerStatus,
  type PrintableRoute,
  type Speaker,
  type DescribedMessage,
  type RibInEntry,
} from '@bgp-announce/bgp-speaker';
import type { BfdEngineMetrics, BfdSessionStatus } from '@bgp-announce/bfd';
import { capabilityNames } from './logger.js';
import type { BfdHistory, BfdHistoryEntry } from './bfd-history.js';
import type { RouteSource } from './source.js';

/** What the views read. */
export interface AdminContext {
  nodeName: string;
  routerId: string;
  localAs: number;
  /** Wall-clock ms when the daemon started. */
  startedAt: number;
  speaker: Speaker;
  source: RouteSource;
  bfd?:
    | { session(id: number): Promise<BfdSessionStatus | undefined>; metrics(): Promise<BfdEngineMetrics> }
    | undefined;
  bfdHistory: BfdHistory;
  readiness(): { ready: boolean; why?: string };
  stopping(): boolean;
  now?: () => number;
}

/** GET /v1/status. */
export interface StatusView {
  node: string;
  routerId: string;
  localAs: number;
  startedAt: string;
  uptimeSeconds: number;
  ready: boolean;
  notReadyBecause?: string;
  stopping: boolean;
  peers: PeerView[];
  /** The BFD engine's counters and timing, or null when it does not run. */
  bfd: BfdEngineMetrics | null;
  /** The route source's own status (configuration, Services, why each is announced or not). */
  source: unknown;
}

/** One peer in GET /v1/status. */
export interface PeerView {
  id: string;
  peerAddress: string;
  peerAs: number;
  localAs: number;
  /** Our BGP identifier on this session. */
  bgpId: string;
  localAddress?: string;
  state: PeerStatus['state'];
  establishedAt?: string;
  uptimeSeconds?: number;
  /** What the OPENs agreed, while OpenConfirm or Established. */
  session?: {
    peerBgpId: string;
    ibgp: boolean;
    holdTime: number;
    keepaliveTime: number;
    families: string[];
    capabilities: string[];
    gracefulRestart?: { restartTime: number; notification: boolean; families: string[] };
  };
  /** receivedAsLoop: of `received`, routes with our AS in their AS path (RFC 4271 9.1.2); only when some. */
  prefixes: { advertised: number; received: number; receivedAsLoop?: number };
  messages: PeerMessageCounters;
  lastDown?: {
    at: string;
    state: string;
    kind: string;
    reason: string;
    notification?: { code: number; subcode: number; name: string; shutdownMessage?: string };
    socketError?: string;
    /** transport: back after a short pause; protocol: backs off (a misconfiguration on one side). */
    failure?: 'transport' | 'protocol';
    /** The pause armed before the next attempt, in seconds. */
    retryAfterSeconds?: number;
  };
  bfd?: { state: string; holding: boolean; session?: BfdSessionStatus };
}

/** One route in GET /v1/peers/{id}/routes: the Speaker's printable route, and whether it is stale. */
export interface RouteView extends PrintableRoute {
  /** Received routes only: kept stale while the peer restarts (graceful restart). */
  stale?: boolean;
}

/** GET /v1/peers/{id}/routes. */
export interface RoutesView {
  peer: string;
  advertised: RouteView[];
  received: RouteView[];
  /** Routes in each list before `limit` cut it. */
  counts: { advertised: number; received: number };
  limit: number;
}

/** GET /v1/peers/{id}/messages: the last BGP messages (decoded) and BFD state changes, oldest first. */
export interface MessagesView {
  peer: string;
  bgp: DescribedMessage[];
  bfd: BfdHistoryEntry[];
  note: string;
}

const iso = (ms: number): string => new Date(ms).toISOString();

/** One peer's view; BFD details are asked of the engine. */
export async function peerView(ctx: AdminContext, p: PeerStatus): Promise<PeerView> {
  const now = (ctx.now ?? Date.now)();
  const view: PeerView = {
    id: p.id,
    peerAddress: p.peerAddress,
    peerAs: p.peerAs,
    localAs: p.localAs,
    bgpId: p.bgpId,
    state: p.state,
    prefixes: { advertised: p.advertised, received: p.received },
    messages: p.counters,
  };
  if (p.receivedAsLoop > 0) view.prefixes.receivedAsLoop = p.receivedAsLoop;
  if (p.localAddress !== undefined) view.localAddress = p.localAddress;
  if (p.establishedAt !== undefined) {
    view.establishedAt = iso(p.establishedAt);
    view.uptimeSeconds = Math.max(0, Math.round((now - p.establishedAt) / 1000));
  }
  const n = p.negotiated;
  if (n) {
    view.session = {
      peerBgpId: n.peerBgpId,
      ibgp: n.ibgp,
      holdTime: n.holdTime,
      keepaliveTime: n.keepaliveTime,
      families: [...n.families],
      capabilities: capabilityNames(n),
    };
    const gr = n.gracefulRestart;
    if (gr)
      view.session.gracefulRestart = {
        restartTime: gr.restartTime,
        notification: gr.notification,
        families: gr.families.map((f) => familyOf(f.afi, f.safi) ?? `${f.afi}/${f.safi}`),
      };
  }
  const d = p.lastDown;
  if (d) {
    view.lastDown = { at: iso(d.at), state: d.state, kind: d.kind, reason: d.message };
    if (d.notification) {
      const { code, subcode, shutdownMessage } = d.notification;
      view.lastDown.notification = {
        code,
        subcode,
        name: notificationName(code, subcode),
        ...(shutdownMessage ? { shutdownMessage } : {}),
      };
    }
    if (d.socketError) view.lastDown.socketError = d.socketError.code ?? d.socketError.message;
    if (d.failure) view.lastDown.failure = d.failure;
    if (d.pauseMs !== undefined) view.lastDown.retryAfterSeconds = d.pauseMs / 1000;
  }
  if (p.bfd) {
    view.bfd = { state: p.bfd.state, holding: p.bfd.holding };
    if (ctx.bfd && p.bfd.sessionId !== undefined) {
      const session = await ctx.bfd.session(p.bfd.sessionId).catch(() => undefined);
      if (session) view.bfd.session = session;
    }
  }
  return view;
}

/** GET /v1/status. */
export async function statusView(ctx: AdminContext): Promise<StatusView> {
  const now = (ctx.now ?? Date.now)();
  const r = ctx.readiness();
  let source: unknown;
  try {
    source = ctx.source.status();
  } catch (err) {
    source = { error: `the source's status failed: ${(err as Error).message}` };
  }
  const view: StatusView = {
    node: ctx.nodeName,
    routerId: ctx.routerId,
    localAs: ctx.localAs,
    startedAt: iso(ctx.startedAt),
    uptimeSeconds: Math.round((now - ctx.startedAt) / 1000),
    ready: r.ready,
    stopping: ctx.stopping(),
    peers: await Promise.all(ctx.speaker.peers().map((p) => peerView(ctx, p))),
    bfd: ctx.bfd ? ((await ctx.bfd.metrics().catch(() => undefined)) ?? null) : null,
    source,
  };
  if (!r.ready && r.why !== undefined) view.notReadyBecause = r.why;
  return view;
}

function fromReceived(e: RibInEntry): RouteView {
  const out: RouteView = printableReceived(e);
  if (e.stale) out.stale = true;
  return out;
}

/** GET /v1/peers/{id}/routes (the first `limit` of each list); undefined for an unknown peer. */
export function routesView(speaker: Speaker, id: string, limit: number): RoutesView | undefined {
  const advertised = speaker.adjRibOut(id);
  const received = speaker.adjRibIn(id);
  if (advertised === undefined || received === undefined) return undefined;
  return {
    peer: id,
    advertised: advertised.slice(0, limit).map(printableAdvertised),
    received: received.slice(0, limit).map(fromReceived),
    counts: { advertised: advertised.length, received: received.length },
    limit,
  };
}

/** GET /v1/peers/{id}/messages; undefined for an unknown peer. */
export function messagesView(speaker: Speaker, history: BfdHistory, id: string): MessagesView | undefined {
  const bgp = speaker.recentMessages(id);
  if (bgp === undefined) return undefined;
  return {
    peer: id,
    bgp,
    bfd: history.entries(id),
    note: "BFD control packets stay in the BFD worker thread and are not recorded; bfd lists the state changes of the peer's BFD session",
  };
}
