// The small parsers under the validator: durations (Go/Kubernetes syntax), prefixes and address
// ranges, the largest prefix inside a range (MetalLB's aggregation rule), label keys and values.
import t from 'tap';
import { formatDuration, parseDuration } from '../src/config/duration.js';
import {
  formatAddress,
  parseAddress,
  parseAddressRange,
  parsePrefix,
  rangesOverlap,
  shortestCoveringPrefix,
} from '../src/config/address.js';
import { labelKeyProblem, labelValueProblem, objectNameProblem } from '../src/config/labels.js';
import type { AddressRange } from '../src/config/types.js';

t.test('parseDuration: Kubernetes duration text to seconds', async (t) => {
  const good: [string, number][] = [
    ['0', 0],
    ['0s', 0],
    ['90s', 90],
    ['1m30s', 90],
    ['1h', 3600],
    ['1.5h', 5400],
    ['500ms', 0.5],
    ['1s500ms', 1.5],
    ['.5s', 0.5],
    ['2h45m', 9900],
    ['100us', 0.0001],
    ['100µs', 0.0001],
    ['250ns', 2.5e-7],
    ['0.1s0.2s', 0.3],
  ];
  for (const [text, seconds] of good) t.equal(parseDuration(text), seconds, text);
  const bad: [string, RegExp][] = [
    ['', /empty string/],
    ['90', /needs a unit/],
    ['1.5', /needs a unit/],
    ['-5s', /must not be negative/],
    ['5 s', /must be a duration such as/],
    ['5d', /must be a duration such as/],
    ['s', /must be a duration such as/],
    ['5s ', /must be a duration such as/],
    ['1m-30s', /must be a duration such as/],
  ];
  for (const [text, why] of bad) t.match(parseDuration(text), why, JSON.stringify(text));
  t.strictSame([90, 3, 0, 3600, 65535, 0.5].map(formatDuration), ['1m30s', '3s', '0s', '1h', '18h12m15s', '500ms']);
});

t.test('parsePrefix and parseAddress', async (t) => {
  t.strictSame(parsePrefix('192.0.2.0/24'), { family: 4, network: 0xc0000200n, length: 24 });
  t.strictSame(parsePrefix('0.0.0.0/0'), { family: 4, network: 0n, length: 0 });
  t.strictSame(parsePrefix('2001:db8::/32'), { family: 6, network: 0x20010db8n << 96n, length: 32 });
  t.match(parsePrefix('192.0.2.1/24'), /host bits set: the prefix is 192\.0\.2\.0\/24/);
  t.match(parsePrefix('192.0.2.0/024'), /prefix length "024"/);
  t.match(parsePrefix('192.0.2.0/'), /prefix length ""/);
  t.match(parsePrefix('192.0.2/24'), /"192\.0\.2" in "192\.0\.2\/24" is not an IPv4 or IPv6 address/);
  t.match(parsePrefix('2001:db8::1'), /single address, not a prefix: write "2001:db8::1\/128"/);
  t.equal(parseAddress('192.0.2.01'), undefined, 'leading zeros are not accepted (ambiguous: octal?)');
  t.equal(parseAddress('fe80::1%eth0'), undefined, 'zone ids are not addresses');
  t.equal(
    formatAddress(6, parseAddress('2001:0DB8:0000:0000:0000:0000:0000:0001')!.value),
    '2001:db8::1',
    'RFC 5952 text',
  );
});

t.test('parseAddressRange and overlaps', async (t) => {
  const r = (text: string): AddressRange => parseAddressRange(text) as AddressRange;
  t.strictSame(r('192.0.2.10-192.0.2.20'), {
    family: 4,
    text: '192.0.2.10-192.0.2.20',
    first: '192.0.2.10',
    last: '192.0.2.20',
  });
  t.strictSame(r('2001:db8::/127'), { family: 6, text: '2001:db8::/127', first: '2001:db8::', last: '2001:db8::1' });
  t.strictSame(r('0.0.0.0/0'), { family: 4, text: '0.0.0.0/0', first: '0.0.0.0', last: '255.255.255.255' });
  t.strictSame(
    r('192.0.2.7-192.0.2.7'),
    { family: 4, text: '192.0.2.7-192.0.2.7', first: '192.0.2.7', last: '192.0.2.7' },
    'a one-address range',
  );
  t.equal(rangesOverlap(r('192.0.2.0/28'), r('192.0.2.15-192.0.2.30')), true, 'sharing one address is an overlap');
  t.equal(rangesOverlap(r('192.0.2.0/28'), r('192.0.2.16/28')), false, 'adjacent is not');
  t.equal(rangesOverlap(r('192.0.2.0/28'), r('::ffff:192.0.2.0/124')), false, 'families never overlap');
});

t.test('shortestCoveringPrefix: the largest aligned block inside a range', async (t) => {
  const cases: [string, number][] = [
    ['192.0.2.0/24', 24],
    ['192.0.2.7/32', 32],
    ['192.0.2.0-192.0.2.255', 24],
    ['192.0.2.1-192.0.2.255', 25], // .128/25 is the largest block inside
    ['192.0.2.0-192.0.2.47', 27], // .0/27 + .32/28
    ['192.0.2.10-192.0.2.20', 30], // .10/31 .12/30 .16/30 .20/32
    ['192.0.2.255-192.0.3.0', 32], // two single addresses across a /24 boundary
    ['0.0.0.0-255.255.255.255', 0],
    ['2001:db8::/64', 64],
    ['2001:db8::1-2001:db8::ffff', 113], // ::8000/113 is the largest block inside
    ['::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff', 0],
  ];
  for (const [text, length] of cases)
    t.equal(shortestCoveringPrefix(parseAddressRange(text) as AddressRange), length, text);
});

t.test('label keys, values and object names', async (t) => {
  for (const key of [
    'app',
    'node-role.kubernetes.io/control-plane',
    'kubernetes.io/hostname',
    'a_b.c-d',
    'x'.repeat(63),
  ])
    t.equal(labelKeyProblem(key), undefined, key);
  for (const key of ['', '-a', 'a-', 'a b', 'Example.com/x', '/x', 'x/', 'x'.repeat(64), 'a/b/c'])
    t.type(labelKeyProblem(key), 'string', JSON.stringify(key));
  for (const v of ['', 'a', 'A.b_c-1', 'x'.repeat(63)]) t.equal(labelValueProblem(v), undefined, JSON.stringify(v));
  for (const v of ['-a', 'a b', 'x'.repeat(64), 1, true, null])
    t.type(labelValueProblem(v), 'string', JSON.stringify(v));
  for (const n of ['tor-a', 'a.b', '1']) t.equal(objectNameProblem(n), undefined, n);
  for (const n of ['', 'Tor', 'a_b', '-a', 'a.', undefined, 5])
    t.type(objectNameProblem(n), 'string', JSON.stringify(n));
});
