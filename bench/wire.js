// Codec benchmarks: UPDATE decode and encode throughput of @bgp-announce/bgp-wire (the built package),
// side by side with a published JavaScript BGP parser when one can be installed (see prepare()).
//
// Inputs are built here byte by byte (not with our encoder), so the decoder and the reference parse
// the very same bytes. One million unique IPv4 /32s do not fit in the documentation ranges, so the
// IPv4 prefixes come from 10.0.0.0/8 (RFC 1918); IPv6 prefixes are from 2001:db8::/32.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as wire from '@bgp-announce/bgp-wire';
import { measure } from './run.js';

const MAX = 4096;

// ---------------------------------------------------------------------------------------------
// Hand-built messages

function header(out, at, length, type) {
  out.fill(0xff, at, at + 16);
  out[at + 16] = length >>> 8;
  out[at + 17] = length & 0xff;
  out[at + 18] = type;
}

/** ORIGIN IGP, AS_PATH (one AS_SEQUENCE of 4-octet ASNs), then `extra` attribute bytes. */
function baseAttributes(asns, extra = []) {
  return [
    0x40,
    1,
    1,
    0,
    0x40,
    2,
    2 + 4 * asns.length,
    2,
    asns.length,
    ...asns.flatMap((a) => [a >>> 24, (a >>> 16) & 0xff, (a >>> 8) & 0xff, a & 0xff]),
    ...extra,
  ];
}

/**
 * Whole UPDATE messages, each as full as 4096 bytes allow, laid out back to back in one buffer.
 * With nlriInAttributes the prefixes belong to the last attribute (MP_REACH_NLRI) and count towards
 * the total path attribute length.
 */
function fullUpdates(count, perMessage, attributes, writeNlri, nlriInAttributes = false) {
  const messages = [];
  const stream = new Uint8Array(Math.ceil(count / perMessage) * MAX);
  let at = 0;
  for (let done = 0; done < count; ) {
    const n = Math.min(perMessage, count - done);
    const start = at;
    at += 19;
    stream[at++] = 0;
    stream[at++] = 0; // no withdrawn routes
    const attrs = attributes(n);
    const lengthAt = at;
    at += 2;
    stream.set(attrs, at);
    at += attrs.length;
    const nlriStart = at;
    at = writeNlri(stream, at, done, n);
    const attrsLength = attrs.length + (nlriInAttributes ? at - nlriStart : 0);
    stream[lengthAt] = attrsLength >>> 8;
    stream[lengthAt + 1] = attrsLength & 0xff;
    header(stream, start, at - start, 2);
    messages.push(stream.subarray(start, at));
    done += n;
  }
  return { messages, bytes: at };
}

const ASNS = [64496, 64497, 65536];
const NEXT_HOP_V4 = [0x40, 3, 4, 192, 0, 2, 1];

/** count distinct IPv4 /32s from 10.0.0.0/8, 809 to a message (4096 bytes). */
function ipv4Full(count) {
  const attrs = baseAttributes(ASNS, NEXT_HOP_V4);
  const per = Math.floor((MAX - 19 - 4 - attrs.length) / 5);
  return {
    per,
    ...fullUpdates(
      count,
      per,
      () => attrs,
      (out, at, first, n) => {
        for (let i = first; i < first + n; i++) {
          out[at] = 32;
          out[at + 1] = 10;
          out[at + 2] = (i >>> 16) & 0xff;
          out[at + 3] = (i >>> 8) & 0xff;
          out[at + 4] = i & 0xff;
          at += 5;
        }
        return at;
      },
    ),
  };
}

