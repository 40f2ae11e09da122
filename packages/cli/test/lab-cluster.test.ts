// The lab's cluster: its objects are accepted by the test API server and by our config validation,
// the Services and endpoints are where the lab says, and the expectations it reads back follow the
// changes the end-to-end test makes (exclude label, endpoint moved, other class).
import t from 'tap';
import { validateConfig, type KubeObject } from '@bgp-announce/announcer';
import { start } from '@bgp-announce/test-apiserver';
import { labObjects, labServices, OTHER_CLASS } from '../src/lab/cluster.js';
import { labPlan } from '../src/lab/plan.js';
import { readNodeStates, readServices, vipPrefix, weightMismatch } from '../src/lab/snapshot.js';
import { parseKernelWeights } from '../src/lab/router-common.js';

const plan = labPlan({ peer: 'frr', nodes: 3, bfd: true }, 'test');

t.test(
  'the Services: two Cluster, one Local on node-2, one Cluster with no endpoint, one of another class',
  async (t) => {
    t.same(
      labServices(plan).map((s) => [s.name, s.externalTrafficPolicy, s.loadBalancerClass, s.ours, s.endpointNodes]),
      [
        ['web', 'Cluster', 'bgp-announce.io/bgp', true, ['node-1', 'node-2', 'node-3']],
        ['dns', 'Cluster', 'bgp-announce.io/bgp', true, ['node-1']],
        ['ingress', 'Local', 'bgp-announce.io/bgp', true, ['node-2']],
        ['idle', 'Cluster', 'bgp-announce.io/bgp', true, []],
        ['other-class', 'Cluster', 'kube-vip.io/kube-vip-class', false, ['node-1', 'node-2', 'node-3']],
      ],
    );
    t.equal(OTHER_CLASS, 'kube-vip.io/kube-vip-class');
  },
);

t.test('our custom resources pass our own validation', async (t) => {
  const ours = labObjects(plan)
    .map((o) => o.object as KubeObject)
    .filter((o) => o.apiVersion === 'bgp-announce.io/v1alpha1');
  t.same(
    ours.map((o) => o.kind),
    ['BFDProfile', 'IPAddressPool', 'BGPPeer', 'BGPAdvertisement'],
  );
  const { config, problems } = validateConfig(ours);
  t.same(problems, []);
  t.same(
    config.pools[0]?.ranges.map((r) => [r.first, r.last]),
    [['203.0.113.0', '203.0.113.15']],
  );
  const peer = config.peers[0]!;
  t.same(
    [peer.myASN, peer.peerASN, peer.peerAddress, peer.holdTime, peer.connectTime, peer.connectionMode, peer.bfdProfile],
    [64497, 64496, '192.0.2.1', 9, 1, 'active', 'lab'],
  );
  t.equal(
    labObjects(labPlan({ peer: 'gobgp', nodes: 1, bfd: false }, 'x')).filter(
      (o) => (o.object as KubeObject).kind === 'BFDProfile',
    ).length,
    0,
    'no BFD profile without --bfd',
  );
});

