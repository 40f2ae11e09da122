// Speaker over real TCP on 127.0.0.1 (ephemeral ports). A bare SessionDriver in passive mode is the
// receiving router: what it decodes with bgp-wire is checked against values written here by hand.
// Two Speakers check received routes, removePeer's Cease 3 and the maximum-prefix teardown.
import t from 'tap';
import type { NotificationMessage, RouteRefreshMessage, UpdateMessage } from '@bgp-announce/bgp-wire';
import { Speaker } from '../src/speaker.js';
import { SessionDriver } from '../src/session/driver.js';
import { peerConfig } from '../src/session/config.js';
import { manualClock } from '../src/session/clock.js';
import { canonicalPrefix, peerDesiredRoutes, type AnnounceAttributes } from '../src/speaker-peer.js';
import { next } from './helpers/events.js';

type Logged =
  | { kind: 'update'; update: UpdateMessage }
  | { kind: 'refresh'; message: RouteRefreshMessage }
  | { kind: 'notification'; notification: NotificationMessage };

/** A passive receiver (AS 64497) on 127.0.0.1 that logs what it receives, in order. */
async function receiver(peerAs = 64496) {
  const driver = new SessionDriver({
    config: peerConfig({
      localAs: 64497,
      peerAs,
      bgpId: '192.0.2.2',
      mode: 'passive',
      families: ['ipv4-unicast', 'ipv6-unicast'],
    }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
  });
  const log: Logged[] = [];
  driver.on('update', (update) => log.push({ kind: 'update', update }));
  driver.on('routeRefresh', (message) => log.push({ kind: 'refresh', message }));
  driver.on('notificationReceived', (notification) => log.push({ kind: 'notification', notification }));
  driver.on('error', () => {});
  const listening = next(driver, 'listening');
  driver.start();
  const [{ port }] = (await listening) as [{ port: number }];
  return { driver, log, port };
}

const updates = (log: Logged[]): UpdateMessage[] => log.flatMap((l) => (l.kind === 'update' ? [l.update] : []));
const nlriOf = (u: UpdateMessage): string[] =>
  [...u.nlri.map((n) => n.prefix), ...(u.attributes.mpReach?.nlri ?? []).map((n) => n.prefix)].sort();

t.test(
  'announce before and after Established, End-of-RIB, diffs only, withdraw, route refresh, graceful shutdown',
  async (t) => {
    const r = await receiver();
    const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
    speaker.on('error', (id, err) => t.fail(`speaker error on ${id}: ${err.message}`));
    const v4attrs = { communities: ['64496:100'], med: 10 };
    speaker.announce('192.0.2.0/24', v4attrs);
    speaker.announce('2001:db8::/32');
    const established = next(speaker, 'established');
    speaker.addPeer('rtr', {
      peerAddress: '127.0.0.1',
      peerPort: r.port,
      peerAs: 64497,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      nextHopIpv6: '2001:db8::1',
      largeCommunities: ['64496:1:2'],
    });
    const [id, negotiated] = await established;
    t.equal(id, 'rtr');
    t.same(negotiated.families, ['ipv4-unicast', 'ipv6-unicast']);

    // Initial send: both routes, then one End-of-RIB per family.
    await next(r.driver, 'update', () => updates(r.log).filter((u) => u.endOfRib).length === 2);
    const initial = updates(r.log);
    t.equal(initial.length, 4, 'two route UPDATEs and two End-of-RIBs');
    const v4 = initial.find((u) => u.nlri.length > 0);
    t.same(v4?.nlri, [{ prefix: '192.0.2.0/24' }]);
    t.equal(v4?.attributes.nextHop, '127.0.0.1', 'next hop self');
    t.same(v4?.attributes.asPath, [{ type: 'AS_SEQUENCE', asns: [64496] }], 'eBGP: our AS');
    t.equal(v4?.attributes.med, 10);
    t.same(v4?.attributes.communities, ['64496:100']);
    t.same(v4?.attributes.largeCommunities, ['64496:1:2'], 'per-peer large community');
    const v6 = initial.find((u) => u.attributes.mpReach);
    t.same(v6?.attributes.mpReach?.nlri, [{ prefix: '2001:db8::/32' }]);
    t.same(v6?.attributes.mpReach?.nextHops, ['2001:db8::1']);
    t.ok(
      initial.slice(0, 2).every((u) => u.endOfRib === undefined),
      'routes before End-of-RIB',
    );
    t.same(
      initial
        .slice(2)
        .map((u) => u.endOfRib?.afi)
        .sort(),
      [1, 2],
    );

    // After Established: a new route, an unchanged re-announce (a new but equal object), then a withdraw.
    speaker.announce('198.51.100.0/24');
    speaker.announce('192.0.2.0/24', { med: 10, communities: ['64496:100'] });
    await next(r.driver, 'update');
    t.same(nlriOf(updates(r.log)[4]!), ['198.51.100.0/24'], 'only the new route is sent');
    speaker.withdraw('192.0.2.0/24');
    await next(r.driver, 'update');
    const all = updates(r.log);
    t.equal(all.length, 6, 'no re-send of the unchanged route');
    t.same(all[5]!.withdrawn, [{ prefix: '192.0.2.0/24' }]);
    t.same(all[5]!.nlri, []);

    // Changes made together are coalesced into one UPDATE.
    speaker.announce('203.0.113.0/25');
    speaker.announce('203.0.113.128/25');
    speaker.announce('203.0.113.0/24');
    await next(r.driver, 'update');
    t.equal(updates(r.log).length, 7);
    t.same(nlriOf(updates(r.log)[6]!), ['203.0.113.0/24', '203.0.113.0/25', '203.0.113.128/25']);
    const status = speaker.peers();
    t.equal(status.length, 1);
    t.equal(status[0]?.state, 'Established');
    t.equal(status[0]?.advertised, 5);
    t.equal(status[0]?.received, 0);
    t.same(
      speaker
        .adjRibOut('rtr')
        ?.map((a) => a.prefix)
        .sort(),
      ['198.51.100.0/24', '2001:db8::/32', '203.0.113.0/24', '203.0.113.0/25', '203.0.113.128/25'],
    );

    // ROUTE-REFRESH for IPv4 unicast, by hand: marker, length 23, type 5, AFI 1, subtype 0, SAFI 1.
    // Enhanced route refresh is negotiated: BoRR, the IPv4 routes, EoRR.
    const before = r.log.length;
    r.driver.send(Buffer.from(`${'ff'.repeat(16)}0017050001` + '0001', 'hex'));
    await next(r.driver, 'routeRefresh', (m: RouteRefreshMessage) => m.subtype === 2);
    const answer = r.log.slice(before);
    t.same(
      answer[0],
      { kind: 'refresh', message: { type: 'ROUTE-REFRESH', length: 23, afi: 1, safi: 1, subtype: 1 } },
      'BoRR first',
    );
    t.match(answer.at(-1), { kind: 'refresh', message: { afi: 1, safi: 1, subtype: 2 } }, 'EoRR last');
    const refreshed = answer.slice(1, -1).flatMap((l) => (l.kind === 'update' ? nlriOf(l.update) : ['?']));
    t.same(
      refreshed.sort(),
      ['198.51.100.0/24', '203.0.113.0/24', '203.0.113.0/25', '203.0.113.128/25'],
      'every IPv4 route again, nothing else',
    );

    // Graceful shutdown: every route again with 65535:0, then the Cease with the message.
    const at = r.log.length;
    const down = next(r.driver, 'notificationReceived');
    await speaker.stop({ gracefulShutdown: { drainMs: 20 }, message: 'maintenance' });
    await down;
    const tail = r.log.slice(at);
    const last = tail.at(-1);
    t.equal(last?.kind, 'notification', 'the Cease comes last');
    if (last?.kind === 'notification') {
      t.equal(last.notification.code, 6);
      t.equal(last.notification.subcode, 2);
      t.equal(
        last.notification.data,
        '0b' + Buffer.from('maintenance').toString('hex'),
        'RFC 9003 shutdown communication',
      );
    }
    const gshut = tail.slice(0, -1).flatMap((l) => (l.kind === 'update' ? [l.update] : []));
    t.equal(gshut.length, tail.length - 1, 'only UPDATEs before the Cease');
    t.ok(
      gshut.every((u) => u.attributes.communities?.includes('65535:0')),
      'each carries GRACEFUL_SHUTDOWN',
    );
    t.same(gshut.flatMap(nlriOf).sort(), [
      '198.51.100.0/24',
      '2001:db8::/32',
      '203.0.113.0/24',
      '203.0.113.0/25',
      '203.0.113.128/25',
    ]);
    t.same(speaker.peers(), []);
    await r.driver.stop();
  },
);

t.test('two speakers: routes received into the Adj-RIB-In, removePeer sends Cease 3', async (t) => {
  const b = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  const listening = next(b, 'listening');
  b.addPeer('a', {
    peerAddress: '127.0.0.1',
    peerAs: 64497,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
    idleHoldTime: 60,
  });
  const [, { port }] = await listening;
  const a = new Speaker({ localAs: 64497, bgpId: '192.0.2.1' });
  a.announce('203.0.113.0/24', { localPref: 200, communities: ['no-export'] });
  const received = next(b, 'routesReceived', (_id, r) => r.announced === 1);
  a.addPeer('b', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497 });
  const [id, result] = await received;
  t.equal(id, 'a');
  t.equal(result.announced, 1);
  const rib = b.adjRibIn('a');
  t.equal(rib?.length, 1);
  t.equal(rib?.[0]?.prefix, '203.0.113.0/24');
  t.equal(rib?.[0]?.attributes.nextHop, '127.0.0.1');
  t.equal(rib?.[0]?.attributes.localPref, 200, 'iBGP: LOCAL_PREF sent');
  t.same(rib?.[0]?.attributes.asPath ?? [], [], 'iBGP: empty AS path');
  t.same(rib?.[0]?.attributes.communities, ['65535:65281'], 'no-export is 65535:65281');
  t.equal(b.peers()[0]?.received, 1);

  const down = next(b, 'down');
  await a.removePeer('b');
  const [, reason] = await down;
  t.equal(reason.kind, 'notification-received');
  t.equal(reason.notification?.code, 6);
  t.equal(reason.notification?.subcode, 3, 'Cease 3, Peer De-configured');
  t.equal(b.adjRibIn('a')?.length, 0, 'routes of a dead session dropped');
  await Promise.all([a.stop(), b.stop()]);
});

