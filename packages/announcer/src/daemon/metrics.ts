// The daemon's Prometheus metrics on a registry of its own (not prom-client's global one). Speaker
// and BFD engine state is read when Prometheus scrapes (collect callbacks), once per scrape; the
// Speaker's message counters restart when a peer's session is re-created, so the counters here add
// the difference since the last scrape. Node's default metrics (event-loop lag, heap, GC, CPU, open
// file descriptors) come with the same `bgp_announce_` prefix. Every metric is listed in the README.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { BfdEngineMetrics, BfdState } from '@bgp-announce/bfd';
import type { FsmStateName, PeerStatus, Speaker } from '@bgp-announce/bgp-speaker';
import type { PoolUsage, ServiceAnnouncers } from './source.js';
import { CONFIG_KINDS } from '../config/validate.js';
import type { ConnectionStats } from './http-limits.js';
import { healthMetrics, type HealthMetrics } from './metrics-health.js';

export const METRIC_PREFIX = 'bgp_announce_';

/** FSM states as numbers, as the BGP MIB (RFC 4273 bgpPeerState) numbers them: idle(1) .. established(6). */
export const SESSION_STATE_NUMBER: Readonly<Record<FsmStateName, number>> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};
/** BFD states as numbers, their RFC 5880 4.1 wire values: AdminDown 0, Down 1, Init 2, Up 3. */
export const BFD_STATE_NUMBER: Readonly<Record<BfdState, number>> = { AdminDown: 0, Down: 1, Init: 2, Up: 3 };

/** What the metrics read on a scrape. */
export interface MetricsSources {
  speaker: Speaker;
  /** The BFD engine, when it runs. */
  bfd?: { metrics(): Promise<BfdEngineMetrics> } | undefined;
  /** The source is ready and the speaker runs (the /readyz answer). */
  ready: () => boolean;
  /** Wall clock for uptimes (default Date.now). */
  now?: () => number;
}

export interface DaemonMetrics {
  registry: Registry;
  /** A reconcile took this long (DaemonContext.observeReconcile). */
  observeReconcile(seconds: number, result: 'ok' | 'error'): void;
  /** The allocator's pools now (DaemonContext.setPoolUsage): replaces the previous set. */
  setPoolUsage(usage: readonly PoolUsage[]): void;
  /** The configuration objects rejected now, by kind (DaemonContext.setRejectedConfigObjects); kinds absent count 0. */
  setRejectedConfigObjects(byKind: Readonly<Record<string, number>>): void;
  /** Reads the leader's Services and their announcing node counts on each scrape (DaemonContext.readAnnouncingNodes). */
  readAnnouncingNodes(read: () => readonly ServiceAnnouncers[]): void;
  /** Reads the StaticRoutes' health checks on each scrape (DaemonContext.readHealthChecks). */
  readHealthChecks: HealthMetrics['readHealthChecks'];
  /** A health check's status changed (DaemonContext.observeHealthChange). */
  observeHealthChange: HealthMetrics['observeHealthChange'];
  /** Reads an HTTP endpoint's connection counts on each scrape (`endpoint`: metrics or admin). */
  watchHttpEndpoint(endpoint: string, stats: () => ConnectionStats): void;
  /** The text exposition, and its content type. */
  metrics(): Promise<string>;
  contentType: string;
}

/** Takes the value of `take` at most once per event-loop turn (one scrape calls every collect in one turn). */
function perScrape<T>(take: () => T): () => T {
  let cached: { value: T } | undefined;
  return () => {
    if (cached) return cached.value;
    cached = { value: take() };
    setImmediate(() => (cached = undefined));
    return cached.value;
  };
}

/** Adds to a counter what a source counter gained since the last look (a smaller value: the source restarted). */
class CounterFeed {
  private readonly last = new Map<string, number>();

  constructor(private readonly counter: Counter<string>) {}

  feed(labels: Record<string, string>, value: number): void {
    const key = JSON.stringify(labels);
    const before = this.last.get(key) ?? 0;
    this.counter.inc(labels, value >= before ? value - before : value);
    this.last.set(key, value);
  }

