// `import metallb`, the pure conversion: a table over the configurations MetalLB's documentation
// describes (inputs written here from its field reference, with documentation addresses and AS
// numbers), each checked for the objects written, the notes of the report and the exit status, and
// every output run through our own validation (validateConfig) as the daemon would.
import t from 'tap';
import { readConfigDocuments } from '../src/config/file.js';
import { validateConfig } from '../src/config/validate.js';
import { importMetalLB } from '../src/import/metallb-import.js';
import type { MetalLBImportResult } from '../src/import/metallb-types.js';

/** Imports YAML text as the CLI does (documents and Lists through the config file's reader). */
export function importYaml(text: string, options = {}): MetalLBImportResult {
  const read = readConfigDocuments(text, 'in.yaml');
  if (read.problems.length > 0) throw new Error(`test input does not parse: ${JSON.stringify(read.problems)}`);
  return importMetalLB(
    read.objects.map((object, i) => ({ object, origin: read.origins[i]! })),
    options,
  );
}

const doc = (apiVersion: string, kind: string, name: string, spec: string, labels = ''): string =>
  `---\napiVersion: ${apiVersion}\nkind: ${kind}\nmetadata:\n  name: ${name}\n  namespace: metallb-system\n${labels}spec:\n${spec
    .trim()
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n')}\n`;
const B1 = 'metallb.io/v1beta1';
const B2 = 'metallb.io/v1beta2';
const PEER = doc(B2, 'BGPPeer', 'tor-a', 'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1\nconnectTime: 120s');
const POOL = doc(B1, 'IPAddressPool', 'public', 'addresses: [203.0.113.0/24]');

interface Case {
  name: string;
  input: string;
  status: 0 | 1 | 2;
  /** Specs of written objects by "Kind/name" (compared with t.match: only the fields given). */
  objects?: Record<string, Record<string, unknown>>;
  /** Written objects that must not be there. */
  absent?: string[];
  /** Notes that must be in the report: "severity field message-pattern". */
  notes?: [string, string, RegExp][];
}

