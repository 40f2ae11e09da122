// The lab's verdict and output: what counts as settled (the routes, and what the nodes' BGPNodeStates
// and the Services' Announced condition say), the lines a person reads, the --hold help.
import t from 'tap';
import { formatApiVip, formatHold, formatReport } from '../src/lab/report.js';
import {
  expectedAnnounced,
  expectedApiNextHops,
  labProblems,
  type ApiVipReport,
  type LabReport,
  type ServiceReport,
} from '../src/lab/snapshot.js';
import type { ApiHealthMode } from '../src/lab/control-plane.js';

const nodes = [1, 2, 3].map((i) => ({
  name: `node-${i}`,
  namespace: `bgplab-r-n${i}`,
  address: `192.0.2.1${i}`,
  asn: 64497,
  daemonRunning: true,
  log: `/tmp/w/daemon-node-${i}.log`,
}));
const all = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];
const route = (vip: string, nextHops: string[]) => ({
  prefix: `${vip}/32`,
  nextHops,
  paths: nextHops.map((nextHop, i) => ({ nextHop, asPath: '64497', best: i === 0, multipath: true })),
  nextHopsFrom: 'the kernel route zebra installed (ip -n bgplab-r-rtr route show)',
});
const nodeAt = (address: string): string => nodes.find((n) => n.address === address)!.name;
const nodeStates = nodes.map((n) => ({
  node: n.name,
  sessionsEstablished: 1,
  sessionsTotal: 1,
  servicesAnnounced: 2,
  servicesNotAnnounced: 0,
}));
const svc = (
  name: string,
  policy: string,
  vips: string[],
  expected: string[],
  got: string[],
  extra: Partial<ServiceReport> = {},
): ServiceReport => ({
  namespace: 'demo',
  name,
  loadBalancerClass: 'bgp-announce.io/bgp',
  externalTrafficPolicy: policy,
  ours: true,
  vips,
  finalizers: vips.length > 0 ? ['service.kubernetes.io/load-balancer-cleanup'] : [],
  endpointNodes: policy === 'Local' ? ['node-2'] : ['node-1'],
  expectedNextHops: expected,
  expectedNodes: expected.map(nodeAt),
  ...(vips.length > 0
    ? { announced: { status: 'True', message: `${expectedAnnounced(expected.map(nodeAt))} 1 peer (router)` } }
    : {}),
  routes: vips.map((v) => route(v, got)),
  ...extra,
});

function report(
  services: ServiceReport[],
  routerPrefixes: string[],
  sessions = nodes.map((n) => ({ node: n.name, address: n.address, state: 'Established', established: true })),
): LabReport {
  const base = { sessions, nodeStates, services, routerPrefixes, nodes };
  const problems = labProblems(base);
  return {
    ok: problems.length === 0,
    problems,
    peer: 'frr',
    bfd: false,
    router: { software: 'FRR (zebra, bgpd)', namespace: 'bgplab-r-rtr', address: '192.0.2.1', asn: 64496 },
    ...base,
    fabric: {
      switchNamespace: 'bgplab-r-sw',
      apiNamespace: 'bgplab-r-api',
      apiUrl: 'http://192.0.2.100:6443',
      apiServer: 'http://127.0.0.1:40000',
    },
    namespaces: ['bgplab-r-sw', 'bgplab-r-rtr', 'bgplab-r-api', ...nodes.map((n) => n.namespace)],
    workDir: '/tmp/w',
    inspect: ["vtysh -N bgplab-r-rtr -c 'show bgp summary'", 'ip netns exec bgplab-r-n1 bgp-announce status'],
    elapsedMs: 12345,
  };
}

const other = svc('other-class', 'Cluster', [], [], [], {
  loadBalancerClass: 'kube-vip.io/kube-vip-class',
  ours: false,
});
const NO_ENDPOINT = 'no ready endpoint on any node (externalTrafficPolicy Cluster)';
const idle = svc('idle', 'Cluster', ['203.0.113.3'], [], [], {
  endpointNodes: [],
  announced: { status: 'False', message: `announced by no node: ${NO_ENDPOINT} (3 of 3 nodes)` },
});
const good = report(
  [
    svc('web', 'Cluster', ['203.0.113.1'], all, all),
    svc('ingress', 'Local', ['203.0.113.2'], ['192.0.2.12'], ['192.0.2.12']),
    idle,
    other,
  ],
  ['203.0.113.1/32', '203.0.113.2/32'],
);

