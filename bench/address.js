// Address math: the allocator's hand-written parser, formatter and next-fit walk
// (packages/announcer/src/allocation/allocator-ip.ts, allocator-pools.ts) against ip-num, which the
// config uses for the same jobs (src/config/address.ts: parseAddress, formatAddress, RangedSet).
// The allocator keeps its own code only while it is at least twice as fast as ip-num (goal: ratio
// >= 2; `node bench/run.js --check address` fails when ip-num catches up and the exception no longer
// holds). The last two rows time the allocator itself: 5,000 Services given addresses from a /16,
// then the same 5,000 restored from their status (as after a restart).
//
// Imports the built files by path (`npx tsc -b` first): the package root would also load
// @kubernetes/client-node, and the walk is allocator-internal (nextFree).
//
// Measured 2026-12-07, Node v20.20, AMD EPYC, 2 cores, load 6-12 from other work (three runs):
//   row                     ours (M/s)   ip-num (M/s)   ours / ip-num
//   parse IPv4 text          1.0-2.3      0.13-0.29      7.7-10x
//   parse IPv6 text          0.12-0.32    0.022-0.044    5.6-7.2x
//   format IPv4              8.1-9.1      0.21-0.42      19-38x
//   format IPv6 (RFC 5952)   0.63-0.68    0.028-0.10     6.0-24x
//   walk a /16 to text       3.2-5.3      0.17-0.44      12-20x
//   allocator, 5,000 Services from a /16: 105-186 ms; their restore: 16-45 ms.
// The allocator with ip-num's parse and format swapped into allocator-ip.ts (a scratch build, CPU
// ms, medians of 13 rounds, three processes each; before this change / after / swapped):
//   IPv4 /16   assign 54-78 / 55-62 / 89-111    restore 22-37 / 21-29 / 73-106
//   IPv6 /112  assign 75-95 / 72-130 / 213-290  restore 54-75 / 54-98 / 326-449
import { measure, median } from './run.js';

