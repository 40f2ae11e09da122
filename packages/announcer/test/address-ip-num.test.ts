// The config's address math is ip-num's (config/address.ts); the allocator keeps a hand-written parser
// and formatter for its per-address hot path (allocation/allocator-ip.ts). They must accept the same
// text and write the same canonical text, and our overlap must not inherit ip-num's isOverlapping bug.
import t from 'tap';
import { IPv4, RangedSet } from 'ip-num';
import { formatIP, parseIP } from '../src/allocation/allocator-ip.js';
import {
  formatAddress,
  parseAddress,
  parseAddressRange,
  rangeSet,
  rangesOverlap,
  shortestCoveringPrefix,
} from '../src/config/address.js';
import type { AddressRange } from '../src/config/types.js';

/** Deterministic pseudo-random numbers (xorshift32). */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const key = (a: { family: number; value: bigint } | undefined): string =>
  a === undefined ? 'not an address' : `IPv${a.family} ${a.value.toString(16)}`;

t.test('ip-num (config) and the allocator accept exactly the same address text', async (t) => {
  const valid = [
    '192.0.2.1',
    '0.0.0.0',
    '255.255.255.255',
    '2001:db8::1',
    '::',
    '::1',
    '1::',
    '::ffff:192.0.2.1',
    '1:2:3:4:5:6:7:8',
    '1:2:3:4:5:6:1.2.3.4',
    'fe80::1:2',
    '2001:DB8:0:0::0:1',
  ];
  const cases = new Set<string>([
    ...valid,
    '192.0.2.01',
    '192.0.2',
    '192.0.2.256',
    '1.2.3.4.5',
    'fe80::1%eth0',
    '1::%',
    '2001:db8::/64',
    '192.0.2.1/32',
    '1::2::3',
    ':::',
    '2001:0db8::00001',
    '::ffff:192.0.2.01',
    '1:2:3:4:5:6:7:8:9',
    '',
  ]);
  const next = random(0x2545f491);
  const alphabet = '0123456789abcdefABCDEFg:.%/ -';
  const pick = (s: string): string => s[Math.floor(next() * s.length)]!;
  while (cases.size < 20000) {
    let s: string;
    if (next() < 0.5) {
      s = '';
      for (let n = 1 + Math.floor(next() * 14); n > 0; n--) s += pick(alphabet);
    } else {
      s = valid[Math.floor(next() * valid.length)]!;
      for (let n = 1 + Math.floor(next() * 3); n > 0; n--) {
        const at = Math.floor(next() * (s.length + 1));
        const op = next();
        s =
          op < 0.4
            ? s.slice(0, at) + pick(alphabet) + s.slice(at)
            : op < 0.8
              ? s.slice(0, at) + s.slice(at + 1)
              : s.slice(0, at) + pick(alphabet) + s.slice(at + 1);
      }
    }
    cases.add(s);
  }
  const differ: string[] = [];
  let accepted = 0;
  for (const s of cases) {
    const config = key(parseAddress(s));
    // The allocator trims what it parses (annotations); the config does not.
    const allocator = s.trim() === s ? key(parseIP(s)) : 'not an address';
    if (config !== 'not an address') accepted++;
    if (config !== allocator) differ.push(`${JSON.stringify(s)}: config ${config}, allocator ${allocator}`);
  }
  t.strictSame(differ.slice(0, 10), [], `no text parsed differently (${cases.size} texts)`);
  t.ok(accepted > 1000, `enough of them are addresses (${accepted})`);
  t.equal(parseAddress('fe80::1%eth0'), undefined, 'a zone is refused (ip-num takes it)');
  t.equal(parseAddress('2001:db8::/64'), undefined, 'a prefix is not an address');
});

t.test('ip-num (config) and the allocator write the same canonical text (RFC 5952)', async (t) => {
  const values = [
    0n,
    1n,
    0xffffc0000201n,
    0xffff00000000n,
    (1n << 128n) - 1n,
    0x20010db8000000000001000000000001n,
    0x20010db8000000010001000100010001n,
  ];
  const next = random(0x9e3779b9);
  for (let i = 0; i < 5000; i++) {
    let v = 0n;
    for (let g = 0; g < 8; g++) {
      const r = next();
      v = (v << 16n) | BigInt(r < 0.5 ? 0 : r < 0.7 ? Math.floor(next() * 16) : Math.floor(next() * 65536));
    }
    values.push(v);
  }
  const differ = values
    .filter((v) => formatAddress(6, v) !== formatIP(6, v))
    .map((v) => `${v.toString(16)}: ${formatAddress(6, v)} vs ${formatIP(6, v)}`);
  t.strictSame(differ.slice(0, 10), [], `IPv6: ${values.length} values`);
  t.equal(
    formatAddress(6, 0xffffc0000201n),
    '::ffff:c000:201',
    'an IPv4-mapped address is written in hex, as the allocator writes it',
  );
  for (const v of [0n, 1n, 0xc0000201n, 0xffffffffn])
    t.equal(formatAddress(4, v), formatIP(4, v), `IPv4 ${formatIP(4, v)}`);
  t.strictSame(parseAddressRange('::ffff:192.0.2.0/124'), {
    family: 6,
    text: '::ffff:192.0.2.0/124',
    first: '::ffff:c000:200',
    last: '::ffff:c000:20f',
  });
});

