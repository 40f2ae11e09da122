// The UPDATE message with its prefixes in packed form (packed-nlri.ts): decodeUpdatePacked decodes
// exactly as decodeUpdate (the same attributes, RFC 7606 errors and actions, the same thrown errors),
// only the prefix fields differ. unpackUpdate and updateView give the string form back, the latter
// building the prefix strings only when they are read.
import type { MpReach, MpUnreach, PathAttributes, UpdateMessage, CodecContext } from './types.js';
import type { PrefixReader } from './nlri.js';
import { decodePackedPrefixes, packedNlriList, type PackedNlri } from './packed-nlri.js';
import { decodeUpdateWith } from './update.js';

export interface PackedMpReach extends Omit<MpReach, 'nlri'> {
  /** Present for IPv4/IPv6 unicast (possibly empty), as MpReach.nlri. */
  nlri?: PackedNlri;
}

export interface PackedMpUnreach extends Omit<MpUnreach, 'withdrawn'> {
  /** Present for IPv4/IPv6 unicast (possibly empty), as MpUnreach.withdrawn. */
  withdrawn?: PackedNlri;
}

export interface PackedPathAttributes extends Omit<PathAttributes, 'mpReach' | 'mpUnreach'> {
  mpReach?: PackedMpReach;
  mpUnreach?: PackedMpUnreach;
}

/** An UpdateMessage whose four prefix fields are packed (see PackedNlri); every other field is the same. */
export interface PackedUpdateMessage extends Omit<UpdateMessage, 'withdrawn' | 'nlri' | 'attributes'> {
  withdrawn: PackedNlri;
  nlri: PackedNlri;
  attributes: PackedPathAttributes;
}

const readPacked = decodePackedPrefixes as unknown as PrefixReader; // PackedNlri stands in for Nlri[]

/**
 * decodeUpdate with the prefixes of the withdrawn routes, the NLRI, MP_REACH_NLRI and MP_UNREACH_NLRI
 * in packed form: no string or object per prefix. Same arguments, same result otherwise, same errors.
 */
export function decodeUpdatePacked(
  buf: Uint8Array,
  msgStart: number,
  msgEnd: number,
  ctx?: CodecContext,
): PackedUpdateMessage {
  return decodeUpdateWith(buf, msgStart, msgEnd, ctx, readPacked) as unknown as PackedUpdateMessage;
}

/** The attributes with their MP_REACH_NLRI/MP_UNREACH_NLRI prefixes in string form. */
export function unpackAttributes(attributes: PackedPathAttributes): PathAttributes {
  const { mpReach, mpUnreach } = attributes;
  if (mpReach?.nlri === undefined && mpUnreach?.withdrawn === undefined) return attributes as PathAttributes;
  const out = { ...attributes } as PathAttributes;
  if (mpReach?.nlri !== undefined) out.mpReach = { ...mpReach, nlri: packedNlriList(mpReach.nlri) };
  if (mpUnreach?.withdrawn !== undefined)
    out.mpUnreach = { ...mpUnreach, withdrawn: packedNlriList(mpUnreach.withdrawn) };
  return out;
}

/** The string form of a packed UPDATE: what decodeUpdate gives for the same bytes. */
export function unpackUpdate(msg: PackedUpdateMessage): UpdateMessage {
  return {
    ...msg,
    withdrawn: packedNlriList(msg.withdrawn),
    attributes: unpackAttributes(msg.attributes),
    nlri: packedNlriList(msg.nlri),
  };
}

/** Replaces o[key] (an accessor of a view) by a plain data property holding value; returns value. */
function settle<T>(o: object, key: string, value: T): T {
  Object.defineProperty(o, key, { value, enumerable: true, configurable: true, writable: true });
  return value;
}

/**
 * The string form of a packed UPDATE as a view: `withdrawn`, `nlri` and `attributes` are built from
 * the packed message when first read (and then kept), so a consumer that never reads them costs no
 * string per prefix. Equal to unpackUpdate(msg) in every field.
 */
export function updateView(msg: PackedUpdateMessage): UpdateMessage {
  // Accessors in a literal and the other fields copied one by one: this runs for every UPDATE
  // received, and both are several times cheaper than Object.defineProperty or a rest spread.
  const view: UpdateMessage = {
    type: 'UPDATE',
    get withdrawn() {
      return settle(this, 'withdrawn', packedNlriList(msg.withdrawn));
    },
    set withdrawn(value) {
      settle(this, 'withdrawn', value);
    },
    get attributes() {
      return settle(this, 'attributes', unpackAttributes(msg.attributes));
    },
    set attributes(value) {
      settle(this, 'attributes', value);
    },
    get nlri() {
      return settle(this, 'nlri', packedNlriList(msg.nlri));
    },
    set nlri(value) {
      settle(this, 'nlri', value);
    },
  };
  if (msg.length !== undefined) view.length = msg.length;
  if (msg.endOfRib !== undefined) view.endOfRib = msg.endOfRib;
  if (msg.errors !== undefined) view.errors = msg.errors;
  if (msg.trailingBitsCleared !== undefined) view.trailingBitsCleared = msg.trailingBitsCleared;
  if (msg.layout !== undefined) view.layout = msg.layout;
  return view;
}
