// RFC 7606 error handling of UPDATE messages, and robustness against truncated and damaged input.
import t from 'tap';
import { isDeepStrictEqual } from 'node:util';
import { encodeUpdate, isTreatAsWithdraw } from '../src/update.js';
import { BgpWireError } from '../src/errors.js';
import type { CodecContext, UpdateError, UpdateMessage } from '../src/types.js';

import {
  MARKER,
  hex,
  bytes,
  thrown as caught,
  wireError as thrown,
  updateBytes as update,
  ORIGIN,
  AS_PATH,
  NEXT_HOP,
  BASE,
  NLRI,
} from './helpers/wire.js';
import { decodeBothForms } from './helpers/both-forms.js';

const decode = (buf: Uint8Array, ctx?: CodecContext): UpdateMessage => decodeBothForms(buf, 0, buf.length, ctx);

// ---------------------------------------------------------------------------------------------
// RFC 7606

interface NonFatalCase {
  name: string;
  attrs: string;
  action: UpdateError['action'];
  subcode: number;
  /** The attribute in error, located in attrs (hex). */
  bad: string;
  ctx?: CodecContext;
  /** What must be gone from attributes. */
  gone?: string;
}

// A 2-octet AS session (no 4-octet AS capability on one side): AS_PATH 64496 in 2-octet form.
const TWO_OCTET: CodecContext = { fourOctetAs: false };
const BASE2 = ORIGIN + '4002040201fbf0' + NEXT_HOP;

