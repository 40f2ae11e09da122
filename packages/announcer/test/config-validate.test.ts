// Good configurations: each kind with its defaults filled in (values known from MetalLB's documented
// defaults and RFC 4271), cross-checks that pass, and acceptConfig keeping the previous config on
// any problem.
import t, { type Test } from 'tap';
import { BFD_PROFILE_DEFAULTS } from '@bgp-announce/bfd';
import { acceptConfig, emptyConfig, problemsOf, validateConfig } from '../src/config/validate.js';
import { ConfigError, type AnnouncerConfig, type KubeObject } from '../src/config/types.js';

const V = 'bgp-announce.io/v1alpha1';
const obj = (kind: string, name: string, spec?: unknown, labels?: Record<string, string>): KubeObject => ({
  apiVersion: V,
  kind,
  metadata: labels ? { name, labels } : { name },
  ...(spec === undefined ? {} : { spec }),
});
const peer = (name: string, spec: Record<string, unknown>): KubeObject =>
  obj('BGPPeer', name, { myASN: 64500, peerASN: 64496, peerAddress: '192.0.2.1', ...spec });

/** The config of valid objects; fails the test with the problems if there are any. */
function valid(t: Test, objects: KubeObject[]): AnnouncerConfig {
  const { config, problems } = validateConfig(objects);
  t.strictSame(problems, [], 'no problems');
  return config;
}

t.test('a peer with only the required fields gets MetalLB defaults (and ours)', async (t) => {
  const config = valid(t, [obj('BGPPeer', 'tor-a', { myASN: 64500, peerASN: 64496, peerAddress: '192.0.2.1' })]);
  t.strictSame(config.peers, [
    {
      name: 'tor-a',
      myASN: 64500,
      peerASN: 64496,
      peerAddress: '192.0.2.1',
      peerPort: 179,
      holdTime: 90,
      keepaliveTime: 30,
      connectTime: 2,
      connectionMode: 'active',
      ebgpMultiHop: false,
      enableGracefulRestart: false,
      nodeSelectors: [],
    },
  ]);
});

t.test('peer timers: durations in seconds, keepalive from hold and hold from keepalive', async (t) => {
  const cases: [Record<string, unknown>, number, number][] = [
    [{ holdTime: '1m30s' }, 90, 30],
    [{ holdTime: '3m' }, 180, 60],
    [{ holdTime: '10s' }, 10, 3], // 10/3 rounded down to whole seconds
    [{ holdTime: '3s' }, 3, 1],
    [{ holdTime: '0' }, 0, 0],
    [{ holdTime: '0s', keepaliveTime: '0s' }, 0, 0],
    [{ keepaliveTime: '20s' }, 60, 20], // MetalLB: hold = 3 x keepalive
    [{ holdTime: '9s', keepaliveTime: '3s' }, 9, 3],
    [{ holdTime: '65535s', keepaliveTime: '1h' }, 65535, 3600],
    [{ holdTime: '2000ms' + '1s' }, 3, 1], // "2000ms1s": parts add up to whole seconds
  ];
  for (const [spec, holdTime, keepaliveTime] of cases) {
    const config = valid(t, [peer('p', spec)]);
    t.same(
      { holdTime: config.peers[0]?.holdTime, keepaliveTime: config.peers[0]?.keepaliveTime },
      { holdTime, keepaliveTime },
      JSON.stringify(spec),
    );
  }
  t.equal(valid(t, [peer('p', { connectTime: '30s' })]).peers[0]?.connectTime, 30);
});

