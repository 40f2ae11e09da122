// Address sharing (bgp-announce.io/allow-shared-ip) and restoring assignments from Service status
// after a restart: one address never goes to two Services that may not share it.
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
const pool = (name: string, ranges: AddressRange[]): IPAddressPool => ({
  name,
  ranges,
  autoAssign: true,
  avoidBuggyIPs: false,
  labels: {},
});

interface SvcOptions {
  key?: string;
  ports?: string[];
  policy?: 'Cluster' | 'Local';
  selector?: Record<string, string>;
  loadBalancerIP?: string;
  status?: string[];
  ipFamilies?: string[];
  ipFamilyPolicy?: string;
}
/** A Service; ports as "53/UDP". spec.selector is not in model.ts's Service, hence the cast. */
const svc = (name: string, o: SvcOptions = {}): Service =>
  ({
    metadata: {
      name,
      namespace: 'default',
      annotations: o.key === undefined ? {} : { 'bgp-announce.io/allow-shared-ip': o.key },
    },
    spec: {
      type: 'LoadBalancer',
      ports: (o.ports ?? ['80/TCP']).map((p) => ({ port: Number(p.split('/')[0]), protocol: p.split('/')[1] })),
      externalTrafficPolicy: o.policy ?? 'Cluster',
      ...(o.selector === undefined ? {} : { selector: o.selector }),
      ...(o.loadBalancerIP === undefined ? {} : { loadBalancerIP: o.loadBalancerIP }),
      ...(o.ipFamilies === undefined
        ? {}
        : { ipFamilies: o.ipFamilies, ipFamilyPolicy: o.ipFamilyPolicy ?? 'SingleStack' }),
    },
    ...(o.status === undefined
      ? {}
      : { status: { loadBalancer: { ingress: o.status.map((ip) => ({ ip, ipMode: 'VIP' })) } } }),
  }) as Service;
const ips = (r: AllocationResult): string[] | string => (r.ok ? r.ips : `${r.reason}: ${r.message}`);

t.test('sharing allowed: same key, ports apart, both Cluster', async (t) => {
  const a = new Allocator([pool('p', [range('192.0.2.1', '192.0.2.3')])]);
  t.strictSame(ips(a.assign(svc('dns-tcp', { key: 'dns', ports: ['53/TCP'] }))), ['192.0.2.1']);
  t.strictSame(
    ips(a.assign(svc('dns-udp', { key: 'dns', ports: ['53/UDP'] }))),
    ['192.0.2.1'],
    'joins the address of its group without asking for it',
  );
  t.strictSame(ips(a.assign(svc('web'))), ['192.0.2.2']);
  t.strictSame(a.poolUsage(), [{ pool: 'p', family: 4, used: 2, total: 3 }], 'a shared address counts once');
  t.strictSame(
    ips(a.assign(svc('dns-dot', { key: 'dns', ports: ['853/TCP'], loadBalancerIP: '192.0.2.1' }))),
    ['192.0.2.1'],
    'by request',
  );
  t.equal(a.poolOf('192.0.2.1'), 'p');
  a.release('default/dns-tcp');
  a.release('default/dns-dot');
  t.strictSame(a.poolUsage()[0]!.used, 2, 'still held by dns-udp');
  t.strictSame(
    ips(a.assign(svc('other', { loadBalancerIP: '192.0.2.1' }))),
    'RequestedIPInUse: requested 192.0.2.1 is held by default/dns-udp, and this Service has no bgp-announce.io/allow-shared-ip annotation',
  );
  a.release('default/dns-udp');
  t.strictSame(a.poolUsage()[0]!.used, 1, 'free once the last sharer goes');
  t.strictSame(ips(a.assign(svc('other', { loadBalancerIP: '192.0.2.1' }))), ['192.0.2.1']);
});

