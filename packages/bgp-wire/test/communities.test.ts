import t from 'tap';
import {
  WELL_KNOWN_COMMUNITIES,
  communityName,
  decodeExtendedCommunities,
  formatCommunity,
  formatExtendedCommunity,
  linkBandwidth,
  parseCommunity,
  parseExtendedCommunity,
  parseLargeCommunity,
  routeOrigin,
  routeTarget,
} from '../src/communities.js';

t.test('well-known communities have their IANA values', async (t) => {
  const iana: [string, number][] = [
    ['graceful-shutdown', 0xffff0000], // RFC 8326: 65535:0
    ['accept-own', 0xffff0001],
    ['llgr-stale', 0xffff0006],
    ['no-llgr', 0xffff0007],
    ['blackhole', 0xffff029a], // RFC 7999: 65535:666
    ['no-export', 0xffffff01],
    ['no-advertise', 0xffffff02],
    ['no-export-subconfed', 0xffffff03],
    ['no-peer', 0xffffff04],
  ];
  for (const [name, value] of iana) {
    t.equal(WELL_KNOWN_COMMUNITIES[name as keyof typeof WELL_KNOWN_COMMUNITIES], value, name);
    t.equal(parseCommunity(name), value, `parse ${name}`);
    t.equal(communityName(value), name, `name of ${value.toString(16)}`);
  }
  t.equal(formatCommunity(0xffff0000), '65535:0');
  t.equal(formatCommunity(0xffff029a), '65535:666');
  t.equal(parseCommunity('65535:666'), 0xffff029a);
  t.equal(communityName('65535:0'), 'graceful-shutdown');
});

t.test('parseCommunity: numbers, names, aliases', async (t) => {
  t.equal(parseCommunity('64496:100'), 0xfbf00064);
  t.equal(parseCommunity('0:0'), 0);
  t.equal(parseCommunity('65535:65535'), 0xffffffff);
  t.equal(parseCommunity('NO_EXPORT'), 0xffffff01);
  t.equal(parseCommunity('No-Advertise'), 0xffffff02);
  t.equal(parseCommunity('local-as'), 0xffffff03);
  t.equal(parseCommunity('GRACEFUL_SHUTDOWN'), 0xffff0000);
  for (const bad of [
    '65536:1',
    '1:65536',
    '1:',
    ':1',
    '1',
    'foo',
    '1:2:3',
    '-1:2',
    '1 :2',
    '',
    'constructor',
    '0x1:2',
  ]) {
    t.throws(() => parseCommunity(bad), TypeError, `rejects ${JSON.stringify(bad)}`);
  }
  t.equal(formatCommunity(0xfbf00064), '64496:100');
  t.equal(communityName(0xfbf00064), undefined);
});

t.test('large communities', async (t) => {
  t.strictSame(parseLargeCommunity('64496:1:2'), [64496, 1, 2]);
  t.strictSame(parseLargeCommunity('4294967295:0:4294967295'), [4294967295, 0, 4294967295]);
  for (const bad of ['4294967296:1:1', '1:2', '1:2:3:4', 'a:b:c', '1::2'])
    t.throws(() => parseLargeCommunity(bad), TypeError, bad);
});

t.test('route targets and route origins (RFC 4360 3-5, RFC 5668)', async (t) => {
  t.strictSame(routeTarget(64496, 100), {
    type: 0x00,
    subtype: 0x02,
    name: 'route-target',
    asn: 64496,
    value: 100,
    hex: '0002fbf000000064',
  });
  t.strictSame(routeTarget(64496, 4294967295).hex, '0002fbf0ffffffff', '2-octet AS: 32-bit value');
  t.strictSame(routeTarget(65536, 5), {
    type: 0x02,
    subtype: 0x02,
    name: 'route-target',
    asn: 65536,
    value: 5,
    hex: '0202000100000005',
  });
  t.strictSame(routeTarget('192.0.2.10', 7), {
    type: 0x01,
    subtype: 0x02,
    name: 'route-target',
    address: '192.0.2.10',
    value: 7,
    hex: '0102c000020a0007',
  });
  t.strictSame(routeOrigin(64496, 1).hex, '0003fbf000000001');
  t.throws(() => routeTarget(65536, 65536), RangeError, '4-octet AS: 16-bit value');
  t.throws(() => routeTarget('192.0.2.300', 1), TypeError);
  t.throws(() => routeTarget(-1, 1), RangeError);
});

