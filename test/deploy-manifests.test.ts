// The plain manifests in deploy/ (no cluster here to apply them to): every YAML file parses, no field
// is unknown to the Kubernetes API models of @kubernetes/client-node (a misspelt field would be
// dropped silently by the API server's pruning or refused by kubectl), kustomization.yaml covers the
// CRDs, RBAC and DaemonSet, the DaemonSet has what DESIGN.md and the issue ask (hostNetwork,
// non-root, no capabilities, probes on the daemon's endpoints, resources, a grace period longer than
// the drain), its args are options `bgp-announce daemon` accepts, and the Dockerfile (which cannot be
// built here) and the Talos patch say what they should.
import t from 'tap';
import { execFile } from 'node:child_process';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseListenAddress } from '@bgp-announce/announcer';
import { parseDaemonCommand, type DaemonCommandOptions } from '../packages/cli/src/daemon.js';
import { parseYamlText, readYamlFile, unknownFields, type YamlDoc } from './deploy-lib/yaml.js';

const ROOT = new URL('../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, ROOT), 'utf8');
const TEMPLATES = 'deploy/helm/bgp-announce/templates/';

/** Every file under deploy/, relative to the repository root. */
function deployFiles(dir = 'deploy/'): string[] {
  return readdirSync(new URL(dir, ROOT)).flatMap((name) =>
    statSync(new URL(dir + name, ROOT)).isDirectory() ? deployFiles(`${dir}${name}/`) : [dir + name],
  );
}

const yamlFiles = deployFiles().filter((f) => /\.ya?ml$/.test(f) && !f.startsWith(TEMPLATES));
const docsOf = (file: string): YamlDoc[] => readYamlFile(ROOT, file);
type Any = Record<string, any>;
const byKind = (file: string, kind: string): Any[] =>
  docsOf(file)
    .map((d) => d.raw as Any)
    .filter((d) => d.kind === kind);

t.test('every YAML file under deploy/ parses (Helm templates: see deploy-helm.test.ts)', async (t) => {
  t.ok(yamlFiles.length >= 14, `${yamlFiles.length} files`);
  for (const file of yamlFiles) {
    let docs: YamlDoc[] = [];
    t.doesNotThrow(() => (docs = docsOf(file)), file);
    t.ok(docs.length > 0, `${file}: ${docs.length} document(s)`);
  }
  t.throws(() => parseYamlText('a: [1\n', 'inline'), /inline document 1/, 'bad YAML is an error naming the document');
  t.throws(() => parseYamlText('a: 1\na: 2\n', 'inline'), /duplicated mapping key/, 'so is a key given twice');
});

t.test('no field unknown to the Kubernetes API in the manifests', async (t) => {
  const files = ['deploy/rbac.yaml', 'deploy/daemonset.yaml', ...deployFiles('deploy/crds/')];
  for (const file of files)
    for (const doc of docsOf(file)) t.strictSame(unknownFields(doc), [], `${doc.origin} (${doc.raw.kind})`);
  const good = docsOf('deploy/daemonset.yaml').find((d) => d.raw.kind === 'DaemonSet')!;
  const misspelt = parseYamlText(good.text.replace('hostNetwork: true', 'hostNetwrok: true'), 'misspelt')[0]!;
  t.strictSame(unknownFields(misspelt), ['spec.template.spec.hostNetwrok'], 'a misspelt field is found');
});

t.test('kustomization.yaml applies the CRDs, the RBAC and the DaemonSet', async (t) => {
  const k = docsOf('deploy/kustomization.yaml')[0]!.raw as Any;
  const resources = k.resources as string[];
  for (const r of resources) t.doesNotThrow(() => statSync(new URL(`deploy/${r}`, ROOT)), `${r} exists`);
  const crds = deployFiles('deploy/crds/').map((f) => f.slice('deploy/'.length));
  t.strictSame(
    [...resources].sort(),
    [...crds, 'daemonset.yaml', 'rbac.yaml'].sort(),
    'every CRD, rbac.yaml and daemonset.yaml',
  );
  const image = byKind('deploy/daemonset.yaml', 'DaemonSet')[0]!.spec.template.spec.containers[0].image as string;
  t.equal((k.images as Any[])[0]!.name, image.split(':')[0], 'the images entry names the DaemonSet image');
});

t.test('the DaemonSet: host network, non-root, no capabilities, probes, resources, grace period', async (t) => {
  const ns = byKind('deploy/daemonset.yaml', 'Namespace')[0]!;
  const ds = byKind('deploy/daemonset.yaml', 'DaemonSet')[0]!;
  const pod = ds.spec.template.spec as Any;
  const c = pod.containers[0] as Any;
  t.equal(ds.metadata.namespace, ns.metadata.name, 'in the namespace the file creates');
  t.equal(
    ns.metadata.labels['pod-security.kubernetes.io/enforce'],
    'privileged',
    'Pod Security privileged (hostNetwork; Talos enforces baseline)',
  );
  t.strictSame(
    ds.spec.selector.matchLabels,
    Object.fromEntries(
      Object.entries(ds.spec.template.metadata.labels).filter(([k]) => k !== 'app.kubernetes.io/version'),
    ),
    'the selector matches the pod labels',
  );
  t.equal(pod.hostNetwork, true);
  t.equal(pod.dnsPolicy, 'ClusterFirstWithHostNet');
  t.equal(pod.securityContext.runAsNonRoot, true);
  t.ok(pod.securityContext.runAsUser > 0, 'a numeric non-root user');
  t.equal(c.securityContext.allowPrivilegeEscalation, false);
  t.equal(c.securityContext.readOnlyRootFilesystem, true);
  t.strictSame(c.securityContext.capabilities, { drop: ['ALL'] }, 'every capability dropped, none added (active-only)');
  // The graceful restart record: a hostPath under /var/run (it outlives the pod), the daemon's --state-dir,
  // handed to the daemon's user by an init container that is root with CAP_CHOWN only.
  const state = pod.volumes.find((v: Any) => v.name === 'state');
  t.strictSame(state?.hostPath, { path: '/var/run/bgp-announce', type: 'DirectoryOrCreate' }, 'state: a hostPath');
  t.ok(c.args.includes('--state-dir=/var/run/bgp-announce'), '--state-dir is that directory');
  t.strictSame(c.volumeMounts.find((m: Any) => m.name === 'state')?.mountPath, '/var/run/bgp-announce');
  const init = pod.initContainers[0] as Any;
  t.strictSame(init.securityContext.capabilities, { drop: ['ALL'], add: ['CHOWN'] }, 'the init container: CHOWN only');
  t.equal(init.securityContext.allowPrivilegeEscalation, false);
  t.match(
    init.command.join(' '),
    new RegExp(`chownSync\\('/var/run/bgp-announce', ${pod.securityContext.runAsUser}, `),
  );
  t.same(
    c.env.find((e: Any) => e.name === 'NODE_NAME')?.valueFrom?.fieldRef,
    { apiVersion: 'v1', fieldPath: 'spec.nodeName' },
    'NODE_NAME from spec.nodeName, with the apiVersion the API server would default (so a server-side apply after a client-side one does not conflict)',
  );
  const metrics = c.ports.find((p: Any) => p.name === 'metrics');
  t.equal(metrics?.containerPort, 7475, 'the metrics port is named and is the daemon default');
  t.strictSame(
    [c.livenessProbe.httpGet, c.readinessProbe.httpGet],
    [
      { path: '/healthz', port: 'metrics' },
      { path: '/readyz', port: 'metrics' },
    ],
  );
  t.ok(
    c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.memory,
    'requests and a memory limit',
  );
  t.equal(c.resources.limits.cpu, undefined, 'no CPU limit (throttling delays BFD)');
  for (const key of ['node-role.kubernetes.io/control-plane', 'node-role.kubernetes.io/master'])
    t.ok(
      pod.tolerations.some((x: Any) => x.key === key && x.operator === 'Exists' && x.effect === 'NoSchedule'),
      `control-plane nodes may run it (${key})`,
    );
  t.equal(pod.serviceAccountName, byKind('deploy/rbac.yaml', 'ServiceAccount')[0]!.metadata.name);

  // Its args, as the command parses them: every option exists in `daemon --help` and is valid.
  const help = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [fileURLToPath(new URL('packages/cli/bin/bgp-announce.js', ROOT)), 'daemon', '--help'],
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  );
  const known = new Set(help.match(/--[a-z-]+/g));
  const options: Record<string, unknown> = {};
  for (const arg of c.args as string[]) {
    const [flag, value] = arg.split(/=(.*)/s) as [string, string | undefined];
    t.ok(known.has(flag), `${flag} is an option of bgp-announce daemon`);
    const negated = flag.startsWith('--no-');
    const name = flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
    options[name] = value ?? !negated;
  }
  const plan = parseDaemonCommand(options as DaemonCommandOptions, { NODE_NAME: 'node-a' });
  t.same(plan.source, {
    kind: 'kubernetes',
    namespace: ns.metadata.name,
    loadBalancerClass: 'bgp-announce.io/bgp',
    defaultLoadBalancer: false,
  });
  t.equal(
    plan.daemon.metricsAddress,
    `[$(HOST_IP)]:${metrics.containerPort}`,
    'the daemon listens on the port the probes use, on the node address only',
  );
  t.same(
    c.env.find((e: Any) => e.name === 'HOST_IP')?.valueFrom?.fieldRef,
    { apiVersion: 'v1', fieldPath: 'status.hostIP' },
    'HOST_IP (which Kubernetes puts in the args) from status.hostIP: the pod IP that kubelet probes',
  );
  for (const hostIp of ['192.0.2.10', '2001:db8::10'])
    t.same(
      parseListenAddress(plan.daemon.metricsAddress!.replace('$(HOST_IP)', hostIp), 'metrics address'),
      { kind: 'tcp', host: hostIp, port: metrics.containerPort },
      `with HOST_IP ${hostIp} the daemon accepts the address`,
    );
  const drainSeconds = (plan.daemon.drainMs ?? 5000) / 1000;
  t.ok(
    pod.terminationGracePeriodSeconds >= 2 + drainSeconds + 3 + 5,
    `grace period ${pod.terminationGracePeriodSeconds} s > 2 s source stop + ${drainSeconds} s drain + 3 s close, with margin`,
  );
});

