// deploy/talos/api-vip.yaml (issue 14), without Talos (none runs here): the config file it writes with
// machine.files is one that `bgp-announce daemon --config` accepts (parseConfigText, the daemon's own
// parser and validateConfig), with the API server's /readyz health check and the defaults it says it
// writes out; the static pod of machine.pods has no field the Kubernetes API does not know, runs that
// file from a read-only hostPath with options `bgp-announce daemon` accepts, non-root with every
// capability dropped (active-only sessions need no NET_BIND_SERVICE), on the node's network, with the
// chart's default image and ports the DaemonSet does not use; the VIP is on the node, in the API
// server's certificate, and kept out of the kubelet's and etcd's choice of the node's address.
import t from 'tap';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { HEALTH_CHECK_DEFAULTS, parseConfigText, parseDuration } from '@bgp-announce/announcer';
import { parseDaemonCommand, type DaemonCommandOptions } from '../packages/cli/src/daemon.js';
import { toYaml } from './deploy-lib/template.js';
import { parseYamlText, readYamlFile, unknownFields } from './deploy-lib/yaml.js';

const ROOT = new URL('../', import.meta.url);
const PATCH = 'deploy/talos/api-vip.yaml';
type Any = Record<string, any>;

const docs = readYamlFile(ROOT, PATCH);
const patch = docs[0]!.raw as Any;
const machine = patch.machine as Any;
const pod = machine.pods[0] as Any;
const container = pod.spec.containers[0] as Any;

/** The container's args as `bgp-announce daemon` parses them (commander's camel-cased names). */
function optionsOf(args: string[]): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const arg of args) {
    const [flag, value] = arg.split(/=(.*)/s) as [string, string | undefined];
    const name = flag.replace(/^--(no-)?/, '').replace(/-([a-z])/g, (_m, ch: string) => ch.toUpperCase());
    options[name] = value ?? !flag.startsWith('--no-');
  }
  return options;
}

t.test('one patch document with a file, a static pod, the VIP on the node and in the certificate', async (t) => {
  t.equal(docs.length, 1, 'one patch document');
  t.equal(machine.files.length, 1, 'one file');
  t.equal(machine.pods.length, 1, 'one static pod');
  const vip = '203.0.113.100';
  const lo = (machine.network.interfaces as Any[]).find((i) => i.interface === 'lo');
  t.strictSame(lo?.addresses, [`${vip}/32`], 'the VIP is an address of the node (on lo)');
  t.ok(patch.cluster.apiServer.certSANs.includes(vip), "the VIP is in the API server's certificate");
  for (const [what, subnets] of [
    ['kubelet nodeIP.validSubnets', machine.kubelet.nodeIP.validSubnets],
    ['etcd advertisedSubnets', patch.cluster.etcd.advertisedSubnets],
  ] as const)
    t.notOk(
      (subnets as string[]).some((s) => s.startsWith('203.0.113.')),
      `${what} (${subnets.join(', ')}) leave the VIP out`,
    );
});

t.test('the file it writes is a config file the daemon accepts, with the API health check', async (t) => {
  const file = machine.files[0] as Any;
  t.equal(file.path, '/var/etc/bgp-announce/api-vip.yaml');
  t.equal(file.op, 'overwrite', 'a changed patch replaces the file');
  t.equal(file.permissions, 0o644, "readable by the pod's non-root user");
  const { config, problems } = parseConfigText(file.content, `${PATCH} machine.files[0]`);
  t.strictSame(problems, [], 'no problems');
  t.strictSame(
    config.peers.map((p) => [p.name, p.peerAddress, p.myASN, p.peerASN]),
    [['tor', '192.0.2.1', 64497, 64496]],
    'one peer, the ToR (documentation addresses and AS numbers)',
  );
  t.equal(config.staticRoutes.length, 1);
  const route = config.staticRoutes[0]!;
  t.strictSame([route.name, route.prefixes, route.peers], ['kube-apiserver', ['203.0.113.100/32'], ['tor']]);
  const ms = (d: string) => (parseDuration(d) as number) * 1000;
  t.strictSame(
    route.healthCheck,
    {
      http: {
        url: 'https://127.0.0.1:6443/readyz',
        insecureSkipVerify: true,
        expectedStatus: HEALTH_CHECK_DEFAULTS.expectedStatus,
      },
      intervalMs: ms(HEALTH_CHECK_DEFAULTS.interval),
      timeoutMs: ms(HEALTH_CHECK_DEFAULTS.timeout),
      rise: HEALTH_CHECK_DEFAULTS.rise,
      fall: HEALTH_CHECK_DEFAULTS.fall,
      drainMs: ms(HEALTH_CHECK_DEFAULTS.drainTime),
    },
    "the API server's /readyz over HTTPS, its own CA's certificate accepted, the defaults written out",
  );
  // The same text with a typo in the health check is refused, naming the field: the parse above checks.
  const typo = parseConfigText(file.content.replace('insecureSkipVerify', 'insecureSkipVerfy'), 'typo');
  t.match(
    typo.problems.map((p) => `${p.field}: ${p.message}`).join('\n'),
    /insecureSkipVerfy/,
    'a misspelt field would be reported',
  );
});

