import t from 'tap';
import { formatIpv6, parseIp, parseIpv4Into, isIpv4, isIpv6 } from '../src/ip.js';

t.test('IPv6 text follows RFC 5952', async (t) => {
  const cases: [string, string][] = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // leftmost of equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // one zero group stays
    ['0:0:0:0:0:0:0:0', '::'],
    ['0:0:0:0:0:0:0:1', '::1'],
    ['fe80:0:0:0:0:0:0:0', 'fe80::'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['2001:DB8::A', '2001:db8::a'],
  ];
  for (const [input, want] of cases) {
    const bytes = parseIp(input);
    t.ok(bytes, `parses ${input}`);
    t.equal(formatIpv6(bytes!, 0), want, `${input} -> ${want}`);
  }
});

t.test('address parsing rejects what is not an address', async (t) => {
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1..2.3',
    'a.b.c.d',
    '1.2.3.4 ',
    '2001:db8::1::1',
    '12345::',
    ':::',
    '1:2:3:4:5:6:7:8:9',
    'g::1',
    '2001:db8::1.2.3',
  ]) {
    t.equal(parseIp(bad), undefined, `rejects ${JSON.stringify(bad)}`);
  }
  t.ok(isIpv4('192.0.2.255'));
  t.notOk(isIpv4('2001:db8::1'));
  t.ok(isIpv6('2001:db8::1'));
  t.ok(isIpv6('1:2:3:4:5:6:1.2.3.4'));
  const out = new Uint8Array(4);
  t.ok(parseIpv4Into('x198.51.100.7y', out, 0, 1, 13));
  t.same([...out], [198, 51, 100, 7]);
});