t.test('the Dockerfile: Node 24 slim, addon built in a build stage, runtime only, non-root, the daemon', async (t) => {
  const text = read('Dockerfile');
  const lines = text.split('\n');
  t.match(text, /^ARG NODE_IMAGE=node:24-slim$/m, 'node:24-slim');
  t.strictSame(
    lines.filter((l) => l.startsWith('FROM ')),
    ['FROM ${NODE_IMAGE} AS build', 'FROM ${NODE_IMAGE}'],
    'a build stage and a runtime stage on the same base',
  );
  t.match(
    text,
    /apt-get install -y --no-install-recommends python3 make g\+\+/,
    'compilers for node-gyp in the build stage',
  );
  t.match(
    text,
    /node packages\/sockopt\/scripts\/build-addon\.mjs\n/,
    'the addon build may not fail silently (no --optional)',
  );
  t.match(text, /npm ci --omit=dev --ignore-scripts/, 'production dependencies only');
  const runtime = text.slice(text.lastIndexOf('FROM '));
  t.notMatch(runtime, /apt-get|g\+\+/, 'no compilers in the runtime stage');
  const user = /^USER (\d+):(\d+)$/m.exec(runtime);
  const ds = byKind('deploy/daemonset.yaml', 'DaemonSet')[0]!;
  t.ok(user && Number(user[1]) > 0, 'a numeric non-root USER (runAsNonRoot can check it)');
  t.equal(Number(user?.[1]), ds.spec.template.spec.securityContext.runAsUser, 'the same user as the DaemonSet');
  t.match(runtime, /^ENTRYPOINT \["bgp-announce", "daemon"\]$/m);
  t.match(runtime, /^EXPOSE 7475$/m);
  t.match(text, /NOT BUILT HERE/, 'says it cannot be built here');
  const ignore = read('.dockerignore')
    .split('\n')
    .filter((l) => l !== '' && !l.startsWith('#'));
  for (const p of ['**/node_modules', '**/dist', '.git']) t.ok(ignore.includes(p), `.dockerignore: ${p}`);
  for (const needed of ['package.json', 'package-lock.json', 'packages', 'tsconfig.json', 'tsconfig.base.json'])
    t.notOk(ignore.includes(needed), `${needed} reaches the build`);
});

t.test('the Talos patch removes the exclude label and keeps KubePrism on', async (t) => {
  const patch = docsOf('deploy/talos/patch.yaml');
  t.equal(patch.length, 1, 'one patch document');
  const machine = (patch[0]!.raw as Any).machine;
  t.strictSame(machine.nodeLabels, { 'node.kubernetes.io/exclude-from-external-load-balancers': { $patch: 'delete' } });
  const values = docsOf('deploy/helm/bgp-announce/values.yaml')[0]!.raw as Any;
  t.strictSame(
    machine.features.kubePrism,
    { enabled: true, port: values.kubePrism.port },
    'the port the chart points at',
  );
});
