import t from 'tap';
import { packUpdates } from '../src/pack.js';
import { decodeUpdate, encodeUpdate } from '../src/update.js';
import type { CodecContext, Nlri, PathAttributes, UpdateMessage } from '../src/types.js';

const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const decode = (b: Uint8Array, ctx?: CodecContext): UpdateMessage => decodeUpdate(b, 0, b.length, ctx);

// ORIGIN (4 bytes) + AS_PATH with one 4-octet AS (9) + NEXT_HOP (7): a 20-byte attribute block.
const ATTRS: PathAttributes = { origin: 'igp', asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }], nextHop: '192.0.2.1' };
const BLOCK = '40010100' + '40020602010000fbf0' + '400304c0000201';

function hosts(n: number): Nlri[] {
  const out: Nlri[] = new Array(n);
  for (let i = 0; i < n; i++) out[i] = { prefix: `${10 + (i >>> 16)}.${(i >>> 8) & 255}.${i & 255}.1/32` };
  return out;
}

t.test('1,000,000 IPv4 /32s', async (t) => {
  const nlri = hosts(1_000_000);
  const msgs = packUpdates({ attributes: ATTRS, nlri });
  // Each message: 19 header + 2 + 2 + 20 attributes = 43 bytes, then 5 bytes per /32: 810 fit in 4096.
  t.equal(msgs.length, Math.ceil(1_000_000 / 810), '1235 messages');
  t.ok(
    msgs.every((m) => m.length <= 4096),
    'none over 4096 bytes',
  );
  t.equal(msgs[0]!.length, 43 + 810 * 5);
  t.equal(
    hex(msgs[0]!.subarray(0, 43)),
    'ff'.repeat(16) + '0ffd' + '02' + '0000' + '0014' + BLOCK,
    'header and attribute block',
  );
  t.equal(hex(msgs[0]!.subarray(43, 53)), '200a000001' + '200a000101', 'the first prefixes as written');
  let i = 0;
  let mismatches = 0;
  for (const m of msgs) {
    const u = decode(m);
    if (u.errors !== undefined || u.withdrawn.length !== 0 || u.attributes.nextHop !== '192.0.2.1') mismatches++;
    for (const p of u.nlri) if (p.prefix !== nlri[i++]!.prefix) mismatches++;
  }
  t.equal(i, 1_000_000, 'every prefix decoded back');
  t.equal(mismatches, 0, 'in order, with the attributes');
  const big = packUpdates({ attributes: ATTRS, nlri }, { maxMessageLength: 65535 });
  t.equal(big.length, Math.ceil(1_000_000 / Math.floor((65535 - 43) / 5)), 'extended messages: 77');
  t.ok(big.every((m) => m.length <= 65535));
});

t.test('a small set fits in one message equal to encodeUpdate', async (t) => {
  const nlri = [{ prefix: '203.0.113.0/24' }, { prefix: '198.51.100.128/25' }];
  const msgs = packUpdates({ attributes: { ...ATTRS, communities: ['64496:1'] }, nlri });
  t.equal(msgs.length, 1);
  t.equal(
    hex(msgs[0]!),
    hex(encodeUpdate({ type: 'UPDATE', withdrawn: [], attributes: { ...ATTRS, communities: ['64496:1'] }, nlri })),
  );
  t.strictSame(packUpdates({ attributes: ATTRS }), [], 'nothing to send');
});

t.test('IPv6 in MP_REACH_NLRI: first attribute, repeated, without NEXT_HOP', async (t) => {
  const nlri = Array.from({ length: 916 }, (_, i) => ({ prefix: `2001:db8:1:${(i + 1).toString(16)}::/64` }));
  const mpReach = { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri };
  const msgs = packUpdates({ attributes: { ...ATTRS, mpReach } });
  // 23 + MP_REACH header 4 + AFI/SAFI/next hop/reserved 21 + ORIGIN and AS_PATH 13 = 61; 9 bytes per /64: 448 a message.
  t.strictSame(
    msgs.map((m) => m.length),
    [61 + 448 * 9, 61 + 448 * 9, 60 + 20 * 9],
  );
  const head = hex(msgs[0]!.subarray(19, 27 + 21));
  t.equal(
    head,
    '0000' +
      (4096 - 23 - 3).toString(16).padStart(4, '0') +
      '900e' +
      (21 + 448 * 9).toString(16).padStart(4, '0') +
      '000201' +
      '10' +
      '20010db8000000000000000000000001' +
      '00',
  );
  const last = msgs[2]!;
  t.equal(
    hex(last.subarray(23, 26)),
    '800e' + (21 + 180).toString(16),
    'a short last MP_REACH_NLRI has a one-byte length',
  );
  const back: string[] = [];
  for (const m of msgs) {
    const u = decode(m);
    t.equal(u.errors, undefined);
    t.equal(u.attributes.nextHop, undefined, 'no NEXT_HOP');
    t.equal(u.layout, undefined, 'canonical layout');
    t.strictSame(u.attributes.asPath, ATTRS.asPath);
    back.push(...u.attributes.mpReach!.nlri!.map((n) => n.prefix));
  }
  t.strictSame(
    back,
    nlri.map((n) => n.prefix),
  );
});

