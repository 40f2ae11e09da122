// `bgp-announce lab --prometheus`, the parts without a running Prometheus: its configuration (each
// daemon a target labelled with its node), the lab-only rule file (every `for:` shortened, nothing else
// changed), the daemons' metrics address, the live queries' verdict and the lines a person reads.
import t from 'tap';
import { daemonArgs, metricsAddress } from '../src/lab/daemons.js';
import { labPlan } from '../src/lab/plan.js';
import { LAB_ALERT_FOR, labRules, prometheusConfig, shippedRulesFile } from '../src/lab/prometheus-config.js';
import { LIVE_QUERIES, prometheusReport, type PrometheusReport } from '../src/lab/prometheus-report.js';
import type { Alert, LabPrometheus, Sample } from '../src/lab/prometheus.js';
import { formatPrometheus } from '../src/lab/report.js';

const plan = labPlan({ peer: 'frr', nodes: 2, bfd: true, prometheus: true }, 'p');

t.test('the daemons serve metrics on their fabric address only with --prometheus', async (t) => {
  const node = plan.nodes[0]!;
  t.equal(metricsAddress(node), '192.0.2.11:7475');
  t.notOk(daemonArgs(node, 'http://192.0.2.100:6443', 'bin').includes('--metrics-address'), 'default: loopback');
  t.same(daemonArgs(node, 'http://192.0.2.100:6443', 'bin', true).slice(-2), ['--metrics-address', '192.0.2.11:7475']);
});

t.test('the configuration: every node a target with its node label, 2 s intervals, the lab rules', async (t) => {
  t.equal(
    prometheusConfig(plan, '/tmp/w/lab.rules.yaml'),
    [
      '# bgp-announce lab: every node daemon, scraped on the fabric',
      'global:',
      '  scrape_interval: 2s',
      '  scrape_timeout: 2s',
      '  evaluation_interval: 2s',
      'rule_files:',
      '  - "/tmp/w/lab.rules.yaml"',
      'scrape_configs:',
      '  - job_name: bgp-announce',
      '    static_configs:',
      '      - targets: ["192.0.2.11:7475"]',
      '        labels:',
      '          node: "node-1"',
      '      - targets: ["192.0.2.12:7475"]',
      '        labels:',
      '          node: "node-2"',
      '',
    ].join('\n'),
  );
  t.match(shippedRulesFile(), /\/deploy\/monitoring\/alerts\.rules\.yaml$/, 'the shipped rules, from the repository');
});

t.test('the lab rule file: every for: shortened, all else as shipped', async (t) => {
  const shipped = [
    'groups:',
    '  - name: bgp-announce',
    '    rules:',
    '      - alert: BGPAnnounceSessionDown',
    '        expr: bgp_announce_session_state_info{state="Established"} == 0',
    '        for: 2m',
    '        annotations:',
    '          description: |',
    '            for: 10m is text in a block scalar, not a key.',
    '          summary: down',
    '      - for: "1h30m" # quoted, first key of the rule',
    '        alert: PoolExhausted',
    '        expr: x > 0',
    '      - alert: NoFor',
    '        expr: y > 0',
    '',
  ].join('\n');
  const lab = labRules(shipped);
  t.equal(LAB_ALERT_FOR, '5s');
  t.same(lab.shortened, [
    { line: 6, from: '2m' },
    { line: 11, from: '1h30m' },
  ]);
  const expected = shipped
    .replace('        for: 2m', '        for: 5s')
    .replace('      - for: "1h30m" # quoted', '      - for: 5s # quoted');
  t.equal(lab.text, expected, 'only the for: lines differ');
  t.equal(labRules(shipped, '1s').text.split('for: 1s').length - 1, 2, 'the duration can be chosen');
  t.same(labRules('groups: []\n').shortened, [], 'no rules, nothing shortened');
});