const nonFatal: NonFatalCase[] = [
  {
    name: 'ORIGIN length 2',
    attrs: AS_PATH + NEXT_HOP + '4001020000',
    bad: '4001020000',
    action: 'treat-as-withdraw',
    subcode: 5,
    gone: 'origin',
  },
  {
    name: 'ORIGIN value 3',
    attrs: '40010103' + AS_PATH + NEXT_HOP,
    bad: '40010103',
    action: 'treat-as-withdraw',
    subcode: 6,
    gone: 'origin',
  },
  {
    name: 'AS_PATH unknown segment type',
    attrs: ORIGIN + '40020605010000fbf0' + NEXT_HOP,
    bad: '40020605010000fbf0',
    action: 'treat-as-withdraw',
    subcode: 11,
    gone: 'asPath',
  },
  {
    name: 'AS_PATH zero-length segment',
    attrs: ORIGIN + '4002020200' + NEXT_HOP,
    bad: '4002020200',
    action: 'treat-as-withdraw',
    subcode: 11,
    gone: 'asPath',
  },
  {
    name: 'AS_PATH segment overrun',
    attrs: ORIGIN + '40020602020000fbf0' + NEXT_HOP,
    bad: '40020602020000fbf0',
    action: 'treat-as-withdraw',
    subcode: 11,
  },
  {
    name: 'AS_PATH with AS 0 (RFC 7607)',
    attrs: ORIGIN + '400206020100000000' + NEXT_HOP,
    bad: '400206020100000000',
    action: 'treat-as-withdraw',
    subcode: 11,
  },
  {
    name: 'NEXT_HOP length 5',
    attrs: ORIGIN + AS_PATH + '400305c000020100',
    bad: '400305c000020100',
    action: 'treat-as-withdraw',
    subcode: 5,
    gone: 'nextHop',
  },
  {
    name: 'MULTI_EXIT_DISC length 2',
    attrs: BASE + '8004020001',
    bad: '8004020001',
    action: 'treat-as-withdraw',
    subcode: 5,
    gone: 'med',
  },
  {
    name: 'LOCAL_PREF length 3',
    attrs: BASE + '400503000064',
    bad: '400503000064',
    action: 'treat-as-withdraw',
    subcode: 5,
    gone: 'localPref',
    ctx: { ibgp: true },
  },
  {
    name: 'LOCAL_PREF from an external peer',
    attrs: BASE + '40050400000064',
    bad: '40050400000064',
    action: 'attribute-discard',
    subcode: 0,
    gone: 'localPref',
    ctx: { ibgp: false },
  },
  {
    name: 'ATOMIC_AGGREGATE length 1',
    attrs: BASE + '40060100',
    bad: '40060100',
    action: 'attribute-discard',
    subcode: 5,
    gone: 'atomicAggregate',
  },
  {
    name: 'AGGREGATOR length 7',
    attrs: BASE + 'c00707 0000fbf0c00002',
    bad: 'c007070000fbf0c00002',
    action: 'attribute-discard',
    subcode: 5,
    gone: 'aggregator',
  },
  {
    name: 'AGGREGATOR of 8 bytes on a 2-octet session',
    attrs: ORIGIN + '4002040201fbf0' + NEXT_HOP + 'c00708 0000fbf0c0000202',
    bad: 'c007080000fbf0c0000202',
    action: 'attribute-discard',
    subcode: 5,
    ctx: { fourOctetAs: false },
  },
  {
    name: 'AGGREGATOR with AS 0 (RFC 7607)',
    attrs: BASE + 'c00708 00000000c0000202',
    bad: 'c0070800000000c0000202',
    action: 'attribute-discard',
    subcode: 9,
    gone: 'aggregator',
  },
  {
    name: 'COMMUNITIES length 0',
    attrs: BASE + 'c00800',
    bad: 'c00800',
    action: 'treat-as-withdraw',
    subcode: 5,
    gone: 'communities',
  },
  {
    name: 'COMMUNITIES length 6',
    attrs: BASE + 'c00806fbf000010000',
    bad: 'c00806fbf000010000',
    action: 'treat-as-withdraw',
    subcode: 5,
  },
  {
    name: 'ORIGINATOR_ID length 5',
    attrs: BASE + '800905c000020300',
    bad: '800905c000020300',
    action: 'treat-as-withdraw',
    subcode: 5,
    gone: 'originatorId',
  },
  {
    name: 'CLUSTER_LIST length 6',
    attrs: BASE + '800a06c00002040000',
    bad: '800a06c00002040000',
    action: 'treat-as-withdraw',
    subcode: 5,
    gone: 'clusterList',
  },
  {
    name: 'CLUSTER_LIST from an external peer',
    attrs: BASE + '800a04c0000204',
    bad: '800a04c0000204',
    action: 'attribute-discard',
    subcode: 0,
    ctx: { ibgp: false },
  },
  {
    name: 'EXTENDED_COMMUNITIES length 12',
    attrs: BASE + 'c0100c 0002fbf000000064 00000000',
    bad: 'c0100c0002fbf00000006400000000',
    action: 'treat-as-withdraw',
    subcode: 5,
  },
  {
    name: 'EXTENDED_COMMUNITIES length 0',
    attrs: BASE + 'c01000',
    bad: 'c01000',
    action: 'treat-as-withdraw',
    subcode: 5,
  },
  {
    name: 'LARGE_COMMUNITY length 8',
    attrs: BASE + 'c02008 0000fbf000000001',
    bad: 'c020080000fbf000000001',
    action: 'treat-as-withdraw',
    subcode: 5,
  },
  {
    name: 'AS4_PATH malformed',
    attrs: BASE2 + 'c01106 0203 0000fbf0',
    bad: 'c011060203 0000fbf0',
    action: 'attribute-discard',
    subcode: 11,
    gone: 'as4Path',
    ctx: TWO_OCTET,
  },
  {
    name: 'AS4_AGGREGATOR length 6',
    attrs: BASE2 + 'c01206 fbf0c0000202',
    bad: 'c01206fbf0c0000202',
    action: 'attribute-discard',
    subcode: 5,
    gone: 'as4Aggregator',
    ctx: TWO_OCTET,
  },
  {
    name: 'ORIGIN marked optional',
    attrs: 'c0010100' + AS_PATH + NEXT_HOP,
    bad: 'c0010100',
    action: 'treat-as-withdraw',
    subcode: 4,
    gone: 'origin',
  },
  {
    name: 'MULTI_EXIT_DISC marked well-known',
    attrs: BASE + '40040400000001',
    bad: '40040400000001',
    action: 'treat-as-withdraw',
    subcode: 4,
    gone: 'med',
  },
  {
    name: 'COMMUNITIES marked non-transitive',
    attrs: BASE + '800804fbf00001',
    bad: '800804fbf00001',
    action: 'treat-as-withdraw',
    subcode: 4,
    gone: 'communities',
  },
  {
    name: 'AS4_PATH marked non-transitive',
    attrs: BASE2 + '801106 0201 00010000',
    bad: '8011060201 00010000',
    action: 'attribute-discard',
    subcode: 4,
    gone: 'as4Path',
    ctx: TWO_OCTET,
  },
  {
    name: 'AS4_PATH from a 4-octet AS peer (RFC 6793 4.1)',
    attrs: BASE + 'c01106 0201 00010000',
    bad: 'c011060201 00010000',
    action: 'attribute-discard',
    subcode: 0,
    gone: 'as4Path',
  },
  {
    name: 'AS4_AGGREGATOR from a 4-octet AS peer (RFC 6793 4.1)',
    attrs: BASE + 'c01208 00010000 c0000202',
    bad: 'c0120800010000c0000202',
    action: 'attribute-discard',
    subcode: 0,
    gone: 'as4Aggregator',
    ctx: { fourOctetAs: true },
  },
  { name: 'a second ORIGIN', attrs: BASE + '40010102', bad: '40010102', action: 'attribute-discard', subcode: 1 },
];

