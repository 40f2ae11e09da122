// The codec against real BGP sessions: byte streams captured between GoBGP, FRR, BIRD and ExaBGP
// (test/fixtures/capture-bgp.sh, see test/fixtures/README.md), each message compared field by field
// with what tshark dissected from the same capture, and re-encoded byte for byte.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { splitMessages } from '../packages/bgp-wire/src/framing.js';
import { decodeMessage, encodeMessage } from '../packages/bgp-wire/src/message.js';
import type {
  AsPathSegment,
  BgpMessage,
  Capability,
  CodecContext,
  ExtendedCommunity,
  Nlri,
  OpenMessage,
  PathAttributes,
  UpdateMessage,
} from '../packages/bgp-wire/src/types.js';

// --- What the capture script wrote (see extract.py inside capture-bgp.sh).

interface StreamEntry {
  capture: string;
  file: string;
  expect: string;
  from: string;
  to: string;
  messages: number;
  context: CodecContext;
  counts: Record<string, number>;
}

interface TsharkCapability {
  code: number;
  length: number;
  afi?: number;
  safi?: number;
  asn?: number;
  families?: { afi: number; safi: number; sendReceive?: number; nextHopAfi?: number }[];
  restarting?: boolean;
  notification?: boolean;
  restartTime?: number;
  hostname?: string;
  domainName?: string;
}

interface TsharkExtCommunity {
  type: number;
  subtype?: number;
  asn?: number;
  address?: string;
  value?: number;
  text: string;
}

interface TsharkAttributes {
  origin?: string;
  asPath?: AsPathSegment[];
  as4Path?: AsPathSegment[];
  nextHop?: string;
  med?: number;
  localPref?: number;
  atomicAggregate?: boolean;
  aggregator?: { asn: number; address: string };
  as4Aggregator?: { asn: number; address: string };
  communities?: string[];
  largeCommunities?: string[];
  extendedCommunities?: TsharkExtCommunity[];
  originatorId?: string;
  clusterList?: string[];
  mpReach?: { afi: number; safi: number; nextHops?: string[]; nlri: Nlri[] };
  mpUnreach?: { afi: number; safi: number; withdrawn: Nlri[] };
}

interface TsharkMessage {
  /** null when tshark did not dissect the message (over 4096 bytes). */
  type: number | null;
  length: number;
  frame: number;
  note?: string;
  // OPEN
  version?: number;
  myAs?: number;
  holdTime?: number;
  bgpId?: string;
  parameters?: { type: number; capabilities: TsharkCapability[] }[];
  // UPDATE
  withdrawn?: Nlri[];
  nlri?: Nlri[];
  attributesLength?: number;
  pathAttributes?: { code: number; flags: number; length: number }[];
  attributes?: TsharkAttributes;
  // NOTIFICATION
  code?: number;
  subcode?: number;
  shutdownMessage?: string;
  // ROUTE-REFRESH
  afi?: number;
  safi?: number;
  subtype?: number;
}

const DIR = new URL('./fixtures/bgp/', import.meta.url);
const manifest = JSON.parse(readFileSync(new URL('manifest.json', DIR), 'utf8')) as { streams: StreamEntry[] };

const TYPE_NAME: Record<number, BgpMessage['type']> = {
  1: 'OPEN',
  2: 'UPDATE',
  3: 'NOTIFICATION',
  4: 'KEEPALIVE',
  5: 'ROUTE-REFRESH',
};
const SEND_RECEIVE: Record<string, number> = { receive: 1, send: 2, both: 3 };
/** Attribute type codes the model has a field for; any other must come back in `unknown`. */
const MODELLED_ATTRIBUTES = new Set([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 15, 16, 17, 18, 32]);

const hexOf = (b: Uint8Array): string => Buffer.from(b).toString('hex');

