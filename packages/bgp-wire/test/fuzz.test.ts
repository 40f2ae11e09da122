// Fuzz test of the whole-message codec: random and mutated inputs must either decode or throw a
// well-formed BgpWireError, and whatever decodes must survive encode -> decode unchanged.
// Reproduce a run with FUZZ_SEED=<seed printed below>; scale it with FUZZ_ITERATIONS.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { randomInt } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { decodeMessage, encodeMessage } from '../src/message.js';
import { MessageFramer } from '../src/framing.js';
import { BgpWireError } from '../src/errors.js';
import type { BgpMessage, CodecContext } from '../src/types.js';
import { createRng } from './fuzz/rng.js';
import { builtMessages, fixtureMessages, type Seed } from './fuzz/corpus.js';
import { mutate, randomBehindHeader, splice } from './fuzz/mutate.js';
import { formsDisagree } from './helpers/both-forms.js';

const SEED = parseSeed(process.env['FUZZ_SEED']);
const ITERATIONS = parsePositive(process.env['FUZZ_ITERATIONS'], 30000);
const MAX_FAILURES = 10;
const rng = createRng(SEED);
const { below, chance, pick } = rng;

function parseSeed(text: string | undefined): number {
  if (text === undefined || text === '') return randomInt(0, 2 ** 32);
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n >= 2 ** 32)
    throw new Error(`FUZZ_SEED must be an integer 0..2^32-1, got ${text}`);
  return n;
}

function parsePositive(text: string | undefined, fallback: number): number {
  if (text === undefined || text === '') return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`FUZZ_ITERATIONS must be a positive integer, got ${text}`);
  return n;
}

// ---------------------------------------------------------------------------------------------
// Contexts every input is decoded under.

interface NamedContext {
  name: string;
  ctx: CodecContext;
}
const CONTEXTS: NamedContext[] = [
  { name: '4-octet', ctx: {} },
  { name: '2-octet', ctx: { fourOctetAs: false } },
  { name: '4-octet add-path', ctx: { addPath: ['ipv4-unicast', 'ipv6-unicast'] } },
  { name: '2-octet add-path ibgp', ctx: { fourOctetAs: false, addPath: ['ipv4-unicast'], ibgp: true } },
  { name: '4-octet extended-message', ctx: { maxMessageLength: 65535 } },
];

const FIXTURE_DIR = fileURLToPath(new URL('../../../test/fixtures/bgp/', import.meta.url));

// ---------------------------------------------------------------------------------------------
// Properties.

interface Failure {
  reason: string;
  origin: string;
  context: string;
  iteration: number;
  hex: string;
  detail: string;
}

const ACTIONS = new Set(['session-reset', 'afi-safi-disable', 'treat-as-withdraw', 'attribute-discard']);
const UPDATE_ERROR_ACTIONS = new Set(['treat-as-withdraw', 'attribute-discard']);

const stats = {
  inputs: 0,
  decodes: 0,
  accepted: 0,
  rejected: 0,
  treatAsWithdraw: 0,
  roundTrips: 0,
  identicalBytes: 0,
  framerChunks: 0,
  framerMessages: 0,
  framerErrors: 0,
  /** UPDATE inputs decoded in both forms (string and packed) and compared. */
  bothForms: 0,
  /** ... of which the packed form held at least one prefix. */
  packedPrefixes: 0,
};
const failures: Failure[] = [];
let failureCount = 0;
const HEX_LIMIT = 20000;
function hexOf(buf: Uint8Array): string {
  const hex = Buffer.from(buf.buffer, buf.byteOffset, buf.length).toString('hex');
  return hex.length <= HEX_LIMIT ? hex : `${hex.slice(0, HEX_LIMIT)}... (${buf.length} bytes; reproduce with the seed)`;
}

function fail(
  reason: string,
  origin: string,
  context: string,
  iteration: number,
  input: Uint8Array,
  detail: string,
): void {
  failureCount++;
  if (failures.length < MAX_FAILURES) failures.push({ reason, origin, context, iteration, hex: hexOf(input), detail });
}