t.test('maximum prefixes: more than the limit tears the session down with Cease 1', async (t) => {
  const b = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  const listening = next(b, 'listening');
  b.addPeer('a', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
    idleHoldTime: 60,
    maxPrefix: { 'ipv4-unicast': { limit: 2, action: 'teardown' } },
  });
  const [, { port }] = await listening;
  const a = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  for (const p of ['192.0.2.0/24', '198.51.100.0/24', '203.0.113.0/24']) a.announce(p);
  const teardown = next(b, 'routesReceived', (_id, r) => r.teardown !== undefined);
  const aDown = next(a, 'down');
  a.addPeer('b', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497, idleHoldTime: 60 });
  const [, result] = await teardown;
  t.match(result.teardown, { family: 'ipv4-unicast', count: 3, limit: 2 });
  const [, reason] = await aDown;
  t.equal(reason.kind, 'notification-received');
  t.equal(reason.notification?.code, 6);
  t.equal(reason.notification?.subcode, 1, 'Cease 1, Maximum Number of Prefixes Reached');
  t.equal(reason.notification?.data, '00010100000002', 'RFC 4486 data: AFI 1, SAFI 1, limit 2');
  const bDown = b.peers()[0]?.lastDown;
  t.match(
    bDown?.message,
    /maximum prefixes reached: 3 ipv4-unicast routes, limit 2/,
    'the reason is in the down record',
  );
  await Promise.all([a.stop(), b.stop()]);
});

