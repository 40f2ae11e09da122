// The leader's Announced condition: AllocationController with a watch of every BGPNodeState (the
// nodes simulated by writing their objects on the in-repo API server) and a manual clock for its
// timers. Checked on the stored Service: the aggregate ("announced by 7 nodes to 1 peer", False with
// the commonest reason) written once the reports have settled, in one status write whatever the
// number of reports; a change of counts alone put off until messageIntervalMs has passed, a change of
// the nodes named or of the status written at once (with an Event for the status); stale reports
// (other addresses) ignored; a node's
// object gone (garbage-collected with its Node) taken out. And the migration: the per-node conditions
// of earlier versions removed by the leader, folded into the write that adds the aggregate, once.
import t, { type Test } from 'tap';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { manualClock } from '@bgp-announce/bgp-speaker';
import type { TestApiServer } from '@bgp-announce/test-apiserver';
import { AllocationController } from '../src/kube/allocation-controller.js';
import { ANNOUNCED_CONDITION } from '../src/kube/announced-aggregate.js';
import { ALLOCATED_CONDITION, ServiceWriter } from '../src/kube/service-status.js';
import { watchNamespaces, watchNodeStates, watchServices } from '../src/kube/watches.js';
import type { ObjectCache } from '../src/kube/cache.js';
import type { BGPNodeState, NodeStateStatus } from '../src/kube/node-state.js';
import { validateConfig } from '../src/config/validate.js';
import { CLEANUP_FINALIZER, DEFAULT_LOAD_BALANCER_CLASS, type Service } from '../src/service/model.js';
import { RecordingEvents, apiServer, recordingLogger, until } from './helpers/kube-harness.js';

const NS = 'bgp-announce';
const LOCAL = 'no ready local endpoint (externalTrafficPolicy Local)';

function pools() {
  const { config } = validateConfig([
    {
      apiVersion: 'bgp-announce.io/v1alpha1',
      kind: 'IPAddressPool',
      metadata: { name: 'blue' },
      spec: { addresses: ['203.0.113.10-203.0.113.20'] },
    },
  ]);
  return config.pools;
}

/** One node's report: Services announced (to tor) or not (with a reason), about these addresses. */
function status(announced: [string, string][], notAnnounced: [string, string, string][] = []): NodeStateStatus {
  return {
    sessionsEstablished: 1,
    sessionsTotal: 1,
    servicesAnnounced: announced.length,
    servicesNotAnnounced: notAnnounced.length,
    sessions: [
      {
        peer: 'tor',
        peerAddress: '192.0.2.1',
        peerASN: 64497,
        state: 'Established',
        prefixesSent: announced.length,
        prefixesReceived: 0,
      },
    ],
    announced: announced.map(([service, ip]) => ({ service, addresses: [ip], peers: ['tor'] })),
    notAnnounced: notAnnounced.map(([service, ip, reason]) => ({ service, addresses: [ip], reason })),
    unlisted: 0,
  };
}

const svc = (server: TestApiServer, name: string) => server.get('services', name) as Service | undefined;
const announcedOf = (server: TestApiServer, name: string) =>
  svc(server, name)?.status?.conditions?.find((c) => c.type === ANNOUNCED_CONDITION);
const statusWrites = (server: TestApiServer, name: string) =>
  server.requests().filter((r) => r.resource === 'services' && r.name === name && r.verb === 'update').length;

async function leader(t: Test, kubeConfig: KubeConfig) {
  const clock = manualClock(Date.now());
  const services = watchServices(kubeConfig);
  const namespaces = watchNamespaces(kubeConfig);
  let states: ObjectCache<BGPNodeState> | undefined;
  const events = new RecordingEvents();
  const controller = new AllocationController({
    services,
    namespaces,
    writer: new ServiceWriter(kubeConfig.makeApiClient(CoreV1Api)),
    events,
    serviceClass: { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, defaultLoadBalancer: false },
    logger: recordingLogger().logger,
    nodeStates: () => (states = watchNodeStates(kubeConfig, NS)),
    settleMs: 1000,
    maxSettleMs: 5000,
    messageIntervalMs: 30_000,
    clock,
  });
  controller.setPools(pools());
  t.teardown(async () => {
    await controller.stop();
    services.stop();
    namespaces.stop();
  });
  await controller.start();
  await controller.idle();
  return { controller, clock, events, states: () => states! };
}

