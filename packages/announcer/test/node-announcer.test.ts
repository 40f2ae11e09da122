// NodeAnnouncer for node n1 against the in-repo test API server (the caches of kube/watches.ts over
// the real @kubernetes/client-node) with a real Speaker and a receiving router on 127.0.0.1. Checked
// on the wire and on the stored Services: a Cluster Service is announced while some node has a
// serving endpoint of it; a Local one only while an EndpointSlice has a serving endpoint on n1; n1's BGPNodeState says so (the session, each Service
// announced to which peer or why not) and the Services are never written by a node; the exclude label
// withdraws everything; another class's Service is left alone.
import t, { type Test } from 'tap';
import type { KubeConfig } from '@kubernetes/client-node';
import type { TestApiServer } from '@bgp-announce/test-apiserver';
import { NodeAnnouncer } from '../src/kube/node-announcer.js';
import { watchEndpointSlices, watchNodeStates, watchNodes, watchServices } from '../src/kube/watches.js';
import type { BGPNodeState } from '../src/kube/node-state.js';
import { validateConfig } from '../src/config/validate.js';
import {
  DEFAULT_LOAD_BALANCER_CLASS,
  EXCLUDE_LABEL,
  type EndpointSlice,
  type Node,
  type Service,
} from '../src/service/model.js';
import type { CacheChange, CacheHealth, ObjectCache } from '../src/kube/cache.js';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { startReceiver } from './helpers/kube-bgp-receiver.js';
import { apiServer, daemonContext, recordingLogger, until } from './helpers/kube-harness.js';

const NS = 'bgp-announce';

function announcerConfig(port: number) {
  const g = 'bgp-announce.io/v1alpha1';
  const { config, problems } = validateConfig([
    { apiVersion: g, kind: 'IPAddressPool', metadata: { name: 'blue' }, spec: { addresses: ['203.0.113.0/28'] } },
    {
      apiVersion: g,
      kind: 'BGPPeer',
      metadata: { name: 'rtr' },
      spec: { myASN: 64496, peerASN: 64497, peerAddress: '127.0.0.1', peerPort: port },
    },
    { apiVersion: g, kind: 'BGPAdvertisement', metadata: { name: 'all' }, spec: { communities: ['64496:7'] } },
  ]);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return config;
}

