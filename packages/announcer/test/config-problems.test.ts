// Bad configurations: for each, the exact problems (object kind and name, field path) and a message
// that says why, with the bad value. Each case changes one thing in an otherwise valid config.
import t from 'tap';
import { validateConfig } from '../src/config/validate.js';
import type { KubeObject } from '../src/config/types.js';

const V = 'bgp-announce.io/v1alpha1';
const obj = (kind: string, name: string, spec?: unknown, labels?: Record<string, string>): KubeObject => ({
  apiVersion: V,
  kind,
  metadata: labels ? { name, labels } : { name },
  ...(spec === undefined ? {} : { spec }),
});
const peer = (spec: Record<string, unknown>, name = 'tor-a'): KubeObject =>
  obj('BGPPeer', name, { myASN: 64500, peerASN: 64496, peerAddress: '192.0.2.1', ...spec });
const pool = (addresses: unknown, name = 'a', extra: Record<string, unknown> = {}): KubeObject =>
  obj('IPAddressPool', name, { addresses, ...extra });
const adv = (spec: Record<string, unknown>): KubeObject => obj('BGPAdvertisement', 'adv', spec);

/** [kind name, field, what the message must say]. */
type Expected = [string, string, RegExp];
interface Case {
  name: string;
  objects: KubeObject[];
  problems: Expected[];
}

