import t, { type Test } from 'tap';
import { MessageFramer, readHeader, splitMessages, writeHeader } from '../src/framing.js';
import { decodeMessage, encodeMessage } from '../src/message.js';
import { BgpWireError } from '../src/errors.js';

import { MARKER, bytes, hex, thrown } from './helpers/wire.js';
const concat = (...parts: Uint8Array[]): Uint8Array => new Uint8Array(Buffer.concat(parts));

const KEEPALIVE = bytes(`${MARKER} 0013 04`);
// Cease / Administrative Shutdown, communication "bye" (3 bytes): 19 + 2 + 1 + 3 = 25 = 0x19.
const NOTIFICATION = bytes(`${MARKER} 0019 03 06 02 03 627965`);
const ROUTE_REFRESH = bytes(`${MARKER} 0017 05 0001 00 01`);
/** A header announcing an UPDATE of `length` bytes, followed by that many bytes minus 19 of zeros. */
const update = (length: number): Uint8Array => {
  const out = new Uint8Array(length);
  out.fill(0xff, 0, 16);
  out[16] = length >>> 8;
  out[17] = length & 0xff;
  out[18] = 2;
  return out;
};

/** Checks err is a BgpWireError with these fields (data and offset as given). */
function checkError(t: Test, err: unknown, code: number, subcode: number, data: string, offset?: number): void {
  t.ok(err instanceof BgpWireError, 'throws BgpWireError');
  if (!(err instanceof BgpWireError)) return;
  t.equal(err.code, code, 'code');
  t.equal(err.subcode, subcode, 'subcode');
  t.equal(hex(err.data), data, 'data');
  t.equal(err.action, 'session-reset', 'action');
  if (offset !== undefined) t.equal(err.offset, offset, 'offset');
}

t.test('readHeader returns length and type of good headers', async (t) => {
  t.strictSame(readHeader(KEEPALIVE, 0), { length: 19, type: 4 });
  t.strictSame(readHeader(NOTIFICATION, 0), { length: 25, type: 3 });
  t.strictSame(readHeader(ROUTE_REFRESH, 0), { length: 23, type: 5 });
  t.strictSame(readHeader(concat(bytes('0000'), KEEPALIVE), 2), { length: 19, type: 4 }, 'at an offset');
  t.strictSame(readHeader(update(4096), 0), { length: 4096, type: 2 });
});

t.test('a marker that is not all ones is Connection Not Synchronized (1/1)', async (t) => {
  const buf = KEEPALIVE.slice();
  buf[5] = 0xfe;
  checkError(
    t,
    thrown(() => readHeader(buf, 0)),
    1,
    1,
    '',
    5,
  );
  const zeros = bytes(`${'00'.repeat(16)} 0013 04`);
  checkError(
    t,
    thrown(() => readHeader(zeros, 0)),
    1,
    1,
    '',
    0,
  );
});

t.test('a bad length is Bad Message Length (1/2) with the length field as data', async (t) => {
  const cases: [string, string][] = [
    ['KEEPALIVE of 20 bytes', `${MARKER} 0014 04`],
    ['KEEPALIVE of 18 bytes', `${MARKER} 0012 04`],
    ['OPEN of 28 bytes (minimum 29)', `${MARKER} 001c 01`],
    ['UPDATE of 22 bytes (minimum 23)', `${MARKER} 0016 02`],
    ['NOTIFICATION of 20 bytes (minimum 21)', `${MARKER} 0014 03`],
    ['ROUTE-REFRESH of 22 bytes (minimum 23)', `${MARKER} 0016 05`],
    ['UPDATE of 4097 bytes', `${MARKER} 1001 02`],
    ['OPEN of 0 bytes', `${MARKER} 0000 01`],
  ];
  for (const [what, input] of cases) {
    const buf = bytes(input);
    t.test(what, async (t) =>
      checkError(
        t,
        thrown(() => readHeader(buf, 0)),
        1,
        2,
        input.split(' ')[1]!,
        16,
      ),
    );
  }
});