/** Index of sub in h at a byte boundary (an even hex position). */
function evenIndexOf(h: string, sub: string): number {
  let i = h.indexOf(sub);
  while (i % 2 === 1) i = h.indexOf(sub, i + 1);
  return i;
}

t.test('RFC 7606 non-fatal errors: action, code, subcode, data and offset', async (t) => {
  for (const c of nonFatal) {
    const wire = update('', c.attrs, NLRI);
    let msg: UpdateMessage;
    try {
      msg = decode(wire, c.ctx);
    } catch (err) {
      t.fail(`${c.name}: threw ${String(err)}`);
      continue;
    }
    const bad = c.bad.replace(/\s+/g, '');
    const attrs = c.attrs.replace(/\s+/g, '');
    const offset = 23 + evenIndexOf(attrs, bad) / 2;
    const own = (msg.errors ?? []).filter((e) => e.subcode !== 3);
    t.equal(own.length, 1, `${c.name}: one error`);
    t.match(own[0], { action: c.action, code: 3, subcode: c.subcode, data: bad, offset }, c.name);
    t.equal(own[0]?.attribute, parseInt(bad.slice(2, 4), 16), `${c.name}: attribute code`);
    t.equal(isTreatAsWithdraw(msg.errors), c.action === 'treat-as-withdraw', `${c.name}: treat-as-withdraw or not`);
    if (c.gone !== undefined) t.notOk(c.gone in msg.attributes, `${c.name}: ${c.gone} left out`);
    t.strictSame(msg.nlri, [{ prefix: '203.0.113.0/24' }], `${c.name}: NLRI still read`);
  }
  const dup = decode(update('', BASE + '40010102', NLRI));
  t.equal(dup.attributes.origin, 'igp', 'the first ORIGIN is kept');
});

