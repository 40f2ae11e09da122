// What the lab's Prometheus shows at a moment, through a few live queries: which daemons it scrapes,
// each node's sessions up, the routes (prefixes) each node advertises, the BFD state with --bfd, the
// alert rules it loaded and the alerts active; and what does not agree with the lab yet (an alert
// active counts: a settled lab pages no one).
import type { LabPlan } from './plan.js';
import type { Alert, LabPrometheus, Sample } from './prometheus.js';
import { SCRAPE_JOB } from './prometheus-config.js';

/** The live queries, as a person can paste them into Prometheus. */
export const LIVE_QUERIES = {
  targetsUp: `up{job="${SCRAPE_JOB}"}`,
  sessionsUp: 'sum by (node) (bgp_announce_session_state_info{state="Established"})',
  sessions: 'count by (node) (bgp_announce_session_state_info{state="Established"})',
  routes: 'sum by (node) (bgp_announce_prefixes_advertised)',
  bfd: 'bgp_announce_bfd_session_state',
} as const;

/** RFC 5880's numbers, as the daemon exports them. */
const BFD_STATES = ['AdminDown', 'Down', 'Init', 'Up'];

/** One node as Prometheus sees it. */
export interface PrometheusNode {
  node: string;
  /** Its target answered the last scrape. */
  scraped: boolean;
  sessionsUp: number | null;
  sessions: number | null;
  /** Prefixes advertised, summed over its peers. */
  routes: number | null;
  /** BFD state per peer (only peers that require BFD). */
  bfd: { peer: string; state: string }[];
}

export interface PrometheusReport {
  url: string;
  fabricUrl: string;
  rulesFile: string;
  shippedRules: string;
  /** How many `for:` the lab's rule file shortened. */
  shortened: number;
  /** Alerting rules loaded. */
  alertRules: string[];
  nodes: PrometheusNode[];
  alerts: { name: string; state: string; node?: string; peer?: string }[];
  queries: typeof LIVE_QUERIES;
  /** What does not agree with the lab yet (empty: all good). */
  problems: string[];
}

/** "BGPAnnounceSessionDown firing (node-1, router)" */
export function describeAlert(a: PrometheusReport['alerts'][number]): string {
  return `${a.name} ${a.state}${a.node ? ` (${a.node}${a.peer ? `, ${a.peer}` : ''})` : ''}`;
}

function byNode(samples: Sample[]): Map<string, number> {
  return new Map(samples.map((s) => [s.metric.node ?? '', s.value]));
}

/** Runs the live queries. */
export async function prometheusReport(
  prometheus: LabPrometheus,
  plan: Pick<LabPlan, 'nodes' | 'bfd'>,
): Promise<PrometheusReport> {
  const [up, sessionsUp, sessions, routes, bfd, alertRules, alerts] = await Promise.all([
    prometheus.query(LIVE_QUERIES.targetsUp),
    prometheus.query(LIVE_QUERIES.sessionsUp),
    prometheus.query(LIVE_QUERIES.sessions),
    prometheus.query(LIVE_QUERIES.routes),
    prometheus.query(LIVE_QUERIES.bfd),
    prometheus.alertRules(),
    prometheus.alerts(),
  ]);
  const [upBy, sessionsUpBy, sessionsBy, routesBy] = [up, sessionsUp, sessions, routes].map(byNode);
  const nodes: PrometheusNode[] = plan.nodes.map(({ name }) => ({
    node: name,
    scraped: upBy!.get(name) === 1,
    sessionsUp: sessionsUpBy!.get(name) ?? null,
    sessions: sessionsBy!.get(name) ?? null,
    routes: routesBy!.get(name) ?? null,
    bfd: bfd
      .filter((s) => s.metric.node === name)
      .map((s) => ({ peer: s.metric.peer ?? '', state: BFD_STATES[s.value] ?? String(s.value) })),
  }));
  const problems: string[] = [];
  for (const n of nodes) {
    if (!n.scraped) problems.push(`Prometheus: ${n.node}'s daemon not scraped (up != 1)`);
    else if (n.sessions === null || n.sessions === 0)
      problems.push(`Prometheus: no session metrics from ${n.node} yet`);
    else if (n.sessionsUp !== n.sessions)
      problems.push(`Prometheus: ${n.node} has ${n.sessionsUp ?? 0} of ${n.sessions} sessions Established`);
    if (plan.bfd && n.scraped && !n.bfd.some((b) => b.state === 'Up'))
      problems.push(`Prometheus: no BFD session Up on ${n.node}`);
  }
  if (alertRules.length === 0) problems.push(`Prometheus loaded no alerting rules from ${prometheus.rulesFile}`);
  // A settled lab pages no one: an alert pending (start-up: a session or BFD not up at the first
  // scrape) clears or fires within its shortened for:, and one firing is a finding.
  const active = alerts.map((a: Alert) => ({
    name: a.labels.alertname ?? '',
    state: a.state,
    ...(a.labels.node !== undefined ? { node: a.labels.node } : {}),
    ...(a.labels.peer !== undefined ? { peer: a.labels.peer } : {}),
  }));
  for (const a of active) problems.push(`Prometheus: alert ${describeAlert(a)}`);
  return {
    url: prometheus.url,
    fabricUrl: prometheus.fabricUrl,
    rulesFile: prometheus.rulesFile,
    shippedRules: prometheus.shippedRules,
    shortened: prometheus.shortened,
    alertRules,
    nodes,
    alerts: active,
    queries: LIVE_QUERIES,
    problems,
  };
}
