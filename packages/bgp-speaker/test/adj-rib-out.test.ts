// Adj-RIB-Out: diffs checked against hand-built UPDATE bytes (RFC 4271 4.3, RFC 4760, RFC 7911) and
// by decoding what it produces with bgp-wire.
import t from 'tap';
import { decodeMessage, type CodecContext, type Family, type UpdateMessage } from '@bgp-announce/bgp-wire';
import {
  adjRibOutCounts,
  advertised,
  allUpdates,
  diffAdjRibOut,
  endOfRibUpdates,
  gracefulShutdownUpdates,
  newAdjRibOut,
  routeRefreshUpdates,
  type SendSession,
} from '../src/rib/adj-rib-out.js';
import { attributeKey, normalizeAttributes, prependAsPath, routeKey, type RouteAttributes } from '../src/rib/route.js';

const M = 'ffffffffffffffffffffffffffffffff';
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const clean = (h: string): string => h.replace(/\s+/g, '');
const ebgp: SendSession = {
  send: { fourOctetAs: true, maxMessageLength: 4096 },
  families: ['ipv4-unicast', 'ipv6-unicast'],
};
const session = (send: CodecContext, families: Family[] = ['ipv4-unicast', 'ipv6-unicast']): SendSession => ({
  send,
  families,
});

const A: RouteAttributes = {
  nextHop: '192.0.2.10',
  asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }],
  communities: ['64496:100'],
};

function decodeAll(updates: Uint8Array[], ctx?: CodecContext): UpdateMessage[] {
  return updates.map((u) => {
    const m = decodeMessage(u, ctx);
    if (m.type !== 'UPDATE') throw new Error(`expected an UPDATE, got ${m.type}`);
    return m;
  });
}

t.test('add, no-op, change, withdraw (IPv4 NLRI field)', async (t) => {
  const rib = newAdjRibOut();
  const add = diffAdjRibOut(rib, new Map([['192.0.2.1/32', A]]), ebgp);
  // ORIGIN IGP, AS_PATH AS_SEQUENCE [64496], NEXT_HOP 192.0.2.10, COMMUNITIES 64496:100, NLRI 192.0.2.1/32.
  t.same(add.updates.map(hex), [
    clean(`${M} 0037 02 0000 001b 40010100 40020602010000fbf0 400304c000020a c00804fbf00064 20c0000201`),
  ]);
  t.same([add.announced, add.withdrawn], [1, 0]);
  t.same(
    diffAdjRibOut(rib, new Map([['192.0.2.1/32', { ...A, communities: ['64496:100'] }]]), ebgp).updates,
    [],
    'same attributes, new object: no bytes',
  );
  t.same(diffAdjRibOut(rib, new Map([['192.0.2.1/32', A]]), ebgp), { updates: [], announced: 0, withdrawn: 0 });

  const change = diffAdjRibOut(
    rib,
    new Map([['192.0.2.1/32', { ...A, med: 5, communities: ['64496:200', 'no-export'] }]]),
    ebgp,
  );
  const [u] = decodeAll(change.updates);
  t.equal(change.updates.length, 1);
  t.same(u?.withdrawn, [], 'a change is an implicit withdraw, no explicit one');
  t.same(u?.nlri, [{ prefix: '192.0.2.1/32' }]);
  t.equal(u?.attributes.med, 5);
  t.same(u?.attributes.communities, ['64496:200', '65535:65281']);

  const withdraw = diffAdjRibOut(rib, new Map(), ebgp);
  t.same(withdraw.updates.map(hex), [clean(`${M} 001c 02 0005 20c0000201 0000`)]);
  t.same([withdraw.announced, withdraw.withdrawn], [0, 1]);
  t.equal(rib.routes.size, 0);
  t.equal(rib.table.ids.size, 0, 'unused attribute sets are dropped');
});

