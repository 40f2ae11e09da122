// How many times a Service is written when it changes, with ten nodes: ten Kubernetes sources (the
// daemon's real kubernetesSource, one per simulated node, each with its own Speaker and a receiving
// router of its own on 127.0.0.1) against the in-repo API server, whose request log counts every
// write. One of them holds the Lease and allocates. Whatever the node count the Service is written at
// most 3 times when it is created (finalizer, address, Announced) and at most 2 when it changes; the
// nodes write only their own BGPNodeState, a couple of times each. With a condition written per node
// (earlier versions) the counts grow with the nodes, and so do the 409 Conflicts of nodes racing each
// other: that code made about 90 requests to write the Service's creation here, most of them 409s.
import t from 'tap';
import pino from 'pino';
import { Speaker } from '@bgp-announce/bgp-speaker';
import type { TestApiServer } from '@bgp-announce/test-apiserver';
import { kubernetesSource } from '../src/kube/source.js';
import type { RouteSource } from '../src/daemon/source.js';
import { DEFAULT_LOAD_BALANCER_CLASS, type Service } from '../src/service/model.js';
import { startReceiver, type Receiver } from './helpers/kube-bgp-receiver.js';
import { apiServer, daemonContext, until } from './helpers/kube-harness.js';

const NS = 'bgp-announce';
const G = 'bgp-announce.io/v1alpha1';
const NODES = Array.from({ length: 10 }, (_, i) => `n${String(i + 1).padStart(2, '0')}`);
const ANNOUNCED = 'bgp-announce.io/Announced';

const web = (server: TestApiServer) => server.get('services', 'web', 'demo') as Service | undefined;
const announced = (server: TestApiServer) => web(server)?.status?.conditions?.find((c) => c.type === ANNOUNCED);
const legacy = (server: TestApiServer) =>
  (web(server)?.status?.conditions ?? []).filter((c) => c.type.startsWith('announced.bgp-announce.io/'));
/** Writes (any verb that changes something) to the Service web since request `from`, by the daemons. */
const serviceWrites = (server: TestApiServer, from: number) =>
  server
    .requests()
    .slice(from)
    .filter(
      (r) => r.resource === 'services' && r.name === 'web' && ['update', 'patch', 'create'].includes(r.verb ?? ''),
    );
/** Writes of each node's BGPNodeState since `from`. */
function nodeStateWrites(server: TestApiServer, from: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of server.requests().slice(from))
    if (r.resource === 'bgpnodestates' && (r.verb === 'update' || r.verb === 'create'))
      out.set(r.name!, (out.get(r.name!) ?? 0) + 1);
  return out;
}
/** True once `fn` holds, false if it does not within 10 s. */
/** "3 writes (object 200, status 200, status 200)", or with many, the count per answer. */
function describe(writes: { subresource?: string; status?: number }[]): string {
  const each = writes.map((r) => `${r.subresource ?? 'object'} ${r.status}`);
  if (each.length <= 6) return `${writes.length} writes (${each.join(', ')})`;
  const byStatus = new Map<number | undefined, number>();
  for (const r of writes) byStatus.set(r.status, (byStatus.get(r.status) ?? 0) + 1);
  return `${writes.length} writes (${[...byStatus].map(([status, n]) => `${n} answered ${status}`).join(', ')})`;
}
const settled = (fn: () => boolean): Promise<boolean> =>
  until('the Service', fn, 10_000).then(
    () => true,
    () => false,
  );
const slice = (nodes: string[]) => ({
  metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
  addressType: 'IPv4',
  endpoints: nodes.map((nodeName, i) => ({
    addresses: [`198.51.100.${10 + i}`],
    nodeName,
    conditions: { ready: true, serving: true, terminating: false },
  })),
});

