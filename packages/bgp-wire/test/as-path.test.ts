import t from 'tap';
import {
  AS_TRANS,
  asPathLength,
  asPathToString,
  decodeAsPath,
  reconcileAsPath,
  reconcileAttributes,
  toTwoOctetAsPath,
  toTwoOctetAttributes,
  writeAsPath,
} from '../src/as-path.js';
import { decodeUpdate, encodeUpdate } from '../src/update.js';
import { newWriter } from '../src/update-writer.js';
import type { AsPathSegment } from '../src/types.js';

const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex');
const seq = (...asns: number[]): AsPathSegment => ({ type: 'AS_SEQUENCE', asns });
const set = (...asns: number[]): AsPathSegment => ({ type: 'AS_SET', asns });
const confedSeq = (...asns: number[]): AsPathSegment => ({ type: 'AS_CONFED_SEQUENCE', asns });
const confedSet = (...asns: number[]): AsPathSegment => ({ type: 'AS_CONFED_SET', asns });

t.test('the same path in 2-octet and 4-octet encodings', async (t) => {
  const path = [seq(64496, 64497), set(64498)];
  const two = '02 02 fbf0 fbf1 01 01 fbf2';
  const four = '02 02 0000fbf0 0000fbf1 01 01 0000fbf2';
  t.strictSame(decodeAsPath(bytes(two), 0, 10, 2), path);
  t.strictSame(decodeAsPath(bytes(four), 0, 16, 4), path);
  const w = newWriter(4); // too small: the writer grows
  const twoEnd = writeAsPath(w, 0, path, 2);
  t.equal(hex(w.buf.subarray(0, twoEnd)), two.replace(/\s/g, ''));
  const fourEnd = writeAsPath(w, 0, path, 4);
  t.equal(hex(w.buf.subarray(0, fourEnd)), four.replace(/\s/g, ''));
  // The 4-octet bytes read as 2-octet numbers: a different, still well-formed path (0, so RFC 7607 rejects it).
  t.type(decodeAsPath(bytes(four), 0, 16, 2), 'string');
});

t.test('malformed AS paths (RFC 7606 7.2)', async (t) => {
  const cases: [string, string][] = [
    ['unknown segment type 0', '00 01 0000fbf0'],
    ['unknown segment type 5', '05 01 0000fbf0'],
    ['zero-length segment', '02 00'],
    ['segment overruns', '02 02 0000fbf0'],
    ['one byte left over', '02 01 0000fbf0 02'],
    ['AS 0', '02 01 00000000'],
  ];
  for (const [name, h] of cases) {
    const b = bytes(h);
    t.type(decodeAsPath(b, 0, b.length, 4), 'string', name);
  }
  t.strictSame(decodeAsPath(new Uint8Array(0), 0, 0, 4), [], 'an empty AS_PATH is fine');
});

t.test('long segments are split at 255 AS numbers', async (t) => {
  const asns = Array.from({ length: 300 }, (_, i) => 64512 + (i % 1000));
  const w = newWriter(8);
  const end = writeAsPath(w, 0, [seq(...asns)], 4);
  t.equal(end, 2 + 255 * 4 + 2 + 45 * 4);
  t.equal(w.buf[1], 255);
  t.equal(w.buf[2 + 255 * 4 + 1], 45);
  t.strictSame(decodeAsPath(w.buf, 0, end, 4), [seq(...asns.slice(0, 255)), seq(...asns.slice(255))]);
  t.throws(() => writeAsPath(w, 0, [seq()], 4), TypeError, 'empty segment');
  t.throws(() => writeAsPath(w, 0, [seq(65536)], 2), RangeError, 'needs 4 octets');
  t.throws(() => writeAsPath(w, 0, [seq(2 ** 32)], 4), RangeError);
});

t.test('text form and path length', async (t) => {
  const path = [confedSeq(65001, 65002), confedSet(65003, 65004), seq(64496, 64497), set(64498, 64499)];
  t.equal(asPathToString(path), '(65001 65002) [65003,65004] 64496 64497 {64498,64499}');
  t.equal(asPathLength(path), 3, 'an AS_SET counts 1, confederation segments 0 (RFC 4271 9.1.2.2, RFC 5065)');
  t.equal(asPathToString([]), '');
  t.equal(asPathLength([]), 0);
});

