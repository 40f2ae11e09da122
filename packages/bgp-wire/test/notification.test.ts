import t from 'tap';
import { decodeNotification, encodeNotification } from '../src/notification.js';
import { BgpWireError } from '../src/errors.js';

import { MARKER, bytes, hex, thrown } from './helpers/wire.js';
const decode = (h: string) => {
  const buf = bytes(h);
  return decodeNotification(buf, 0, buf.length);
};

// Cease / Administrative Shutdown, shutdown communication "maintenance" (11 bytes):
// length 19 + 2 + 1 + 11 = 33 = 0x21.
const SHUTDOWN_MAINTENANCE = `${MARKER} 0021 03 06 02 0b 6d61696e74656e616e6365`;

t.test('decodes a NOTIFICATION without data', async (t) => {
  t.strictSame(decode(`${MARKER} 0015 03 04 00`), {
    type: 'NOTIFICATION',
    length: 21,
    code: 4,
    subcode: 0,
    name: 'Hold Timer Expired',
    data: '',
  });
});

t.test('decodes the data field as hex', async (t) => {
  // OPEN Message Error / Bad Peer AS, data = the AS received (64496 = 0xfbf0).
  const msg = decode(`${MARKER} 0017 03 02 02 fbf0`);
  t.equal(msg.length, 23);
  t.equal(msg.code, 2);
  t.equal(msg.subcode, 2);
  t.equal(msg.name, 'OPEN Message Error/Bad Peer AS');
  t.equal(msg.data, 'fbf0');
  t.notOk('shutdownMessage' in msg, 'only Cease 2/4 carry a shutdown communication');
});

t.test('names codes and subcodes it does not know', async (t) => {
  t.equal(decode(`${MARKER} 0015 03 09 01`).name, 'Error 9/1');
  t.equal(decode(`${MARKER} 0015 03 06 63`).name, 'Cease/subcode 99');
});

t.test('RFC 9003 shutdown communication on Cease/Administrative Shutdown', async (t) => {
  t.strictSame(decode(SHUTDOWN_MAINTENANCE), {
    type: 'NOTIFICATION',
    length: 33,
    code: 6,
    subcode: 2,
    name: 'Cease/Administrative Shutdown',
    data: '0b6d61696e74656e616e6365',
    shutdownMessage: 'maintenance',
  });
});

t.test('RFC 9003 shutdown communication on Cease/Administrative Reset, multi-byte UTF-8', async (t) => {
  // "café" = 63 61 66 c3 a9 (5 bytes); message length 19 + 2 + 1 + 5 = 27 = 0x1b.
  const msg = decode(`${MARKER} 001b 03 06 04 05 636166c3a9`);
  t.equal(msg.name, 'Cease/Administrative Reset');
  t.equal(msg.shutdownMessage, 'café');
  t.equal(msg.data, '05636166c3a9');
});

t.test('a 255-byte shutdown communication decodes', async (t) => {
  const text = 'x'.repeat(255);
  // 19 + 2 + 1 + 255 = 277 = 0x0115
  const msg = decode(`${MARKER} 0115 03 06 02 ff ${'78'.repeat(255)}`);
  t.equal(msg.length, 277);
  t.equal(msg.shutdownMessage, text);
});

t.test('data that is not a valid shutdown communication is kept as hex only, without error', async (t) => {
  const cases: [string, string, string][] = [
    ['invalid UTF-8', `${MARKER} 0018 03 06 02 02 c328`, '02c328'],
    ['length octet larger than the data', `${MARKER} 0018 03 06 02 05 4142`, '054142'],
    ['length octet smaller than the data', `${MARKER} 0018 03 06 02 01 4142`, '014142'],
    ['zero length: no communication follows', `${MARKER} 0016 03 06 02 00`, '00'],
    ['no data at all', `${MARKER} 0015 03 06 04`, ''],
  ];
  for (const [what, input, data] of cases) {
    const msg = decode(input);
    t.equal(msg.data, data, `${what}: data`);
    t.notOk('shutdownMessage' in msg, `${what}: no shutdownMessage`);
  }
});

t.test('other Cease subcodes carry no shutdown communication', async (t) => {
  // Cease/Peer De-configured (3) with bytes that would parse as one.
  const msg = decode(`${MARKER} 0018 03 06 03 02 6869`);
  t.equal(msg.data, '026869');
  t.notOk('shutdownMessage' in msg);
});