t.test('ten nodes: a Service change costs at most two writes to the Service, whatever the node count', async (t) => {
  const { server, kubeConfig } = await apiServer(t, { bookmarkIntervalMs: 1000 });
  for (const name of [NS, 'demo']) server.create('namespaces', { metadata: { name } });
  const receivers: Receiver[] = [];
  for (const [i, node] of NODES.entries()) {
    server.create('nodes', {
      metadata: { name: node, labels: { 'kubernetes.io/hostname': node } },
      status: { addresses: [{ type: 'InternalIP', address: `192.0.2.${i + 1}` }] },
    });
    const receiver = await startReceiver(t);
    receivers.push(receiver);
    server.create('bgppeers', {
      apiVersion: G,
      kind: 'BGPPeer',
      metadata: { name: `tor-${node}`, namespace: NS },
      spec: {
        myASN: 64496,
        peerASN: 64497,
        peerAddress: '127.0.0.1',
        peerPort: receiver.port,
        nodeSelectors: [{ matchLabels: { 'kubernetes.io/hostname': node } }],
      },
    });
  }
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

  const sources: RouteSource[] = [];
  for (const [i, node] of NODES.entries()) {
    const speaker = new Speaker({ localAs: 64496, bgpId: `192.0.2.${i + 1}` });
    speaker.on('error', () => {});
    t.teardown(() => speaker.stop());
    // The daemon's defaults: at most a write a second per node, the leader's reports let settle 1.5 s.
    const source = kubernetesSource({ kubeConfig, namespace: NS, loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS });
    sources.push(source);
    t.teardown(() => source.stop());
    await source.start(daemonContext(speaker, pino({ level: 'silent' }), node).ctx);
  }
  await until(
    'every node ready with its session up',
    () => sources.every((s) => s.ready()) && receivers.every((r) => r.driver.state.state === 'Established'),
    30_000,
  );

  // Created: an address, routes from the ten nodes, the aggregate (or, from an earlier version, ten conditions).
  // Its pods run on n03 and n07 (a Cluster Service with no serving endpoint anywhere is not announced).
  server.create('endpointslices', slice(['n03', 'n07']));
  let from = server.requests().length;
  server.create('services', {
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
  const vip = await until('an address', () => web(server)?.status?.loadBalancer?.ingress?.[0]?.ip, 10_000);
  await until('the ten routes', () => receivers.every((r) => r.routes.has(`${vip}/32`)), 10_000);
  const all = `announced by 10 nodes to 10 peers`;
  // (With per-node conditions, this may never settle: then the counts below say why.)
  t.ok(
    await settled(() => announced(server)?.message === all || legacy(server).length === 10),
    'the Service says who announces it',
  );
  const created = serviceWrites(server, from);
  t.comment(`created: ${describe(created)}`);
  t.ok(created.length <= 3, `created: ${describe(created)} to the Service (at most 3: finalizer, address, Announced)`);
  t.match(announced(server), { status: 'True', reason: 'Announced', message: all });
  t.strictSame(legacy(server), [], 'no per-node condition');

  // Changed: Local, with its endpoints on n03 and n07; eight nodes withdraw.
  from = server.requests().length;
  server.patch('services', 'web', { spec: { externalTrafficPolicy: 'Local' } }, 'demo');
  const two = 'announced by 2 nodes (n03, n07) to 2 peers (tor-n03, tor-n07)';
  await until('eight nodes to withdraw', () => receivers.filter((r) => r.routes.has(`${vip}/32`)).length === 2, 10_000);
  t.ok(
    await settled(
      () => announced(server)?.message === two || legacy(server).filter((c) => c.status === 'False').length === 8,
    ),
    'the Service says so',
  );
  const changed = serviceWrites(server, from);
  t.ok(changed.length <= 2, `Cluster to Local: ${describe(changed)} to the Service (at most 2)`);
  const perNode = nodeStateWrites(server, from);
  t.ok(
    perNode.size >= 8 && [...perNode.values()].every((n) => n <= 2),
    `the eight nodes that withdrew wrote their own BGPNodeState, at most twice each: ${JSON.stringify(Object.fromEntries(perNode))}`,
  );

  // Changed again: the endpoint on n03 moves to n05.
  from = server.requests().length;
  server.patch('endpointslices.discovery.k8s.io', 'web-1', { endpoints: slice(['n05', 'n07']).endpoints }, 'demo');
  await until(
    'the route to move',
    () => receivers[4]!.routes.has(`${vip}/32`) && !receivers[2]!.routes.has(`${vip}/32`),
    10_000,
  );
  t.ok(
    await settled(
      () =>
        announced(server)?.message === 'announced by 2 nodes (n05, n07) to 2 peers (tor-n05, tor-n07)' ||
        legacy(server).find((c) => c.type.endsWith('/n05'))?.status === 'True',
    ),
    'the Service says so',
  );
  const moved = serviceWrites(server, from);
  t.ok(moved.length <= 2, `an endpoint moved: ${describe(moved)} to the Service (at most 2)`);
  t.ok(
    server.requests().every((r) => r.resource !== 'bgpnodestates' || r.verb !== 'update' || r.subresource === 'status'),
    'nodes write only the status of their own objects',
  );
});