t.test('reconciling AS_PATH and AS4_PATH from a 2-octet peer (RFC 6793 4.2.3)', async (t) => {
  // Every AS crossed was a NEW speaker: AS4_PATH is the whole path.
  t.strictSame(reconcileAsPath([seq(AS_TRANS, 64496, AS_TRANS, 64497)], [seq(65536, 64496, 65537, 64497)]), [
    seq(65536, 64496, 65537, 64497),
  ]);
  // An OLD speaker (64510) added itself after the AS4_PATH was made: its AS is taken from AS_PATH.
  t.strictSame(reconcileAsPath([seq(64510, AS_TRANS, 64496)], [seq(65536, 64496)]), [seq(64510, 65536, 64496)]);
  // Two OLD speakers; the sequence is split.
  t.strictSame(reconcileAsPath([seq(64510, 64511, AS_TRANS, 64496)], [seq(65536, 64496)]), [
    seq(64510, 64511, 65536, 64496),
  ]);
  // AS_PATH shorter than AS4_PATH: AS4_PATH is ignored.
  t.strictSame(reconcileAsPath([seq(AS_TRANS)], [seq(65536, 64496)]), [seq(AS_TRANS)]);
  // An AS_SET counts one.
  t.strictSame(reconcileAsPath([seq(64511, AS_TRANS), set(64500, 64501)], [seq(65536), set(64500, 64501)]), [
    seq(64511, 65536),
    set(64500, 64501),
  ]);
  // A leading confederation segment is kept, AS4_PATH's own confederation segments dropped.
  t.strictSame(
    reconcileAsPath([confedSeq(65001, 65002), seq(AS_TRANS, 64496)], [confedSeq(65003), seq(65536, 64496)]),
    [confedSeq(65001, 65002), seq(65536, 64496)],
  );
  // A confederation segment next to a prepended one comes along; one further in does not.
  t.strictSame(reconcileAsPath([seq(64510), confedSet(65001), seq(AS_TRANS)], [seq(65536)]), [
    seq(64510),
    confedSet(65001),
    seq(65536),
  ]);
  const input = [seq(64510, AS_TRANS, 64496)];
  reconcileAsPath(input, [seq(65536, 64496)])[0]!.asns.push(1);
  t.strictSame(input, [seq(64510, AS_TRANS, 64496)], 'inputs are not changed');
});

t.test('reconcileAttributes follows AGGREGATOR/AS4_AGGREGATOR (RFC 6793 4.2.3)', async (t) => {
  const address = '192.0.2.9';
  const merged = reconcileAttributes({
    origin: 'igp',
    asPath: [seq(64510, AS_TRANS)],
    as4Path: [seq(65536)],
    aggregator: { asn: AS_TRANS, address },
    as4Aggregator: { asn: 65536, address },
  });
  t.strictSame(merged, { origin: 'igp', asPath: [seq(64510, 65536)], aggregator: { asn: 65536, address } });
  // AGGREGATOR is not AS_TRANS: both AS4 attributes are ignored.
  const ignored = reconcileAttributes({
    asPath: [seq(64510, AS_TRANS)],
    as4Path: [seq(65536)],
    aggregator: { asn: 64500, address },
    as4Aggregator: { asn: 65536, address },
  });
  t.strictSame(ignored, { asPath: [seq(64510, AS_TRANS)], aggregator: { asn: 64500, address } });
  t.strictSame(reconcileAttributes({ asPath: [seq(64496)] }), { asPath: [seq(64496)] });
});

t.test('what a 2-octet peer is sent (RFC 6793 4.2.2)', async (t) => {
  t.strictSame(toTwoOctetAsPath([seq(65536, 64496), confedSeq(65001)]), {
    asPath: [seq(AS_TRANS, 64496), confedSeq(65001)],
    as4Path: [seq(65536, 64496)],
  });
  t.strictSame(toTwoOctetAsPath([seq(64496)]), { asPath: [seq(64496)] }, 'no AS4_PATH when every AS fits');
  const attrs = toTwoOctetAttributes({
    origin: 'igp',
    asPath: [seq(65536, 64496)],
    nextHop: '192.0.2.1',
    aggregator: { asn: 65537, address: '192.0.2.2' },
  });
  t.strictSame(attrs, {
    origin: 'igp',
    asPath: [seq(AS_TRANS, 64496)],
    as4Path: [seq(65536, 64496)],
    nextHop: '192.0.2.1',
    aggregator: { asn: AS_TRANS, address: '192.0.2.2' },
    as4Aggregator: { asn: 65537, address: '192.0.2.2' },
  });
  // On the wire, and back through reconcileAttributes.
  const ctx = { fourOctetAs: false };
  const wire = encodeUpdate(
    { type: 'UPDATE', withdrawn: [], attributes: attrs, nlri: [{ prefix: '203.0.113.0/24' }] },
    ctx,
  );
  const expected =
    'ff'.repeat(16) +
    '0050 02 0000 0035' +
    '40010100' +
    '400206 0202 5ba0 fbf0' +
    '400304 c0000201' +
    'c00706 5ba0 c0000202' +
    'c0110a 0202 00010000 0000fbf0' +
    'c01208 00010001 c0000202' +
    '18cb0071';
  t.equal(hex(wire), expected.replace(/\s/g, ''));
  const back = decodeUpdate(wire, 0, wire.length, ctx);
  t.strictSame(reconcileAttributes(back.attributes), {
    origin: 'igp',
    asPath: [seq(65536, 64496)],
    nextHop: '192.0.2.1',
    aggregator: { asn: 65537, address: '192.0.2.2' },
  });
  t.throws(
    () =>
      encodeUpdate(
        { type: 'UPDATE', withdrawn: [], attributes: { aggregator: { asn: 65537, address: '192.0.2.2' } }, nlri: [] },
        ctx,
      ),
    RangeError,
  );
});