t.test('minimum route advertisement interval on the injected clock', async (t) => {
  const r = await receiver();
  const clock = manualClock(1_000_000);
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1', clock });
  speaker.announce('192.0.2.0/24');
  const eor = next(r.driver, 'update', (u: UpdateMessage) => u.endOfRib !== undefined);
  speaker.addPeer('rtr', {
    peerAddress: '127.0.0.1',
    peerPort: r.port,
    peerAs: 64497,
    minRouteAdvertisementIntervalMs: 5000,
    closeTimeoutMs: 0,
  });
  await eor;
  t.equal(updates(r.log).length, 2, 'initial route and End-of-RIB');
  speaker.announce('198.51.100.0/24');
  speaker.announce('203.0.113.0/24');
  speaker.withdraw('192.0.2.0/24');
  const advertisedNow = (): string[] => (speaker.adjRibOut('rtr') ?? []).map((a) => a.prefix).sort();
  clock.advance(4999);
  t.same(advertisedNow(), ['192.0.2.0/24'], 'nothing diffed before the interval has passed');
  const more = next(r.driver, 'update', () => updates(r.log).length === 4);
  clock.advance(1);
  t.same(advertisedNow(), ['198.51.100.0/24', '203.0.113.0/24'], 'diffed once it has');
  await more;
  const last2 = updates(r.log).slice(-2);
  t.same(last2[0]?.withdrawn, [{ prefix: '192.0.2.0/24' }], 'withdrawal first');
  t.same(
    nlriOf(last2[1]!),
    ['198.51.100.0/24', '203.0.113.0/24'],
    'both announcements in one UPDATE, 5 s after the initial send',
  );
  // Had anything gone out before the interval passed, there would be more than 4 UPDATEs by now.
  t.equal(updates(r.log).length, 4);
  await Promise.all([speaker.stop(), r.driver.stop()]);
});