/** Collects the differences between the codec and tshark for one message. */
interface Diffs {
  list: string[];
  check(what: string, codec: unknown, tshark: unknown): void;
}
function newDiffs(): Diffs {
  const list: string[] = [];
  return {
    list,
    check(what, codec, tshark) {
      if (!isDeepStrictEqual(codec, tshark))
        list.push(`${what}: codec ${JSON.stringify(codec)}, tshark ${JSON.stringify(tshark)}`);
    },
  };
}

function compareCapability(d: Diffs, at: string, cap: Capability, exp: TsharkCapability): void {
  d.check(`${at}.code`, cap.code, exp.code);
  switch (cap.code) {
    case 1:
      if ('afi' in cap) d.check(`${at} afi/safi`, [cap.afi, cap.safi], [exp.afi, exp.safi]);
      break;
    case 65:
      if ('asn' in cap) d.check(`${at}.asn`, cap.asn, exp.asn);
      break;
    case 69:
      if ('families' in cap) {
        d.check(
          `${at}.families`,
          cap.families.map((f) => ({
            afi: f.afi,
            safi: f.safi,
            sendReceive: typeof f.sendReceive === 'number' ? f.sendReceive : SEND_RECEIVE[f.sendReceive],
          })),
          exp.families,
        );
      }
      break;
    case 5:
      if ('families' in cap) d.check(`${at}.families`, cap.families, exp.families);
      break;
    case 64:
      if ('restartTime' in cap) {
        d.check(
          `${at} R/N/time`,
          [cap.restarting, cap.notification, cap.restartTime],
          [exp.restarting, exp.notification, exp.restartTime],
        );
        d.check(
          `${at}.families`,
          cap.families.map((f) => ({ afi: f.afi, safi: f.safi })),
          exp.families,
        );
      }
      break;
    case 73:
      if ('hostname' in cap) d.check(`${at} fqdn`, [cap.hostname, cap.domainName], [exp.hostname, exp.domainName]);
      break;
  }
}

function compareOpen(d: Diffs, msg: OpenMessage, exp: TsharkMessage): void {
  d.check('version', msg.version, exp.version);
  d.check('myAs', msg.myAs, exp.myAs);
  d.check('holdTime', msg.holdTime, exp.holdTime);
  d.check('bgpId', msg.bgpId, exp.bgpId);
  const params = exp.parameters ?? [];
  const caps = params.flatMap((p) => p.capabilities);
  d.check(
    'capability codes',
    msg.capabilities.map((c) => c.code),
    caps.map((c) => c.code),
  );
  msg.capabilities.forEach((cap, i) => {
    const e = caps[i];
    if (e) compareCapability(d, `capabilities[${i}]`, cap, e);
  });
  if (msg.layout) {
    d.check(
      'layout.groups',
      msg.layout.groups,
      params.filter((p) => p.type === 2).map((p) => p.capabilities.length),
    );
  }
}

function compareExtCommunity(d: Diffs, at: string, ec: ExtendedCommunity, exp: TsharkExtCommunity): void {
  d.check(`${at} type/subtype (${exp.text})`, [ec.type, ec.subtype], [exp.type, exp.subtype]);
  if (ec.name === 'route-target' || ec.name === 'route-origin') {
    if (ec.asn !== undefined) d.check(`${at}.asn (${exp.text})`, ec.asn, exp.asn);
    if (ec.address !== undefined) d.check(`${at}.address (${exp.text})`, ec.address, exp.address);
    d.check(`${at}.value (${exp.text})`, ec.value, exp.value);
  }
}

/** Keys of PathAttributes that tshark's expectations also use, compared one to one. */
const SIMPLE_KEYS = [
  'origin',
  'asPath',
  'as4Path',
  'nextHop',
  'med',
  'localPref',
  'atomicAggregate',
  'aggregator',
  'as4Aggregator',
  'communities',
  'largeCommunities',
  'originatorId',
  'clusterList',
] as const;