/** Writes node `node`'s report and resolves once the leader's watch has it. */
async function report(
  server: TestApiServer,
  states: ObjectCache<BGPNodeState>,
  node: string,
  s: NodeStateStatus,
): Promise<void> {
  const seen = new Promise<void>((resolve) => {
    const on = (_c: string, obj: BGPNodeState): void => {
      if (obj.metadata?.name !== node) return;
      states.off('change', on);
      resolve();
    };
    states.on('change', on);
  });
  const existing = server.get('bgpnodestates', node, NS);
  if (existing) server.update('bgpnodestates', { ...existing, status: s });
  else
    server.create('bgpnodestates', {
      apiVersion: 'bgp-announce.io/v1alpha1',
      kind: 'BGPNodeState',
      metadata: { name: node, namespace: NS },
      status: s,
    });
  await seen;
}

t.test(
  'the aggregate: written once reports settle, one write for many reports, counts put off, names and status at once, Events',
  async (t) => {
    const { server, kubeConfig } = await apiServer(t);
    server.create('namespaces', { metadata: { name: NS } });
    server.create('services', {
      metadata: { name: 'web', namespace: 'default' },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    });
    const { controller, clock, events, states } = await leader(t, kubeConfig);
    const ip = svc(server, 'web')?.status?.loadBalancer?.ingress?.[0]?.ip ?? '';
    t.equal(ip, '203.0.113.10', 'allocated');
    t.equal(announcedOf(server, 'web'), undefined, 'no node has reported: no Announced condition');
    const nodes = ['n1', 'n2', 'n3', 'n4', 'n5', 'n6', 'n7'];

    // Seven nodes report within 2.4 s: nothing until 1 s after the last, then one write.
    server.clearRequests();
    for (const n of nodes) {
      await report(server, states(), n, status([['default/web', ip]]));
      clock.advance(400);
      await controller.idle();
    }
    t.equal(statusWrites(server, 'web'), 0, 'nothing while the reports come in');
    clock.advance(600);
    await controller.idle();
    t.equal(statusWrites(server, 'web'), 1, 'one write for seven reports');
    t.match(announcedOf(server, 'web'), {
      status: 'True',
      reason: 'Announced',
      message: 'announced by 7 nodes to 1 peer (tor)',
    });
    t.match(events.of('default/web').at(-1), {
      type: 'Normal',
      reason: 'Announced',
      message: 'announced by 7 nodes to 1 peer (tor)',
    });

    // n7 stops announcing: only a count changes, and it was written less than 30 s ago: put off.
    server.clearRequests();
    await report(server, states(), 'n7', status([], [['default/web', ip, LOCAL]]));
    clock.advance(1000);
    await controller.idle();
    t.equal(statusWrites(server, 'web'), 0, 'a change of a count alone is put off');
    t.match(announcedOf(server, 'web'), { message: 'announced by 7 nodes to 1 peer (tor)' });
    clock.advance(29_000);
    await controller.idle();
    t.equal(statusWrites(server, 'web'), 1, 'and written when 30 s have passed since the last');
    t.match(announcedOf(server, 'web'), { status: 'True', message: 'announced by 6 nodes to 1 peer (tor)' });

    // Down to two nodes, named: written at once, though the last write was just now.
    server.clearRequests();
    for (const n of ['n3', 'n4', 'n5', 'n6'])
      await report(server, states(), n, status([], [['default/web', ip, LOCAL]]));
    clock.advance(1000);
    await controller.idle();
    t.equal(statusWrites(server, 'web'), 1, 'one write for four reports');
    t.match(announcedOf(server, 'web'), { status: 'True', message: 'announced by 2 nodes (n1, n2) to 1 peer (tor)' });

    // A report about another address is stale: ignored.
    await report(
      server,
      states(),
      'n1',
      status([], [['default/web', '203.0.113.99', 'no load balancer address assigned yet']]),
    );
    clock.advance(1000);
    await controller.idle();
    t.match(
      announcedOf(server, 'web'),
      { status: 'True', message: 'announced by 1 node (n2) to 1 peer (tor)' },
      'n1 counts no more (its report is about another address)',
    );

    // Nobody announces it: a change of status, written at once (after the settle time) with a Warning.
    server.clearRequests();
    await report(
      server,
      states(),
      'n2',
      status(
        [],
        [['default/web', ip, 'the node has the label node.kubernetes.io/exclude-from-external-load-balancers']],
      ),
    );
    clock.advance(1000);
    await controller.idle();
    t.equal(statusWrites(server, 'web'), 1);
    t.match(announcedOf(server, 'web'), {
      status: 'False',
      reason: 'NotAnnounced',
      message: `announced by no node: ${LOCAL} (5 of 6 nodes; 1 other reason)`,
    });
    t.match(events.of('default/web').at(-1), { type: 'Warning', reason: 'NotAnnounced' });
    const eventCount = events.of('default/web').length;

    // n2's BGPNodeState is deleted (its Node went): taken out of the count (five nodes now: at once).
    await new Promise<void>((resolve) => {
      const on = (c: string): void => {
        if (c !== 'delete') return;
        states().off('change', on);
        resolve();
      };
      states().on('change', on);
      server.delete('bgpnodestates', 'n2', NS);
    });
    clock.advance(1000);
    await controller.idle();
    t.match(announcedOf(server, 'web'), { status: 'False', message: `announced by no node: ${LOCAL} (5 of 5 nodes)` });
    t.equal(events.of('default/web').length, eventCount, 'no Event for a change of the message alone');
    t.match(
      svc(server, 'web')?.status?.conditions?.find((c) => c.type === ALLOCATED_CONDITION),
      { status: 'True' },
      'IPAllocated untouched',
    );
  },
);

