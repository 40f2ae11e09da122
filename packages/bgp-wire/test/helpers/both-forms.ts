// Decodes an UPDATE in both forms, string (decodeUpdate) and packed (decodeUpdatePacked), and checks
// that they agree: the same prefixes, the same RFC 7606 errors and actions, every other field the
// same, or the same thrown error. The codec tests decode through it, so every vector runs both forms.
import { isDeepStrictEqual } from 'node:util';
import { decodeUpdate } from '../../src/update.js';
import { decodeUpdatePacked, unpackUpdate, updateView, type PackedUpdateMessage } from '../../src/packed-update.js';
import { BgpWireError } from '../../src/errors.js';
import type { CodecContext, UpdateMessage } from '../../src/types.js';

function attempt<T>(fn: () => T): { value: T } | { error: unknown } {
  try {
    return { value: fn() };
  } catch (error) {
    return { error };
  }
}

/** The fields of a thrown error that say what the session does about it. */
function errorFields(err: unknown): Record<string, unknown> {
  if (!(err instanceof BgpWireError)) return { notBgpWireError: String(err) };
  const { message, code, subcode, action, offset, data, afi, safi } = err;
  return { message, code, subcode, action, offset, data: Buffer.from(data).toString('hex'), afi, safi };
}

/**
 * Why the two forms disagree for this input, or undefined when they agree. `packedOut` receives the
 * packed message when both decode.
 */
export function formsDisagree(
  buf: Uint8Array,
  start: number,
  end: number,
  ctx: CodecContext | undefined,
  packedOut?: (packed: PackedUpdateMessage, strings: UpdateMessage) => void,
): string | undefined {
  const strings = attempt(() => decodeUpdate(buf, start, end, ctx));
  const packed = attempt(() => decodeUpdatePacked(buf, start, end, ctx));
  if ('error' in strings || 'error' in packed) {
    if (!('error' in strings)) return `only the packed form threw: ${String((packed as { error: unknown }).error)}`;
    if (!('error' in packed)) return `only the string form threw: ${String(strings.error)}`;
    const a = errorFields(strings.error);
    const b = errorFields(packed.error);
    return isDeepStrictEqual(a, b) ? undefined : `different errors: ${JSON.stringify(a)} / ${JSON.stringify(b)}`;
  }
  const unpacked = unpackUpdate(packed.value);
  if (!isDeepStrictEqual(unpacked, strings.value))
    return `different messages: ${JSON.stringify(strings.value)} / ${JSON.stringify(unpacked)}`;
  const view = updateView(packed.value);
  if (!isDeepStrictEqual({ ...view }, strings.value))
    return `the lazy view differs: ${JSON.stringify(strings.value)} / ${JSON.stringify(view)}`;
  packedOut?.(packed.value, strings.value);
  return undefined;
}

/**
 * decodeUpdate(buf, start, end, ctx), after checking that decodeUpdatePacked agrees with it (a
 * disagreement throws a plain Error, which fails the test). Returns or throws what decodeUpdate does.
 */
export function decodeBothForms(buf: Uint8Array, start: number, end: number, ctx?: CodecContext): UpdateMessage {
  const why = formsDisagree(buf, start, end, ctx);
  if (why !== undefined) throw new Error(`string and packed forms disagree: ${why}`);
  return decodeUpdate(buf, start, end, ctx);
}