function describe(err: unknown): string {
  if (err instanceof Error) return err.stack ?? `${err.name}: ${err.message}`;
  return `non-Error thrown: ${String(err)}`;
}

/** Why err is not a well-formed BgpWireError for an input of inputLength bytes, or undefined if it is. */
function badWireError(err: unknown, inputLength: number): string | undefined {
  if (!(err instanceof BgpWireError)) return 'threw something other than BgpWireError';
  if (!Number.isInteger(err.code) || err.code < 1 || err.code > 255) return `bad code ${err.code}`;
  if (!Number.isInteger(err.subcode) || err.subcode < 0 || err.subcode > 255) return `bad subcode ${err.subcode}`;
  if (!ACTIONS.has(err.action)) return `bad action ${String(err.action)}`;
  if (!Number.isInteger(err.offset) || err.offset < 0 || err.offset > inputLength)
    return `offset ${err.offset} outside the input (${inputLength} bytes)`;
  if (!(err.data instanceof Uint8Array)) return 'data is not a Uint8Array';
  return undefined;
}

/**
 * The message without what may legitimately change on a round trip: `length` and
 * `trailingBitsCleared` (the bits are written back as zero) always; `errors`, `layout` and `endOfRib`
 * when the first decode discarded attributes (the re-encoded message has neither those attributes nor
 * errors, its layout lacks them, and with nothing else left it is an End-of-RIB marker, which the
 * damaged original was not).
 */
function comparable(msg: BgpMessage, discarded: boolean): Record<string, unknown> {
  const {
    length: _length,
    trailingBitsCleared: _cleared,
    ...rest
  } = msg as BgpMessage & { length?: number; trailingBitsCleared?: number };
  if (!discarded) return rest;
  const {
    errors: _errors,
    layout: _layout,
    endOfRib: _endOfRib,
    ...clean
  } = rest as typeof rest & { errors?: unknown; layout?: unknown; endOfRib?: unknown };
  return clean;
}

function checkInput(input: Uint8Array, origin: string, iteration: number): void {
  stats.inputs++;
  for (const { name, ctx } of CONTEXTS) {
    stats.decodes++;
    if (input.length >= 19 && input[18] === 2) {
      // An UPDATE: the packed form must read what the string form reads, and throw what it throws.
      stats.bothForms++;
      const why = formsDisagree(input, 0, input.length, ctx, (packed) => {
        const { withdrawn, nlri, attributes } = packed;
        const n =
          withdrawn.length +
          nlri.length +
          (attributes.mpReach?.nlri?.length ?? 0) +
          (attributes.mpUnreach?.withdrawn?.length ?? 0);
        if (n > 0) stats.packedPrefixes++;
      });
      if (why !== undefined) fail('string and packed forms disagree', origin, name, iteration, input, why);
    }
    let msg: BgpMessage;
    try {
      msg = decodeMessage(input, ctx);
    } catch (err) {
      stats.rejected++;
      const why = badWireError(err, input.length);
      if (why !== undefined) fail(`decode: ${why}`, origin, name, iteration, input, describe(err));
      continue;
    }
    stats.accepted++;
    if (msg.type === 'UPDATE' && msg.errors !== undefined) {
      for (const e of msg.errors) {
        const fields =
          UPDATE_ERROR_ACTIONS.has(e.action) &&
          Number.isInteger(e.code) &&
          Number.isInteger(e.subcode) &&
          Number.isInteger(e.offset) &&
          e.offset >= 0 &&
          e.offset <= input.length;
        if (!fields)
          fail('decode: malformed entry in UPDATE errors', origin, name, iteration, input, JSON.stringify(e));
      }
      if (msg.errors.some((e) => e.action === 'treat-as-withdraw')) {
        stats.treatAsWithdraw++;
        continue;
      }
    }
    let encoded: Uint8Array;
    try {
      encoded = encodeMessage(msg, ctx);
    } catch (err) {
      fail(
        'encode of a decoded message threw',
        origin,
        name,
        iteration,
        input,
        `${describe(err)}\nmessage: ${JSON.stringify(msg)}`,
      );
      continue;
    }
    let again: BgpMessage;
    try {
      again = decodeMessage(encoded, ctx);
    } catch (err) {
      fail(
        're-decode of the encoded message threw',
        origin,
        name,
        iteration,
        input,
        `${describe(err)}\nencoded: ${hexOf(encoded)}\nmessage: ${JSON.stringify(msg)}`,
      );
      continue;
    }
    stats.roundTrips++;
    const discarded = msg.type === 'UPDATE' && msg.errors !== undefined;
    if (!isDeepStrictEqual(comparable(msg, discarded), comparable(again, discarded))) {
      fail(
        'decode(encode(msg)) differs from msg',
        origin,
        name,
        iteration,
        input,
        `first:  ${JSON.stringify(msg)}\nsecond: ${JSON.stringify(again)}\nencoded: ${hexOf(encoded)}`,
      );
      continue;
    }
    if (encoded.length === input.length && Buffer.compare(encoded, input) === 0) stats.identicalBytes++;
  }
}