t.test('10,000 /32s sharing one set: 13 UPDATEs of at most 4096 bytes, each prefix once', async (t) => {
  const rib = newAdjRibOut();
  const desired = new Map<string, RouteAttributes>();
  const attrs: RouteAttributes = { nextHop: '192.0.2.10', asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }] };
  const expected = new Set<string>();
  for (let i = 0; i < 10000; i++) {
    const p = `198.18.${i >> 8}.${i & 255}/32`; // RFC 2544 benchmarking range: 3 documentation /24s hold only 768 /32s
    desired.set(p, attrs);
    expected.add(p);
  }
  const out = diffAdjRibOut(rib, desired, ebgp);
  // 23 bytes of header and lengths, 20 of attributes: (4096 - 43) / 5 = 810 prefixes per message.
  t.equal(out.updates.length, 13);
  t.ok(out.updates.every((u) => u.length <= 4096));
  const seen = new Set<string>();
  let count = 0;
  for (const u of decodeAll(out.updates)) {
    t.equal(u.attributes.nextHop, '192.0.2.10');
    for (const n of u.nlri) seen.add(n.prefix);
    count += u.nlri.length;
  }
  t.equal(count, 10000);
  t.same(seen, expected);
  t.same(adjRibOutCounts(rib), { 'ipv4-unicast': 10000, 'ipv6-unicast': 0 });
  t.equal(rib.table.ids.size, 1, 'one interned set');

  const withdrawAll = diffAdjRibOut(rib, new Map(), ebgp);
  // (4096 - 23) / 5 = 814 withdrawals per message.
  t.equal(withdrawAll.updates.length, 13);
  t.equal(
    decodeAll(withdrawAll.updates).reduce((n, u) => n + u.withdrawn.length, 0),
    10000,
  );
});

t.test('grouping by attribute set; only the changed prefix goes out', async (t) => {
  const rib = newAdjRibOut();
  const B: RouteAttributes = { ...A, communities: ['64496:300'] };
  const desired = new Map<string, RouteAttributes>([
    ['198.51.100.1/32', A],
    ['198.51.100.2/32', B],
    ['198.51.100.3/32', A],
    ['198.51.100.4/32', B],
    ['198.51.100.5/32', A],
  ]);
  const first = decodeAll(diffAdjRibOut(rib, desired, ebgp).updates);
  t.equal(first.length, 2);
  t.same(
    first.map((u) => u.nlri.map((n) => n.prefix)),
    [
      ['198.51.100.1/32', '198.51.100.3/32', '198.51.100.5/32'],
      ['198.51.100.2/32', '198.51.100.4/32'],
    ],
  );
  desired.set('198.51.100.3/32', B);
  desired.delete('198.51.100.5/32');
  const next = decodeAll(diffAdjRibOut(rib, desired, ebgp).updates);
  t.same(
    next.map((u) => [u.withdrawn.map((n) => n.prefix), u.nlri.map((n) => n.prefix), u.attributes.communities ?? []]),
    [
      [['198.51.100.5/32'], [], []],
      [[], ['198.51.100.3/32'], ['64496:300']],
    ],
  );
});