t.test('RFC 7606 missing well-known attributes', async (t) => {
  const cases: [string, string, number[], CodecContext?][] = [
    ['no ORIGIN', AS_PATH + NEXT_HOP, [1]],
    ['no AS_PATH', ORIGIN + NEXT_HOP, [2]],
    ['no NEXT_HOP', ORIGIN + AS_PATH, [3]],
    ['nothing', '', [1, 2, 3]],
    ['no LOCAL_PREF on iBGP', BASE, [5], { ibgp: true }],
  ];
  for (const [name, attrs, codes, ctx] of cases) {
    const msg = decode(update('', attrs, NLRI), ctx);
    t.strictSame(
      msg.errors?.map((e) => [e.action, e.code, e.subcode, e.data, e.offset]),
      codes.map((c) => ['treat-as-withdraw', 3, 3, `0${c}`, 23]),
      name,
    );
  }
  t.equal(decode(update('', BASE, NLRI), { ibgp: false }).errors, undefined, 'LOCAL_PREF not needed on eBGP');
  const mpOnly = decode(
    update('', ORIGIN + AS_PATH + '800e1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001', ''),
  );
  t.equal(mpOnly.errors, undefined, 'NEXT_HOP is not needed for MP_REACH_NLRI prefixes');
  const mpNoOrigin = decode(
    update('', AS_PATH + '800e1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001', ''),
  );
  t.match(
    mpNoOrigin.errors,
    [{ action: 'treat-as-withdraw', subcode: 3, data: '01' }],
    'ORIGIN is needed with MP_REACH_NLRI',
  );
  t.equal(decode(update('18c63364', '', '')).errors, undefined, 'withdrawals need no attributes');
});

t.test('RFC 7606 4: attribute lengths in conflict with the total attribute length', async (t) => {
  // The last attribute claims 8 bytes where 4 are left: treat-as-withdraw, NLRI found from the total.
  const overrun = decode(update('', BASE + 'c00808fbf00001', NLRI));
  t.match(overrun.errors, [
    { action: 'treat-as-withdraw', code: 3, subcode: 5, data: 'c00808fbf00001', offset: 43, attribute: 8 },
  ]);
  t.strictSame(overrun.nlri, [{ prefix: '203.0.113.0/24' }]);
  // Two bytes left: too few for an attribute header.
  const short = decode(update('', BASE + 'c008', NLRI));
  t.match(short.errors, [{ action: 'treat-as-withdraw', code: 3, subcode: 1, data: 'c008', offset: 43 }]);
  // Extended length needs four header bytes.
  const shortExt = decode(update('', BASE + 'd00800', NLRI));
  t.match(shortExt.errors, [{ action: 'treat-as-withdraw', subcode: 1, data: 'd00800' }]);
});

t.test('RFC 7606 fatal errors: session reset', async (t) => {
  const cases: [string, Uint8Array, number, number, number, string?][] = [
    ['withdrawn routes length overruns the message', bytes(`${MARKER}0017 02 0005 0000`), 1, 19, 3],
    ['total attribute length overruns the message', update('', '', '').map((b, i) => (i === 22 ? 1 : b)), 1, 21, 3],
    ['NLRI prefix length 33', update('', BASE, '21cb007100'), 10, 43, 3, '21cb007100'],
    ['NLRI prefix overruns the field', update('', BASE, '18cb00'), 10, 43, 3, '18cb00'],
    [
      'MP_REACH_NLRI twice',
      update('', BASE + '800e0d 0001 01 04 c0000201 00 18cb0071' + '800e0d 0001 01 04 c0000201 00 18cb0072', ''),
      1,
      59,
      3,
    ],
    ['MP_UNREACH_NLRI twice', update('', '800f03000201 800f03000201', ''), 1, 29, 3, '800f03000201'],
    ['unrecognized well-known attribute', update('', BASE + '406302abcd', NLRI), 2, 43, 3, '406302abcd'],
  ];
  for (const [name, wire, subcode, offset, code, data] of cases) {
    const err = thrown(() => decode(wire));
    t.match(err, { code, subcode, offset, action: 'session-reset' }, name);
    if (data !== undefined) t.equal(hex(err.data), data, `${name}: data`);
  }
  const header = thrown(() => decode(bytes(`${MARKER}0016 02 0000 00`)));
  t.match(header, { code: 1, subcode: 2 }, 'shorter than 23 bytes');
  const mismatch = update('', '', '');
  mismatch[17] = 24;
  t.match(
    thrown(() => decode(mismatch)),
    { code: 1, subcode: 2 },
    'header length disagrees with the message',
  );
});