function compareUpdate(d: Diffs, msg: UpdateMessage, exp: TsharkMessage): void {
  const attrs: PathAttributes = msg.attributes;
  const e = exp.attributes ?? {};
  d.check('withdrawn', msg.withdrawn, exp.withdrawn);
  d.check('nlri', msg.nlri, exp.nlri);
  for (const key of SIMPLE_KEYS) d.check(`attributes.${key}`, attrs[key], e[key]);
  // extended communities
  d.check('extendedCommunities count', attrs.extendedCommunities?.length, e.extendedCommunities?.length);
  attrs.extendedCommunities?.forEach((ec, i) => {
    const x = e.extendedCommunities?.[i];
    if (x) compareExtCommunity(d, `extendedCommunities[${i}]`, ec, x);
  });
  // MP_REACH_NLRI / MP_UNREACH_NLRI
  if (e.mpReach || attrs.mpReach) {
    d.check('mpReach afi/safi', [attrs.mpReach?.afi, attrs.mpReach?.safi], [e.mpReach?.afi, e.mpReach?.safi]);
    d.check('mpReach.nextHops', attrs.mpReach?.nextHops, e.mpReach?.nextHops);
    d.check('mpReach.nlri', attrs.mpReach?.nlri, e.mpReach?.nlri);
  }
  if (e.mpUnreach || attrs.mpUnreach) {
    d.check('mpUnreach afi/safi', [attrs.mpUnreach?.afi, attrs.mpUnreach?.safi], [e.mpUnreach?.afi, e.mpUnreach?.safi]);
    d.check('mpUnreach.withdrawn', attrs.mpUnreach?.withdrawn ?? [], e.mpUnreach?.withdrawn);
  }
  // attributes the model does not know come back raw, with the flags as received
  const wire = exp.pathAttributes ?? [];
  d.check(
    'unknown attributes (code, flags)',
    (attrs.unknown ?? []).map((u) => [u.code, u.flags]),
    wire.filter((a) => !MODELLED_ATTRIBUTES.has(a.code)).map((a) => [a.code, a.flags]),
  );
  // no attribute the wire does not carry
  const present = new Set(wire.map((a) => a.code));
  const FIELD_CODE: Record<string, number> = {
    origin: 1,
    asPath: 2,
    nextHop: 3,
    med: 4,
    localPref: 5,
    atomicAggregate: 6,
    aggregator: 7,
    communities: 8,
    originatorId: 9,
    clusterList: 10,
    mpReach: 14,
    mpUnreach: 15,
    extendedCommunities: 16,
    as4Path: 17,
    as4Aggregator: 18,
    largeCommunities: 32,
  };
  for (const [key, code] of Object.entries(FIELD_CODE)) {
    d.check(
      `attribute ${code} (${key}) present`,
      (attrs as Record<string, unknown>)[key] !== undefined,
      present.has(code),
    );
  }
  if (msg.layout)
    d.check(
      'layout.order',
      msg.layout.order,
      wire.map((a) => a.code),
    );
  if (msg.layout?.flags) {
    for (const [code, flags] of Object.entries(msg.layout.flags)) {
      d.check(`layout.flags[${code}]`, flags, wire.find((a) => a.code === Number(code))?.flags);
    }
  }
  // End-of-RIB (RFC 4724): an empty UPDATE for IPv4 unicast, an MP_UNREACH_NLRI with nothing in it otherwise
  let eor: { afi: number; safi: number } | undefined;
  if (exp.length === 23) eor = { afi: 1, safi: 1 };
  else if (
    wire.length === 1 &&
    wire[0]?.code === 15 &&
    e.mpUnreach?.withdrawn.length === 0 &&
    exp.withdrawn?.length === 0
  ) {
    eor = { afi: e.mpUnreach.afi, safi: e.mpUnreach.safi };
  }
  d.check('endOfRib', msg.endOfRib, eor);
  // messages from real implementations carry no RFC 7606 problems
  d.check('errors', msg.errors ?? [], []);
}

