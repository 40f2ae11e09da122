// The allocator's rules, one test each: next-fit allocation, exhaustion, requested addresses, the
// address-pool annotation and autoAssign, priority, serviceAllocation, avoidBuggyIPs, dual stack,
// pool changes, usage figures. Sharing and restore are in allocator-sharing.test.ts.
import t from 'tap';
import { Allocator, type AllocationResult } from '../src/allocation/allocator.js';
import type { AddressRange, IPAddressPool } from '../src/config/types.js';
import type { Service } from '../src/service/model.js';

const range = (first: string, last: string): AddressRange => ({
  family: first.includes(':') ? 6 : 4,
  text: `${first}-${last}`,
  first,
  last,
});
const pool = (name: string, ranges: AddressRange[], extra: Partial<IPAddressPool> = {}): IPAddressPool => ({
  name,
  ranges,
  autoAssign: true,
  avoidBuggyIPs: false,
  labels: {},
  ...extra,
});
const allocation = (
  priority: number | undefined,
  extra: Partial<NonNullable<IPAddressPool['serviceAllocation']>> = {},
): IPAddressPool['serviceAllocation'] => ({
  ...(priority === undefined ? {} : { priority }),
  namespaces: [],
  namespaceSelectors: [],
  serviceSelectors: [],
  ...extra,
});

interface SvcOptions {
  ns?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  loadBalancerIP?: string;
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
}
const svc = (name: string, o: SvcOptions = {}): Service => ({
  metadata: { name, namespace: o.ns ?? 'default', labels: o.labels ?? {}, annotations: o.annotations ?? {} },
  spec: {
    type: 'LoadBalancer',
    ports: [{ port: 80, protocol: 'TCP' }],
    ...(o.loadBalancerIP === undefined ? {} : { loadBalancerIP: o.loadBalancerIP }),
    ...(o.ipFamilies === undefined ? {} : { ipFamilies: o.ipFamilies }),
    ...(o.ipFamilyPolicy === undefined ? {} : { ipFamilyPolicy: o.ipFamilyPolicy }),
  },
});
const ips = (r: AllocationResult): string[] | string => (r.ok ? r.ips : `${r.reason}: ${r.message}`);

t.test('next-fit allocation, stable assignments, exhaustion', async (t) => {
  const a = new Allocator([pool('public', [range('192.0.2.1', '192.0.2.4')])]);
  t.strictSame(a.assign(svc('a')), { ok: true, ips: ['192.0.2.1'], pool: 'public', changed: true });
  t.strictSame(ips(a.assign(svc('b'))), ['192.0.2.2']);
  t.strictSame(a.assign(svc('a')), { ok: true, ips: ['192.0.2.1'], pool: 'public', changed: false }, 'kept, unchanged');
  t.equal(a.release('default/a'), true);
  t.equal(a.release('default/a'), false, 'released twice');
  t.strictSame(ips(a.assign(svc('c'))), ['192.0.2.3'], 'the cursor moves on; a released address waits');
  t.strictSame(ips(a.assign(svc('d'))), ['192.0.2.4']);
  t.strictSame(ips(a.assign(svc('e'))), ['192.0.2.1'], 'wraps around to the released address');
  t.strictSame(a.assign(svc('f')), {
    ok: false,
    reason: 'PoolExhausted',
    message: "no free address in pool 'public' (4 of 4 in use)",
  });
  t.strictSame(a.poolUsage(), [{ pool: 'public', family: 4, used: 4, total: 4 }]);
  t.strictSame(
    a.assignments(),
    new Map([
      ['default/b', { ips: ['192.0.2.2'], pool: 'public' }],
      ['default/c', { ips: ['192.0.2.3'], pool: 'public' }],
      ['default/d', { ips: ['192.0.2.4'], pool: 'public' }],
      ['default/e', { ips: ['192.0.2.1'], pool: 'public' }],
    ]),
  );
  t.equal(a.assignments().has('default/f'), false, 'a failed Service holds nothing');
});

