import t from 'tap';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { encodeMessage } from '@bgp-announce/bgp-wire';
import { decode, parseFamilies, parseHexInput } from '../src/decode.js';
import { UsageError } from '../src/options.js';

const MARKER = 'ff'.repeat(16);
const flat = (hex: string): string => hex.replace(/\s+/g, '');
const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(flat(hex), 'hex'));
const hexOf = (buf: Uint8Array): string => Buffer.from(buf).toString('hex');
const parse = (lines: string[]): Record<string, unknown>[] =>
  lines.map((l) => JSON.parse(l) as Record<string, unknown>);
const keys = (line: string): string[] => Object.keys(JSON.parse(line) as object);

const KEEPALIVE = `${MARKER} 0013 04`;
// Cease / Administrative Shutdown with the RFC 9003 communication "maintenance" (11 bytes).
const SHUTDOWN = `${MARKER} 0021 03 06 02 0b 6d61696e74656e616e6365`;
const REFRESH_V6 = `${MARKER} 0017 05 0002 00 01`;
// UPDATE: ORIGIN IGP, AS_PATH AS_SEQUENCE [64496] (4-octet), NEXT_HOP 192.0.2.1, NLRI 203.0.113.0/24.
// Attributes 4 + 9 + 7 = 20 bytes; message 19 + 2 + 2 + 20 + 4 = 47 = 0x2f.
const UPDATE_V4 = `${MARKER} 002f 02 0000 0014 40010100 400206 0201 0000fbf0 400304 c0000201 18cb0071`;
// OPEN: version 4, AS 64496, hold time 90, BGP ID 192.0.2.1, one capabilities parameter holding
// multiprotocol IPv4 unicast (01 04 0001 00 01) and four-octet AS 64496 (41 04 0000fbf0).
// Optional parameters 2 + 12 = 14 bytes; message 29 + 14 = 43 = 0x2b.
const OPEN = `${MARKER} 002b 01 04 fbf0 005a c0000201 0e 02 0c 0104 00010001 4104 0000fbf0`;

t.test('KEEPALIVE, NOTIFICATION with shutdown message, ROUTE-REFRESH, raw bytes', async (t) => {
  const out = decode(bytes(KEEPALIVE + SHUTDOWN + REFRESH_V6));
  t.equal(out.status, 0);
  t.strictSame(out.stderr, []);
  t.strictSame(out.lines, [
    '{"type":"KEEPALIVE","length":19}',
    '{"type":"NOTIFICATION","length":33,"code":6,"subcode":2,"name":"Cease/Administrative Shutdown","data":"0b6d61696e74656e616e6365","shutdownMessage":"maintenance"}',
    '{"type":"ROUTE-REFRESH","length":23,"afi":2,"safi":1,"subtype":0}',
  ]);
});

t.test('a hand-built OPEN', async (t) => {
  const out = decode(bytes(OPEN));
  t.equal(out.status, 0);
  t.equal(out.lines.length, 1);
  t.strictSame(
    keys(out.lines[0]!),
    ['type', 'length', 'version', 'myAs', 'holdTime', 'bgpId', 'capabilities'],
    'keys in order, no layout',
  );
  t.strictSame(parse(out.lines)[0], {
    type: 'OPEN',
    length: 43,
    version: 4,
    myAs: 64496,
    holdTime: 90,
    bgpId: '192.0.2.1',
    capabilities: [
      { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
      { code: 65, name: 'four-octet-as', asn: 64496 },
    ],
  });
  const capabilities = (JSON.parse(out.lines[0]!) as { capabilities: object[] }).capabilities;
  t.strictSame(
    capabilities.map((c) => Object.keys(c).slice(0, 2)),
    [
      ['code', 'name'],
      ['code', 'name'],
    ],
    'code and name first',
  );
});

t.test('an OPEN built with the encoder', async (t) => {
  const wire = encodeMessage({
    type: 'OPEN',
    version: 4,
    myAs: 23456,
    holdTime: 180,
    bgpId: '198.51.100.7',
    capabilities: [
      { code: 2, name: 'route-refresh' },
      { code: 65, name: 'four-octet-as', asn: 65551 },
    ],
  });
  const out = decode(wire);
  t.equal(out.status, 0);
  t.match(parse(out.lines)[0], {
    type: 'OPEN',
    length: wire.length,
    myAs: 23456,
    holdTime: 180,
    bgpId: '198.51.100.7',
    capabilities: [
      { code: 2, name: 'route-refresh' },
      { code: 65, name: 'four-octet-as', asn: 65551 },
    ],
  });
  t.notOk(out.lines[0]!.includes('"layout"'), 'layout is not printed');
});

t.test('a hand-built UPDATE', async (t) => {
  const out = decode(bytes(UPDATE_V4));
  t.equal(out.status, 0);
  t.strictSame(keys(out.lines[0]!), ['type', 'length', 'withdrawn', 'nlri', 'attributes']);
  t.strictSame(parse(out.lines)[0], {
    type: 'UPDATE',
    length: 47,
    withdrawn: [],
    nlri: [{ prefix: '203.0.113.0/24' }],
    attributes: { origin: 'igp', asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }], nextHop: '192.0.2.1' },
  });
});

