// Valid messages the fuzz test mutates: built with the encoders (every message type, every path
// attribute, IPv6 MP_REACH, ADD-PATH, 2-octet AS4_PATH) and captured from real peers.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { splitMessages } from '../../src/framing.js';
import type { BgpMessage, CodecContext } from '../../src/types.js';

export interface Seed {
  origin: string;
  bytes: Uint8Array;
}

const ADD_PATH_CTX: CodecContext = { addPath: ['ipv4-unicast', 'ipv6-unicast'] };
const TWO_OCTET_CTX: CodecContext = { fourOctetAs: false };

export function builtMessages(): { origin: string; msg: BgpMessage; ctx?: CodecContext }[] {
  const manyCapabilities = {
    type: 'OPEN',
    version: 4,
    myAs: 23456,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: [
      { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
      { code: 1, name: 'multiprotocol', afi: 2, safi: 1 },
      { code: 2, name: 'route-refresh' },
      { code: 5, name: 'extended-next-hop', families: [{ afi: 1, safi: 1, nextHopAfi: 2 }] },
      { code: 6, name: 'extended-message' },
      {
        code: 64,
        name: 'graceful-restart',
        restarting: true,
        notification: true,
        restartTime: 120,
        families: [
          { afi: 1, safi: 1, forwardingState: true },
          { afi: 2, safi: 1, forwardingState: false },
        ],
      },
      { code: 65, name: 'four-octet-as', asn: 65550 },
      {
        code: 69,
        name: 'add-path',
        families: [
          { afi: 1, safi: 1, sendReceive: 'both' },
          { afi: 2, safi: 1, sendReceive: 'receive' },
        ],
      },
      { code: 70, name: 'enhanced-route-refresh' },
      {
        code: 71,
        name: 'long-lived-graceful-restart',
        families: [{ afi: 1, safi: 1, forwardingState: true, staleTime: 3600 }],
      },
      { code: 73, name: 'fqdn', hostname: 'node-1', domainName: 'cluster.example' },
      { code: 200, name: 'unknown', hex: '0102030405' },
    ],
  } satisfies BgpMessage;
  const everyAttribute = {
    type: 'UPDATE',
    withdrawn: [{ prefix: '198.51.100.0/24' }, { prefix: '198.51.100.128/25' }],
    attributes: {
      origin: 'igp',
      asPath: [
        { type: 'AS_SEQUENCE', asns: [65536, 64496, 64497] },
        { type: 'AS_SET', asns: [64498, 64499] },
      ],
      nextHop: '192.0.2.1',
      med: 100,
      localPref: 200,
      atomicAggregate: true,
      aggregator: { asn: 65537, address: '192.0.2.2' },
      communities: ['64496:100', '64497:200'],
      originatorId: '192.0.2.3',
      clusterList: ['192.0.2.4', '192.0.2.5'],
      mpReach: {
        afi: 2,
        safi: 1,
        nextHops: ['2001:db8::1', 'fe80::1'],
        nlri: [{ prefix: '2001:db8:1::/48' }, { prefix: '2001:db8:2::1/128' }],
      },
      mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:3::/48' }] },
      extendedCommunities: [
        { type: 0x00, subtype: 0x02, name: 'route-target', asn: 64496, value: 100, hex: '0002fbf000000064' },
        { type: 0x43, subtype: 0x00, hex: '4300000000000001' },
      ],
      largeCommunities: ['64496:1:2', '65536:3:4'],
      unknown: [{ code: 99, flags: 0xc0, hex: 'abcdef' }],
    },
    nlri: [{ prefix: '203.0.113.0/24' }, { prefix: '203.0.113.128/25' }, { prefix: '192.0.2.7/32' }],
  } satisfies BgpMessage;
  const twoOctet = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: {
      origin: 'incomplete',
      asPath: [{ type: 'AS_SEQUENCE', asns: [23456, 64496] }],
      nextHop: '198.51.100.1',
      aggregator: { asn: 23456, address: '198.51.100.2' },
      as4Path: [{ type: 'AS_SEQUENCE', asns: [65540, 64496] }],
      as4Aggregator: { asn: 65540, address: '198.51.100.2' },
    },
    nlri: [{ prefix: '203.0.113.0/26' }],
  } satisfies BgpMessage;
  const ipv6Only = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: {
      origin: 'egp',
      asPath: [{ type: 'AS_SEQUENCE', asns: [64500] }],
      mpReach: {
        afi: 2,
        safi: 1,
        nextHops: ['2001:db8::2'],
        nlri: Array.from({ length: 20 }, (_, i) => ({ prefix: `2001:db8:0:${i.toString(16)}::/64` })),
      },
    },
    nlri: [],
  } satisfies BgpMessage;
  const addPath = {
    type: 'UPDATE',
    withdrawn: [{ prefix: '198.51.100.0/24', pathId: 7 }],
    attributes: {
      origin: 'igp',
      asPath: [{ type: 'AS_SEQUENCE', asns: [64501] }],
      nextHop: '192.0.2.9',
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::9'], nlri: [{ prefix: '2001:db8:5::/48', pathId: 2 }] },
    },
    nlri: [
      { prefix: '203.0.113.0/24', pathId: 1 },
      { prefix: '203.0.113.0/24', pathId: 2 },
    ],
  } satisfies BgpMessage;
  const fullIpv4 = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: { origin: 'igp', asPath: [{ type: 'AS_SEQUENCE', asns: [64502] }], nextHop: '192.0.2.10', med: 0 },
    nlri: Array.from({ length: 60 }, (_, i) => ({ prefix: `198.51.100.${i}/32` })),
  } satisfies BgpMessage;
  return [
    { origin: 'OPEN with many capabilities', msg: manyCapabilities },
    {
      origin: 'OPEN, bare',
      msg: { type: 'OPEN', version: 4, myAs: 64496, holdTime: 0, bgpId: '198.51.100.1', capabilities: [] },
    },
    { origin: 'UPDATE with every attribute', msg: everyAttribute },
    { origin: 'UPDATE, 2-octet with AS4_PATH', msg: twoOctet, ctx: TWO_OCTET_CTX },
    { origin: 'UPDATE, IPv6 MP_REACH', msg: ipv6Only },
    { origin: 'UPDATE, ADD-PATH', msg: addPath, ctx: ADD_PATH_CTX },
    { origin: 'UPDATE, 60 IPv4 /32s', msg: fullIpv4 },
    { origin: 'UPDATE, IPv4 End-of-RIB', msg: { type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [] } },
    {
      origin: 'UPDATE, IPv6 End-of-RIB',
      msg: { type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } }, nlri: [] },
    },
    {
      origin: 'NOTIFICATION, shutdown communication',
      msg: { type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'node drain' },
    },
    { origin: 'NOTIFICATION with data', msg: { type: 'NOTIFICATION', code: 3, subcode: 1, data: '0102030405' } },
    { origin: 'KEEPALIVE', msg: { type: 'KEEPALIVE' } },
    { origin: 'ROUTE-REFRESH', msg: { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 } },
    {
      origin: 'ROUTE-REFRESH with ORF entries',
      msg: { type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, orfHex: '01000401020304' },
    },
    { origin: 'ROUTE-REFRESH, BoRR', msg: { type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 1 } },
  ];
}

/** Messages of the captured streams in dir/*.bin (none if dir does not exist). */
export function fixtureMessages(dir: string): Seed[] {
  if (!existsSync(dir)) return [];
  const out: Seed[] = [];
  for (const name of readdirSync(dir).sort()) {
    if (!name.endsWith('.bin')) continue;
    const buf = new Uint8Array(readFileSync(join(dir, name)));
    try {
      const { messages } = splitMessages(buf, 65535);
      messages.forEach((m, i) => out.push({ origin: `fixture ${name} #${i}`, bytes: m.slice() }));
    } catch {
      // A capture that does not split is still useful raw input.
      out.push({ origin: `fixture ${name} (raw)`, bytes: buf });
    }
  }
  return out;
}