t.test('decodes a message that sits inside a larger buffer', async (t) => {
  const buf = bytes(`abcdef ${SHUTDOWN_MAINTENANCE} 0102`);
  const msg = decodeNotification(buf, 3, 3 + 33);
  t.equal(msg.length, 33);
  t.equal(msg.shutdownMessage, 'maintenance');
  t.equal(msg.data, '0b6d61696e74656e616e6365');
});

t.test('a message shorter than 21 bytes is a Bad Message Length', async (t) => {
  const buf = bytes(`${MARKER} 0014 03 06`);
  const err = thrown(() => decodeNotification(buf, 0, buf.length));
  t.ok(err instanceof BgpWireError, 'throws BgpWireError');
  const e = err as BgpWireError;
  t.equal(e.code, 1);
  t.equal(e.subcode, 2);
  t.equal(hex(e.data), '0014', 'data is the length field');
  t.equal(e.action, 'session-reset');
});

t.test('encodes a shutdown communication per RFC 9003', async (t) => {
  const out = encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'maintenance' });
  t.equal(hex(out), SHUTDOWN_MAINTENANCE.replace(/\s+/g, ''));
  const reset = encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 4, shutdownMessage: 'café' });
  t.equal(hex(reset), `${MARKER}001b03060405636166c3a9`);
  const empty = encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: '' });
  t.equal(hex(empty), `${MARKER}0016030602` + '00', 'an empty communication is a zero length octet');
});

t.test('encodes code, subcode and data; data wins over shutdownMessage', async (t) => {
  t.equal(hex(encodeNotification({ type: 'NOTIFICATION', code: 4, subcode: 0 })), `${MARKER}0015030400`);
  t.equal(
    hex(encodeNotification({ type: 'NOTIFICATION', code: 2, subcode: 2, data: 'FBF0' })),
    `${MARKER}0017030202fbf0`,
  );
  const both = encodeNotification({
    type: 'NOTIFICATION',
    code: 6,
    subcode: 2,
    data: '00',
    shutdownMessage: 'ignored',
  });
  t.equal(hex(both), `${MARKER}001603060200`);
  t.equal(
    hex(encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, data: '', shutdownMessage: 'x' })),
    `${MARKER}0015030602`,
    'empty data still wins',
  );
});

t.test('encode limits: 255 bytes of UTF-8, valid hex, octet fields, message size', async (t) => {
  const ok = encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'a'.repeat(255) });
  t.equal(ok.length, 277);
  t.equal(ok[21], 255);
  t.throws(
    () => encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'a'.repeat(256) }),
    RangeError,
  );
  // 128 two-byte characters = 256 bytes of UTF-8 although only 128 characters.
  t.throws(
    () => encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'é'.repeat(128) }),
    RangeError,
  );
  t.equal(encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'é'.repeat(127) })[21], 254);
  t.throws(
    () => encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, data: 'abc' }),
    RangeError,
    'odd-length hex',
  );
  t.throws(() => encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: 2, data: 'zz' }), RangeError, 'not hex');
  t.throws(() => encodeNotification({ type: 'NOTIFICATION', code: 256, subcode: 0 }), RangeError);
  t.throws(() => encodeNotification({ type: 'NOTIFICATION', code: 6, subcode: -1 }), RangeError);
  t.throws(() => encodeNotification({ type: 'NOTIFICATION', code: 1.5, subcode: 0 }), TypeError);
  // 4096 - 21 = 4075 bytes of data fit; one more does not, unless extended messages are in use.
  t.equal(encodeNotification({ type: 'NOTIFICATION', code: 3, subcode: 1, data: '00'.repeat(4075) }).length, 4096);
  t.throws(
    () => encodeNotification({ type: 'NOTIFICATION', code: 3, subcode: 1, data: '00'.repeat(4076) }),
    RangeError,
  );
  t.equal(
    encodeNotification(
      { type: 'NOTIFICATION', code: 3, subcode: 1, data: '00'.repeat(4076) },
      { maxMessageLength: 65535 },
    ).length,
    4097,
  );
});

t.test('decode(encode(x)) keeps the fields', async (t) => {
  const out = encodeNotification({
    type: 'NOTIFICATION',
    code: 6,
    subcode: 4,
    shutdownMessage: 'upgrade to 2.1 — back in 5 min',
  });
  const msg = decodeNotification(out, 0, out.length);
  t.equal(msg.shutdownMessage, 'upgrade to 2.1 — back in 5 min');
  t.equal(msg.length, out.length);
  t.equal(hex(encodeNotification(msg)), hex(out), 'decoded message re-encodes byte for byte');
});
