// The announce plan: a table of scenarios on a two-rack cluster (rack r1: tor-1a, tor-1b; rack r2:
// tor-2a, tor-2b), each checking the exact routes, peers, per-Service reasons and warnings.
import t from 'tap';
import { planAnnouncements, type PlanInput } from '../src/plan/announce-plan.js';
import {
  N1,
  N2,
  PLAIN,
  advertisement,
  config,
  input,
  node,
  service,
  slice,
  slices,
  staticRoute,
  view,
  type PlanView,
} from './announce-plan-fixtures.js';

const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';
const R1 = ['tor-1a', 'tor-1b'];
const R2 = ['tor-2a', 'tor-2b'];
const to = (peers: string[], attrs = PLAIN) => Object.fromEntries(peers.map((p) => [p, attrs]));
const announced = (ips: string[], peers: string[], reason?: string) =>
  reason === undefined ? { ips, announced: true, peers } : { ips, announced: true, peers, reason };
const silent = (ips: string[], reason: string) => ({ ips, announced: false, peers: [], reason });
const WEB = service('shop/web', ['203.0.113.10']);
const WEB_LOCAL = service('shop/web', ['203.0.113.10'], 'Local');
const WEB_ROUTE = { '203.0.113.10/32': { services: ['shop/web'], perPeer: to(R1) } };
const NO_LOCAL = 'no ready local endpoint (externalTrafficPolicy Local)';
const NO_ENDPOINT = 'no ready endpoint on any node (externalTrafficPolicy Cluster)';
const WEB_CLUSTER = service('shop/web', ['203.0.113.10'], 'Cluster');

/** Cluster Service with one EndpointSlice holding these endpoints. */
function cluster(endpoints: Parameters<typeof slice>[1], svc = WEB_CLUSTER): PlanInput {
  return input({ services: [svc], endpointSlices: slices(slice('shop/web', endpoints)) });
}

interface Scenario {
  name: string;
  input: PlanInput;
  expect: Partial<PlanView>;
}

/** Local Service with one EndpointSlice holding these endpoints. */
function local(endpoints: Parameters<typeof slice>[1]): PlanInput {
  return input({ services: [WEB_LOCAL], endpointSlices: slices(slice('shop/web', endpoints)) });
}

