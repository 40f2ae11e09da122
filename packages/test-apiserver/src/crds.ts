// Our CRDs (deploy/crds/*.yaml) as the server registers them by default: bgp-announce.io/v1alpha1,
// namespaced, with a status subresource, their short names and printer columns. A test checks that
// this stays in step with the manifests.
import type { CustomResourceDefinition, PrinterColumn } from './types.js';

const ACCEPTED: PrinterColumn = {
  name: 'Accepted',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Accepted")].status',
};
const PROBLEM: PrinterColumn = {
  name: 'Problem',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Accepted")].message',
  priority: 1,
};
const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

/** Our CRDs (bgp-announce.io/v1alpha1), registered by default. */
export const BGP_ANNOUNCE_CRDS: readonly CustomResourceDefinition[] = [
  {
    group: 'bgp-announce.io',
    version: 'v1alpha1',
    plural: 'ipaddresspools',
    kind: 'IPAddressPool',
    shortNames: ['bapool'],
    additionalPrinterColumns: [
      { name: 'Addresses', type: 'string', jsonPath: '.spec.addresses' },
      { name: 'Auto Assign', type: 'boolean', jsonPath: '.spec.autoAssign' },
      { name: 'Avoid Buggy IPs', type: 'boolean', jsonPath: '.spec.avoidBuggyIPs', priority: 1 },
      { name: 'Priority', type: 'integer', jsonPath: '.spec.serviceAllocation.priority', priority: 1 },
      ACCEPTED,
      PROBLEM,
      AGE,
    ],
  },
  {
    group: 'bgp-announce.io',
    version: 'v1alpha1',
    plural: 'bgppeers',
    kind: 'BGPPeer',
    shortNames: ['bapeer'],
    additionalPrinterColumns: [
      { name: 'Address', type: 'string', jsonPath: '.spec.peerAddress' },
      { name: 'Peer ASN', type: 'integer', jsonPath: '.spec.peerASN' },
      { name: 'My ASN', type: 'integer', jsonPath: '.spec.myASN' },
      { name: 'BFD Profile', type: 'string', jsonPath: '.spec.bfdProfile' },
      { name: 'Mode', type: 'string', jsonPath: '.spec.connectionMode' },
      ACCEPTED,
      { name: 'Hold Time', type: 'string', jsonPath: '.spec.holdTime', priority: 1 },
      { name: 'Source', type: 'string', jsonPath: '.spec.sourceAddress', priority: 1 },
      { name: 'Multi Hop', type: 'boolean', jsonPath: '.spec.ebgpMultiHop', priority: 1 },
      PROBLEM,
      AGE,
    ],
  },
  {
    group: 'bgp-announce.io',
    version: 'v1alpha1',
    plural: 'bgpadvertisements',
    kind: 'BGPAdvertisement',
    shortNames: ['baadv'],
    additionalPrinterColumns: [
      { name: 'Pools', type: 'string', jsonPath: '.spec.ipAddressPools' },
      { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
      { name: 'Aggregation', type: 'integer', jsonPath: '.spec.aggregationLength' },
      { name: 'Aggregation V6', type: 'integer', jsonPath: '.spec.aggregationLengthV6', priority: 1 },
      { name: 'Communities', type: 'string', jsonPath: '.spec.communities', priority: 1 },
      { name: 'Local Pref', type: 'integer', jsonPath: '.spec.localPref', priority: 1 },
      ACCEPTED,
      PROBLEM,
      AGE,
    ],
  },
  {
    group: 'bgp-announce.io',
    version: 'v1alpha1',
    plural: 'bfdprofiles',
    kind: 'BFDProfile',
    shortNames: ['babfd'],
    additionalPrinterColumns: [
      { name: 'Receive', type: 'integer', jsonPath: '.spec.receiveInterval' },
      { name: 'Transmit', type: 'integer', jsonPath: '.spec.transmitInterval' },
      { name: 'Multiplier', type: 'integer', jsonPath: '.spec.detectMultiplier' },
      { name: 'Passive', type: 'boolean', jsonPath: '.spec.passiveMode', priority: 1 },
      { name: 'Minimum TTL', type: 'integer', jsonPath: '.spec.minimumTtl', priority: 1 },
      ACCEPTED,
      PROBLEM,
      AGE,
    ],
  },
  {
    group: 'bgp-announce.io',
    version: 'v1alpha1',
    plural: 'staticroutes',
    kind: 'StaticRoute',
    shortNames: ['baroute'],
    additionalPrinterColumns: [
      { name: 'Prefixes', type: 'string', jsonPath: '.spec.prefixes' },
      { name: 'Peers', type: 'string', jsonPath: '.spec.peers' },
      { name: 'Health Check', type: 'string', jsonPath: '.spec.healthCheck.http.url' },
      ACCEPTED,
      PROBLEM,
      AGE,
    ],
  },
  {
    group: 'bgp-announce.io',
    version: 'v1alpha1',
    plural: 'bgpnodestates',
    kind: 'BGPNodeState',
    shortNames: ['banode'],
    additionalPrinterColumns: [
      {
        name: 'Established',
        type: 'integer',
        jsonPath: '.status.sessionsEstablished',
        description: 'BGP sessions Established',
      },
      {
        name: 'Sessions',
        type: 'integer',
        jsonPath: '.status.sessionsTotal',
        description: 'BGP sessions this node runs',
      },
      {
        name: 'Announced',
        type: 'integer',
        jsonPath: '.status.servicesAnnounced',
        description: 'Services this node announces',
      },
      {
        name: 'Not Announced',
        type: 'integer',
        jsonPath: '.status.servicesNotAnnounced',
        description: 'Services of our class this node does not announce (status.notAnnounced says why)',
      },
      {
        name: 'Unlisted',
        type: 'integer',
        jsonPath: '.status.unlisted',
        description: 'Services counted but left out of the lists (the size cap)',
        priority: 1,
      },
      AGE,
    ],
  },
];
