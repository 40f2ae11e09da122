// The Helm chart in deploy/helm/bgp-announce, without a `helm` binary (none can be installed here):
// its crds/ are the same files as deploy/crds; its templates render (deploy-lib/template.ts, a renderer
// limited to the constructs they use, which fails on any other) to YAML that parses and whose objects
// have no field the Kubernetes API does not know; with the default values, release name and
// namespace "bgp-announce" they are the objects of deploy/rbac.yaml and deploy/daemonset.yaml (Helm's
// own labels aside); values change what they should; the configuration given in values comes out as
// custom resources that the CRD schemas and validateConfig accept.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseListenAddress, validateConfig, type KubeObject } from '@bgp-announce/announcer';
import { TemplateError, renderTemplate, toYaml } from './deploy-lib/template.js';
import { parseYamlText, readYamlFile, unknownFields, type YamlDoc } from './deploy-lib/yaml.js';
import { validate, type Schema } from './deploy-lib/openapi.js';

const ROOT = new URL('../', import.meta.url);
const CHART = 'deploy/helm/bgp-announce/';
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');
type Any = Record<string, any>;

const chartYaml = readYamlFile(ROOT, `${CHART}Chart.yaml`)[0]!.raw as Any;
const defaults = readYamlFile(ROOT, `${CHART}values.yaml`)[0]!.raw as Any;
const templates = readdirSync(new URL(`${CHART}templates/`, ROOT)).sort();

/** Helm's values merge: maps merge key by key, anything else (lists too) replaces; null removes. */
function merge(base: unknown, over: unknown): unknown {
  if (
    base === null ||
    over === null ||
    typeof base !== 'object' ||
    typeof over !== 'object' ||
    Array.isArray(base) ||
    Array.isArray(over)
  )
    return over;
  const out: Any = { ...(base as Any) };
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? merge(out[k], v) : v;
  return out;
}

/** Renders every template as `helm template NAME chart -n NAMESPACE -f values` would. */
function render(
  values: Any = {},
  release = { Name: 'bgp-announce', Namespace: 'bgp-announce' },
): { docs: YamlDoc[]; notes: string } {
  const root = {
    Values: merge(defaults, values),
    Release: { ...release, Service: 'Helm', IsInstall: true, IsUpgrade: false },
    Chart: { Name: chartYaml.name, Version: chartYaml.version, AppVersion: chartYaml.appVersion },
  };
  const docs: YamlDoc[] = [];
  let notes = '';
  for (const file of templates) {
    const text = renderTemplate(read(`${CHART}templates/${file}`), root, file);
    if (file === 'NOTES.txt') notes = text;
    else docs.push(...parseYamlText(text, `rendered ${file}`));
  }
  return { docs, notes };
}

const objects = (docs: YamlDoc[], kind?: string): Any[] =>
  docs.map((d) => d.raw as Any).filter((o) => kind === undefined || o.kind === kind);

/** An object without the labels only Helm adds. */
function withoutHelmLabels(o: Any): Any {
  const copy = structuredClone(o);
  for (const labels of [copy.metadata?.labels]) {
    if (labels) for (const k of ['app.kubernetes.io/managed-by', 'helm.sh/chart']) delete labels[k];
  }
  return copy;
}

t.test("the chart's CRDs are deploy/crds, byte for byte", async (t) => {
  const plain = readdirSync(new URL('deploy/crds/', ROOT)).sort();
  t.strictSame(readdirSync(new URL(`${CHART}crds/`, ROOT)).sort(), plain, 'the same files');
  for (const f of plain)
    t.ok(
      read(`deploy/crds/${f}`) === read(`${CHART}crds/${f}`),
      `${f} is identical (copy deploy/crds/${f} to ${CHART}crds/ after changing it)`,
    );
});

t.test('Chart.yaml: a v2 application chart of the current version', async (t) => {
  const cli = JSON.parse(read('packages/cli/package.json')) as { version: string };
  t.equal(chartYaml.apiVersion, 'v2');
  t.equal(chartYaml.name, 'bgp-announce');
  t.equal(chartYaml.appVersion, cli.version, 'appVersion is the version of bgp-announce');
  const ds = objects(readYamlFile(ROOT, 'deploy/daemonset.yaml'), 'DaemonSet')[0]!;
  t.equal(
    ds.spec.template.spec.containers[0].image,
    `bgp-announce:${cli.version}`,
    'the plain DaemonSet runs the same version',
  );
});