const scenarios: Scenario[] = [
  {
    name: 'Cluster: announced from rack r1 to its two ToRs',
    input: input({ services: [WEB] }),
    expect: { peers: R1, routes: WEB_ROUTE, services: { 'shop/web': announced(['203.0.113.10'], R1) }, warnings: [] },
  },
  {
    name: 'Cluster: announced from rack r2 to its own two ToRs',
    input: input({ nodeName: 'n2', node: N2, services: [WEB] }),
    expect: {
      peers: R2,
      routes: { '203.0.113.10/32': { services: ['shop/web'], perPeer: to(R2) } },
      services: { 'shop/web': announced(['203.0.113.10'], R2) },
    },
  },
  {
    name: 'Cluster (explicit) with endpoints elsewhere only: still announced',
    input: input({
      services: [service('shop/web', ['203.0.113.10'], 'Cluster')],
      endpointSlices: slices(slice('shop/web', [['n2', { ready: true }]])),
    }),
    expect: { routes: WEB_ROUTE },
  },
  {
    name: 'Cluster: no EndpointSlice at all: withdrawn (MetalLB does the same)',
    input: input({ services: [WEB_CLUSTER], endpointSlices: new Map() }),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_ENDPOINT) } },
  },
  {
    name: 'Cluster (policy unset): no EndpointSlice, withdrawn too',
    input: input({ services: [WEB], endpointSlices: new Map() }),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_ENDPOINT) } },
  },
  {
    name: 'Cluster: an EndpointSlice with no endpoints',
    input: cluster([]),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_ENDPOINT) } },
  },
  {
    name: 'Cluster: every endpoint not ready, on any node',
    input: cluster([
      ['n1', { ready: false }],
      ['n2', { ready: true, serving: false }],
      ['n3', { ready: false, serving: true, terminating: true }],
    ]),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_ENDPOINT) } },
  },
  {
    name: 'Cluster: one serving endpoint on another node is enough',
    input: cluster([
      ['n1', { ready: false }],
      ['n2', { ready: false, serving: true }],
    ]),
    expect: { routes: WEB_ROUTE, services: { 'shop/web': announced(['203.0.113.10'], R1) } },
  },
  {
    name: 'Cluster: a slice of another Service has the endpoint',
    input: input({ services: [WEB_CLUSTER], endpointSlices: slices(slice('shop/api', [['n1', { ready: true }]])) }),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_ENDPOINT) } },
  },
  {
    name: 'Cluster without endpoints on an excluded node: the node reason comes first',
    input: input({
      node: node('n1', { rack: 'r1', [EXCLUDE]: '' }),
      services: [WEB_CLUSTER],
      endpointSlices: new Map(),
    }),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], `node n1 has the label ${EXCLUDE}`) } },
  },
  {
    name: 'Local: ready endpoint here',
    input: local([['n1', { ready: true, serving: true, terminating: false }]]),
    expect: { routes: WEB_ROUTE },
  },
  {
    name: 'Local: endpoints on other nodes only',
    input: local([
      ['n2', { ready: true }],
      ['n3', {}],
    ]),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_LOCAL) } },
  },
  {
    name: 'Local: not ready but serving',
    input: local([['n1', { ready: false, serving: true }]]),
    expect: { routes: WEB_ROUTE },
  },
  {
    name: 'Local: serving but terminating',
    input: local([['n1', { ready: false, serving: true, terminating: true }]]),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_LOCAL) } },
  },
  { name: 'Local: conditions all unset', input: local([['n1', {}]]), expect: { routes: WEB_ROUTE } },
  { name: 'Local: no conditions object', input: local([['n1', undefined]]), expect: { routes: WEB_ROUTE } },
  { name: 'Local: ready false, serving unset', input: local([['n1', { ready: false }]]), expect: { routes: {} } },
  {
    name: 'Local: serving false wins over ready true',
    input: local([['n1', { ready: true, serving: false }]]),
    expect: { routes: {} },
  },
  {
    name: 'Local: terminating, serving unset, ready unset',
    input: local([['n1', { terminating: true }]]),
    expect: { routes: {} },
  },
  {
    name: 'Local: one not serving here, one serving here',
    input: local([
      ['n1', { ready: false, serving: false }],
      ['n1', { ready: true }],
    ]),
    expect: { routes: WEB_ROUTE },
  },
  {
    name: 'Local: no EndpointSlice at all',
    input: input({ services: [WEB_LOCAL] }),
    expect: { routes: {}, services: { 'shop/web': silent(['203.0.113.10'], NO_LOCAL) } },
  },
  {
    name: 'Local: the endpoint here is in the second slice',
    input: input({
      services: [WEB_LOCAL],
      endpointSlices: slices(slice('shop/web', [['n2', {}]]), slice('shop/web', [['n1', { ready: true }]])),
    }),
    expect: { routes: WEB_ROUTE },
  },
  {
    name: 'Local: a slice of another Service has the endpoint here',
    input: input({ services: [WEB_LOCAL], endpointSlices: slices(slice('shop/api', [['n1', { ready: true }]])) }),
    expect: { routes: {} },
  },
  {
    name: 'exclude label with an empty value: nothing announced, static routes neither, sessions still run',
    input: input({
      node: node('n1', { rack: 'r1', [EXCLUDE]: '' }),
      services: [WEB],
      config: config({ staticRoutes: [staticRoute('s', ['192.0.2.0/24'])] }),
    }),
    expect: {
      peers: R1,
      routes: {},
      services: { 'shop/web': silent(['203.0.113.10'], `node n1 has the label ${EXCLUDE}`) },
      warnings: [],
    },
  },
  {
    name: 'NetworkUnavailable True: nothing announced',
    input: input({
      node: node('n1', { rack: 'r1' }, [
        { type: 'Ready', status: 'True' },
        { type: 'NetworkUnavailable', status: 'True' },
      ]),
      services: [WEB],
    }),
    expect: {
      routes: {},
      services: { 'shop/web': silent(['203.0.113.10'], 'node n1 has the condition NetworkUnavailable=True') },
    },
  },
  {
    name: 'NetworkUnavailable False: announced',
    input: input({
      node: node('n1', { rack: 'r1' }, [{ type: 'NetworkUnavailable', status: 'False' }]),
      services: [WEB],
    }),
    expect: { routes: WEB_ROUTE },
  },
  {
    name: 'node not seen yet: no peers, nothing announced',
    input: input({
      node: undefined,
      services: [WEB],
      config: config({ staticRoutes: [staticRoute('s', ['192.0.2.0/24'])] }),
    }),
    expect: {
      peers: [],
      routes: {},
      services: { 'shop/web': silent(['203.0.113.10'], 'node n1 has not been seen yet') },
    },
  },
  {
    name: 'a node no BGPPeer selects',
    input: input({ nodeName: 'n3', node: node('n3', { rack: 'r3' }), services: [WEB] }),
    expect: {
      peers: [],
      routes: {},
      services: { 'shop/web': silent(['203.0.113.10'], 'this node runs no BGPPeer (no nodeSelectors match it)') },
    },
  },
  {
    name: 'a BGPPeer without nodeSelectors runs on every node',
    input: input({
      services: [WEB],
      config: config({ peers: [...config().peers, { ...config().peers[0]!, name: 'core', nodeSelectors: [] }] }),
    }),
    expect: {
      peers: ['core', ...R1],
      routes: { '203.0.113.10/32': { services: ['shop/web'], perPeer: to(['core', ...R1]) } },
    },
  },
  {
    name: 'advertisement nodeSelectors exclude this node',
    input: input({
      services: [WEB],
      config: config({
        advertisements: [advertisement('r2-only', { nodeSelectors: [{ matchLabels: { rack: 'r2' } }] })],
      }),
    }),
    expect: {
      routes: {},
      services: { 'shop/web': silent(['203.0.113.10'], 'no BGPAdvertisement selects pool blue for this node') },
    },
  },
  {
    name: 'advertisement nodeSelectors include this node',
    input: input({
      services: [WEB],
      config: config({
        advertisements: [
          advertisement('r1-only', {
            nodeSelectors: [{ matchLabels: { rack: 'r2' } }, { matchLabels: { rack: 'r1' } }],
          }),
        ],
      }),
    }),
    expect: { routes: WEB_ROUTE },
  },
  {
    name: 'advertisement peers: only tor-1a of this rack',
    input: input({
      services: [WEB],
      config: config({ advertisements: [advertisement('a', { peers: ['tor-1a', 'tor-2b'] })] }),
    }),
    expect: {
      routes: { '203.0.113.10/32': { services: ['shop/web'], perPeer: to(['tor-1a']) } },
      services: { 'shop/web': announced(['203.0.113.10'], ['tor-1a']) },
    },
  },
  {
    name: 'advertisement peers: none of this rack',
    input: input({ services: [WEB], config: config({ advertisements: [advertisement('a', { peers: ['tor-2a'] })] }) }),
    expect: {
      routes: {},
      services: {
        'shop/web': silent(
          ['203.0.113.10'],
          "the BGPAdvertisements of pool blue name none of this node's BGPPeers (tor-1a, tor-1b)",
        ),
      },
    },
  },
  {
    name: 'pool selectors: by label and by name',
    input: input({
      services: [service('a/green', ['198.51.100.7']), WEB, service('a/v6', ['2001:db8:1::7'])],
      config: config({
        advertisements: [
          advertisement('public', { ipAddressPoolSelectors: [{ matchLabels: { tier: 'public' } }] }),
          advertisement('v6', { ipAddressPools: ['v6'] }),
        ],
      }),
    }),
    expect: {
      routes: {
        '198.51.100.7/32': { services: ['a/green'], perPeer: to(R1) },
        '2001:db8:1::7/128': { services: ['a/v6'], perPeer: to(R1) },
      },
      services: {
        'a/green': announced(['198.51.100.7'], R1),
        'a/v6': announced(['2001:db8:1::7'], R1),
        'shop/web': silent(['203.0.113.10'], 'no BGPAdvertisement selects pool blue'),
      },
    },
  },
  {
    name: 'aggregation: a /24 covering two VIPs lists both Services',
    input: input({
      services: [service('b/two', ['203.0.113.20']), service('a/one', ['203.0.113.10'])],
      config: config({ advertisements: [advertisement('agg', { aggregationLength: 24 })] }),
    }),
    expect: { routes: { '203.0.113.0/24': { services: ['a/one', 'b/two'], perPeer: to(R1) } } },
  },
  {
    name: 'aggregation: IPv6 /64, address text made canonical',
    input: input({
      services: [service('a/v6', ['2001:DB8:1:0:0::abcd'])],
      config: config({ advertisements: [advertisement('agg', { aggregationLengthV6: 64 })] }),
    }),
    expect: {
      routes: { '2001:db8:1::/64': { services: ['a/v6'], perPeer: to(R1) } },
      services: { 'a/v6': announced(['2001:db8:1::abcd'], R1) },
    },
  },
  {
    name: 'two advertisements with different aggregation lengths: both prefixes',
    input: input({
      services: [WEB],
      config: config({
        advertisements: [
          advertisement('host', { peers: ['tor-1a'] }),
          advertisement('agg', { aggregationLength: 25, peers: ['tor-1b'] }),
        ],
      }),
    }),
    expect: {
      routes: {
        '203.0.113.0/25': { services: ['shop/web'], perPeer: to(['tor-1b']) },
        '203.0.113.10/32': { services: ['shop/web'], perPeer: to(['tor-1a']) },
      },
    },
  },
  {
    name: 'communities merged per peer; localPref conflict takes the highest and warns',
    input: input({
      services: [WEB],
      config: config({
        advertisements: [
          advertisement('gold', {
            communities: ['64496:100', 'no-export'],
            largeCommunities: ['64496:1:2'],
            localPref: 200,
            peers: ['tor-1a'],
          }),
          advertisement('base', { communities: ['64496:50', 'large:64496:0:9', '64496:100'], localPref: 100 }),
        ],
      }),
    }),
    expect: {
      routes: {
        '203.0.113.10/32': {
          services: ['shop/web'],
          perPeer: {
            'tor-1a': {
              communities: ['64496:50', '64496:100', '65535:65281'],
              largeCommunities: ['64496:0:9', '64496:1:2'],
              localPref: 200,
            },
            'tor-1b': { communities: ['64496:50', '64496:100'], largeCommunities: ['64496:0:9'], localPref: 100 },
          },
        },
      },
      warnings: [
        'different localPrefs for 203.0.113.10/32 to peer tor-1a: BGPAdvertisement gold (localPref 200), BGPAdvertisement base (localPref 100); using 200',
      ],
    },
  },
  {
    name: 'localPref conflict on several prefixes and peers: one warning',
    input: input({
      services: [service('a/a', ['203.0.113.1']), service('a/b', ['203.0.113.2']), service('a/c', ['203.0.113.3'])],
      config: config({
        advertisements: [advertisement('low', { localPref: 10 }), advertisement('high', { localPref: 20 })],
      }),
    }),
    expect: {
      warnings: [
        'different localPrefs for 203.0.113.1/32 (and 2 more prefixes) to peers tor-1a, tor-1b: BGPAdvertisement low (localPref 10), BGPAdvertisement high (localPref 20); using 20',
      ],
    },
  },
  {
    name: 'equal localPrefs: no warning',
    input: input({
      services: [WEB],
      config: config({
        advertisements: [
          advertisement('x', { localPref: 150 }),
          advertisement('y', { localPref: 150, communities: ['64496:1'] }),
        ],
      }),
    }),
    expect: {
      routes: {
        '203.0.113.10/32': {
          services: ['shop/web'],
          perPeer: to(R1, { communities: ['64496:1'], largeCommunities: [], localPref: 150 }),
        },
      },
      warnings: [],
    },
  },
  {
    name: 'static routes: planned without Services, for their peers of this node',
    input: input({
      config: config({
        staticRoutes: [
          staticRoute('edge', ['192.0.2.0/24', '2001:db8:ff::/48'], {
            peers: ['tor-1b', 'tor-2a'],
            communities: ['64496:7'],
            localPref: 50,
          }),
          staticRoute('elsewhere', ['198.51.100.128/25'], { peers: ['tor-2a'] }),
          staticRoute('sloppy', ['192.0.2.77/28', 'not-a-prefix', '192.0.2.0/33']),
        ],
      }),
    }),
    expect: {
      routes: {
        '192.0.2.0/24': {
          services: [],
          perPeer: to(['tor-1b'], { communities: ['64496:7'], largeCommunities: [], localPref: 50 }),
        },
        '192.0.2.64/28': { services: [], perPeer: to(R1) },
        '2001:db8:ff::/48': {
          services: [],
          perPeer: to(['tor-1b'], { communities: ['64496:7'], largeCommunities: [], localPref: 50 }),
        },
      },
      warnings: [
        'StaticRoute sloppy: "192.0.2.0/33" has a prefix length outside 0-32; skipped',
        'StaticRoute sloppy: "not-a-prefix" is not an IP prefix; skipped',
        'StaticRoute sloppy: 192.0.2.77/28 has host bits set; announcing 192.0.2.64/28',
      ],
    },
  },
  {
    name: 'a static route on a Service prefix: one route, attributes merged',
    input: input({
      services: [WEB],
      config: config({
        staticRoutes: [staticRoute('pin', ['203.0.113.10/32'], { communities: ['64496:9'], peers: ['tor-1a'] })],
      }),
    }),
    expect: {
      routes: {
        '203.0.113.10/32': {
          services: ['shop/web'],
          perPeer: { 'tor-1a': { communities: ['64496:9'], largeCommunities: [] }, 'tor-1b': PLAIN },
        },
      },
    },
  },
  {
    name: 'dual-stack Service: one route per family',
    input: input({ services: [service('a/dual', ['203.0.113.30', '2001:db8:1::30'])] }),
    expect: {
      routes: {
        '2001:db8:1::30/128': { services: ['a/dual'], perPeer: to(R1) },
        '203.0.113.30/32': { services: ['a/dual'], perPeer: to(R1) },
      },
      services: { 'a/dual': announced(['203.0.113.30', '2001:db8:1::30'], R1) },
    },
  },
  {
    name: 'dual-stack Service with its IPv6 pool not advertised: IPv4 only, with the reason',
    input: input({
      services: [service('a/dual', ['203.0.113.30', '2001:db8:1::30'])],
      config: config({ advertisements: [advertisement('v4', { ipAddressPools: ['blue'] })] }),
    }),
    expect: {
      routes: { '203.0.113.30/32': { services: ['a/dual'], perPeer: to(R1) } },
      services: { 'a/dual': announced(['203.0.113.30', '2001:db8:1::30'], R1, 'no BGPAdvertisement selects pool v6') },
    },
  },
  {
    name: 'an address outside every pool; no address yet; not an address',
    input: input({
      services: [service('a/stray', ['192.0.2.99']), service('a/pending', []), service('a/bad', ['203.0.113.300'])],
    }),
    expect: {
      routes: {},
      services: {
        'a/bad': silent([], '"203.0.113.300" is not an IP address'),
        'a/pending': silent([], 'no load balancer address assigned yet'),
        'a/stray': silent(['192.0.2.99'], '192.0.2.99 is in no IPAddressPool'),
      },
    },
  },
  {
    name: 'unusable communities are skipped with a warning',
    input: input({
      services: [WEB],
      config: config({ advertisements: [advertisement('odd', { communities: ['64496:1', '70000:1', 'large:1:2'] })] }),
    }),
    expect: {
      routes: {
        '203.0.113.10/32': {
          services: ['shop/web'],
          perPeer: to(R1, { communities: ['64496:1'], largeCommunities: [] }),
        },
      },
      warnings: [
        'BGPAdvertisement odd: community "70000:1" is neither "a:b" nor a well-known name; ignored',
        'BGPAdvertisement odd: large community "1:2" is not "a:b:c"; ignored',
      ],
    },
  },
];