t.test('the API server takes every object; expectations follow the cluster', async (t) => {
  const server = await start({ serviceClusterIPRange: '198.51.100.0/25' });
  t.teardown(() => server.stop());
  for (const { resource, object } of labObjects(plan)) server.create(resource, object);
  t.same(
    server.list('nodes').map((n) => n.metadata.name),
    ['node-1', 'node-2', 'node-3'],
  );
  const slice = server.get('endpointslices.discovery.k8s.io', 'ingress-lab', 'demo') as unknown as {
    endpoints: { nodeName: string; addresses: string[] }[];
  };
  t.same(
    slice.endpoints.map((e) => [e.nodeName, e.addresses]),
    [['node-2', ['198.51.100.129']]],
  );

  const byName = () => Object.fromEntries(readServices(server, plan).map((s) => [s.name, s]));
  let s = byName();
  t.same(
    Object.keys(s).sort(),
    ['dns', 'idle', 'ingress', 'other-class', 'web'],
    'the LoadBalancer Services (not the kubernetes one)',
  );
  t.same(s.web!.expectedNextHops, ['192.0.2.11', '192.0.2.12', '192.0.2.13']);
  t.same(
    s.dns!.expectedNextHops,
    ['192.0.2.11', '192.0.2.12', '192.0.2.13'],
    'Cluster: every node, wherever the pods are',
  );
  t.same(s.ingress!.expectedNextHops, ['192.0.2.12'], "Local: the endpoint's node");
  t.same(s.ingress!.expectedNodes, ['node-2']);
  t.same(s['other-class']!.expectedNextHops, []);
  t.same(
    [s.idle!.expectedNextHops, s.idle!.expectedNodes, s.idle!.endpointNodes],
    [[], [], []],
    'Cluster with no endpoint anywhere: withdrawn by every node',
  );
  t.same([s.web!.vips, s.web!.finalizers, s.web!.ours], [[], [], true]);

  server.patch('nodes', 'node-3', {
    metadata: { labels: { 'node.kubernetes.io/exclude-from-external-load-balancers': '' } },
  });
  server.patch(
    'endpointslices.discovery.k8s.io',
    'ingress-lab',
    { endpoints: [{ addresses: ['198.51.100.128'], nodeName: 'node-1', conditions: { ready: true } }] },
    'demo',
  );
  server.patch(
    'services',
    'web',
    { status: { loadBalancer: { ingress: [{ ip: '203.0.113.1', ipMode: 'VIP' }] } } },
    'demo',
  );
  s = byName();
  t.same(s.web!.expectedNextHops, ['192.0.2.11', '192.0.2.12'], 'an excluded node is not expected');
  t.same(s.ingress!.expectedNextHops, ['192.0.2.11'], 'the endpoint moved to node-1');
  t.same(s.idle!.expectedNextHops, [], 'idle: still no endpoint');
  server.patch(
    'endpointslices.discovery.k8s.io',
    'idle-lab',
    { endpoints: [{ addresses: ['198.51.100.140'], nodeName: 'node-3', conditions: { ready: true } }] },
    'demo',
  );
  t.same(
    byName().idle!.expectedNextHops,
    ['192.0.2.11', '192.0.2.12'],
    'an endpoint (even on an excluded node): every eligible node',
  );
  t.same(s.web!.vips, ['203.0.113.1']);
  t.same(s.web!.expectedNodes, ['node-1', 'node-2']);
  t.equal(s.web!.announced, undefined, 'no Announced condition yet');
  server.patch(
    'services',
    'web',
    {
      status: {
        conditions: [
          {
            type: 'bgp-announce.io/Announced',
            status: 'True',
            reason: 'Announced',
            message: 'announced by 2 nodes (node-1, node-2) to 1 peer (router)',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    },
    'demo',
  );
  t.same(
    byName().web!.announced,
    { status: 'True', message: 'announced by 2 nodes (node-1, node-2) to 1 peer (router)' },
    "the leader's condition",
  );
  t.same(readNodeStates(server), [], 'no BGPNodeState yet');
  server.create('bgpnodestates', {
    metadata: { name: 'node-1', namespace: 'bgp-announce' },
    status: { sessionsEstablished: 1, sessionsTotal: 1, servicesAnnounced: 1, servicesNotAnnounced: 0 },
  });
  t.same(readNodeStates(server), [
    { node: 'node-1', sessionsEstablished: 1, sessionsTotal: 1, servicesAnnounced: 1, servicesNotAnnounced: 0 },
  ]);
  t.equal(vipPrefix('203.0.113.1'), '203.0.113.1/32');
  t.equal(vipPrefix('2001:db8::1'), '2001:db8::1/128');
});

t.test(
  '--weighted: the Service "weighted" with endpoints 3/1/1, expected weights, and the check of the kernel weights',
  async (t) => {
    const wplan = labPlan({ peer: 'frr', nodes: 3, bfd: false, weighted: true }, 'w');
    const weighted = labServices(wplan).find((s) => s.name === 'weighted');
    t.same(weighted?.endpointNodes, ['node-1', 'node-1', 'node-1', 'node-2', 'node-3']);
    t.notOk(
      labServices(plan).some((s) => s.name === 'weighted'),
      'only with --weighted',
    );
    const adv = labObjects(wplan)
      .map((o) => o.object as KubeObject)
      .find((o) => o.kind === 'BGPAdvertisement');
    t.same(adv?.spec, { weightedECMP: {} }, 'the advertisement turns weighted ECMP on with its defaults');
    t.same(
      validateConfig(
        labObjects(wplan)
          .map((o) => o.object as KubeObject)
          .filter((o) => o.apiVersion === 'bgp-announce.io/v1alpha1'),
      ).problems,
      [],
    );

    const server = await start({ serviceClusterIPRange: '198.51.100.0/25' });
    t.teardown(() => server.stop());
    for (const { resource, object } of labObjects(wplan)) server.create(resource, object);
    const slice = server.get('endpointslices.discovery.k8s.io', 'weighted-lab', 'demo') as unknown as {
      endpoints: { nodeName: string; addresses: string[] }[];
    };
    const addresses = slice.endpoints.map((e) => e.addresses[0]);
    t.equal(new Set(addresses).size, 5, `every pod has its own address: ${addresses.join(', ')}`);
    const s = Object.fromEntries(readServices(server, wplan).map((x) => [x.name, x]));
    t.same(s.weighted!.expectedWeights, { '192.0.2.11': 3, '192.0.2.12': 1, '192.0.2.13': 1 });
    t.same(s.web!.expectedWeights, { '192.0.2.11': 1, '192.0.2.12': 1, '192.0.2.13': 1 }, 'Cluster: 1 each');
    t.equal(readServices(server, plan)[0]?.expectedWeights, undefined, 'no expectation without --weighted');

    t.equal(weightMismatch({ a: 3, b: 1, c: 1 }, { a: 60, b: 20, c: 20 }), undefined, "FRR's 60/20/20 is 3:1:1");
    t.equal(weightMismatch({ a: 1, b: 1, c: 1 }, { a: 33, b: 33, c: 33 }), undefined, '33/33/33 is 1:1:1');
    t.match(
      weightMismatch({ a: 3, b: 1, c: 1 }, { a: 33, b: 33, c: 33 }),
      /weights a x33, b x33, c x33, expected a x3, b x1, c x1 in ratio/,
    );
    t.equal(weightMismatch({ a: 3, b: 1 }, undefined), undefined, 'a router without weights is not judged');
    t.equal(
      parseKernelWeights(
        '203.0.113.5 nhid 20 proto bgp metric 20\n\tnexthop via 192.0.2.11 dev eth0 weight 60\n\tnexthop via 192.0.2.12 dev eth0 weight 20',
      )['192.0.2.11'],
      60,
    );
    t.same(parseKernelWeights('203.0.113.3 nhid 16 via 192.0.2.12 dev eth0 proto bgp metric 20'), { '192.0.2.12': 1 });
  },
);