t.test(
  'migration: the per-node conditions of earlier versions go in the write that adds the aggregate, once',
  async (t) => {
    const { server, kubeConfig } = await apiServer(t);
    server.create('namespaces', { metadata: { name: NS } });
    const legacy = (node: string) => ({
      type: `announced.bgp-announce.io/${node}`,
      status: 'True',
      reason: 'Announced',
      message: `node ${node} announces 203.0.113.10 to peers tor`,
      lastTransitionTime: '2026-01-01T00:00:00Z',
    });
    const allocated = {
      type: ALLOCATED_CONDITION,
      status: 'True',
      reason: 'Allocated',
      message: '203.0.113.10 from pool blue',
      lastTransitionTime: '2026-01-01T00:00:00Z',
    };
    // As an earlier version left them (the server starts a new Service's status empty: written after).
    const old = (name: string, ip: string) => {
      server.create('services', {
        metadata: { name, namespace: 'default', finalizers: [CLEANUP_FINALIZER] },
        spec: {
          type: 'LoadBalancer',
          loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
          ports: [{ port: 80, protocol: 'TCP' }],
        },
      });
      server.patch('services', name, {
        status: {
          loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] },
          conditions: [
            legacy('n1'),
            { ...allocated, message: `${ip} from pool blue` },
            legacy('n2'),
            legacy('gone-node'),
          ],
        },
      });
    };
    old('web', '203.0.113.10');
    old('quiet', '203.0.113.11'); // no node reports on it (yet): the legacy conditions go all the same
    t.equal(svc(server, 'web')?.status?.conditions?.length, 4, 'web starts with three per-node conditions');
    for (const n of ['n1', 'n2'])
      server.create('bgpnodestates', {
        metadata: { name: n, namespace: NS },
        status: status([['default/web', '203.0.113.10']], [['default/quiet', '203.0.113.99', 'stale']]),
      });

    server.clearRequests();
    const { controller, clock } = await leader(t, kubeConfig);
    t.equal(statusWrites(server, 'web'), 1, 'web: one write');
    t.strictSame(
      svc(server, 'web')?.status?.conditions?.map((c) => [c.type, c.status, c.message]),
      [
        [ALLOCATED_CONDITION, 'True', '203.0.113.10 from pool blue'],
        [ANNOUNCED_CONDITION, 'True', 'announced by 2 nodes (n1, n2) to 1 peer (tor)'],
      ],
      'the per-node conditions gone, the aggregate added, in that one write',
    );
    t.equal(statusWrites(server, 'quiet'), 1, 'quiet: one write');
    t.strictSame(
      svc(server, 'quiet')?.status?.conditions?.map((c) => c.type),
      [ALLOCATED_CONDITION],
      'its per-node conditions gone, no aggregate yet',
    );

    // Nothing more: the controller sees its own writes come back and leaves them be.
    server.clearRequests();
    clock.advance(60_000);
    await until('the writes seen back', () => controller.status().length === 2);
    await controller.idle();
    t.strictSame(
      server.requests().filter((r) => r.resource === 'services' && r.verb === 'update'),
      [],
      'no further write',
    );
  },
);

