// Interop with BIRD (Debian's 2.0.12), 4-octet AS numbers on both ends (ours 65551, BIRD's 65550):
// 1. extended next hop (RFC 8950): an IPv6 session (2001:db8::2 <-> 2001:db8::1) on which our built
//    Speaker announces the IPv4 route 203.0.113.0/24 with its IPv6 address as next hop; BIRD has
//    `extended next hop on` in its ipv4 channel. BIRD must accept it with our IPv6 next hop, and
//    take it away on our withdraw.
// 2. a plain IPv4 session (192.0.2.2 <-> 192.0.2.1): the AS_PATH BIRD shows is 65551 (4 octets).
// Needs root, ip, bird and birdc: skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { interopUnavailable, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { fabric, startSpeaker } from './fabric.js';
import { birdProtocol, birdUnavailable, parseBirdRoutes, startBird } from './bird.js';

const OUR_AS = 65551;
const BIRD_AS = 65550;
const timers = { holdTime: 9, connectRetryTime: 1, idleHoldTime: 1 };

t.test('BIRD: IPv4 route over an IPv6 session (extended next hop), 4-octet AS', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? birdUnavailable())) return;
  const net = fabric(t, { bird: ['2001:db8::1/64'], n1: ['2001:db8::2/64'] }, 'bgpx');
  const bird = await startBird(t, {
    ns: net.hosts.bird!.ns,
    routerId: '192.0.2.1',
    config: [
      'protocol bgp ours {',
      `  local 2001:db8::1 as ${BIRD_AS};`,
      `  neighbor 2001:db8::2 as ${OUR_AS};`,
      '  hold time 9;',
      '  connect retry time 1;',
      '  ipv4 { import all; export none; extended next hop on; };',
      '  ipv6 { import all; export none; };',
      '}',
    ].join('\n'),
  });
  const speaker = startSpeaker(t, net.hosts.n1!.ns, {
    localAs: OUR_AS,
    bgpId: '192.0.2.2',
    peers: [
      {
        id: 'bird',
        options: {
          peerAddress: '2001:db8::1',
          localAddress: '2001:db8::2',
          peerAs: BIRD_AS,
          families: ['ipv4-unicast', 'ipv6-unicast'],
          extendedNextHop: true,
          ...timers,
        },
      },
    ],
    routes: [{ prefix: '203.0.113.0/24' }],
  });
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n--- speaker:\n${speaker.output()}\n${bird.logs()}`);
  };

  const established = await speaker.waitFor('the session to come up', (e) => e.event === 'established');
  t.strictSame(established.extendedNextHop, ['ipv4-unicast'], 'we negotiated extended next hop for IPv4 unicast');
  t.equal(established.fourOctetAs, true, '4-octet AS negotiated');
  const route = await poll('203.0.113.0/24 in BIRD', () =>
    parseBirdRoutes(bird.birdc('show', 'route', 'all')).find((r) => r.prefix === '203.0.113.0/24'),
  ).catch(withLogs);
  t.equal(route.table, 'master4', 'in the IPv4 table');
  t.equal(route.protocol, 'ours', 'from our session');
  t.strictSame(
    route.via.map((v) => v.gateway),
    ['2001:db8::2'],
    'via our IPv6 address',
  );
  t.equal(route.attributes['BGP.next_hop'], '2001:db8::2', 'BGP.next_hop: our IPv6 address');
  t.equal(route.attributes['BGP.as_path'], String(OUR_AS), `BGP.as_path: ${OUR_AS}`);
  t.equal(route.attributes['BGP.origin'], 'IGP', 'BGP.origin: IGP');
  const proto = birdProtocol(bird, 'ours');
  t.equal(proto['BGP state'], 'Established', 'BIRD: Established');
  t.equal(proto['Neighbor AS'], String(OUR_AS), `BIRD: neighbor AS ${OUR_AS}`);
  t.equal(proto['Session'], 'external AS4', 'BIRD: eBGP session with 4-octet AS numbers');
  const text = bird.birdc('show', 'protocols', 'all', 'ours');
  const ourCaps = text.slice(text.indexOf('Neighbor capabilities'), text.indexOf('Session:'));
  t.match(ourCaps, /Extended next hop\s+IPv6 nexthop: ipv4/, 'BIRD: we offered an IPv6 next hop for IPv4');
  t.match(ourCaps, /4-octet AS numbers/, 'BIRD: we offered 4-octet AS numbers');

  // An IPv4 prefix announced in MP_REACH_NLRI (IPv6 next hop) is withdrawn in the Withdrawn Routes field.
  speaker.command({ cmd: 'withdraw', prefix: '203.0.113.0/24' });
  await poll('203.0.113.0/24 to leave BIRD', () =>
    parseBirdRoutes(bird.birdc('show', 'route', 'all')).some((r) => r.prefix === '203.0.113.0/24') ? undefined : true,
  ).catch(withLogs);
  t.match(
    bird.birdc('show', 'protocols', 'all', 'ours'),
    /Import withdraws:\s+1\s+0\s+---\s+0\s+1/,
    'BIRD: one withdraw received and accepted',
  );
});

t.test('BIRD: plain IPv4 session, AS_PATH with our 4-octet AS', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? birdUnavailable())) return;
  const net = fabric(t, { bird: ['192.0.2.1/24'], n1: ['192.0.2.2/24'] }, 'bgpy');
  const bird = await startBird(t, {
    ns: net.hosts.bird!.ns,
    routerId: '192.0.2.1',
    config: [
      'protocol bgp ours {',
      `  local 192.0.2.1 as ${BIRD_AS};`,
      `  neighbor 192.0.2.2 as ${OUR_AS};`,
      '  hold time 9;',
      '  connect retry time 1;',
      '  ipv4 { import all; export none; };',
      '}',
    ].join('\n'),
  });
  const speaker = startSpeaker(t, net.hosts.n1!.ns, {
    localAs: OUR_AS,
    bgpId: '192.0.2.2',
    peers: [
      { id: 'bird', options: { peerAddress: '192.0.2.1', localAddress: '192.0.2.2', peerAs: BIRD_AS, ...timers } },
    ],
    routes: [{ prefix: '203.0.113.0/24', attributes: { largeCommunities: [`${OUR_AS}:1:2`] } }],
  });
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n--- speaker:\n${speaker.output()}\n${bird.logs()}`);
  };
  const route = await poll('203.0.113.0/24 in BIRD', () =>
    parseBirdRoutes(bird.birdc('show', 'route', 'all')).find((r) => r.prefix === '203.0.113.0/24'),
  ).catch(withLogs);
  t.equal(route.attributes['BGP.as_path'], String(OUR_AS), `BGP.as_path: ${OUR_AS}`);
  t.equal(route.attributes['BGP.next_hop'], '192.0.2.2', 'BGP.next_hop: our address');
  t.strictSame(
    route.via.map((v) => v.gateway),
    ['192.0.2.2'],
    'via our address',
  );
  t.equal(route.attributes['BGP.large_community'], `(${OUR_AS}, 1, 2)`, 'large community with our 4-octet AS');
  t.equal(birdProtocol(bird, 'ours')['Session'], 'external AS4', 'BIRD: eBGP session with 4-octet AS numbers');
});
