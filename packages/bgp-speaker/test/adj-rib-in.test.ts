// Adj-RIB-In: UPDATEs decoded from hand-built bytes (RFC 4271 4.3, RFC 4760, RFC 7911) applied to the RIB.
// Every test runs twice: with the UPDATEs in string form (decodeMessage) and in packed form
// (decodeUpdatePacked, as the session feeds the RIB).
import t, { type Test } from 'tap';
import { decodeMessage, decodeUpdatePacked, type CodecContext } from '@bgp-announce/bgp-wire';
import {
  adjRibInCounts,
  adjRibInEntries,
  applyUpdate,
  markStale,
  newAdjRibIn,
  receivedRoute,
  sweepStale,
} from '../src/rib/adj-rib-in.js';

const M = 'ffffffffffffffffffffffffffffffff';
const clean = (h: string): string => h.replace(/\s+/g, '');

type Update = Parameters<typeof applyUpdate>[1];
type Form = 'string' | 'packed';
/** The form the UPDATEs of the running test are decoded in. */
let form: Form = 'string';

/** Each test, once per form (tap runs these one after the other). */
function both(name: string, fn: (t: Test) => Promise<void>): void {
  for (const f of ['string', 'packed'] as const) {
    t.test(`${name} (${f} form)`, async (t) => {
      form = f;
      await fn(t);
    });
  }
}

/** An UPDATE from hex (header length filled in), in the running test's form. */
function update(body: string, ctx?: CodecContext): Update {
  const b = clean(body);
  const len = 19 + b.length / 2;
  const bytes = Buffer.from(`${M}${len.toString(16).padStart(4, '0')}02${b}`, 'hex');
  if (form === 'packed') return decodeUpdatePacked(bytes, 0, bytes.length, ctx);
  const m = decodeMessage(bytes, ctx);
  if (m.type !== 'UPDATE') throw new Error('not an UPDATE');
  return m;
}
// ORIGIN IGP, AS_PATH [64497], NEXT_HOP 192.0.2.10.
const ATTRS = '40010100 40020602010000fbf1 400304c000020a';
const announce = (nlri: string, attrs = ATTRS): Update =>
  update(`0000 ${(clean(attrs).length / 2).toString(16).padStart(4, '0')} ${attrs} ${nlri}`);
const withdraw = (prefixes: string): Update =>
  update(`${(clean(prefixes).length / 2).toString(16).padStart(4, '0')} ${prefixes} 0000`);
const P1 = '20c0000201'; // 192.0.2.1/32
const P2 = '20c0000202';
const P3 = '20c0000203';
const eorV4 = (): Update => update('0000 0000');

both('announce, withdraw, attributes shared', async (t) => {
  const rib = newAdjRibIn();
  const r = applyUpdate(rib, announce(`${P1} ${P2} 18cb0071`));
  t.same([r.announced, r.withdrawn, r.treatAsWithdraw], [3, 0, false]);
  t.same(receivedRoute(rib, '203.0.113.0/24')?.attributes, {
    origin: 'igp',
    asPath: [{ type: 'AS_SEQUENCE', asns: [64497] }],
    nextHop: '192.0.2.10',
  });
  t.equal(rib.table.ids.size, 1, 'one attribute set for three routes');
  t.same(applyUpdate(rib, withdraw(`${P2} ${P3}`)).withdrawn, 1, 'unknown prefix withdrawn: no-op');
  t.same(
    [...adjRibInEntries(rib)].map((e) => e.prefix),
    ['192.0.2.1/32', '203.0.113.0/24'],
  );
  // Re-announce with MED 7: replaces the route; the old set goes once unused.
  applyUpdate(rib, announce(`${P1} 18cb0071`, `${ATTRS} 80040400000007`));
  t.equal(receivedRoute(rib, '192.0.2.1/32')?.attributes.med, 7);
  t.equal(rib.table.ids.size, 1);
  t.same(adjRibInCounts(rib), {
    'ipv4-unicast': { routes: 2, stale: 0, asLoop: 0 },
    'ipv6-unicast': { routes: 0, stale: 0, asLoop: 0 },
  });
});

