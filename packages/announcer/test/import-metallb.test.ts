// `import metallb`, the pure conversion: a table over the configurations MetalLB's documentation
// describes (inputs written here from its field reference, with documentation addresses and AS
// numbers): pools, advertisements, communities, BFD profiles, layer 2, Services, Lists and other
// kinds. Each is checked for the objects written, the notes of the report and the exit status, and
// every output is run through our own validation (validateConfig) as the daemon would. BGPPeers are
// in import-metallb-peer.test.ts, bad input in import-metallb-errors.test.ts.
import t from 'tap';
import { B1, type Case, PEER, POOL, doc, importYaml, runCases } from './helpers/metallb-import.js';

const CASES: Case[] = [
  {
    name: 'a prefix with host bits set is read as its network, as MetalLB does',
    input: doc(B1, 'IPAddressPool', 'p', 'addresses: [203.0.113.7/24, "2001:db8::5/64", 198.51.100.0/28]'),
    status: 0,
    objects: { 'IPAddressPool/p': { addresses: ['203.0.113.0/24', '2001:db8::/64', '198.51.100.0/28'] } },
    notes: [
      [
        'changed',
        'spec.addresses[0]',
        /"203\.0\.113\.7\/24" has host bits set: MetalLB reads it as 203\.0\.113\.0\/24/,
      ],
      ['changed', 'spec.addresses[1]', /2001:db8::\/64/],
    ],
  },
  {
    name: 'an advertisement for some Services only (serviceSelectors) is left out',
    input:
      PEER +
      POOL +
      doc(
        B1,
        'BGPAdvertisement',
        'web-only',
        'serviceSelectors: [{matchLabels: {app: web}}]\ncommunities: ["64500:7"]',
      ) +
      doc(B1, 'BGPAdvertisement', 'all', '{}'),
    status: 1,
    objects: { 'BGPAdvertisement/all': {} },
    absent: ['BGPAdvertisement/web-only'],
    notes: [['needs-user', 'spec.serviceSelectors', /for some Services only has no equivalent/]],
  },
  {
    name: "an L2Advertisement's newer fields are known (no unknown-field note)",
    input:
      POOL +
      doc(
        B1,
        'L2Advertisement',
        'l2',
        'interfaces: [eth0]\nserviceSelectors: [{matchLabels: {a: b}}]\npreferredNodeSelectors: [{weight: 1, preference: {matchLabels: {x: y}}}]',
      ),
    status: 1,
    notes: [['needs-user', '(object)', /layer-2 mode/]],
  },
  {
    name: 'the basic BGP setup: one pool, one peer, one advertisement of every pool',
    input: PEER + POOL + doc(B1, 'BGPAdvertisement', 'everything', '{}'),
    status: 0,
    objects: {
      'BGPPeer/tor-a': { myASN: 64500, peerASN: 64496, peerAddress: '192.0.2.1', connectTime: '120s' },
      'IPAddressPool/public': { addresses: ['203.0.113.0/24'] },
      'BGPAdvertisement/everything': {},
    },
  },
  {
    name: 'advertisements with aggregation, local preference, communities (a large one too) and peers',
    input:
      PEER +
      POOL +
      doc(
        B1,
        'BGPAdvertisement',
        'local',
        'ipAddressPools: [public]\naggregationLength: 32\nlocalPref: 100\ncommunities: ["65535:65282", "large:64500:1:2"]\npeers: [tor-a]',
      ) +
      doc(
        B1,
        'BGPAdvertisement',
        'external',
        'ipAddressPools: [public]\naggregationLength: 24\ncommunities: ["64500:800"]',
      ),
    status: 0,
    objects: {
      'BGPAdvertisement/local': {
        aggregationLength: 32,
        localPref: 100,
        communities: ['65535:65282', 'large:64500:1:2'],
        peers: ['tor-a'],
      },
      'BGPAdvertisement/external': { aggregationLength: 24, communities: ['64500:800'] },
    },
  },
  {
    name: 'Community aliases are expanded in place; the Community itself is not written',
    input:
      PEER +
      POOL +
      doc(
        B1,
        'Community',
        'aliases',
        'communities:\n- {name: vpn-only, value: "64500:1"}\n- {name: big, value: "large:64500:2:3"}',
      ) +
      doc(B1, 'BGPAdvertisement', 'vpn', 'communities: [vpn-only, big, "64500:9"]'),
    status: 0,
    objects: { 'BGPAdvertisement/vpn': { communities: ['64500:1', 'large:64500:2:3', '64500:9'] } },
    absent: ['Community/aliases'],
    notes: [
      ['changed', 'spec.communities[0]', /alias "vpn-only" expanded to "64500:1"/],
      ['changed', 'spec.communities[1]', /alias "big" expanded to "large:64500:2:3"/],
      ['changed', '(object)', /aliases are expanded in place/],
    ],
  },
  {
    name: 'pools: ranges, IPv6, autoAssign, avoidBuggyIPs, serviceAllocation, labels for selectors',
    input:
      PEER +
      doc(
        B1,
        'IPAddressPool',
        'mixed',
        `addresses: [203.0.113.10-203.0.113.20, "2001:db8:100::/120"]
autoAssign: false
avoidBuggyIPs: true
serviceAllocation:
  priority: 50
  namespaces: [web]
  namespaceSelectors: [{matchLabels: {team: a}}]
  serviceSelectors: [{matchExpressions: [{key: tier, operator: In, values: [front]}]}]`,
        '  labels:\n    exposure: public\n',
      ) +
      doc(
        B1,
        'BGPAdvertisement',
        'by-label',
        'ipAddressPoolSelectors:\n- matchExpressions: [{key: exposure, operator: In, values: [public]}]\nnodeSelectors: [{matchLabels: {kubernetes.io/hostname: node-1}}]\naggregationLengthV6: 128',
      ),
    status: 0,
    objects: {
      'IPAddressPool/mixed': {
        addresses: ['203.0.113.10-203.0.113.20', '2001:db8:100::/120'],
        autoAssign: false,
        avoidBuggyIPs: true,
        serviceAllocation: { priority: 50, namespaces: ['web'] },
      },
      'BGPAdvertisement/by-label': { aggregationLengthV6: 128 },
    },
  },
  {
    name: 'serviceAllocation.priority 0 (unset in MetalLB) is left out',
    input: doc(
      B1,
      'IPAddressPool',
      'p',
      'addresses: [203.0.113.0/28]\nserviceAllocation: {priority: 0, namespaces: [web]}',
    ),
    status: 0,
    objects: { 'IPAddressPool/p': { serviceAllocation: { namespaces: ['web'] } } },
    notes: [['changed', 'spec.serviceAllocation.priority', /0 means "no priority"/]],
  },
  {
    name: 'localPref 0 (unset in MetalLB) is left out',
    input: PEER + POOL + doc(B1, 'BGPAdvertisement', 'a', 'localPref: 0'),
    status: 0,
    notes: [['changed', 'spec.localPref', /cannot tell 0 from unset/]],
  },
  {
    name: 'a full BFD profile; echoMode true needs the user',
    input: doc(
      B1,
      'BFDProfile',
      'full',
      'receiveInterval: 380\ntransmitInterval: 270\ndetectMultiplier: 37\nechoInterval: 62\nechoMode: true\npassiveMode: true\nminimumTtl: 10',
    ),
    status: 1,
    objects: {
      'BFDProfile/full': {
        receiveInterval: 380,
        transmitInterval: 270,
        detectMultiplier: 37,
        echoInterval: 62,
        passiveMode: true,
        minimumTtl: 10,
      },
    },
    notes: [['needs-user', 'spec.echoMode', /echo function is not implemented/]],
  },
  {
    name: 'layer-2 only: the pool is carried over, the L2Advertisement is not, and the report says the pool is announced by nobody',
    input:
      doc(B1, 'IPAddressPool', 'lan', 'addresses: [192.0.2.200-192.0.2.250]') +
      doc(B1, 'L2Advertisement', 'l2', 'ipAddressPools: [lan]\ninterfaces: [eth0]'),
    status: 1,
    objects: { 'IPAddressPool/lan': {} },
    absent: ['L2Advertisement/l2'],
    notes: [['needs-user', '(object)', /layer-2 mode.*pool lan would give Services addresses that no router learns/]],
  },
  {
    name: 'L2 and BGP for the same pool: only the L2 part is lost',
    input: PEER + POOL + doc(B1, 'BGPAdvertisement', 'bgp', '{}') + doc(B1, 'L2Advertisement', 'l2', '{}'),
    status: 1,
    notes: [['needs-user', '(object)', /its pools \(public\) are announced over BGP/]],
  },
  {
    name: 'a kubectl List of objects',
    input: `apiVersion: v1\nkind: List\nitems:\n- {apiVersion: ${B1}, kind: IPAddressPool, metadata: {name: a}, spec: {addresses: [203.0.113.0/28]}}\n- {apiVersion: ${B1}, kind: IPAddressPool, metadata: {name: b}, spec: {addresses: [203.0.113.16/28]}}\n`,
    status: 0,
    objects: { 'IPAddressPool/a': {}, 'IPAddressPool/b': {} },
  },
  {
    name: "MetalLB's other kinds are not carried over",
    input:
      POOL +
      doc(B1, 'AddressPool', 'legacy', 'protocol: bgp\naddresses: [198.51.100.0/28]') +
      doc(B1, 'ServiceL2Status', 's', '{}'),
    status: 1,
    notes: [
      ['needs-user', '(object)', /pre-0\.13 pool kind/],
      ['needs-user', '(object)', /MetalLB's own status/],
    ],
  },
  {
    name: 'unknown fields are left out and named',
    input: doc(B1, 'IPAddressPool', 'p', 'addresses: [203.0.113.0/28]\nautoAsign: false'),
    status: 1,
    objects: { 'IPAddressPool/p': { addresses: ['203.0.113.0/28'] } },
    notes: [['needs-user', 'spec.autoAsign', /not a field of MetalLB's IPAddressPool/]],
  },
  {
    name: "Services' MetalLB annotations: honoured, MetalLB's bookkeeping, no equivalent, shadowed by ours",
    input: `${POOL}---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
  annotations:
    metallb.universe.tf/address-pool: public
    metallb.io/loadBalancerIPs: 203.0.113.5
    metallb.io/allow-shared-ip: web
    bgp-announce.io/allow-shared-ip: web2
    metallb.io/ip-allocated-from-pool: public
    metallb.io/something-new: x
spec: {type: LoadBalancer}
---
apiVersion: v1
kind: Service
metadata: {name: plain, namespace: shop}
`,
    status: 1,
    notes: [
      [
        'kept',
        'metadata.annotations["metallb.universe.tf/address-pool"]',
        /read by bgp-announce as bgp-announce.io\/address-pool/,
      ],
      ['kept', 'metadata.annotations["metallb.io/loadBalancerIPs"]', /no edit needed/],
      [
        'kept',
        'metadata.annotations["metallb.io/allow-shared-ip"]',
        /also carries bgp-announce.io\/allow-shared-ip, which wins/,
      ],
      ['kept', 'metadata.annotations["metallb.io/ip-allocated-from-pool"]', /written by MetalLB's controller/],
      ['needs-user', 'metadata.annotations["metallb.io/something-new"]', /no equivalent/],
    ],
  },
];

runCases(CASES);

t.test('labels carry over, so ipAddressPoolSelectors still select', async (t) => {
  const result = importYaml(
    PEER + doc(B1, 'IPAddressPool', 'p', 'addresses: [203.0.113.0/28]', '  labels:\n    zone: a\n'),
  );
  t.same(result.objects.find((o) => o.kind === 'IPAddressPool')?.metadata?.labels, { zone: 'a' });
});

t.test('an L2Advertisement gets one note, none for its fields', async (t) => {
  const result = importYaml(
    POOL + doc(B1, 'L2Advertisement', 'l2', 'serviceSelectors: [{matchLabels: {a: b}}]\npreferredNodeSelectors: []'),
  );
  t.same(
    result.notes.filter((n) => n.object.startsWith('L2Advertisement')).map((n) => n.field),
    ['(object)'],
  );
});