/** Feeds chunks to a new framer: the messages it hands out (copied), and the error it ends with. */
function frame(
  chunks: Iterable<Uint8Array>,
  maxLength: number,
  all: Uint8Array,
  iteration: number,
): { messages: Uint8Array[]; error?: BgpWireError } {
  const context = `max ${maxLength}`;
  const framer = new MessageFramer(maxLength);
  const messages: Uint8Array[] = [];
  for (const chunk of chunks) {
    stats.framerChunks++;
    let out: ReturnType<MessageFramer['push']>;
    try {
      out = framer.push(chunk);
    } catch (err) {
      fail('framer: push threw', 'framer stream', context, iteration, all, describe(err));
      return { messages };
    }
    for (const m of out.messages) {
      stats.framerMessages++;
      const length = (m[16]! << 8) | m[17]!;
      if (m.length < 19 || length !== m.length || m.length > maxLength) {
        fail(
          'framer returned a message whose header does not match it',
          'framer stream',
          context,
          iteration,
          all,
          hexOf(m),
        );
      }
      messages.push(m.slice());
    }
    // Done with this chunk's messages: the caller may now reuse the chunk, which must not disturb
    // the incomplete tail the framer keeps.
    chunk.fill(0);
    if (out.error !== undefined) {
      stats.framerErrors++;
      const why = badWireError(out.error, all.length);
      if (why !== undefined) fail(`framer: ${why}`, 'framer stream', context, iteration, all, describe(out.error));
      return { messages, error: out.error }; // the stream is out of sync; a session would be reset here
    }
  }
  return { messages };
}

/**
 * Concatenates inputs and feeds them to MessageFramer in random chunk sizes. Every message it returns
 * must match its header, and chunking must not change the result: the same messages as one push of
 * the whole stream, then the same error (code, subcode and stream offset) or none.
 */
function checkFramer(stream: Uint8Array[], iteration: number): void {
  const total = stream.reduce((n, b) => n + b.length, 0);
  const all = new Uint8Array(total);
  const boundaries: number[] = [];
  let at = 0;
  for (const b of stream) {
    all.set(b, at);
    at += b.length;
    boundaries.push(at);
  }
  const maxLength = chance(0.5) ? 4096 : 65535;
  function* chunks(): Generator<Uint8Array> {
    let pos = 0;
    while (pos < all.length) {
      // Tiny chunks, larger ones, or cuts just around the end of an input (where off-by-ones live).
      const mode = below(3);
      const boundary = boundaries.find((b) => b > pos) ?? all.length;
      const n = mode === 0 ? 1 + below(8) : mode === 1 ? 1 + below(700) : Math.max(1, boundary - pos + below(5) - 2);
      // A copy, so a framer that kept a view of the caller's chunk is caught by the reuse.
      yield all.slice(pos, pos + n);
      pos += n;
    }
  }
  const chunked = frame(chunks(), maxLength, all, iteration);
  const once = frame([all.slice()], maxLength, all, iteration);
  const errorOf = (e: BgpWireError | undefined): string =>
    e === undefined ? 'none' : `${e.code}/${e.subcode} at ${e.offset}`;
  if (!isDeepStrictEqual(chunked.messages, once.messages) || errorOf(chunked.error) !== errorOf(once.error)) {
    fail(
      'chunked framing differs from framing the whole stream',
      'framer stream',
      `max ${maxLength}`,
      iteration,
      all,
      `whole: ${once.messages.length} messages, error ${errorOf(once.error)}; chunked: ${chunked.messages.length} messages, error ${errorOf(chunked.error)}`,
    );
  }
}

