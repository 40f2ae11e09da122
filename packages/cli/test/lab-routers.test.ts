// The lab's routers: the configs we give gobgpd, FRR and BIRD, and the parsers of their answers, fed
// with output captured from the real daemons (gobgpd 3.10, FRR 8.4, BIRD 2.0.12) on this machine,
// three nodes announcing 203.0.113.1/32, node-1 with MED 5 (so not an equal-cost path) and node-1
// alone announcing 203.0.113.2/32.
import t from 'tap';
import { labPlan } from '../src/lab/plan.js';
import { gobgpConfig, gobgpPrefixes, parseGobgpNeighbors, parseGobgpRoute } from '../src/lab/router-gobgp.js';
import { frrConfigs, parseFrrBfdPeers, parseFrrNeighbors, parseFrrTable } from '../src/lab/router-frr.js';
import { birdConfig, parseBirdBfdSessions, parseBirdProtocols, parseBirdRoutes } from '../src/lab/router-bird.js';
import { bfdStateName, compareAddresses, parseKernelNextHops, withBfd } from '../src/lab/router-common.js';

const plan = labPlan({ peer: 'gobgp', nodes: 3, bfd: false }, 'cap');
const bfdPlan = labPlan({ peer: 'frr', nodes: 2, bfd: true }, 'cap');

const path = (nexthop: string, extra: object[] = []) => ({
  nlri: { prefix: '203.0.113.1/32' },
  attrs: [
    { type: 1, value: 0 },
    { type: 2, as_paths: [{ segment_type: 2, num: 1, asns: [64497] }] },
    { type: 3, nexthop },
    ...extra,
  ],
  stale: false,
  'source-id': nexthop,
  'neighbor-ip': nexthop,
});
// `gobgp global rib -j` as captured (age fields dropped).
const gobgpRib = {
  '203.0.113.1/32': [
    { ...path('192.0.2.12'), best: true },
    { ...path('192.0.2.13'), best: false },
    { ...path('192.0.2.11', [{ type: 4, metric: 5 }]), best: false },
  ],
  '203.0.113.2/32': [
    { ...path('192.0.2.11', [{ type: 4, metric: 5 }]), nlri: { prefix: '203.0.113.2/32' }, best: true },
  ],
};

t.test('gobgpd: config, neighbors, multipath set', async (t) => {
  const conf = gobgpConfig(plan);
  t.match(conf, /\[global\.use-multiple-paths\.config\]\n {2}enabled = true/, 'ECMP on');
  t.match(conf, /as = 64496\n {2}router-id = "192\.0\.2\.1"/);
  t.equal(conf.match(/\[\[neighbors\]\]/g)?.length, 3, 'one neighbor per node');
  t.match(conf, /neighbor-address = "192\.0\.2\.13"\n {4}peer-as = 64497/);
  t.equal(conf.match(/passive-mode = true/g)?.length, 3, 'passive: the daemons connect');

  const neighbors = [
    { conf: { neighbor_address: '192.0.2.11' }, state: { neighbor_address: '192.0.2.11', session_state: 6 } },
    { conf: { neighbor_address: '192.0.2.12' }, state: { neighbor_address: '192.0.2.12', session_state: 3 } },
  ];
  t.same(parseGobgpNeighbors(neighbors, plan), [
    { node: 'node-1', address: '192.0.2.11', state: 'Established', established: true },
    { node: 'node-2', address: '192.0.2.12', state: 'Active', established: false },
    { node: 'node-3', address: '192.0.2.13', state: 'Unknown', established: false },
  ]);
  t.same(
    parseGobgpNeighbors('nonsense', plan).map((s) => s.state),
    ['Unknown', 'Unknown', 'Unknown'],
  );

  const r1 = parseGobgpRoute(gobgpRib, '203.0.113.1/32');
  t.same(r1.nextHops, ['192.0.2.12', '192.0.2.13'], 'the MED 5 path is not equal to the best');
  t.same(
    r1.paths.map((p) => [p.nextHop, p.asPath, p.best, p.multipath]),
    [
      ['192.0.2.12', '64497', true, true],
      ['192.0.2.13', '64497', false, true],
      ['192.0.2.11', '64497', false, false],
    ],
  );
  t.same(parseGobgpRoute(gobgpRib, '203.0.113.2/32').nextHops, ['192.0.2.11']);
  t.same(parseGobgpRoute({}, '203.0.113.9/32'), {
    prefix: '203.0.113.9/32',
    nextHops: [],
    paths: [],
    nextHopsFrom: parseGobgpRoute({}, 'x').nextHopsFrom,
  });
  const longer = {
    '203.0.113.1/32': [
      { ...path('192.0.2.11'), best: true },
      {
        ...path('192.0.2.12'),
        attrs: [
          { type: 2, as_paths: [{ segment_type: 2, asns: [64497, 64497] }] },
          { type: 3, nexthop: '192.0.2.12' },
        ],
      },
    ],
  };
  t.same(parseGobgpRoute(longer, '203.0.113.1/32').nextHops, ['192.0.2.11'], 'a longer AS path is not equal-cost');
  const lowPref = {
    '203.0.113.1/32': [{ ...path('192.0.2.11'), best: true }, { ...path('192.0.2.12', [{ type: 5, value: 0 }]) }],
  };
  t.same(
    parseGobgpRoute(lowPref, '203.0.113.1/32').nextHops,
    ['192.0.2.11'],
    'nor a lower LOCAL_PREF (graceful shutdown)',
  );
  t.same(gobgpPrefixes(gobgpRib), ['203.0.113.1/32', '203.0.113.2/32']);
  t.same(gobgpPrefixes({}), []);
});

