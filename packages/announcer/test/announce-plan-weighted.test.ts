// Weighted ECMP in the announce plan (BGPAdvertisement weightedECMP): the link bandwidth each node
// sends for a prefix is its weight x bandwidthPerWeight; a Local Service weighs its serving endpoints
// on the node (a dual-stack pod once), a Cluster Service the node's weight label (or the default), an
// aggregate the sum over its Services; a node weight of 0 withdraws a Cluster Service from the node.
import t from 'tap';
import { diffPlannedRoutes, planAnnouncements } from '../src/plan/announce-plan.js';
import { localEndpointCount } from '../src/plan/announce-plan-node.js';
import type { WeightedECMP } from '../src/config/types.js';
import type { EndpointSlice } from '../src/service/model.js';
import { advertisement, config, input, node, service, slice, slices } from './announce-plan-fixtures.js';

const MBPS = 125_000;
const weighted = (fields: Partial<WeightedECMP> = {}): WeightedECMP => ({
  defaultNodeWeight: 1,
  bytesPerSecondPerWeight: MBPS,
  transitive: true,
  minUpdateIntervalMs: 5000,
  ...fields,
});
const onN1 = (n: number, key = 'a/web'): EndpointSlice =>
  slice(
    key,
    Array.from({ length: n }, () => ['n1', { ready: true }] as [string, { ready: boolean }]),
  );
/** Each peer's link bandwidth for a prefix, or 'none'. */
const bandwidths = (plan: ReturnType<typeof planAnnouncements>, prefix: string) =>
  Object.fromEntries(
    [...(plan.routes.get(prefix)?.perPeer ?? [])].map(([p, a]) => [
      p,
      a.linkBandwidth === undefined
        ? 'none'
        : `${a.linkBandwidth.bytesPerSecond}${a.linkBandwidth.transitive ? '' : ' nt'}`,
    ]),
  );

t.test('Local: the node weighs its serving endpoints of the Service', async (t) => {
  const cfg = config({ advertisements: [advertisement('all', { weightedECMP: weighted() })] });
  const svc = service('a/web', ['203.0.113.10'], 'Local');
  const three = slice('a/web', [
    ['n1', { ready: true }],
    ['n1', undefined],
    ['n1', { ready: false, serving: true }],
    ['n1', { ready: false, serving: false }],
    ['n1', { serving: true, terminating: true }],
    ['n2', { ready: true }],
  ]);
  const plan = planAnnouncements(input({ config: cfg, services: [svc], endpointSlices: slices(three) }));
  t.strictSame(
    bandwidths(plan, '203.0.113.10/32'),
    { 'tor-1a': String(3 * MBPS), 'tor-1b': String(3 * MBPS) },
    'three serving endpoints here (not the unready, terminating or n2 ones): 3 Mbps to both ToRs',
  );
  t.equal(plan.weightUpdateIntervalMs, 5000, 'the plan carries the damping interval');
  const one = planAnnouncements(input({ config: cfg, services: [svc], endpointSlices: slices(onN1(1)) }));
  t.strictSame(bandwidths(one, '203.0.113.10/32'), { 'tor-1a': String(MBPS), 'tor-1b': String(MBPS) });
  const { changed } = diffPlannedRoutes(plan.routes, one.routes);
  t.strictSame(
    changed.map((r) => r.prefix),
    ['203.0.113.10/32'],
    'a new endpoint count is a change to send',
  );
  const none = planAnnouncements(input({ config: cfg, services: [svc], endpointSlices: slices(onN1(0)) }));
  t.notOk(none.routes.has('203.0.113.10/32'), 'no endpoint here: withdrawn, as without weighted ECMP');

  const plain = planAnnouncements(input({ services: [svc], endpointSlices: slices(three) }));
  t.strictSame(bandwidths(plain, '203.0.113.10/32'), { 'tor-1a': 'none', 'tor-1b': 'none' }, 'off by default');
  t.equal(plain.weightUpdateIntervalMs, 0);
});

t.test('Local: a pod in both slices of a dual-stack Service counts once', async (t) => {
  const pod = (uid: string) => ({ nodeName: 'n1', conditions: { ready: true }, targetRef: { kind: 'Pod', uid } });
  const v4: EndpointSlice = {
    ...slice('a/web', []),
    endpoints: [
      { addresses: ['192.0.2.101'], ...pod('u1') },
      { addresses: ['192.0.2.102'], ...pod('u2') },
    ],
  };
  const v6: EndpointSlice = {
    ...slice('a/web', []),
    addressType: 'IPv6',
    endpoints: [
      { addresses: ['2001:db8::101'], ...pod('u1') },
      { addresses: ['2001:db8::102'], ...pod('u2') },
    ],
  };
  t.equal(localEndpointCount([v4, v6], 'n1'), 2);
  t.equal(localEndpointCount([v4, v6], 'n2'), 0);
  t.equal(localEndpointCount([onN1(3)], 'n1'), 3, 'without targetRef each endpoint counts');
  t.equal(localEndpointCount(undefined, 'n1'), 0);
  const cfg = config({ advertisements: [advertisement('all', { weightedECMP: weighted() })] });
  const plan = planAnnouncements(
    input({
      config: cfg,
      services: [service('a/web', ['203.0.113.10', '2001:db8:1::10'], 'Local')],
      endpointSlices: slices(v4, v6),
    }),
  );
  t.strictSame(bandwidths(plan, '203.0.113.10/32')['tor-1a'], String(2 * MBPS));
  t.strictSame(bandwidths(plan, '2001:db8:1::10/128')['tor-1a'], String(2 * MBPS));
});