  /** Drops series whose labels `keep` refuses (peers that are gone). */
  prune(keep: (labels: Record<string, string>) => boolean): void {
    for (const key of this.last.keys()) {
      const labels = JSON.parse(key) as Record<string, string>;
      if (keep(labels)) continue;
      this.last.delete(key);
      this.counter.remove(labels);
    }
  }
}

/** Creates the registry and every metric. */
export function createDaemonMetrics(sources: MetricsSources): DaemonMetrics {
  const registry = new Registry();
  const registers = [registry];
  const now = sources.now ?? Date.now;
  const peers = perScrape(() => sources.speaker.peers());
  const name = (n: string): string => METRIC_PREFIX + n;

  const peerGauge = (n: string, help: string, value: (p: PeerStatus) => number | undefined): void => {
    const gauge: Gauge<'peer'> = new Gauge({
      name: name(n),
      help,
      labelNames: ['peer'],
      registers,
      collect() {
        gauge.reset();
        for (const p of peers()) {
          const v = value(p);
          if (v !== undefined) gauge.set({ peer: p.id }, v);
        }
      },
    });
  };
  peerGauge(
    'session_state',
    'BGP FSM state per peer: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established (RFC 4273 numbering)',
    (p) => SESSION_STATE_NUMBER[p.state],
  );
  const stateInfo: Gauge<'peer' | 'state'> = new Gauge({
    name: name('session_state_info'),
    help: 'BGP FSM state per peer as a label: 1 for the current state, 0 for the others',
    labelNames: ['peer', 'state'],
    registers,
    collect() {
      stateInfo.reset();
      for (const p of peers())
        for (const state of Object.keys(SESSION_STATE_NUMBER))
          stateInfo.set({ peer: p.id, state }, state === p.state ? 1 : 0);
    },
  });
  peerGauge('session_uptime_seconds', 'Seconds since the session became Established (0 when it is not)', (p) =>
    p.establishedAt === undefined ? 0 : Math.max(0, (now() - p.establishedAt) / 1000),
  );
  peerGauge(
    'session_backoff_seconds',
    'While the session waits after a protocol failure (OPEN or UPDATE error, a NOTIFICATION that is not a restart): the back-off before the next attempt; 0 otherwise (transport failures retry within a second)',
    (p) => (p.state === 'Idle' && p.lastDown?.failure === 'protocol' ? (p.lastDown.pauseMs ?? 0) / 1000 : 0),
  );
  peerGauge(
    'prefixes_advertised',
    'Routes in the Adj-RIB-Out of the peer (what we announce to it)',
    (p) => p.advertised,
  );
  peerGauge('prefixes_received', 'Routes in the Adj-RIB-In of the peer (what it sent us)', (p) => p.received);
  peerGauge(
    'bfd_session_state',
    "BFD state of the peer's session: 0 AdminDown, 1 Down, 2 Init, 3 Up (RFC 5880 values); only peers that require BFD",
    (p) => (p.bfd ? BFD_STATE_NUMBER[p.bfd.state] : undefined),
  );

  const peerCounters: [string, string, (p: PeerStatus) => number][] = [
    ['session_established_total', 'Times the session reached Established', (p) => p.counters.establishedTransitions],
    ['updates_sent_total', 'UPDATE messages sent to the peer (End-of-RIB included)', (p) => p.counters.updatesOut],
    ['updates_received_total', 'UPDATE messages received from the peer', (p) => p.counters.updatesIn],
    ['notifications_sent_total', 'NOTIFICATION messages sent to the peer', (p) => p.counters.notificationsOut],
    ['notifications_received_total', 'NOTIFICATION messages received from the peer', (p) => p.counters.notificationsIn],
  ];
  for (const [n, help, value] of peerCounters) {
    const counter: Counter<'peer'> = new Counter({
      name: name(n),
      help,
      labelNames: ['peer'],
      registers,
      collect() {
        const list = peers();
        for (const p of list) feed.feed({ peer: p.id }, value(p));
        const ids = new Set(list.map((p) => p.id));
        feed.prune((labels) => ids.has(labels.peer ?? ''));
      },
    });
    const feed = new CounterFeed(counter as Counter<string>);
  }

  if (sources.bfd)
    bfdMetricsOf(
      registers,
      perScrape(() => sources.bfd!.metrics().catch(() => undefined)),
    );

  const poolUsed = new Gauge({
    name: name('pool_addresses_used'),
    help: 'Addresses handed out from the pool (leader only)',
    labelNames: ['pool', 'family'],
    registers,
  });
  const poolTotal = new Gauge({
    name: name('pool_addresses_capacity'),
    help: 'Addresses in the pool (leader only; capped at 2^53 - 1 for huge IPv6 ranges)',
    labelNames: ['pool', 'family'],
    registers,
  });
  let announcers: (() => readonly ServiceAnnouncers[]) | undefined;
  const announcing: Gauge<'namespace' | 'service'> = new Gauge({
    name: name('service_announcing_nodes'),
    help: "Nodes announcing the Service's addresses, per the BGPNodeStates (leader only: one series per Service of our class that has an address; a Service that goes, or a lost leadership, takes its series away)",
    labelNames: ['namespace', 'service'],
    registers,
    collect() {
      announcing.reset();
      for (const s of announcers?.() ?? []) announcing.set({ namespace: s.namespace, service: s.service }, s.nodes);
    },
  });
  const rejected = new Gauge({
    name: name('config_objects_rejected'),
    help: 'Configuration objects (BGPPeer, IPAddressPool, ...) with problems in the latest configuration, by kind; while any is above 0 the previous configuration stays in force',
    labelNames: ['kind'],
    registers,
  });
  const setRejected = (byKind: Readonly<Record<string, number>>): void => {
    rejected.reset();
    for (const kind of CONFIG_KINDS) rejected.set({ kind }, 0);
    for (const [kind, n] of Object.entries(byKind)) rejected.set({ kind }, n);
  };
  setRejected({});
  const reconcile = new Histogram({
    name: name('reconcile_duration_seconds'),
    help: 'How long one reconcile (plan and apply) took, by result',
    labelNames: ['result'],
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const ready: Gauge = new Gauge({
    name: name('ready'),
    help: '1 when the route source is ready and the speaker runs (as /readyz)',
    registers,
    collect() {
      ready.set(sources.ready() ? 1 : 0);
    },
  });
  const httpEndpoints = new Map<string, () => ConnectionStats>();
  const httpOpen: Gauge<'endpoint'> = new Gauge({
    name: name('http_connections'),
    help: 'Connections the HTTP endpoint (metrics, admin) holds now; at most its cap (32)',
    labelNames: ['endpoint'],
    registers,
    collect() {
      httpOpen.reset();
      for (const [endpoint, stats] of httpEndpoints) httpOpen.set({ endpoint }, stats().open);
    },
  });
  const httpShed: Counter<'endpoint' | 'action'> = new Counter({
    name: name('http_connections_shed_total'),
    help: 'Connections an HTTP endpoint closed to stay under its cap: action evicted (the one idle longest, for a new one) or refused (503: every held one was busy)',
    labelNames: ['endpoint', 'action'],
    registers,
    collect() {
      for (const [endpoint, stats] of httpEndpoints) {
        const s = stats();
        shedFeed.feed({ endpoint, action: 'evicted' }, s.evicted);
        shedFeed.feed({ endpoint, action: 'refused' }, s.refused);
      }
    },
  });
  const shedFeed = new CounterFeed(httpShed as Counter<string>);
  // prom-client samples the event-loop delay every 10 ms by default: a fifth of an idle daemon's CPU.
  // Every 100 ms still shows any stall that matters here (BFD runs in its own worker thread).
  collectDefaultMetrics({ register: registry, prefix: METRIC_PREFIX, eventLoopMonitoringPrecision: 100 });
  const health = healthMetrics(registers, METRIC_PREFIX);

  return {
    registry,
    readHealthChecks: health.readHealthChecks,
    observeHealthChange: health.observeHealthChange,
    observeReconcile(seconds, result) {
      reconcile.observe({ result }, seconds);
    },
    setPoolUsage(usage) {
      poolUsed.reset();
      poolTotal.reset();
      for (const u of usage) {
        const labels = { pool: u.pool, family: u.family === 4 ? 'ipv4' : 'ipv6' };
        poolUsed.set(labels, u.used);
        poolTotal.set(labels, u.total);
      }
    },
    setRejectedConfigObjects: setRejected,
    readAnnouncingNodes(read) {
      announcers = read;
    },
    watchHttpEndpoint(endpoint, stats) {
      httpEndpoints.set(endpoint, stats);
    },
    metrics: () => registry.metrics(),
    contentType: registry.contentType,
  };
}

/** The BFD engine's metrics, as its worker measures them (registered only when the engine runs). */
function bfdMetricsOf(registers: Registry[], bfdMetrics: () => Promise<BfdEngineMetrics | undefined>): void {
  const name = (n: string): string => METRIC_PREFIX + n;
  const bfdGauge = (
    n: string,
    help: string,
    labelNames: string[],
    fill: (g: Gauge<string>, m: BfdEngineMetrics) => void,
  ): void => {
    const gauge: Gauge<string> = new Gauge({
      name: name(n),
      help,
      labelNames,
      registers,
      async collect() {
        gauge.reset();
        const m = await bfdMetrics();
        if (m) fill(gauge, m);
      },
    });
  };
  bfdGauge('bfd_sessions', 'BFD sessions in the engine', [], (g, m) => g.set(m.sessions));
  bfdGauge(
    'bfd_shortest_detection_time_seconds',
    'The shortest detection time of any BFD session, as configured (min(TX, RX) x Detect Mult): lateness figures near it risk a false Down; 0 without sessions',
    [],
    (g, m) => {
      if (m.shortestDetectionMs !== undefined) g.set(m.shortestDetectionMs / 1000);
    },
  );
  bfdGauge(
    'bfd_worker_event_loop_lag_seconds',
    'How late the BFD worker thread ran its lag-sampling timer (every fifth of the shortest detection time, 5-200 ms, while it has sessions) since start (stat: p50, p99, max)',
    ['stat'],
    (g, m) => {
      for (const stat of ['p50', 'p99', 'max'] as const) g.set({ stat }, m.eventLoopLagMs[stat] / 1000);
    },
  );
  bfdGauge(
    'bfd_transmit_lateness_seconds',
    'How late BFD transmit timers ran since start (stat: p50, p99, max)',
    ['stat'],
    (g, m) => {
      for (const stat of ['p50', 'p99', 'max'] as const) g.set({ stat }, m.transmitLatenessMs[stat] / 1000);
    },
  );
  const bfdCounter = (
    n: string,
    help: string,
    labelNames: string[],
    values: (m: BfdEngineMetrics) => [Record<string, string>, number][],
  ): void => {
    const counter: Counter<string> = new Counter({
      name: name(n),
      help,
      labelNames,
      registers,
      async collect() {
        const m = await bfdMetrics();
        if (m) for (const [labels, value] of values(m)) feed.feed(labels, value);
      },
    });
    const feed = new CounterFeed(counter);
  };
  bfdCounter('bfd_late_transmissions_total', "BFD packets sent later than due + the engine's slack (5 ms)", [], (m) => [
    [{}, m.lateTransmissions],
  ]);
  bfdCounter('bfd_packets_sent_total', 'BFD control packets sent', [], (m) => [[{}, m.packetsOut]]);
  bfdCounter('bfd_packets_received_total', 'BFD control packets received', [], (m) => [[{}, m.packetsIn]]);
  bfdCounter('bfd_send_errors_total', 'BFD packets the socket refused to send', [], (m) => [[{}, m.sendErrors]]);
  bfdCounter(
    'bfd_packets_dropped_total',
    'BFD packets dropped, by reason (ttl, auth, malformed, noSession, rejected)',
    ['reason'],
    (m) => Object.entries(m.dropped).map(([reason, n]) => [{ reason }, n]),
  );
  bfdCounter(
    'bfd_detection_timeouts_total',
    'BFD detection timer expiries (sessions declared Down for silence)',
    [],
    (m) => [[{}, m.detectionTimeouts]],
  );
}