const cases: Case[] = [
  // --- the envelope
  {
    name: 'wrong apiVersion',
    objects: [{ ...peer({}), apiVersion: 'metallb.io/v1beta2' }],
    problems: [
      [
        'BGPPeer tor-a',
        'apiVersion',
        /must be bgp-announce\.io\/v1alpha1, got "metallb\.io\/v1beta2" \(MetalLB objects are not read: convert them with bgp-announce import metallb\)/,
      ],
    ],
  },
  {
    name: 'missing apiVersion',
    objects: [{ ...peer({}), apiVersion: undefined }],
    problems: [['BGPPeer tor-a', 'apiVersion', /must be bgp-announce\.io\/v1alpha1, got nothing/]],
  },
  {
    name: 'unknown kind',
    objects: [{ ...peer({}), kind: 'BGPPeers' }],
    problems: [
      [
        'unknown tor-a',
        'kind',
        /must be one of IPAddressPool, BGPPeer, BGPAdvertisement, BFDProfile, StaticRoute, got "BGPPeers"/,
      ],
    ],
  },
  {
    name: 'no name',
    objects: [{ apiVersion: V, kind: 'BFDProfile', metadata: {} }],
    problems: [['BFDProfile (object 1)', 'metadata.name', /is required .*got nothing/]],
  },
  {
    name: 'upper-case name',
    objects: [obj('BFDProfile', 'Fast')],
    problems: [['BFDProfile Fast', 'metadata.name', /lower-case DNS subdomain.*got "Fast"/]],
  },
  {
    name: 'not an object',
    objects: ['BGPPeer' as unknown as KubeObject],
    problems: [
      ['unknown (object 1)', '(object)', /must be an object with apiVersion, kind, metadata and spec, got "BGPPeer"/],
    ],
  },
  {
    name: 'spec not an object',
    objects: [obj('BFDProfile', 'b', [1])],
    problems: [['BFDProfile b', 'spec', /must be an object, got a list/]],
  },
  {
    name: 'unknown top-level field',
    objects: [{ ...obj('BFDProfile', 'b'), specs: {} } as KubeObject],
    problems: [
      ['BFDProfile b', 'specs', /unknown field \(known fields here: apiVersion, kind, metadata, spec, status\)/],
    ],
  },
  {
    name: 'bad pool label',
    objects: [
      pool(['192.0.2.0/24'], 'a', {}),
      obj('IPAddressPool', 'b', { addresses: ['198.51.100.0/24'] }, { 'Tier/x': 'a' }),
    ],
    problems: [['IPAddressPool b', 'metadata.labels.Tier/x', /prefix must be a lower-case DNS subdomain/]],
  },
  {
    name: 'duplicate names per kind',
    objects: [peer({}), peer({ peerAddress: '192.0.2.2' }), obj('BFDProfile', 'tor-a')],
    problems: [
      ['BGPPeer tor-a', 'metadata.name', /another BGPPeer named "tor-a" comes earlier: names must be unique per kind/],
    ],
  },

  // --- unknown fields (typos must not pass silently)
  {
    name: 'typo in a peer field',
    objects: [peer({ holdtime: '90s' })],
    problems: [['BGPPeer tor-a', 'spec.holdtime', /unknown field \(known fields here: myASN, .*holdTime/]],
  },
  {
    name: 'typo in a pool field',
    objects: [pool(['192.0.2.0/24'], 'a', { autoassign: false })],
    problems: [['IPAddressPool a', 'spec.autoassign', /unknown field/]],
  },
  {
    name: 'typo in serviceAllocation',
    objects: [pool(['192.0.2.0/24'], 'a', { serviceAllocation: { namespace: ['x'] } })],
    problems: [
      [
        'IPAddressPool a',
        'spec.serviceAllocation.namespace',
        /unknown field \(known fields here: priority, namespaces/,
      ],
    ],
  },
  {
    name: 'typo in a selector',
    objects: [peer({ nodeSelectors: [{ matchLabel: { a: 'b' } }] })],
    problems: [
      [
        'BGPPeer tor-a',
        'spec.nodeSelectors[0].matchLabel',
        /unknown field \(known fields here: matchLabels, matchExpressions\)/,
      ],
    ],
  },
  {
    name: 'typo in a BFD profile',
    objects: [obj('BFDProfile', 'b', { detectMultiplyer: 3 })],
    problems: [['BFDProfile b', 'spec.detectMultiplyer', /unknown field \(known fields here: receiveInterval/]],
  },
  {
    name: 'typo in passwordSecret',
    objects: [peer({ passwordSecret: { name: 's', namepsace: 'x' } })],
    problems: [
      ['BGPPeer tor-a', 'spec.passwordSecret.namepsace', /unknown field \(known fields here: name, namespace\)/],
    ],
  },
  {
    name: 'MetalLB field we do not have',
    objects: [adv({ serviceSelectors: [] })],
    problems: [['BGPAdvertisement adv', 'spec.serviceSelectors', /unknown field/]],
  },

  // --- BGPPeer
  {
    name: 'peerASN negative',
    objects: [peer({ peerASN: -1 })],
    problems: [['BGPPeer tor-a', 'spec.peerASN', /must be an integer from 1 to 4294967295 \(an AS number\), got -1/]],
  },
  {
    name: 'myASN zero',
    objects: [peer({ myASN: 0 })],
    problems: [['BGPPeer tor-a', 'spec.myASN', /must be an integer from 1 to 4294967295.*got 0/]],
  },
  {
    name: 'ASN above 32 bits',
    objects: [peer({ peerASN: 4294967296 })],
    problems: [['BGPPeer tor-a', 'spec.peerASN', /got 4294967296/]],
  },
  {
    name: 'ASN as a string',
    objects: [peer({ peerASN: '64496' })],
    problems: [['BGPPeer tor-a', 'spec.peerASN', /must be an integer .*got "64496"/]],
  },
  {
    name: 'ASN not an integer',
    objects: [peer({ peerASN: 64496.5 })],
    problems: [['BGPPeer tor-a', 'spec.peerASN', /got 64496\.5/]],
  },
  {
    name: 'AS_TRANS',
    objects: [peer({ peerASN: 23456 })],
    problems: [['BGPPeer tor-a', 'spec.peerASN', /must not be 23456 \(AS_TRANS, RFC 6793/]],
  },
  {
    name: 'missing peerASN',
    objects: [obj('BGPPeer', 'p', { myASN: 64500, peerAddress: '192.0.2.1' })],
    problems: [['BGPPeer p', 'spec.peerASN', /is required/]],
  },
  {
    name: 'missing peerAddress',
    objects: [obj('BGPPeer', 'p', { myASN: 64500, peerASN: 64496 })],
    problems: [['BGPPeer p', 'spec.peerAddress', /is required/]],
  },
  {
    name: 'missing spec',
    objects: [obj('BGPPeer', 'p')],
    problems: [
      ['BGPPeer p', 'spec.myASN', /is required/],
      ['BGPPeer p', 'spec.peerASN', /is required/],
      ['BGPPeer p', 'spec.peerAddress', /is required/],
    ],
  },
  {
    name: 'bad peer address',
    objects: [peer({ peerAddress: '192.0.2.256' })],
    problems: [['BGPPeer tor-a', 'spec.peerAddress', /must be an IPv4 or IPv6 address, got "192\.0\.2\.256"/]],
  },
  {
    name: 'peer address with a prefix length',
    objects: [peer({ peerAddress: '192.0.2.1/32' })],
    problems: [['BGPPeer tor-a', 'spec.peerAddress', /got "192\.0\.2\.1\/32"/]],
  },
  {
    name: 'port 0',
    objects: [peer({ peerPort: 0 })],
    problems: [['BGPPeer tor-a', 'spec.peerPort', /from 1 to 65535, got 0/]],
  },
  {
    name: 'source address of the other family',
    objects: [peer({ sourceAddress: '2001:db8::10' })],
    problems: [
      [
        'BGPPeer tor-a',
        'spec.sourceAddress',
        /is IPv6 \(2001:db8::10\) but peerAddress is IPv4: both must be of the same family/,
      ],
    ],
  },
  {
    name: 'listen address of the other family',
    objects: [peer({ connectionMode: 'passive', listenAddress: '2001:db8::10' })],
    problems: [['BGPPeer tor-a', 'spec.listenAddress', /is IPv6 .* but peerAddress is IPv4/]],
  },
  {
    name: 'hold time 1s',
    objects: [peer({ holdTime: '1s' })],
    problems: [
      ['BGPPeer tor-a', 'spec.holdTime', /must be 0 \(no keepalives\) or at least 3s \(RFC 4271 4\.2\), got "1s"/],
    ],
  },
  {
    name: 'hold time too long',
    objects: [peer({ holdTime: '20h' })],
    problems: [['BGPPeer tor-a', 'spec.holdTime', /from 0s to 18h12m15s \(0-65535 seconds\), got "20h"/]],
  },
  {
    name: 'hold time as a number',
    objects: [peer({ holdTime: 90 })],
    problems: [['BGPPeer tor-a', 'spec.holdTime', /must be a duration string such as "90s" or "1m30s", got 90/]],
  },
  {
    name: 'hold time without a unit',
    objects: [peer({ holdTime: '90' })],
    problems: [['BGPPeer tor-a', 'spec.holdTime', /needs a unit \(ns, us, ms, s, m, h\).*got "90"/]],
  },
  {
    name: 'hold time not a duration',
    objects: [peer({ holdTime: '90 s' })],
    problems: [['BGPPeer tor-a', 'spec.holdTime', /must be a duration such as "90s", "1m30s" or "500ms", got "90 s"/]],
  },
  {
    name: 'hold time not whole seconds',
    objects: [peer({ holdTime: '4500ms' })],
    problems: [['BGPPeer tor-a', 'spec.holdTime', /must be a whole number of seconds .*got "4500ms"/]],
  },
  {
    name: 'negative keepalive',
    objects: [peer({ keepaliveTime: '-30s' })],
    problems: [['BGPPeer tor-a', 'spec.keepaliveTime', /must not be negative, got "-30s"/]],
  },
  {
    name: 'keepalive equal to hold',
    objects: [peer({ holdTime: '30s', keepaliveTime: '30s' })],
    problems: [['BGPPeer tor-a', 'spec.keepaliveTime', /must be shorter than holdTime \(30s\), got "30s"/]],
  },
  {
    name: 'keepalive above the default hold',
    objects: [peer({ keepaliveTime: '2m', holdTime: '90s' })],
    problems: [['BGPPeer tor-a', 'spec.keepaliveTime', /must be shorter than holdTime \(1m30s\), got "2m"/]],
  },
  {
    name: 'keepalive 0 with a hold time',
    objects: [peer({ keepaliveTime: '0s', holdTime: '90s' })],
    problems: [['BGPPeer tor-a', 'spec.keepaliveTime', /must be at least 1s while holdTime is 1m30s/]],
  },
  {
    name: 'keepalive with hold time 0',
    objects: [peer({ keepaliveTime: '30s', holdTime: '0s' })],
    problems: [['BGPPeer tor-a', 'spec.keepaliveTime', /must be 0 or left out when holdTime is 0.*got "30s"/]],
  },
  {
    name: 'keepalive alone implying a hold time too long',
    objects: [peer({ keepaliveTime: '7h' })],
    problems: [
      [
        'BGPPeer tor-a',
        'spec.keepaliveTime',
        /makes the default holdTime \(3 x keepaliveTime\) 75600s, over the 65535s maximum/,
      ],
    ],
  },
  {
    name: 'connect time 0',
    objects: [peer({ connectTime: '0s' })],
    problems: [['BGPPeer tor-a', 'spec.connectTime', /must be from 1s to 18h12m15s .*got "0s"/]],
  },
  {
    name: 'bad connection mode',
    objects: [peer({ connectionMode: 'Active' })],
    problems: [['BGPPeer tor-a', 'spec.connectionMode', /must be one of active, passive, both, got "Active"/]],
  },
  {
    name: 'listen port in active mode',
    objects: [peer({ listenPort: 1179 })],
    problems: [
      [
        'BGPPeer tor-a',
        'spec.listenPort',
        /only used when connectionMode is passive or both, and connectionMode is active \(the default\)/,
      ],
    ],
  },
  {
    name: 'password and passwordSecret',
    objects: [peer({ password: 'k', passwordSecret: { name: 'md5' } })],
    problems: [['BGPPeer tor-a', 'spec.passwordSecret', /cannot be used together with spec\.password/]],
  },
  {
    name: 'password too long',
    objects: [peer({ password: 'x'.repeat(81) })],
    problems: [['BGPPeer tor-a', 'spec.password', /is 81 bytes long; a TCP MD5 key is at most 80/]],
  },
  {
    name: 'password with a line break',
    objects: [peer({ password: 'a\nb' })],
    problems: [['BGPPeer tor-a', 'spec.password', /must not contain line breaks/]],
  },
  {
    name: 'passwordSecret without a name',
    objects: [peer({ passwordSecret: { namespace: 'x' } })],
    problems: [['BGPPeer tor-a', 'spec.passwordSecret.name', /is required/]],
  },
  {
    name: 'router ID IPv6',
    objects: [peer({ routerID: '2001:db8::1' })],
    problems: [['BGPPeer tor-a', 'spec.routerID', /must be an IPv4 address other than 0\.0\.0\.0 .*got "2001:db8::1"/]],
  },
  {
    name: 'router ID zero',
    objects: [peer({ routerID: '0.0.0.0' })],
    problems: [['BGPPeer tor-a', 'spec.routerID', /got "0\.0\.0\.0"/]],
  },
  {
    name: 'multihop on iBGP',
    objects: [peer({ peerASN: 64500, ebgpMultiHop: true })],
    problems: [
      ['BGPPeer tor-a', 'spec.ebgpMultiHop', /is for eBGP peers, but myASN and peerASN are both 64500 \(iBGP\)/],
    ],
  },
  {
    name: 'boolean as a string',
    objects: [peer({ enableGracefulRestart: 'yes' })],
    problems: [['BGPPeer tor-a', 'spec.enableGracefulRestart', /must be true or false, got "yes"/]],
  },
  {
    name: 'drain opt-in as a string',
    objects: [peer({ gracefulShutdownWhenUnschedulable: 'true' })],
    problems: [['BGPPeer tor-a', 'spec.gracefulShutdownWhenUnschedulable', /must be true or false, got "true"/]],
  },
  {
    name: 'missing BFD profile',
    objects: [obj('BFDProfile', 'slow'), peer({ bfdProfile: 'fast' })],
    problems: [
      ['BGPPeer tor-a', 'spec.bfdProfile', /refers to BFDProfile "fast", which does not exist \(known: slow\)/],
    ],
  },
  {
    name: 'two peers for one session',
    objects: [peer({}), peer({ peerASN: 64497 }, 'tor-a-again')],
    problems: [
      [
        'BGPPeer tor-a-again',
        'spec.peerAddress',
        /BGPPeer tor-a already peers with 192\.0\.2\.1 from the same nodes and source address/,
      ],
    ],
  },

  // --- label selectors
  {
    name: 'In without values',
    objects: [peer({ nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'In' }] }] })],
    problems: [
      [
        'BGPPeer tor-a',
        'spec.nodeSelectors[0].matchExpressions[0].values',
        /must list at least one value for operator In/,
      ],
    ],
  },
  {
    name: 'NotIn with an empty list',
    objects: [peer({ nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'NotIn', values: [] }] }] })],
    problems: [
      ['BGPPeer tor-a', 'spec.nodeSelectors[0].matchExpressions[0].values', /at least one value for operator NotIn/],
    ],
  },
  {
    name: 'Exists with values',
    objects: [peer({ nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'Exists', values: ['a'] }] }] })],
    problems: [
      ['BGPPeer tor-a', 'spec.nodeSelectors[0].matchExpressions[0].values', /must be empty for operator Exists/],
    ],
  },
  {
    name: 'DoesNotExist with values',
    objects: [
      peer({ nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'DoesNotExist', values: ['a'] }] }] }),
    ],
    problems: [
      ['BGPPeer tor-a', 'spec.nodeSelectors[0].matchExpressions[0].values', /must be empty for operator DoesNotExist/],
    ],
  },
  {
    name: 'unknown operator',
    objects: [peer({ nodeSelectors: [{ matchExpressions: [{ key: 'zone', operator: 'Equals', values: ['a'] }] }] })],
    problems: [
      [
        'BGPPeer tor-a',
        'spec.nodeSelectors[0].matchExpressions[0].operator',
        /must be one of In, NotIn, Exists, DoesNotExist, got "Equals"/,
      ],
    ],
  },
  {
    name: 'expression without a key',
    objects: [peer({ nodeSelectors: [{ matchExpressions: [{ operator: 'Exists' }] }] })],
    problems: [
      ['BGPPeer tor-a', 'spec.nodeSelectors[0].matchExpressions[0].key', /is required \(a label key\), got nothing/],
    ],
  },
  {
    name: 'bad label key',
    objects: [peer({ nodeSelectors: [{ matchLabels: { '-zone': 'a' } }] })],
    problems: [['BGPPeer tor-a', 'spec.nodeSelectors[0].matchLabels.-zone', /label key "-zone": the name must be/]],
  },
  {
    name: 'label value a number',
    objects: [peer({ nodeSelectors: [{ matchLabels: { rack: 1 } }] })],
    problems: [
      [
        'BGPPeer tor-a',
        'spec.nodeSelectors[0].matchLabels.rack',
        /label values must be strings \(quote them in YAML\), got 1/,
      ],
    ],
  },
  {
    name: 'label value too long',
    objects: [
      peer({ nodeSelectors: [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['x'.repeat(64)] }] }] }),
    ],
    problems: [['BGPPeer tor-a', 'spec.nodeSelectors[0].matchExpressions[0].values[0]', /at most 63 characters/]],
  },
  {
    name: 'same selector twice',
    objects: [peer({ nodeSelectors: [{ matchLabels: { a: 'b' } }, { matchLabels: { a: 'b' } }] })],
    problems: [['BGPPeer tor-a', 'spec.nodeSelectors[1]', /the same selector is listed twice/]],
  },
  {
    name: 'selector list not a list',
    objects: [peer({ nodeSelectors: { matchLabels: { a: 'b' } } })],
    problems: [['BGPPeer tor-a', 'spec.nodeSelectors', /must be a list of objects, got an object/]],
  },

  // --- IPAddressPool
  {
    name: 'no addresses',
    objects: [pool(undefined)],
    problems: [['IPAddressPool a', 'spec.addresses', /is required \(a non-empty list\)/]],
  },
  {
    name: 'empty addresses',
    objects: [pool([])],
    problems: [['IPAddressPool a', 'spec.addresses', /must not be empty/]],
  },
  {
    name: 'address not a string',
    objects: [pool(['192.0.2.0/28', 5])],
    problems: [['IPAddressPool a', 'spec.addresses[1]', /must be a non-empty string, got 5/]],
  },
  {
    name: 'host bits set',
    objects: [pool(['192.0.2.0/28', '192.0.2.17/28'])],
    problems: [
      [
        'IPAddressPool a',
        'spec.addresses[1]',
        /"192\.0\.2\.17\/28" has host bits set: the prefix is 192\.0\.2\.16\/28/,
      ],
    ],
  },
  {
    name: 'prefix length too long',
    objects: [pool(['2001:db8::/129'])],
    problems: [
      ['IPAddressPool a', 'spec.addresses[0]', /prefix length "129" in "2001:db8::\/129" must be 0-128 for IPv6/],
    ],
  },
  {
    name: 'single address',
    objects: [pool(['192.0.2.5'])],
    problems: [['IPAddressPool a', 'spec.addresses[0]', /is a single address, not a prefix: write "192\.0\.2\.5\/32"/]],
  },
  {
    name: 'range backwards',
    objects: [pool(['192.0.2.20-192.0.2.10'])],
    problems: [['IPAddressPool a', 'spec.addresses[0]', /range "192\.0\.2\.20-192\.0\.2\.10" starts after it ends/]],
  },
  {
    name: 'range mixing families',
    objects: [pool(['192.0.2.1-2001:db8::1'])],
    problems: [['IPAddressPool a', 'spec.addresses[0]', /mixes IPv4 and IPv6/]],
  },
  {
    name: 'range with a bad end',
    objects: [pool(['192.0.2.1-192.0.2'])],
    problems: [['IPAddressPool a', 'spec.addresses[0]', /range end "192\.0\.2" .* is not an IPv4 or IPv6 address/]],
  },
  {
    name: 'same address twice',
    objects: [pool(['192.0.2.0/28', '192.0.2.0/28'])],
    problems: [['IPAddressPool a', 'spec.addresses[1]', /"192\.0\.2\.0\/28" is listed twice/]],
  },
  {
    name: 'overlap inside a pool',
    objects: [pool(['192.0.2.0/28', '192.0.2.10-192.0.2.30'])],
    problems: [
      [
        'IPAddressPool a',
        'spec.addresses[1]',
        /"192\.0\.2\.10-192\.0\.2\.30" overlaps "192\.0\.2\.0\/28" of the same pool/,
      ],
    ],
  },
  {
    name: 'overlap between pools',
    objects: [pool(['192.0.2.0/24']), pool(['198.51.100.0/24', '192.0.2.128/25'], 'b')],
    problems: [
      [
        'IPAddressPool b',
        'spec.addresses[1]',
        /"192\.0\.2\.128\/25" overlaps "192\.0\.2\.0\/24" of IPAddressPool a: an address may be in one pool only/,
      ],
    ],
  },
  {
    name: 'IPv6 overlap between pools',
    objects: [pool(['2001:db8::/64']), pool(['2001:db8::ff-2001:db8::1:0'], 'b')],
    problems: [['IPAddressPool b', 'spec.addresses[0]', /overlaps "2001:db8::\/64" of IPAddressPool a/]],
  },
  {
    name: 'autoAssign a string',
    objects: [pool(['192.0.2.0/24'], 'a', { autoAssign: 'false' })],
    problems: [['IPAddressPool a', 'spec.autoAssign', /must be true or false, got "false"/]],
  },
  {
    name: 'negative priority',
    objects: [pool(['192.0.2.0/24'], 'a', { serviceAllocation: { priority: -1 } })],
    problems: [['IPAddressPool a', 'spec.serviceAllocation.priority', /from 0 to 2147483647, got -1/]],
  },
  {
    name: 'bad namespace',
    objects: [pool(['192.0.2.0/24'], 'a', { serviceAllocation: { namespaces: ['Team_A'] } })],
    problems: [['IPAddressPool a', 'spec.serviceAllocation.namespaces[0]', /"Team_A" is not a namespace name/]],
  },

  // --- BGPAdvertisement
  {
    name: 'aggregation over 32',
    objects: [adv({ aggregationLength: 33 })],
    problems: [['BGPAdvertisement adv', 'spec.aggregationLength', /from 0 to 32 \(an IPv4 prefix length\), got 33/]],
  },
  {
    name: 'IPv6 aggregation over 128',
    objects: [adv({ aggregationLengthV6: 129 })],
    problems: [
      ['BGPAdvertisement adv', 'spec.aggregationLengthV6', /from 0 to 128 \(an IPv6 prefix length\), got 129/],
    ],
  },
  {
    name: 'StaticRoute healthCheck: no check, both checks, bad URL, bad address, timeout over interval',
    objects: [
      obj('StaticRoute', 'none', { prefixes: ['192.0.2.100/32'], healthCheck: {} }),
      obj('StaticRoute', 'both', {
        prefixes: ['192.0.2.100/32'],
        healthCheck: { http: { url: 'http://127.0.0.1/' }, tcp: { address: '127.0.0.1:6443' } },
      }),
      obj('StaticRoute', 'url', {
        prefixes: ['192.0.2.100/32'],
        healthCheck: { http: { url: 'ftp://127.0.0.1/', expectedStatus: 42, verify: true }, rise: 0, fall: 101 },
      }),
      obj('StaticRoute', 'tcp', {
        prefixes: ['192.0.2.100/32'],
        healthCheck: { tcp: { address: '127.0.0.1' }, interval: '1s', timeout: '2s', drainTime: '11m' },
      }),
      obj('StaticRoute', 'creds', {
        prefixes: ['192.0.2.100/32'],
        healthCheck: { http: { url: 'https://admin:secret@127.0.0.1:6443/readyz' }, interval: 5 },
      }),
    ],
    problems: [
      ['StaticRoute none', 'spec.healthCheck', /needs a check: http .* or tcp/],
      ['StaticRoute both', 'spec.healthCheck', /both http and tcp/],
      ['StaticRoute url', 'spec.healthCheck.http.verify', /unknown field .*insecureSkipVerify/],
      ['StaticRoute url', 'spec.healthCheck.http.url', /http:\/\/ or https:\/\/ URL, got "ftp:\/\/127.0.0.1\/"/],
      ['StaticRoute url', 'spec.healthCheck.http.expectedStatus', /100 to 599 \(an HTTP status\), got 42/],
      ['StaticRoute url', 'spec.healthCheck.rise', /from 1 to 100, got 0/],
      ['StaticRoute url', 'spec.healthCheck.fall', /from 1 to 100, got 101/],
      ['StaticRoute tcp', 'spec.healthCheck.tcp.address', /"host:port" .* got "127.0.0.1"/],
      ['StaticRoute tcp', 'spec.healthCheck.timeout', /not be longer than interval \(2000 ms > 1000 ms\)/],
      ['StaticRoute tcp', 'spec.healthCheck.drainTime', /from 0 to 10m, got "11m"/],
      ['StaticRoute creds', 'spec.healthCheck.http.url', /must not carry credentials/],
      ['StaticRoute creds', 'spec.healthCheck.interval', /non-empty string, got 5/],
    ],
  },
  {
    name: 'weightedECMP: every field checked, named by its path',
    objects: [
      adv({
        weightedECMP: {
          nodeWeightLabel: 'Bad Label/x',
          defaultNodeWeight: -1,
          bandwidthPerWeight: '5 furlongs',
          transitive: 'yes',
          minUpdateInterval: '5',
          weight: 3,
        },
      }),
    ],
    problems: [
      ['BGPAdvertisement adv', 'spec.weightedECMP.weight', /unknown field .*bandwidthPerWeight/],
      ['BGPAdvertisement adv', 'spec.weightedECMP.nodeWeightLabel', /label key "Bad Label\/x"/],
      ['BGPAdvertisement adv', 'spec.weightedECMP.defaultNodeWeight', /integer from 0 to 1000000, got -1/],
      ['BGPAdvertisement adv', 'spec.weightedECMP.bandwidthPerWeight', /bandwidth such as "1Mbps".*"5 furlongs"/],
      ['BGPAdvertisement adv', 'spec.weightedECMP.transitive', /true or false, got "yes"/],
      ['BGPAdvertisement adv', 'spec.weightedECMP.minUpdateInterval', /needs a unit/],
    ],
  },
  {
    name: 'weightedECMP: not an object, a zero bandwidth, a too long interval',
    objects: [
      adv({ weightedECMP: true }),
      obj('BGPAdvertisement', 'b', { weightedECMP: { bandwidthPerWeight: '0Mbps', minUpdateInterval: '11m' } }),
    ],
    problems: [
      ['BGPAdvertisement adv', 'spec.weightedECMP', /must be an object, got true/],
      ['BGPAdvertisement b', 'spec.weightedECMP.bandwidthPerWeight', /more than 0/],
      ['BGPAdvertisement b', 'spec.weightedECMP.minUpdateInterval', /at most 10m/],
    ],
  },

  {
    name: 'aggregation shorter than the pool allows',
    objects: [pool(['192.0.2.0/28']), adv({ aggregationLength: 24, ipAddressPools: ['a'] })],
    problems: [
      [
        'BGPAdvertisement adv',
        'spec.aggregationLength',
        /24 is shorter than \/28, the largest prefix inside "192\.0\.2\.0\/28" of IPAddressPool a: a \/24 aggregate would announce addresses outside the pool/,
      ],
    ],
  },
  {
    name: 'aggregation shorter than a range allows',
    // .0-.47 is a /27 and a /28: the largest block inside is /27.
    objects: [pool(['192.0.2.0-192.0.2.47']), adv({ aggregationLength: 26 })],
    problems: [
      [
        'BGPAdvertisement adv',
        'spec.aggregationLength',
        /26 is shorter than \/27, the largest prefix inside "192\.0\.2\.0-192\.0\.2\.47"/,
      ],
    ],
  },
  {
    name: 'IPv6 aggregation shorter than the pool allows, pool chosen by selector',
    objects: [
      pool(['2001:db8::/120'], 'v6', {}),
      obj('IPAddressPool', 'labelled', { addresses: ['2001:db8:1::/124'] }, { family: 'v6' }),
      adv({ aggregationLengthV6: 64, ipAddressPoolSelectors: [{ matchLabels: { family: 'v6' } }] }),
    ],
    problems: [
      [
        'BGPAdvertisement adv',
        'spec.aggregationLengthV6',
        /64 is shorter than \/124, the largest prefix inside "2001:db8:1::\/124" of IPAddressPool labelled/,
      ],
    ],
  },
  {
    name: 'missing pool',
    objects: [pool(['192.0.2.0/24']), adv({ ipAddressPools: ['a', 'b'] })],
    problems: [
      [
        'BGPAdvertisement adv',
        'spec.ipAddressPools[1]',
        /refers to IPAddressPool "b", which does not exist \(known: a\)/,
      ],
    ],
  },
  {
    name: 'missing peer',
    objects: [adv({ peers: ['tor-z'] })],
    problems: [
      [
        'BGPAdvertisement adv',
        'spec.peers[0]',
        /refers to BGPPeer "tor-z", which does not exist \(there is no BGPPeer\)/,
      ],
    ],
  },
  {
    name: 'bad community',
    objects: [adv({ communities: ['64500:100', '65536:1'] })],
    problems: [
      ['BGPAdvertisement adv', 'spec.communities[1]', /"65536:1" is not a community: write two numbers 0-65535/],
    ],
  },
  {
    name: 'unknown community name',
    objects: [adv({ communities: ['no-exports'] })],
    problems: [
      [
        'BGPAdvertisement adv',
        'spec.communities[0]',
        /"no-exports" is not a community.*well-known name \(no-export, no-advertise/,
      ],
    ],
  },
  {
    name: 'bad large community',
    objects: [adv({ communities: ['large:1:2'] })],
    problems: [
      [
        'BGPAdvertisement adv',
        'spec.communities[0]',
        /"large:1:2" is not a large community: write "large:" and three numbers/,
      ],
    ],
  },
  {
    name: 'large community part too big',
    objects: [adv({ communities: ['large:4294967296:1:2'] })],
    problems: [['BGPAdvertisement adv', 'spec.communities[0]', /is not a large community/]],
  },
  {
    name: 'a name and its value',
    objects: [adv({ communities: ['no-advertise', '65535:65282'] })],
    problems: [
      ['BGPAdvertisement adv', 'spec.communities[1]', /"65535:65282" is the same community as an earlier entry/],
    ],
  },
  {
    name: 'communities not a list',
    objects: [adv({ communities: 'no-export' })],
    problems: [['BGPAdvertisement adv', 'spec.communities', /must be a list of strings, got "no-export"/]],
  },
  {
    name: 'local preference negative',
    objects: [adv({ localPref: -5 })],
    problems: [['BGPAdvertisement adv', 'spec.localPref', /from 0 to 4294967295, got -5/]],
  },
  {
    name: 'same pool listed twice',
    objects: [pool(['192.0.2.0/24']), adv({ ipAddressPools: ['a', 'a'] })],
    problems: [['BGPAdvertisement adv', 'spec.ipAddressPools[1]', /"a" is listed twice/]],
  },

  // --- BFDProfile (through @bgp-announce/bfd's validation)
  {
    name: 'BFD interval too short',
    objects: [obj('BFDProfile', 'b', { transmitInterval: 5 })],
    problems: [
      ['BFDProfile b', 'spec.transmitInterval', /^must be an integer from 10 to 60000 \(milliseconds\), got 5$/],
    ],
  },
  {
    name: 'BFD detect multiplier 1',
    objects: [obj('BFDProfile', 'b', { detectMultiplier: 1 })],
    problems: [['BFDProfile b', 'spec.detectMultiplier', /from 2 to 255, got 1/]],
  },
  {
    name: 'BFD echo mode',
    objects: [obj('BFDProfile', 'b', { echoMode: true })],
    problems: [
      ['BFDProfile b', 'spec.echoMode', /echoMode true is not supported \(the BFD echo function is not implemented\)/],
    ],
  },
  {
    name: 'BFD boolean as a string',
    objects: [obj('BFDProfile', 'b', { passiveMode: 'true' })],
    problems: [['BFDProfile b', 'spec.passiveMode', /must be true or false, got "true"/]],
  },

  // --- StaticRoute
  {
    name: 'static route without prefixes',
    objects: [obj('StaticRoute', 'r', {})],
    problems: [['StaticRoute r', 'spec.prefixes', /is required/]],
  },
  {
    name: 'static route host bits',
    objects: [obj('StaticRoute', 'r', { prefixes: ['2001:db8::1/64'] })],
    problems: [['StaticRoute r', 'spec.prefixes[0]', /has host bits set: the prefix is 2001:db8::\/64/]],
  },
  {
    name: 'static route same prefix twice',
    objects: [obj('StaticRoute', 'r', { prefixes: ['2001:db8::/64', '2001:DB8::/64'] })],
    problems: [['StaticRoute r', 'spec.prefixes[1]', /same prefix as an earlier entry \(2001:db8::\/64\)/]],
  },
  {
    name: 'static route to a missing peer',
    objects: [peer({}), obj('StaticRoute', 'r', { prefixes: ['192.0.2.0/24'], peers: ['tor-b'] })],
    problems: [['StaticRoute r', 'spec.peers[0]', /refers to BGPPeer "tor-b", which does not exist \(known: tor-a\)/]],
  },
  {
    name: 'static route typo',
    objects: [obj('StaticRoute', 'r', { prefix: ['192.0.2.0/24'] })],
    problems: [
      ['StaticRoute r', 'spec.prefix', /unknown field/],
      ['StaticRoute r', 'spec.prefixes', /is required/],
    ],
  },
];