// ---------------------------------------------------------------------------------------------

const corpus: Seed[] = [];

t.comment(`fuzz seed ${SEED} (reproduce with FUZZ_SEED=${SEED}), ${ITERATIONS} iterations`);

t.test('valid seed messages decode and round-trip', async (t) => {
  const seeds: Seed[] = [];
  for (const { origin, msg, ctx } of builtMessages()) {
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(msg, ctx);
    } catch (err) {
      t.fail(`encoding ${origin} threw: ${describe(err)}`);
      continue;
    }
    seeds.push({ origin, bytes });
    try {
      const back = decodeMessage(bytes, ctx);
      t.equal(back.type, msg.type, `${origin} decodes as ${msg.type}`);
      t.same(encodeMessage(back, ctx), bytes, `${origin}: encode(decode(bytes)) reproduces the bytes`);
    } catch (err) {
      t.fail(`${origin}: decode or re-encode threw: ${describe(err)}`);
    }
  }
  const fixtures = fixtureMessages(FIXTURE_DIR);
  t.comment(`${fixtures.length} captured messages from ${FIXTURE_DIR}`);
  seeds.push(...fixtures);
  corpus.push(...seeds);
  t.ok(corpus.length >= 15, 'corpus has the built messages');
});

t.test(`random and mutated inputs (seed ${SEED})`, async (t) => {
  t.ok(corpus.length > 0, 'corpus is ready');
  if (corpus.length === 0) return;
  const started = process.hrtime.bigint();
  for (let i = 0; i < ITERATIONS && failureCount < MAX_FAILURES; i++) {
    const r = below(20);
    if (r < 4) {
      checkInput(randomBehindHeader(rng), 'random bytes behind a header', i);
    } else if (r < 5) {
      const a = pick(corpus);
      const b = pick(corpus);
      checkInput(splice(rng, a.bytes, b.bytes), `splice of ${a.origin} and ${b.origin}`, i);
    } else if (r < 18) {
      const s = pick(corpus);
      checkInput(mutate(rng, s.bytes), `mutation of ${s.origin}`, i);
    } else {
      const stream: Uint8Array[] = [];
      const n = 2 + below(8);
      for (let k = 0; k < n; k++) {
        const s = pick(corpus).bytes;
        stream.push(chance(0.7) ? s : chance(0.5) ? mutate(rng, s) : randomBehindHeader(rng));
      }
      checkFramer(stream, i);
    }
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  t.comment(`${stats.inputs} inputs, ${stats.decodes} decodes in ${seconds.toFixed(1)} s: ${JSON.stringify(stats)}`);

  for (const f of failures) {
    t.fail(`${f.reason} (FUZZ_SEED=${SEED}, iteration ${f.iteration}, ${f.origin}, context ${f.context})`, {
      input: f.hex,
      detail: f.detail,
    });
  }
  t.equal(failureCount, 0, `no property violations (FUZZ_SEED=${SEED})`);
  // The run must exercise the codec, not just bounce off the header checks.
  t.ok(stats.accepted > stats.decodes * 0.05, `a fair share of inputs decode (${stats.accepted} of ${stats.decodes})`);
  t.ok(
    stats.rejected > stats.decodes * 0.05,
    `a fair share of inputs are rejected (${stats.rejected} of ${stats.decodes})`,
  );
  t.ok(stats.roundTrips > 0, `decoded messages were re-encoded (${stats.roundTrips})`);
  t.ok(
    stats.packedPrefixes > stats.bothForms * 0.05,
    `UPDATEs with prefixes were compared in both forms (${stats.packedPrefixes} of ${stats.bothForms})`,
  );
  t.ok(stats.framerMessages > 0, `the framer produced messages (${stats.framerMessages})`);
});