t.test('IPv6 through MP_REACH_NLRI / MP_UNREACH_NLRI, IPv4 with an IPv6 next hop', async (t) => {
  const rib = newAdjRibOut();
  const v6: RouteAttributes = { nextHop: '2001:DB8::A', asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }] };
  const out = diffAdjRibOut(rib, new Map([['2001:db8::1/128', v6]]), ebgp);
  // MP_REACH_NLRI first (AFI 2, SAFI 1, 16-byte next hop, reserved, /128), then ORIGIN, AS_PATH; no NEXT_HOP.
  t.same(out.updates.map(hex), [
    clean(`${M} 004d 02 0000 0036
      800e26 0002 01 10 20010db800000000000000000000000a 00 80 20010db8000000000000000000000001
      40010100 40020602010000fbf0`),
  ]);
  const gone = decodeAll(diffAdjRibOut(rib, new Map(), ebgp).updates);
  t.same(
    gone.map((u) => u.attributes.mpUnreach),
    [{ afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8::1/128' }] }],
  );

  const rfc8950 = decodeAll(diffAdjRibOut(rib, new Map([['203.0.113.7/32', v6]]), ebgp).updates);
  t.same(
    rfc8950.map((u) => [u.nlri, u.attributes.nextHop, u.attributes.mpReach]),
    [[[], undefined, { afi: 1, safi: 1, nextHops: ['2001:db8::a'], nlri: [{ prefix: '203.0.113.7/32' }] }]],
  );
  t.throws(
    () => diffAdjRibOut(rib, new Map([['2001:db8::2/128', A]]), ebgp),
    TypeError,
    'IPv6 prefix with an IPv4 next hop',
  );
  t.same([...rib.routes.keys()], ['203.0.113.7/32'], 'a failed diff leaves the RIB as it was');
  t.same(
    diffAdjRibOut(
      rib,
      new Map([
        ['2001:db8::2/128', v6],
        ['203.0.113.7/32', v6],
      ]),
      session({}, ['ipv4-unicast']),
    ).updates,
    [],
    'IPv6 not negotiated: left out',
  );
});

t.test('ADD-PATH send writes path identifiers', async (t) => {
  const rib = newAdjRibOut();
  const ctx: CodecContext = { addPath: ['ipv4-unicast'] };
  const desired = new Map([
    [routeKey('192.0.2.1/32', 1), A],
    [routeKey('192.0.2.1/32', 2), { ...A, nextHop: '192.0.2.11' }],
  ]);
  const out = diffAdjRibOut(rib, desired, session(ctx));
  t.equal(hex(out.updates[0]!).slice(-18), clean('00000001 20 c0000201'), 'path id 1 before the prefix');
  t.same(
    decodeAll(out.updates, ctx).map((u) => u.nlri),
    [[{ prefix: '192.0.2.1/32', pathId: 1 }], [{ prefix: '192.0.2.1/32', pathId: 2 }]],
  );
  const w = decodeAll(diffAdjRibOut(rib, new Map([[routeKey('192.0.2.1/32', 1), A]]), session(ctx)).updates, ctx);
  t.same(
    w.map((u) => u.withdrawn),
    [[{ prefix: '192.0.2.1/32', pathId: 2 }]],
  );
  t.throws(() => diffAdjRibOut(newAdjRibOut(), desired, ebgp), TypeError, 'path id without ADD-PATH');
});

t.test('route refresh re-sends everything; enhanced wraps it in BoRR/EoRR; End-of-RIB', async (t) => {
  const rib = newAdjRibOut();
  const v6: RouteAttributes = { nextHop: '2001:db8::a' };
  const initial = diffAdjRibOut(
    rib,
    new Map([
      ['192.0.2.1/32', A],
      ['2001:db8::1/128', v6],
    ]),
    ebgp,
  ).updates;
  t.same(allUpdates(rib, ebgp).map(hex).sort(), initial.map(hex).sort());
  const v4only = routeRefreshUpdates(rib, ebgp, 'ipv4-unicast');
  t.same(v4only.map(hex), [
    clean(`${M} 0037 02 0000 001b 40010100 40020602010000fbf0 400304c000020a c00804fbf00064 20c0000201`),
  ]);
  const enhanced = routeRefreshUpdates(rib, ebgp, 'ipv4-unicast', true).map(hex);
  t.same(enhanced, [clean(`${M} 0017 05 0001 01 01`), hex(v4only[0]!), clean(`${M} 0017 05 0001 02 01`)]);
  t.same(endOfRibUpdates(['ipv4-unicast', 'ipv6-unicast']).map(hex), [
    clean(`${M} 0017 02 0000 0000`),
    clean(`${M} 001d 02 0000 0006 800f03 0002 01`),
  ]);
});