t.test(
  'with the default values the chart renders the objects of deploy/rbac.yaml and deploy/daemonset.yaml',
  async (t) => {
    const { docs, notes } = render();
    for (const doc of docs) t.strictSame(unknownFields(doc), [], `${doc.origin}: ${doc.raw.kind} has no unknown field`);
    const byName = (a: Any, b: Any): number =>
      `${a.kind} ${a.metadata.name}`.localeCompare(`${b.kind} ${b.metadata.name}`);
    const plain = [...readYamlFile(ROOT, 'deploy/rbac.yaml'), ...readYamlFile(ROOT, 'deploy/daemonset.yaml')]
      .map((d) => d.raw as Any)
      .filter((o) => o.kind !== 'Namespace')
      .sort(byName);
    const rendered = objects(docs).map(withoutHelmLabels).sort(byName);
    t.strictSame(
      rendered.map((o) => `${o.kind} ${o.metadata.name}`),
      plain.map((o) => `${o.kind} ${o.metadata.name}`),
      'the same objects, no custom resources with empty values',
    );
    for (const [i, o] of rendered.entries()) t.strictSame(o, plain[i], `${o.kind} ${o.metadata.name} is the same`);
    t.ok(
      objects(docs).every((o) => o.metadata.labels['app.kubernetes.io/managed-by'] === 'Helm'),
      "Helm's labels are on every object",
    );
    t.match(
      notes,
      /kubectl label namespace bgp-announce pod-security\.kubernetes\.io\/enforce=privileged/,
      'NOTES say how to label the namespace',
    );
  },
);