for (const c of cases) {
  t.test(c.name, async (t) => {
    const { problems } = validateConfig(c.objects);
    t.strictSame(
      problems.map((p) => [`${p.kind} ${p.name}`, p.field]),
      c.problems.map(([object, field]) => [object, field]),
      'the exact objects and fields',
    );
    c.problems.forEach(([, , why], i) => t.match(problems[i]?.message ?? '', why, `message ${i + 1} says why`));
  });
}

t.test('every problem of every object is reported at once', async (t) => {
  const { problems, config } = validateConfig([
    peer({
      peerASN: 0,
      holdTime: '2s',
      sourceAddress: 'x',
      nodeSelectors: [{ matchExpressions: [{ key: 'a', operator: 'In' }] }],
    }),
    pool(['192.0.2.0/33']),
    obj('BFDProfile', 'b', { minimumTtl: 255 }),
  ]);
  t.strictSame(
    problems.map((p) => `${p.kind} ${p.name} ${p.field}`),
    [
      'BGPPeer tor-a spec.peerASN',
      'BGPPeer tor-a spec.sourceAddress',
      'BGPPeer tor-a spec.holdTime',
      'BGPPeer tor-a spec.nodeSelectors[0].matchExpressions[0].values',
      'IPAddressPool a spec.addresses[0]',
      'BFDProfile b spec.minimumTtl',
    ],
  );
  t.strictSame(
    [config.peers, config.pools, config.bfdProfiles],
    [[], [], []],
    'invalid objects are left out of the config',
  );
});

t.test('a reference to an invalid object is not reported as missing', async (t) => {
  const { problems } = validateConfig([
    obj('BFDProfile', 'fast', { detectMultiplier: 0 }),
    peer({ bfdProfile: 'fast' }),
  ]);
  t.strictSame(
    problems.map((p) => `${p.kind} ${p.name} ${p.field}`),
    ['BFDProfile fast spec.detectMultiplier'],
  );
});