t.test(
  'announcingNodes (the metric): nodes announcing each addressed Service, read live; gone with the Service and with the term',
  async (t) => {
    const { server, kubeConfig } = await apiServer(t);
    server.create('namespaces', { metadata: { name: NS } });
    const lb = (name: string, loadBalancerClass = DEFAULT_LOAD_BALANCER_CLASS) => ({
      metadata: { name, namespace: 'default' },
      spec: { type: 'LoadBalancer', loadBalancerClass, ports: [{ port: 80, protocol: 'TCP' }] },
    });
    server.create('services', lb('web'));
    server.create('services', lb('api'));
    server.create('services', lb('theirs', 'other.example/lb'));
    const { controller, states } = await leader(t, kubeConfig);
    const ip = (name: string) => svc(server, name)?.status?.loadBalancer?.ingress?.[0]?.ip ?? '';
    const counts = () =>
      Object.fromEntries(controller.announcingNodes().map((s) => [`${s.namespace}/${s.service}`, s.nodes]));
    t.same(counts(), { 'default/web': 0, 'default/api': 0 }, 'our Services with an address, none announced yet');

    await report(
      server,
      states(),
      'n1',
      status([
        ['default/web', ip('web')],
        ['default/api', ip('api')],
      ]),
    );
    await report(server, states(), 'n2', status([['default/web', ip('web')]], [['default/api', ip('api'), LOCAL]]));
    await report(server, states(), 'n3', status([['default/web', '203.0.113.99']]));
    t.same(
      counts(),
      { 'default/web': 2, 'default/api': 1 },
      'counted at once (no settle time); a report about another address does not count',
    );

    await new Promise<void>((resolve) => {
      const on = (c: string): void => {
        if (c !== 'delete') return;
        states().off('change', on);
        resolve();
      };
      states().on('change', on);
      server.delete('bgpnodestates', 'n1', NS);
    });
    t.same(counts(), { 'default/web': 1, 'default/api': 0 }, "a node's object gone: its announcements go");

    server.delete('services', 'api', 'default');
    await until('the deleted Service released', () => !('default/api' in counts()));
    t.same(counts(), { 'default/web': 1 }, 'a deleted Service leaves the list');

    await controller.stop();
    t.same(controller.announcingNodes(), [], 'not leading: no Services');
  },
);
