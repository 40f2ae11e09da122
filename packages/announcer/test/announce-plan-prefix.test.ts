// Prefix text of the announce plan: covering prefixes and static route prefixes, canonical text.
import t from 'tap';
import { formatIpv6, parseIp } from '@bgp-announce/bgp-wire';
import { coveringPrefix, parseAddress, parseStaticPrefix } from '../src/plan/announce-plan-prefix.js';

/** Deterministic pseudo-random numbers (xorshift32), so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

t.test('covering prefixes', async (t) => {
  const cases: [string, number, string][] = [
    ['203.0.113.77', 32, '203.0.113.77/32'],
    ['203.0.113.77', 24, '203.0.113.0/24'],
    ['203.0.113.77', 26, '203.0.113.64/26'],
    ['203.0.113.77', 29, '203.0.113.72/29'],
    ['203.0.113.77', 0, '0.0.0.0/0'],
    ['198.51.100.255', 31, '198.51.100.254/31'],
    ['2001:db8:1:2:3:4:5:6', 128, '2001:db8:1:2:3:4:5:6/128'],
    ['2001:db8:1:2:3:4:5:6', 64, '2001:db8:1:2::/64'],
    ['2001:db8:1:2:3:4:5:6', 65, '2001:db8:1:2::/65'],
    ['2001:db8:1:2:8000::1', 65, '2001:db8:1:2:8000::/65'],
    ['2001:DB8:0:0:0:0:0:1', 128, '2001:db8::1/128'],
    ['2001:db8:ffff::1', 36, '2001:db8:f000::/36'],
  ];
  for (const [ip, length, want] of cases) t.equal(coveringPrefix(parseAddress(ip)!, length), want, `${ip} /${length}`);
  t.equal(parseAddress('203.0.113.1.2'), undefined);
  t.equal(parseAddress('203.0.113.01'), undefined, 'leading zeros are not an address');
  t.strictSame(parseAddress('2001:db8::0:1')?.text, '2001:db8::1');
});

t.test('static route prefixes', async (t) => {
  t.strictSame(parseStaticPrefix('192.0.2.0/24'), { prefix: '192.0.2.0/24', hostBitsSet: false });
  t.strictSame(parseStaticPrefix('192.0.2.9'), { prefix: '192.0.2.9/32', hostBitsSet: false });
  t.strictSame(parseStaticPrefix('192.0.2.9/24'), { prefix: '192.0.2.0/24', hostBitsSet: true });
  t.strictSame(parseStaticPrefix('2001:DB8::/32'), { prefix: '2001:db8::/32', hostBitsSet: false });
  t.strictSame(parseStaticPrefix('2001:db8::1'), { prefix: '2001:db8::1/128', hostBitsSet: false });
  t.strictSame(parseStaticPrefix('2001:db8::/129'), { problem: '"2001:db8::/129" has a prefix length outside 0-128' });
  t.strictSame(parseStaticPrefix('192.0.2.0/'), { problem: '"192.0.2.0/" has a prefix length outside 0-32' });
  t.strictSame(parseStaticPrefix('192.0.2.0/-1'), { problem: '"192.0.2.0/-1" has a prefix length outside 0-32' });
  t.strictSame(parseStaticPrefix('example.org/24'), { problem: '"example.org/24" is not an IP prefix' });
});

t.test('address parsing agrees with bgp-wire on 20,000 generated IPv6 texts', async (t) => {
  const next = random(0x9e3779b9);
  let disagreements = 0;
  let valid = 0;
  for (let n = 0; n < 20000; n++) {
    // Mostly zero groups, so that "::" runs of every length and position occur.
    const groups = Array.from({ length: 8 }, () => (next() < 0.5 ? 0 : Math.floor(next() * 0x10000)));
    const hex = groups.map((g) => {
      const h = g.toString(16);
      return next() < 0.2 ? h.padStart(4, '0') : next() < 0.2 ? h.toUpperCase() : h;
    });
    let text = hex.join(':');
    const r = next();
    if (r < 0.4) {
      // compress a random run of zero groups (possibly none: then "::" is invalid with 8 groups)
      const start = Math.floor(next() * 8);
      let end = start;
      while (end < 8 && groups[end] === 0) end++;
      text = `${hex.slice(0, start).join(':')}::${hex.slice(end).join(':')}`;
    } else if (r < 0.5) {
      // damage: drop, double or add a character
      const at = Math.floor(next() * text.length);
      const pick = next();
      text =
        pick < 0.33
          ? text.slice(0, at) + text.slice(at + 1)
          : pick < 0.66
            ? text.slice(0, at) + ':' + text.slice(at)
            : text.slice(0, at) + 'g' + text.slice(at);
    }
    const bytes = parseIp(text);
    const want = bytes === undefined || bytes.length !== 16 ? undefined : formatIpv6(bytes, 0);
    const got = parseAddress(text);
    if (want !== undefined) valid++;
    if ((got === undefined ? undefined : got.text) !== want || (got !== undefined && got.family !== 6)) {
      if (disagreements++ < 5)
        t.fail(`${JSON.stringify(text)}: got ${JSON.stringify(got)}, bgp-wire ${JSON.stringify(want)}`);
    }
  }
  t.equal(disagreements, 0, 'no disagreements');
  t.ok(valid > 12000 && valid < 19000, `both valid and invalid texts were tried (${valid} valid)`);
});

t.test('edge texts', async (t) => {
  const cases: [string, string | undefined][] = [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['1:2:3:4:5:6:7::', '1:2:3:4:5:6:7:0'],
    ['::2:3:4:5:6:7:8', '0:2:3:4:5:6:7:8'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['2001:db8::192.0.2.1', '2001:db8::c000:201'],
    [':::', undefined],
    ['1:::2', undefined],
    ['1::2::3', undefined],
    ['1:2:3:4:5:6:7:8::', undefined],
    ['::1:2:3:4:5:6:7:8', undefined],
    ['1:2:3:4:5:6:7', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined],
    ['12345::', undefined],
    [':1::', undefined],
    ['1:', undefined],
    ['', undefined],
    ['192.0.2.1', '192.0.2.1'],
    ['0.0.0.0', '0.0.0.0'],
    ['192.0.2', undefined],
    ['192.0.2.1.', undefined],
    ['192.0.2.256', undefined],
    ['192.0.2.1000', undefined],
    ['192.0.2.-1', undefined],
  ];
  for (const [text, want] of cases) t.equal(parseAddress(text)?.text, want, JSON.stringify(text));
});