t.test('RFC 7606 MP_REACH_NLRI / MP_UNREACH_NLRI errors: AFI/SAFI disable', async (t) => {
  const cases: [string, string, number, number, number][] = [
    // [name, attributes, afi, safi, offset]
    ['IPv6 next hop length 5', ORIGIN + AS_PATH + '800e0e 0002 01 05 2001db8000 00 18cb0071', 2, 1, 36],
    ['IPv4 next hop length 8', ORIGIN + AS_PATH + '800e11 0001 01 08 c0000201c0000202 00 18cb0071', 1, 1, 36],
    ['next hop length overruns the attribute', ORIGIN + AS_PATH + '800e05 0002 01 10 00', 2, 1, 36],
    ['no reserved octet', ORIGIN + AS_PATH + '800e04 0002 0100', 2, 1, 36],
    [
      'IPv6 prefix length 129',
      ORIGIN + AS_PATH + '800e17 0002 01 10 20010db8000000000000000000000001 00 81 20',
      2,
      1,
      60,
    ],
    ['MP_UNREACH prefix overrun', '800f06 0002 01 30 2001', 2, 1, 29],
    ['MP_REACH overruns the path attributes', ORIGIN + AS_PATH + '800e20 0002 01 10', 2, 1, 36],
  ];
  for (const [name, attrs, afi, safi, offset] of cases) {
    const err = thrown(() => decode(update('', attrs, '')));
    t.match(err, { code: 3, subcode: 9, action: 'afi-safi-disable', afi, safi, offset }, name);
  }
  const unreadable = thrown(() => decode(update('', '800f020002', '')));
  t.match(
    unreadable,
    { code: 3, subcode: 9, action: 'session-reset', afi: undefined, offset: 23 },
    'AFI/SAFI cannot be read',
  );
  t.equal(hex(unreadable.data), '800f020002');
});

t.test('RFC 7606 5.2: an UPDATE announcing nothing resets the session instead of treat-as-withdraw', async (t) => {
  const err = thrown(() => decode(update('', '40010103' + AS_PATH, '')));
  t.match(err, { code: 3, subcode: 6, action: 'session-reset', offset: 23 });
  t.equal(hex(err.data), '40010103');
  t.throws(
    () => decode(update('18c63364', BASE + 'c00800', '')),
    BgpWireError,
    'withdrawals with a malformed attribute',
  );
  // Attribute discard is no reason to reset.
  const discard = decode(update('', BASE + '40060100', ''));
  t.match(discard.errors, [{ action: 'attribute-discard', subcode: 5 }]);
  // An MP_UNREACH_NLRI alone with conflicting flags withdraws its prefixes all the same.
  const unreach = decode(update('', 'c00f0a 000201 30 20010db80001', ''));
  t.match(unreach.errors, [{ action: 'treat-as-withdraw', subcode: 4 }]);
  t.strictSame(unreach.attributes.mpUnreach?.withdrawn, [{ prefix: '2001:db8:1::/48' }]);
});

t.test('MP_REACH_NLRI with conflicting flags is still read for its prefixes', async (t) => {
  const msg = decode(
    update('', ORIGIN + AS_PATH + 'c00e1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001', ''),
  );
  t.match(msg.errors, [{ action: 'treat-as-withdraw', subcode: 4, attribute: 14 }]);
  t.strictSame(msg.attributes.mpReach?.nlri, [{ prefix: '2001:db8:1::/48' }]);
});

