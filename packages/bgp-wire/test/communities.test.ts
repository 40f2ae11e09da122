import t from 'tap';
import {
  WELL_KNOWN_COMMUNITIES,
  communityName,
  decodeExtendedCommunities,
  formatCommunity,
  formatExtendedCommunity,
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

t.test('decodeExtendedCommunities keeps unknown kinds raw', async (t) => {
  const buf = new Uint8Array(Buffer.from('4002fbf000000064' + '0006fbf000000001', 'hex'));
  // 0x40/0x02 is non-transitive (no route target); 0x00/0x06 is a subtype we do not name.
  t.strictSame(decodeExtendedCommunities(buf, 0, 16), [
    { type: 0x40, subtype: 0x02, hex: '4002fbf000000064' },
    { type: 0x00, subtype: 0x06, hex: '0006fbf000000001' },
  ]);
});
