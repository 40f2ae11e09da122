// Property test: random sequences of assign / release / restore / pool changes over small pools never
// give one address to two Services that may not share it, never hand out an address outside its
// pool (or a .0/.255 of an avoidBuggyIPs pool), and keep the usage figures equal to a recount.
// The sharing rule is written again here, independently of allocator-request.ts.
import t from 'tap';
import { Allocator } from '../src/allocation/allocator.js';
import type { AddressRange, IPAddressPool } from '../src/config/types.js';
import type { Service } from '../src/service/model.js';

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

const CONFIGS: IPAddressPool[][] = [
  [
    pool('a', [range('192.0.2.1', '192.0.2.4'), range('2001:db8::1', '2001:db8::2')]),
    pool('b', [range('192.0.2.254', '192.0.3.1')], { avoidBuggyIPs: true }),
  ],
  [pool('a', [range('192.0.2.2', '192.0.2.4'), range('2001:db8::1', '2001:db8::3')])],
  [pool('a', [range('192.0.2.1', '192.0.2.4')]), pool('b', [range('192.0.2.254', '192.0.3.1')])],
];

/** "192.0.2.7" -> number; IPv6 addresses here are 2001:db8::N, so N + 2^32 keeps them apart. */
function toNumber(ip: string): number {
  if (ip.startsWith('2001:db8::')) return 2 ** 32 + parseInt(ip.slice('2001:db8::'.length), 16);
  return ip.split('.').reduce((n, o) => n * 256 + Number(o), 0);
}
function inPool(p: IPAddressPool, ip: string): boolean {
  const n = toNumber(ip);
  const last = n % 256;
  if (p.avoidBuggyIPs && n < 2 ** 32 && (last === 0 || last === 255)) return false;
  return p.ranges.some((r) => n >= toNumber(r.first) && n <= toNumber(r.last));
}

interface Share {
  key?: string;
  ports: string[];
  policy: string;
  app?: string;
}
/** Independent statement of the rule in allocator-request.ts. */
function maySharePair(x: Share, y: Share): boolean {
  if (x.key === undefined || x.key !== y.key) return false;
  if (x.ports.some((p) => y.ports.includes(p))) return false;
  if (x.policy === 'Cluster' && y.policy === 'Cluster') return true;
  return x.policy === 'Local' && y.policy === 'Local' && x.app !== undefined && x.app === y.app;
}