const dist = new URL('../packages/announcer/dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);

/** The allocator's functions (ours) and the config's ip-num ones (reference). */
async function modules() {
  const [ip, pools, address] = await Promise.all([
    load('allocation/allocator-ip.js'),
    load('allocation/allocator-pools.js'),
    load('config/address.js'),
  ]);
  return { ip, pools, address };
}

const COUNT = 5000;
const ipv4Texts = Array.from({ length: COUNT }, (_, i) => `10.1.${i >> 8}.${i & 255}`);
const ipv6Texts = Array.from(
  { length: COUNT },
  (_, i) => `2001:db8::${((i * 7919) & 0xffff).toString(16)}:${i.toString(16)}`,
);

/** Times `ours` and `reference` (each one round over the inputs, returning items) alternately, so load falls on both. */
function versus(ours, reference) {
  const a = measure(ours);
  const b = measure(reference);
  const a2 = measure(ours, { warmup: 0 });
  const b2 = measure(reference, { warmup: 0 });
  return {
    ours: median([...a.rates, ...a2.rates]),
    reference: median([...b.rates, ...b2.rates]),
    rates: [...a.rates, ...a2.rates],
  };
}

function check(got, want, what) {
  if (got !== want) throw new Error(`${what}: got ${got}, want ${want}`);
}

function parseRow(texts) {
  return async () => {
    const { ip, address } = await modules();
    let sum = 0n;
    const result = versus(
      () => {
        sum = 0n;
        for (const t of texts) sum += ip.parseIP(t).value;
        return texts.length;
      },
      () => {
        let other = 0n;
        for (const t of texts) other += address.parseAddress(t).value;
        check(other, sum, 'ip-num and ours parse to the same numbers');
        return texts.length;
      },
    );
    return {
      ...result,
      note: `ours parseIP (allocator-ip.ts), reference parseAddress (config/address.ts, ip-num); ${texts.length} addresses a round`,
    };
  };
}

function formatRow(family, texts) {
  return async () => {
    const { ip, address } = await modules();
    const values = texts.map((t) => ip.parseIP(t).value);
    let length = 0;
    const result = versus(
      () => {
        length = 0;
        for (const v of values) length += ip.formatIP(family, v).length;
        return values.length;
      },
      () => {
        let other = 0;
        for (const v of values) other += address.formatAddress(family, v).length;
        check(other, length, 'ip-num and ours write the same text');
        return values.length;
      },
    );
    return {
      ...result,
      note: `ours formatIP (allocator-ip.ts), reference formatAddress (config/address.ts: ip-num, collapseIPv6Number for IPv6)`,
    };
  };
}

/** The next-fit walk over a whole /16: every address but the last is held, so one call formats all 65,536. */
async function walkRow() {
  const { pools, address } = await modules();
  const range = address.parseAddressRange('10.1.0.0/16');
  const lastText = range.last;
  const isHeld = (text) => text !== lastText;
  const result = versus(
    () => {
      const [index] = pools
        .indexPools([{ name: 'p', ranges: [range], autoAssign: true, avoidBuggyIPs: false, labels: {} }])
        .get('p').ranges;
      check(pools.nextFree(index, isHeld), lastText, 'nextFree');
      return 65536;
    },
    () => {
      let found;
      for (const a of address.rangeSet(range)) {
        const text = address.canonicalText(a);
        if (!isHeld(text)) {
          found = text;
          break;
        }
      }
      check(found, lastText, 'ip-num walk');
      return 65536;
    },
  );
  return {
    ...result,
    note: 'ours nextFree (allocator-pools.ts: bigint step, formatIP), reference a RangedSet iterator with canonicalText; addresses/s',
  };
}

const pool = (address) => ({
  name: 'public',
  ranges: [address.parseAddressRange('10.1.0.0/16')],
  autoAssign: true,
  avoidBuggyIPs: false,
  labels: {},
});
const service = (i, ips) => ({
  metadata: { name: `s${i}`, namespace: 'default', labels: {}, annotations: {} },
  spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
  ...(ips ? { status: { loadBalancer: { ingress: ips.map((ip) => ({ ip })) } } } : {}),
});

/** Median milliseconds of `rounds` runs of `pass` (after warm-up runs), a collection before each. */
function milliseconds(pass, { warmup = 2, rounds = 9 } = {}) {
  for (let i = 0; i < warmup; i++) pass();
  const times = [];
  for (let i = 0; i < rounds; i++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    pass();
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return {
    ms: median(times),
    note: `median of ${rounds} rounds, ${Math.min(...times).toFixed(0)} to ${Math.max(...times).toFixed(0)} ms`,
  };
}

export const rows = [
  {
    name: 'address: parse IPv4 text, allocator vs ip-num',
    unit: 'addresses/s',
    goal: 2,
    goalOf: 'ratio',
    run: parseRow(ipv4Texts),
  },
  {
    name: 'address: parse IPv6 text, allocator vs ip-num',
    unit: 'addresses/s',
    goal: 2,
    goalOf: 'ratio',
    run: parseRow(ipv6Texts),
  },
  {
    name: 'address: format IPv4, allocator vs ip-num',
    unit: 'addresses/s',
    goal: 2,
    goalOf: 'ratio',
    run: formatRow(4, ipv4Texts),
  },
  {
    name: 'address: format IPv6 (RFC 5952), allocator vs ip-num',
    unit: 'addresses/s',
    goal: 2,
    goalOf: 'ratio',
    run: formatRow(6, ipv6Texts),
  },
  {
    name: 'address: next free address, a /16 walked, allocator vs ip-num',
    unit: 'addresses/s',
    goal: 2,
    goalOf: 'ratio',
    run: walkRow,
  },
  {
    name: 'allocator: 5,000 Services given addresses from a /16',
    unit: 'ms',
    goal: 280,
    lowerIsBetter: true,
    async run() {
      const { address } = await modules();
      const { Allocator } = await load('allocation/allocator.js');
      const pools = [pool(address)];
      const services = Array.from({ length: COUNT }, (_, i) => service(i));
      const { ms, note } = milliseconds(() => {
        const allocator = new Allocator(pools);
        for (const svc of services) if (!allocator.assign(svc).ok) throw new Error('assign failed');
      });
      return { ours: ms, note };
    },
  },
  {
    name: 'allocator: restore 5,000 Services from their status',
    unit: 'ms',
    lowerIsBetter: true,
    async run() {
      const { address } = await modules();
      const { Allocator } = await load('allocation/allocator.js');
      const pools = [pool(address)];
      const first = new Allocator(pools);
      const services = Array.from({ length: COUNT }, (_, i) => service(i));
      for (const svc of services) first.assign(svc);
      const held = first.assignments();
      const restored = services.map((svc, i) => service(i, held.get(`default/${svc.metadata.name}`).ips));
      const { ms, note } = milliseconds(() => {
        const allocator = new Allocator(pools);
        for (const svc of restored) if (!allocator.restore(svc).ok) throw new Error('restore failed');
      });
      return { ours: ms, note };
    },
  },
];