t.test('truncation: every shorter message is rejected or handled, never a crash', async (t) => {
  const attrs =
    '800e35 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001 00 30 20010db80001 40 20010db800020000' +
    BASE +
    '80040400000064 40050400000064 c00708 0000fbf0 c0000202 c00808 fbf00064 ffff0000' +
    '800904c0000203 800a08c0000204c0000205 c01010 0002fbf000000064 0102c000020a0007 c0200c 0000fbf0 00000001 00000002 e06302abcd';
  const full = update('18c63364', attrs, '18cb0071 19c6336480 20c0000207');
  const original = decode(full);
  t.equal(original.errors, undefined, 'the full message is valid');
  t.equal(hex(encodeUpdate(original)), hex(full));
  let rejected = 0;
  let handled = 0;
  for (let k = 19; k < full.length; k++) {
    const cut = full.slice(0, k);
    if (k >= 18) cut[16] = k >> 8;
    if (k >= 18) cut[17] = k & 0xff;
    try {
      const msg = decode(cut);
      // A clean result is only possible when the cut falls between two NLRI prefixes.
      if (msg.errors === undefined) {
        t.ok(k >= full.length - 14, `cut at ${k} decodes cleanly only inside the NLRI field`);
        t.strictSame(msg.nlri, original.nlri.slice(0, msg.nlri.length));
      }
      handled++;
    } catch (err) {
      if (!(err instanceof BgpWireError)) t.fail(`cut at ${k}: ${String(err)}`);
      rejected++;
    }
  }
  t.ok(rejected > 0 && handled > 0, `${rejected} rejected, ${handled} handled`);

  // The attribute block cut short, its lengths fixed up: the attribute parser sees every cut.
  const block = bytes(attrs);
  for (let k = 0; k < block.length; k++) {
    const cut = update('', hex(block.subarray(0, k)), NLRI);
    try {
      const msg = decode(cut);
      t.ok(
        msg.errors !== undefined || isBoundary(block, k),
        `attributes cut at ${k}: errors, or a cut between attributes`,
      );
    } catch (err) {
      if (!(err instanceof BgpWireError)) t.fail(`attributes cut at ${k}: ${String(err)}`);
    }
  }
});

/** Whether k falls between two attributes of block. */
function isBoundary(block: Uint8Array, k: number): boolean {
  let at = 0;
  while (at < k) {
    const ext = block[at]! & 0x10;
    at += (ext ? 4 : 3) + (ext ? (block[at + 2]! << 8) | block[at + 3]! : block[at + 2]!);
  }
  return at === k;
}

t.test('random damage only ever yields BgpWireError', async (t) => {
  let state = 0x2545f491;
  const rand = (n: number): number => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % n;
  };
  const seeds = [
    update(
      '18c63364',
      BASE + '800e1c 0002 01 10 20010db8000000000000000000000001 00 30 20010db80001 c01008 0203 00010000 0005',
      NLRI,
    ),
    update(
      '',
      '800f0a 000201 30 20010db80001' + BASE + 'c01106 0201 00010000 c01208 00010000 c0000209',
      NLRI + '19c6336480',
    ),
  ];
  const contexts: CodecContext[] = [
    {},
    { fourOctetAs: false },
    { addPath: ['ipv4-unicast', 'ipv6-unicast'] },
    { ibgp: true },
    { ibgp: false },
  ];
  let bad = 0;
  for (let i = 0; i < 20000; i++) {
    const buf = seeds[i % seeds.length]!.slice();
    const flips = 1 + rand(3);
    for (let f = 0; f < flips; f++) buf[19 + rand(buf.length - 19)] = rand(256);
    const ctx = contexts[i % contexts.length];
    try {
      const msg = decodeBothForms(buf, 0, buf.length, ctx);
      if (!isTreatAsWithdraw(msg.errors)) {
        // Whatever decodes without treat-as-withdraw must encode again and decode to the same thing.
        const encoded = encodeUpdate(msg, ctx);
        const again = decodeBothForms(encoded, 0, encoded.length, ctx);
        if (
          !isDeepStrictEqual([again.withdrawn, again.attributes, again.nlri], [msg.withdrawn, msg.attributes, msg.nlri])
        ) {
          bad++;
          if (bad < 5) t.fail(`input ${hex(buf)} does not survive encode/decode`);
        }
      }
    } catch (err) {
      if (!(err instanceof BgpWireError)) {
        bad++;
        if (bad < 5) t.fail(`input ${hex(buf)}: ${String(err)}`);
      }
    }
  }
  t.equal(bad, 0, 'nothing but BgpWireError thrown');
});