t.test('requested addresses', async (t) => {
  const a = new Allocator([
    pool('public', [range('192.0.2.1', '192.0.2.10')]),
    pool('reserved', [range('198.51.100.1', '198.51.100.5')], { autoAssign: false }),
  ]);
  t.strictSame(
    a.assign(svc('a', { loadBalancerIP: '192.0.2.7' })),
    { ok: true, ips: ['192.0.2.7'], pool: 'public', changed: true },
    'spec.loadBalancerIP',
  );
  t.strictSame(
    a.assign(svc('b', { annotations: { 'bgp-announce.io/loadBalancerIPs': '198.51.100.3' } })),
    { ok: true, ips: ['198.51.100.3'], pool: 'reserved', changed: true },
    'annotation, from a pool without autoAssign',
  );
  t.strictSame(
    ips(
      a.assign(
        svc('c', { loadBalancerIP: '192.0.2.8', annotations: { 'bgp-announce.io/loadBalancerIPs': ' 192.0.2.8 ' } }),
      ),
    ),
    ['192.0.2.8'],
    'both set, the same',
  );
  const r = a.assign(
    svc('d', { loadBalancerIP: '192.0.2.9', annotations: { 'bgp-announce.io/loadBalancerIPs': '192.0.2.8' } }),
  );
  t.equal(r.ok ? '' : r.reason, 'InvalidRequest');
  t.match(
    r.ok ? '' : r.message,
    'spec.loadBalancerIP (192.0.2.9) and annotation bgp-announce.io/loadBalancerIPs (192.0.2.8) disagree',
  );
  t.strictSame(a.assign(svc('e', { loadBalancerIP: '192.0.2.7' })), {
    ok: false,
    reason: 'RequestedIPInUse',
    message: 'requested 192.0.2.7 is held by default/a, which does not allow sharing',
  });
  t.strictSame(a.assign(svc('f', { loadBalancerIP: '203.0.113.9' })), {
    ok: false,
    reason: 'RequestedIPNotInPool',
    message: 'requested 203.0.113.9 in no address pool',
  });
  t.strictSame(a.assign(svc('g', { loadBalancerIP: 'not-an-ip' })), {
    ok: false,
    reason: 'InvalidRequest',
    message: 'spec.loadBalancerIP: "not-an-ip" is not an IP address',
  });
  t.strictSame(a.assign(svc('h', { annotations: { 'bgp-announce.io/loadBalancerIPs': '192.0.2.5,192.0.2.6' } })), {
    ok: false,
    reason: 'InvalidRequest',
    message: 'annotation bgp-announce.io/loadBalancerIPs: at most one address per family, got 192.0.2.5 and 192.0.2.6',
  });
  const v6 = a.assign(
    svc('i', { ipFamilies: ['IPv4'], annotations: { 'bgp-announce.io/loadBalancerIPs': '2001:db8::5' } }),
  );
  t.match(v6, {
    ok: false,
    reason: 'InvalidRequest',
    message: /2001:db8::5 is IPv6, but the Service's ipFamilies allow only IPv4/,
  });
  t.strictSame(
    a.assign(svc('j', { loadBalancerIP: '198.51.100.2', annotations: { 'bgp-announce.io/address-pool': 'public' } })),
    {
      ok: false,
      reason: 'RequestedIPNotInPool',
      message: "requested 198.51.100.2 not in pool 'public'",
    },
  );

  // A malformed request leaves the current assignment alone; a valid new request moves it.
  t.strictSame(ips(a.assign(svc('k'))), ['192.0.2.1']);
  t.match(a.assign(svc('k', { loadBalancerIP: '192.0.2.300' })), { ok: false, reason: 'InvalidRequest' });
  t.strictSame(a.assignments().get('default/k'), { ips: ['192.0.2.1'], pool: 'public' });
  t.strictSame(a.assign(svc('k', { loadBalancerIP: '192.0.2.10' })), {
    ok: true,
    ips: ['192.0.2.10'],
    pool: 'public',
    changed: true,
  });
  t.strictSame(
    ips(a.assign(svc('l', { loadBalancerIP: '192.0.2.1' }))),
    ['192.0.2.1'],
    'the old address is free again',
  );
  // A request that cannot be met releases the (no longer valid) current assignment.
  t.match(a.assign(svc('k', { loadBalancerIP: '192.0.2.7' })), { ok: false, reason: 'RequestedIPInUse' });
  t.equal(a.assignments().has('default/k'), false);
});