const CASES: Case[] = [
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
    name: 'connectTime unset: our 2s default is noted',
    input: doc(B2, 'BGPPeer', 'tor-a', 'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1'),
    status: 0,
    notes: [['changed', 'spec.connectTime', /MetalLB's default is 120s.*ours 2s/]],
  },
  {
    name: 'every BGPPeer field that carries over as it is',
    input:
      doc(
        B2,
        'BGPPeer',
        'tor-b',
        `myASN: 64500
peerASN: 64497
peerAddress: 2001:db8::1
sourceAddress: 2001:db8::10
peerPort: 1179
holdTime: 9s
keepaliveTime: 3s
connectTime: 5s
routerID: 192.0.2.10
password: not-a-real-key
bfdProfile: fast
enableGracefulRestart: true
ebgpMultiHop: true
disableMP: false
nodeSelectors:
- matchLabels: {rack: r1}
  matchExpressions:
  - {key: kubernetes.io/hostname, operator: In, values: [node-1, node-2]}`,
      ) + doc(B1, 'BFDProfile', 'fast', 'receiveInterval: 100\ntransmitInterval: 100\ndetectMultiplier: 5'),
    status: 0,
    objects: {
      'BGPPeer/tor-b': {
        peerAddress: '2001:db8::1',
        sourceAddress: '2001:db8::10',
        peerPort: 1179,
        holdTime: '9s',
        keepaliveTime: '3s',
        routerID: '192.0.2.10',
        password: 'not-a-real-key',
        bfdProfile: 'fast',
        enableGracefulRestart: true,
        ebgpMultiHop: true,
        nodeSelectors: [{ matchLabels: { rack: 'r1' } }],
      },
      'BFDProfile/fast': { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 5 },
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
    notes: [['changed', 'spec.localPref', /0 means "not set"/]],
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
    name: 'dynamicASN internal becomes peerASN = myASN',
    input: doc(B2, 'BGPPeer', 'ibgp', 'myASN: 64500\ndynamicASN: internal\npeerAddress: 192.0.2.1\nconnectTime: 2s'),
    status: 0,
    objects: { 'BGPPeer/ibgp': { myASN: 64500, peerASN: 64500 } },
    notes: [['changed', 'spec.dynamicASN', /"internal" becomes peerASN: 64500/]],
  },
  {
    name: 'peers we cannot run (dynamicASN external, unnumbered, VRF) are left out, and so are advertisements left without peers',
    input:
      PEER +
      POOL +
      doc(B2, 'BGPPeer', 'learned', 'myASN: 64500\ndynamicASN: external\npeerAddress: 192.0.2.2') +
      doc(B2, 'BGPPeer', 'unnumbered', 'myASN: 64500\npeerASN: 64496\ninterface: eth1') +
      doc(B2, 'BGPPeer', 'red', 'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.3\nvrf: red') +
      doc(B1, 'BGPAdvertisement', 'only-gone', 'peers: [learned, unnumbered]') +
      doc(B1, 'BGPAdvertisement', 'mixed', 'peers: [red, tor-a]'),
    status: 1,
    objects: { 'BGPPeer/tor-a': {}, 'BGPAdvertisement/mixed': { peers: ['tor-a'] } },
    absent: ['BGPPeer/learned', 'BGPPeer/unnumbered', 'BGPPeer/red', 'BGPAdvertisement/only-gone'],
    notes: [
      ['needs-user', 'spec.dynamicASN', /"external".*not supported/],
      ['needs-user', 'spec.interface', /BGP unnumbered/],
      ['needs-user', 'spec.vrf', /VRF/],
      ['needs-user', 'spec.peers', /every peer it names \(learned, unnumbered\) was left out/],
      ['needs-user', 'spec.peers', /^red left out/],
    ],
  },
  {
    name: 'passwordSecret: kept by name, the Secret must move to our namespace',
    input: doc(
      B2,
      'BGPPeer',
      'md5',
      'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1\nconnectTime: 2s\npasswordSecret: {name: md5-key, namespace: metallb-system}',
    ),
    status: 1,
    objects: { 'BGPPeer/md5': { passwordSecret: { name: 'md5-key' } } },
    notes: [['needs-user', 'spec.passwordSecret', /Secret metallb-system\/md5-key must be in namespace bgp-announce/]],
  },
  {
    name: 'passwordSecret already in our namespace, and the empty reference the API server leaves',
    input:
      doc(
        B2,
        'BGPPeer',
        'md5',
        'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1\nconnectTime: 2s\npasswordSecret: {name: md5-key, namespace: bgp-announce}',
      ) +
      doc(
        B2,
        'BGPPeer',
        'plain',
        'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.2\nconnectTime: 2s\npasswordSecret: {}',
      ),
    status: 0,
    objects: { 'BGPPeer/md5': { passwordSecret: { name: 'md5-key' } } },
  },
  {
    name: 'dualStackAddressFamily needs a second peer; disableMP is what we do anyway; ebgpMultiHop on iBGP goes',
    input: doc(
      B2,
      'BGPPeer',
      'ds',
      'myASN: 64500\npeerASN: 64500\npeerAddress: 192.0.2.1\nconnectTime: 2s\ndualStackAddressFamily: true\ndisableMP: true\nebgpMultiHop: true',
    ),
    status: 1,
    notes: [
      ['needs-user', 'spec.dualStackAddressFamily', /add a BGPPeer with the router's address of that family/],
      ['changed', 'spec.disableMP', /carry only the family of peerAddress/],
      ['changed', 'spec.ebgpMultiHop', /iBGP/],
    ],
  },
  {
    name: 'the older v1beta1 BGPPeer is read too',
    input: doc(
      B1,
      'BGPPeer',
      'old',
      'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1\nholdTime: 90s\nconnectTime: 2s',
    ),
    status: 0,
    objects: { 'BGPPeer/old': { holdTime: '90s' } },
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
    input: `---
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

for (const c of CASES) {
  t.test(c.name, async (t) => {
    const result = importYaml(c.input);
    t.same(result.problems, [], 'no problems');
    t.equal(result.status, c.status, 'exit status');
    const written = new Map(result.objects.map((o) => [`${o.kind}/${o.metadata?.name}`, o]));
    for (const [key, spec] of Object.entries(c.objects ?? {})) {
      const o = written.get(key);
      t.ok(o, `${key} written`);
      t.equal(o?.apiVersion, 'bgp-announce.io/v1alpha1');
      t.equal(o?.metadata?.namespace, 'bgp-announce');
      t.match(o?.spec, spec, `${key} spec`);
    }
    for (const key of c.absent ?? []) t.notOk(written.has(key), `${key} not written`);
    for (const [severity, field, message] of c.notes ?? []) {
      const found = result.notes.find((n) => n.severity === severity && n.field === field && message.test(n.message));
      t.ok(found, `note ${severity} ${field} ${message}`);
    }
    if (c.status === 0)
      t.notOk(
        result.notes.some((n) => n.severity === 'needs-user'),
        'nothing needs the user',
      );
    // What the daemon would do with the output.
    t.same(validateConfig(result.objects).problems, [], 'the output passes our validation');
  });
}

t.test('the target and MetalLB namespaces are options', async (t) => {
  const result = importYaml(
    doc(
      B2,
      'BGPPeer',
      'md5',
      'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1\nconnectTime: 2s\npasswordSecret: {name: key}',
    ),
    { namespace: 'lb', metallbNamespace: 'lb' },
  );
  t.equal(result.status, 0, 'the Secret is already where our daemon reads');
  t.equal(result.objects[0]?.metadata?.namespace, 'lb');
  const moved = importYaml(
    doc(
      B2,
      'BGPPeer',
      'md5',
      'myASN: 64500\npeerASN: 64496\npeerAddress: 192.0.2.1\nconnectTime: 2s\npasswordSecret: {name: key}',
    ),
    { metallbNamespace: 'lb-system' },
  );
  t.match(moved.notes, [
    { field: 'spec.passwordSecret', message: /Secret lb-system\/key must be in namespace bgp-announce/ },
  ]);
});

t.test('labels carry over, so ipAddressPoolSelectors still select', async (t) => {
  const result = importYaml(
    PEER + doc(B1, 'IPAddressPool', 'p', 'addresses: [203.0.113.0/28]', '  labels:\n    zone: a\n'),
  );
  t.same(result.objects.find((o) => o.kind === 'IPAddressPool')?.metadata?.labels, { zone: 'a' });
});