t.test('graceful shutdown re-announces with 65535:0, once; a plain diff takes it away', async (t) => {
  const rib = newAdjRibOut();
  const B: RouteAttributes = { nextHop: '192.0.2.10' };
  diffAdjRibOut(
    rib,
    new Map([
      ['192.0.2.1/32', A],
      ['192.0.2.2/32', B],
    ]),
    ebgp,
  );
  const g = gracefulShutdownUpdates(rib, ebgp);
  t.equal(g.announced, 2);
  t.same(
    decodeAll(g.updates).map((u) => [u.nlri[0]?.prefix, u.attributes.communities]),
    [
      ['192.0.2.1/32', ['64496:100', '65535:0']],
      ['192.0.2.2/32', ['65535:0']],
    ],
  );
  t.same(gracefulShutdownUpdates(rib, ebgp).updates, [], 'already shut down: nothing more');
  const desired = new Map([
    ['192.0.2.1/32', A],
    ['192.0.2.2/32', B],
  ]);
  t.same(diffAdjRibOut(rib, desired, ebgp, { gracefulShutdown: true }).updates, [], 'diff while draining keeps it');
  const back = decodeAll(diffAdjRibOut(rib, desired, ebgp).updates);
  t.same(
    back.map((u) => u.attributes.communities),
    [['64496:100'], undefined],
  );
});

t.test('iBGP LOCAL_PREF, eBGP none, 2-octet AS peer, canonical attribute keys', async (t) => {
  const lp: RouteAttributes = { nextHop: '192.0.2.10', localPref: 200 };
  const [i] = decodeAll(
    diffAdjRibOut(
      newAdjRibOut(),
      new Map([
        ['192.0.2.1/32', lp],
        ['192.0.2.2/32', { nextHop: '192.0.2.10' }],
      ]),
      session({ ibgp: true }),
    ).updates,
    { ibgp: true },
  );
  t.equal(i?.attributes.localPref, 200);
  const both = decodeAll(
    diffAdjRibOut(newAdjRibOut(), new Map([['192.0.2.2/32', { nextHop: '192.0.2.10' }]]), session({ ibgp: true }))
      .updates,
    { ibgp: true },
  );
  t.equal(both[0]?.attributes.localPref, 100, 'default LOCAL_PREF on iBGP');
  const [e] = decodeAll(diffAdjRibOut(newAdjRibOut(), new Map([['192.0.2.1/32', lp]]), ebgp).updates);
  t.equal(e?.attributes.localPref, undefined, 'no LOCAL_PREF to an external peer');

  const two = diffAdjRibOut(
    newAdjRibOut(),
    new Map([['192.0.2.1/32', { nextHop: '192.0.2.10', asPath: prependAsPath([], 65536, 2) }]]),
    session({ fourOctetAs: false }),
  );
  const [u] = decodeAll(two.updates, { fourOctetAs: false });
  t.same(u?.attributes.asPath, [{ type: 'AS_SEQUENCE', asns: [23456, 23456] }]);
  t.same(u?.attributes.as4Path, [{ type: 'AS_SEQUENCE', asns: [65536, 65536] }]);

  t.equal(
    attributeKey(
      normalizeAttributes({
        nextHop: '2001:DB8:0::1',
        communities: ['64496:2', '64496:1', '64496:2'],
        largeCommunities: ['64496:10:1', '64496:2:1'],
      }),
    ),
    attributeKey(
      normalizeAttributes({
        nextHop: '2001:db8::1',
        communities: ['64496:1', '64496:2'],
        largeCommunities: ['64496:2:1', '64496:10:1'],
      }),
    ),
  );
  t.not(
    attributeKey(normalizeAttributes({ nextHop: '192.0.2.1', med: 1 })),
    attributeKey(normalizeAttributes({ nextHop: '192.0.2.1', med: 2 })),
  );
  t.same(prependAsPath([{ type: 'AS_SEQUENCE', asns: [64497] }], 64496, 2), [
    { type: 'AS_SEQUENCE', asns: [64496, 64496, 64497] },
  ]);
  const rib = newAdjRibOut();
  diffAdjRibOut(rib, new Map([['192.0.2.1/32', A]]), ebgp);
  t.same(advertised(rib, '192.0.2.1/32')?.communities, ['64496:100']);
});
