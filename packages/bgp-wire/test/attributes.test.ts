import t from 'tap';
import { ATTR, ATTRIBUTE_NAMES, canonicalRank, decodeAttributes, standardFlags } from '../src/attributes.js';
import { writeAttributes } from '../src/attributes-encode.js';
import { newWriter } from '../src/update-writer.js';
import { BgpWireError } from '../src/errors.js';
import type { CodecContext, PathAttributes } from '../src/types.js';

const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');

function decode(h: string, ctx?: CodecContext): ReturnType<typeof decodeAttributes> {
  const buf = bytes(h);
  return decodeAttributes(buf, 0, buf.length, 0, ctx);
}

function encode(attrs: PathAttributes, ctx?: CodecContext): string {
  const w = newWriter(16);
  const end = writeAttributes(w, 0, attrs, undefined, ctx);
  return hex(w.buf.subarray(0, end));
}

// One vector per attribute, written from the layouts in the RFCs: [name, wire, decoded, ctx].
const vectors: [string, string, PathAttributes, CodecContext?][] = [
  ['ORIGIN IGP (RFC 4271 5.1.1)', '40 01 01 00', { origin: 'igp' }],
  ['ORIGIN EGP', '40 01 01 01', { origin: 'egp' }],
  ['ORIGIN INCOMPLETE', '40 01 01 02', { origin: 'incomplete' }],
  ['AS_PATH empty (iBGP)', '40 02 00', { asPath: [] }],
  [
    'AS_PATH, 4-octet AS numbers: AS_SEQUENCE 64496 65536, AS_SET 64497 64498',
    '40 02 14 02 02 0000fbf0 00010000 01 02 0000fbf1 0000fbf2',
    {
      asPath: [
        { type: 'AS_SEQUENCE', asns: [64496, 65536] },
        { type: 'AS_SET', asns: [64497, 64498] },
      ],
    },
  ],
  [
    'AS_PATH, 2-octet AS numbers with confederation segments (RFC 5065)',
    '40 02 0e 03 01 fde8 04 02 fde9 fdea 02 01 fbf0',
    {
      asPath: [
        { type: 'AS_CONFED_SEQUENCE', asns: [65000] },
        { type: 'AS_CONFED_SET', asns: [65001, 65002] },
        { type: 'AS_SEQUENCE', asns: [64496] },
      ],
    },
    { fourOctetAs: false },
  ],
  ['NEXT_HOP 192.0.2.1', '40 03 04 c0000201', { nextHop: '192.0.2.1' }],
  ['MULTI_EXIT_DISC 4294967295', '80 04 04 ffffffff', { med: 4294967295 }],
  ['LOCAL_PREF 200', '40 05 04 000000c8', { localPref: 200 }],
  ['ATOMIC_AGGREGATE', '40 06 00', { atomicAggregate: true }],
  ['AGGREGATOR, 4-octet AS', 'c0 07 08 00010001 c0000202', { aggregator: { asn: 65537, address: '192.0.2.2' } }],
  [
    'AGGREGATOR, 2-octet AS',
    'c0 07 06 fbf0 c6336401',
    { aggregator: { asn: 64496, address: '198.51.100.1' } },
    { fourOctetAs: false },
  ],
  [
    'COMMUNITIES (RFC 1997)',
    'c0 08 0c fbf00064 ffffff01 ffff0000',
    { communities: ['64496:100', '65535:65281', '65535:0'] },
  ],
  ['ORIGINATOR_ID (RFC 4456)', '80 09 04 c0000203', { originatorId: '192.0.2.3' }],
  ['CLUSTER_LIST (RFC 4456)', '80 0a 08 c0000204 c0000205', { clusterList: ['192.0.2.4', '192.0.2.5'] }],
  [
    'MP_REACH_NLRI IPv6, global and link-local next hops (RFC 2545)',
    '80 0e 35 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00 30 20010db80001 40 20010db800020000',
    {
      mpReach: {
        afi: 2,
        safi: 1,
        nextHops: ['2001:db8::1', 'fe80::1'],
        nlri: [{ prefix: '2001:db8:1::/48' }, { prefix: '2001:db8:2::/64' }],
      },
    },
  ],
  [
    'MP_REACH_NLRI IPv4 NLRI with an IPv6 next hop (RFC 8950)',
    '80 0e 19 0001 01 10 20010db8000000000000000000000001 00 18 cb0071',
    { mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '203.0.113.0/24' }] } },
  ],
  [
    'MP_REACH_NLRI IPv4 NLRI with an IPv4 next hop',
    '80 0e 0d 0001 01 04 c0000201 00 18 cb0071',
    { mpReach: { afi: 1, safi: 1, nextHops: ['192.0.2.1'], nlri: [{ prefix: '203.0.113.0/24' }] } },
  ],
  [
    'MP_REACH_NLRI of a family kept raw (VPNv4, SAFI 128)',
    '80 0e 12 0001 80 0c 0000000000000000c0000201 00 00',
    { mpReach: { afi: 1, safi: 128, nextHopHex: '0000000000000000c0000201', nlriHex: '00' } },
  ],
  [
    'MP_UNREACH_NLRI IPv6',
    '80 0f 0a 0002 01 30 20010db80002',
    { mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] } },
  ],
  ['MP_UNREACH_NLRI raw', '80 0f 05 0019 46 abcd', { mpUnreach: { afi: 25, safi: 70, withdrawnHex: 'abcd' } }],
  [
    'EXTENDED_COMMUNITIES: route targets of the three kinds, a route origin and an opaque one (RFC 4360, 5668)',
    'c0 10 28 0002fbf000000064 0102c000020a0007 0202000100000005 0003fbf000000001 4300000000000001',
    {
      extendedCommunities: [
        { type: 0x00, subtype: 0x02, name: 'route-target', asn: 64496, value: 100, hex: '0002fbf000000064' },
        { type: 0x01, subtype: 0x02, name: 'route-target', address: '192.0.2.10', value: 7, hex: '0102c000020a0007' },
        { type: 0x02, subtype: 0x02, name: 'route-target', asn: 65536, value: 5, hex: '0202000100000005' },
        { type: 0x00, subtype: 0x03, name: 'route-origin', asn: 64496, value: 1, hex: '0003fbf000000001' },
        { type: 0x43, subtype: 0x00, hex: '4300000000000001' },
      ],
    },
  ],
  // AS4_PATH and AS4_AGGREGATOR only come from a 2-octet AS speaker (RFC 6793 4.1).
  [
    'AS4_PATH (RFC 6793)',
    'c0 11 0a 02 02 00010000 0000fbf0',
    { as4Path: [{ type: 'AS_SEQUENCE', asns: [65536, 64496] }] },
    { fourOctetAs: false },
  ],
  [
    'AS4_AGGREGATOR (RFC 6793)',
    'c0 12 08 00010000 c0000209',
    { as4Aggregator: { asn: 65536, address: '192.0.2.9' } },
    { fourOctetAs: false },
  ],
  [
    'LARGE_COMMUNITY (RFC 8092)',
    'c0 20 18 0000fbf0 00000001 00000002 00010000 ffffffff 00000000',
    { largeCommunities: ['64496:1:2', '65536:4294967295:0'] },
  ],
  [
    'an unknown optional transitive attribute, partial bit kept',
    'e0 f1 03 010203',
    { unknown: [{ code: 241, flags: 0xe0, hex: '010203' }] },
  ],
  [
    'an unknown optional attribute with extended length',
    'd0 f2 0000',
    { unknown: [{ code: 242, flags: 0xd0, hex: '' }] },
  ],
];

