// What `bgp-announce check` reads from the cluster, through the real @kubernetes/client-node against
// the in-repo test API server: our resources from one namespace (validated), a node's labels, the
// Services with managedFields (seeded as the API server records them: the test server does not track
// field ownership itself); a missing CRD, an unreachable API and a silent one.
import t, { type Test } from 'tap';
import { createServer } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { start, type TestApiServer } from '@bgp-announce/test-apiserver';
import { listServices, readClusterConfig, readNodeLabels, withDeadline } from '../src/check/cluster.js';
import { checkOtherController } from '../src/check/checks-services.js';

const NS = 'bgp-announce';
const V = 'bgp-announce.io/v1alpha1';

async function server(
  t: Test,
  options: Parameters<typeof start>[0] = {},
): Promise<{ s: TestApiServer; kc: KubeConfig }> {
  const s = await start(options);
  t.teardown(() => s.stop());
  const kc = new KubeConfig();
  kc.loadFromOptions(s.kubeconfig());
  return { s, kc };
}

/** Seeds a cluster: our objects in NS (and a stray peer elsewhere), a node, Services of several classes. */
function seed(s: TestApiServer): void {
  s.create('namespaces', { metadata: { name: NS } });
  s.create('namespaces', { metadata: { name: 'web' } });
  s.create('ipaddresspools', {
    apiVersion: V,
    kind: 'IPAddressPool',
    metadata: { name: 'vips', namespace: NS },
    spec: { addresses: ['192.0.2.64/27'] },
  });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'tor-a', namespace: NS },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1' },
  });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'tor-b', namespace: NS },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.2', nodeSelectors: [{ matchLabels: { rack: 'b' } }] },
  });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'elsewhere', namespace: 'web' },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.3' },
  });
  s.create('nodes', { metadata: { name: 'node-1', labels: { rack: 'a', 'kubernetes.io/hostname': 'node-1' } } });
  const statusBy = (manager: string) => ({
    manager,
    operation: 'Update',
    subresource: 'status',
    fieldsV1: { 'f:status': { 'f:loadBalancer': { 'f:ingress': {} } } },
  });
  const lb = (name: string, cls: string, manager: string, ip: string) => {
    s.create('services', {
      metadata: { name, namespace: 'web', managedFields: [statusBy(manager)] },
      spec: { type: 'LoadBalancer', loadBalancerClass: cls, ports: [{ port: 80 }] },
    });
    s.patch('services', name, { status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } }, 'web');
  };
  lb('shop', 'bgp-announce.io/bgp', 'metallb-controller', '192.0.2.70');
  lb('blog', 'bgp-announce.io/bgp', 'bgp-announce', '192.0.2.71');
  lb('theirs', 'metallb.io/metallb', 'metallb-controller', '203.0.113.9');
}

t.test('our resources from one namespace, validated; node labels; Services with their field managers', async (t) => {
  const { s, kc } = await server(t);
  seed(s);
  const { config, problems } = await readClusterConfig(kc, NS);
  t.strictSame(problems, []);
  t.strictSame(config.peers.map((p) => p.name).sort(), ['tor-a', 'tor-b'], 'the peer in another namespace is not ours');
  t.equal(config.peers.find((p) => p.name === 'tor-a')?.connectionMode, 'active', 'defaults filled by validation');
  t.strictSame(
    config.pools.map((p) => p.name),
    ['vips'],
  );
  t.strictSame(await readNodeLabels(kc, 'node-1'), { rack: 'a', 'kubernetes.io/hostname': 'node-1' });
  const services = await listServices(kc);
  t.strictSame(services.map((x) => x.metadata?.name).sort(), ['blog', 'kubernetes', 'shop', 'theirs']);
  const findings = checkOtherController({
    services,
    classOptions: { loadBalancerClass: 'bgp-announce.io/bgp', defaultLoadBalancer: false },
    pools: config.pools,
  });
  t.strictSame(
    findings.map((f) => [f.status, f.message.split(' is of')[0]]),
    [['warn', 'Service web/shop']],
  );
  t.match(findings[0]!.message, /"metallb-controller" wrote its status\.loadBalancer/);
});

t.test('an invalid object is a problem naming it and its field', async (t) => {
  const { s, kc } = await server(t);
  s.create('namespaces', { metadata: { name: NS } });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'typo', namespace: NS },
    spec: { myASN: 64500, peerASN: 64501, peerAdress: '192.0.2.1' },
  });
  const { config, problems } = await readClusterConfig(kc, NS);
  t.strictSame(config.peers, []);
  t.ok(
    problems.some((p) => p.kind === 'BGPPeer' && p.name === 'typo' && p.field === 'spec.peerAdress'),
    JSON.stringify(problems),
  );
});

t.test('CRDs not installed: one problem per missing resource, not an error', async (t) => {
  const { kc } = await server(t, { customResources: [] });
  const { problems } = await readClusterConfig(kc, NS);
  t.strictSame(
    problems.map((p) => `${p.kind} ${p.name}: ${p.message}`),
    ['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'BFDProfile'].map(
      (kind) =>
        `${kind} ${kind.toLowerCase()}s.bgp-announce.io: not installed in the cluster (apply the CRDs from deploy/)`,
    ),
  );
});

t.test('an API that refuses connections, and one that never answers', async (t) => {
  // A port that was just free: nothing listens there any more.
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'x' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
  await t.rejects(
    readClusterConfig(kc, NS),
    /^list ipaddresspools\.bgp-announce\.io in namespace bgp-announce: .*ECONNREFUSED/,
  );
  await t.rejects(listServices(kc), /^list services: /);
  // withDeadline's timer does not keep the process alive (a real request does): hold it open here.
  const alive = setInterval(() => {}, 1000);
  await t.rejects(withDeadline(new Promise(() => {}), 50, 'get node n'), {
    message: 'get node n: no answer from the Kubernetes API in 0.05 s',
  });
  clearInterval(alive);
});