t.test('a peer with every field set keeps each one', async (t) => {
  const config = valid(t, [
    obj('BFDProfile', 'fast', {}),
    peer('tor-b', {
      peerAddress: '2001:db8::1',
      peerPort: 1179,
      sourceAddress: '2001:db8::10',
      connectionMode: 'both',
      listenAddress: '2001:db8::10',
      listenPort: 1790,
      password: 'secret key',
      bfdProfile: 'fast',
      ebgpMultiHop: true,
      enableGracefulRestart: true,
      gracefulShutdownWhenUnschedulable: true,
      routerID: '192.0.2.10',
      nodeSelectors: [
        { matchLabels: { 'topology.kubernetes.io/zone': 'rack-1' } },
        { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['edge', ''] }] },
      ],
    }),
  ]);
  t.strictSame(config.peers[0], {
    name: 'tor-b',
    myASN: 64500,
    peerASN: 64496,
    peerAddress: '2001:db8::1',
    peerPort: 1179,
    holdTime: 90,
    keepaliveTime: 30,
    connectTime: 2,
    connectionMode: 'both',
    ebgpMultiHop: true,
    enableGracefulRestart: true,
    nodeSelectors: [
      { matchLabels: { 'topology.kubernetes.io/zone': 'rack-1' } },
      { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['edge', ''] }] },
    ],
    sourceAddress: '2001:db8::10',
    listenAddress: '2001:db8::10',
    listenPort: 1790,
    password: 'secret key',
    bfdProfile: 'fast',
    routerID: '192.0.2.10',
    gracefulShutdownWhenUnschedulable: true,
  });
  const secret = valid(t, [
    peer('p', { passwordSecret: { name: 'tor-md5', namespace: 'bgp-announce' }, myASN: 4200000000, peerASN: 65536 }),
  ]).peers[0];
  t.strictSame(secret?.passwordSecret, { name: 'tor-md5', namespace: 'bgp-announce' });
  t.equal(secret?.myASN, 4200000000, '4-octet AS numbers');
});

t.test('pools: prefixes, ranges and IPv6 normalized to first/last; defaults', async (t) => {
  const config = valid(t, [
    obj(
      'IPAddressPool',
      'public',
      { addresses: ['192.0.2.0/28', '198.51.100.10 - 198.51.100.20', '2001:DB8:0:0::/126', '203.0.113.7/32'] },
      { exposure: 'public' },
    ),
  ]);
  t.strictSame(config.pools, [
    {
      name: 'public',
      ranges: [
        { family: 4, text: '192.0.2.0/28', first: '192.0.2.0', last: '192.0.2.15' },
        { family: 4, text: '198.51.100.10 - 198.51.100.20', first: '198.51.100.10', last: '198.51.100.20' },
        { family: 6, text: '2001:DB8:0:0::/126', first: '2001:db8::', last: '2001:db8::3' },
        { family: 4, text: '203.0.113.7/32', first: '203.0.113.7', last: '203.0.113.7' },
      ],
      autoAssign: true,
      avoidBuggyIPs: false,
      labels: { exposure: 'public' },
    },
  ]);
  const restricted = valid(t, [
    obj('IPAddressPool', 'staging', {
      addresses: ['192.0.2.64/26'],
      autoAssign: false,
      avoidBuggyIPs: true,
      serviceAllocation: {
        priority: 5,
        namespaces: ['staging', 'qa'],
        serviceSelectors: [{ matchLabels: { app: 'web' } }],
      },
    }),
  ]).pools[0];
  t.equal(restricted?.autoAssign, false);
  t.equal(restricted?.avoidBuggyIPs, true);
  t.strictSame(restricted?.serviceAllocation, {
    priority: 5,
    namespaces: ['staging', 'qa'],
    namespaceSelectors: [],
    serviceSelectors: [{ matchLabels: { app: 'web' } }],
  });
});

t.test('advertisements: defaults 32/128, communities split into standard and large', async (t) => {
  const config = valid(t, [
    obj('IPAddressPool', 'a', { addresses: ['192.0.2.0/24'] }),
    peer('tor-a', {}),
    obj('BGPAdvertisement', 'empty'),
    obj('BGPAdvertisement', 'full', {
      ipAddressPools: ['a'],
      aggregationLength: 24,
      aggregationLengthV6: 64,
      localPref: 200,
      communities: [
        '64500:100',
        'no-export',
        'NO_ADVERTISE',
        'no-export-subconfed',
        'no-peer',
        'graceful-shutdown',
        'blackhole',
        'large:64500:1:2',
        '0:0',
      ],
      peers: ['tor-a'],
      nodeSelectors: [
        { matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] },
      ],
    }),
  ]);
  t.strictSame(config.advertisements[0], {
    name: 'empty',
    ipAddressPools: [],
    ipAddressPoolSelectors: [],
    aggregationLength: 32,
    aggregationLengthV6: 128,
    communities: [],
    largeCommunities: [],
    peers: [],
    nodeSelectors: [],
  });
  t.strictSame(config.advertisements[1], {
    name: 'full',
    ipAddressPools: ['a'],
    ipAddressPoolSelectors: [],
    aggregationLength: 24,
    aggregationLengthV6: 64,
    localPref: 200,
    communities: [
      '64500:100',
      'no-export',
      'NO_ADVERTISE',
      'no-export-subconfed',
      'no-peer',
      'graceful-shutdown',
      'blackhole',
      '0:0',
    ],
    largeCommunities: ['64500:1:2'],
    peers: ['tor-a'],
    nodeSelectors: [{ matchExpressions: [{ key: 'node-role.kubernetes.io/control-plane', operator: 'DoesNotExist' }] }],
  });
});

