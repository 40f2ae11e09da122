// The lab's output for people: the sessions, what each node reports in its BGPNodeState, each Service
// with its VIP and the router's ECMP next hops for it and what its Announced condition says, the
// router's paths, and the verdict; with --hold, the namespaces and the commands to look inside. With
// --control-plane, the API VIP's own line: its next hops and each node's stand-in API server.
// (--json prints the LabReport itself.)
import { table } from '../status-output.js';
import { LAB_ALERT_FOR, LAB_SCRAPE_INTERVAL } from './prometheus-config.js';
import { describeAlert, type PrometheusReport } from './prometheus-report.js';
import type { ApiVipReport, LabReport, ServiceReport } from './snapshot.js';

const PEER_NAMES = { gobgp: 'gobgpd', frr: 'FRR', bird: 'BIRD' } as const;

function hops(n: number): string {
  return n === 1 ? '1 next hop' : `${n} ECMP next hops`;
}

/** "node-2" for 192.0.2.12, or the address. */
function nodeAt(report: Pick<LabReport, 'nodes'>, address: string): string {
  return report.nodes.find((n) => n.address === address)?.name ?? address;
}

/** With --weighted: how many endpoints the lab expects on node `name` (its expected weight). */
function endpointsOn(report: LabReport, s: ServiceReport, name: string): number {
  const address = report.nodes.find((n) => n.name === name)?.address;
  return address === undefined ? 0 : (s.expectedWeights?.[address] ?? 0);
}

/** One Service's row: name, policy, VIP, where the router sends it. */
function serviceRows(report: LabReport, s: ServiceReport): string[][] {
  const id = `${s.namespace}/${s.name}`;
  if (!s.ours) {
    const what = s.vips.length === 0 ? 'not ours: no VIP, left alone' : `not ours, yet has ${s.vips.join(', ')}`;
    return [[id, s.externalTrafficPolicy, '-', `class ${s.loadBalancerClass ?? 'none'}: ${what}`]];
  }
  if (s.vips.length === 0) return [[id, s.externalTrafficPolicy, '(none yet)', '']];
  return s.vips.map((vip) => {
    const route = s.routes.find((r) => r.prefix.startsWith(`${vip}/`));
    const nextHops = route?.nextHops ?? [];
    const weight = (a: string): string =>
      s.expectedWeights !== undefined && nextHops.length > 1 && route?.weights?.[a] !== undefined
        ? ` weight ${route.weights[a]}`
        : '';
    const where =
      nextHops.length === 0
        ? 'no route'
        : `${hops(nextHops.length)}: ${nextHops.map((a) => `${a} (${nodeAt(report, a)})${weight(a)}`).join(', ')}`;
    const mismatch =
      nextHops.join(',') !== s.expectedNextHops.join(',')
        ? `  [expected ${s.expectedNextHops.join(', ') || 'no route'}]`
        : '';
    const local =
      s.externalTrafficPolicy === 'Local'
        ? ` [endpoints on ${s.endpointNodes.map((n) => (s.expectedWeights ? `${n} (${endpointsOn(report, s, n)})` : n)).join(', ') || 'no node'}]`
        : s.expectedNextHops.length === 0 && s.endpointNodes.length === 0
          ? ' [no ready endpoint on any node: withdrawn]'
          : '';
    return [id, s.externalTrafficPolicy, vip, `${where}${local}${mismatch}`];
  });
}

/**
 * "API server VIP 203.0.113.100: 3 ECMP next hops: 192.0.2.11 (node-1), ..." and the nodes whose
 * stand-in API server is not healthy; "[expected ...]" while the router has others.
 */
export function formatApiVip(report: Pick<LabReport, 'nodes'>, api: ApiVipReport): string {
  const got = api.route.nextHops;
  const where =
    got.length === 0 ? 'no route' : `${hops(got.length)}: ${got.map((a) => `${a} (${nodeAt(report, a)})`).join(', ')}`;
  const unhealthy = api.health.filter((h) => h.mode !== 'ok');
  const health =
    unhealthy.length === 0
      ? ' [every API server healthy]'
      : ` [API server ${unhealthy.map((h) => `${h.node} ${h.mode === 'hang' ? 'hangs' : 'fails'}`).join(', ')}]`;
  const mismatch =
    got.join(',') !== api.expectedNextHops.join(',')
      ? `  [expected ${api.expectedNextHops.join(', ') || 'no route'}]`
      : '';
  return `API server VIP ${api.vip}: ${where}${health}${mismatch}`;
}