t.test('overlap: ranges sharing only an end overlap (ip-num 1.6.2 isOverlapping says they do not)', async (t) => {
  const r = (text: string): AddressRange => parseAddressRange(text) as AddressRange;
  const set = (first: string, last: string) => new RangedSet(new IPv4(first), new IPv4(last));
  t.equal(
    set('192.0.2.0', '192.0.2.15').isOverlapping(set('192.0.2.15', '192.0.2.30')),
    false,
    "ip-num's answer (if this fails, ip-num was fixed)",
  );
  t.equal(rangesOverlap(r('192.0.2.0-192.0.2.15'), r('192.0.2.15-192.0.2.30')), true);
  t.equal(rangesOverlap(r('192.0.2.15-192.0.2.30'), r('192.0.2.0-192.0.2.15')), true, 'either way round');
  t.equal(rangesOverlap(r('2001:db8::/127'), r('2001:db8::1-2001:db8::9')), true, 'IPv6');
  t.equal(rangesOverlap(r('192.0.2.0/28'), r('192.0.2.0/28')), true, 'a range overlaps itself');
  t.equal(rangesOverlap(r('192.0.2.0/24'), r('192.0.2.7/32')), true, 'one inside the other');
  t.equal(rangesOverlap(r('0.0.0.0/32'), r('0.0.0.0/32')), true, 'the first IPv4 address');

  // Every pair of small ranges against interval arithmetic.
  const next = random(0x85ebca6b);
  const wrong: string[] = [];
  for (let i = 0; i < 3000; i++) {
    const bounds = (): [number, number] => {
      const a = Math.floor(next() * 24);
      const b = Math.floor(next() * 24);
      return a <= b ? [a, b] : [b, a];
    };
    const [a1, a2] = bounds();
    const [b1, b2] = bounds();
    const x = r(`192.0.2.${a1}-192.0.2.${a2}`);
    const y = r(`192.0.2.${b1}-192.0.2.${b2}`);
    if (rangesOverlap(x, y) !== (a1 <= b2 && b1 <= a2)) wrong.push(`${x.text} and ${y.text}`);
  }
  t.strictSame(wrong.slice(0, 10), []);
});

t.test('shortestCoveringPrefix against a brute force', async (t) => {
  // The largest aligned block inside [first, last], by trying every block of every size.
  const brute = (first: number, last: number): number => {
    for (let length = 0; length <= 32; length++) {
      const size = 2 ** (32 - length);
      // the first aligned block at or after `first`; it fits when it ends by `last`
      if (Math.ceil(first / size) * size + size - 1 <= last) return length;
    }
    return 32;
  };
  const next = random(0xc2b2ae35);
  for (let i = 0; i < 300; i++) {
    const a = Math.floor(next() * 600);
    const b = a + Math.floor(next() * 600);
    const text = `10.0.${a >> 8}.${a & 255}-10.0.${b >> 8}.${b & 255}`;
    const base = 10 * 2 ** 24;
    t.equal(shortestCoveringPrefix(parseAddressRange(text) as AddressRange), brute(base + a, base + b), text);
  }
});

t.test('rangeSet: an AddressRange as ip-num reads it, or undefined when it is not one', async (t) => {
  const range = (family: 4 | 6, first: string, last: string): AddressRange => ({
    family,
    text: `${first}-${last}`,
    first,
    last,
  });
  const set = rangeSet(range(6, '2001:db8::1', '2001:db8::ff'));
  t.equal(set?.getSize(), 255n);
  t.equal(rangeSet(range(4, '192.0.2.9', '192.0.2.1')), undefined, 'backwards');
  t.equal(rangeSet(range(4, '192.0.2.1', '2001:db8::1')), undefined, 'two families');
  t.equal(rangeSet(range(6, '192.0.2.1', '192.0.2.9')), undefined, 'not of its family');
  t.equal(rangeSet(range(4, '192.0.2.1', 'nope')), undefined, 'not an address');
  const parsed = parseAddressRange('192.0.2.0/30') as AddressRange;
  t.equal(rangeSet(parsed), rangeSet(parsed), 'read once per range');
  t.throws(() => rangesOverlap(range(4, 'x', 'y'), parsed), RangeError, 'overlap of a malformed range throws');
});