t.test('sharing refused', async (t) => {
  const a = new Allocator([pool('p', [range('192.0.2.1', '192.0.2.9')])]);
  a.assign(svc('dns-udp', { key: 'dns', ports: ['53/UDP'] }));
  a.assign(svc('web'));
  const refused: [string, Service, string][] = [
    [
      'port clash',
      svc('x', { key: 'dns', ports: ['53/UDP', '5353/UDP'], loadBalancerIP: '192.0.2.1' }),
      'held by default/dns-udp, which also uses port 53/UDP',
    ],
    [
      'different key',
      svc('x', { key: 'other', ports: ['80/TCP'], loadBalancerIP: '192.0.2.1' }),
      'held by default/dns-udp with another bgp-announce.io/allow-shared-ip key ("dns")',
    ],
    [
      'no key',
      svc('x', { ports: ['80/TCP'], loadBalancerIP: '192.0.2.1' }),
      'held by default/dns-udp, and this Service has no bgp-announce.io/allow-shared-ip annotation',
    ],
    [
      'holder has no key',
      svc('x', { key: 'dns', ports: ['53/UDP'], loadBalancerIP: '192.0.2.2' }),
      'held by default/web, which does not allow sharing',
    ],
    [
      'Local next to Cluster',
      svc('x', {
        key: 'dns',
        ports: ['53/TCP'],
        policy: 'Local',
        selector: { app: 'dns' },
        loadBalancerIP: '192.0.2.1',
      }),
      'held by default/dns-udp (externalTrafficPolicy Cluster); sharing needs both Cluster, or both Local with the same pod selector',
    ],
  ];
  for (const [name, s, why] of refused) {
    const ip = s.spec!.loadBalancerIP!;
    t.strictSame(a.assign(s), { ok: false, reason: 'RequestedIPInUse', message: `requested ${ip} is ${why}` }, name);
  }
  t.strictSame(
    ips(a.assign(svc('y', { key: 'dns', ports: ['53/UDP'] }))),
    ['192.0.2.3'],
    'a clashing member of the group gets an address of its own',
  );
  t.strictSame(
    [...a.assignments().values()].map((v) => v.ips[0]),
    ['192.0.2.1', '192.0.2.2', '192.0.2.3'],
  );
});

t.test('Local sharing needs the same pod selector', async (t) => {
  const a = new Allocator([pool('p', [range('192.0.2.1', '192.0.2.9')])]);
  t.strictSame(ips(a.assign(svc('tcp', { key: 'k', ports: ['53/TCP'], policy: 'Local', selector: { app: 'dns' } }))), [
    '192.0.2.1',
  ]);
  t.strictSame(
    ips(a.assign(svc('udp', { key: 'k', ports: ['53/UDP'], policy: 'Local', selector: { app: 'dns' } }))),
    ['192.0.2.1'],
    'same pods: shared',
  );
  t.strictSame(
    ips(a.assign(svc('web', { key: 'k', ports: ['80/TCP'], policy: 'Local', selector: { app: 'web' } }))),
    ['192.0.2.2'],
    'other pods: not shared',
  );
  t.strictSame(
    ips(a.assign(svc('none', { key: 'k', ports: ['81/TCP'], policy: 'Local' }))),
    ['192.0.2.3'],
    'no selector: not shared',
  );
  t.strictSame(
    ips(a.assign(svc('cluster', { key: 'k', ports: ['82/TCP'] }))),
    ['192.0.2.4'],
    'Cluster next to Local: not shared',
  );
});

t.test('a sharer that becomes incompatible moves', async (t) => {
  const a = new Allocator([pool('p', [range('192.0.2.1', '192.0.2.9')])]);
  a.assign(svc('tcp', { key: 'dns', ports: ['53/TCP'] }));
  a.assign(svc('udp', { key: 'dns', ports: ['53/UDP'] }));
  t.strictSame(
    a.assign(svc('udp', { key: 'dns', ports: ['53/UDP', '53/TCP'] })),
    { ok: true, ips: ['192.0.2.2'], pool: 'p', changed: true },
    'now clashes on 53/TCP',
  );
  t.strictSame(
    a.assign(svc('tcp', { key: 'dns', ports: ['53/TCP'] })),
    { ok: true, ips: ['192.0.2.1'], pool: 'p', changed: false },
    'the other keeps its address',
  );
  t.strictSame(
    a.assign(svc('tcp', { key: 'renamed', ports: ['53/TCP'] })),
    { ok: true, ips: ['192.0.2.1'], pool: 'p', changed: false },
    'alone on its address, a new key is fine',
  );
  t.strictSame(
    ips(a.assign(svc('late', { key: 'dns', ports: ['80/TCP'] }))),
    ['192.0.2.2'],
    "the old key's group is now on .2",
  );
});