t.test('an UPDATE built with the encoder, with MP_REACH and communities', async (t) => {
  const wire = encodeMessage({
    type: 'UPDATE',
    withdrawn: [{ prefix: '198.51.100.0/24' }],
    nlri: [],
    attributes: {
      origin: 'incomplete',
      asPath: [{ type: 'AS_SEQUENCE', asns: [65536, 64497] }],
      med: 10,
      communities: ['64496:100'],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8:1::/48' }] },
    },
  });
  const out = decode(wire);
  t.equal(out.status, 0);
  const msg = parse(out.lines)[0]!;
  t.match(msg, {
    type: 'UPDATE',
    length: wire.length,
    withdrawn: [{ prefix: '198.51.100.0/24' }],
    nlri: [],
    attributes: {
      origin: 'incomplete',
      asPath: [{ type: 'AS_SEQUENCE', asns: [65536, 64497] }],
      med: 10,
      communities: ['64496:100'],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '2001:db8:1::/48' }] },
    },
  });
  t.strictSame(
    Object.keys(msg.attributes as object),
    ['origin', 'asPath', 'med', 'communities', 'mpReach'],
    'attributes in contract order',
  );
});

t.test('End-of-RIB', async (t) => {
  const out = decode(bytes(`${MARKER} 0017 02 0000 0000`));
  t.equal(out.status, 0);
  t.match(parse(out.lines)[0], { type: 'UPDATE', length: 23, endOfRib: { afi: 1, safi: 1 } });
});

t.test('--as2 and --add-path change how UPDATEs are read', async (t) => {
  // AS_PATH with 2-octet AS 64496: 40 02 04 02 01 fbf0; attributes 4 + 7 + 7 = 18; length 45 = 0x2d.
  const as2 = decode(bytes(`${MARKER} 002d 02 0000 0012 40010100 400204 0201 fbf0 400304 c0000201 18cb0071`), {
    as2: true,
  });
  t.equal(as2.status, 0);
  t.match(parse(as2.lines)[0], { attributes: { asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }] } });
  // The same NLRI with path identifier 7 in front: length 51 = 0x33.
  const ap = `${MARKER} 0033 02 0000 0014 40010100 400206 0201 0000fbf0 400304 c0000201 00000007 18cb0071`;
  const withAddPath = decode(bytes(ap), { addPath: 'ipv4-unicast' });
  t.equal(withAddPath.status, 0);
  t.strictSame(parse(withAddPath.lines)[0]!.nlri, [{ prefix: '203.0.113.0/24', pathId: 7 }]);
  t.match(withAddPath.lines[0], /"nlri":\[\{"prefix":"203\.0\.113\.0\/24","pathId":7\}\]/, 'prefix before pathId');
  // Without --add-path the same bytes do not read as the same prefix.
  t.notSame(parse(decode(bytes(ap)).lines)[0]!.nlri, [{ prefix: '203.0.113.0/24', pathId: 7 }]);
});

t.test('--extended-message raises the limit to 65535', async (t) => {
  // An UPDATE of 4097 bytes: withdrawn length 0, attributes length 4074 of one unknown optional
  // transitive attribute (code 99) with a 4070-byte value (flags c0|10 extended length: 0xd0).
  const value = '00'.repeat(4070);
  const big = `${MARKER} 1001 02 0000 0fea d063 0fe6 ${value}`;
  const normal = decode(bytes(big));
  t.equal(normal.status, 1);
  t.match(parse(normal.lines), [{ type: 'ERROR', code: 1, subcode: 2, data: '1001', offset: 16 }]);
  const extended = decode(bytes(big), { extendedMessage: true });
  t.equal(extended.status, 0);
  t.match(parse(extended.lines)[0], { type: 'UPDATE', length: 4097, attributes: { unknown: [{ code: 99 }] } });
});

