// deploy/monitoring checked with Debian's promtool (Prometheus 2.42): the alert rule file passes
// `promtool check rules` and its unit tests (test/monitoring/alerts.test.yaml: every alert firing, and
// quiet where it must be); the PrometheusRule manifest and the Helm chart's PrometheusRule carry the
// very same groups, and the chart's PodMonitor is the plain one; a real daemon's scrape passes
// `promtool check metrics`; every query of the Grafana dashboard parses (as a recording rule) and
// selects only metric names that scrape exports. Without promtool these fail in CI and skip elsewhere.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { dumpYaml, loadAllYaml } from '@kubernetes/client-node';
import { renderTemplate } from './deploy-lib/template.js';
import { parseYamlText, readYamlFile } from './deploy-lib/yaml.js';
import { promtool, requirePromtool } from './monitoring-lib/promtool.js';
import { exportedMetrics, selectedMetrics, withoutGrafanaVariables } from './monitoring-lib/promql.js';
import {
  fakeSource,
  get,
  ourPeer,
  poll,
  receiverSpeaker,
  testDaemon,
} from '../packages/announcer/test/daemon-helpers.js';
import { freePort } from '../packages/bfd/test/engine-helpers.js';

const ROOT = new URL('../', import.meta.url);
const ROOT_DIR = fileURLToPath(ROOT);
const RULES = 'deploy/monitoring/alerts.rules.yaml';
const CHART = 'deploy/helm/bgp-announce/';
type Any = Record<string, any>;

const read = (p: string): string => readFileSync(new URL(p, ROOT), 'utf8');
const parse = (text: string): Any => JSON.parse(JSON.stringify((loadAllYaml(text) as unknown[])[0])) as Any;
const ruleFile = parse(read(RULES));
const alerts = (ruleFile.groups as Any[]).flatMap((g) => g.rules as Any[]).filter((r) => r.alert);

