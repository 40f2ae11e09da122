// RouteMap: the Map<string, number> of the RIBs with canonical IPv4 keys packed in typed arrays.
// Checked against an ordinary Map under a long deterministic sequence of operations.
import t from 'tap';
import { RouteMap } from '../src/rib/route-map.js';

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

const PACKED = [
  '192.0.2.1/32',
  '0.0.0.0/0',
  '255.255.255.255/32',
  '198.51.100.0/24',
  '203.0.113.0/25#7',
  '203.0.113.0/25#4294967295',
  '192.0.2.0/24#0',
];
const NOT_PACKED = [
  '2001:db8::/32',
  '2001:db8::1/128#3',
  '192.0.2.01/32',
  '192.0.2.1/33',
  '256.0.2.1/32',
  '192.0.2.1',
  '192.0.2.1/032',
  '192.0.2.1/32#4294967296',
  '192.0.2.1/32#',
  '1.2.3/24',
  '',
];

/** What a RouteMap's iteration must give: packed keys in insertion order, then the others. */
function expectedEntries(ref: Map<string, number>, isPacked: (k: string) => boolean): [string, number][] {
  const all = [...ref];
  return [...all.filter(([k]) => isPacked(k)), ...all.filter(([k]) => !isPacked(k))];
}

t.test('which keys are packed', async (t) => {
  const m = new RouteMap();
  for (const k of [...PACKED, ...NOT_PACKED]) m.set(k, 1);
  t.equal(m.size, PACKED.length + NOT_PACKED.length);
  t.equal(m.packedSize, PACKED.length, 'canonical IPv4 keys (with or without a path id) are packed');
  t.strictSame([...m.otherKeys()], NOT_PACKED, 'IPv6, leading zeros, bad lengths, bad octets, bad path ids are not');
  t.strictSame([...m.keys()], [...PACKED, ...NOT_PACKED], 'keys come back as the exact text given');
  t.equal(m.get('192.0.2.1/32'), 1);
  t.equal(m.get('192.0.2.1/31'), undefined, 'the length is part of the key');
  t.equal(m.get('192.0.2.1/32#0'), undefined, 'a path id 0 is not the same as none');
  t.equal(m.get('192.0.2.01/32'), 1, 'non-canonical text is a key of its own');
  t.equal(m.has('192.0.2.2/32'), false);
});

t.test('replace and remove return the old value', async (t) => {
  const m = new RouteMap();
  t.equal(m.replace('192.0.2.0/24', 5), undefined);
  t.equal(m.replace('192.0.2.0/24', -6), 5, 'negative values (stale routes) are kept');
  t.equal(m.get('192.0.2.0/24'), -6);
  t.equal(m.remove('192.0.2.0/24'), -6);
  t.equal(m.remove('192.0.2.0/24'), undefined);
  t.equal(m.delete('2001:db8::/32'), false);
  m.set('2001:db8::/32', 2);
  t.equal(m.delete('2001:db8::/32'), true);
  t.equal(m.size, 0);
});

t.test('replaceIpv4 and removeIpv4: the same entries as the key text', async (t) => {
  const m = new RouteMap();
  const address = (0xc0 << 24) | (0x00 << 16) | (0x02 << 8) | 0x80; // 192.0.2.128
  t.equal(m.replaceIpv4(address, 25, undefined, 1), undefined);
  t.equal(m.get('192.0.2.128/25'), 1, 'found by its text');
  t.equal(m.replace('192.0.2.128/25', 2), 1, 'replaced by its text');
  t.equal(m.replaceIpv4(address | 0x7f, 25, undefined, 3), 2, 'bits past the length do not count');
  t.equal(m.replaceIpv4(address, 25, 0xfffffffe, 4), undefined, 'a path id makes another route');
  t.equal(m.get('192.0.2.128/25#4294967294'), 4);
  t.equal(m.replaceIpv4(0, 0, undefined, 5), undefined);
  t.same([...m.keys()], ['192.0.2.128/25', '192.0.2.128/25#4294967294', '0.0.0.0/0']);
  t.equal(m.removeIpv4(address, 25, 0xfffffffe), 4);
  t.equal(m.removeIpv4(address, 25, 0xfffffffe), undefined);
  t.equal(m.removeIpv4(address, 24, undefined), undefined, 'another length is another route');
  t.equal(m.remove('0.0.0.0/0'), 5);
  t.equal(m.removeIpv4(address, 25, undefined), 3);
  t.equal(m.size, 0);
  t.throws(() => m.replaceIpv4(address, 33, undefined, 1), RangeError);
});

t.test('behaves like Map<string, number> under 200,000 random operations', async (t) => {
  const next = random(0x2545f491);
  const keys: string[] = [];
  for (let i = 0; i < 3000; i++) keys.push(`10.${i >> 8}.${i & 0xff}.0/24`);
  for (let i = 0; i < 200; i++) keys.push(`192.0.2.${i}/32#${i % 3}`);
  for (let i = 0; i < 200; i++) keys.push(`2001:db8::${i.toString(16)}/128`);
  keys.push(...NOT_PACKED);
  const packed = new Set(keys.filter((k) => !k.includes(':') && !NOT_PACKED.includes(k)));
  const ref = new Map<string, number>();
  const m = new RouteMap();
  let mismatches = 0;
  for (let op = 0; op < 200_000; op++) {
    const key = keys[Math.floor(next() * keys.length)]!;
    const r = next();
    if (r < 0.55) {
      const value = Math.floor(next() * 2 ** 31) - 2 ** 30;
      if (m.replace(key, value) !== ref.get(key)) mismatches++;
      ref.set(key, value);
    } else if (r < 0.9) {
      if (m.remove(key) !== ref.get(key)) mismatches++;
      ref.delete(key);
    } else if (m.get(key) !== ref.get(key) || m.has(key) !== ref.has(key)) mismatches++;
    if (op % 20_000 === 0 && m.size !== ref.size) mismatches++;
  }
  t.equal(mismatches, 0, 'every get, has, replace and remove answered as the Map did');
  t.equal(m.size, ref.size);
  t.equal(m.packedSize, [...ref.keys()].filter((k) => packed.has(k)).length);
  t.strictSame(
    [...m],
    expectedEntries(ref, (k) => packed.has(k)),
    'iteration: packed keys in insertion order, then the others',
  );
  t.strictSame(
    [...m.values()],
    expectedEntries(ref, (k) => packed.has(k)).map(([, v]) => v),
  );
  const seen: string[] = [];
  m.forEach((v, k) => seen.push(`${k}=${v}`));
  t.equal(seen.length, ref.size);
});