t.test('address-pool annotation and autoAssign', async (t) => {
  const cheap = pool('cheap', [range('192.0.2.1', '192.0.2.2')]);
  const expensive = pool('expensive', [range('198.51.100.1', '198.51.100.2')], { autoAssign: false });
  const a = new Allocator([expensive, cheap]);
  t.strictSame(ips(a.assign(svc('a'))), ['192.0.2.1']);
  t.strictSame(ips(a.assign(svc('b'))), ['192.0.2.2']);
  t.strictSame(
    a.assign(svc('c')),
    { ok: false, reason: 'PoolExhausted', message: "no free address in pool 'cheap' (2 of 2 in use)" },
    'a pool without autoAssign is not used',
  );
  t.strictSame(a.assign(svc('c', { annotations: { 'bgp-announce.io/address-pool': 'expensive' } })), {
    ok: true,
    ips: ['198.51.100.1'],
    pool: 'expensive',
    changed: true,
  });
  t.strictSame(a.assign(svc('d', { annotations: { 'bgp-announce.io/address-pool': 'nope' } })), {
    ok: false,
    reason: 'PoolNotFound',
    message: "no address pool named 'nope'",
  });
  t.strictSame(
    a.assign(svc('a', { annotations: { 'bgp-announce.io/address-pool': 'expensive' } })),
    { ok: true, ips: ['198.51.100.2'], pool: 'expensive', changed: true },
    'moves when the annotation names another pool',
  );
  t.strictSame(ips(a.assign(svc('e'))), ['192.0.2.1'], "a's old address is free");
  const only = new Allocator([expensive]);
  t.strictSame(only.assign(svc('x')), {
    ok: false,
    reason: 'NoPoolMatches',
    message: "no address pool may give default/x an address: 'expensive' has autoAssign false",
  });
  t.strictSame(new Allocator([]).assign(svc('x')), {
    ok: false,
    reason: 'NoPoolMatches',
    message: 'no address pool may give default/x an address (no pools configured)',
  });
});

t.test('priority, then name', async (t) => {
  const one = (name: string, ip: string, priority?: number): IPAddressPool =>
    pool(name, [range(ip, ip)], { serviceAllocation: allocation(priority) });
  const a = new Allocator([
    one('beta', '192.0.2.3'),
    one('alpha', '192.0.2.2', 5),
    one('aardvark', '192.0.2.4'),
    one('zeta', '192.0.2.1', 1),
    one('zero', '192.0.2.5', 0),
  ]);
  const order = ['s1', 's2', 's3', 's4', 's5'].map((n) => a.assign(svc(n))).map((r) => (r.ok ? r.pool : r.reason));
  t.strictSame(order, ['zero', 'zeta', 'alpha', 'aardvark', 'beta'], 'lower priority first, none last, ties by name');
  // A Service keeps its address when a better pool appears.
  const b = new Allocator([one('low', '192.0.2.9', 9)]);
  t.strictSame(ips(b.assign(svc('web'))), ['192.0.2.9']);
  t.strictSame(b.setPools([one('low', '192.0.2.9', 9), one('high', '192.0.2.8', 1)]), []);
  t.strictSame(b.assign(svc('web')), { ok: true, ips: ['192.0.2.9'], pool: 'low', changed: false });
});

t.test('serviceAllocation: namespaces, namespace selectors, service selectors', async (t) => {
  const a = new Allocator([
    pool('strict', [range('192.0.2.100', '192.0.2.101')], {
      serviceAllocation: allocation(0, { namespaces: ['prod'], serviceSelectors: [{ matchLabels: { app: 'api' } }] }),
    }),
    pool('team-a', [range('192.0.2.1', '192.0.2.5')], {
      serviceAllocation: allocation(1, {
        namespaces: ['team-a'],
        namespaceSelectors: [{ matchLabels: { tier: 'gold' } }],
      }),
    }),
    pool('web-only', [range('198.51.100.1', '198.51.100.5')], {
      serviceAllocation: allocation(2, {
        serviceSelectors: [{ matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'www'] }] }],
      }),
    }),
    pool('general', [range('203.0.113.1', '203.0.113.5')]),
  ]);
  const poolOf = (r: AllocationResult): string => (r.ok ? r.pool : r.reason);
  t.equal(poolOf(a.assign(svc('x', { ns: 'team-a' }))), 'team-a', 'namespace by name');
  t.equal(
    poolOf(a.assign(svc('x', { ns: 'other' }), { namespaceLabels: { tier: 'gold' } })),
    'team-a',
    'namespace by label',
  );
  t.equal(
    poolOf(a.assign(svc('y', { ns: 'other', labels: { app: 'web' } }), { namespaceLabels: { tier: 'silver' } })),
    'web-only',
    'Service by label',
  );
  t.equal(poolOf(a.assign(svc('z', { ns: 'other' }), { namespaceLabels: { tier: 'silver' } })), 'general');
  t.equal(
    poolOf(a.assign(svc('api', { ns: 'prod', labels: { app: 'api' } }))),
    'strict',
    'namespace and Service both match',
  );
  t.equal(
    poolOf(a.assign(svc('web', { ns: 'prod', labels: { app: 'web' } }))),
    'web-only',
    'namespace matches, Service does not',
  );
  t.equal(
    poolOf(a.assign(svc('api', { ns: 'dev', labels: { app: 'api' } }))),
    'general',
    'Service matches, namespace does not',
  );
  t.strictSame(a.assign(svc('n', { ns: 'other', annotations: { 'bgp-announce.io/address-pool': 'team-a' } })), {
    ok: false,
    reason: 'PoolNotAllowed',
    message: "pool 'team-a' does not admit other/n (serviceAllocation)",
  });
  t.strictSame(a.assign(svc('n', { ns: 'other', loadBalancerIP: '192.0.2.5' })), {
    ok: false,
    reason: 'PoolNotAllowed',
    message: "pool 'team-a' (holding 192.0.2.5) does not admit other/n (serviceAllocation)",
  });
  // The namespace loses its label: the Service's pool no longer admits it, so it moves.
  t.strictSame(a.assign(svc('x', { ns: 'other' }), { namespaceLabels: { tier: 'bronze' } }), {
    ok: true,
    ips: ['203.0.113.3'],
    pool: 'general',
    changed: true,
  });
});