t.test('--hex input: whitespace, newlines and 0x are ignored', async (t) => {
  const text = `0x${flat(KEEPALIVE).toUpperCase()}\n  ${KEEPALIVE.replace(/ /g, '\n')}\r\n\t0X${flat(REFRESH_V6)}\n`;
  const out = decode(new Uint8Array(Buffer.from(text)), { hex: true });
  t.equal(out.status, 0);
  t.strictSame(
    parse(out.lines).map((m) => m.type),
    ['KEEPALIVE', 'KEEPALIVE', 'ROUTE-REFRESH'],
  );
  t.equal(hexOf(parseHexInput(' 0xff 01\n0A ')), 'ff010a');
  t.equal(parseHexInput('').length, 0);
  t.throws(() => parseHexInput('ff0'), UsageError, 'odd number of digits');
  t.throws(() => parseHexInput('ffzz'), UsageError, 'not hex');
  t.throws(() => parseHexInput('ff 0xg1'), UsageError);
});

t.test('bad --hex text is a usage error', async (t) => {
  const out = decode(new Uint8Array(Buffer.from('ff ff xx')), { hex: true });
  t.equal(out.status, 2);
  t.strictSame(out.lines, []);
  t.match(out.stderr[0], /non-hex character "x"/);
});

t.test('--add-path names are checked', async (t) => {
  t.strictSame(parseFamilies('ipv4-unicast, ipv6-unicast'), ['ipv4-unicast', 'ipv6-unicast']);
  t.strictSame(parseFamilies('ipv6-unicast,ipv6-unicast'), ['ipv6-unicast']);
  t.throws(() => parseFamilies(''), UsageError);
  const out = decode(bytes(KEEPALIVE), { addPath: 'ipv4-unicast,l2vpn-evpn' });
  t.equal(out.status, 2);
  t.strictSame(out.lines, []);
  t.match(out.stderr[0], /unknown family "l2vpn-evpn".*ipv4-unicast, ipv6-unicast/);
});

t.test('a bad message prints an ERROR and decoding goes on', async (t) => {
  // BoRR of 24 bytes (RFC 7313 5: must be 23) between two KEEPALIVEs.
  const borr = `${MARKER} 0018 05 0001 01 01 00`;
  const out = decode(bytes(KEEPALIVE + borr + KEEPALIVE));
  t.equal(out.status, 1);
  t.equal(out.lines.length, 3);
  const [first, err, last] = parse(out.lines);
  t.match(first, { type: 'KEEPALIVE' });
  t.strictSame(err, {
    type: 'ERROR',
    code: 7,
    subcode: 1,
    name: 'ROUTE-REFRESH Message Error/Invalid Message Length',
    action: 'session-reset',
    message: err!.message,
    offset: 19 + 16,
    data: flat(borr),
  });
  t.type(err!.message, 'string');
  t.match(last, { type: 'KEEPALIVE', length: 19 });
});

t.test('an OPEN with an unsupported version is an ERROR, the next message still decodes', async (t) => {
  const v3 = OPEN.replace(`002b 01 04`, `002b 01 03`);
  const out = decode(bytes(v3 + KEEPALIVE));
  t.equal(out.status, 1);
  t.match(parse(out.lines), [{ type: 'ERROR', code: 2, subcode: 1 }, { type: 'KEEPALIVE' }]);
});

t.test('an unknown message type with a sane length is skipped', async (t) => {
  const out = decode(bytes(`${KEEPALIVE} ${MARKER} 0017 07 00000000 ${KEEPALIVE}`));
  t.equal(out.status, 1);
  t.match(parse(out.lines), [
    { type: 'KEEPALIVE' },
    { type: 'ERROR', code: 1, subcode: 3, data: '07', offset: 19 + 18 },
    { type: 'KEEPALIVE' },
  ]);
});