// `vtysh -c 'show bgp ipv4 unicast json'` as captured (fields the parser does not read trimmed).
const frrTable = {
  vrfId: 0,
  routerId: '192.0.2.1',
  localAS: 64496,
  routes: {
    '203.0.113.1/32': [
      {
        valid: true,
        pathFrom: 'external',
        metric: 5,
        peerId: '192.0.2.11',
        path: '64497',
        origin: 'IGP',
        nexthops: [{ ip: '192.0.2.11', afi: 'ipv4', used: true }],
      },
      {
        valid: true,
        multipath: true,
        pathFrom: 'external',
        peerId: '192.0.2.13',
        path: '64497',
        origin: 'IGP',
        nexthops: [{ ip: '192.0.2.13', afi: 'ipv4', used: true }],
      },
      {
        valid: true,
        bestpath: true,
        selectionReason: 'Older Path',
        peerId: '192.0.2.12',
        path: '64497',
        origin: 'IGP',
        nexthops: [{ ip: '192.0.2.12', afi: 'ipv4', used: true }],
      },
    ],
    '203.0.113.2/32': [
      {
        valid: true,
        bestpath: true,
        metric: 5,
        peerId: '192.0.2.11',
        path: '64497',
        origin: 'IGP',
        nexthops: [{ ip: '192.0.2.11', afi: 'ipv4', used: true }],
      },
    ],
  },
};