function tmpDir(t: Test): string {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bgp-announce-monitoring-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A chart template rendered with the chart's values and `monitoring` overridden. */
function renderChart(file: string, monitoring: Any): Any[] {
  const chart = parse(read(`${CHART}Chart.yaml`));
  const values = parse(read(`${CHART}values.yaml`));
  values.monitoring = { ...values.monitoring, ...monitoring };
  const root = {
    Values: values,
    Release: { Name: 'lb', Namespace: 'network', Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
  };
  const text = renderTemplate(read(`${CHART}templates/${file}`), root, file);
  return parseYamlText(text, `rendered ${file}`).map((d) => d.raw as Any);
}

t.test('the rule file: one group bgp-announce, every alert labelled and explained, promtool check rules', async (t) => {
  t.same(
    ruleFile.groups.map((g: Any) => g.name),
    ['bgp-announce'],
    'one group, named bgp-announce',
  );
  t.same(
    alerts.map((a) => a.alert),
    [
      'BGPAnnounceSessionDown',
      'BGPAnnounceBFDSessionDown',
      'BGPAnnounceServiceNotAnnounced',
      'BGPAnnouncePoolAlmostExhausted',
      'BGPAnnouncePoolExhausted',
      'BGPAnnounceConfigRejected',
      'BGPAnnounceDaemonNotReady',
      'BGPAnnounceBFDTimerLateness',
      'BGPAnnounceReconcileErrors',
    ],
    'the alerts of issue 16',
  );
  const down = alerts.find((a) => a.alert === 'BGPAnnounceSessionDown')!;
  t.match(
    down.expr,
    /bgp_announce_session_state_info\{state="Established"\} == 0/,
    'session down: the lab relies on it',
  );
  t.equal(down.for, '2m', 'the shipped threshold');
  for (const a of alerts) {
    t.match(a.labels?.severity, /^(warning|critical)$/, `${a.alert}: severity`);
    t.ok(a.annotations?.summary && a.annotations?.description, `${a.alert}: summary and description`);
    t.ok(a.for, `${a.alert}: a for: duration`);
  }
  if (!requirePromtool(t)) return;
  const run = await promtool(['check', 'rules', RULES], { cwd: ROOT_DIR });
  t.equal(run.code, 0, `promtool check rules: ${run.stdout}${run.stderr}`);
  t.match(run.stdout, new RegExp(`SUCCESS: ${alerts.length} rules found`));

  // And it can fail: a broken expression is refused.
  const dir = tmpDir(t);
  const broken = structuredClone(ruleFile);
  broken.groups[0].rules[0].expr = 'bgp_announce_session_state_info{state="Established" == 0';
  writeFileSync(path.join(dir, 'broken.yaml'), dumpYaml(broken));
  t.not(
    (await promtool(['check', 'rules', path.join(dir, 'broken.yaml')])).code,
    0,
    'a bad expression fails the check',
  );
});

t.test('promtool test rules: every alert fires in its test, and stays quiet where it must', async (t) => {
  const tests = parse(read('test/monitoring/alerts.test.yaml'));
  t.same(tests.rule_files, ['../../deploy/monitoring/alerts.rules.yaml'], 'tests the shipped rule file');
  const evals = (tests.tests as Any[]).flatMap((g) => (g.alert_rule_test ?? []) as Any[]);
  for (const a of alerts) {
    const mine = evals.filter((e) => e.alertname === a.alert);
    t.ok(
      mine.some((e) => (e.exp_alerts ?? []).length > 0),
      `${a.alert}: a test where it fires`,
    );
    t.ok(
      mine.some((e) => (e.exp_alerts ?? []).length === 0),
      `${a.alert}: a test where it does not`,
    );
  }
  if (!requirePromtool(t)) return;
  const run = await promtool(['test', 'rules', 'alerts.test.yaml'], { cwd: path.join(ROOT_DIR, 'test/monitoring') });
  t.equal(run.code, 0, `promtool test rules:\n${run.stdout}${run.stderr}`);
  t.match(run.stdout, /SUCCESS/);

  // The tests can fail: the same tests against rules whose session-down threshold is 1m.
  const dir = tmpDir(t);
  const shorter = structuredClone(ruleFile);
  shorter.groups[0].rules.find((r: Any) => r.alert === 'BGPAnnounceSessionDown').for = '1m';
  writeFileSync(path.join(dir, 'rules.yaml'), dumpYaml(shorter));
  writeFileSync(
    path.join(dir, 'test.yaml'),
    read('test/monitoring/alerts.test.yaml').replace('../../deploy/monitoring/alerts.rules.yaml', 'rules.yaml'),
  );
  const wrong = await promtool(['test', 'rules', 'test.yaml'], { cwd: dir });
  t.not(wrong.code, 0, 'a threshold changed: the unit tests fail');
  t.match(wrong.stdout + wrong.stderr, /BGPAnnounceSessionDown/);
});

t.test('the PrometheusRule manifest and the Helm chart carry the groups of the rule file', async (t) => {
  const [manifest, ...more] = readYamlFile(ROOT, 'deploy/monitoring/prometheusrule.yaml');
  t.equal(more.length, 0);
  t.match(manifest!.raw, {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: { name: 'bgp-announce', namespace: 'bgp-announce' },
  });
  t.strictSame((manifest!.raw as Any).spec, { groups: ruleFile.groups }, 'manifest: the same groups');

  t.strictSame(renderChart('prometheusrule.yaml', {}), [], 'off by default');
  const [rendered, ...others] = renderChart('prometheusrule.yaml', {
    prometheusRule: { enabled: true, labels: { release: 'kube-prometheus-stack' } },
  });
  t.equal(others.length, 0);
  t.match(rendered, {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'lb',
      namespace: 'network',
      labels: { release: 'kube-prometheus-stack', 'app.kubernetes.io/instance': 'lb' },
    },
  });
  t.strictSame(rendered!.spec, { groups: ruleFile.groups }, 'chart: the same groups');
});

t.test('the PodMonitor: the plain manifest and the chart, with the node label', async (t) => {
  const [plain] = readYamlFile(ROOT, 'deploy/monitoring/podmonitor.yaml').map((d) => d.raw as Any);
  const endpoint = plain!.spec.podMetricsEndpoints[0];
  t.match(endpoint, { port: 'metrics', path: '/metrics', honorLabels: true });
  t.same(
    endpoint.relabelings,
    [{ action: 'replace', sourceLabels: ['__meta_kubernetes_pod_node_name'], targetLabel: 'node' }],
    'the node label the alerts name',
  );
  const daemonSet = readYamlFile(ROOT, 'deploy/daemonset.yaml')
    .map((d) => d.raw as Any)
    .find((o) => o.kind === 'DaemonSet')!;
  t.match(daemonSet.spec.template.metadata.labels, plain!.spec.selector.matchLabels, "selects the DaemonSet's pods");
  t.ok(
    daemonSet.spec.template.spec.containers[0].ports.some((p: Any) => p.name === endpoint.port),
    'whose container has the port it names',
  );

  t.strictSame(renderChart('podmonitor.yaml', {}), [], 'off by default');
  const [rendered] = renderChart('podmonitor.yaml', {
    podMonitor: { enabled: true, interval: '15s', labels: { team: 'net' } },
  });
  t.match(rendered, { kind: 'PodMonitor', metadata: { name: 'lb', namespace: 'network', labels: { team: 'net' } } });
  t.strictSame(rendered!.spec.selector, {
    matchLabels: { 'app.kubernetes.io/name': 'bgp-announce', 'app.kubernetes.io/instance': 'lb' },
  });
  t.strictSame(
    rendered!.spec.podMetricsEndpoints,
    [{ ...endpoint, interval: '15s' }],
    'the plain endpoint, with the interval of values',
  );
});

/** The scrape of a real daemon (BGP peers, the BFD engine, every DaemonContext metric fed), for the last two tests. */
let scrape: string | undefined;

t.test('promtool check metrics on a real scrape of the daemon', async (t) => {
  const r = await receiverSpeaker(t);
  const source = fakeSource((ctx) => {
    ctx.speaker.addPeer('rtr', ourPeer(r.port));
    ctx.speaker.announce('192.0.2.0/24');
  });
  const ports = { singleHop: await freePort(4), multihop: await freePort(4) };
  const { daemon } = await testDaemon(t, source, { bfd: { listenPorts: ports } });
  source.setReady(true);
  const ctx = source.ctx!;
  // A peer that requires BFD (nobody answers: it stays Down), for the per-peer BFD series.
  ctx.speaker.addPeer(
    'rtr-bfd',
    ourPeer(await freePort(4), {
      localAddress: '127.0.0.1',
      bfd: { profile: { name: 'slow', transmitInterval: 300, receiveInterval: 300, detectMultiplier: 3 } },
    }),
  );
  ctx.observeReconcile(0.01, 'ok');
  ctx.observeReconcile(0.2, 'error');
  ctx.setPoolUsage([{ pool: 'blue', family: 4, used: 3, total: 16 }]);
  ctx.setRejectedConfigObjects?.({ BGPPeer: 1 });
  ctx.readAnnouncingNodes?.(() => [{ namespace: 'demo', service: 'web', nodes: 1 }]);
  await poll('rtr Established', () =>
    daemon.speaker.peers().find((p) => p.id === 'rtr')?.state === 'Established' ? true : undefined,
  );
  await poll(
    'the BFD session in the engine',
    async () => ((await daemon.bfd?.metrics())?.sessions ?? 0) > 0 || undefined,
  );
  scrape = (await get(daemon.metricsAddress, '/metrics')).body;
  for (const name of [
    'bgp_announce_session_state_info',
    'bgp_announce_bfd_session_state',
    'bgp_announce_bfd_shortest_detection_time_seconds',
    'bgp_announce_service_announcing_nodes',
    'bgp_announce_config_objects_rejected',
    'bgp_announce_pool_addresses_used',
    'bgp_announce_reconcile_duration_seconds',
  ])
    t.ok(exportedMetrics(scrape).has(name), `the scrape has ${name}`);
  // Every metric the alerts use is in it.
  for (const a of alerts)
    for (const name of selectedMetrics(a.expr))
      t.ok(exportedMetrics(scrape).has(name), `${a.alert}: ${name} is exported`);

  if (!requirePromtool(t)) return;
  const run = await promtool(['check', 'metrics'], { input: scrape });
  // prom-client's default metrics name three gauges *_total; their names are not ours to choose.
  const problems = `${run.stdout}${run.stderr}`
    .split('\n')
    .filter((line) => line.trim() !== '')
    .filter(
      (line) =>
        !/^bgp_announce_nodejs_active_(handles|requests|resources)_total non-counter metrics should not have "_total" suffix$/.test(
          line,
        ),
    );
  t.strictSame(problems, [], 'no lint problem in our own metrics');
  const bad = await promtool(['check', 'metrics'], { input: '# HELP x_total a\n# TYPE x_total gauge\nx_total 1\n' });
  t.not(bad.code, 0, 'and it can fail: a gauge named like a counter');
});

t.test(
  'the Grafana dashboard: the panels asked for, every query parses and selects only exported metrics',
  async (t) => {
    const dashboard = JSON.parse(read('deploy/monitoring/dashboard.json')) as Any;
    const panels = (dashboard.panels as Any[]).flatMap((p) => [p, ...((p.panels as Any[] | undefined) ?? [])]);
    const titles = panels.map((p) => String(p.title));
    for (const want of [
      /sessions by state/i,
      /announced VIPs per node/i,
      /UPDATEs sent and received/i,
      /BFD state/i,
      /BFD worker lateness/i,
      /pool usage/i,
      /reconcile latency/i,
      /event-loop lag/i,
    ])
      t.ok(
        titles.some((title) => want.test(title)),
        `a panel ${want}`,
      );
    const exprs = panels.flatMap((p) => ((p.targets as Any[] | undefined) ?? []).map((q) => String(q.expr)));
    t.ok(exprs.length >= 15, `${exprs.length} queries`);

    t.ok(scrape, 'the scrape of the previous test');
    const exported = exportedMetrics(scrape ?? '');
    for (const expr of exprs) {
      const names = selectedMetrics(withoutGrafanaVariables(expr));
      t.ok(names.length > 0, `selects a metric: ${expr}`);
      for (const name of names) t.ok(exported.has(name), `${name} is exported (${expr})`);
    }
    t.same(selectedMetrics('sum by (node) (rate(bgp_announce_nope_total{node=~"a"}[5m])) / on (node) up'), [
      'bgp_announce_nope_total',
      'up',
    ]);

    if (!requirePromtool(t)) return;
    const dir = tmpDir(t);
    const asRules = (list: string[]) =>
      dumpYaml({
        groups: [
          {
            name: 'dashboard',
            rules: list.map((expr, i) => ({ record: `dashboard:query_${i}`, expr: withoutGrafanaVariables(expr) })),
          },
        ],
      });
    writeFileSync(path.join(dir, 'dashboard.rules.yaml'), asRules(exprs));
    const run = await promtool(['check', 'rules', path.join(dir, 'dashboard.rules.yaml')]);
    t.equal(run.code, 0, `every query parses:\n${run.stdout}${run.stderr}`);
    writeFileSync(path.join(dir, 'bad.rules.yaml'), asRules(['sum by (node (bgp_announce_ready)']));
    t.not((await promtool(['check', 'rules', path.join(dir, 'bad.rules.yaml')])).code, 0, 'and a bad query fails');
  },
);
