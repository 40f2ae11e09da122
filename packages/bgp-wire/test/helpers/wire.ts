// Helpers shared by the codec tests: hex text <-> bytes, hand-built messages, catching errors.
import { BgpWireError } from '../../src/errors.js';

export const MARKER = 'ff'.repeat(16);
export const hex = (buf: Uint8Array): string => Buffer.from(buf).toString('hex');
/** Hex text (whitespace ignored) to bytes. */
export const bytes = (h: string): Uint8Array => new Uint8Array(Buffer.from(h.replace(/\s+/g, ''), 'hex'));
export const u16 = (n: number): string => n.toString(16).padStart(4, '0');

/** What fn throws (undefined if it returns). */
export function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  return undefined;
}

/** The BgpWireError fn throws; anything else thrown, or nothing, fails the calling test. */
export function wireError(fn: () => unknown): BgpWireError {
  const err = thrown(fn);
  if (err instanceof BgpWireError) return err;
  if (err === undefined) throw new Error('did not throw');
  throw err;
}

/** An UPDATE from hex sections (withdrawn routes, path attributes, NLRI); the lengths are filled in. */
export function updateBytes(withdrawn: string, attrs: string, nlri: string): Uint8Array {
  const w = withdrawn.replace(/\s+/g, '');
  const a = attrs.replace(/\s+/g, '');
  const n = nlri.replace(/\s+/g, '');
  const length = 19 + 2 + w.length / 2 + 2 + a.length / 2 + n.length / 2;
  return bytes(`${MARKER}${u16(length)}02${u16(w.length / 2)}${w}${u16(a.length / 2)}${a}${n}`);
}

// Attributes that make an UPDATE with NLRI valid: ORIGIN IGP, AS_PATH (64496), NEXT_HOP 192.0.2.1.
export const ORIGIN = '40010100';
export const AS_PATH = '40020602010000fbf0';
export const NEXT_HOP = '400304c0000201';
export const BASE = ORIGIN + AS_PATH + NEXT_HOP; // 4 + 9 + 7 = 20 bytes
export const NLRI = '18cb0071'; // 203.0.113.0/24