t.test('FRR: configs, neighbors, BGP table', async (t) => {
  const c = frrConfigs(plan, '/tmp/w');
  t.match(c.bgpd, /^router bgp 64496$/m);
  t.match(c.bgpd, /^ {2}maximum-paths 16$/m, 'ECMP on');
  t.match(c.bgpd, /^ neighbor NODES passive$/m);
  t.match(c.bgpd, /^ neighbor NODES remote-as 64497$/m);
  t.match(c.bgpd, /^ neighbor 192\.0\.2\.13 peer-group NODES$/m);
  t.match(c.bgpd, /^log file \/tmp\/w\/frr-bgpd\.log informational$/m);
  t.notMatch(c.bgpd, /bfd/, 'no BFD unless asked');
  t.equal(c.bfdd, undefined);
  const b = frrConfigs(bfdPlan, '/tmp/w');
  t.match(b.bgpd, /^ neighbor NODES bfd profile lab$/m);
  t.match(
    b.bfdd ?? '',
    /^ profile lab\n {2}receive-interval 100\n {2}transmit-interval 100\n {2}detect-multiplier 3$/m,
  );

  t.same(
    parseFrrNeighbors(
      { '192.0.2.11': { remoteAs: 64497, bgpState: 'Established' }, '192.0.2.12': { bgpState: 'Connect' } },
      plan,
    ).map((s) => [s.node, s.state, s.established]),
    [
      ['node-1', 'Established', true],
      ['node-2', 'Connect', false],
      ['node-3', 'Unknown', false],
    ],
  );
  const table = parseFrrTable(frrTable);
  t.same(table.prefixes, ['203.0.113.1/32', '203.0.113.2/32']);
  t.same(
    table.paths('203.0.113.1/32').map((p) => [p.nextHop, p.best, p.multipath]),
    [
      ['192.0.2.11', false, false],
      ['192.0.2.13', false, true],
      ['192.0.2.12', true, true],
    ],
  );
  t.same(table.paths('203.0.113.7/32'), []);
  t.same(parseFrrTable({}).prefixes, []);
});

t.test('kernel routes (ip route show), as zebra and BIRD install them', async (t) => {
  const zebraEcmp =
    '203.0.113.1 nhid 11 proto bgp metric 20 \n\tnexthop via 192.0.2.12 dev eth0 weight 1 \n\tnexthop via 192.0.2.13 dev eth0 weight 1 \n';
  const zebraOne = '203.0.113.2 nhid 13 via 192.0.2.11 dev eth0 proto bgp metric 20 \n';
  const birdEcmp =
    '203.0.113.1 proto bird metric 32 \n\tnexthop via 192.0.2.13 dev eth0 weight 1 \n\tnexthop via 192.0.2.12 dev eth0 weight 1 \n';
  t.same(parseKernelNextHops(zebraEcmp), ['192.0.2.12', '192.0.2.13']);
  t.same(parseKernelNextHops(zebraOne), ['192.0.2.11']);
  t.same(parseKernelNextHops(birdEcmp), ['192.0.2.12', '192.0.2.13'], 'sorted');
  t.same(parseKernelNextHops(''), [], 'no route');
  t.same(parseKernelNextHops('2001:db8::1 via inet6 fe80::1 dev eth0 proto bgp'), ['fe80::1']);
  t.same(
    ['192.0.2.100', '192.0.2.9', '192.0.2.11'].sort(compareAddresses),
    ['192.0.2.9', '192.0.2.11', '192.0.2.100'],
    'numeric order',
  );
});

const birdProtocols = `BIRD 2.0.12 ready.
Name       Proto      Table      State  Since         Info
device1    Device     ---        up     16:17:28.547  
kernel1    Kernel     master4    up     16:17:28.547  
n1         BGP        ---        up     16:17:33.397  Established   
n2         BGP        ---        up     16:17:33.750  Established   
n3         BGP        ---        start  16:17:34.185  Active        Socket: Connection refused
`;
const birdRoutes = `BIRD 2.0.12 ready.
Table master4:
203.0.113.2/32       unicast [n1 16:17:33.419] * (100) [AS64497i]
\tvia 192.0.2.11 on eth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 64497
\tBGP.next_hop: 192.0.2.11
\tBGP.med: 5
\tBGP.local_pref: 100
203.0.113.1/32       unicast [n2 16:17:33.773] * (100) [AS64497i]
\tvia 192.0.2.12 on eth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 64497
\tBGP.next_hop: 192.0.2.12
\tBGP.local_pref: 100
                     unicast [n1 16:17:33.419] (100) [AS64497i]
\tvia 192.0.2.11 on eth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 64497
\tBGP.next_hop: 192.0.2.11
\tBGP.med: 5
\tBGP.local_pref: 100
                     unicast [n3 16:17:34.210] (100) [AS64497i]
\tvia 192.0.2.13 on eth0
\tType: BGP univ
\tBGP.origin: IGP
\tBGP.as_path: 64497
\tBGP.next_hop: 192.0.2.13
\tBGP.local_pref: 100
`;