both('IPv6 through MP_REACH/MP_UNREACH, ADD-PATH path ids', async (t) => {
  const rib = newAdjRibIn();
  // MP_REACH_NLRI AFI 2 SAFI 1, next hop 2001:db8::a, 2001:db8::1/128; ORIGIN; AS_PATH.
  const reach = update(
    `0000 0036 800e26 0002 01 10 20010db800000000000000000000000a 00 80 20010db8000000000000000000000001 40010100 40020602010000fbf1`,
  );
  t.equal(applyUpdate(rib, reach).announced, 1);
  const e = receivedRoute(rib, '2001:db8::1/128');
  t.same([e?.family, e?.attributes.mpReach], ['ipv6-unicast', { afi: 2, safi: 1, nextHops: ['2001:db8::a'] }]);
  const unreach = update('0000 0017 800f14 0002 01 80 20010db8000000000000000000000001');
  t.equal(applyUpdate(rib, unreach).withdrawn, 1);
  t.equal(rib.routes['ipv6-unicast'].size, 0);

  const ctx: CodecContext = { addPath: ['ipv4-unicast'] };
  const ap = newAdjRibIn();
  applyUpdate(ap, update(`0000 0014 ${ATTRS} 00000001 ${P1} 00000002 ${P1}`, ctx));
  t.same(
    [...adjRibInEntries(ap)].map((x) => [x.prefix, x.pathId]),
    [
      ['192.0.2.1/32', 1],
      ['192.0.2.1/32', 2],
    ],
  );
  applyUpdate(ap, update(`0009 00000002 ${P1} 0000`, ctx));
  t.same(
    [...adjRibInEntries(ap)].map((x) => x.pathId),
    [1],
  );
});

both('RFC 7606 treat-as-withdraw', async (t) => {
  const rib = newAdjRibIn();
  applyUpdate(rib, announce(`${P1} ${P2}`));
  // ORIGIN with the undefined value 3: the UPDATE's prefixes are withdrawn (RFC 7606 7.1).
  const bad = announce(P1, '40010103 40020602010000fbf1 400304c000020a');
  t.ok(
    bad.errors?.some((x) => x.action === 'treat-as-withdraw'),
    'the codec marks it',
  );
  const r = applyUpdate(rib, bad);
  t.same([r.treatAsWithdraw, r.announced, r.withdrawn], [true, 0, 1]);
  t.same(
    [...adjRibInEntries(rib)].map((e) => e.prefix),
    ['192.0.2.2/32'],
  );
});

both('graceful restart: mark stale, refresh on re-announce, sweep on End-of-RIB or timer', async (t) => {
  const rib = newAdjRibIn();
  applyUpdate(rib, announce(`${P1} ${P2} ${P3}`));
  t.equal(applyUpdate(rib, eorV4()).endOfRib, 'ipv4-unicast');
  t.equal(rib.endOfRib['ipv4-unicast'], true);
  t.equal(markStale(rib), 3);
  t.same(adjRibInCounts(rib)['ipv4-unicast'], { routes: 3, stale: 3, asLoop: 0 });
  t.equal(rib.endOfRib['ipv4-unicast'], false);
  applyUpdate(rib, announce(P2));
  t.same(
    [...adjRibInEntries(rib)].map((e) => [e.prefix, e.stale]),
    [
      ['192.0.2.1/32', true],
      ['192.0.2.2/32', false],
      ['192.0.2.3/32', true],
    ],
  );
  const eor = applyUpdate(rib, eorV4());
  t.same([eor.endOfRib, eor.swept], ['ipv4-unicast', 2]);
  t.same(
    [...adjRibInEntries(rib)].map((e) => [e.prefix, e.stale]),
    [['192.0.2.2/32', false]],
  );
  markStale(rib);
  t.equal(sweepStale(rib, 'ipv4-unicast'), 1, "the caller's stale timer");
  t.equal(rib.routes['ipv4-unicast'].size, 0);
  t.equal(rib.table.ids.size, 0, 'attribute sets released');
});

both('maximum prefixes: teardown with Cease 1 and AFI/SAFI/limit data (RFC 4486)', async (t) => {
  const rib = newAdjRibIn({ maxPrefix: { 'ipv4-unicast': { limit: 2, action: 'teardown' } } });
  t.equal(applyUpdate(rib, announce(`${P1} ${P2}`)).teardown, undefined, 'at the limit is fine');
  const r = applyUpdate(rib, announce(P3));
  t.same(r.teardown, {
    family: 'ipv4-unicast',
    count: 3,
    limit: 2,
    notification: { type: 'NOTIFICATION', code: 6, subcode: 1, data: '00010100000002' },
  });
  t.throws(() => newAdjRibIn({ maxPrefix: { 'ipv4-unicast': { limit: -1, action: 'warn' } } }), RangeError);
});

both('maximum prefixes: warn once, again after coming back under', async (t) => {
  const rib = newAdjRibIn({ maxPrefix: { 'ipv4-unicast': { limit: 1, action: 'warn' } } });
  t.same(applyUpdate(rib, announce(`${P1} ${P2}`)).warning, { family: 'ipv4-unicast', count: 2, limit: 1 });
  const again = applyUpdate(rib, announce(P3));
  t.same(
    [again.warning, again.teardown, again.announced],
    [undefined, undefined, 1],
    'warned already; routes still accepted',
  );
  applyUpdate(rib, withdraw(`${P2} ${P3}`));
  t.same(applyUpdate(rib, announce(P2)).warning, { family: 'ipv4-unicast', count: 2, limit: 1 });
});