/** A LoadBalancer Service with its address in the status (written after the create, as the allocator would). */
function createService(
  server: TestApiServer,
  name: string,
  ip: string,
  policy: 'Cluster' | 'Local',
  cls = DEFAULT_LOAD_BALANCER_CLASS,
) {
  server.create('services', {
    metadata: { name, namespace: 'default' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: cls,
      externalTrafficPolicy: policy,
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
  return server.patch('services', name, { status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } });
}

type Endpoint = { nodeName: string; conditions: { ready?: boolean; serving?: boolean; terminating?: boolean } };
const sliceEndpoints = (endpoints: Endpoint[]) =>
  endpoints.map((e, i) => ({ addresses: [`198.51.100.${30 + i}`], ...e }));

/** An EndpointSlice of Service `service` in namespace default holding these endpoints. */
function createSlice(server: TestApiServer, service: string, endpoints: Endpoint[]) {
  return server.create('endpointslices', {
    metadata: { name: `${service}-abcde`, namespace: 'default', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    endpoints: sliceEndpoints(endpoints),
  });
}
const READY_ON_N2: Endpoint = { nodeName: 'n2', conditions: { ready: true, serving: true, terminating: false } };

const stateOf = (server: TestApiServer) => (server.get('bgpnodestates', 'n1', NS) as BGPNodeState | undefined)?.status;
/** n1's report on one Service: ['announced', peers] or ['not', reason]; undefined when it does not list it. */
function reportOf(server: TestApiServer, name: string): [string, string] | undefined {
  const s = stateOf(server);
  const a = s?.announced.find((e) => e.service === `default/${name}`);
  if (a) return ['announced', a.peers.join(',')];
  const n = s?.notAnnounced.find((e) => e.service === `default/${name}`);
  return n ? ['not', n.reason] : undefined;
}
/** Requests that wrote Services. */
const serviceWrites = (server: TestApiServer) =>
  server.requests().filter((r) => r.resource === 'services' && !['get', 'list', 'watch'].includes(r.verb ?? ''));

async function start(t: Test, kubeConfig: KubeConfig, port: number) {
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.21' });
  t.teardown(() => speaker.stop());
  const { logger } = recordingLogger();
  const { ctx } = daemonContext(speaker, logger, 'n1');
  const services = watchServices(kubeConfig);
  const endpointSlices = watchEndpointSlices(kubeConfig);
  const nodes = watchNodes(kubeConfig, { nodeName: 'n1' });
  const own = watchNodeStates(kubeConfig, NS, { nodeName: 'n1' });
  const announcer = new NodeAnnouncer(ctx, {
    services,
    endpointSlices,
    nodes,
    serviceClass: { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, defaultLoadBalancer: false },
    nodeState: { kubeConfig, namespace: NS, own, minIntervalMs: 50 },
  });
  t.teardown(async () => {
    await announcer.stop();
    for (const c of [services, endpointSlices, nodes, own]) c.stop();
  });
  announcer.setConfig(announcerConfig(port));
  await announcer.start();
  return { speaker, announcer, nodes };
}

t.test(
  "Local Services follow the endpoints on this node, the node's BGPNodeState says so, the exclude label withdraws",
  async (t) => {
    const { server, kubeConfig } = await apiServer(t);
    const receiver = await startReceiver(t);
    server.create('namespaces', { metadata: { name: NS } });
    server.create('nodes', {
      metadata: { name: 'n1', labels: { rack: 'r1' } },
      status: {
        addresses: [{ type: 'InternalIP', address: '192.0.2.21' }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
    server.create('nodes', {
      metadata: { name: 'n2' },
      status: { addresses: [{ type: 'InternalIP', address: '192.0.2.22' }] },
    });
    createService(server, 'api', '203.0.113.6', 'Cluster');
    createService(server, 'web', '203.0.113.5', 'Local');
    const kubeVip = createService(server, 'vip', '198.51.100.50', 'Cluster', 'kube-vip.io/kube-vip-class');
    createSlice(server, 'web', [READY_ON_N2]);
    createSlice(server, 'api', [READY_ON_N2]);

    const { speaker, announcer, nodes } = await start(t, kubeConfig, receiver.port);
    t.equal(announcer.ready(), true);
    t.same(
      nodes.list().map((n) => n.metadata?.name),
      ['n1'],
      'the node cache holds this node only',
    );

    // The Cluster Service is announced; the Local one has no endpoint here.
    await until('api on the wire', () => receiver.routes.has('203.0.113.6/32'));
    t.same(receiver.routes.get('203.0.113.6/32')?.communities, ['64496:7']);
    t.same([...speaker.announced().keys()], ['203.0.113.6/32'], 'web is not announced');
    await until(
      'the BGPNodeState with api announced',
      () => reportOf(server, 'api')?.[0] === 'announced' && reportOf(server, 'web'),
    );
    t.strictSame(reportOf(server, 'api'), ['announced', 'rtr']);
    t.strictSame(reportOf(server, 'web'), ['not', 'no ready local endpoint (externalTrafficPolicy Local)']);
    t.match(stateOf(server), {
      sessionsEstablished: 1,
      sessionsTotal: 1,
      servicesAnnounced: 1,
      servicesNotAnnounced: 1,
      sessions: [{ peer: 'rtr', peerAddress: '127.0.0.1', state: 'Established', prefixesSent: 1 }],
    });
    t.match(server.get('bgpnodestates', 'n1', NS), {
      metadata: { ownerReferences: [{ kind: 'Node', name: 'n1', uid: server.get('nodes', 'n1')?.metadata.uid }] },
    });
    t.same(
      announcer.status().services.map((s) => [s.key, s.announced]),
      [
        ['default/api', true],
        ['default/web', false],
      ],
    );

    // A serving (not ready) endpoint on n1: web is announced.
    server.patch('endpointslices', 'web-abcde', {
      endpoints: sliceEndpoints([
        { nodeName: 'n2', conditions: { ready: true, serving: true, terminating: false } },
        { nodeName: 'n1', conditions: { ready: false, serving: true, terminating: false } },
      ]),
    });
    await until('web on the wire', () => receiver.routes.has('203.0.113.5/32'));
    await until('web announced in the BGPNodeState', () => reportOf(server, 'web')?.[0] === 'announced');
    t.strictSame(reportOf(server, 'web'), ['announced', 'rtr']);

    // The endpoint on n1 stops serving: withdrawn, api stays.
    server.patch('endpointslices', 'web-abcde', {
      endpoints: sliceEndpoints([
        { nodeName: 'n2', conditions: { ready: true, serving: true, terminating: false } },
        { nodeName: 'n1', conditions: { ready: false, serving: false, terminating: false } },
      ]),
    });
    await until('web withdrawn', () => !receiver.routes.has('203.0.113.5/32'));
    t.ok(receiver.routes.has('203.0.113.6/32'));
    await until('web not announced', () => reportOf(server, 'web')?.[0] === 'not');

    // The Cluster Service's only endpoint (on n2) stops serving: no node may announce it, n1 neither.
    server.patch('endpointslices', 'api-abcde', {
      endpoints: sliceEndpoints([{ nodeName: 'n2', conditions: { ready: false, serving: false, terminating: true } }]),
    });
    await until('api withdrawn', () => !receiver.routes.has('203.0.113.6/32'));
    await until('api not announced', () => reportOf(server, 'api')?.[0] === 'not');
    t.strictSame(reportOf(server, 'api'), ['not', 'no ready endpoint on any node (externalTrafficPolicy Cluster)']);
    server.patch('endpointslices', 'api-abcde', { endpoints: sliceEndpoints([READY_ON_N2]) });
    await until('api back on the wire', () => receiver.routes.has('203.0.113.6/32'));
    await until('api announced again', () => reportOf(server, 'api')?.[0] === 'announced');

    // The exclude label (any value) withdraws everything from this node.
    server.patch('nodes', 'n1', { metadata: { labels: { [EXCLUDE_LABEL]: '' } } });
    await until('all withdrawn', () => receiver.routes.size === 0);
    t.same([...speaker.announced().keys()], []);
    await until('api not announced', () => reportOf(server, 'api')?.[0] === 'not');
    t.strictSame(reportOf(server, 'api'), ['not', `the node has the label ${EXCLUDE_LABEL}`]);
    t.same(
      speaker.peers().map((p) => p.id),
      ['rtr'],
      'the session stays up',
    );

    server.patch('nodes', 'n1', { metadata: { labels: { [EXCLUDE_LABEL]: null } } });
    await until('api back', () => receiver.routes.has('203.0.113.6/32'));

    // Another class's Service: never announced, never written.
    t.notOk(receiver.routes.has('198.51.100.50/32'));
    t.equal(
      server.get('services', 'vip')?.metadata.resourceVersion,
      kubeVip.metadata.resourceVersion,
      "kube-vip's Service is unchanged",
    );
    t.same(
      server.requests().filter((r) => r.method !== 'GET' && r.name === 'vip'),
      [],
    );
    t.strictSame(serviceWrites(server), [], 'a node never writes a Service');
    const w = announcer.nodeStateWriter()!.stats;
    t.ok(
      w.writes >= 5 && w.requests <= w.writes + 1,
      `its BGPNodeState written ${w.writes} times in ${w.requests} requests (one create)`,
    );
  },
);

t.test('a Service that leaves (deleted, or no longer ours) has its route withdrawn', async (t) => {
  const { server, kubeConfig } = await apiServer(t);
  const receiver = await startReceiver(t);
  server.create('namespaces', { metadata: { name: NS } });
  server.create('nodes', {
    metadata: { name: 'n1' },
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.21' }] },
  });
  createService(server, 'api', '203.0.113.6', 'Cluster');
  createService(server, 'db', '203.0.113.7', 'Cluster');
  createSlice(server, 'api', [READY_ON_N2]);
  createSlice(server, 'db', [READY_ON_N2]);
  const { announcer } = await start(t, kubeConfig, receiver.port);
  await until('both on the wire', () => receiver.routes.has('203.0.113.6/32') && receiver.routes.has('203.0.113.7/32'));

  server.delete('services', 'db');
  await until('db withdrawn', () => !receiver.routes.has('203.0.113.7/32'));
  t.ok(receiver.routes.has('203.0.113.6/32'));
  await until(
    'db gone from the BGPNodeState',
    () => reportOf(server, 'db') === undefined && reportOf(server, 'api')?.[0] === 'announced',
  );
  // A Service changed to ClusterIP: no longer a load balancer, so withdrawn and no longer reported.
  server.patch('services', 'api', {
    spec: {
      type: 'ClusterIP',
      loadBalancerClass: null,
      externalTrafficPolicy: null,
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
  await until('api withdrawn', () => !receiver.routes.has('203.0.113.6/32'));
  await until(
    'api gone from the BGPNodeState',
    () => reportOf(server, 'api') === undefined && stateOf(server)?.servicesAnnounced === 0,
  );
  t.same(announcer.status().services, []);
});

/** An ObjectCache whose first list arrives when the test says (sync()). */
class ManualCache<T extends { metadata?: { name?: string; namespace?: string } }> implements ObjectCache<T> {
  private readonly objects = new Map<string, T>();
  private readonly listeners = new Set<(change: CacheChange, obj: T, old: T | undefined) => void>();
  private done!: () => void;
  private readonly ready = new Promise<void>((resolve) => (this.done = resolve));
  private isSynced = false;

  key(obj: T): string {
    return obj.metadata?.namespace ? `${obj.metadata.namespace}/${obj.metadata.name}` : (obj.metadata?.name ?? '');
  }
  get(key: string): T | undefined {
    return this.objects.get(key);
  }
  list(): T[] {
    return [...this.objects.values()];
  }
  synced(): Promise<void> {
    return this.ready;
  }
  health(): CacheHealth {
    return { synced: this.isSynced, watching: this.isSynced, relists: 0 };
  }
  on(_e: 'change', l: (change: CacheChange, obj: T, old: T | undefined) => void): this {
    this.listeners.add(l);
    return this;
  }
  off(_e: 'change', l: (change: CacheChange, obj: T, old: T | undefined) => void): this {
    this.listeners.delete(l);
    return this;
  }
  stop(): void {}
  /** The first list: these objects, then synced. */
  sync(objects: T[]): void {
    for (const o of objects) this.objects.set(this.key(o), o);
    this.isSynced = true;
    this.done();
  }
}

t.test('no plan before every cache has its first list', async (t) => {
  const receiver = await startReceiver(t);
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.21' });
  t.teardown(() => speaker.stop());
  const { logger } = recordingLogger();
  const { ctx } = daemonContext(speaker, logger, 'n1');
  const services = new ManualCache<Service>();
  const endpointSlices = new ManualCache<EndpointSlice>();
  const nodes = new ManualCache<Node>();
  const announcer = new NodeAnnouncer(ctx, {
    services,
    endpointSlices,
    nodes,
    serviceClass: { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, defaultLoadBalancer: false },
  });
  t.teardown(() => announcer.stop());
  const web: Service = {
    metadata: { namespace: 'default', name: 'web' },
    spec: { type: 'LoadBalancer', loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, externalTrafficPolicy: 'Local' },
    status: { loadBalancer: { ingress: [{ ip: '203.0.113.5', ipMode: 'VIP' }] } },
  };
  services.sync([web]);
  nodes.sync([{ metadata: { name: 'n1' } }]);
  const started = announcer.start();
  // The configuration arrives while the EndpointSlices are still being listed.
  announcer.setConfig(announcerConfig(receiver.port));
  await announcer.reconcile();
  t.equal(announcer.ready(), false, 'not ready');
  t.same(announcer.status().services, [], 'no plan saying web has no local endpoint (its slices are not read yet)');
  endpointSlices.sync([
    {
      metadata: { namespace: 'default', name: 'web-1', labels: { 'kubernetes.io/service-name': 'web' } },
      endpoints: [{ addresses: ['198.51.100.30'], nodeName: 'n1' }],
    },
  ]);
  await started;
  t.equal(announcer.ready(), true);
  t.match(announcer.status().services, [{ key: 'default/web', announced: true, peers: ['rtr'] }]);
});
