// daemon --local-config with the Kubernetes source (issue 14): the local file's BGPPeer and
// StaticRoute (the API server's VIP on a control-plane node) are planned from the start, before the
// API server answers; once it does, its configuration merges in (the local objects win on a name or
// router-address collision) and its Services go out over the same session; the local VIP stays when
// the API server goes away again. mergeLocalConfig on its own, too.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { kubernetesSource } from '../src/kube/source.js';
import { loadKubeConfig } from '../src/kube/client.js';
import { mergeLocalConfig } from '../src/config/merge.js';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../src/service/model.js';
import { config as planConfig, peer, staticRoute } from './announce-plan-fixtures.js';
import { startReceiver } from './helpers/kube-bgp-receiver.js';
import { apiServer, daemonContext, until } from './helpers/kube-harness.js';

const NS = 'bgp-announce';
const G = 'bgp-announce.io/v1alpha1';
const API_VIP = '203.0.113.100/32';

t.test('mergeLocalConfig: the union, local objects first, collisions left out with a warning', async (t) => {
  const local = planConfig({
    pools: [],
    advertisements: [],
    peers: [{ ...peer('tor'), peerAddress: '192.0.2.1' }],
    staticRoutes: [staticRoute('api', [API_VIP])],
  });
  const cluster = planConfig({
    peers: [
      { ...peer('tor'), peerAddress: '192.0.2.9' },
      { ...peer('tor-copy'), peerAddress: '192.0.2.1' },
      { ...peer('other'), peerAddress: '192.0.2.2' },
    ],
  });
  const { config, warnings } = mergeLocalConfig(local, cluster);
  t.strictSame(
    config.peers.map((p) => `${p.name} ${p.peerAddress}`),
    ['tor 192.0.2.1', 'other 192.0.2.2'],
    "the local tor; the cluster's tor and its peer to the same router left out",
  );
  t.strictSame(
    config.staticRoutes.map((r) => r.name),
    ['api'],
  );
  t.equal(config.pools.length, cluster.pools.length, "the cluster's pools");
  t.match(warnings, [
    /BGPPeer tor is in the local configuration and in the cluster: the local one is used/,
    /BGPPeer tor-copy of the cluster peers with 192\.0\.2\.1, as the local BGPPeer tor does/,
  ]);
  t.equal(mergeLocalConfig(local, undefined).config, local, 'no cluster configuration: the local one alone');
});

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

/** A listener standing in for the local API server (the StaticRoute's TCP health check). */
async function apiStandIn(t: Test): Promise<number> {
  const s = net.createServer((c) => c.destroy());
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', () => resolve()));
  t.teardown(() => s.close());
  return (s.address() as net.AddressInfo).port;
}

async function localFile(t: Test, receiverPort: number): Promise<string> {
  const healthPort = await apiStandIn(t);
  const dir = mkdtempSync(join(tmpdir(), 'bgp-local-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'local.yaml');
  writeFileSync(
    file,
    [
      `apiVersion: ${G}`,
      'kind: BGPPeer',
      'metadata: { name: tor }',
      `spec: { myASN: 64496, peerASN: 64497, peerAddress: 127.0.0.1, peerPort: ${receiverPort} }`,
      '---',
      `apiVersion: ${G}`,
      'kind: StaticRoute',
      'metadata: { name: kube-apiserver }',
      `spec: { prefixes: [${API_VIP}], healthCheck: { tcp: { address: "127.0.0.1:${healthPort}" }, interval: 200ms, timeout: 100ms, rise: 1 } }`,
      '',
    ].join('\n'),
  );
  return file;
}

t.test('before the API server answers, the local peer and VIP are up', async (t) => {
  const receiver = await startReceiver(t);
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.11' });
  speaker.on('error', () => {});
  t.teardown(() => speaker.stop());
  const source = kubernetesSource({
    kubeConfig: loadKubeConfig({ url: `http://127.0.0.1:${await closedPort()}` }).kubeConfig,
    namespace: NS,
    localConfigPath: await localFile(t, receiver.port),
  });
  t.teardown(() => source.stop());
  const started = source.start(daemonContext(speaker, pino({ level: 'silent' }), 'n1').ctx);
  started.catch(() => {}); // never resolves while the API server is away
  await until('the local VIP at the router', () => receiver.routes.has(API_VIP), 10_000);
  t.pass('announced with no API server at all');
  t.equal(source.ready(), false, 'the source is not ready: the cluster is not read');
});

t.test('a bad local file stops the start, naming the object and field', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-local-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'bad.yaml');
  writeFileSync(
    file,
    `apiVersion: ${G}\nkind: StaticRoute\nmetadata: { name: api }\nspec: { prefixes: [203.0.113.300/32] }\n`,
  );
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.11' });
  t.teardown(() => speaker.stop());
  const source = kubernetesSource({
    kubeConfig: loadKubeConfig({ url: `http://127.0.0.1:${await closedPort()}` }).kubeConfig,
    namespace: NS,
    localConfigPath: file,
  });
  await t.rejects(
    source.start(daemonContext(speaker, pino({ level: 'silent' }), 'n1').ctx),
    /--local-config .*bad\.yaml: 1 problem: StaticRoute api: spec\.prefixes\[0\]/,
  );
});