t.test('each attribute decodes from, and encodes to, its RFC layout', async (t) => {
  for (const [name, wire, attrs, ctx] of vectors) {
    const d = decode(wire, ctx);
    t.strictSame(d.attributes, attrs, `${name}: decode`);
    t.strictSame(d.errors, [], `${name}: no errors`);
    t.equal(encode(attrs, ctx), wire.replace(/\s+/g, ''), `${name}: encode`);
  }
});

t.test('all of them together, in canonical order', async (t) => {
  const attrs: PathAttributes = {};
  let wire = '';
  // 4-octet AS: no AS4_PATH (17) or AS4_AGGREGATOR (18).
  const order = [14, 15, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 16, 32, 241];
  const byCode = new Map<number, [string, PathAttributes]>();
  for (const [, w, a, ctx] of vectors) {
    if (ctx !== undefined) continue;
    const code = bytes(w)[1]!;
    if (!byCode.has(code)) byCode.set(code, [w.replace(/\s+/g, ''), a]);
  }
  for (const code of order) {
    const [w, a] = byCode.get(code)!;
    wire += w;
    Object.assign(attrs, a);
  }
  t.equal(encode(attrs), wire);
  const d = decode(wire);
  t.strictSame(d.attributes, attrs);
  t.ok(d.canonicalOrder);
  t.equal(d.flags, undefined);
  t.strictSame(d.order, order);
});

