// `bgp-announce decode`: BGP messages as on the wire in, one JSON object per message per line out.
// Pure: bytes and options in, lines and an exit status out; main.ts does the reading and writing.
import {
  BgpWireError,
  ERROR_CODE,
  HEADER_LENGTH,
  HEADER_SUBCODE,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  decodeMessage,
  readHeader,
  type BgpMessage,
  type CodecContext,
  type Family,
} from '@bgp-announce/bgp-wire';
import { UsageError } from './options.js';

/** Options of the decode command, as given on the command line. */
export interface DecodeOptions {
  /** The input is hex text (whitespace and 0x prefixes ignored), not raw bytes. */
  hex?: boolean;
  /** Comma-separated families whose NLRI carry ADD-PATH path identifiers, e.g. "ipv4-unicast,ipv6-unicast". */
  addPath?: string;
  /** AS numbers in AS_PATH and AGGREGATOR are 2 octets. */
  as2?: boolean;
  /** Accept messages up to 65535 bytes (RFC 8654). */
  extendedMessage?: boolean;
}

/** What the command prints and how it exits: 0 all good, 1 some message bad, 2 usage error. */
export interface DecodeResult {
  /** Lines for stdout, one JSON object each. */
  lines: string[];
  /** Lines for stderr (usage errors). */
  stderr: string[];
  status: 0 | 1 | 2;
}

/** The families --add-path accepts. */
export const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/** Parses the --add-path list. Throws UsageError naming the valid families on an unknown name. */
export function parseFamilies(list: string): Family[] {
  const out: Family[] = [];
  for (const raw of list.split(',')) {
    const name = raw.trim();
    if (name === '') continue;
    const family = FAMILIES.find((f) => f === name);
    if (family === undefined)
      throw new UsageError(`unknown family "${name}" for --add-path (valid: ${FAMILIES.join(', ')})`);
    if (!out.includes(family)) out.push(family);
  }
  if (out.length === 0) throw new UsageError(`--add-path needs at least one family (valid: ${FAMILIES.join(', ')})`);
  return out;
}

/**
 * Parses hex text: whitespace and newlines are ignored, and so is a 0x in front of any
 * whitespace-separated token. Throws UsageError on anything else or an odd number of digits.
 */
export function parseHexInput(text: string): Uint8Array {
  let digits = '';
  for (const token of text.split(/\s+/)) {
    if (token === '') continue;
    const body = token.startsWith('0x') || token.startsWith('0X') ? token.slice(2) : token;
    const bad = body.search(/[^0-9a-fA-F]/);
    if (bad !== -1)
      throw new UsageError(
        `--hex input has a non-hex character ${JSON.stringify(body[bad])} in "${token.slice(0, 40)}"`,
      );
    digits += body;
  }
  if (digits.length % 2 !== 0) throw new UsageError(`--hex input has an odd number of hex digits (${digits.length})`);
  return new Uint8Array(Buffer.from(digits, 'hex'));
}

/** The codec context the options describe. Throws UsageError for a bad --add-path. */
export function contextFromOptions(opts: DecodeOptions): CodecContext {
  const ctx: CodecContext = {
    fourOctetAs: opts.as2 !== true,
    maxMessageLength: opts.extendedMessage === true ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH,
  };
  if (opts.addPath !== undefined) ctx.addPath = parseFamilies(opts.addPath);
  return ctx;
}

// ---------------------------------------------------------------------------------------------
// Output: the decoded objects, `layout` removed, keys in a fixed order.

type Plain = Record<string, unknown>;

const TOP_ORDER: Record<BgpMessage['type'], readonly string[]> = {
  OPEN: ['type', 'length', 'version', 'myAs', 'holdTime', 'bgpId', 'capabilities'],
  UPDATE: ['type', 'length', 'withdrawn', 'nlri', 'attributes', 'endOfRib', 'errors'],
  NOTIFICATION: ['type', 'length', 'code', 'subcode', 'name', 'data', 'shutdownMessage'],
  KEEPALIVE: ['type', 'length'],
  'ROUTE-REFRESH': ['type', 'length', 'afi', 'safi', 'subtype', 'orfHex'],
};
const ATTRIBUTE_ORDER = [
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
  'extendedCommunities',
  'originatorId',
  'clusterList',
  'mpReach',
  'mpUnreach',
  'unknown',
];
const NLRI_ORDER = ['prefix', 'pathId'];
const MP_REACH_ORDER = ['afi', 'safi', 'nextHops', 'nlri', 'nextHopHex', 'nlriHex'];
const MP_UNREACH_ORDER = ['afi', 'safi', 'withdrawn', 'withdrawnHex'];
const UPDATE_ERROR_ORDER = ['action', 'code', 'subcode', 'attribute', 'message', 'offset', 'data'];
const CAPABILITY_ORDER = ['code', 'name'];
const INTERNAL_KEYS = new Set(['layout']);

/** A copy of obj with the keys of `order` first (in that order), then the rest as they come; `layout` dropped. */
function ordered(obj: Plain, order: readonly string[]): Plain {
  const out: Plain = {};
  for (const key of order) if (obj[key] !== undefined) out[key] = obj[key];
  for (const key of Object.keys(obj)) {
    if (!(key in out) && !INTERNAL_KEYS.has(key) && obj[key] !== undefined) out[key] = obj[key];
  }
  return out;
}

const isPlain = (v: unknown): v is Plain => typeof v === 'object' && v !== null && !Array.isArray(v);
const orderEach = (v: unknown, order: readonly string[]): unknown =>
  Array.isArray(v) ? v.map((x: unknown) => (isPlain(x) ? ordered(x, order) : x)) : v;

