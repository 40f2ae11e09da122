// Small byte helpers shared by the codecs. Everything works on Uint8Array (Node Buffers are Uint8Arrays).

export function readUint16(buf: Uint8Array, at: number): number {
  return (buf[at]! << 8) | buf[at + 1]!;
}

export function readUint32(buf: Uint8Array, at: number): number {
  return ((buf[at]! << 24) | (buf[at + 1]! << 16) | (buf[at + 2]! << 8) | buf[at + 3]!) >>> 0;
}

export function writeUint16(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 8;
  buf[at + 1] = value;
}

export function writeUint32(buf: Uint8Array, at: number, value: number): void {
  buf[at] = value >>> 24;
  buf[at + 1] = value >>> 16;
  buf[at + 2] = value >>> 8;
  buf[at + 3] = value;
}

export function toHex(buf: Uint8Array, start = 0, end = buf.length): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('hex');
}

const HEX_RE = /^(?:[0-9a-fA-F]{2})*$/;

/** Parses even-length hex text. Throws a TypeError on anything else (a caller's mistake, not wire input). */
export function fromHex(hex: string): Uint8Array {
  if (!HEX_RE.test(hex)) throw new TypeError(`not an even-length hex string: ${JSON.stringify(hex.slice(0, 40))}`);
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Decodes strict UTF-8, or returns undefined if the bytes are not valid UTF-8. */
export function decodeUtf8(buf: Uint8Array, start: number, end: number): string | undefined {
  try {
    return utf8.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}

export function encodeUtf8(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'utf8'));
}
