import t from 'tap';
import { decodeRouteRefresh, encodeRouteRefresh } from '../src/route-refresh.js';
import { BgpWireError } from '../src/errors.js';

import { MARKER, bytes, hex, thrown } from './helpers/wire.js';
const decode = (h: string) => {
  const buf = bytes(h);
  return decodeRouteRefresh(buf, 0, buf.length);
};

// RFC 2918 3: AFI (2), Reserved (1) which RFC 7313 3 makes the Message Subtype, SAFI (1).
const REQUEST_V4 = `${MARKER} 0017 05 0001 00 01`;
const BORR_V6 = `${MARKER} 0017 05 0002 01 01`;
const EORR_V4 = `${MARKER} 0017 05 0001 02 01`;

t.test('decodes a plain RFC 2918 request', async (t) => {
  t.strictSame(decode(REQUEST_V4), { type: 'ROUTE-REFRESH', length: 23, afi: 1, safi: 1, subtype: 0 });
});

t.test('decodes RFC 7313 BoRR and EoRR', async (t) => {
  t.strictSame(decode(BORR_V6), { type: 'ROUTE-REFRESH', length: 23, afi: 2, safi: 1, subtype: 1 });
  t.strictSame(decode(EORR_V4), { type: 'ROUTE-REFRESH', length: 23, afi: 1, safi: 1, subtype: 2 });
});

t.test('subtypes RFC 7313 does not define are returned for the caller to ignore', async (t) => {
  const msg = decode(`${MARKER} 0017 05 0001 ff 02`);
  t.equal(msg.subtype, 255);
  t.equal(msg.safi, 2);
});

t.test('a request with ORF entries keeps them raw (RFC 5291)', async (t) => {
  // When-to-refresh IMMEDIATE (1), ORF type 64, ORF length 0: 4 bytes; 23 + 4 = 27 = 0x1b.
  t.strictSame(decode(`${MARKER} 001b 05 0001 00 01 01 40 0000`), {
    type: 'ROUTE-REFRESH',
    length: 27,
    afi: 1,
    safi: 1,
    subtype: 0,
    orfHex: '01400000',
  });
});

t.test('BoRR/EoRR of the wrong length is ROUTE-REFRESH Message Error / Invalid Message Length', async (t) => {
  const cases = [
    `${MARKER} 0018 05 0002 01 01 00`, // BoRR, 24 bytes
    `${MARKER} 001b 05 0001 02 01 01400000`, // EoRR, 27 bytes
  ];
  for (const input of cases) {
    const buf = bytes(input);
    const err = thrown(() => decodeRouteRefresh(buf, 0, buf.length));
    t.ok(err instanceof BgpWireError, 'throws BgpWireError');
    const e = err as BgpWireError;
    t.equal(e.code, 7);
    t.equal(e.subcode, 1);
    t.equal(e.action, 'session-reset');
    t.equal(hex(e.data), input.replace(/\s+/g, ''), 'data is the complete message (RFC 7313 5)');
    t.equal(e.toJSON().name, 'ROUTE-REFRESH Message Error/Invalid Message Length');
  }
});

t.test('data of the error is the message only, when it sits inside a larger buffer', async (t) => {
  const msgHex = `${MARKER}0018 05 0001 01 01 00`.replace(/ /g, '');
  const buf = bytes(`0000 ${msgHex} ${MARKER}0013 04`);
  const err = thrown(() => decodeRouteRefresh(buf, 2, 2 + 24));
  t.ok(err instanceof BgpWireError, 'throws BgpWireError');
  t.equal(hex((err as BgpWireError).data), msgHex);
  const ok = bytes(`0000 ${REQUEST_V4} 1234`);
  t.strictSame(decodeRouteRefresh(ok, 2, 25), { type: 'ROUTE-REFRESH', length: 23, afi: 1, safi: 1, subtype: 0 });
});

t.test('a message shorter than 23 bytes is a Bad Message Length', async (t) => {
  const buf = bytes(`${MARKER} 0016 05 0001 00`);
  const err = thrown(() => decodeRouteRefresh(buf, 0, buf.length));
  t.ok(err instanceof BgpWireError, 'throws BgpWireError');
  const e = err as BgpWireError;
  t.equal(e.code, 1);
  t.equal(e.subcode, 2);
  t.equal(hex(e.data), '0016');
});

t.test('encodes requests, BoRR, EoRR and ORF entries', async (t) => {
  const flat = (s: string) => s.replace(/\s+/g, '');
  t.equal(hex(encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0 })), flat(REQUEST_V4));
  t.equal(hex(encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 1 })), flat(BORR_V6));
  t.equal(hex(encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 2 })), flat(EORR_V4));
  t.equal(
    hex(encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, orfHex: '01400000' })),
    `${MARKER}001b050001000101400000`,
  );
  t.equal(
    hex(encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 1, orfHex: '' })),
    `${MARKER}0017050001010` + '1',
    'empty orfHex is nothing',
  );
});

t.test('encode refuses bad input', async (t) => {
  t.throws(
    () => encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 1, orfHex: '00' }),
    RangeError,
    'BoRR with ORF',
  );
  t.throws(
    () => encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, orfHex: '0' }),
    RangeError,
    'odd hex',
  );
  t.throws(() => encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 65536, safi: 1, subtype: 0 }), RangeError);
  t.throws(() => encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 256, subtype: 0 }), RangeError);
  t.throws(() => encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 256 }), RangeError);
  t.throws(
    () => encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: '1' as unknown as number, safi: 1, subtype: 0 }),
    TypeError,
  );
  t.throws(
    () => encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, orfHex: '00'.repeat(4074) }),
    RangeError,
    'over 4096',
  );
  t.equal(
    encodeRouteRefresh({ type: 'ROUTE-REFRESH', afi: 1, safi: 1, subtype: 0, orfHex: '00'.repeat(4073) }).length,
    4096,
  );
});

t.test('decode(encode(x)) re-encodes byte for byte', async (t) => {
  for (const input of [REQUEST_V4, BORR_V6, EORR_V4, `${MARKER} 001b 05 0001 00 01 01 40 0000`]) {
    const msg = decode(input);
    t.equal(hex(encodeRouteRefresh(msg)), input.replace(/\s+/g, ''));
  }
});