t.test('empties and fills again; clear', async (t) => {
  const m = new RouteMap();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 5000; i++) m.set(`198.51.${(i >> 8) & 0xff}.${i & 0xff}/32`, i);
    t.equal(m.size, 5000);
    for (let i = 0; i < 5000; i += 2) m.delete(`198.51.${(i >> 8) & 0xff}.${i & 0xff}/32`);
    t.equal(m.get('198.51.0.1/32'), 1);
    t.equal(m.get('198.51.0.2/32'), undefined);
    for (let i = 1; i < 5000; i += 2) m.delete(`198.51.${(i >> 8) & 0xff}.${i & 0xff}/32`);
    t.equal(m.size, 0, `round ${round}: empty again`);
  }
  m.set('192.0.2.0/24', 1);
  m.set('2001:db8::/32', 2);
  m.clear();
  t.equal(m.size, 0);
  t.strictSame([...m], []);
  m.set('192.0.2.0/24', 3);
  t.strictSame([...m], [['192.0.2.0/24', 3]], 'usable after clear');
});

t.test('setting existing keys and deleting while iterating', async (t) => {
  const m = new RouteMap();
  for (let i = 0; i < 100; i++) m.set(`192.0.2.${i}/32`, i);
  for (const [k, v] of m) {
    if (v % 2 === 0) m.delete(k);
    else m.set(k, -v - 1);
  }
  t.equal(m.size, 50);
  t.strictSame([...m.values()].slice(0, 3), [-2, -4, -6]);
});

t.test('marks: markedGet, then unmarkedKeys lists the keys not asked for', async (t) => {
  const m = new RouteMap();
  const keys = [
    '192.0.2.0/24',
    '192.0.2.1/32',
    '198.51.100.0/24#2',
    '2001:db8::/32',
    '2001:db8:1::/48',
    '192.0.2.01/32',
  ];
  keys.forEach((k, i) => m.set(k, i));
  t.equal(m.markedGet('192.0.2.1/32'), 1);
  t.equal(m.markedGet('2001:db8::/32'), 3);
  t.equal(m.markedGet('203.0.113.0/24'), undefined, 'a key not in the map marks nothing');
  t.strictSame(m.unmarkedKeys(), ['192.0.2.0/24', '198.51.100.0/24#2', '2001:db8:1::/48', '192.0.2.01/32']);
  t.strictSame(m.unmarkedKeys(), keys, 'unmarkedKeys cleared the marks: now every key is unmarked');
  m.markedGet('192.0.2.0/24');
  m.markedGet('2001:db8:1::/48');
  m.clearMarks();
  t.equal(m.unmarkedKeys().length, keys.length, 'clearMarks clears packed and other marks');
  t.equal(m.size, keys.length, 'marks never change the contents');
  t.equal(m.get('192.0.2.1/32'), 1);
});

t.test('big tables grow in place past 4,096 entries: contents and order kept, holes compacted', async (t) => {
  const m = new RouteMap();
  const ref = new Map<string, number>();
  const key = (i: number): string => `10.${(i >> 16) & 0xff}.${(i >> 8) & 0xff}.${i & 0xff}/32`;
  for (let i = 0; i < 40_000; i++) {
    m.set(key(i), i);
    ref.set(key(i), i);
    if (i % 3 === 0 && i > 0) {
      m.delete(key(i - 1)); // holes, so that some grows compact instead
      ref.delete(key(i - 1));
    }
  }
  t.equal(m.size, ref.size);
  t.strictSame([...m.entries()], [...ref.entries()], 'same entries, in insertion order');
  m.clear();
  for (let i = 0; i < 10_000; i++) m.replaceIpv4((10 << 24) | i, 32, undefined, i);
  t.equal(m.get('10.0.39.15/32'), 9999, 'filled again after clear');
  t.equal(m.size, 10_000);
});

t.test('reserve keeps the contents and their order', async (t) => {
  const m = new RouteMap();
  for (let i = 0; i < 100; i++) m.set(`203.0.113.${i}/32`, i);
  m.delete('203.0.113.5/32');
  m.reserve(10_000);
  m.reserve(50); // smaller than what is there: nothing to do
  for (let i = 0; i < 5000; i++) m.set(`198.51.${i >> 8}.${i & 0xff}/32`, -i);
  t.equal(m.size, 99 + 5000);
  t.equal(m.get('203.0.113.4/32'), 4);
  t.equal(m.get('203.0.113.5/32'), undefined);
  t.equal(m.get('198.51.19.135/32'), -(19 * 256 + 135));
  t.strictSame([...m.keys()].slice(0, 6), [
    '203.0.113.0/32',
    '203.0.113.1/32',
    '203.0.113.2/32',
    '203.0.113.3/32',
    '203.0.113.4/32',
    '203.0.113.6/32',
  ]);
});