t.test('values change the DaemonSet as they say', async (t) => {
  const help = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [fileURLToPath(new URL('packages/cli/bin/bgp-announce.js', ROOT)), 'daemon', '--help'],
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  );
  const ds = (values: Any, release?: { Name: string; Namespace: string }) =>
    objects(render(values, release).docs, 'DaemonSet')[0]!;
  const container = (d: Any): Any => d.spec.template.spec.containers[0];
  const base = ds({});
  const other = ds(
    {
      defaultLoadBalancer: true,
      gracefulRestart: false,
      bfd: false,
      drainTime: 20,
      loadBalancerClass: 'example.com/bgp',
      logLevel: 'debug',
      metrics: { port: 9475 },
      image: { tag: 'dev', repository: 'registry.example/bgp-announce' },
      stateDirectory: '/run/bgp',
    },
    { Name: 'edge', Namespace: 'network' },
  );
  const args = container(other).args as string[];
  t.strictSame(args, [
    '--namespace=network',
    '--lb-class=example.com/bgp',
    '--default-lb',
    '--metrics-address=[$(HOST_IP)]:9475',
    '--admin-address=127.0.0.1:7474',
    '--drain-time=20',
    '--state-dir=/run/bgp',
    '--no-graceful-restart',
    '--no-bfd',
    '--log-level=debug',
  ]);
  for (const a of args) t.ok(help.includes(a.split('=')[0]!), `${a.split('=')[0]} is an option of bgp-announce daemon`);
  t.equal(other.spec.template.spec.terminationGracePeriodSeconds, 45, 'grace period = drainTime + 25');
  t.equal(container(other).image, 'registry.example/bgp-announce:dev');
  t.equal(container(other).ports[0].containerPort, 9475);
  t.equal(other.spec.template.spec.serviceAccountName, 'edge');
  t.equal(other.metadata.namespace, 'network');
  t.equal(container(base).image, `bgp-announce:${chartYaml.appVersion}`, 'the tag defaults to appVersion');
  // The graceful restart record: a hostPath at stateDirectory, handed to the daemon's user by an init
  // container of the same image; empty: none of it.
  const init = other.spec.template.spec.initContainers[0] as Any;
  t.equal(init.image, 'registry.example/bgp-announce:dev', 'the init container runs the same image');
  t.match(init.command.join(' '), /chownSync\('\/run\/bgp', 65532, 65532\)/, 'it hands the directory to uid 65532');
  t.strictSame(init.securityContext.capabilities, { drop: ['ALL'], add: ['CHOWN'] }, 'with CAP_CHOWN only');
  t.strictSame(
    other.spec.template.spec.volumes.find((v: Any) => v.name === 'state'),
    { name: 'state', hostPath: { path: '/run/bgp', type: 'DirectoryOrCreate' } },
  );
  t.strictSame(
    container(other).volumeMounts.find((m: Any) => m.name === 'state'),
    { name: 'state', mountPath: '/run/bgp' },
  );
  const none = ds({ stateDirectory: '' });
  t.equal(none.spec.template.spec.initContainers, undefined, "stateDirectory '': no init container");
  t.notOk(
    container(none).args.some((a: string) => a.startsWith('--state-dir')),
    'no --state-dir',
  );
  t.strictSame(
    none.spec.template.spec.volumes.map((v: Any) => v.name),
    ['tmp'],
    'and no hostPath',
  );

  const talos = ds({ kubePrism: { enabled: true } });
  t.strictSame(
    container(talos).env.slice(2),
    [
      { name: 'KUBERNETES_SERVICE_HOST', value: '127.0.0.1' },
      { name: 'KUBERNETES_SERVICE_PORT', value: '7445' },
    ],
    'KubePrism',
  );
  t.equal(container(base).env.length, 2, 'only NODE_NAME and HOST_IP by default');
  t.strictSame(
    container(base).env[0],
    { name: 'NODE_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'spec.nodeName' } } },
    'NODE_NAME with the defaulted apiVersion written out',
  );
  t.strictSame(
    container(base).env[1],
    { name: 'HOST_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.hostIP' } } },
    'HOST_IP for the metrics address',
  );
  t.equal(container(base).livenessProbe.httpGet.host, undefined, 'probes go to the pod IP: the node address');

  // metrics.host: that address instead of the node's, and the probes follow it.
  const loopback = container(ds({ metrics: { host: '127.0.0.1' } }));
  t.ok(loopback.args.includes('--metrics-address=[127.0.0.1]:7475'), 'metrics.host in the address');
  t.notOk(
    loopback.env.some((e: Any) => e.name === 'HOST_IP'),
    'no HOST_IP when it is not used',
  );
  t.strictSame(
    [loopback.livenessProbe.httpGet, loopback.readinessProbe.httpGet],
    [
      { host: '127.0.0.1', path: '/healthz', port: 'metrics' },
      { host: '127.0.0.1', path: '/readyz', port: 'metrics' },
    ],
    'the probes go where the daemon listens',
  );
  t.same(
    parseListenAddress('[127.0.0.1]:7475', 'metrics address'),
    { kind: 'tcp', host: '127.0.0.1', port: 7475 },
    'which the daemon accepts',
  );

  const passive = ds({ bindPrivilegedPorts: true });
  t.strictSame(passive.spec.template.spec.securityContext.runAsUser, 0);
  t.strictSame(
    container(passive).securityContext.capabilities,
    { drop: ['ALL'], add: ['NET_BIND_SERVICE'] },
    'root with NET_BIND_SERVICE only',
  );
  t.equal(container(passive).securityContext.allowPrivilegeEscalation, false);

  // controlPlane.tolerate: both names of the control-plane taint, with any other tolerations after them.
  const cpTaints = [
    { key: 'node-role.kubernetes.io/control-plane', operator: 'Exists', effect: 'NoSchedule' },
    { key: 'node-role.kubernetes.io/master', operator: 'Exists', effect: 'NoSchedule' },
  ];
  t.strictSame(base.spec.template.spec.tolerations, cpTaints, 'by default: control-plane nodes run the pods too');
  const gpu = { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' };
  t.strictSame(
    ds({ tolerations: [gpu] }).spec.template.spec.tolerations,
    [...cpTaints, gpu],
    'tolerations are added to those of controlPlane.tolerate',
  );
  t.strictSame(
    ds({ controlPlane: { tolerate: false }, tolerations: [gpu] }).spec.template.spec.tolerations,
    [gpu],
    'controlPlane.tolerate false: only the tolerations given',
  );

  // localConfig.hostPath: --local-config with that file, mounted read-only from the node.
  const local = ds({ localConfig: { hostPath: '/var/etc/bgp-announce/api-vip.yaml' } });
  t.ok(
    container(local).args.includes('--local-config=/var/etc/bgp-announce/api-vip.yaml'),
    '--local-config names the file',
  );
  t.ok(help.includes('--local-config'), '--local-config is an option of bgp-announce daemon');
  t.strictSame(
    local.spec.template.spec.volumes.find((v: Any) => v.name === 'local-config'),
    { name: 'local-config', hostPath: { path: '/var/etc/bgp-announce/api-vip.yaml', type: 'File' } },
    'a hostPath of type File',
  );
  t.strictSame(
    container(local).volumeMounts.find((m: Any) => m.name === 'local-config'),
    { name: 'local-config', mountPath: '/var/etc/bgp-announce/api-vip.yaml', readOnly: true },
    'mounted read-only where the flag says',
  );
  t.notOk(
    container(base).args.some((a: string) => a.startsWith('--local-config')) ||
      base.spec.template.spec.volumes.some((v: Any) => v.name === 'local-config'),
    'none of it by default',
  );

  // As in Helm, a map in values merges into the default map; null removes it.
  const placed = ds({
    controlPlane: { tolerate: false },
    nodeSelector: null,
    priorityClassName: 'system-node-critical',
    imagePullSecrets: [{ name: 'pull' }],
    resources: null,
  });
  t.equal(placed.spec.template.spec.tolerations, undefined, 'no tolerations: control-plane nodes stay out');
  t.equal(placed.spec.template.spec.nodeSelector, undefined);
  t.equal(container(placed).resources, undefined);
  t.equal(placed.spec.template.spec.priorityClassName, 'system-node-critical');
  t.strictSame(placed.spec.template.spec.imagePullSecrets, [{ name: 'pull' }]);
});