t.test('framing errors stop decoding', async (t) => {
  const badMarker = `${'ff'.repeat(3)}00${'ff'.repeat(12)} 0013 04`;
  const marker = decode(bytes(KEEPALIVE + badMarker + KEEPALIVE));
  t.equal(marker.status, 1);
  t.equal(marker.lines.length, 2, 'nothing after the bad marker');
  t.match(parse(marker.lines)[1], {
    type: 'ERROR',
    code: 1,
    subcode: 1,
    name: 'Message Header Error/Connection Not Synchronized',
    offset: 19 + 3,
  });
  const length = decode(bytes(KEEPALIVE + `${MARKER} 0014 04 00` + KEEPALIVE));
  t.equal(length.status, 1);
  t.equal(length.lines.length, 2);
  t.match(parse(length.lines)[1], { type: 'ERROR', code: 1, subcode: 2, data: '0014', offset: 19 + 16 });
});

t.test('a trailing incomplete message is an ERROR at its start', async (t) => {
  const shortHeader = decode(bytes(KEEPALIVE + 'ffffffff'));
  t.equal(shortHeader.status, 1);
  t.match(parse(shortHeader.lines), [
    { type: 'KEEPALIVE' },
    { type: 'ERROR', code: 1, subcode: 2, offset: 19, message: /truncated/ },
  ]);
  const shortBody = decode(bytes(KEEPALIVE + flat(SHUTDOWN).slice(0, 2 * 30)));
  t.equal(shortBody.status, 1);
  t.match(parse(shortBody.lines), [
    { type: 'KEEPALIVE' },
    { type: 'ERROR', code: 1, subcode: 2, data: '0021', offset: 19, message: /33 bytes, 30 present/ },
  ]);
});

t.test('an UPDATE with RFC 7606 errors prints the UPDATE with its errors and exits 1', async (t) => {
  // ORIGIN with the undefined value 5: treat-as-withdraw (RFC 7606 7.1).
  const out = decode(bytes(UPDATE_V4.replace('40010100', '40010105')));
  t.equal(out.status, 1);
  t.equal(out.lines.length, 1);
  const msg = parse(out.lines)[0]!;
  t.equal(msg.type, 'UPDATE');
  t.match(msg.errors, [{ action: 'treat-as-withdraw', code: 3, subcode: 6 }]);
  t.strictSame(msg.nlri, [{ prefix: '203.0.113.0/24' }]);
});

t.test('empty input prints nothing and succeeds', async (t) => {
  t.strictSame(decode(new Uint8Array(0)), { lines: [], stderr: [], status: 0 });
  t.strictSame(decode(new Uint8Array(Buffer.from(' \n')), { hex: true }), { lines: [], stderr: [], status: 0 });
});

t.test('the installed command (bin/bgp-announce.js) decodes hex from stdin', async (t) => {
  const main = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
  const run = (args: string[], input = '') =>
    spawnSync(process.execPath, [main, ...args], { input, encoding: 'utf8', timeout: 30_000 });
  const ok = run(['decode', '--hex'], `${KEEPALIVE}\n${SHUTDOWN}\n`);
  t.equal(ok.status, 0, ok.stderr);
  t.equal(
    ok.stdout,
    '{"type":"KEEPALIVE","length":19}\n' +
      '{"type":"NOTIFICATION","length":33,"code":6,"subcode":2,"name":"Cease/Administrative Shutdown","data":"0b6d61696e74656e616e6365","shutdownMessage":"maintenance"}\n',
  );
  const bad = run(['decode', '--hex'], `${KEEPALIVE} ffff`);
  t.equal(bad.status, 1);
  t.match(bad.stdout.split('\n')[1], /"type":"ERROR"/);
  const missing = run(['decode', '/nonexistent/capture.bin']);
  t.equal(missing.status, 2);
  t.match(missing.stderr, /cannot read \/nonexistent\/capture\.bin: no such file/);
  t.notMatch(missing.stderr, /\n\s+at /, 'no stack trace');
  const unknownOption = run(['decode', '--bogus']);
  t.equal(unknownOption.status, 2);
  t.match(unknownOption.stderr, /unknown option/);
  const family = run(['decode', '--hex', '--add-path', 'vpnv4'], KEEPALIVE);
  t.equal(family.status, 2);
  t.match(family.stderr, /valid: ipv4-unicast, ipv6-unicast/);
});