t.test('settled: sessions up, every VIP to the expected next hops, nothing else', async (t) => {
  t.same(good.problems, []);
  t.equal(good.ok, true);
  const bad = report(
    [
      svc('web', 'Cluster', ['203.0.113.1'], all, all.slice(0, 2)),
      svc('dns', 'Cluster', [], all, []),
      { ...other, vips: ['203.0.113.9'] },
    ],
    ['203.0.113.1/32', '203.0.113.9/32'],
    [{ node: 'node-1', address: '192.0.2.11', state: 'Active', established: false }],
  );
  t.same(bad.problems, [
    'session with node-1 (192.0.2.11) is Active',
    'demo/web: the router sends 203.0.113.1/32 to 192.0.2.11, 192.0.2.12, expected 192.0.2.11, 192.0.2.12, 192.0.2.13',
    'demo/dns has no VIP yet',
    'demo/other-class (class kube-vip.io/kube-vip-class) is not ours but has VIPs 203.0.113.9',
    'the router holds prefixes no Service of ours has: 203.0.113.9/32',
  ]);
  const bfdDown = labProblems({
    ...good,
    sessions: [{ node: 'node-1', address: '192.0.2.11', state: 'Established', established: true, bfd: 'Down' }],
  });
  t.same(bfdDown, ['BFD with node-1 (192.0.2.11) is Down'], 'with BFD, an Established session also needs BFD Up');
  const stopped = labProblems({ ...good, nodes: [{ ...nodes[0]!, daemonRunning: false }] });
  t.same(stopped, ['the daemon of node-1 is not running (log: /tmp/w/daemon-node-1.log)']);
  t.same(labProblems({ ...good, nodeStates: nodeStates.slice(1) }), ['node-1 has no BGPNodeState yet']);
  const web = good.services[0]!;
  t.same(
    labProblems({
      ...good,
      services: [
        { ...web, announced: { status: 'True', message: 'announced by 2 nodes (node-1, node-2) to 1 peer (router)' } },
        ...good.services.slice(1),
      ],
    }),
    [
      'demo/web: its Announced condition says "announced by 2 nodes (node-1, node-2) to 1 peer (router)", expected "announced by 3 nodes (node-1, node-2, node-3) to..."',
    ],
    "the Service's aggregate must name the nodes the router has",
  );
  const { announced: _none, ...silent } = web;
  t.same(labProblems({ ...good, services: [silent, ...good.services.slice(1)] }), [
    'demo/web: its Announced condition says nothing yet, expected "announced by 3 nodes (node-1, node-2, node-3) to..."',
  ]);
  t.same(
    labProblems({
      ...good,
      services: good.services.map((s) => (s === idle ? { ...idle, routes: [route('203.0.113.3', all)] } : s)),
    }),
    ['demo/idle: the router sends 203.0.113.3/32 to 192.0.2.11, 192.0.2.12, 192.0.2.13, expected no route'],
    'a Cluster Service with no ready endpoint must have no route',
  );
  t.equal(expectedAnnounced([]), 'announced by no node');
  t.equal(expectedAnnounced(['a', 'b', 'c', 'd', 'e', 'f']), 'announced by 6 nodes to', 'beyond five nodes, a count');
});