t.test(
  'updatePeer: a policy change is diffed onto the session, a session change re-creates it (Cease 6)',
  async (t) => {
    const r = await receiver();
    const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
    speaker.announce('192.0.2.0/24');
    const eor = next(r.driver, 'update', (u: UpdateMessage) => u.endOfRib !== undefined);
    speaker.addPeer('rtr', { peerAddress: '127.0.0.1', peerPort: r.port, peerAs: 64497, idleHoldTime: 60 });
    await eor;
    const changed = next(r.driver, 'update');
    await speaker.updatePeer('rtr', { communities: ['64496:7'], med: 5 });
    const [u] = (await changed) as [UpdateMessage];
    t.same(u.nlri, [{ prefix: '192.0.2.0/24' }], 'the route again, with the new attributes');
    t.same(u.attributes.communities, ['64496:7']);
    t.equal(u.attributes.med, 5);
    t.equal(speaker.peers()[0]?.state, 'Established', 'same session');
    const cease = next(r.driver, 'notificationReceived');
    await speaker.updatePeer('rtr', { holdTime: 30 });
    const [n] = (await cease) as [NotificationMessage];
    t.equal(n.code, 6);
    t.equal(n.subcode, 6, 'Cease 6, Other Configuration Change');
    t.equal(speaker.peers().length, 1);
    t.not(speaker.peers()[0]?.state, 'Established', 'a new session');
    await Promise.all([speaker.stop(), r.driver.stop()]);
  },
);