t.test('avoidBuggyIPs', async (t) => {
  const ranges = [range('192.0.2.254', '192.0.3.1')];
  const a = new Allocator([pool('edge', ranges, { avoidBuggyIPs: true })]);
  t.strictSame(a.poolUsage(), [{ pool: 'edge', family: 4, used: 0, total: 2 }]);
  t.strictSame(ips(a.assign(svc('a'))), ['192.0.2.254']);
  t.strictSame(ips(a.assign(svc('b'))), ['192.0.3.1'], 'skips .255 and .0');
  t.strictSame(a.assign(svc('c')), {
    ok: false,
    reason: 'PoolExhausted',
    message: "no free address in pool 'edge' (2 of 2 in use)",
  });
  t.strictSame(a.assign(svc('d', { loadBalancerIP: '192.0.2.255' })), {
    ok: false,
    reason: 'RequestedIPNotInPool',
    message: "requested 192.0.2.255 in no address pool (pool 'edge' avoids .0 and .255 addresses: avoidBuggyIPs)",
  });
  t.equal(a.poolOf('192.0.3.0'), undefined);
  const b = new Allocator([pool('edge', ranges)]);
  t.strictSame(
    ['a', 'b', 'c', 'd'].map((n) => ips(b.assign(svc(n)))),
    [['192.0.2.254'], ['192.0.2.255'], ['192.0.3.0'], ['192.0.3.1']],
    'without it every address is used',
  );
  t.strictSame(
    b.setPools([pool('edge', ranges, { avoidBuggyIPs: true })]),
    ['default/b', 'default/c'],
    'turning it on moves the Services on .255 and .0',
  );
});

