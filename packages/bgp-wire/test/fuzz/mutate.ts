// Input generators for the fuzz test: random bodies behind a valid header, mutations of valid
// messages (bit flips, byte changes, length tweaks, truncation, inserted/deleted/duplicated bytes)
// and splices of two messages.
import type { Rng } from './rng.js';

const INTERESTING = [0, 1, 2, 3, 4, 0x0f, 0x10, 0x1f, 0x20, 0x40, 0x7f, 0x80, 0x81, 0xc0, 0xe0, 0xfe, 0xff];

function setHeaderLength(buf: Uint8Array, length: number): void {
  if (buf.length < 19) return;
  buf[16] = (length >>> 8) & 0xff;
  buf[17] = length & 0xff;
}

/** A valid marker, a length, a type and random bytes behind them. */
export function randomBehindHeader(rng: Rng): Uint8Array {
  const type = rng.chance(0.9) ? 1 + rng.below(5) : rng.below(256);
  const r = rng.below(10);
  const bodyLength = r < 5 ? rng.below(48) : r < 8 ? rng.below(400) : rng.below(4096 - 19 + 1);
  const buf = new Uint8Array(19 + bodyLength);
  buf.fill(0xff, 0, 16);
  buf[18] = type;
  buf.set(rng.bytes(bodyLength), 19);
  // Mostly the true length, sometimes a random one.
  setHeaderLength(buf, rng.chance(0.8) ? buf.length : rng.below(0x10000));
  if (type === 1 && bodyLength > 0 && rng.chance(0.7)) buf[19] = 4; // get past the version check
  return buf;
}

/** Position in the body (past the marker) most of the time. */
function position(rng: Rng, len: number): number {
  if (len <= 16 || rng.chance(0.03)) return rng.below(Math.max(len, 1));
  return 16 + rng.below(len - 16);
}

function mutateOnce(rng: Rng, input: Uint8Array): Uint8Array {
  let buf = input;
  const len = buf.length;
  switch (rng.below(10)) {
    case 0: {
      // bit flip
      if (len === 0) break;
      buf = buf.slice();
      const at = position(rng, len);
      buf[at] = buf[at]! ^ (1 << rng.below(8));
      break;
    }
    case 1: {
      // random byte
      if (len === 0) break;
      buf = buf.slice();
      buf[position(rng, len)] = rng.below(256);
      break;
    }
    case 2: {
      // interesting byte
      if (len === 0) break;
      buf = buf.slice();
      buf[position(rng, len)] = rng.pick(INTERESTING);
      break;
    }
    case 3: {
      // length-like byte nudged by a little (inner length fields)
      if (len <= 19) break;
      buf = buf.slice();
      const at = 19 + rng.below(len - 19);
      buf[at] = (buf[at]! + rng.pick([-3, -2, -1, 1, 2, 3, 4, 16])) & 0xff;
      break;
    }
    case 4: {
      // header length field tweaked
      if (len < 19) break;
      buf = buf.slice();
      const current = (buf[16]! << 8) | buf[17]!;
      setHeaderLength(
        buf,
        rng.chance(0.8) ? Math.max(0, current + rng.pick([-4, -2, -1, 1, 2, 4, 19])) : rng.below(0x10000),
      );
      break;
    }
    case 5: {
      // truncation
      buf = buf.slice(0, rng.below(len + 1));
      break;
    }
    case 6: {
      // inserted bytes
      const at = position(rng, len + 1);
      const extra = rng.bytes(1 + rng.below(rng.chance(0.8) ? 8 : 300));
      const out = new Uint8Array(len + extra.length);
      out.set(buf.subarray(0, at), 0);
      out.set(extra, at);
      out.set(buf.subarray(at), at + extra.length);
      buf = out;
      break;
    }
    case 7: {
      // deleted bytes
      if (len === 0) break;
      const at = position(rng, len);
      const n = Math.min(len - at, 1 + rng.below(rng.chance(0.8) ? 8 : 64));
      const out = new Uint8Array(len - n);
      out.set(buf.subarray(0, at), 0);
      out.set(buf.subarray(at + n), at);
      buf = out;
      break;
    }
    case 8: {
      // a slice of the message duplicated (repeats attributes, prefixes, capabilities)
      if (len <= 19) break;
      const from = 19 + rng.below(len - 19);
      const n = 1 + rng.below(Math.min(64, len - from));
      const at = 19 + rng.below(len - 19 + 1);
      const out = new Uint8Array(len + n);
      out.set(buf.subarray(0, at), 0);
      out.set(buf.subarray(from, from + n), at);
      out.set(buf.subarray(at), at + n);
      buf = out;
      break;
    }
    default: {
      // 16- or 32-bit field set to an extreme
      if (len <= 20) break;
      buf = buf.slice();
      const at = 19 + rng.below(len - 20);
      const v = rng.pick([0, 0xffff, 0x8000, 0x00ff, 0x0100, len, len - 19]);
      buf[at] = (v >>> 8) & 0xff;
      buf[at + 1] = v & 0xff;
    }
  }
  return buf;
}

export function mutate(rng: Rng, seed: Uint8Array): Uint8Array {
  let buf = seed;
  const rounds = 1 + rng.below(rng.chance(0.7) ? 2 : 6);
  for (let i = 0; i < rounds; i++) buf = mutateOnce(rng, buf);
  // Usually keep the header honest so the body parsers see the damage.
  if (buf.length >= 19 && buf.length <= 0xffff && rng.chance(0.75)) setHeaderLength(buf, buf.length);
  return buf;
}

/** The head of one message of a type spliced onto the tail of another. */
export function splice(rng: Rng, a: Uint8Array, b: Uint8Array): Uint8Array {
  const cutA = Math.min(a.length, 19 + rng.below(Math.max(a.length - 18, 1)));
  const cutB = 19 + rng.below(Math.max(b.length - 18, 1));
  const tail = b.subarray(Math.min(cutB, b.length));
  const out = new Uint8Array(cutA + tail.length);
  out.set(a.subarray(0, cutA), 0);
  out.set(tail, cutA);
  if (out.length >= 19 && out.length <= 0xffff) setHeaderLength(out, out.length);
  return out;
}