t.test('monitoring values: a PodMonitor and a PrometheusRule, off by default', async (t) => {
  const kinds = (docs: YamlDoc[]) => objects(docs).map((o) => o.kind as string);
  t.notOk(
    kinds(render().docs).some((k) => k === 'PodMonitor' || k === 'PrometheusRule'),
    'none with the default values',
  );
  const { docs } = render(
    {
      monitoring: {
        podMonitor: { enabled: true, interval: '15s', labels: { release: 'kps' } },
        prometheusRule: { enabled: true, labels: { release: 'kps' } },
      },
    },
    { Name: 'lb', Namespace: 'network' },
  );
  const monitor = objects(docs, 'PodMonitor')[0];
  const rule = objects(docs, 'PrometheusRule')[0];
  t.match(monitor, {
    apiVersion: 'monitoring.coreos.com/v1',
    metadata: { name: 'lb', namespace: 'network', labels: { release: 'kps', 'app.kubernetes.io/managed-by': 'Helm' } },
    spec: {
      selector: { matchLabels: { 'app.kubernetes.io/instance': 'lb' } },
      podMetricsEndpoints: [{ port: 'metrics', interval: '15s' }],
    },
  });
  t.match(rule, {
    apiVersion: 'monitoring.coreos.com/v1',
    metadata: { name: 'lb', namespace: 'network', labels: { release: 'kps' } },
  });
  t.equal(rule?.spec.groups[0].name, 'bgp-announce', 'the rule group (test/monitoring.test.ts compares it whole)');
  t.ok(
    objects(docs, 'DaemonSet')[0]?.spec.template.metadata.labels['app.kubernetes.io/instance'] === 'lb',
    "the monitor's selector matches the pods",
  );
});

t.test('the configuration in values becomes custom resources that the CRDs and validateConfig accept', async (t) => {
  const example = readYamlFile(ROOT, 'deploy/helm/example-values.yaml')[0]!.raw as Any;
  const { docs } = render(example, { Name: 'bgp-announce', Namespace: 'network' });
  const ours = objects(docs).filter((o) => String(o.apiVersion).startsWith('bgp-announce.io/')) as KubeObject[];
  t.strictSame(
    ours.map((o) => `${o.kind} ${o.metadata?.name}`),
    ['BFDProfile fast', 'BGPPeer tor-a', 'BGPPeer tor-b', 'IPAddressPool public', 'BGPAdvertisement public'],
  );
  const crds = new Map<string, Schema>();
  for (const file of readdirSync(new URL('deploy/crds/', ROOT))) {
    const crd = readYamlFile(ROOT, `deploy/crds/${file}`)[0]!.raw as Any;
    crds.set(crd.spec.names.kind, crd.spec.versions[0].schema.openAPIV3Schema);
  }
  for (const o of ours) {
    t.strictSame(validate(crds.get(o.kind!)!, o), [], `${o.kind} ${o.metadata?.name}: the CRD schema accepts it`);
    t.equal((o.metadata as Any).namespace, 'network', 'in the release namespace (where the daemon reads)');
  }
  t.strictSame(validateConfig(ours).problems, [], 'validateConfig accepts the whole configuration');
  const pool = ours.find((o) => o.kind === 'IPAddressPool') as Any;
  t.strictSame(
    pool.metadata.labels,
    { 'app.kubernetes.io/instance': 'bgp-announce', exposure: 'public' },
    'labels from values kept',
  );
  t.strictSame(pool.spec, example.pools[0].spec, 'the spec as given');
  const peer = ours.find((o) => o.metadata?.name === 'tor-a') as Any;
  t.ok(Number.isInteger(peer.spec.myASN) && peer.spec.myASN === 64500, 'AS numbers stay integers');
  t.equal(
    objects(docs, 'DaemonSet')[0]!.spec.template.spec.containers[0].env[2].value,
    '127.0.0.1',
    'the example turns KubePrism on',
  );

  t.throws(
    () => render({ peers: [{ spec: { myASN: 64500 } }] }),
    /needs a name/,
    'an entry without a name fails as `required` does in Helm',
  );
  const big = render({
    peers: [
      { name: 'far', spec: { myASN: 4294967295, peerASN: 65551, peerAddress: '2001:db8::1', password: 'a: b # c' } },
    ],
  });
  const far = objects(big.docs, 'BGPPeer')[0]!;
  t.strictSame(
    far.spec,
    { myASN: 4294967295, peerASN: 65551, peerAddress: '2001:db8::1', password: 'a: b # c' },
    'large numbers and YAML-looking strings survive toYaml',
  );
});