t.test("the static pod: the file's daemon, non-root, no capabilities, host network, the chart's image", async (t) => {
  // toYaml writes every field as given (client-node's dumpYaml would drop the unknown ones); the kind
  // unquoted, as the YAML reader wants it.
  const { kind, ...rest } = pod;
  const asPod = parseYamlText(`kind: ${kind}\n${toYaml(rest)}\n`, `${PATCH} machine.pods[0]`)[0]!;
  t.strictSame(unknownFields(asPod), [], 'no field unknown to the Kubernetes API');
  t.equal(pod.kind, 'Pod');
  t.equal(pod.metadata.namespace, 'kube-system', 'in kube-system (Pod Security exempt on Talos by default)');
  t.equal(pod.spec.hostNetwork, true, "the node's network: sessions from the node's address");

  const ds = readYamlFile(ROOT, 'deploy/daemonset.yaml')
    .map((d) => d.raw as Any)
    .find((o) => o.kind === 'DaemonSet')!;
  const dsPod = ds.spec.template.spec as Any;
  const dsContainer = dsPod.containers[0] as Any;
  t.strictSame(pod.spec.securityContext, dsPod.securityContext, "the DaemonSet's user (non-root 65532)");
  t.strictSame(container.securityContext, dsContainer.securityContext, 'every capability dropped, none added');
  t.strictSame(container.securityContext.capabilities, { drop: ['ALL'] });

  const chart = readYamlFile(ROOT, 'deploy/helm/bgp-announce/Chart.yaml')[0]!.raw as Any;
  const values = readYamlFile(ROOT, 'deploy/helm/bgp-announce/values.yaml')[0]!.raw as Any;
  t.equal(container.image, `${values.image.repository}:${chart.appVersion}`, "the chart's default image");

  const help = await new Promise<string>((resolve, reject) =>
    execFile(
      process.execPath,
      [fileURLToPath(new URL('packages/cli/bin/bgp-announce.js', ROOT)), 'daemon', '--help'],
      (err, stdout) => (err ? reject(err) : resolve(stdout)),
    ),
  );
  for (const arg of container.args as string[]) {
    const flag = arg.split('=')[0]!;
    t.ok(help.includes(flag), `${flag} is an option of bgp-announce daemon`);
  }
  const plan = parseDaemonCommand(optionsOf(container.args) as DaemonCommandOptions, {});
  t.same(plan.source, { kind: 'file', path: machine.files[0].path }, 'the file source, with the file the patch writes');

  const mount = (container.volumeMounts as Any[]).find((m) => machine.files[0].path.startsWith(`${m.mountPath}/`));
  t.equal(mount?.readOnly, true, "the file's directory is mounted read-only");
  const volume = (pod.spec.volumes as Any[]).find((v) => v.name === mount?.name);
  t.equal(volume?.hostPath?.path, mount?.mountPath, 'from the same path on the node');

  const port = (address: string | undefined) => Number(/:(\d+)$/.exec(address ?? '')?.[1]);
  const dsOptions = optionsOf(dsContainer.args);
  t.equal(plan.daemon.metricsAddress, '127.0.0.1:7485');
  t.equal(container.livenessProbe.httpGet.port, port(plan.daemon.metricsAddress), 'the probe goes to the metrics port');
  t.equal(container.livenessProbe.httpGet.host, '127.0.0.1', 'on loopback, where it listens');
  for (const [what, ours, theirs] of [
    ['metrics', plan.daemon.metricsAddress, dsOptions.metricsAddress],
    ['admin', plan.daemon.adminAddress, dsOptions.adminAddress],
  ] as const)
    t.not(port(ours), port(theirs as string), `${what} port differs from the DaemonSet's`);
  const drainSeconds = (plan.daemon.drainMs ?? 5000) / 1000;
  t.ok(pod.spec.terminationGracePeriodSeconds >= 2 + drainSeconds + 3 + 5, 'grace period longer than the drain');
});