t.test('flags: standard values, and what is recorded', async (t) => {
  t.equal(standardFlags(ATTR.ORIGIN), 0x40);
  t.equal(standardFlags(ATTR.MULTI_EXIT_DISC), 0x80);
  t.equal(standardFlags(ATTR.COMMUNITIES), 0xc0);
  t.equal(standardFlags(ATTR.MP_REACH_NLRI), 0x80);
  t.equal(standardFlags(99), undefined);
  t.equal(ATTRIBUTE_NAMES[32], 'LARGE_COMMUNITY');
  t.ok(
    canonicalRank(14) < canonicalRank(15) &&
      canonicalRank(15) < canonicalRank(1) &&
      canonicalRank(1) < canonicalRank(0xff),
  );
  // Extended length on a value over 255 bytes is canonical; on a short one it is recorded.
  const long = 'd0 08 0104 ' + 'fbf00001'.repeat(65);
  t.equal(decode(long).flags, undefined);
  t.strictSame(decode('50 01 0001 00').flags, { 1: 0x50 });
  t.strictSame(decode('c0 08 04 fbf00001 e0 20 0c 0000fbf0 00000001 00000002').flags, { 32: 0xe0 });
  // A decoded message's order is kept by the encoder when a layout is given.
  const w = newWriter();
  const end = writeAttributes(
    w,
    0,
    { nextHop: '192.0.2.1', origin: 'igp', unknown: [{ code: 5, flags: 0x40, hex: '' }] },
    { order: [3, 1], flags: { 1: 0x50 } },
  );
  t.equal(
    hex(w.buf.subarray(0, end)),
    '400304c0000201' + '5001000100' + '400500',
    'layout first, then canonical; unknown written as given',
  );
});

t.test('unknown attributes sort in between known ones by code', async (t) => {
  const out = encode({
    origin: 'igp',
    communities: ['64496:1'],
    unknown: [
      { code: 35, flags: 0xc0, hex: '0000fbf0' },
      { code: 11, flags: 0x80, hex: '' },
    ],
  });
  t.equal(out, '40010100' + 'c00804fbf00001' + '800b00' + 'c0230 4 0000fbf0'.replace(/\s/g, ''));
});

t.test(
  'AS4_PATH and AS4_AGGREGATOR: kept from a 2-octet AS speaker, discarded between 4-octet ones (RFC 6793 4.1)',
  async (t) => {
    const wire = 'c0 11 0a 02 02 00010000 0000fbf0 c0 12 08 00010000 c0000209';
    const two = decode(wire, { fourOctetAs: false });
    t.strictSame(two.attributes, {
      as4Path: [{ type: 'AS_SEQUENCE', asns: [65536, 64496] }],
      as4Aggregator: { asn: 65536, address: '192.0.2.9' },
    });
    t.strictSame(two.errors, []);
    for (const ctx of [undefined, { fourOctetAs: true }]) {
      const four = decode(wire, ctx);
      t.strictSame(four.attributes, {}, `fourOctetAs ${String(ctx?.fourOctetAs)}: both left out`);
      t.match(four.errors, [
        {
          action: 'attribute-discard',
          code: 3,
          subcode: 0,
          attribute: 17,
          offset: 0,
          data: 'c0110a0202000100000000fbf0',
        },
        { action: 'attribute-discard', code: 3, subcode: 0, attribute: 18, offset: 13, data: 'c0120800010000c0000209' },
      ]);
      t.strictSame(four.order, [17, 18], 'still in the order, so a layout keeps their place');
    }
    // Discarded whatever their shape: a malformed one is not reported as malformed.
    t.match(decode('c0 11 03 02 01 00').errors, [{ action: 'attribute-discard', subcode: 0, attribute: 17 }]);
  },
);

t.test('decode errors are plain data; fatal ones throw BgpWireError', async (t) => {
  const d = decode('40 01 01 07 40 01 01 00');
  t.equal(d.attributes.origin, undefined, 'a malformed first ORIGIN is not replaced by a duplicate');
  t.match(d.errors, [
    { action: 'treat-as-withdraw', subcode: 6, offset: 0, data: '40010107' },
    { action: 'attribute-discard', subcode: 1, offset: 4, data: '40010100' },
  ]);
  t.throws(() => decode('40 f0 00'), BgpWireError, 'unrecognized well-known attribute');
  t.throws(() => decode('80 0e 01 00'), BgpWireError, 'MP_REACH_NLRI without AFI/SAFI');
});