/** A Prometheus that answers the live queries from fixed samples. */
function fakePrometheus(
  answers: Partial<Record<keyof typeof LIVE_QUERIES, Sample[]>>,
  alerts: Alert[] = [],
): LabPrometheus {
  const byExpr = new Map<string, Sample[]>(
    Object.entries(LIVE_QUERIES).map(([k, expr]) => [expr, answers[k as keyof typeof LIVE_QUERIES] ?? []]),
  );
  return {
    url: 'http://127.0.0.1:9090',
    fabricUrl: 'http://192.0.2.100:9090',
    rulesFile: '/tmp/w/lab.rules.yaml',
    shippedRules: '/repo/deploy/monitoring/alerts.rules.yaml',
    shortened: 1,
    process: undefined as unknown as LabPrometheus['process'],
    query: async (expr) => {
      const got = byExpr.get(expr);
      if (got === undefined) throw new Error(`unexpected query ${expr}`);
      return got;
    },
    alerts: async () => alerts,
    alertRules: async () => ['BGPAnnounceSessionDown'],
    stop: async () => {},
  };
}

const perNode = (values: number[], extra: Record<string, string> = {}): Sample[] =>
  values.map((value, i) => ({ metric: { node: `node-${i + 1}`, ...extra }, value }));

t.test('the live queries: all good, then what is missing', async (t) => {
  const good = await prometheusReport(
    fakePrometheus({
      targetsUp: perNode([1, 1]),
      sessionsUp: perNode([1, 1]),
      sessions: perNode([1, 1]),
      routes: perNode([2, 3]),
      bfd: perNode([3, 3], { peer: 'router' }),
    }),
    plan,
  );
  t.same(good.problems, []);
  t.same(good.nodes[1], {
    node: 'node-2',
    scraped: true,
    sessionsUp: 1,
    sessions: 1,
    routes: 3,
    bfd: [{ peer: 'router', state: 'Up' }],
  });
  const bad = await prometheusReport(
    fakePrometheus(
      {
        targetsUp: perNode([1, 0]),
        sessionsUp: perNode([0]),
        sessions: perNode([1]),
        bfd: perNode([1], { peer: 'router' }),
      },
      [
        {
          labels: { alertname: 'BGPAnnounceSessionDown', node: 'node-1', peer: 'router' },
          annotations: {},
          state: 'pending',
        },
      ],
    ),
    plan,
  );
  t.same(bad.problems, [
    'Prometheus: node-1 has 0 of 1 sessions Established',
    'Prometheus: no BFD session Up on node-1',
    "Prometheus: node-2's daemon not scraped (up != 1)",
    'Prometheus: alert BGPAnnounceSessionDown pending (node-1, router)',
  ]);
  t.same(bad.alerts, [{ name: 'BGPAnnounceSessionDown', state: 'pending', node: 'node-1', peer: 'router' }]);
  t.equal(bad.nodes[1]!.routes, null);
});

t.test('the lines a person reads', async (t) => {
  const report: PrometheusReport = {
    url: 'http://127.0.0.1:9090',
    fabricUrl: 'http://192.0.2.100:9090',
    rulesFile: '/tmp/w/lab.rules.yaml',
    shippedRules: '/repo/deploy/monitoring/alerts.rules.yaml',
    shortened: 8,
    alertRules: ['BGPAnnounceSessionDown', 'BGPAnnounceBFDSessionDown'],
    nodes: [
      { node: 'node-1', scraped: true, sessionsUp: 1, sessions: 1, routes: 2, bfd: [{ peer: 'router', state: 'Up' }] },
      { node: 'node-2', scraped: false, sessionsUp: null, sessions: null, routes: null, bfd: [] },
    ],
    alerts: [{ name: 'BGPAnnounceSessionDown', state: 'firing', node: 'node-1', peer: 'router' }],
    queries: LIVE_QUERIES,
    problems: [],
  };
  t.same(formatPrometheus(report), [
    "Prometheus: http://127.0.0.1:9090 (in the API namespace at http://192.0.2.100:9090), scraping every node's daemon every 2s",
    '  rules: 2 alerts from /repo/deploy/monitoring/alerts.rules.yaml, 8 for: shortened to 5s in /tmp/w/lab.rules.yaml',
    '  NODE    SCRAPE  SESSIONS UP  ROUTES ADVERTISED  BFD',
    '  node-1  up      1/1          2                  Up',
    '  node-2  DOWN    -            -',
    '  alerts active: BGPAnnounceSessionDown firing (node-1, router)',
    `  queries: ${LIVE_QUERIES.sessionsUp}; ${LIVE_QUERIES.routes}; ${LIVE_QUERIES.bfd}`,
  ]);
});