t.test('BIRD: config, protocols, routes', async (t) => {
  const conf = birdConfig(plan, '/tmp/w');
  t.match(
    conf,
    /protocol kernel \{\n {2}ipv4 \{ import none; export where source = RTS_BGP; \};\n {2}merge paths on;\n\}/,
    'the kernel route merges equal paths (ECMP)',
  );
  t.match(conf, /^ {2}passive on;$/m);
  t.match(conf, /^protocol bgp n2 from node \{ neighbor 192\.0\.2\.12 as 64497; description "node-2"; \}$/m);
  t.match(conf, /^ {2}ipv4 \{ import all; export none; \};$/m, 'eBGP needs explicit filters in BIRD 2');
  t.notMatch(conf, /bfd/);
  const b = birdConfig(labPlan({ peer: 'bird', nodes: 1, bfd: true }, 'x'), '/tmp/w');
  t.match(b, /^ {2}bfd on;$/m);
  t.match(b, /interface "eth0" \{ min rx interval 100 ms; min tx interval 100 ms; multiplier 3; \};/);

  t.same(
    parseBirdProtocols(birdProtocols, plan).map((s) => [s.node, s.state, s.established]),
    [
      ['node-1', 'Established', true],
      ['node-2', 'Established', true],
      ['node-3', 'Active', false],
    ],
  );
  const routes = parseBirdRoutes(birdRoutes);
  t.same(
    routes.map((r) => [r.prefix, r.protocol, r.path.nextHop, r.path.asPath, r.path.best]),
    [
      ['203.0.113.2/32', 'n1', '192.0.2.11', '64497', true],
      ['203.0.113.1/32', 'n2', '192.0.2.12', '64497', true],
      ['203.0.113.1/32', 'n1', '192.0.2.11', '64497', false],
      ['203.0.113.1/32', 'n3', '192.0.2.13', '64497', false],
    ],
  );
  t.same(parseBirdRoutes('BIRD 2.0.12 ready.\nTable master4:\n'), []);
});

t.test('BFD states at the router (FRR bfdd, BIRD)', async (t) => {
  // `vtysh -c 'show bfd peers json'` as captured (two of three peers, fields trimmed).
  const frr = [
    {
      multihop: false,
      peer: '192.0.2.12',
      local: '192.0.2.1',
      interface: 'eth0',
      status: 'up',
      uptime: 4,
      diagnostic: 'ok',
      'receive-interval': 100,
      'detect-multiplier': 3,
    },
    {
      multihop: false,
      peer: '192.0.2.13',
      local: '192.0.2.1',
      interface: 'eth0',
      status: 'down',
      diagnostic: 'control detection time expired',
    },
  ];
  t.same(
    [...parseFrrBfdPeers(frr)],
    [
      ['192.0.2.12', 'Up'],
      ['192.0.2.13', 'Down'],
    ],
  );
  t.same([...parseFrrBfdPeers({})], []);
  const bird =
    'BIRD 2.0.12 ready.\nbfd1:\nIP address                Interface  State      Since         Interval  Timeout\n192.0.2.11                eth0       Up         16:27:34.427    0.100    0.300\n192.0.2.12                eth0       Init       16:27:34.306    1.000    3.000\n';
  t.same(
    [...parseBirdBfdSessions(bird)],
    [
      ['192.0.2.11', 'Up'],
      ['192.0.2.12', 'Init'],
    ],
  );
  t.same(['up', 'admin_down', 'init', 'down'].map(bfdStateName), ['Up', 'AdminDown', 'Init', 'Down']);
  const sessions = parseFrrNeighbors(
    { '192.0.2.11': { bgpState: 'Established' } },
    labPlan({ peer: 'frr', nodes: 2, bfd: true }, 'x'),
  );
  t.same(
    withBfd(sessions, new Map([['192.0.2.11', 'Up']])).map((s) => [s.node, s.state, s.bfd]),
    [
      ['node-1', 'Established', 'Up'],
      ['node-2', 'Unknown', 'Unknown'],
    ],
  );
});