t.test('RFC 7606 5.2: reachable NLRI, not the presence of MP_REACH_NLRI, decides treat-as-withdraw', async (t) => {
  const NH6 = '20010db8000000000000000000000001';
  const emptyReach = `800e15 0002 01 10 ${NH6} 00`;
  const fullReach = `800e1c 0002 01 10 ${NH6} 00 30 20010db80001`;
  const resets = (name: string, attrs: string, expected: Record<string, unknown>): void => {
    const err = caught(() => decode(update('', attrs, '')));
    t.match(err, { code: 3, action: 'session-reset', ...expected }, name);
  };
  // An MP_REACH_NLRI without prefixes announces nothing: a non-discard error resets the session.
  resets('ORIGIN value 3 next to an empty MP_REACH_NLRI', emptyReach + '40010103' + AS_PATH, {
    subcode: 6,
    offset: 47,
    data: bytes('40010103'),
  });
  resets('MED flags error next to an empty MP_REACH_NLRI', emptyReach + ORIGIN + AS_PATH + '40040400000001', {
    subcode: 4,
  });
  resets('ORIGIN missing next to an empty MP_REACH_NLRI (RFC 4760 3)', emptyReach + AS_PATH, { subcode: 3 });
  resets('a family kept raw, its NLRI empty', '800e09 0001 80 04 c0000201 00' + '40010103' + AS_PATH, { subcode: 6 });
  // Withdrawn prefixes are not reachable NLRI: MP_UNREACH_NLRI with prefixes next to other attributes resets.
  resets('MP_UNREACH_NLRI with prefixes and a bad ORIGIN', '800f0a 000201 30 20010db80001' + '40010103' + AS_PATH, {
    subcode: 6,
  });
  // MP_UNREACH_NLRI alone is exempt, but not when something else in the attributes is wrong too.
  resets('MP_UNREACH_NLRI with conflicting flags and a truncated attribute', 'c00f0a 000201 30 20010db80001 c008', {
    subcode: 4,
  });
  const alone = decode(update('', 'c00f0a 000201 30 20010db80001', ''));
  t.match(alone.errors, [{ action: 'treat-as-withdraw', subcode: 4, attribute: 15 }], 'MP_UNREACH_NLRI alone');

  // Attribute discard stays a discard.
  const discard = decode(update('', emptyReach + ORIGIN + AS_PATH + '40060100', ''));
  t.match(discard.errors, [{ action: 'attribute-discard', subcode: 5 }]);
  t.strictSame(discard.attributes.mpReach?.nlri, []);
  // With prefixes in MP_REACH_NLRI (decoded or raw) or in the NLRI field it is treat-as-withdraw.
  const reach = decode(update('', fullReach + '40010103' + AS_PATH, ''));
  t.match(reach.errors, [{ action: 'treat-as-withdraw', subcode: 6 }]);
  t.strictSame(reach.attributes.mpReach?.nlri, [{ prefix: '2001:db8:1::/48' }]);
  const raw = decode(update('', '800e0d 0001 80 04 c0000201 00 18cb0071' + '40010103' + AS_PATH, ''));
  t.match(raw.errors, [{ action: 'treat-as-withdraw', subcode: 6 }]);
  const field = decode(update('', emptyReach + '40010103' + AS_PATH + NEXT_HOP, NLRI));
  t.match(field.errors, [{ action: 'treat-as-withdraw', subcode: 6 }]);
});