t.test('restore after a restart', async (t) => {
  const a = new Allocator([pool('p', [range('192.0.2.1', '192.0.2.9'), range('2001:db8::1', '2001:db8::9')])]);
  t.strictSame(a.restore(svc('a', { status: ['192.0.2.1'] })), { ok: true, ips: ['192.0.2.1'], pool: 'p' });
  t.strictSame(
    a.restore(svc('b', { status: ['192.0.2.1'] })),
    {
      ok: false,
      reason: 'RequestedIPInUse',
      message: 'status address 192.0.2.1 of default/b is held by default/a, which does not allow sharing',
    },
    'two Services claim one address: the second is refused',
  );
  t.strictSame(a.restore(svc('c', { key: 'k', ports: ['53/TCP'], status: ['192.0.2.5'] })), {
    ok: true,
    ips: ['192.0.2.5'],
    pool: 'p',
  });
  t.strictSame(
    a.restore(svc('d', { key: 'k', ports: ['53/UDP'], status: ['192.0.2.5'] })),
    { ok: true, ips: ['192.0.2.5'], pool: 'p' },
    'sharers restore together',
  );
  t.strictSame(a.restore(svc('e', { key: 'k', ports: ['53/UDP'], status: ['192.0.2.5'] })), {
    ok: false,
    reason: 'RequestedIPInUse',
    message: 'status address 192.0.2.5 of default/e is held by default/d, which also uses port 53/UDP',
  });
  t.strictSame(
    a.restore(
      svc('f', {
        ipFamilies: ['IPv6', 'IPv4'],
        ipFamilyPolicy: 'RequireDualStack',
        status: ['2001:DB8::3', '192.0.2.3'],
      }),
    ),
    { ok: true, ips: ['2001:db8::3', '192.0.2.3'], pool: 'p' },
  );
  t.strictSame(a.restore(svc('g', { status: ['203.0.113.1'] })), {
    ok: false,
    reason: 'RequestedIPNotInPool',
    message: 'status address 203.0.113.1 of default/g is in no single address pool',
  });
  t.strictSame(a.restore(svc('h', { status: ['192.0.2.256'] })), {
    ok: false,
    reason: 'InvalidRequest',
    message: 'status.loadBalancer.ingress: "192.0.2.256" is not an IP address',
  });
  t.strictSame(a.restore(svc('i')), { ok: true, ips: [] }, 'no status: nothing to restore');
  t.strictSame(
    a.restore({ metadata: { name: 'j' }, status: { loadBalancer: { ingress: [{ hostname: 'lb.example' }] } } }),
    { ok: true, ips: [] },
    'hostnames are not ours',
  );

  t.strictSame(
    a.assign(svc('a')),
    { ok: true, ips: ['192.0.2.1'], pool: 'p', changed: false },
    'the restored address is kept',
  );
  t.strictSame(a.assign(svc('f', { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' })), {
    ok: true,
    ips: ['2001:db8::3', '192.0.2.3'],
    pool: 'p',
    changed: false,
  });
  t.strictSame(
    a.assign(svc('b')),
    { ok: true, ips: ['192.0.2.2'], pool: 'p', changed: true },
    'the refused Service gets another address, never .1',
  );
  t.strictSame(
    a.assign(svc('g')),
    { ok: true, ips: ['192.0.2.4'], pool: 'p', changed: true },
    'skips the restored .3 and .5',
  );
  const holders = new Map<string, string[]>();
  for (const [key, v] of a.assignments()) for (const ip of v.ips) holders.set(ip, [...(holders.get(ip) ?? []), key]);
  t.strictSame(holders.get('192.0.2.1'), ['default/a']);
  t.strictSame(holders.get('192.0.2.5'), ['default/c', 'default/d']);
  t.strictSame(a.poolUsage(), [
    { pool: 'p', family: 4, used: 5, total: 9 },
    { pool: 'p', family: 6, used: 1, total: 9 },
  ]);
});
