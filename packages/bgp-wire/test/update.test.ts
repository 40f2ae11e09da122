import t from 'tap';
import { encodeUpdate, endOfRib } from '../src/update.js';
import { BgpWireError } from '../src/errors.js';
import type { CodecContext, UpdateMessage } from '../src/types.js';

import {
  MARKER,
  hex,
  bytes,
  u16,
  wireError as thrown,
  updateBytes as update,
  ORIGIN,
  AS_PATH,
  NEXT_HOP,
  BASE,
  NLRI,
} from './helpers/wire.js';
import { decodeBothForms } from './helpers/both-forms.js';
import { decodeUpdatePacked, updateView } from '../src/packed-update.js';

const decode = (buf: Uint8Array, ctx?: CodecContext): UpdateMessage => decodeBothForms(buf, 0, buf.length, ctx);

t.test('a complete UPDATE written out by hand', async (t) => {
  const wire = bytes(
    MARKER +
      '004a 02' + // length 74, UPDATE
      '0000' + // no withdrawn routes
      '002a' + // 42 bytes of attributes
      '40010100' + // ORIGIN IGP
      '40020a 02 02 0000fbf0 00010000' + // AS_PATH AS_SEQUENCE 64496 65536
      '400304 c0000201' + // NEXT_HOP 192.0.2.1
      '800404 00000064' + // MULTI_EXIT_DISC 100
      'c00808 fbf00064 ffffff01' + // COMMUNITIES 64496:100 65535:65281 (NO_EXPORT)
      '18 cb0071' + // 203.0.113.0/24
      '19 c6336480', // 198.51.100.128/25
  );
  const msg = decode(wire);
  t.strictSame(msg, {
    type: 'UPDATE',
    length: 74,
    withdrawn: [],
    attributes: {
      origin: 'igp',
      asPath: [{ type: 'AS_SEQUENCE', asns: [64496, 65536] }],
      nextHop: '192.0.2.1',
      med: 100,
      communities: ['64496:100', '65535:65281'],
    },
    nlri: [{ prefix: '203.0.113.0/24' }, { prefix: '198.51.100.128/25' }],
  });
  t.equal(hex(encodeUpdate(msg)), hex(wire), 'canonical encode gives the same bytes');
  const sub = new Uint8Array(wire.length + 10);
  sub.set(wire, 7);
  t.strictSame(decodeBothForms(sub, 7, 7 + wire.length), msg, 'decodes at an offset inside a larger buffer');
});

t.test('withdrawn routes, and offsets relative to msgStart', async (t) => {
  const wire = update('18c63364 20c0000207', '', '');
  const msg = decode(wire);
  t.strictSame(msg.withdrawn, [{ prefix: '198.51.100.0/24' }, { prefix: '192.0.2.7/32' }]);
  t.equal(msg.endOfRib, undefined, 'withdrawals are not End-of-RIB');
  t.equal(hex(encodeUpdate(msg)), hex(wire));
  const bad = update('21c0000207', '', ''); // /33
  const buf = new Uint8Array(bad.length + 5);
  buf.set(bad, 5);
  const err = thrown(() => decodeBothForms(buf, 5, buf.length));
  t.match(err, { code: 3, subcode: 10, action: 'session-reset', offset: 21 });
});