t.test('Cluster: the node weight label, its default, a bad value, and 0', async (t) => {
  const cfg = config({
    advertisements: [advertisement('all', { weightedECMP: weighted({ nodeWeightLabel: 'example.com/weight' }) })],
  });
  const svc = service('a/web', ['203.0.113.10']);
  const plan = (labels: Record<string, string>) =>
    planAnnouncements(input({ config: cfg, services: [svc], node: node('n1', { rack: 'r1', ...labels }) }));
  t.strictSame(bandwidths(plan({ 'example.com/weight': '4' }), '203.0.113.10/32')['tor-1a'], String(4 * MBPS));
  t.strictSame(bandwidths(plan({}), '203.0.113.10/32')['tor-1a'], String(MBPS), 'no label: defaultNodeWeight 1');
  const bad = plan({ 'example.com/weight': 'big' });
  t.strictSame(bandwidths(bad, '203.0.113.10/32')['tor-1a'], String(MBPS), 'a bad value: the default');
  t.match(bad.warnings, [/node n1 label example.com\/weight="big" is not a weight .*defaultNodeWeight 1/]);
  const zero = plan({ 'example.com/weight': '0' });
  t.notOk(zero.routes.has('203.0.113.10/32'), 'weight 0: not announced from this node');
  t.match(zero.services[0], {
    announced: false,
    reason: /this node's weight is 0 for BGPAdvertisement all \(weightedECMP, externalTrafficPolicy Cluster\)/,
  });
  const zeroDefault = planAnnouncements(
    input({
      config: config({ advertisements: [advertisement('all', { weightedECMP: weighted({ defaultNodeWeight: 0 }) })] }),
      services: [svc],
    }),
  );
  t.notOk(zeroDefault.routes.has('203.0.113.10/32'), 'defaultNodeWeight 0 too');

  // A plain advertisement of the same pool still announces it, without bandwidth.
  const both = planAnnouncements(
    input({
      config: config({
        advertisements: [
          advertisement('plain'),
          advertisement('w', { weightedECMP: weighted({ defaultNodeWeight: 0 }) }),
        ],
      }),
      services: [svc],
    }),
  );
  t.strictSame(bandwidths(both, '203.0.113.10/32'), { 'tor-1a': 'none', 'tor-1b': 'none' });
});

t.test(
  "an aggregate weighs the sum of its Services; bandwidth only to the weighted advertisement's peers",
  async (t) => {
    const cfg = config({
      advertisements: [
        advertisement('agg', {
          aggregationLength: 25,
          peers: ['tor-1a'],
          weightedECMP: weighted({ nodeWeightLabel: 'w', bytesPerSecondPerWeight: 1000, transitive: false }),
        }),
        advertisement('plain', { aggregationLength: 25 }),
      ],
    });
    const services = [
      service('a/one', ['203.0.113.10']),
      service('a/two', ['203.0.113.11']),
      service('a/local', ['203.0.113.12'], 'Local'),
    ];
    const plan = planAnnouncements(
      input({
        config: cfg,
        services,
        node: node('n1', { rack: 'r1', w: '3' }),
        endpointSlices: slices(
          slice('a/one', [['n9', { ready: true }]]),
          slice('a/two', [['n9', { ready: true }]]),
          onN1(2, 'a/local'),
        ),
      }),
    );
    t.strictSame(
      bandwidths(plan, '203.0.113.0/25'),
      { 'tor-1a': `${(2 * 3 + 2) * 1000} nt`, 'tor-1b': 'none' },
      'two Cluster Services x node weight 3, plus two local endpoints, non-transitive; tor-1b gets none',
    );
  },
);

t.test('two weighted advertisements that disagree for one peer: the first by name, with a warning', async (t) => {
  const cfg = config({
    advertisements: [
      advertisement('a-first', { weightedECMP: weighted({ bytesPerSecondPerWeight: 1000 }) }),
      advertisement('b-second', { weightedECMP: weighted({ bytesPerSecondPerWeight: 2000 }) }),
    ],
  });
  const plan = planAnnouncements(input({ config: cfg, services: [service('a/web', ['203.0.113.10'])] }));
  t.strictSame(bandwidths(plan, '203.0.113.10/32')['tor-1a'], '1000');
  t.match(plan.warnings, [
    /BGPAdvertisements a-first, b-second give different weightedECMP settings .*using a-first's/,
  ]);
});
