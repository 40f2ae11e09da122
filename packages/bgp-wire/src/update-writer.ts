// A growable output buffer for the UPDATE encoders. Plain data: the caller owns the object and passes
// it along; `reserve` replaces `buf` with a larger copy when needed, so re-read `w.buf` after it.

export interface Writer {
  buf: Uint8Array;
}

export function newWriter(size = 4096): Writer {
  return { buf: new Uint8Array(size) };
}

/** Makes w.buf at least `end` bytes long (keeping its contents) and returns it. */
export function reserve(w: Writer, end: number): Uint8Array {
  if (end <= w.buf.length) return w.buf;
  const bigger = new Uint8Array(Math.max(end, w.buf.length * 2));
  bigger.set(w.buf, 0);
  w.buf = bigger;
  return bigger;
}

/** Checks a caller's unsigned integer field and returns it. */
export function checkUint(value: unknown, max: number, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${what} must be an integer 0-${max}, got ${String(value)}`);
  }
  return value;
}