t.test('End-of-RIB in both forms', async (t) => {
  t.equal(hex(endOfRib(1, 1)), `${MARKER}0017020000 0000`.replace(/\s/g, ''));
  t.equal(hex(endOfRib(2, 1)), `${MARKER}001d02 0000 0006 800f03 0002 01`.replace(/\s/g, ''));
  t.equal(hex(endOfRib(1, 128)), `${MARKER}001d02 0000 0006 800f03 0001 80`.replace(/\s/g, ''));
  t.strictSame(decode(endOfRib(1, 1)).endOfRib, { afi: 1, safi: 1 });
  const v6 = decode(endOfRib(2, 1));
  t.strictSame(v6.endOfRib, { afi: 2, safi: 1 });
  t.strictSame(v6.attributes, { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } });
  t.strictSame(decode(endOfRib(1, 128)).endOfRib, { afi: 1, safi: 128 }, 'a family kept raw');
  t.equal(hex(encodeUpdate(v6)), hex(endOfRib(2, 1)));
  t.equal(
    hex(encodeUpdate({ type: 'UPDATE', withdrawn: [], attributes: {}, nlri: [], endOfRib: { afi: 2, safi: 1 } })),
    hex(endOfRib(2, 1)),
  );
  // An MP_UNREACH with something in it, or next to another attribute, is no End-of-RIB.
  t.equal(decode(update('', '800f0a 000201 30 20010db80001', '')).endOfRib, undefined);
  t.equal(decode(update('', '800f03 000201 40010100', '')).endOfRib, undefined);
  t.throws(() => endOfRib(70000, 1), RangeError);
});

t.test('ADD-PATH path identifiers in withdrawn routes, NLRI and MP_REACH_NLRI', async (t) => {
  const ctx: CodecContext = { addPath: ['ipv4-unicast', 'ipv6-unicast'] };
  const wire = update(
    '00000007 18c63364',
    BASE + '800e20 0002 01 10 20010db8000000000000000000000009 00 00000002 30 20010db80005',
    '00000001 18cb0071 00000002 18cb0071',
  );
  const msg = decode(wire, ctx);
  t.strictSame(msg.withdrawn, [{ prefix: '198.51.100.0/24', pathId: 7 }]);
  t.strictSame(msg.nlri, [
    { prefix: '203.0.113.0/24', pathId: 1 },
    { prefix: '203.0.113.0/24', pathId: 2 },
  ]);
  t.strictSame(msg.attributes.mpReach, {
    afi: 2,
    safi: 1,
    nextHops: ['2001:db8::9'],
    nlri: [{ prefix: '2001:db8:5::/48', pathId: 2 }],
  });
  t.equal(hex(encodeUpdate(msg, ctx)), hex(wire));
  // Only IPv6 has ADD-PATH: the IPv4 fields are read without path identifiers and fail.
  t.throws(() => decode(wire, { addPath: ['ipv6-unicast'] }), BgpWireError);
});

t.test('byte-identical round trips of non-canonical layouts', async (t) => {
  const layouts: [string, string][] = [
    // MP_REACH_NLRI after ORIGIN/AS_PATH, in plain ascending order (RFC 4271's SHOULD).
    [
      'ascending with MP_REACH_NLRI in place',
      ORIGIN + AS_PATH + '800e1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001',
    ],
    // Extended-length bit on short attributes, and on MP_REACH_NLRI.
    [
      'extended length on short values',
      '5001000100' + '5002000602010000fbf0' + '900e001c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001',
    ],
    // Partial bit on COMMUNITIES, non-zero low flag bits on MED, an unknown attribute in the middle.
    [
      'partial and unused flag bits',
      ORIGIN + AS_PATH + NEXT_HOP + '870404 00000005' + 'e06302abcd' + 'e00804 fbf00001',
    ],
  ];
  for (const [name, attrs] of layouts) {
    const wire = update('', attrs, name.includes('MP_REACH') || name.includes('extended') ? '' : NLRI);
    const msg = decode(wire);
    t.equal(msg.errors, undefined, `${name}: no errors`);
    t.ok(msg.layout, `${name}: layout recorded`);
    t.equal(hex(encodeUpdate(msg)), hex(wire), `${name}: encode(decode(x)) === x`);
  }
  const ascending = decode(update('', layouts[0]![1], ''));
  t.strictSame(ascending.layout, { order: [1, 2, 14] });
  const extended = decode(update('', layouts[1]![1], ''));
  t.strictSame(extended.layout, { order: [1, 2, 14], flags: { 1: 0x50, 2: 0x50, 14: 0x90 } });
  const flagged = decode(update('', layouts[2]![1], NLRI));
  t.strictSame(flagged.layout, { order: [1, 2, 3, 4, 99, 8], flags: { 4: 0x87, 8: 0xe0 } });
  t.strictSame(flagged.attributes.unknown, [{ code: 99, flags: 0xe0, hex: 'abcd' }]);

  // MP_REACH_NLRI first is the canonical order (RFC 7606 5.1): no layout needed.
  const mpFirst = update(
    '',
    '800e1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001' + ORIGIN + AS_PATH,
    '',
  );
  const m = decode(mpFirst);
  t.equal(m.layout, undefined);
  t.equal(hex(encodeUpdate(m)), hex(mpFirst));
  // Without the layout the canonical form comes back.
  const { layout: _layout, ...plain } = ascending;
  t.equal(hex(encodeUpdate(plain)), hex(mpFirst));
});