/** The report as lines for a terminal. */
export function formatReport(report: LabReport): string[] {
  const lines: string[] = [];
  const r = report.router;
  lines.push(`Router: ${r.software} in ${r.namespace}, ${r.address} AS ${r.asn}${report.bfd ? ', BFD on' : ''}`);
  lines.push('', 'Sessions (as the router sees them):');
  const withBfd = report.sessions.some((s) => s.bfd !== undefined);
  const sessionRows = report.sessions.map((s) => [s.node, s.address, s.state, ...(withBfd ? [s.bfd ?? ''] : [])]);
  lines.push(...table([['NODE', 'ADDRESS', 'STATE', ...(withBfd ? ['BFD'] : [])], ...sessionRows], '  '));
  if (report.nodeStates.length > 0) {
    lines.push('', 'Nodes (as their BGPNodeState says):');
    const rows = report.nodeStates.map((n) => [
      n.node,
      `${n.sessionsEstablished}/${n.sessionsTotal}`,
      String(n.servicesAnnounced),
      String(n.servicesNotAnnounced),
    ]);
    lines.push(...table([['NODE', 'SESSIONS', 'ANNOUNCED', 'NOT ANNOUNCED'], ...rows], '  '));
  }
  lines.push('', 'Services (LoadBalancer):');
  lines.push(
    ...table(
      [['SERVICE', 'POLICY', 'VIP', "ROUTER'S NEXT HOPS"], ...report.services.flatMap((s) => serviceRows(report, s))],
      '  ',
    ),
  );
  if (report.apiVip) lines.push('', formatApiVip(report, report.apiVip));
  const said = report.services.filter((s) => s.ours && s.announced !== undefined);
  if (said.length > 0) {
    lines.push('', 'What the Services say (condition bgp-announce.io/Announced, written by the leader):');
    lines.push(
      ...table(
        said.map((s) => [`${s.namespace}/${s.name}`, s.announced!.status, s.announced!.message]),
        '  ',
      ),
    );
  }
  const routes = [...report.services.flatMap((s) => s.routes), ...(report.apiVip ? [report.apiVip.route] : [])];
  if (routes.length > 0) {
    lines.push('', `The router's paths (next hops from ${routes[0]!.nextHopsFrom}):`);
    const rows: string[][] = [];
    for (const route of routes) {
      for (const [i, p] of route.paths.entries()) {
        const mark = p.best ? '*>' : p.multipath ? '*=' : '* ';
        rows.push([i === 0 ? route.prefix : '', mark, p.nextHop, `AS path ${p.asPath || '(empty)'}`]);
      }
      if (route.paths.length === 0) rows.push([route.prefix, '', '(no path)', '']);
    }
    lines.push(...table(rows, '  '), '  (*> best, *= also used for ECMP)');
  }
  if (report.prometheus) lines.push('', ...formatPrometheus(report.prometheus));
  lines.push('');
  const ours = report.services.filter((s) => s.ours);
  const vips = ours.reduce((n, s) => n + s.vips.length, 0);
  const withdrawn = ours.filter((s) => s.expectedNextHops.length === 0).reduce((n, s) => n + s.vips.length, 0);
  const routed =
    withdrawn === 0
      ? `${vips} VIPs routed to the expected next hops`
      : `${vips - withdrawn} VIPs routed to the expected next hops, ${withdrawn} withdrawn as expected (no ready endpoint)`;
  const weighted = ours.some((s) => s.expectedWeights !== undefined);
  const up = report.sessions.filter((s) => s.established).length;
  const seconds = (report.elapsedMs / 1000).toFixed(1);
  const api = report.apiVip;
  const apiSaid =
    api === undefined
      ? ''
      : `, the API server VIP ${api.vip} routed to ${api.expectedNodes.length === 0 ? 'no node (no API server healthy)' : `the ${api.expectedNodes.length === 1 ? 'node' : `${api.expectedNodes.length} nodes`} whose API server is healthy (${api.expectedNodes.join(', ')})`}`;
  if (report.ok)
    lines.push(
      `All good after ${seconds} s: ${up} sessions Established, ${routed}${weighted ? ', next hops weighted as expected' : ''}${apiSaid}, the other class's Service left alone.`,
    );
  else lines.push(`Not settled after ${seconds} s:`, ...report.problems.map((p) => `  - ${p}`));
  return lines;
}