t.test('the renderer: Go template semantics for what the chart uses, an error for anything else', async (t) => {
  const root = { Values: { a: { b: 'x' }, list: [1, 2], empty: [], zero: 0, yes: true }, Release: { Name: 'r' } };
  const r = (s: string) => renderTemplate(s, root, 'test');
  t.equal(r('{{ .Values.a.b }}-{{ $.Release.Name }}'), 'x-r');
  t.equal(r('a  \n  {{- .Values.a.b -}}  \n  b'), 'axb', 'trim markers eat whitespace and newlines');
  t.equal(
    r('{{ if .Values.zero }}1{{ else }}2{{ end }}{{ if .Values.yes }}3{{ end }}{{ if .Values.empty }}4{{ end }}'),
    '23',
    'Go truth',
  );
  t.equal(r('{{ range .Values.list }}<{{ . }}{{ $.Release.Name }}>{{ end }}'), '<1r><2r>');
  t.equal(r('{{ with .Values.a }}{{ .b }}{{ end }}{{ with .Values.missing }}no{{ end }}'), 'x');
  t.equal(
    r('{{ .Values.missing }}|{{ .Values.missing | default "d" }}|{{ .Values.a.b | quote }}|{{ add 2 3 .Values.zero }}'),
    '|d|"x"|5',
  );
  t.equal(r('{{ not .Values.yes }}'), 'false');
  t.equal(r('x:{{ toYaml .Values.a | nindent 2 }}'), 'x:\n  b: "x"');
  t.equal(r('{{/* a comment */}}ok'), 'ok');
  const data = { z: [{ b: 1, a: ['x', { k: true }] }, [] as unknown[], {}], 'key with space': null, n: -1.5 };
  t.strictSame(
    parseYamlText(`v:\n${toYaml(data).replace(/^/gm, '  ')}\n`, 'toYaml')[0]!.raw,
    { v: data },
    'toYaml output parses back to the same data',
  );
  for (const [bad, why] of [
    ['{{ include "x" . }}', /"include" is not supported/],
    ['{{ printf "%s" .Values.a.b }}', /unsupported function or keyword "printf"/],
    ['{{ (.Values.a.b) }}', /parentheses/],
    ['{{ $x := 1 }}', /unsupported variable/],
    ['{{ if .Values.yes }}a{{ else if .Values.zero }}b{{ end }}', /else if/],
    ['{{ if .Values.yes }}', /has no "end"/],
    ['{{ end }}', /without a block/],
    ['{{ .Values.a }}', /cannot print a map/],
    ['{{ .Values.nothing.deeper }}', /nil pointer evaluating \.Values\.nothing\.deeper/],
    ['{{ range .Values.a }}{{ end }}', /lists only/],
    ['{{-.Values.a.b }}', /must be followed by a space/],
    ['{{ required "must be set" .Values.missing }}', /must be set/],
  ] as const) {
    t.throws(() => r(bad), why, `${bad} is refused`);
  }
  t.ok(new TemplateError('x') instanceof Error);
});