t.test('canonical encoding: order, flags and extended length', async (t) => {
  const communities = Array.from({ length: 70 }, (_, i) => `64496:${i}`);
  const msg: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: {
      communities,
      med: 1,
      nextHop: '192.0.2.1',
      asPath: [],
      origin: 'egp',
      unknown: [{ code: 12, flags: 0xc0, hex: '' }],
    },
    nlri: [{ prefix: '0.0.0.0/0' }],
  };
  const out = encodeUpdate(msg);
  const attrs =
    '40010101' +
    '400200' +
    NEXT_HOP +
    '80040400000001' +
    'd0080118' +
    communities.map((_, i) => `fbf0${u16(i)}`).join('') +
    'c00c00';
  t.equal(hex(out), hex(update('', attrs, '00')));
});

t.test('updateView: the prefix strings are built when first read, then kept', async (t) => {
  const wire = update('', BASE, '18cb0071 20c0000201');
  const view = updateView(decodeUpdatePacked(wire, 0, wire.length));
  const before = Object.getOwnPropertyDescriptor(view, 'nlri');
  t.equal(typeof before?.get, 'function', 'an accessor until read');
  const nlri = view.nlri;
  t.strictSame(nlri, [{ prefix: '203.0.113.0/24' }, { prefix: '192.0.2.1/32' }]);
  t.equal(Object.getOwnPropertyDescriptor(view, 'nlri')?.value, nlri, 'then a plain value, built once');
  view.withdrawn = [{ prefix: '198.51.100.0/24' }];
  t.strictSame(view.withdrawn, [{ prefix: '198.51.100.0/24' }], 'settable like a plain message');
});

t.test('encode rejects what cannot be encoded', async (t) => {
  const base: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    attributes: { origin: 'igp', asPath: [], nextHop: '192.0.2.1' },
    nlri: [],
  };
  const many = Array.from({ length: 1100 }, (_, i) => ({ prefix: `10.${i >> 8}.${i & 255}.0/24` }));
  t.throws(() => encodeUpdate({ ...base, nlri: many }), RangeError, 'over 4096 bytes');
  t.equal(encodeUpdate({ ...base, nlri: many }, { maxMessageLength: 65535 }).length, 23 + 14 + 1100 * 4);
  t.throws(() => encodeUpdate({ ...base, nlri: [{ prefix: '203.0.113.0/33' }] }), TypeError);
  t.throws(() => encodeUpdate({ ...base, nlri: [{ prefix: '2001:db8::/32' }] }), TypeError);
  t.throws(() => encodeUpdate({ ...base, attributes: { nextHop: '2001:db8::1' } }), TypeError);
  t.throws(() => encodeUpdate({ ...base, attributes: { origin: 'bgp' as 'igp' } }), TypeError);
  t.throws(() => encodeUpdate({ ...base, attributes: { med: -1 } }), RangeError);
  t.throws(() => encodeUpdate({ ...base, attributes: { communities: ['65536:1'] } }), TypeError);
  t.throws(
    () =>
      encodeUpdate(
        { ...base, attributes: { asPath: [{ type: 'AS_SEQUENCE', asns: [65536] }] } },
        { fourOctetAs: false },
      ),
    RangeError,
  );
  t.throws(
    () => encodeUpdate({ ...base, attributes: { asPath: [{ type: 'AS_SEQ' as 'AS_SET', asns: [1] }] } }),
    TypeError,
  );
  t.throws(
    () => encodeUpdate({ ...base, attributes: { mpReach: { afi: 2, safi: 1, nextHops: ['192.0.2.1'], nlri: [] } } }),
    TypeError,
  );
  t.throws(
    () =>
      encodeUpdate({
        ...base,
        attributes: { mpReach: { afi: 1, safi: 128, nextHops: ['192.0.2.1'], nlri: [{ prefix: '203.0.113.0/24' }] } },
      }),
    TypeError,
  );
});

