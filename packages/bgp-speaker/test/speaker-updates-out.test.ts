// PeerStatus.counters.updatesOut counts the UPDATE messages the Speaker sent, and only those: checked
// against the UPDATEs the receiving router counted and against the Speaker's own message log (decoded
// by bgp-wire), across an initial send with End-of-RIBs, an UPDATE longer than 4096 bytes (extended
// message), an enhanced route refresh (its BoRR and EoRR are ROUTE-REFRESH messages, not UPDATEs) and
// a graceful shutdown. updateCount is checked on hand-made headers.
import t from 'tap';
import { encodeMessage, encodeRouteRefresh, endOfRib, type UpdateMessage } from '@bgp-announce/bgp-wire';
import { Speaker } from '../src/speaker.js';
import { SessionDriver } from '../src/session/driver.js';
import { peerConfig } from '../src/session/config.js';
import { updateCount } from '../src/speaker-advertise.js';
import { next } from './helpers/events.js';

t.test('updateCount reads the type from each header', async (t) => {
  const keepalive = encodeMessage({ type: 'KEEPALIVE' });
  const borr = encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 1 });
  const eor = endOfRib(1, 1);
  t.equal(updateCount([]), 0);
  t.equal(updateCount([keepalive, borr]), 0, 'KEEPALIVE and ROUTE-REFRESH are not UPDATEs');
  t.equal(updateCount([borr, eor, endOfRib(2, 1), borr]), 2, 'End-of-RIBs are');
  const big = new Uint8Array(5000).fill(0xff);
  big[16] = 5000 >> 8;
  big[17] = 5000 & 0xff;
  big[18] = 2;
  t.equal(updateCount([big]), 1, 'an UPDATE longer than 4096 bytes (RFC 8654) counts too');
});

t.test('updatesOut matches the UPDATEs the peer received and the ones in our message log', async (t) => {
  const r = new SessionDriver({
    config: peerConfig({
      localAs: 64497,
      peerAs: 64496,
      bgpId: '192.0.2.2',
      mode: 'passive',
      families: ['ipv4-unicast', 'ipv6-unicast'],
    }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
  });
  r.on('error', () => {});
  const listening = next(r, 'listening');
  r.start();
  const [{ port }] = (await listening) as [{ port: number }];
  t.teardown(() => r.stop());

  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1', messageHistory: 1000 });
  speaker.on('error', (id, err) => t.fail(`speaker error on ${id}: ${err.message}`));
  const status = () => speaker.peers()[0]!;
  const sentLog = (type: string) =>
    (speaker.recentMessages('rtr') ?? []).filter((m) => m.direction === 'sent' && m.message?.type === type);
  const check = (expected: number, what: string) => {
    t.equal(status().counters.updatesOut, expected, `${what}: updatesOut`);
    t.equal(r.state.counters.updatesIn, expected, `${what}: the peer received as many`);
    t.equal(sentLog('UPDATE').length, expected, `${what}: as many UPDATEs in our message log`);
  };

  speaker.announce('192.0.2.0/24');
  speaker.announce('2001:db8::/32');
  const eors = next(r, 'update', () => r.state.counters.updatesIn === 4);
  speaker.addPeer('rtr', {
    peerAddress: '127.0.0.1',
    peerPort: port,
    peerAs: 64497,
    families: ['ipv4-unicast', 'ipv6-unicast'],
    nextHopIpv6: '2001:db8::1',
  });
  await eors;
  t.ok(status().negotiated?.extendedMessage, 'extended message negotiated');
  check(4, 'initial send: one UPDATE per family and two End-of-RIBs');

  // 3,000 /32s (15,000 bytes of NLRI) with one community fit in one extended UPDATE.
  const hosts = { communities: ['64496:32'] };
  for (let i = 0; i < 3000; i++) speaker.announce(`198.18.${i >> 8}.${i & 0xff}/32`, hosts);
  await next(r, 'update', (u: UpdateMessage) => u.nlri.length === 3000);
  check(5, 'one UPDATE of 3,000 prefixes');
  t.ok(
    sentLog('UPDATE').some((m) => m.length > 4096),
    'that UPDATE is longer than 4096 bytes',
  );

  // Enhanced route refresh for IPv4 unicast: BoRR, the IPv4 routes again (two UPDATEs: two attribute sets), EoRR.
  r.send([encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 })]);
  await next(r, 'routeRefresh', (m: { subtype: number }) => m.subtype === 2);
  t.equal(sentLog('ROUTE-REFRESH').length, 2, 'BoRR and EoRR sent');
  check(7, 'route refresh: its two UPDATEs, not BoRR/EoRR');

  // Graceful shutdown: both sets again with 65535:0, then the Cease.
  const before = status().counters.updatesOut;
  const ceased = next(r, 'notificationReceived');
  const stopping = speaker.stop({ gracefulShutdown: { drainMs: 20 } });
  await next(r, 'update', () => r.state.counters.updatesIn === before + 3);
  t.equal(r.state.counters.updatesIn, 10, 'three graceful-shutdown UPDATEs (IPv6, the /24, the /32s)');
  await stopping;
  await ceased;
});