t.test('the lines a person reads', async (t) => {
  t.same(formatReport(good), [
    'Router: FRR (zebra, bgpd) in bgplab-r-rtr, 192.0.2.1 AS 64496',
    '',
    'Sessions (as the router sees them):',
    '  NODE    ADDRESS     STATE',
    '  node-1  192.0.2.11  Established',
    '  node-2  192.0.2.12  Established',
    '  node-3  192.0.2.13  Established',
    '',
    'Nodes (as their BGPNodeState says):',
    '  NODE    SESSIONS  ANNOUNCED  NOT ANNOUNCED',
    '  node-1  1/1       2          0',
    '  node-2  1/1       2          0',
    '  node-3  1/1       2          0',
    '',
    'Services (LoadBalancer):',
    "  SERVICE           POLICY   VIP          ROUTER'S NEXT HOPS",
    '  demo/web          Cluster  203.0.113.1  3 ECMP next hops: 192.0.2.11 (node-1), 192.0.2.12 (node-2), 192.0.2.13 (node-3)',
    '  demo/ingress      Local    203.0.113.2  1 next hop: 192.0.2.12 (node-2) [endpoints on node-2]',
    '  demo/idle         Cluster  203.0.113.3  no route [no ready endpoint on any node: withdrawn]',
    '  demo/other-class  Cluster  -            class kube-vip.io/kube-vip-class: not ours: no VIP, left alone',
    '',
    'What the Services say (condition bgp-announce.io/Announced, written by the leader):',
    '  demo/web      True   announced by 3 nodes (node-1, node-2, node-3) to 1 peer (router)',
    '  demo/ingress  True   announced by 1 node (node-2) to 1 peer (router)',
    '  demo/idle     False  announced by no node: no ready endpoint on any node (externalTrafficPolicy Cluster) (3 of 3 nodes)',
    '',
    "The router's paths (next hops from the kernel route zebra installed (ip -n bgplab-r-rtr route show)):",
    '  203.0.113.1/32  *>  192.0.2.11  AS path 64497',
    '                  *=  192.0.2.12  AS path 64497',
    '                  *=  192.0.2.13  AS path 64497',
    '  203.0.113.2/32  *>  192.0.2.12  AS path 64497',
    '  203.0.113.3/32      (no path)',
    '  (*> best, *= also used for ECMP)',
    '',
    "All good after 12.3 s: 3 sessions Established, 2 VIPs routed to the expected next hops, 1 withdrawn as expected (no ready endpoint), the other class's Service left alone.",
  ]);
  const unsettled = report([svc('web', 'Cluster', ['203.0.113.1'], all, ['192.0.2.11'])], ['203.0.113.1/32']);
  const lines = formatReport(unsettled);
  t.ok(
    lines.includes(
      '  demo/web  Cluster  203.0.113.1  1 next hop: 192.0.2.11 (node-1)  [expected 192.0.2.11, 192.0.2.12, 192.0.2.13]',
    ),
    'a mismatch shows what was expected',
  );
  const withBfd = formatReport({ ...good, bfd: true, sessions: good.sessions.map((s) => ({ ...s, bfd: 'Up' })) });
  t.same(withBfd.slice(0, 5), [
    'Router: FRR (zebra, bgpd) in bgplab-r-rtr, 192.0.2.1 AS 64496, BFD on',
    '',
    'Sessions (as the router sees them):',
    '  NODE    ADDRESS     STATE        BFD',
    '  node-1  192.0.2.11  Established  Up',
  ]);
  t.same(lines.slice(-2), [
    'Not settled after 12.3 s:',
    '  - demo/web: the router sends 203.0.113.1/32 to 192.0.2.11, expected 192.0.2.11, 192.0.2.12, 192.0.2.13',
  ]);
});

t.test('--hold: the namespaces and how to look inside', async (t) => {
  t.same(formatHold(good), [
    '',
    'The lab stays up; Ctrl-C tears it down. Namespaces:',
    '  switch  bgplab-r-sw   bridge br0',
    '  router  bgplab-r-rtr  FRR 192.0.2.1',
    "  api     bgplab-r-api  http://192.0.2.100:6443 -> http://127.0.0.1:40000 (the lab's API server)",
    '  node-1  bgplab-r-n1   bgp-announce daemon 192.0.2.11',
    '  node-2  bgplab-r-n2   bgp-announce daemon 192.0.2.12',
    '  node-3  bgplab-r-n3   bgp-announce daemon 192.0.2.13',
    '',
    'Look inside:',
    "  vtysh -N bgplab-r-rtr -c 'show bgp summary'",
    '  ip netns exec bgplab-r-n1 bgp-announce status',
    '  logs and configs: /tmp/w',
  ]);
});

/** With --control-plane: the API VIP with each node's stand-in mode, and the router's next hops for it. */
function apiVip(modes: ApiHealthMode[], got: string[], running = nodes): ApiVipReport {
  const health = nodes.map((n, i) => ({
    node: n.name,
    address: n.address,
    mode: modes[i]!,
    file: `/tmp/w/api-health-${n.name}`,
  }));
  return {
    vip: '203.0.113.100',
    prefix: '203.0.113.100/32',
    health,
    ...expectedApiNextHops(health, running),
    route: route('203.0.113.100', got),
  };
}

/** `good` with the API VIP, its problems recomputed. */
function withApi(api: ApiVipReport, routerPrefixes = [...good.routerPrefixes, api.prefix]): LabReport {
  const base = { ...good, apiVip: api, routerPrefixes };
  const problems = labProblems(base);
  return { ...base, problems, ok: problems.length === 0 };
}