t.test('withdrawals: IPv4 withdrawn routes and MP_UNREACH_NLRI, each in their own messages', async (t) => {
  const withdrawn = Array.from({ length: 3000 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24` }));
  const v6 = Array.from({ length: 600 }, (_, i) => ({ prefix: `2001:db8:${(i + 1).toString(16)}::/48` }));
  const msgs = packUpdates({ attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: v6 } }, withdrawn });
  // MP_UNREACH: 23 + 4 + 3 = 30 fixed, 7 bytes per /48: 580 a message. IPv4: 4073 / 4 = 1018 a message.
  t.strictSame(
    msgs.map((m) => m.length),
    [30 + 580 * 7, 29 + 20 * 7, 23 + 1018 * 4, 23 + 1018 * 4, 23 + 964 * 4],
  );
  const got4: string[] = [];
  const got6: string[] = [];
  for (const m of msgs) {
    const u = decode(m);
    t.equal(u.errors, undefined);
    t.strictSame(u.nlri, []);
    got4.push(...u.withdrawn.map((n) => n.prefix));
    got6.push(...(u.attributes.mpUnreach?.withdrawn ?? []).map((n) => n.prefix));
    t.ok(u.withdrawn.length === 0 || u.attributes.mpUnreach === undefined, 'one kind per message (RFC 7606 5.1)');
  }
  t.strictSame(
    got4,
    withdrawn.map((n) => n.prefix),
  );
  t.strictSame(
    got6,
    v6.map((n) => n.prefix),
  );
});

t.test('message order: MP withdrawals, IPv4 withdrawals, MP announcements, IPv4 announcements', async (t) => {
  const msgs = packUpdates({
    attributes: {
      ...ATTRS,
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:1::/48' }] },
      mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] },
    },
    withdrawn: [{ prefix: '198.51.100.0/24' }],
    nlri: [{ prefix: '203.0.113.0/24' }],
  });
  const kinds = msgs.map((m) => {
    const u = decode(m);
    return [
      u.attributes.mpUnreach ? 'mp-unreach' : '',
      u.withdrawn.length ? 'withdrawn' : '',
      u.attributes.mpReach ? 'mp-reach' : '',
      u.nlri.length ? 'nlri' : '',
    ].join('');
  });
  t.strictSame(kinds, ['mp-unreach', 'withdrawn', 'mp-reach', 'nlri']);
  t.strictSame(decode(msgs[2]!).attributes.mpReach?.nextHops, ['2001:db8::1', 'fe80::1']);
});

t.test('ADD-PATH: path identifiers written for the families that have it', async (t) => {
  const ctx: CodecContext = { addPath: ['ipv4-unicast'] };
  const nlri = [
    { prefix: '203.0.113.0/24', pathId: 1 },
    { prefix: '203.0.113.0/24', pathId: 2 },
    { prefix: '203.0.113.0/24' },
  ];
  const [msg] = packUpdates({ attributes: ATTRS, nlri }, ctx);
  t.equal(
    hex(msg!.subarray(43)),
    '00000001 18cb0071 00000002 18cb0071 00000000 18cb0071'.replace(/\s/g, ''),
    'missing pathId is 0',
  );
  t.strictSame(decode(msg!, ctx).nlri, [...nlri.slice(0, 2), { prefix: '203.0.113.0/24', pathId: 0 }]);
  const [plain] = packUpdates({ attributes: ATTRS, nlri });
  t.equal(hex(plain!.subarray(43)), '18cb0071'.repeat(3), 'no path identifiers without ADD-PATH');
  const many = packUpdates({ attributes: ATTRS, nlri: hosts(1000).map((n, i) => ({ ...n, pathId: i })) }, ctx);
  t.strictSame(
    many.map((m) => m.length),
    [43 + 450 * 9, 43 + 450 * 9, 43 + 100 * 9],
    '9 bytes per /32 with a path identifier',
  );
});

t.test('bad input', async (t) => {
  t.throws(
    () => packUpdates({ attributes: { origin: 'igp', asPath: [] }, nlri: [{ prefix: '203.0.113.0/24' }] }),
    TypeError,
    'NLRI needs NEXT_HOP',
  );
  t.throws(
    () => packUpdates({ attributes: { nextHop: '192.0.2.1' }, nlri: [{ prefix: '203.0.113.0/24' }] }),
    TypeError,
    'needs ORIGIN and AS_PATH',
  );
  t.throws(
    () => packUpdates({ attributes: ATTRS, nlri: [{ prefix: '203.0.113.0/24' }, { prefix: 'nonsense' }] }),
    TypeError,
  );
  const communities = Array.from({ length: 1100 }, (_, i) => `64496:${i}`);
  t.throws(
    () => packUpdates({ attributes: { ...ATTRS, communities }, nlri: [{ prefix: '203.0.113.0/24' }] }),
    RangeError,
    'attributes leave no room',
  );
  t.throws(
    () =>
      packUpdates({
        attributes: {
          ...ATTRS,
          mpReach: { afi: 1, safi: 128, nextHops: ['192.0.2.1'], nlri: [{ prefix: '203.0.113.0/24' }] },
        },
      }),
    TypeError,
  );
  const raw = packUpdates({
    attributes: { ...ATTRS, mpReach: { afi: 1, safi: 128, nextHopHex: '0000000000000000c0000201', nlriHex: '00' } },
  });
  t.equal(raw.length, 1, 'a raw family goes in one message as given');
  t.strictSame(decode(raw[0]!).attributes.mpReach, {
    afi: 1,
    safi: 128,
    nextHopHex: '0000000000000000c0000201',
    nlriHex: '00',
  });
});