t.test('parseExtendedCommunity and formatExtendedCommunity', async (t) => {
  t.strictSame(parseExtendedCommunity('rt:64496:100'), routeTarget(64496, 100));
  t.strictSame(parseExtendedCommunity('rt:65536:5'), routeTarget(65536, 5));
  t.strictSame(parseExtendedCommunity('RT:192.0.2.10:7'), routeTarget('192.0.2.10', 7));
  t.strictSame(parseExtendedCommunity('soo:64496:1'), routeOrigin(64496, 1));
  t.strictSame(parseExtendedCommunity('ro:64496:1'), routeOrigin(64496, 1));
  t.strictSame(parseExtendedCommunity('0x4300000000000001'), { type: 0x43, subtype: 0, hex: '4300000000000001' });
  t.strictSame(
    parseExtendedCommunity('0002fbf000000064'),
    routeTarget(64496, 100),
    'hex of a route target decodes typed',
  );
  for (const bad of ['rt:64496', 'xx:1:2', 'rt:4294967296:1', '43000000000000', 'rt:host:1'])
    t.throws(() => parseExtendedCommunity(bad), bad);
  t.equal(formatExtendedCommunity(routeTarget(64496, 100)), 'rt:64496:100');
  t.equal(formatExtendedCommunity(routeTarget('192.0.2.10', 7)), 'rt:192.0.2.10:7');
  t.equal(formatExtendedCommunity(routeOrigin(65536, 1)), 'ro:65536:1');
  t.equal(formatExtendedCommunity({ type: 0x43, subtype: 0, hex: '4300000000000001' }), '4300000000000001');
});

t.test('link bandwidth (RFC 10005): both forms, the value as an IEEE single-precision float', async (t) => {
  // 1 Mbps = 125,000 bytes per second = 0x47f42400 as a float32; AS 64497 = 0xfbf1.
  t.strictSame(linkBandwidth(64497, 125_000), {
    type: 0x00,
    subtype: 0x04,
    name: 'link-bandwidth',
    asn: 64497,
    bandwidth: 125_000,
    hex: '0004fbf147f42400',
  });
  t.strictSame(linkBandwidth(64497, 125_000, false).hex, '4004fbf147f42400', 'non-transitive form: type 0x40');
  t.equal(linkBandwidth(4200000000, 1).asn, 23456, 'a 4-octet AS is sent as AS_TRANS');
  t.equal(linkBandwidth(64497, 0.1).bandwidth, Math.fround(0.1), 'rounded to what the wire carries');
  t.equal(linkBandwidth(64497, 0).hex, '0004fbf100000000', 'zero is allowed');
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY, 1e39])
    t.throws(() => linkBandwidth(64497, bad), RangeError, `bandwidth ${bad}`);
  t.throws(() => linkBandwidth(-1, 1), RangeError, 'AS number');

  // FRR's `set extcommunity bandwidth 100` (Mbps): 12,500,000 bytes/s, transitive by default.
  const frr = new Uint8Array(Buffer.from('0004fde84b3ebc20' + '4004fde83f000000', 'hex'));
  t.strictSame(decodeExtendedCommunities(frr, 0, 16), [
    { type: 0x00, subtype: 0x04, name: 'link-bandwidth', asn: 65000, bandwidth: 12_500_000, hex: '0004fde84b3ebc20' },
    { type: 0x40, subtype: 0x04, name: 'link-bandwidth', asn: 65000, bandwidth: 0.5, hex: '4004fde83f000000' },
  ]);
  const negative = new Uint8Array(Buffer.from('0004fde8bf800000', 'hex'));
  t.equal(decodeExtendedCommunities(negative, 0, 8)[0]!.bandwidth, -1, 'a negative value is decoded as sent');
  const otherType = new Uint8Array(Buffer.from('0104c000020a0007', 'hex'));
  t.notOk(decodeExtendedCommunities(otherType, 0, 8)[0]!.bandwidth, 'subtype 4 of another type is not bandwidth');

  t.equal(formatExtendedCommunity(linkBandwidth(64497, 375_000)), 'lb:64497:375000');
  t.equal(formatExtendedCommunity(linkBandwidth(64497, 375_000, false)), 'lb-nt:64497:375000');
  t.strictSame(parseExtendedCommunity('lb:64497:375000'), linkBandwidth(64497, 375_000));
  t.strictSame(parseExtendedCommunity('LB-NT:64497:1.25e5'), linkBandwidth(64497, 125_000, false));
  t.strictSame(parseExtendedCommunity('0004fbf147f42400'), linkBandwidth(64497, 125_000), 'hex decodes typed');
  for (const bad of ['lb:64497', 'lb:64497:-1', 'lb:64497:1e40', 'lb:x:1'])
    t.throws(() => parseExtendedCommunity(bad), bad);
});

t.test('decodeExtendedCommunities keeps unknown kinds raw', async (t) => {
  const buf = new Uint8Array(Buffer.from('4002fbf000000064' + '0006fbf000000001', 'hex'));
  // 0x40/0x02 is non-transitive (no route target); 0x00/0x06 is a subtype we do not name.
  t.strictSame(decodeExtendedCommunities(buf, 0, 16), [
    { type: 0x40, subtype: 0x02, hex: '4002fbf000000064' },
    { type: 0x00, subtype: 0x06, hex: '0006fbf000000001' },
  ]);
});