t.test('aggregation may be as short as the largest block inside each selected pool entry', async (t) => {
  // 192.0.2.0/26 allows /26; the range .64-.127 is one aligned /26 as well; IPv6 /120 allows /120.
  valid(t, [
    obj('IPAddressPool', 'a', { addresses: ['192.0.2.0/26', '192.0.2.64-192.0.2.127', '2001:db8::/120'] }),
    obj('BGPAdvertisement', 'agg', { aggregationLength: 26, aggregationLengthV6: 120 }),
  ]);
  // A pool the advertisement does not select does not constrain it.
  valid(t, [
    obj('IPAddressPool', 'small', { addresses: ['192.0.2.0/30'] }, { size: 'small' }),
    obj('IPAddressPool', 'big', { addresses: ['198.51.100.0/24'] }, { size: 'big' }),
    obj('BGPAdvertisement', 'agg', {
      aggregationLength: 24,
      ipAddressPoolSelectors: [{ matchLabels: { size: 'big' } }],
    }),
  ]);
});

t.test('BFD profiles get @bgp-announce/bfd defaults; a StaticRoute its canonical prefixes', async (t) => {
  const config = valid(t, [
    obj('BFDProfile', 'default'),
    obj('BFDProfile', 'fast', {
      receiveInterval: 50,
      transmitInterval: 50,
      detectMultiplier: 5,
      passiveMode: true,
      minimumTtl: 250,
      echoInterval: 100,
      echoMode: false,
    }),
    peer('tor-a', {}),
    obj('StaticRoute', 'host', {
      prefixes: ['192.0.2.53/32', '2001:DB8:53:0::/64'],
      peers: ['tor-a'],
      communities: ['65535:65282', 'large:1:2:3'],
      localPref: 50,
    }),
  ]);
  t.strictSame(config.bfdProfiles, [
    { ...BFD_PROFILE_DEFAULTS, name: 'default' },
    {
      name: 'fast',
      receiveInterval: 50,
      transmitInterval: 50,
      detectMultiplier: 5,
      echoInterval: 100,
      echoMode: false,
      passiveMode: true,
      minimumTtl: 250,
    },
  ]);
  t.equal(BFD_PROFILE_DEFAULTS.receiveInterval, 300, 'MetalLB default receive interval');
  t.strictSame(config.staticRoutes, [
    {
      name: 'host',
      prefixes: ['192.0.2.53/32', '2001:db8:53::/64'],
      peers: ['tor-a'],
      communities: ['65535:65282'],
      largeCommunities: ['1:2:3'],
      localPref: 50,
    },
  ]);
});

t.test('null fields count as absent; status and API metadata are ignored', async (t) => {
  const config = valid(t, [
    {
      apiVersion: V,
      kind: 'IPAddressPool',
      metadata: { name: 'a', generation: 3, namespace: 'bgp-announce' },
      spec: { addresses: ['192.0.2.0/24'], autoAssign: null, serviceAllocation: null },
      status: { conditions: [] },
    } as KubeObject,
  ]);
  t.equal(config.pools[0]?.autoAssign, true);
  t.equal(config.pools[0]?.serviceAllocation, undefined);
});