function orderAttributes(attrs: Plain): Plain {
  const out = ordered(attrs, ATTRIBUTE_ORDER);
  if (isPlain(out.mpReach)) {
    const mp = ordered(out.mpReach, MP_REACH_ORDER);
    if (mp.nlri !== undefined) mp.nlri = orderEach(mp.nlri, NLRI_ORDER);
    out.mpReach = mp;
  }
  if (isPlain(out.mpUnreach)) {
    const mp = ordered(out.mpUnreach, MP_UNREACH_ORDER);
    if (mp.withdrawn !== undefined) mp.withdrawn = orderEach(mp.withdrawn, NLRI_ORDER);
    out.mpUnreach = mp;
  }
  return out;
}

/** The JSON object printed for one decoded message. */
export function messageToJson(msg: BgpMessage): Plain {
  const out = ordered(msg as unknown as Plain, TOP_ORDER[msg.type]);
  if (msg.type === 'OPEN') out.capabilities = orderEach(out.capabilities, CAPABILITY_ORDER);
  if (msg.type === 'UPDATE') {
    out.withdrawn = orderEach(out.withdrawn, NLRI_ORDER);
    out.nlri = orderEach(out.nlri, NLRI_ORDER);
    if (isPlain(out.attributes)) out.attributes = orderAttributes(out.attributes);
    if (out.errors !== undefined) out.errors = orderEach(out.errors, UPDATE_ERROR_ORDER);
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Decoding a stream

/** The ERROR line for err, its offset moved from the message to the stream. */
function errorLine(err: BgpWireError, messageStart: number): string {
  return JSON.stringify({ ...err.toJSON(), offset: messageStart + err.offset });
}

/** An ERROR line for a throw that is not a BgpWireError: a codec bug, reported instead of crashing. */
function internalErrorLine(err: unknown, messageStart: number): string {
  const message = err instanceof Error ? err.message : String(err);
  return JSON.stringify({
    type: 'ERROR',
    code: 0,
    subcode: 0,
    name: 'Internal Error',
    action: 'session-reset',
    message: `internal decoder error: ${message}`,
    offset: messageStart,
    data: '',
  });
}

function truncated(input: Uint8Array, at: number): BgpWireError {
  const have = input.length - at;
  if (have < HEADER_LENGTH) {
    return new BgpWireError(
      `truncated message: ${have} bytes at the end of the input, a header needs ${HEADER_LENGTH}`,
      {
        code: ERROR_CODE.MESSAGE_HEADER,
        subcode: HEADER_SUBCODE.BAD_MESSAGE_LENGTH,
      },
    );
  }
  const length = (input[at + 16]! << 8) | input[at + 17]!;
  return new BgpWireError(`truncated message: header says ${length} bytes, ${have} present`, {
    code: ERROR_CODE.MESSAGE_HEADER,
    subcode: HEADER_SUBCODE.BAD_MESSAGE_LENGTH,
    data: input.slice(at + 16, at + 18),
  });
}

/**
 * Decodes concatenated messages. After a bad message it goes on with the next one while the framing
 * holds; a bad marker or length, or an incomplete message at the end, stops it. Offsets in ERROR
 * lines count from the start of input.
 */
export function decodeMessages(input: Uint8Array, ctx: CodecContext): { lines: string[]; status: 0 | 1 } {
  const lines: string[] = [];
  let status: 0 | 1 = 0;
  const max = ctx.maxMessageLength ?? MAX_MESSAGE_LENGTH;
  let at = 0;
  while (at < input.length) {
    if (input.length - at < HEADER_LENGTH) {
      lines.push(errorLine(truncated(input, at), at));
      return { lines, status: 1 };
    }
    let length: number;
    try {
      length = readHeader(input, at, max).length;
    } catch (err) {
      if (!(err instanceof BgpWireError)) throw err;
      lines.push(errorLine(err, at));
      status = 1;
      // An unknown type does not break the framing when the length is sane: skip the message.
      const claimed = (input[at + 16]! << 8) | input[at + 17]!;
      if (
        err.subcode === HEADER_SUBCODE.BAD_MESSAGE_TYPE &&
        claimed >= HEADER_LENGTH &&
        claimed <= max &&
        at + claimed <= input.length
      ) {
        at += claimed;
        continue;
      }
      return { lines, status };
    }
    if (input.length - at < length) {
      lines.push(errorLine(truncated(input, at), at));
      return { lines, status: 1 };
    }
    try {
      const msg = decodeMessage(input.subarray(at, at + length), ctx);
      lines.push(JSON.stringify(messageToJson(msg)));
      if (msg.type === 'UPDATE' && msg.errors !== undefined && msg.errors.length > 0) status = 1;
    } catch (err) {
      lines.push(err instanceof BgpWireError ? errorLine(err, at) : internalErrorLine(err, at));
      status = 1;
    }
    at += length;
  }
  return { lines, status };
}

/** The whole command: raw input bytes (hex text when opts.hex) in, output lines and exit status out. */
export function decode(input: Uint8Array, opts: DecodeOptions = {}): DecodeResult {
  let ctx: CodecContext;
  let bytes: Uint8Array;
  try {
    ctx = contextFromOptions(opts);
    bytes =
      opts.hex === true
        ? parseHexInput(Buffer.from(input.buffer, input.byteOffset, input.length).toString('latin1'))
        : input;
  } catch (err) {
    if (err instanceof UsageError) return { lines: [], stderr: [`bgp-announce decode: ${err.message}`], status: 2 };
    throw err;
  }
  const { lines, status } = decodeMessages(bytes, ctx);
  return { lines, stderr: [], status };
}