t.test('with the API server: its Services over the same session, the local VIP kept when it goes away', async (t) => {
  const receiver = await startReceiver(t);
  const { server, kubeConfig } = await apiServer(t, { bookmarkIntervalMs: 1000 });
  for (const name of [NS, 'demo']) server.create('namespaces', { metadata: { name } });
  server.create('nodes', {
    metadata: { name: 'n1', labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] },
  });
  // The cluster's own BGPPeer "tor" (another router): the local one wins.
  server.create('bgppeers', {
    apiVersion: G,
    kind: 'BGPPeer',
    metadata: { name: 'tor', namespace: NS },
    spec: { myASN: 64496, peerASN: 64497, peerAddress: '192.0.2.99' },
  });
  server.create('ipaddresspools', {
    apiVersion: G,
    kind: 'IPAddressPool',
    metadata: { name: 'blue', namespace: NS },
    spec: { addresses: ['203.0.113.0/28'] },
  });
  server.create('bgpadvertisements', {
    apiVersion: G,
    kind: 'BGPAdvertisement',
    metadata: { name: 'all', namespace: NS },
    spec: {},
  });
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.11' });
  speaker.on('error', () => {});
  t.teardown(() => speaker.stop());
  const source = kubernetesSource({ kubeConfig, namespace: NS, localConfigPath: await localFile(t, receiver.port) });
  t.teardown(() => source.stop());
  await source.start(daemonContext(speaker, pino({ level: 'silent' }), 'n1').ctx);
  await until('the local VIP', () => receiver.routes.has(API_VIP), 10_000);
  t.strictSame(
    speaker.peers().map((p) => `${p.id} ${p.peerAddress}`),
    ['tor 127.0.0.1'],
    'one session: the local BGPPeer',
  );
  await until('the cluster read', () => source.ready(), 10_000);
  t.ok(
    receiver.routes.has(API_VIP) && speaker.adjRibOut('tor')?.some((r) => r.prefix === API_VIP),
    'the cluster read, this node has the exclude label (a control plane): its health-checked StaticRoute stays',
  );
  // A Service whose node is excluded: not from this node. Remove the label, and it goes out too.
  server.create('services', {
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
  server.create('endpointslices', {
    metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.51.100.10'], nodeName: 'n2', conditions: { ready: true } }],
  });
  server.patch('nodes', 'n1', {
    metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': null } },
  });
  const vip = await until(
    'the Service address',
    () =>
      (server.get('services', 'web', 'demo') as { status?: { loadBalancer?: { ingress?: { ip?: string }[] } } })?.status
        ?.loadBalancer?.ingress?.[0]?.ip,
    10_000,
  );
  await until('the Service VIP over the same session', () => receiver.routes.has(`${vip}/32`), 10_000);
  t.pass(`the Service VIP ${vip} and the API VIP over one session`);

  await server.stop();
  const watches = () => (source.status() as { watches: Record<string, { watching: boolean }> }).watches;
  await until('the daemon to see the API server gone', () => Object.values(watches()).some((w) => !w.watching), 15_000);
  t.ok(receiver.routes.has(API_VIP), 'the API server gone: the local VIP stays');
  t.ok(receiver.routes.has(`${vip}/32`), 'and the Services as last seen');
});