t.test('dual stack', async (t) => {
  const pools = [
    pool('v4only', [range('192.0.2.1', '192.0.2.4')], { serviceAllocation: allocation(1) }),
    pool('dual', [range('198.51.100.1', '198.51.100.4'), range('2001:db8::1', '2001:db8::4')], {
      serviceAllocation: allocation(2),
    }),
    pool('v6only', [range('2001:db8:1::1', '2001:db8:1::2')], { serviceAllocation: allocation(3) }),
  ];
  const a = new Allocator(pools);
  const dual = (
    name: string,
    ipFamilies: string[],
    ipFamilyPolicy: string,
    annotations: Record<string, string> = {},
  ): Service => svc(name, { ipFamilies, ipFamilyPolicy, annotations });
  t.strictSame(a.assign(dual('r1', ['IPv4', 'IPv6'], 'RequireDualStack')), {
    ok: true,
    ips: ['198.51.100.1', '2001:db8::1'],
    pool: 'dual',
    changed: true,
  });
  t.strictSame(
    ips(a.assign(dual('r2', ['IPv6', 'IPv4'], 'RequireDualStack'))),
    ['2001:db8::2', '198.51.100.2'],
    'the primary family first',
  );
  t.strictSame(
    a.assign(dual('p1', ['IPv4', 'IPv6'], 'PreferDualStack')),
    { ok: true, ips: ['198.51.100.3', '2001:db8::3'], pool: 'dual', changed: true },
    'a pool with both families beats a higher priority',
  );
  t.strictSame(a.assign(dual('s4', ['IPv4'], 'SingleStack')), {
    ok: true,
    ips: ['192.0.2.1'],
    pool: 'v4only',
    changed: true,
  });
  t.strictSame(a.assign(dual('s6', ['IPv6'], 'SingleStack')), {
    ok: true,
    ips: ['2001:db8::4'],
    pool: 'dual',
    changed: true,
  });
  t.strictSame(a.assign(dual('s6b', ['IPv6'], 'SingleStack')), {
    ok: true,
    ips: ['2001:db8:1::1'],
    pool: 'v6only',
    changed: true,
  });
  t.strictSame(
    a.assign(dual('p2', ['IPv4', 'IPv6'], 'PreferDualStack')),
    { ok: true, ips: ['192.0.2.2'], pool: 'v4only', changed: true },
    'no pool has both left: one family',
  );
  t.strictSame(a.assign(dual('r3', ['IPv4', 'IPv6'], 'RequireDualStack')), {
    ok: false,
    reason: 'PoolExhausted',
    message: "no free IPv6 address in pool 'dual' (4 of 4 in use)",
  });
  t.strictSame(new Allocator([pools[0]!]).assign(dual('r', ['IPv4', 'IPv6'], 'RequireDualStack')), {
    ok: false,
    reason: 'FamilyUnavailable',
    message: "default/r wants RequireDualStack IPv4/IPv6, which pool 'v4only' cannot give",
  });

  const b = new Allocator(pools);
  t.strictSame(
    b.assign(
      dual('q', ['IPv4', 'IPv6'], 'PreferDualStack', {
        'bgp-announce.io/loadBalancerIPs': '2001:DB8:0::2, 198.51.100.2',
      }),
    ),
    {
      ok: true,
      ips: ['198.51.100.2', '2001:db8::2'],
      pool: 'dual',
      changed: true,
    },
    'requested addresses, canonical, in family order',
  );
  t.strictSame(
    b.assign(
      dual('q', ['IPv4', 'IPv6'], 'PreferDualStack', { 'bgp-announce.io/loadBalancerIPs': '198.51.100.2,2001:db8::2' }),
    ),
    { ok: true, ips: ['198.51.100.2', '2001:db8::2'], pool: 'dual', changed: false },
  );
  t.match(
    b.assign(dual('q2', ['IPv4', 'IPv6'], 'RequireDualStack', { 'bgp-announce.io/loadBalancerIPs': '198.51.100.3' })),
    { ok: false, reason: 'InvalidRequest', message: /RequireDualStack needs one requested address per family/ },
  );
  t.match(
    b.assign(dual('q3', ['IPv4'], 'SingleStack', { 'bgp-announce.io/loadBalancerIPs': '198.51.100.3,2001:db8::3' })),
    { ok: false, reason: 'InvalidRequest' },
  );
  t.strictSame(
    b.assign(
      dual('q4', ['IPv4', 'IPv6'], 'PreferDualStack', { 'bgp-announce.io/loadBalancerIPs': '192.0.2.3,2001:db8::3' }),
    ),
    {
      ok: false,
      reason: 'RequestedIPNotInPool',
      message: 'requested 192.0.2.3, 2001:db8::3 are not all in one address pool',
    },
  );

  // PreferDualStack with one family is topped up from its pool when the pool gains the other.
  const c = new Allocator([pool('grow', [range('198.51.100.1', '198.51.100.4')])]);
  t.strictSame(ips(c.assign(dual('p', ['IPv4', 'IPv6'], 'PreferDualStack'))), ['198.51.100.1']);
  t.strictSame(
    c.setPools([pool('grow', [range('198.51.100.1', '198.51.100.4'), range('2001:db8::10', '2001:db8::1f')])]),
    [],
  );
  t.strictSame(c.assign(dual('p', ['IPv4', 'IPv6'], 'PreferDualStack')), {
    ok: true,
    ips: ['198.51.100.1', '2001:db8::10'],
    pool: 'grow',
    changed: true,
  });
  t.strictSame(c.assign(dual('p', ['IPv4', 'IPv6'], 'PreferDualStack')), {
    ok: true,
    ips: ['198.51.100.1', '2001:db8::10'],
    pool: 'grow',
    changed: false,
  });
  t.strictSame(
    c.assign(dual('p', ['IPv4'], 'SingleStack')),
    { ok: true, ips: ['198.51.100.1'], pool: 'grow', changed: true },
    'back to single stack keeps the primary address',
  );
  t.strictSame(c.poolUsage(), [
    { pool: 'grow', family: 4, used: 1, total: 4 },
    { pool: 'grow', family: 6, used: 0, total: 16 },
  ]);
  t.strictSame(
    c.assign(dual('p', ['IPv6'], 'SingleStack')),
    { ok: true, ips: ['2001:db8::11'], pool: 'grow', changed: true },
    'IPv4 to IPv6: a new IPv6 address from the same pool',
  );
  t.strictSame(
    ips(c.assign(dual('other', ['IPv4'], 'SingleStack'))),
    ['198.51.100.2'],
    'the range kept its cursor across setPools',
  );
});