/** count distinct IPv6 /128s from 2001:db8::/32 in MP_REACH_NLRI, 236 to a message. */
function ipv6Full(count) {
  const fixed = baseAttributes(ASNS).length + 4 + 5 + 16; // + MP_REACH header, AFI/SAFI/NH length/reserved, next hop
  const per = Math.floor((MAX - 19 - 4 - fixed) / 17);
  const nextHop = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
  return {
    per,
    ...fullUpdates(
      count,
      per,
      (n) => {
        const mpLength = 5 + 16 + 17 * n;
        return baseAttributes(ASNS, [0x90, 14, mpLength >>> 8, mpLength & 0xff, 0, 2, 1, 16, ...nextHop, 0]);
      },
      (out, at, first, n) => {
        // The NLRI sit inside MP_REACH_NLRI, which is the last attribute, so they follow directly.
        for (let i = first; i < first + n; i++) {
          out[at] = 128;
          out.set(
            [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, i >>> 24, (i >>> 16) & 0xff, (i >>> 8) & 0xff, i & 0xff],
            at + 1,
          );
          at += 17;
        }
        return at;
      },
      true,
    ),
  };
}

// Typical small UPDATE: ORIGIN, AS_PATH, NEXT_HOP, MED, COMMUNITIES and one /24.
const SMALL_ATTRS = baseAttributes(ASNS, [
  ...NEXT_HOP_V4,
  0x80,
  4,
  4,
  0,
  0,
  0,
  100,
  0xc0,
  8,
  8,
  0xfb,
  0xf0,
  0,
  100,
  0xfb,
  0xf0,
  0,
  200,
]);

function smallUpdates(count) {
  const length = 19 + 4 + SMALL_ATTRS.length + 4;
  const stream = new Uint8Array(count * length);
  const messages = [];
  for (let i = 0; i < count; i++) {
    const at = i * length;
    header(stream, at, length, 2);
    // withdrawn routes length 0 at 19-20, total path attribute length at 21-22
    stream[at + 22] = SMALL_ATTRS.length;
    stream.set(SMALL_ATTRS, at + 23);
    stream.set([24, 10, (i >>> 8) & 0xff, i & 0xff], at + 23 + SMALL_ATTRS.length);
    messages.push(stream.subarray(at, at + length));
  }
  return messages;
}

