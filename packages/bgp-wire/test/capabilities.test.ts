import t from 'tap';
import {
  capabilityEncodingLength,
  capabilityName,
  decodeCapabilities,
  isRawCapability,
  writeCapability,
} from '../src/capabilities.js';
import { BgpWireError } from '../src/errors.js';
import type { Capability } from '../src/types.js';

const bytes = (hex: string): Uint8Array => new Uint8Array(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
const hexOf = (buf: Uint8Array): string => Buffer.from(buf).toString('hex');

function encode(cap: Capability): string {
  const out = new Uint8Array(capabilityEncodingLength(cap));
  const end = writeCapability(out, 0, cap);
  if (end !== out.length) throw new Error(`writeCapability ended at ${end}, length says ${out.length}`);
  return hexOf(out);
}

// Each vector: the capability TLV written out from the RFC layout, and the object it means.
const vectors: [string, string, Capability][] = [
  // RFC 4760 8: AFI 1, reserved 0, SAFI 1
  ['multiprotocol ipv4-unicast', '01 04 0001 00 01', { code: 1, name: 'multiprotocol', afi: 1, safi: 1 }],
  ['multiprotocol ipv6-unicast', '01 04 0002 00 01', { code: 1, name: 'multiprotocol', afi: 2, safi: 1 }],
  // RFC 2918: no value
  ['route-refresh', '02 00', { code: 2, name: 'route-refresh' }],
  // RFC 8950: AFI 1, SAFI 1 (2 bytes), next hop AFI 2; then AFI 1, SAFI 128 (VPN)
  [
    'extended-next-hop',
    '05 0c 0001 0001 0002  0001 0080 0002',
    {
      code: 5,
      name: 'extended-next-hop',
      families: [
        { afi: 1, safi: 1, nextHopAfi: 2 },
        { afi: 1, safi: 128, nextHopAfi: 2 },
      ],
    },
  ],
  ['extended-message', '06 00', { code: 6, name: 'extended-message' }],
  // RFC 4724 3 + RFC 8538: R=1 N=1, restart time 120 (0x078); ipv4-unicast F=1, ipv6-unicast F=0
  [
    'graceful-restart',
    '40 0a c078 0001 01 80 0002 01 00',
    {
      code: 64,
      name: 'graceful-restart',
      restarting: true,
      notification: true,
      restartTime: 120,
      families: [
        { afi: 1, safi: 1, forwardingState: true },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    },
  ],
  // Receiving-only speaker: no families; maximum restart time 4095
  [
    'graceful-restart without families',
    '40 02 0fff',
    { code: 64, name: 'graceful-restart', restarting: false, notification: false, restartTime: 4095, families: [] },
  ],
  // RFC 6793: AS 65551 = 0x0001000f
  ['four-octet-as', '41 04 0001000f', { code: 65, name: 'four-octet-as', asn: 65551 }],
  // RFC 7911 4: ipv4-unicast both (3), ipv6-unicast receive (1), then send (2), then an undefined value 7
  [
    'add-path',
    '45 10 0001 01 03  0002 01 01  0001 02 02  0002 01 07',
    {
      code: 69,
      name: 'add-path',
      families: [
        { afi: 1, safi: 1, sendReceive: 'both' },
        { afi: 2, safi: 1, sendReceive: 'receive' },
        { afi: 1, safi: 2, sendReceive: 'send' },
        { afi: 2, safi: 1, sendReceive: 7 },
      ],
    },
  ],
  ['enhanced-route-refresh', '46 00', { code: 70, name: 'enhanced-route-refresh' }],
  // RFC 9494: ipv4-unicast F=1 stale 3600 (0x000e10); ipv6-unicast F=0 stale 16777215
  [
    'long-lived-graceful-restart',
    '47 0e 0001 01 80 000e10  0002 01 00 ffffff',
    {
      code: 71,
      name: 'long-lived-graceful-restart',
      families: [
        { afi: 1, safi: 1, forwardingState: true, staleTime: 3600 },
        { afi: 2, safi: 1, forwardingState: false, staleTime: 16777215 },
      ],
    },
  ],
  // hostname "node-1" (6e 6f 64 65 2d 31), domain "example.org" (11 bytes)
  [
    'fqdn',
    '49 13 06 6e6f64652d31 0b 6578616d706c652e6f7267',
    { code: 73, name: 'fqdn', hostname: 'node-1', domainName: 'example.org' },
  ],
  // "née" is 6e c3 a9 65 in UTF-8; empty domain
  [
    'fqdn with UTF-8 and empty domain',
    '49 06 04 6ec3a965 00',
    { code: 73, name: 'fqdn', hostname: 'née', domainName: '' },
  ],
  // Codes without a typed form keep their value as hex, with a name where one is known.
  ['route-refresh-cisco', '80 00', { code: 128, name: 'route-refresh-cisco', hex: '' }],
  ['bgp-role (RFC 9234, role customer = 3)', '09 01 03', { code: 9, name: 'bgp-role', hex: '03' }],
  ['dynamic', '43 00', { code: 67, name: 'dynamic', hex: '' }],
  ['unassigned code', 'c8 03 010203', { code: 200, name: 'unknown', hex: '010203' }],
];

t.test('each capability decodes to its typed form and encodes back to the same bytes', async (t) => {
  for (const [what, hex, cap] of vectors) {
    const buf = bytes(hex);
    t.strictSame(decodeCapabilities(buf, 0, buf.length), [cap], `decode ${what}`);
    t.equal(encode(cap), hexOf(buf), `encode ${what}`);
    t.equal(capabilityEncodingLength(cap), buf.length, `length of ${what}`);
  }
});

t.test('a known capability with the wrong shape is kept raw under its name', async (t) => {
  const cases: [string, string, Capability][] = [
    ['multiprotocol of 3 bytes', '01 03 000101', { code: 1, name: 'multiprotocol', hex: '000101' }],
    ['route-refresh with a value', '02 01 00', { code: 2, name: 'route-refresh', hex: '00' }],
    ['extended-next-hop of 4 bytes', '05 04 00010001', { code: 5, name: 'extended-next-hop', hex: '00010001' }],
    ['extended-message with a value', '06 01 ff', { code: 6, name: 'extended-message', hex: 'ff' }],
    ['graceful-restart of 1 byte', '40 01 00', { code: 64, name: 'graceful-restart', hex: '00' }],
    ['graceful-restart with half a family', '40 04 0078 0001', { code: 64, name: 'graceful-restart', hex: '00780001' }],
    ['four-octet-as of 2 bytes', '41 02 fbf0', { code: 65, name: 'four-octet-as', hex: 'fbf0' }],
    ['add-path of 3 bytes', '45 03 000101', { code: 69, name: 'add-path', hex: '000101' }],
    ['enhanced-route-refresh with a value', '46 01 01', { code: 70, name: 'enhanced-route-refresh', hex: '01' }],
    [
      'long-lived-graceful-restart of 6 bytes',
      '47 06 000101800000',
      { code: 71, name: 'long-lived-graceful-restart', hex: '000101800000' },
    ],
    ['fqdn of 1 byte', '49 01 00', { code: 73, name: 'fqdn', hex: '00' }],
    ['fqdn hostname overrunning', '49 03 05 6161', { code: 73, name: 'fqdn', hex: '056161' }],
    ['fqdn with bytes after the domain', '49 04 01 61 00 ff', { code: 73, name: 'fqdn', hex: '016100ff' }],
    ['fqdn hostname not UTF-8', '49 03 01 ff 00', { code: 73, name: 'fqdn', hex: '01ff00' }],
    ['fqdn domain an overlong UTF-8 form', '49 04 00 02 c0af', { code: 73, name: 'fqdn', hex: '0002c0af' }],
  ];
  for (const [what, hex, cap] of cases) {
    const buf = bytes(hex);
    const [got] = decodeCapabilities(buf, 0, buf.length);
    t.strictSame(got, cap, what);
    t.ok(got && isRawCapability(got), `${what} is raw`);
    t.equal(encode(cap), hexOf(buf), `${what} round-trips`);
  }
});

t.test('a byte-order mark in the hostname survives the round trip', async (t) => {
  const buf = bytes('49 06 04 efbbbf61 00');
  const [cap] = decodeCapabilities(buf, 0, buf.length);
  t.strictSame(cap, { code: 73, name: 'fqdn', hostname: '\ufeffa', domainName: '' });
  t.equal(encode(cap!), hexOf(buf));
});

t.test('reserved bits are ignored on decode and written as zero', async (t) => {
  // multiprotocol reserved octet 0xff
  const mp = bytes('01 04 0001 ff 01');
  t.strictSame(decodeCapabilities(mp, 0, mp.length), [{ code: 1, name: 'multiprotocol', afi: 1, safi: 1 }]);
  // graceful restart: flag nibble 0xf (R, N and two reserved bits), restart time 0x0ff; family flags 0xff
  const gr = bytes('40 06 f0ff 0001 01 ff');
  const [cap] = decodeCapabilities(gr, 0, gr.length);
  t.strictSame(cap, {
    code: 64,
    name: 'graceful-restart',
    restarting: true,
    notification: true,
    restartTime: 255,
    families: [{ afi: 1, safi: 1, forwardingState: true }],
  });
  t.equal(encode(cap!), '4006c0ff00010180');
  // LLGR family flags 0x7f: F clear, reserved bits set
  const llgr = bytes('47 07 0001 01 7f 000001');
  t.strictSame(decodeCapabilities(llgr, 0, llgr.length), [
    {
      code: 71,
      name: 'long-lived-graceful-restart',
      families: [{ afi: 1, safi: 1, forwardingState: false, staleTime: 1 }],
    },
  ]);
});

t.test('several capabilities in one parameter value, with offsets relative to the message', async (t) => {
  // 5 filler bytes stand in for what precedes the parameter value in a message.
  const buf = bytes('aaaaaaaaaa 01 04 0002 00 01 02 00 41 04 0000fbf0');
  const caps = decodeCapabilities(buf, 5, buf.length, 0);
  t.strictSame(caps, [
    { code: 1, name: 'multiprotocol', afi: 2, safi: 1 },
    { code: 2, name: 'route-refresh' },
    { code: 65, name: 'four-octet-as', asn: 64496 },
  ]);
  // Appends to a given array.
  const out: Capability[] = [{ code: 6, name: 'extended-message' }];
  t.equal(decodeCapabilities(buf, 5, 13, 0, out), out);
  t.equal(out.length, 3);
});

t.test('a capability running past its parameter is an OPEN Message Error', async (t) => {
  // Value says 4 bytes, 2 remain. The capability starts at index 3; msgStart 1 makes its offset 2.
  const over = bytes('00 aaaa 41 04 0001');
  t.throws(() => decodeCapabilities(over, 3, over.length, 1), {
    name: 'BgpWireError',
    code: 2,
    subcode: 0,
    offset: 2,
    action: 'session-reset',
  });
  // A lone code octet: the header itself runs past the end.
  const lone = bytes('02 00 41');
  t.throws(() => decodeCapabilities(lone, 0, lone.length), { code: 2, subcode: 0, offset: 2 });
  // The end of the parameter, not of the buffer, bounds the capability.
  const bounded = bytes('41 04 0001 0000');
  t.throws(() => decodeCapabilities(bounded, 0, 4), { code: 2, subcode: 0, offset: 0 });
  try {
    decodeCapabilities(over, 3, over.length, 1);
  } catch (err) {
    t.ok(err instanceof BgpWireError);
    t.match((err as Error).message, /capability 65 \(four-octet-as\).*4 value bytes, only 2 left/);
  }
});

t.test('capability names', async (t) => {
  const names: [number, string][] = [
    [1, 'multiprotocol'],
    [2, 'route-refresh'],
    [5, 'extended-next-hop'],
    [6, 'extended-message'],
    [9, 'bgp-role'],
    [64, 'graceful-restart'],
    [65, 'four-octet-as'],
    [67, 'dynamic'],
    [69, 'add-path'],
    [70, 'enhanced-route-refresh'],
    [71, 'long-lived-graceful-restart'],
    [73, 'fqdn'],
    [128, 'route-refresh-cisco'],
    [0, 'unknown'],
    [255, 'unknown'],
  ];
  for (const [code, name] of names) t.equal(capabilityName(code), name, `${code}`);
});

t.test('encoding rejects bad input with TypeError or RangeError', async (t) => {
  const bad: [string, unknown, typeof TypeError | typeof RangeError][] = [
    [
      'restart time over 12 bits',
      { code: 64, name: 'graceful-restart', restarting: false, notification: false, restartTime: 4096, families: [] },
      RangeError,
    ],
    ['afi over 16 bits', { code: 1, name: 'multiprotocol', afi: 65536, safi: 1 }, RangeError],
    ['safi not an integer', { code: 1, name: 'multiprotocol', afi: 1, safi: 1.5 }, TypeError],
    ['asn over 32 bits', { code: 65, name: 'four-octet-as', asn: 2 ** 32 }, RangeError],
    ['negative asn', { code: 65, name: 'four-octet-as', asn: -1 }, RangeError],
    [
      'stale time over 24 bits',
      {
        code: 71,
        name: 'long-lived-graceful-restart',
        families: [{ afi: 1, safi: 1, forwardingState: false, staleTime: 2 ** 24 }],
      },
      RangeError,
    ],
    [
      'add-path direction not known',
      { code: 69, name: 'add-path', families: [{ afi: 1, safi: 1, sendReceive: 'sideways' }] },
      TypeError,
    ],
    ['hostname over 255 bytes', { code: 73, name: 'fqdn', hostname: 'a'.repeat(256), domainName: '' }, RangeError],
    ['hostname with a lone surrogate', { code: 73, name: 'fqdn', hostname: 'a\ud800', domainName: '' }, TypeError],
    ['families not an array', { code: 5, name: 'extended-next-hop' }, TypeError],
    ['a code with no typed form and no hex', { code: 9, name: 'bgp-role' }, TypeError],
    ['odd-length hex', { code: 200, name: 'unknown', hex: 'abc' }, TypeError],
    ['raw value over 255 bytes', { code: 200, name: 'unknown', hex: '00'.repeat(256) }, RangeError],
    ['raw code over 255', { code: 256, name: 'unknown', hex: '' }, RangeError],
  ];
  for (const [what, cap, type] of bad) {
    t.throws(() => capabilityEncodingLength(cap as Capability), type, what);
    t.throws(() => writeCapability(new Uint8Array(300), 0, cap as Capability), type, `${what} (write)`);
  }
  // 40 extended-next-hop tuples are 240 bytes and fit; 43 are 258 and do not.
  const tuples = (n: number) => Array.from({ length: n }, () => ({ afi: 1, safi: 1, nextHopAfi: 2 }));
  t.equal(capabilityEncodingLength({ code: 5, name: 'extended-next-hop', families: tuples(40) }), 242);
  t.throws(() => capabilityEncodingLength({ code: 5, name: 'extended-next-hop', families: tuples(43) }), RangeError);
  // Output buffer too small.
  t.throws(() => writeCapability(new Uint8Array(5), 0, { code: 65, name: 'four-octet-as', asn: 1 }), RangeError);
  // 255 bytes of hostname is the most that fits.
  t.equal(capabilityEncodingLength({ code: 73, name: 'fqdn', hostname: 'a'.repeat(253), domainName: '' }), 257);
});

t.test('writeCapability writes at an offset and returns the next one', async (t) => {
  const out = new Uint8Array(10);
  const next = writeCapability(out, 3, { code: 65, name: 'four-octet-as', asn: 65536 });
  t.equal(next, 9);
  t.equal(hexOf(out), '00000041040001000000');
});
