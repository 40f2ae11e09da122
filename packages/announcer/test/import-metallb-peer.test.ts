// `import metallb`, BGPPeers: every field MetalLB's BGPPeer has (v1beta2, and v1beta1), what carries
// over as it is, what changes (dynamicASN internal, connectTime's default, passwordSecret's namespace)
// and what is left out with what to do instead (unnumbered, VRF, dynamicASN external, dual-stack
// sessions), with the advertisements that named a peer left out. Same table runner as
// import-metallb.test.ts.
import t from 'tap';
import { B1, B2, type Case, PEER, POOL, doc, importYaml, runCases } from './helpers/metallb-import.js';

const CASES: Case[] = [
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
];

runCases(CASES);

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
