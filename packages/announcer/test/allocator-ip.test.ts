// The allocator's address arithmetic: parse, canonical text (RFC 5952), buggy-address counting.
import t from 'tap';
import { canonicalIP, countBuggyIPs, formatIP, isBuggyIP, parseIP } from '../src/allocation/allocator-ip.js';

t.test('parse and format', async (t) => {
  t.strictSame(parseIP('192.0.2.1'), { family: 4, value: 0xc0000201n });
  t.strictSame(parseIP(' 203.0.113.255 '), { family: 4, value: 0xcb0071ffn });
  t.strictSame(parseIP('2001:db8::1'), { family: 6, value: 0x20010db8000000000000000000000001n });
  t.strictSame(parseIP('::ffff:192.0.2.1'), { family: 6, value: 0xffffc0000201n });
  t.strictSame(parseIP('::'), { family: 6, value: 0n });
  for (const bad of ['192.0.2', '192.0.2.256', '2001:db8::1%eth0', '2001:db8::/32', 'example.org', '', '192.0.2.01']) {
    t.equal(parseIP(bad), undefined, `${JSON.stringify(bad)} is not an address`);
  }
  t.equal(formatIP(4, 0xc6336401n), '198.51.100.1');
  t.equal(formatIP(6, 0n), '::');
  t.equal(formatIP(6, 1n), '::1');
  t.equal(formatIP(6, 0x20010db8000000000000000000000000n), '2001:db8::');
  t.equal(formatIP(6, 0x20010db8000000010000000000000001n), '2001:db8:0:1::1', 'the longest zero run is shortened');
  t.equal(formatIP(6, 0x20010db8000000000001000000000001n), '2001:db8::1:0:0:1', 'the first of two equal runs');
  t.equal(formatIP(6, 0x20010db8000100010001000100010001n), '2001:db8:1:1:1:1:1:1');
  t.equal(
    formatIP(6, 0x20010db8000000010001000100010001n),
    '2001:db8:0:1:1:1:1:1',
    'a single zero group is not shortened',
  );
  t.equal(canonicalIP('2001:DB8:0:0::0:1'), '2001:db8::1');
  t.equal(canonicalIP('nope'), undefined);
});

t.test('buggy addresses', async (t) => {
  t.equal(isBuggyIP(4, 0xc0000200n), true, '.0');
  t.equal(isBuggyIP(4, 0xc00002ffn), true, '.255');
  t.equal(isBuggyIP(4, 0xc0000201n), false);
  t.equal(isBuggyIP(6, 0x20010db8000000000000000000000000n), false, 'IPv6 is never buggy');
  const a = (s: string): bigint => parseIP(s)!.value;
  t.equal(countBuggyIPs(4, a('192.0.2.0'), a('192.0.2.255')), 2n, 'a /24 has one .0 and one .255');
  t.equal(countBuggyIPs(4, a('192.0.2.1'), a('192.0.2.254')), 0n);
  t.equal(countBuggyIPs(4, a('192.0.2.255'), a('192.0.3.0')), 2n);
  t.equal(countBuggyIPs(4, a('198.51.0.0'), a('198.51.255.255')), 512n, 'a /16 has 256 of each');
  t.equal(countBuggyIPs(4, 0n, 0n), 1n, '0.0.0.0');
  t.equal(countBuggyIPs(4, a('192.0.2.9'), a('192.0.2.1')), 0n, 'an empty range');
  // Brute force over odd-shaped ranges.
  for (const [first, last] of [
    [5n, 1000n],
    [255n, 767n],
    [256n, 256n],
    [1n, 254n],
  ] as const) {
    let n = 0n;
    for (let v = first; v <= last; v++) if (v % 256n === 0n || v % 256n === 255n) n++;
    t.equal(countBuggyIPs(4, first, last), n, `[${first}, ${last}]`);
  }
});