t.test('acceptConfig: accepted when clean, the previous config kept on any problem', async (t) => {
  const good = [obj('IPAddressPool', 'a', { addresses: ['192.0.2.0/24'] }), peer('tor-a', {})];
  const first = acceptConfig(good, undefined);
  t.equal(first.accepted, true);
  t.equal(first.error, undefined);
  t.strictSame(first.problems, []);
  t.equal(first.config?.pools[0]?.name, 'a');

  // One bad object among good ones rejects everything: the good pool 'b' is not half-applied.
  const bad = [
    obj('IPAddressPool', 'b', { addresses: ['198.51.100.0/24'] }),
    peer('tor-a', { peerASN: -1 }),
    peer('tor-b', { holdTime: '1s' }),
  ];
  const second = acceptConfig(bad, first.config);
  t.equal(second.accepted, false);
  t.equal(second.config, first.config, 'the very previous object is kept');
  t.strictSame(
    second.problems.map((p) => `${p.kind} ${p.name} ${p.field}`),
    ['BGPPeer tor-a spec.peerASN', 'BGPPeer tor-b spec.holdTime'],
  );
  t.ok(second.error instanceof ConfigError);
  t.strictSame(second.error?.problems, second.problems);
  t.match(
    second.error?.message,
    /^2 problems:\n {2}BGPPeer tor-a: spec\.peerASN: must be an integer from 1 to 4294967295 \(an AS number\), got -1\n {2}BGPPeer tor-b: spec\.holdTime: /,
  );
  t.strictSame(problemsOf(second.problems, 'BGPPeer', 'tor-b').length, 1);

  const none = acceptConfig(bad, undefined);
  t.equal(none.accepted, false);
  t.equal(none.config, undefined, 'no previous config: nothing to run');

  const empty = acceptConfig([], first.config);
  t.equal(empty.accepted, true, 'no objects at all is a valid (empty) config');
  t.strictSame(empty.config, emptyConfig());
});

t.test('weightedECMP: defaults, units, and the rest as written', async (t) => {
  const config = valid(t, [
    obj('BGPAdvertisement', 'defaults', { weightedECMP: {} }),
    obj('BGPAdvertisement', 'set', {
      weightedECMP: {
        nodeWeightLabel: 'example.com/weight',
        defaultNodeWeight: 0,
        bandwidthPerWeight: '2.5Gbps',
        transitive: false,
        minUpdateInterval: '1m30s',
      },
    }),
    obj('BGPAdvertisement', 'none'),
  ]);
  const byName = new Map(config.advertisements.map((a) => [a.name, a.weightedECMP]));
  t.strictSame(byName.get('defaults'), {
    defaultNodeWeight: 1,
    bytesPerSecondPerWeight: 125_000,
    transitive: true,
    minUpdateIntervalMs: 5000,
  });
  t.strictSame(byName.get('set'), {
    nodeWeightLabel: 'example.com/weight',
    defaultNodeWeight: 0,
    bytesPerSecondPerWeight: 312_500_000,
    transitive: false,
    minUpdateIntervalMs: 90_000,
  });
  t.equal(byName.get('none'), undefined, 'off unless asked');
});

t.test('StaticRoute healthCheck: defaults for the API server, and a TCP check as written', async (t) => {
  const config = valid(t, [
    obj('StaticRoute', 'api', {
      prefixes: ['192.0.2.100/32'],
      healthCheck: { http: { url: 'https://127.0.0.1:6443/readyz', insecureSkipVerify: true } },
    }),
    obj('StaticRoute', 'tcp', {
      prefixes: ['192.0.2.101/32'],
      healthCheck: {
        tcp: { address: '[2001:db8::1]:6443' },
        interval: '1s',
        timeout: '200ms',
        rise: 1,
        fall: 2,
        drainTime: '0',
      },
    }),
  ]);
  t.strictSame(config.staticRoutes[0]?.healthCheck, {
    http: { url: 'https://127.0.0.1:6443/readyz', insecureSkipVerify: true, expectedStatus: 200 },
    intervalMs: 2000,
    timeoutMs: 1000,
    rise: 2,
    fall: 3,
    drainMs: 5000,
  });
  t.strictSame(config.staticRoutes[1]?.healthCheck, {
    tcp: { host: '2001:db8::1', port: 6443 },
    intervalMs: 1000,
    timeoutMs: 200,
    rise: 1,
    fall: 2,
    drainMs: 0,
  });
});