/** What the lab's Prometheus shows (--prometheus). */
export function formatPrometheus(p: PrometheusReport): string[] {
  const withBfd = p.nodes.some((n) => n.bfd.length > 0);
  const num = (v: number | null): string => (v === null ? '-' : String(v));
  const rows = p.nodes.map((n) => [
    n.node,
    n.scraped ? 'up' : 'DOWN',
    n.sessions === null ? '-' : `${num(n.sessionsUp)}/${n.sessions}`,
    num(n.routes),
    ...(withBfd ? [n.bfd.map((b) => (n.bfd.length > 1 ? `${b.peer} ${b.state}` : b.state)).join(', ')] : []),
  ]);
  const active = p.alerts.map(describeAlert);
  const alerts = p.alertRules.length === 1 ? '1 alert' : `${p.alertRules.length} alerts`;
  return [
    `Prometheus: ${p.url} (in the API namespace at ${p.fabricUrl}), scraping every node's daemon every ${LAB_SCRAPE_INTERVAL}`,
    `  rules: ${alerts} from ${p.shippedRules}, ${p.shortened} for: shortened to ${LAB_ALERT_FOR} in ${p.rulesFile}`,
    ...table([['NODE', 'SCRAPE', 'SESSIONS UP', 'ROUTES ADVERTISED', ...(withBfd ? ['BFD'] : [])], ...rows], '  '),
    `  alerts active: ${active.length === 0 ? 'none' : active.join('; ')}`,
    `  queries: ${p.queries.sessionsUp}; ${p.queries.routes}${withBfd ? `; ${p.queries.bfd}` : ''}`,
  ];
}

/** With --hold: the namespaces and how to look inside. */
export function formatHold(report: LabReport): string[] {
  const rows: string[][] = [
    ['switch', report.fabric.switchNamespace, 'bridge br0'],
    ['router', report.router.namespace, `${PEER_NAMES[report.peer]} ${report.router.address}`],
    ['api', report.fabric.apiNamespace, `${report.fabric.apiUrl} -> ${report.fabric.apiServer} (the lab's API server)`],
    ...report.nodes.map((n) => [n.name, n.namespace, `bgp-announce daemon ${n.address}`]),
  ];
  if (report.prometheus)
    rows.splice(3, 0, [
      'prometheus',
      report.fabric.apiNamespace,
      `${report.prometheus.fabricUrl} -> ${report.prometheus.url}`,
    ]);
  return [
    '',
    'The lab stays up; Ctrl-C tears it down. Namespaces:',
    ...table(rows, '  '),
    '',
    'Look inside:',
    ...report.inspect.map((c) => `  ${c}`),
    `  logs and configs: ${report.workDir}`,
    ...(report.apiVip ? formatApiHealthHelp(report.apiVip) : []),
  ];
}

/** With --hold and --control-plane: how to fail and heal a node's stand-in API server. */
export function formatApiHealthHelp(api: ApiVipReport): string[] {
  const example = api.health[Math.min(1, api.health.length - 1)];
  if (example === undefined) return [];
  return [
    '',
    `Fail or heal a node's stand-in API server (each node's daemon checks http://127.0.0.1:6443/readyz for the API VIP ${api.vip}):`,
    `  echo fail > ${example.file}    # /readyz answers 503: the node drains, then withdraws the VIP`,
    `  echo hang > ${example.file}    # /readyz never answers: failing at the check's timeout`,
    `  echo ok > ${example.file}      # healthy again: announced after rise passes`,
    `  (one file per node: ${api.health.map((h) => h.file.split('/').pop()).join(', ')}, in ${dirOf(example.file)})`,
  ];
}

function dirOf(file: string): string {
  return file.slice(0, file.lastIndexOf('/'));
}