t.test('an unknown type is Bad Message Type (1/3) with the type as data', async (t) => {
  for (const type of [0, 6, 255]) {
    const buf = bytes(`${MARKER} 0013`);
    const withType = concat(buf, Uint8Array.of(type));
    checkError(
      t,
      thrown(() => readHeader(withType, 0)),
      1,
      3,
      type.toString(16).padStart(2, '0'),
      18,
    );
  }
});

t.test('4096 is the limit unless extended messages are in use, then 65535', async (t) => {
  checkError(
    t,
    thrown(() => readHeader(update(4097), 0)),
    1,
    2,
    '1001',
  );
  t.strictSame(readHeader(update(4097), 0, 65535), { length: 4097, type: 2 });
  t.strictSame(readHeader(update(65535), 0, 65535), { length: 65535, type: 2 });
  // KEEPALIVE is 19 bytes whatever the maximum.
  checkError(
    t,
    thrown(() => readHeader(bytes(`${MARKER} 0014 04`), 0, 65535)),
    1,
    2,
    '0014',
  );
});

t.test('writeHeader writes marker, length and type', async (t) => {
  const out = new Uint8Array(23);
  writeHeader(out, 23, 5);
  t.equal(hex(out), `${MARKER}001705` + '00000000');
});

t.test('splitMessages returns whole messages and where the incomplete tail starts', async (t) => {
  const stream = concat(KEEPALIVE, NOTIFICATION, ROUTE_REFRESH, NOTIFICATION.subarray(0, 10));
  const { messages, rest } = splitMessages(stream);
  t.equal(messages.length, 3);
  t.equal(hex(messages[0]!), hex(KEEPALIVE));
  t.equal(hex(messages[1]!), hex(NOTIFICATION));
  t.equal(hex(messages[2]!), hex(ROUTE_REFRESH));
  t.equal(rest, 19 + 25 + 23);
  t.strictSame(splitMessages(new Uint8Array(0)), { messages: [], rest: 0 });
  // A whole header whose body is missing: nothing yet, tail from 0.
  t.strictSame(splitMessages(NOTIFICATION.subarray(0, 20)).rest, 0);
});

t.test('MessageFramer: one byte at a time', async (t) => {
  const stream = concat(KEEPALIVE, NOTIFICATION, ROUTE_REFRESH, KEEPALIVE);
  const framer = new MessageFramer();
  const got: string[] = [];
  const completedAt: number[] = [];
  for (let i = 0; i < stream.length; i++) {
    for (const m of framer.push(stream.subarray(i, i + 1)).messages) {
      got.push(hex(m));
      completedAt.push(i + 1);
    }
  }
  t.strictSame(got, [hex(KEEPALIVE), hex(NOTIFICATION), hex(ROUTE_REFRESH), hex(KEEPALIVE)]);
  t.strictSame(completedAt, [19, 44, 67, 86], 'each message is handed out as its last byte arrives');
  t.equal(framer.pending.length, 0);
});

t.test('MessageFramer: partial reads across header and body', async (t) => {
  const framer = new MessageFramer();
  t.strictSame(framer.push(NOTIFICATION.subarray(0, 10)), { messages: [] }, 'half a header');
  t.strictSame(framer.push(NOTIFICATION.subarray(10, 21)), { messages: [] }, 'header and two body bytes');
  t.equal(framer.pending.length, 21);
  const out = framer.push(concat(NOTIFICATION.subarray(21), KEEPALIVE.subarray(0, 18))).messages;
  t.strictSame(out.map(hex), [hex(NOTIFICATION)]);
  t.equal(framer.pending.length, 18);
  t.strictSame(framer.push(KEEPALIVE.subarray(18)).messages.map(hex), [hex(KEEPALIVE)]);
  t.equal(framer.pending.length, 0);
});