t.test('setPools returns the Services that must move', async (t) => {
  const a = new Allocator([
    pool('a', [range('192.0.2.1', '192.0.2.4')]),
    pool('b', [range('198.51.100.1', '198.51.100.4')], { autoAssign: false }),
  ]);
  a.assign(svc('s1'));
  a.assign(svc('s2'));
  a.assign(svc('s3', { annotations: { 'bgp-announce.io/address-pool': 'b' } }));
  t.strictSame(
    [...a.assignments()].map(([k, v]) => `${k}=${v.ips[0]}`),
    ['default/s1=192.0.2.1', 'default/s2=192.0.2.2', 'default/s3=198.51.100.1'],
  );
  const narrowA = pool('a', [range('192.0.2.2', '192.0.2.4')]);
  t.strictSame(
    a.setPools([narrowA, pool('b', [range('198.51.100.1', '198.51.100.4')], { autoAssign: false })]),
    ['default/s1'],
    'range narrowed',
  );
  t.strictSame(a.setPools([narrowA]), ['default/s1', 'default/s3'], 'pool b removed');
  t.strictSame(
    a.assignments().get('default/s1'),
    { ips: ['192.0.2.1'], pool: 'a' },
    'kept until the controller moves it',
  );
  t.strictSame(a.assign(svc('s1')), { ok: true, ips: ['192.0.2.3'], pool: 'a', changed: true });
  t.strictSame(a.assign(svc('s3', { annotations: { 'bgp-announce.io/address-pool': 'b' } })), {
    ok: false,
    reason: 'PoolNotFound',
    message: "no address pool named 'b'",
  });
  t.equal(a.assignments().has('default/s3'), false);
  t.strictSame(a.poolUsage(), [{ pool: 'a', family: 4, used: 2, total: 3 }]);
  t.strictSame(
    a.setPools([
      pool('a', [range('192.0.2.2', '192.0.2.4')], {
        serviceAllocation: allocation(undefined, { namespaces: ['other'] }),
      }),
    ]),
    ['default/s1', 'default/s2'],
    'serviceAllocation narrowed',
  );
  t.throws(() => a.setPools([pool('bad', [range('192.0.2.9', '192.0.2.1')])]), {
    name: 'RangeError',
    message: 'IPAddressPool bad: range 192.0.2.9-192.0.2.1: not an address range (192.0.2.9 - 192.0.2.1)',
  });
  t.strictSame(a.poolUsage(), [{ pool: 'a', family: 4, used: 2, total: 3 }], 'a rejected pool list changes nothing');
});

t.test('poolUsage and poolOf', async (t) => {
  const a = new Allocator([
    pool('small', [
      range('192.0.2.1', '192.0.2.3'),
      range('192.0.2.10', '192.0.2.10'),
      range('2001:db8::1', '2001:db8::2'),
    ]),
    pool('big', [range('2001:db8:1::', '2001:db8:1::ffff:ffff:ffff:ffff')]),
  ]);
  a.assign(svc('a', { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'RequireDualStack' }));
  a.assign(svc('b', { ipFamilies: ['IPv6'], annotations: { 'bgp-announce.io/address-pool': 'big' } }));
  t.strictSame(a.poolUsage(), [
    { pool: 'big', family: 6, used: 1, total: 2 ** 64 },
    { pool: 'small', family: 4, used: 1, total: 4 },
    { pool: 'small', family: 6, used: 1, total: 2 },
  ]);
  t.equal(a.poolOf('192.0.2.10'), 'small');
  t.equal(a.poolOf('2001:DB8:1::5'), 'big');
  t.equal(a.poolOf('2001:db8:1::'), 'big', 'held by b');
  t.equal(a.poolOf('203.0.113.1'), undefined);
  t.equal(a.poolOf('junk'), undefined);
});