t.test('prefixes and per-peer desired routes', async (t) => {
  t.equal(canonicalPrefix('2001:DB8:0::/32'), '2001:db8::/32');
  t.equal(canonicalPrefix('192.0.2.0/24'), '192.0.2.0/24');
  t.throws(() => canonicalPrefix('192.0.2.1/24'), RangeError);
  t.throws(() => canonicalPrefix('192.0.2.0/33'), RangeError);
  t.throws(() => canonicalPrefix('192.0.2.0'), TypeError);
  const shared = { asPathPrepend: 2 };
  const routes = new Map<string, AnnounceAttributes>([
    ['192.0.2.0/24', shared],
    ['198.51.100.0/24', shared],
    ['2001:db8::/32', {}],
  ]);
  const out = peerDesiredRoutes(
    routes,
    { communities: ['64496:1'] },
    { localAs: 64496, ibgp: false, localAddress: '192.0.2.10' },
  );
  t.same(out.noNextHop, ['2001:db8::/32'], 'IPv6 route without an IPv6 next hop is left out');
  t.same(out.routes.get('192.0.2.0/24'), {
    nextHop: '192.0.2.10',
    origin: 'igp',
    asPath: [{ type: 'AS_SEQUENCE', asns: [64496, 64496, 64496] }],
    communities: ['64496:1'],
  });
  t.equal(
    out.routes.get('192.0.2.0/24'),
    out.routes.get('198.51.100.0/24'),
    'routes sharing attributes share the result',
  );
});

t.test(
  'a malformed UPDATE (RFC 7606 treat-as-withdraw) withdraws its routes and is reported with its bytes',
  async (t) => {
    const b = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
    const errors: Error[] = [];
    b.on('error', (_id, err) => errors.push(err));
    const listening = next(b, 'listening');
    b.addPeer('a', {
      peerAddress: '127.0.0.1',
      peerAs: 64496,
      mode: 'passive',
      listen: { host: '127.0.0.1', port: 0 },
      idleHoldTime: 60,
    });
    const [, { port }] = await listening;
    const a = new SessionDriver({
      config: peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1' }),
      peerAddress: '127.0.0.1',
      peerPort: port,
    });
    a.on('error', () => {});
    const up = Promise.all([next(b, 'established'), next(a, 'established')]);
    a.start();
    await up;
    // ORIGIN (40 01 01 xx), AS_PATH 64496 (4-octet), NEXT_HOP 192.0.2.1, NLRI 203.0.113.0/24.
    const update = (origin: string): Buffer =>
      Buffer.from(
        `${'ff'.repeat(16)}002f02 0000 0014 400101${origin} 4002060201 0000fbf0 400304c0000201 18cb0071`.replace(
          /\s+/g,
          '',
        ),
        'hex',
      );
    let received = next(b, 'routesReceived');
    a.send(update('00'));
    t.equal((await received)[1].announced, 1);
    t.equal(b.adjRibIn('a')?.length, 1, 'the valid route is in');
    received = next(b, 'routesReceived');
    a.send(update('05')); // ORIGIN 5 is undefined: treat-as-withdraw (RFC 7606 7.1)
    const [, result] = await received;
    t.equal(result.treatAsWithdraw, true);
    t.equal(b.adjRibIn('a')?.length, 0, 'the route is withdrawn');
    t.equal(b.peers()[0]?.state, 'Established', 'no session reset');
    t.equal(errors.length, 1, 'reported once');
    t.equal(errors[0]?.name, 'MalformedUpdateError');
    t.match(
      errors[0]?.message,
      /^peer a sent a malformed UPDATE in attribute 1 at offset \d+: .*treated as withdrawn \(RFC 7606\), bytes 40010105$/,
    );
    await Promise.all([a.stop(), b.stop()]);
  },
);

t.test('a peer with its own localAs and bgpId (per-peer myASN) uses them in OPEN and the AS path', async (t) => {
  const r = await receiver(64500);
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  t.teardown(async () => {
    await speaker.stop();
    await r.driver.stop();
  });
  speaker.announce('192.0.2.0/24');
  const established = next(r.driver, 'established');
  speaker.addPeer('rtr', {
    peerAddress: '127.0.0.1',
    peerPort: r.port,
    peerAs: 64497,
    localAs: 64500,
    bgpId: '192.0.2.9',
  });
  const [negotiated] = await established;
  t.equal(negotiated.peerBgpId, '192.0.2.9');
  await next(r.driver, 'update', () => updates(r.log).some((u) => u.nlri.length > 0));
  const u = updates(r.log).find((x) => x.nlri.length > 0);
  t.strictSame(u?.attributes.asPath, [{ type: 'AS_SEQUENCE', asns: [64500] }]);
});