t.test(
  'bits past the prefix length are cleared and counted (RFC 4271 4.3: trailing bits are irrelevant)',
  async (t) => {
    // 11.13.0.0/13 announced, 11.8.0.0/13 withdrawn: the same route. 198.51.100.129/25 is 198.51.100.128/25.
    const v4 = decode(update('0d0b08', BASE, '0d0b0d 19c6336481 01ff 18cb0071'));
    t.strictSame(v4.withdrawn, [{ prefix: '11.8.0.0/13' }]);
    t.strictSame(v4.nlri, [
      { prefix: '11.8.0.0/13' },
      { prefix: '198.51.100.128/25' },
      { prefix: '128.0.0.0/1' },
      { prefix: '203.0.113.0/24' },
    ]);
    t.equal(v4.trailingBitsCleared, 3);
    t.equal(v4.errors, undefined, 'no error: nothing is wrong with the message');
    t.equal(
      hex(encodeUpdate(v4)),
      hex(update('0d0b08', BASE, '0d0b08 19c6336480 0180 18cb0071')),
      'encodes with the bits cleared',
    );

    // IPv6 in MP_REACH_NLRI (/47 with bit 48 set; /127 with bit 128 set) and MP_UNREACH_NLRI (/33 with bit 34 set).
    const reach =
      '800e2d 0002 01 10 20010db8000000000000000000000001 00 2f 20010db80001 7f 20010db8000000000000000000000003';
    const unreach = '800f09 0002 01 21 20010db8c0';
    const v6 = decode(update('', reach + unreach + ORIGIN + AS_PATH, ''));
    t.strictSame(v6.attributes.mpReach?.nlri, [{ prefix: '2001:db8::/47' }, { prefix: '2001:db8::2/127' }]);
    t.strictSame(v6.attributes.mpUnreach?.withdrawn, [{ prefix: '2001:db8:8000::/33' }]);
    t.equal(v6.trailingBitsCleared, 3);

    // ADD-PATH forms: path identifier kept, prefix cleared.
    const ctx: CodecContext = { addPath: ['ipv4-unicast', 'ipv6-unicast'] };
    const ap = decode(
      update(
        '00000007 0d0b0f',
        BASE + '800e20 0002 01 10 20010db8000000000000000000000001 00 00000002 2f 20010db80001',
        '00000005 0d0b0d',
      ),
      ctx,
    );
    t.strictSame(ap.withdrawn, [{ prefix: '11.8.0.0/13', pathId: 7 }]);
    t.strictSame(ap.nlri, [{ prefix: '11.8.0.0/13', pathId: 5 }]);
    t.strictSame(ap.attributes.mpReach?.nlri, [{ prefix: '2001:db8::/47', pathId: 2 }]);
    t.equal(ap.trailingBitsCleared, 3);

    // Clean prefixes: no count.
    const clean = decode(update('0d0b08', BASE, '0d0b08 19c6336480'));
    t.equal(clean.trailingBitsCleared, undefined);
    t.notOk('trailingBitsCleared' in clean);
  },
);