t.test('--control-plane: the API VIP expected from the nodes whose API server is healthy', async (t) => {
  const healthy = withApi(apiVip(['ok', 'ok', 'ok'], all));
  t.same(healthy.problems, [], 'all healthy, three next hops: settled');
  t.same(healthy.apiVip!.expectedNodes, ['node-1', 'node-2', 'node-3']);
  const failing = apiVip(['ok', 'fail', 'ok'], all);
  t.same(failing.expectedNextHops, ['192.0.2.11', '192.0.2.13'], "node-2's API server fails: not expected");
  t.same(withApi(failing).problems, [
    'API server VIP: the router sends 203.0.113.100/32 to 192.0.2.11, 192.0.2.12, 192.0.2.13, expected 192.0.2.11, 192.0.2.13 (the nodes whose API server is healthy)',
  ]);
  t.same(withApi(apiVip(['ok', 'fail', 'ok'], ['192.0.2.11', '192.0.2.13'])).problems, [], 'settled again on two');
  t.same(apiVip(['ok', 'ok', 'hang'], all).expectedNodes, ['node-1', 'node-2'], 'a hanging one is not healthy');
  const stopped = [nodes[0]!, { ...nodes[1]!, daemonRunning: false }, nodes[2]!];
  t.same(apiVip(['ok', 'ok', 'ok'], all, stopped).expectedNodes, ['node-1', 'node-3'], 'nor one whose daemon stopped');
  const none = apiVip(['fail', 'hang', 'fail'], []);
  t.same(withApi(none, good.routerPrefixes).problems, [], 'none healthy: no route, settled');
  t.same(withApi(apiVip(['ok', 'ok', 'ok'], []), good.routerPrefixes).problems, [
    'API server VIP: the router sends 203.0.113.100/32 to nowhere, expected 192.0.2.11, 192.0.2.12, 192.0.2.13 (the nodes whose API server is healthy)',
  ]);
  t.same(
    labProblems({ ...good, routerPrefixes: [...good.routerPrefixes, '203.0.113.100/32'] }),
    ['the router holds prefixes no Service of ours has: 203.0.113.100/32'],
    'without --control-plane the API VIP is not wanted',
  );
});

t.test('--control-plane: the lines a person reads', async (t) => {
  t.equal(
    formatApiVip(good, apiVip(['ok', 'ok', 'ok'], all)),
    'API server VIP 203.0.113.100: 3 ECMP next hops: 192.0.2.11 (node-1), 192.0.2.12 (node-2), 192.0.2.13 (node-3) [every API server healthy]',
  );
  t.equal(
    formatApiVip(good, apiVip(['ok', 'fail', 'hang'], ['192.0.2.11', '192.0.2.12'])),
    'API server VIP 203.0.113.100: 2 ECMP next hops: 192.0.2.11 (node-1), 192.0.2.12 (node-2) [API server node-2 fails, node-3 hangs]  [expected 192.0.2.11]',
  );
  t.equal(
    formatApiVip(good, apiVip(['fail', 'fail', 'fail'], [])),
    'API server VIP 203.0.113.100: no route [API server node-1 fails, node-2 fails, node-3 fails]',
  );
  const lines = formatReport(withApi(apiVip(['ok', 'fail', 'ok'], ['192.0.2.11', '192.0.2.13'])));
  const at = lines.indexOf(
    'API server VIP 203.0.113.100: 2 ECMP next hops: 192.0.2.11 (node-1), 192.0.2.13 (node-3) [API server node-2 fails]',
  );
  t.ok(
    at > 0 && lines[at - 1] === '' && lines[at - 2]!.includes('demo/other-class'),
    'its own line after the Services',
  );
  t.ok(lines.includes('  203.0.113.100/32  *>  192.0.2.11  AS path 64497'), "among the router's paths");
  t.equal(
    lines.at(-1),
    "All good after 12.3 s: 3 sessions Established, 2 VIPs routed to the expected next hops, 1 withdrawn as expected (no ready endpoint), the API server VIP 203.0.113.100 routed to the 2 nodes whose API server is healthy (node-1, node-3), the other class's Service left alone.",
  );
  const hold = formatHold(withApi(apiVip(['ok', 'ok', 'ok'], all)));
  t.same(hold.slice(-6), [
    '',
    "Fail or heal a node's stand-in API server (each node's daemon checks http://127.0.0.1:6443/readyz for the API VIP 203.0.113.100):",
    '  echo fail > /tmp/w/api-health-node-2    # /readyz answers 503: the node drains, then withdraws the VIP',
    "  echo hang > /tmp/w/api-health-node-2    # /readyz never answers: failing at the check's timeout",
    '  echo ok > /tmp/w/api-health-node-2      # healthy again: announced after rise passes',
    '  (one file per node: api-health-node-1, api-health-node-2, api-health-node-3, in /tmp/w)',
  ]);
  t.equal(formatHold(good).length, 13, 'nothing about it without --control-plane');
});