function compare(msg: BgpMessage, exp: TsharkMessage): string[] {
  const d = newDiffs();
  d.check('type', msg.type, exp.type === null ? msg.type : TYPE_NAME[exp.type]);
  if (msg.length !== undefined) d.check('length', msg.length, exp.length);
  if (exp.type === null) return d.list; // tshark did not dissect it: length and round trip only
  switch (msg.type) {
    case 'OPEN':
      compareOpen(d, msg, exp);
      break;
    case 'UPDATE':
      compareUpdate(d, msg, exp);
      break;
    case 'NOTIFICATION':
      d.check('code/subcode', [msg.code, msg.subcode], [exp.code, exp.subcode]);
      d.check('shutdownMessage', msg.shutdownMessage, exp.shutdownMessage);
      break;
    case 'ROUTE-REFRESH':
      d.check('afi/safi/subtype', [msg.afi, msg.safi, msg.subtype], [exp.afi, exp.safi, exp.subtype]);
      break;
    case 'KEEPALIVE':
      break;
  }
  return d.list;
}

function firstDifference(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

t.test('the manifest lists every captured stream', async (t) => {
  t.ok(manifest.streams.length >= 8, `${manifest.streams.length} streams`);
  const captures = new Set(manifest.streams.map((s) => s.capture));
  for (const c of [
    'gobgp-frr',
    'frr-bird-v6',
    'bird-gobgp-ibgp',
    'exabgp-bird-ibgp',
    'bird-frr-as2',
    'bird-frr-full',
  ]) {
    t.ok(captures.has(c), `capture ${c}`);
  }
});

for (const entry of manifest.streams) {
  t.test(`${entry.file} (${entry.from} -> ${entry.to}, ${JSON.stringify(entry.context)})`, async (t) => {
    const buf = new Uint8Array(readFileSync(new URL(entry.file, DIR)));
    const expected = JSON.parse(readFileSync(new URL(entry.expect, DIR), 'utf8')) as TsharkMessage[];
    const ctx = entry.context;
    const { messages, rest } = splitMessages(buf, ctx.maxMessageLength);
    t.equal(rest, buf.length, 'the stream splits into whole messages');
    t.equal(messages.length, expected.length, `${expected.length} messages, as tshark found`);

    messages.forEach((raw, i) => {
      const exp = expected[i];
      const id = `${entry.file} #${i} (frame ${exp?.frame}, ${exp?.type === null ? 'undissected' : TYPE_NAME[exp?.type ?? 0]}, ${raw.length} bytes)`;
      if (!exp) return;
      let msg: BgpMessage;
      try {
        msg = decodeMessage(raw, ctx);
      } catch (err) {
        t.fail(`${id}: decode threw`, { error: String(err), hex: hexOf(raw) });
        return;
      }
      const diffs = compare(msg, exp);
      t.strictSame(diffs, [], `${id}: agrees with tshark`, diffs.length ? { hex: hexOf(raw) } : {});

      let again: Uint8Array | undefined;
      try {
        again = encodeMessage(msg, ctx);
      } catch (err) {
        t.fail(`${id}: encode threw`, { error: String(err), hex: hexOf(raw) });
      }
      if (again) {
        const same = hexOf(again) === hexOf(raw);
        t.ok(
          same,
          `${id}: re-encodes byte for byte`,
          same ? {} : { firstDifferentByte: firstDifference(again, raw), wire: hexOf(raw), encoded: hexOf(again) },
        );
      }
      // The model is plain data: what went through JSON (as `bgp-announce decode` prints it) encodes the same.
      try {
        const viaJson = encodeMessage(JSON.parse(JSON.stringify(msg)) as BgpMessage, ctx);
        t.equal(hexOf(viaJson), hexOf(raw), `${id}: re-encodes byte for byte after a JSON round trip`);
      } catch (err) {
        t.fail(`${id}: encode after JSON threw`, { error: String(err) });
      }
    });
  });
}
