// The Speaker's per-peer helpers on their fast paths: canonicalPrefix for text already canonical, and
// peerDesiredRoutes as a view over the routes (no copy) that diffAdjRibOut reads.
import t from 'tap';
import {
  canonicalPrefix,
  checkLinkBandwidth,
  peerDesiredRoutes,
  type AnnounceAttributes,
  type Announcement,
} from '../src/speaker-peer.js';

t.test('canonicalPrefix: canonical IPv4 text comes back as is, everything else as before', async (t) => {
  for (const p of ['0.0.0.0/0', '10.0.0.0/8', '192.0.2.0/24', '192.0.2.128/25', '203.0.113.7/32', '255.255.255.255/32'])
    t.equal(canonicalPrefix(p), p);
  t.equal(canonicalPrefix('192.0.2.0/024'), '192.0.2.0/24', 'a length with a leading zero is canonicalized');
  t.throws(() => canonicalPrefix('192.0.2.128/24'), RangeError, 'host bits set');
  t.throws(() => canonicalPrefix('192.0.2.1/0'), RangeError, 'host bits set in a /0');
  t.throws(() => canonicalPrefix('192.0.2.01/32'), TypeError, 'an octet with a leading zero is not an address');
  t.throws(() => canonicalPrefix('192.0.2.256/32'), TypeError);
  t.throws(() => canonicalPrefix('192.0.2.0/33'), RangeError);
  t.throws(() => canonicalPrefix('192.0.2/24'), TypeError);
});

t.test('peerDesiredRoutes: a view that leaves out routes without a next hop', async (t) => {
  const shared: AnnounceAttributes = { med: 5 };
  const routes = new Map<string, AnnounceAttributes>([
    ['192.0.2.0/24', shared],
    ['2001:db8::/32', shared],
    ['198.51.100.0/24', shared],
    ['2001:db8:1::/48', { nextHop: '2001:db8::1' }],
  ]);
  const out = peerDesiredRoutes(routes, {}, { localAs: 64496, ibgp: false, localAddress: '192.0.2.10' });
  t.strictSame(out.noNextHop, ['2001:db8::/32']);
  const listed: [string, string][] = [];
  out.routes.forEach((a, p) => listed.push([p, a.nextHop]));
  t.strictSame(listed, [
    ['192.0.2.0/24', '192.0.2.10'],
    ['198.51.100.0/24', '192.0.2.10'],
    ['2001:db8:1::/48', '2001:db8::1'],
  ]);
  t.equal(out.routes.get('2001:db8::/32'), undefined, 'get agrees with the iteration');
  t.equal(out.routes.get('203.0.113.0/24'), undefined);
  t.equal(out.routes.get('192.0.2.0/24'), out.routes.get('198.51.100.0/24'), 'one result per shared attributes object');
  t.equal(out.routes.get('192.0.2.0/24')?.med, 5);
  routes.set('203.0.113.0/24', shared);
  t.equal(out.routes.get('203.0.113.0/24')?.med, 5, 'a view, not a copy');
});

t.test('peerDesiredRoutes: routes for some peers only, and alternatives per peer', async (t) => {
  const routes = new Map<string, Announcement>([
    ['192.0.2.1/32', { peers: ['tor-a'], communities: ['64496:1'] }],
    ['192.0.2.2/32', [{ peers: ['tor-b'], localPref: 200 }, { communities: ['64496:9'] }]],
    ['192.0.2.3/32', [{ peers: ['tor-c'] }]],
    ['2001:db8::1/128', { peers: ['tor-b'] }],
  ]);
  const view = (peerId: string) => {
    const out = peerDesiredRoutes(routes, {}, { peerId, localAs: 64496, ibgp: true, localAddress: '192.0.2.10' });
    const listed: Record<string, { communities?: string[]; localPref?: number }> = {};
    out.routes.forEach((a, p) => {
      listed[p] = {
        ...(a.communities ? { communities: a.communities } : {}),
        ...(a.localPref !== undefined ? { localPref: a.localPref } : {}),
      };
    });
    return { listed, noNextHop: out.noNextHop, get: (p: string) => out.routes.get(p) };
  };
  const a = view('tor-a');
  t.strictSame(a.listed, {
    '192.0.2.1/32': { communities: ['64496:1'] },
    '192.0.2.2/32': { communities: ['64496:9'] },
  });
  t.strictSame(a.noNextHop, [], 'a route for another peer is not a route without a next hop');
  t.equal(a.get('192.0.2.3/32'), undefined, 'get agrees: no alternative names tor-a');
  const b = view('tor-b');
  t.strictSame(
    b.listed,
    { '192.0.2.2/32': { localPref: 200 } },
    'tor-b gets its own alternative; the IPv6 route has no next hop',
  );
  t.strictSame(b.noNextHop, ['2001:db8::1/128']);
  t.equal(view('tor-c').get('192.0.2.3/32')?.nextHop, '192.0.2.10');
});

t.test("peerDesiredRoutes: link bandwidth per route and per peer, with each session's local AS", async (t) => {
  const routes = new Map<string, Announcement>([
    ['203.0.113.10/32', { linkBandwidth: 375_000 }],
    ['203.0.113.11/32', { linkBandwidth: { bytesPerSecond: 125_000, transitive: false } }],
    ['203.0.113.12/32', { extendedCommunities: ['rt:64496:1', 'lb:64496:1'], linkBandwidth: 250_000 }],
    ['203.0.113.13/32', {}],
  ]);
  const ext = (localAs: number, policy = {}) => {
    const out = peerDesiredRoutes(routes, policy, { localAs, ibgp: false, localAddress: '192.0.2.10' });
    return (prefix: string) =>
      (out.routes.get(prefix)?.extendedCommunities ?? []).map((e) => (typeof e === 'string' ? e : e.hex));
  };
  const on64497 = ext(64497);
  t.strictSame(on64497('203.0.113.10/32'), ['0004fbf148b71b00'], 'transitive, AS 64497, 375,000 bytes/s');
  t.strictSame(on64497('203.0.113.11/32'), ['4004fbf147f42400'], 'non-transitive when asked');
  t.strictSame(
    on64497('203.0.113.12/32').length,
    2,
    'the route target stays, the link bandwidth community given as text is replaced',
  );
  t.ok(on64497('203.0.113.12/32').includes('0004fbf148742400'), 'by the linkBandwidth field (250,000 bytes/s)');
  t.strictSame(on64497('203.0.113.13/32'), [], 'no bandwidth: no community');
  t.strictSame(ext(4200000000)('203.0.113.10/32'), ['00045ba048b71b00'], 'a 4-octet local AS: AS_TRANS (0x5ba0)');
  t.strictSame(
    ext(64497, { linkBandwidth: 125_000 })('203.0.113.13/32'),
    ['0004fbf147f42400'],
    'a peer default applies to routes without their own',
  );
  t.strictSame(ext(64497, { linkBandwidth: 125_000 })('203.0.113.10/32'), ['0004fbf148b71b00'], 'the route wins');

  t.throws(() => checkLinkBandwidth({ linkBandwidth: -1 }), RangeError);
  t.throws(() => checkLinkBandwidth([{ peers: ['a'] }, { linkBandwidth: Number.NaN }]), RangeError, 'any alternative');
  t.doesNotThrow(() => checkLinkBandwidth([{ linkBandwidth: 0 }, {}]));
});
