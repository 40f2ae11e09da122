// AS loop detection (RFC 4271 9.1.2): a received route whose AS path holds our AS is kept in the
// Adj-RIB-In (shown, as GoBGP's adj-in shows it) but marked asLoop and counted apart (not eligible,
// as FRR and GoBGP do not accept it). Unit level on hasAsLoop and the Adj-RIB-In, then a Speaker that
// a router (a bare SessionDriver on 127.0.0.1) sends our own route back to.
import t from 'tap';
import { encodeMessage, type PathAttributes, type UpdateMessage } from '@bgp-announce/bgp-wire';
import { hasAsLoop } from '../src/rib/as-loop.js';
import {
  adjRibInCounts,
  adjRibInEntries,
  applyUpdate,
  markStale,
  newAdjRibIn,
  receivedRoute,
  sweepStale,
} from '../src/rib/adj-rib-in.js';
import { printableReceived } from '../src/printable-route.js';
import { Speaker } from '../src/speaker.js';
import { SessionDriver } from '../src/session/driver.js';
import { peerConfig } from '../src/session/config.js';
import { next } from './helpers/events.js';

const seq = (...asns: number[]) => ({ type: 'AS_SEQUENCE' as const, asns });
const announce = (prefixes: string[], asPath: PathAttributes['asPath'], more: PathAttributes = {}): UpdateMessage => ({
  type: 'UPDATE',
  withdrawn: [],
  nlri: prefixes.map((prefix) => ({ prefix })),
  attributes: { origin: 'igp', asPath, nextHop: '192.0.2.10', ...more },
});
const withdraw = (prefixes: string[]): UpdateMessage => ({
  type: 'UPDATE',
  withdrawn: prefixes.map((prefix) => ({ prefix })),
  nlri: [],
  attributes: {},
});

t.test('hasAsLoop scans every segment, with AS4_PATH merged in', async (t) => {
  t.equal(hasAsLoop({ asPath: [seq(64496, 64497)] }, 64497), true, 'in an AS_SEQUENCE');
  t.equal(hasAsLoop({ asPath: [seq(64496)] }, 64497), false);
  t.equal(hasAsLoop({ asPath: [seq(64496), { type: 'AS_SET', asns: [64510, 64497] }] }, 64497), true, 'in an AS_SET');
  t.equal(hasAsLoop({ asPath: [] }, 64497), false, 'empty (iBGP)');
  t.equal(hasAsLoop({}, 64497), false, 'no AS_PATH');
  t.equal(
    hasAsLoop({ asPath: [seq(64496, 23456)], as4Path: [seq(4200000000)] }, 4200000000),
    true,
    'a 2-octet peer: our 4-octet AS behind AS_TRANS, found in AS4_PATH',
  );
});

t.test('Adj-RIB-In: AS loops are kept, marked and counted apart; re-announce and withdraw fix the count', async (t) => {
  const rib = newAdjRibIn({ localAs: 64497 });
  const echoed = applyUpdate(rib, announce(['203.0.113.0/24', '198.51.100.0/24'], [seq(64496, 64497)]));
  t.same([echoed.announced, echoed.asLoop], [2, true], 'the UPDATE is marked');
  t.same(adjRibInCounts(rib)['ipv4-unicast'], { routes: 2, stale: 0, asLoop: 2 });
  t.same(
    [...adjRibInEntries(rib)].map((e) => [e.prefix, e.asLoop]),
    [
      ['203.0.113.0/24', true],
      ['198.51.100.0/24', true],
    ],
  );
  t.match(printableReceived(receivedRoute(rib, '203.0.113.0/24')!), { asPath: '64496 64497', asLoop: true });

  const clean = applyUpdate(rib, announce(['203.0.113.0/24'], [seq(64496)]));
  t.equal(clean.asLoop, undefined, 'a route without our AS is not marked');
  t.equal(receivedRoute(rib, '203.0.113.0/24')?.asLoop, undefined, 'replaced: no mark');
  t.equal(adjRibInCounts(rib)['ipv4-unicast'].asLoop, 1);
  t.notOk('asLoop' in printableReceived(receivedRoute(rib, '203.0.113.0/24')!), 'printed without the mark');

  applyUpdate(rib, announce(['203.0.113.0/24'], [seq(64496, 64497)]));
  t.equal(adjRibInCounts(rib)['ipv4-unicast'].asLoop, 2, 'replaced by a loop again');
  applyUpdate(rib, withdraw(['198.51.100.0/24']));
  t.same(adjRibInCounts(rib)['ipv4-unicast'], { routes: 1, stale: 0, asLoop: 1 });

  // IPv6 through MP_REACH_NLRI counts in its own family.
  applyUpdate(rib, {
    type: 'UPDATE',
    withdrawn: [],
    nlri: [],
    attributes: {
      origin: 'igp',
      asPath: [seq(64496, 64497)],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::a'], nlri: [{ prefix: '2001:db8::/32' }] },
    },
  });
  t.same(adjRibInCounts(rib)['ipv6-unicast'], { routes: 1, stale: 0, asLoop: 1 });

  markStale(rib);
  t.equal(sweepStale(rib, 'ipv4-unicast'), 1);
  t.same(adjRibInCounts(rib)['ipv4-unicast'], { routes: 0, stale: 0, asLoop: 0 }, 'swept stale routes leave the count');
});

t.test('without localAs there is no loop detection', async (t) => {
  const rib = newAdjRibIn();
  t.equal(applyUpdate(rib, announce(['203.0.113.0/24'], [seq(64496, 64497)])).asLoop, undefined);
  t.equal(adjRibInCounts(rib)['ipv4-unicast'].asLoop, 0);
});

t.test('a router sends our own route back: the Speaker keeps it marked, peers() counts it', async (t) => {
  // The router: AS 64496, passive on 127.0.0.1; we are AS 64497.
  const router = new SessionDriver({
    config: peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1', mode: 'passive' }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
  });
  router.on('error', () => {});
  const listening = next(router, 'listening');
  router.start();
  const [{ port }] = (await listening) as [{ port: number }];
  const speaker = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  t.teardown(async () => {
    await Promise.all([speaker.stop(), router.stop()]);
  });
  speaker.on('error', () => {});
  speaker.announce('203.0.113.0/24');
  const established = next(router, 'established');
  speaker.addPeer('rtr', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64496 });
  await established;

  const send = (update: UpdateMessage): boolean => router.send(encodeMessage(update, router.sendContext));
  let received = next(speaker, 'routesReceived', (_id, r) => r.announced === 1);
  send(announce(['203.0.113.0/24'], [seq(64496, 64497)], { nextHop: '127.0.0.1' }));
  let [, result] = await received;
  t.equal(result.asLoop, true, 'routesReceived says so');
  t.match(speaker.adjRibIn('rtr'), [{ prefix: '203.0.113.0/24', asLoop: true }], 'kept in the Adj-RIB-In, marked');
  t.match(speaker.peers()[0], { received: 1, receivedAsLoop: 1 });

  received = next(speaker, 'routesReceived', (_id, r) => r.announced === 1);
  send(announce(['203.0.113.0/24'], [seq(64496)], { nextHop: '127.0.0.1' }));
  [, result] = await received;
  t.equal(result.asLoop, undefined);
  t.equal(speaker.adjRibIn('rtr')?.[0]?.asLoop, undefined, 'the replacing route is not marked');
  t.match(speaker.peers()[0], { received: 1, receivedAsLoop: 0 });
});