/** The same small UPDATEs as typed objects, for the encoder. */
function smallUpdateObjects(count) {
  const out = [];
  for (let i = 0; i < count; i++) {
    out.push({
      type: 'UPDATE',
      withdrawn: [],
      attributes: {
        origin: 'igp',
        asPath: [{ type: 'AS_SEQUENCE', asns: [...ASNS] }],
        nextHop: '192.0.2.1',
        med: 100,
        communities: ['64496:100', '64496:200'],
      },
      nlri: [{ prefix: `10.${(i >>> 8) & 0xff}.${i & 0xff}.0/24` }],
    });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Reference implementation

const REFERENCE_PACKAGE = '@bgpkit/parser';
const REFERENCE_LABEL = `${REFERENCE_PACKAGE} (bgpkit-parser compiled to WebAssembly)`;
const NOT_COUNTED =
  'not counted: libbgp (Nat-Lab/node-libbgp, never published to the registry), bgp@0.0.1 (a "Hello World" placeholder), ' +
  '@comunica/*-bgp-* (SPARQL basic graph patterns, not the routing protocol); see bench/README.md';
const referenceDir = () => process.env.BENCH_REF_DIR || join(tmpdir(), 'bgp-announce-bench-reference');
const referenceInstalled = (dir) =>
  existsSync(join(dir, 'node_modules', ...REFERENCE_PACKAGE.split('/'), 'package.json'));

/**
 * Installs the reference parser into a cache directory outside the repository (BENCH_REF_DIR, default
 * $TMPDIR/bgp-announce-bench-reference) unless it is there already. BENCH_REFERENCE=skip skips it.
 */
export async function prepare() {
  const dir = referenceDir();
  const env = { BENCH_REF_DIR: dir };
  if (process.env.BENCH_REFERENCE === 'skip')
    return { env: { ...env, BENCH_REFERENCE: 'skip' }, notes: ['reference skipped (BENCH_REFERENCE=skip)'] };
  if (referenceInstalled(dir)) return { env, notes: [`reference: ${REFERENCE_LABEL}, cached in ${dir}`] };
  process.stderr.write(`installing ${REFERENCE_PACKAGE} into ${dir} ...\n`);
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(
    npm,
    [
      'install',
      '--prefix',
      dir,
      '--no-save',
      '--no-audit',
      '--no-fund',
      '--no-package-lock',
      '--loglevel=error',
      REFERENCE_PACKAGE,
    ],
    {
      encoding: 'utf8',
      timeout: 120_000,
    },
  );
  if (r.status === 0 && referenceInstalled(dir))
    return { env, notes: [`reference: ${REFERENCE_LABEL}, installed into ${dir}`] };
  const text = `${r.stderr ?? ''}${r.error?.message ?? ''}`;
  const why = /E404/.test(text)
    ? 'the npm registry does not have it (E404)'
    : /ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNREFUSED|ECONNRESET|ETIMEOUT|network/i.test(text)
      ? 'the npm registry is not reachable (offline?)'
      : `npm install failed: ${text.split('\n').find((l) => l.trim()) ?? `exit ${r.status}`}`;
  return {
    env: { ...env, BENCH_REFERENCE: 'skip' },
    notes: [
      `no reference: ${REFERENCE_PACKAGE} could not be installed: ${why}. No other JavaScript/TypeScript BGP UPDATE parser is on the npm registry; ${NOT_COUNTED}`,
    ],
  };
}

let reference;
/** The reference's parseBgpUpdate(message bytes) -> per-prefix elements, or null when absent. */
function referenceParser() {
  if (reference !== undefined) return reference;
  reference = null;
  const dir = referenceDir();
  if (process.env.BENCH_REFERENCE !== 'skip' && referenceInstalled(dir)) {
    const mod = createRequire(join(dir, 'package.json'))(REFERENCE_PACKAGE);
    if (typeof mod.parseBgpUpdate === 'function') reference = mod.parseBgpUpdate;
  }
  return reference;
}

/**
 * Prefixes per second the reference parses on the same messages (fewer rounds: it may be slow), or
 * undefined when there is no reference or it does not return one element per prefix.
 */
function referenceDecodeRate(messages, expected) {
  const parse = referenceParser();
  if (parse === null) return undefined;
  let count = 0;
  for (const m of messages) count += parse(m).length;
  if (count !== expected) {
    process.stderr.write(`reference parsed ${count} prefixes, expected ${expected}: not compared\n`);
    return undefined;
  }
  return measure(
    () => {
      let n = 0;
      for (const m of messages) n += parse(m).length;
      return n;
    },
    { warmup: 1, rounds: 3 },
  ).rate;
}

// ---------------------------------------------------------------------------------------------
// Rows

/** Decodes every message, checks the prefix count (so the work cannot be skipped) and returns it. */
function decodeAll(messages, expected, field) {
  let n = 0;
  for (const m of messages) {
    const msg = wire.decodeMessage(m);
    n += field === 'mp' ? msg.attributes.mpReach.nlri.length : msg.nlri.length;
  }
  if (n !== expected) throw new Error(`decoded ${n} prefixes, expected ${expected}`);
  return n;
}

const IPV4_COUNT = 1_000_000;
const IPV6_COUNT = 500_000;
const SMALL_COUNT = 100_000;

export const rows = [
  {
    name: 'decode 4096-byte UPDATEs, IPv4 /32',
    unit: 'prefixes/s',
    goal: 3_000_000,
    run() {
      const { messages, per } = ipv4Full(IPV4_COUNT);
      const { rate, rates } = measure(() => decodeAll(messages, IPV4_COUNT, 'nlri'));
      const reference = referenceDecodeRate(messages, IPV4_COUNT);
      return {
        ours: rate,
        rates,
        reference,
        note: `${IPV4_COUNT.toLocaleString('en-US')} prefixes in ${messages.length} messages of ${per}`,
      };
    },
  },
  {
    name: 'decode 4096-byte UPDATEs, IPv6 /128 in MP_REACH',
    unit: 'prefixes/s',
    goal: 3_000_000,
    run() {
      const { messages, per } = ipv6Full(IPV6_COUNT);
      const { rate, rates } = measure(() => decodeAll(messages, IPV6_COUNT, 'mp'));
      const reference = referenceDecodeRate(messages, IPV6_COUNT);
      return {
        ours: rate,
        rates,
        reference,
        note: `${IPV6_COUNT.toLocaleString('en-US')} prefixes in ${messages.length} messages of ${per}`,
      };
    },
  },
  {
    name: 'encode (packUpdates) IPv4 /32, one attribute set',
    unit: 'prefixes/s',
    goal: 3_000_000,
    run() {
      return packRow();
    },
  },
  {
    name: 'decode small UPDATEs (1 prefix, 5 attributes)',
    unit: 'messages/s',
    goal: 300_000,
    run() {
      const messages = smallUpdates(SMALL_COUNT);
      const { rate, rates } = measure(() => decodeAll(messages, SMALL_COUNT, 'nlri'));
      const reference = referenceDecodeRate(messages, SMALL_COUNT);
      return {
        ours: rate,
        rates,
        reference,
        note: `${SMALL_COUNT.toLocaleString('en-US')} messages of ${messages[0].length} bytes`,
      };
    },
  },
  {
    name: 'encode small UPDATEs (1 prefix, 5 attributes)',
    unit: 'messages/s',
    goal: 300_000,
    run() {
      const objects = smallUpdateObjects(SMALL_COUNT);
      const expected = smallUpdates(1)[0];
      const first = wire.encodeMessage(objects[0]);
      if (Buffer.compare(first, expected) !== 0)
        throw new Error(
          `encodeMessage output differs from the hand-built message: ${Buffer.from(first).toString('hex')}`,
        );
      const { rate, rates } = measure(() => {
        let bytes = 0;
        for (const o of objects) bytes += wire.encodeMessage(o).length;
        if (bytes !== SMALL_COUNT * expected.length) throw new Error(`encoded ${bytes} bytes`);
        return objects.length;
      });
      return { ours: rate, rates, note: 'no encoder in the reference' };
    },
  },
  {
    name: 'heap held by 1M decoded IPv4 prefixes',
    unit: 'MB',
    lowerIsBetter: true,
    run() {
      const { messages } = ipv4Full(IPV4_COUNT);
      globalThis.gc?.();
      const before = process.memoryUsage().heapUsed;
      const kept = messages.map((m) => wire.decodeMessage(m));
      globalThis.gc?.();
      const used = process.memoryUsage().heapUsed - before;
      if (kept.length !== messages.length) throw new Error('lost messages');
      return {
        ours: used / 1e6,
        note: `${Math.round(used / IPV4_COUNT)} bytes per decoded prefix${globalThis.gc ? '' : ' (no --expose-gc: rough)'}`,
      };
    },
  },
];

/** packUpdates over 1M /32s sharing one attribute set; the first message must equal the hand-built one. */
function packRow() {
  const nlri = [];
  for (let i = 0; i < IPV4_COUNT; i++)
    nlri.push({ prefix: `10.${(i >>> 16) & 0xff}.${(i >>> 8) & 0xff}.${i & 0xff}/32` });
  const input = {
    attributes: { origin: 'igp', asPath: [{ type: 'AS_SEQUENCE', asns: [...ASNS] }], nextHop: '192.0.2.1' },
    nlri,
  };
  const { messages: expected } = ipv4Full(IPV4_COUNT);
  const check = wire.packUpdates(input);
  if (
    check.length !== expected.length ||
    Buffer.compare(check[0], expected[0]) !== 0 ||
    Buffer.compare(check.at(-1), expected.at(-1)) !== 0
  ) {
    throw new Error(
      `packUpdates made ${check.length} messages, expected ${expected.length} identical to the hand-built ones`,
    );
  }
  const { rate, rates } = measure(() => {
    const out = wire.packUpdates(input);
    if (out.length !== expected.length) throw new Error(`packUpdates made ${out.length} messages`);
    return IPV4_COUNT;
  });
  return { ours: rate, rates, note: `${expected.length} messages of up to 4096 bytes; no encoder in the reference` };
}