t.test('MessageFramer: many messages in one chunk', async (t) => {
  const chunk = concat(...Array.from({ length: 100 }, () => KEEPALIVE), ROUTE_REFRESH);
  const out = new MessageFramer().push(chunk).messages;
  t.equal(out.length, 101);
  t.ok(
    out.slice(0, 100).every((m) => hex(m) === hex(KEEPALIVE)),
    '100 KEEPALIVEs',
  );
  t.equal(hex(out[100]!), hex(ROUTE_REFRESH));
});

t.test('MessageFramer: the caller may reuse its chunk buffer', async (t) => {
  const framer = new MessageFramer();
  const chunk = NOTIFICATION.slice(0, 20);
  framer.push(chunk);
  chunk.fill(0); // the socket layer reuses its buffer
  t.strictSame(framer.push(NOTIFICATION.subarray(20)).messages.map(hex), [hex(NOTIFICATION)]);
});

t.test('MessageFramer: a bad header is reported as soon as the header is complete', async (t) => {
  const framer = new MessageFramer();
  t.strictSame(framer.push(update(4097).subarray(0, 18)), { messages: [] }, 'no header yet');
  checkError(t, framer.push(update(4097).subarray(18, 19)).error, 1, 2, '1001', 16);
  checkError(t, new MessageFramer().push(bytes(`${MARKER} 0013 07`)).error, 1, 3, '07', 18);
  checkError(t, new MessageFramer().push(bytes(`${'ff'.repeat(15)}00 0013 04`)).error, 1, 1, '', 15);
});

t.test('MessageFramer: messages before a bad header are handed out with the error', async (t) => {
  const framer = new MessageFramer();
  t.strictSame(framer.push(KEEPALIVE).messages.map(hex), [hex(KEEPALIVE)]);
  // A NOTIFICATION, then garbage, in one chunk: the NOTIFICATION must still be seen.
  const out = framer.push(concat(NOTIFICATION, bytes(`${'00'.repeat(16)} 0013 04`)));
  t.strictSame(out.messages.map(hex), [hex(NOTIFICATION)]);
  checkError(t, out.error, 1, 1, '', KEEPALIVE.length + NOTIFICATION.length);
  t.equal(framer.error, out.error, 'the framer keeps the error');
  const after = framer.push(KEEPALIVE);
  t.strictSame(after.messages, [], 'a broken stream yields nothing more');
  t.equal(after.error, out.error, 'and the same error');
});

t.test('MessageFramer: 4096 until extended messages are negotiated, then 65535', async (t) => {
  const big = update(5000);
  checkError(t, new MessageFramer().push(big).error, 1, 2, '1388');
  const framer = new MessageFramer(65535);
  const out = framer.push(big).messages;
  t.equal(out.length, 1);
  t.equal(out[0]!.length, 5000);
  const later = new MessageFramer();
  later.maxMessageLength = 65535; // raised after the OPEN exchange
  t.equal(later.push(concat(update(65535), KEEPALIVE)).messages.length, 2);
});

t.test('decodeMessage and encodeMessage handle KEEPALIVE', async (t) => {
  t.strictSame(decodeMessage(KEEPALIVE), { type: 'KEEPALIVE', length: 19 });
  const a = encodeMessage({ type: 'KEEPALIVE' });
  t.equal(hex(a), `${MARKER}001304`);
  a[0] = 0;
  t.equal(hex(encodeMessage({ type: 'KEEPALIVE' })), `${MARKER}001304`, 'each call returns a fresh buffer');
  checkError(
    t,
    thrown(() => decodeMessage(bytes(`${MARKER} 0014 04 00`))),
    1,
    2,
    '0014',
  );
});

t.test('decodeMessage refuses truncated input', async (t) => {
  checkError(
    t,
    thrown(() => decodeMessage(KEEPALIVE.subarray(0, 10))),
    1,
    2,
    '',
    10,
  );
  checkError(
    t,
    thrown(() => decodeMessage(NOTIFICATION.subarray(0, 22))),
    1,
    2,
    '0019',
    22,
  );
});