for (const s of scenarios) {
  t.test(s.name, async (t) => {
    const got = view(planAnnouncements(s.input));
    for (const field of ['peers', 'routes', 'services', 'warnings'] as const) {
      if (s.expect[field] !== undefined) t.strictSame(got[field], s.expect[field], field);
    }
    if (s.expect.routes !== undefined)
      t.strictSame(Object.keys(got.routes), Object.keys(s.expect.routes).sort(), 'routes in sorted prefix order');
  });
}

t.test('the plan does not depend on input order', async (t) => {
  const cfg = config({
    advertisements: [
      advertisement('agg', { aggregationLength: 24, communities: ['64496:2'] }),
      advertisement('host', { communities: ['64496:1'], localPref: 10 }),
    ],
    peers: [...config().peers].reverse(),
  });
  const services = [
    service('z/z', ['203.0.113.5']),
    service('a/a', ['203.0.113.6', '2001:db8:1::6']),
    service('m/m', ['198.51.100.9']),
  ];
  const one = planAnnouncements(input({ config: cfg, services }));
  const two = planAnnouncements(input({ config: cfg, services: [...services].reverse() }));
  t.strictSame(view(two), view(one));
  t.strictSame(Object.keys(view(one).routes), [
    '198.51.100.0/24',
    '198.51.100.9/32',
    '2001:db8:1::6/128',
    '203.0.113.0/24',
    '203.0.113.5/32',
    '203.0.113.6/32',
  ]);
  t.strictSame(
    one.services.map((s) => s.key),
    ['a/a', 'm/m', 'z/z'],
  );
  t.strictSame(view(one).routes['203.0.113.0/24']!.services, ['a/a', 'z/z']);
});

t.test('routes with the same advertisements share their attribute objects', async (t) => {
  const plan = planAnnouncements(
    input({
      services: [service('a/a', ['203.0.113.1']), service('a/b', ['203.0.113.2'])],
      config: config({ advertisements: [advertisement('x', { communities: ['64496:1'] })] }),
    }),
  );
  const a = plan.routes.get('203.0.113.1/32')!.perPeer;
  const b = plan.routes.get('203.0.113.2/32')!.perPeer;
  t.equal(a, b, 'one per-peer map');
  t.equal(a.get('tor-1a'), a.get('tor-1b'), 'one attribute object for peers with the same advertisements');
});

t.test('N1 is untouched by planning', async (t) => {
  const before = JSON.stringify(N1);
  planAnnouncements(input({ services: [WEB] }));
  t.equal(JSON.stringify(N1), before);
});
