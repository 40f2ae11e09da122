// What the Speaker survives and how it tells: MalformedUpdateError for an UPDATE that RFC 7606 lets it
// repair, and report(), which gives every such error to the 'error' event (or, with no listener, to a
// process warning) instead of throwing.
import type { UpdateError } from '@bgp-announce/bgp-wire';
import type { SpeakerCore } from './speaker-types.js';

/**
 * A peer sent an UPDATE with an error RFC 7606 handles without a session reset (treat-as-withdraw or
 * attribute-discard); reported through the 'error' event with the offending bytes.
 */
export class MalformedUpdateError extends Error {
  constructor(
    readonly peerId: string,
    readonly detail: UpdateError,
  ) {
    const attr = detail.attribute === undefined ? '' : ` in attribute ${detail.attribute}`;
    const bytes = detail.data.length > 0 ? `, bytes ${detail.data}` : '';
    super(
      `peer ${peerId} sent a malformed UPDATE${attr} at offset ${detail.offset}: ${detail.message}; ${detail.action === 'treat-as-withdraw' ? 'its routes are treated as withdrawn' : 'the attribute is discarded'} (RFC 7606)${bytes}`,
    );
    this.name = 'MalformedUpdateError';
  }
}

/** Emits 'error' for the peer, or a BgpSpeakerWarning when nobody listens for errors. */
export function report(core: SpeakerCore, peerId: string, error: Error): void {
  if (core.events.listenerCount('error') > 0) core.events.emit('error', peerId, error);
  else process.emitWarning(error.message, 'BgpSpeakerWarning');
}

/** Any thrown value as an Error. */
export function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