function randomService(next: () => number, name: string): { svc: Service; share: Share } {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const share: Share = {
    ...(next() < 0.7 ? { key: pick(['k1', 'k2']) } : {}),
    ports: ['53/TCP', '53/UDP', '80/TCP', '443/TCP'].filter(() => next() < 0.4),
    policy: pick(['Cluster', 'Cluster', 'Local']),
    ...(next() < 0.8 ? { app: pick(['x', 'y']) } : {}),
  };
  if (share.ports.length === 0) share.ports.push('80/TCP');
  const families = pick([
    { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' },
    { ipFamilies: ['IPv4'], ipFamilyPolicy: 'SingleStack' },
    { ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' },
    { ipFamilies: ['IPv4', 'IPv6'], ipFamilyPolicy: 'PreferDualStack' },
    { ipFamilies: ['IPv6', 'IPv4'], ipFamilyPolicy: 'RequireDualStack' },
  ]);
  const annotations: Record<string, string> = {};
  if (share.key !== undefined) annotations['bgp-announce.io/allow-shared-ip'] = share.key;
  const r = next();
  if (r < 0.25 && families.ipFamilyPolicy === 'SingleStack') {
    annotations['bgp-announce.io/loadBalancerIPs'] =
      families.ipFamilies[0] === 'IPv6'
        ? `2001:db8::${pick(['1', '2', '3'])}`
        : pick(['192.0.2.1', '192.0.2.3', '192.0.2.255', '192.0.3.1', '203.0.113.1']);
  } else if (r < 0.35) {
    annotations['bgp-announce.io/address-pool'] = pick(['a', 'b', 'c']);
  } else if (r < 0.37) {
    annotations['bgp-announce.io/loadBalancerIPs'] = '192.0.2.1,192.0.2.2'; // malformed: two IPv4
  }
  const svc = {
    metadata: { name, namespace: 'default', annotations },
    spec: {
      type: 'LoadBalancer',
      ...families,
      ports: share.ports.map((p) => ({ port: Number(p.split('/')[0]), protocol: p.split('/')[1] })),
      externalTrafficPolicy: share.policy,
      ...(share.app === undefined ? {} : { selector: { app: share.app } }),
    },
  } as Service;
  return { svc, share };
}

t.test('random operations never give one address to two Services that may not share it', async (t) => {
  let failures = 0;
  let checks = 0;
  const reasons = new Set<string>();
  for (const seed of [0x9e3779b9, 0x85ebca6b, 0xc2b2ae35, 0x27d4eb2f]) {
    const next = random(seed);
    let config = CONFIGS[0]!;
    const a = new Allocator(config);
    /** What each Service looked like at its last successful assign (what the allocator holds). */
    const held = new Map<string, { svc: Service; share: Share }>();
    const names = Array.from({ length: 14 }, (_, i) => `s${i}`);
    for (let step = 0; step < 6000; step++) {
      const name = names[Math.floor(next() * names.length)]!;
      const key = `default/${name}`;
      const op = next();
      if (op < 0.6) {
        const s = randomService(next, name);
        const r = a.assign(s.svc);
        if (r.ok) held.set(key, s);
        else {
          reasons.add(r.reason);
          if (r.reason !== 'InvalidRequest') held.delete(key);
          if (r.reason !== 'InvalidRequest' && a.assignments().has(key)) failures++;
        }
      } else if (op < 0.85) {
        a.release(key);
        held.delete(key);
      } else if (op < 0.95) {
        // A restart: a new allocator restores every Service from the addresses it held.
        const fresh = new Allocator(config);
        const assignments = a.assignments();
        for (const [k, s] of held) {
          const ips = assignments.get(k)!.ips;
          const r = fresh.restore({ ...s.svc, status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } });
          if (!r.ok) failures++; // what one allocator held consistently must restore
        }
        if (JSON.stringify([...fresh.assignments()].sort()) !== JSON.stringify([...assignments].sort())) failures++;
      } else {
        config = CONFIGS[Math.floor(next() * CONFIGS.length)]!;
        for (const k of a.setPools(config)) {
          const s = held.get(k)!;
          const r = a.assign(s.svc);
          if (!r.ok) held.delete(k);
        }
      }

      // Invariants over the whole state.
      const holders = new Map<string, string[]>();
      for (const [k, v] of a.assignments()) {
        const p = config.find((q) => q.name === v.pool);
        if (p === undefined || !v.ips.every((ip) => inPool(p, ip))) failures++;
        if (!held.has(k)) failures++;
        for (const ip of v.ips) holders.set(ip, [...(holders.get(ip) ?? []), k]);
      }
      for (const keys of holders.values()) {
        for (let i = 0; i < keys.length; i++) {
          for (let j = i + 1; j < keys.length; j++) {
            checks++;
            if (!maySharePair(held.get(keys[i]!)!.share, held.get(keys[j]!)!.share)) failures++;
          }
        }
      }
      for (const u of a.poolUsage()) {
        const p = config.find((q) => q.name === u.pool)!;
        const used = [...holders.keys()].filter((ip) => ip.includes(':') === (u.family === 6) && inPool(p, ip)).length;
        if (used !== u.used) failures++;
      }
    }
  }
  t.equal(failures, 0, 'no invariant broken');
  t.ok(checks > 1000, `shared addresses were checked (${checks} pairs)`);
  t.strictSame(
    [...reasons].sort(),
    [
      'FamilyUnavailable',
      'InvalidRequest',
      'PoolExhausted',
      'PoolNotFound',
      'RequestedIPInUse',
      'RequestedIPNotInPool',
    ],
    'every kind of failure was met',
  );
});
