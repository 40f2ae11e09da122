// `bgp-announce import metallb` through the real CLI entry point (a child process): the exit
// statuses (0 all carried over, 1 something needs the user, 2 bad input or usage), YAML on stdout
// that our own validation accepts, --output-dir, stdin, and --from-cluster against the in-repo test
// API server serving MetalLB's custom resources (metallb.io), read through a kubeconfig file.
import t from 'tap';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadAllYaml } from '@kubernetes/client-node';
import { validateConfig, type KubeObject } from '@bgp-announce/announcer';
import { BGP_ANNOUNCE_CRDS, start } from '@bgp-announce/test-apiserver';

const CLI = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));

/** Runs the built CLI; resolves with its exit status and output. */
function cli(args: string[], stdin?: string): Promise<{ status: number; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [CLI, 'import', 'metallb', ...args],
      { env: { ...process.env, KUBECONFIG: '/nonexistent' }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const status = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ status, out: stdout, err: stderr });
      },
    );
    if (stdin !== undefined) child.stdin?.end(stdin);
    else child.stdin?.end();
  });
}

const dir = mkdtempSync(join(tmpdir(), 'import-metallb-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};

const GOOD = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor-a, namespace: metallb-system}
spec: {myASN: 64500, peerASN: 64496, peerAddress: 192.0.2.1, connectTime: 5s}
---
apiVersion: metallb.io/v1beta1
kind: IPAddressPool
metadata: {name: public, namespace: metallb-system}
spec: {addresses: [203.0.113.0/28]}
---
apiVersion: metallb.io/v1beta1
kind: BGPAdvertisement
metadata: {name: public, namespace: metallb-system}
spec: {ipAddressPools: [public]}
`;
const L2 = `---
apiVersion: metallb.io/v1beta1
kind: L2Advertisement
metadata: {name: lan, namespace: metallb-system}
`;

const objectsOf = (yaml: string): KubeObject[] => loadAllYaml(yaml) as KubeObject[];

t.test('exit 0: everything carried over; the YAML passes our validation', async (t) => {
  const r = await cli([file('good.yaml', GOOD)]);
  t.equal(r.status, 0, r.err);
  const objects = objectsOf(r.out);
  t.same(
    objects.map((o) => `${o.kind}/${o.metadata?.name}`),
    ['BGPPeer/tor-a', 'IPAddressPool/public', 'BGPAdvertisement/public'],
  );
  t.same(validateConfig(objects).problems, [], 'our validation accepts it');
  t.match(
    r.err,
    /^read 1 BGPPeer, 1 IPAddressPool, 1 BGPAdvertisement; wrote 1 BGPPeer, 1 IPAddressPool, 1 BGPAdvertisement\n/,
  );
  t.notMatch(r.err, /needs you/);
});

t.test('exit 1: something needs the user; what carried over is still written', async (t) => {
  const r = await cli([file('l2.yaml', GOOD + L2)]);
  t.equal(r.status, 1, r.err);
  t.equal(objectsOf(r.out).length, 3);
  t.match(r.err, /needs you.*\n {2}L2Advertisement lan \(.*l2\.yaml:16\): \(object\): layer-2 mode/);
});

t.test('exit 2: bad input names the document and the field, writes nothing, shows no stack trace', async (t) => {
  const bad = file(
    'bad.yaml',
    `${GOOD}---\napiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: tor-b}\nspec: {myASN: 64500, peerASN: -1, peerAddress: 192.0.2.2}\n`,
  );
  const r = await cli([bad]);
  t.equal(r.status, 2);
  t.equal(r.out, '', 'nothing on stdout');
  t.match(r.err, /BGPPeer tor-b \(.*bad\.yaml:16\): spec\.peerASN: must be/);
  t.notMatch(r.err, /\n\s+at /, 'no stack trace');

  const syntax = await cli([file('syntax.yaml', 'apiVersion: metallb.io/v1beta1\nkind: [IPAddressPool\n')]);
  t.equal(syntax.status, 2);
  t.match(syntax.err, /syntax\.yaml: line \d+, column \d+: YAML syntax error/);

  const unknown = await cli([file('unknown.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n')]);
  t.equal(unknown.status, 2);
  t.match(unknown.err, /Deployment web \(.*unknown\.yaml:1\): apiVersion: must be metallb\.io\/<version>/);
});

t.test('usage errors are exit 2 too', async (t) => {
  const missing = await cli([join(dir, 'no-such.yaml')]);
  t.equal(missing.status, 2);
  t.match(missing.err, /cannot read .*no-such\.yaml: no such file/);
  const both = await cli([file('x.yaml', GOOD), '--from-cluster']);
  t.equal(both.status, 2);
  t.match(both.err, /give a FILE or --from-cluster, not both/);
  const kube = await cli([file('y.yaml', GOOD), '--kubeconfig', 'k']);
  t.match(kube.err, /--kubeconfig is only used with --from-cluster/);
  const ns = await cli([file('z.yaml', GOOD), '--namespace', 'Not_A_Namespace']);
  t.equal(ns.status, 2);
  t.match(ns.err, /--namespace must be a namespace name/);
});

t.test('stdin, JSON, --namespace', async (t) => {
  const json = JSON.stringify({
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'p' },
    spec: { addresses: ['198.51.100.0/28'] },
  });
  const r = await cli(['-', '--namespace', 'lb'], json);
  t.equal(r.status, 0, r.err);
  t.match(objectsOf(r.out), [{ kind: 'IPAddressPool', metadata: { name: 'p', namespace: 'lb' } }]);
  t.match(r.err, /^read 1 IPAddressPool/);
});

t.test('--output-dir: one file per object', async (t) => {
  const out = join(dir, 'out');
  const r = await cli([file('dir.yaml', GOOD), '--output-dir', out]);
  t.equal(r.status, 0, r.err);
  t.equal(r.out, '');
  t.same(readdirSync(out).sort(), ['bgpadvertisement-public.yaml', 'bgppeer-tor-a.yaml', 'ipaddresspool-public.yaml']);
  t.match(objectsOf(readFileSync(join(out, 'bgppeer-tor-a.yaml'), 'utf8')), [
    { kind: 'BGPPeer', spec: { peerASN: 64496 } },
  ]);
  t.match(r.err, /wrote 3 files to /);
});

const METALLB_CRDS = [
  ['ipaddresspools', 'IPAddressPool', 'v1beta1'],
  ['bgpadvertisements', 'BGPAdvertisement', 'v1beta1'],
  ['bfdprofiles', 'BFDProfile', 'v1beta1'],
  ['communities', 'Community', 'v1beta1'],
  ['l2advertisements', 'L2Advertisement', 'v1beta1'],
  ['bgppeers', 'BGPPeer', 'v1beta2'],
].map(([plural, kind, version]) => ({ group: 'metallb.io', version: version!, plural: plural!, kind: kind! }));

t.test('--from-cluster reads metallb.io objects and Services through a kubeconfig', async (t) => {
  const server = await start({ port: 0, customResources: [...BGP_ANNOUNCE_CRDS, ...METALLB_CRDS] });
  t.teardown(() => server.stop());
  server.create('namespaces', { metadata: { name: 'metallb-system' } });
  const ns = 'metallb-system';
  server.create('bgppeers.metallb.io', {
    apiVersion: 'metallb.io/v1beta2',
    kind: 'BGPPeer',
    metadata: { name: 'tor-a', namespace: ns },
    spec: { myASN: 64500, dynamicASN: 'internal', peerAddress: '192.0.2.1', passwordSecret: {} },
  });
  server.create('ipaddresspools.metallb.io', {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'public', namespace: ns, labels: { zone: 'a' } },
    spec: { addresses: ['203.0.113.0/28'], autoAssign: true, avoidBuggyIPs: false },
  });
  server.create('communities.metallb.io', {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'Community',
    metadata: { name: 'aliases', namespace: ns },
    spec: { communities: [{ name: 'no-export-alias', value: '65535:65281' }] },
  });
  server.create('bgpadvertisements.metallb.io', {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'BGPAdvertisement',
    metadata: { name: 'zone-a', namespace: ns },
    spec: { ipAddressPoolSelectors: [{ matchLabels: { zone: 'a' } }], communities: ['no-export-alias'] },
  });
  // Outside MetalLB's namespace: MetalLB does not read it, nor do we.
  server.create('ipaddresspools.metallb.io', {
    apiVersion: 'metallb.io/v1beta1',
    kind: 'IPAddressPool',
    metadata: { name: 'elsewhere', namespace: 'default' },
    spec: { addresses: ['198.51.100.0/28'] },
  });
  server.create('services', {
    metadata: {
      name: 'web',
      namespace: 'default',
      annotations: { 'metallb.universe.tf/loadBalancerIPs': '203.0.113.5' },
    },
    spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
  });
  const kubeconfig = file('kubeconfig', server.kubeconfigYaml());

  const r = await cli(['--from-cluster', '--kubeconfig', kubeconfig]);
  t.equal(r.status, 0, r.err);
  const objects = objectsOf(r.out);
  t.same(
    objects.map((o) => `${o.kind}/${o.metadata?.name}`),
    ['BGPPeer/tor-a', 'IPAddressPool/public', 'BGPAdvertisement/zone-a'],
  );
  t.match(objects[0], { spec: { myASN: 64500, peerASN: 64500 } });
  t.notOk('passwordSecret' in (objects[0]!.spec as object), "the API server's empty passwordSecret is not carried");
  t.match(objects[2], { spec: { communities: ['65535:65281'] } });
  t.same(validateConfig(objects).problems, [], 'our validation accepts it');
  t.match(
    r.err,
    /Service default\/web \(cluster\): metadata\.annotations\["metallb\.universe\.tf\/loadBalancerIPs"\]: read by bgp-announce/,
  );
  t.match(r.err, /^read 1 BGPPeer, 1 IPAddressPool, 1 Community, 1 BGPAdvertisement, 2 Service;/m);
  t.ok(
    server.requests().some((q) => q.group === 'metallb.io' && q.resource === 'bgppeers' && q.namespace === ns),
    'listed through the API, in MetalLB namespace',
  );

  const other = await cli(['--from-cluster', '--kubeconfig', kubeconfig, '--metallb-namespace', 'default']);
  t.equal(other.status, 0, other.err);
  t.same(
    objectsOf(other.out).map((o) => o.metadata?.name),
    ['elsewhere'],
    '--metallb-namespace',
  );

  const empty = await cli(['--from-cluster', '--kubeconfig', kubeconfig, '--metallb-namespace', 'kube-public']);
  t.equal(empty.status, 2, 'nothing to import');
  t.match(empty.err, /no MetalLB object in namespace kube-public \(another one\? --metallb-namespace\)/);
  t.match(empty.err, /\(input\): \(documents\): holds no MetalLB object/);
});

t.test('--from-cluster: a cluster without MetalLB, and no cluster at all', async (t) => {
  const server = await start({ port: 0 });
  t.teardown(() => server.stop());
  const r = await cli(['--from-cluster', '--kubeconfig', file('kubeconfig-plain', server.kubeconfigYaml())]);
  t.equal(r.status, 2);
  t.match(r.err, /the cluster serves none of MetalLB's resources.*is MetalLB installed/);
  const none = await cli(['--from-cluster', '--kubeconfig', join(dir, 'no-kubeconfig')]);
  t.equal(none.status, 2);
  t.match(none.err, /^bgp-announce import metallb: /);
  t.notMatch(none.err, /\n\s+at /, 'no stack trace');
});
