// The printable form of a route: from an Adj-RIB-Out entry and from an Adj-RIB-In entry, with every
// field, the key order JSON shows, which next hop a received route takes, AS4_PATH merged in; and one
// route printed the same on both sides of a real session.
import t from 'tap';
import type { PathAttributes } from '@bgp-announce/bgp-wire';
import { printableAdvertised, printableReceived } from '../src/printable-route.js';
import { normalizeAttributes } from '../src/rib/route.js';
import { Speaker } from '../src/speaker.js';
import { next } from './helpers/events.js';

t.test('an advertised route: every attribute, in key order', async (t) => {
  const attributes = normalizeAttributes({
    nextHop: '192.0.2.1',
    asPath: [{ type: 'AS_SEQUENCE', asns: [64496, 64496] }],
    med: 10,
    localPref: 200,
    communities: ['no-export', '64496:100'],
    largeCommunities: ['64496:1:2'],
    extendedCommunities: ['rt:64496:100'],
  });
  const p = printableAdvertised({ prefix: '203.0.113.0/24', attributes });
  t.equal(
    JSON.stringify(p),
    '{"family":"ipv4-unicast","prefix":"203.0.113.0/24","nextHop":"192.0.2.1","asPath":"64496 64496","origin":"igp","med":10,"localPref":200,"communities":["64496:100","65535:65281"],"largeCommunities":["64496:1:2"],"extendedCommunities":["rt:64496:100"]}',
  );
  p.communities?.push('changed');
  t.same(attributes.communities, ['64496:100', '65535:65281'], 'arrays are copies');

  const v6 = printableAdvertised({
    prefix: '2001:db8::/32',
    pathId: 3,
    attributes: normalizeAttributes({ nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1' }),
  });
  t.strictSame(v6, {
    family: 'ipv6-unicast',
    prefix: '2001:db8::/32',
    pathId: 3,
    nextHop: '2001:db8::1',
    linkLocalNextHop: 'fe80::1',
    asPath: '',
    origin: 'igp',
  });
});

t.test('a received route: next hop by family, AS4_PATH, route reflection, unset attributes left out', async (t) => {
  const both: PathAttributes = {
    origin: 'egp',
    asPath: [{ type: 'AS_SEQUENCE', asns: [64497] }],
    nextHop: '192.0.2.2',
    mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::2', 'fe80::2'] },
    communities: ['64497:1'],
    originatorId: '192.0.2.9',
    clusterList: ['192.0.2.10', '192.0.2.11'],
  };
  t.equal(
    JSON.stringify(
      printableReceived({ family: 'ipv6-unicast', prefix: '2001:db8:1::/48', pathId: 7, attributes: both }),
    ),
    '{"family":"ipv6-unicast","prefix":"2001:db8:1::/48","pathId":7,"nextHop":"2001:db8::2","linkLocalNextHop":"fe80::2","asPath":"64497","origin":"egp","communities":["64497:1"],"originatorId":"192.0.2.9","clusterList":["192.0.2.10","192.0.2.11"]}',
    'MP_REACH_NLRI of the route family gives the next hops',
  );
  t.match(
    printableReceived({ family: 'ipv4-unicast', prefix: '198.51.100.0/24', attributes: both }),
    { nextHop: '192.0.2.2', linkLocalNextHop: undefined },
    'an IPv4 route beside an IPv6 MP_REACH_NLRI takes NEXT_HOP',
  );
  const extendedNextHop: PathAttributes = {
    origin: 'igp',
    asPath: [],
    mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::3'] },
  };
  t.equal(
    printableReceived({ family: 'ipv4-unicast', prefix: '198.51.100.0/24', attributes: extendedNextHop }).nextHop,
    '2001:db8::3',
    'RFC 8950: IPv4 with an IPv6 next hop',
  );

  const twoOctet: PathAttributes = {
    asPath: [{ type: 'AS_SEQUENCE', asns: [64496, 23456] }],
    as4Path: [{ type: 'AS_SEQUENCE', asns: [65536] }],
  };
  t.strictSame(
    printableReceived({ family: 'ipv4-unicast', prefix: '203.0.113.0/24', attributes: twoOctet }),
    { family: 'ipv4-unicast', prefix: '203.0.113.0/24', asPath: '64496 65536' },
    'AS4_PATH merged; nothing else set, nothing else shown',
  );
  t.equal(
    printableReceived({ family: 'ipv4-unicast', prefix: '203.0.113.0/24', attributes: {} }).asPath,
    '',
    'no AS_PATH at all',
  );
});

t.test('one route printed the same as we advertised it and as the peer received it', async (t) => {
  const b = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  const listening = next(b, 'listening');
  b.addPeer('a', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
    idleHoldTime: 60,
  });
  const [, { port }] = await listening;
  const a = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  a.announce('203.0.113.0/24', {
    med: 5,
    communities: ['no-export', '64496:7'],
    largeCommunities: ['64496:1:2'],
    extendedCommunities: ['rt:64496:100'],
    asPathPrepend: 1,
  });
  const received = next(b, 'routesReceived', (_id, r) => r.announced === 1);
  a.addPeer('b', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497 });
  await received;
  const sent = a.adjRibOut('b')!.map(printableAdvertised);
  const got = b.adjRibIn('a')!.map(printableReceived);
  t.strictSame(sent, [
    {
      family: 'ipv4-unicast',
      prefix: '203.0.113.0/24',
      nextHop: '127.0.0.1',
      asPath: '64496 64496',
      origin: 'igp',
      med: 5,
      communities: ['64496:7', '65535:65281'],
      largeCommunities: ['64496:1:2'],
      extendedCommunities: ['rt:64496:100'],
    },
  ]);
  t.equal(JSON.stringify(got), JSON.stringify(sent), 'the same JSON, key for key');
  await Promise.all([a.stop(), b.stop()]);
});
