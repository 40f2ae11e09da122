// Packing many prefixes that share one attribute set into as few UPDATE messages as fit. The
// attribute block is encoded once and copied into each message; prefixes are written straight into
// the message buffer.
import {
  AFI,
  MAX_MESSAGE_LENGTH,
  MESSAGE_TYPE,
  type CodecContext,
  type MpReach,
  type MpUnreach,
  type Nlri,
  type PathAttributes,
} from './types.js';
import { writeUint16 } from './bytes.js';
import { writeHeader } from './framing.js';
import { familyOf, hasAddPath, writePrefix } from './nlri.js';
import { ATTR, ATTR_FLAG } from './attributes.js';
import { writeAttributes } from './attributes-encode.js';
import { writeMpReachHead } from './mp-nlri.js';
import { encodeUpdate } from './update.js';
import { newWriter, checkUint } from './update-writer.js';

export interface PackInput {
  /**
   * The attributes every announced prefix shares. `mpReach.nlri` are prefixes to announce (the rest
   * of mpReach is repeated in each message); `mpUnreach.withdrawn` are prefixes to withdraw.
   */
  attributes: PathAttributes;
  /** IPv4 unicast prefixes to announce in the NLRI field (needs attributes.nextHop). */
  nlri?: readonly Nlri[];
  /** IPv4 unicast prefixes to withdraw in the withdrawn routes field. */
  withdrawn?: readonly Nlri[];
}

/** Room past the message limit for the one prefix (at most 21 bytes) that may not fit. */
const SLACK = 32;
let messageBuf = new Uint8Array(MAX_MESSAGE_LENGTH + SLACK);
const blockWriter = newWriter(4096);
const headWriter = newWriter(64);

function bufferFor(max: number): Uint8Array {
  if (messageBuf.length < max + SLACK) messageBuf = new Uint8Array(max + SLACK);
  return messageBuf;
}

/**
 * Writes list[cursor.next...] at buf[pos] while the message stays within limit; advances cursor.next
 * and returns the offset after the last prefix written. Throws RangeError if not even one fits.
 */
function fill(
  buf: Uint8Array,
  pos: number,
  list: readonly Nlri[],
  cursor: { next: number },
  afi: number,
  addPath: boolean,
  limit: number,
): number {
  const first = cursor.next;
  let i = first;
  const n = list.length;
  while (i < n) {
    const item = list[i]!;
    const end = writePrefix(buf, pos, item.prefix, afi, addPath ? (item.pathId ?? 0) : undefined);
    if (end > limit) break;
    pos = end;
    i++;
  }
  if (i === first)
    throw new RangeError(
      `prefix ${JSON.stringify(list[i]?.prefix)} does not fit in an UPDATE of at most ${limit} bytes with these attributes`,
    );
  cursor.next = i;
  return pos;
}

function finish(out: Uint8Array[], buf: Uint8Array, length: number): void {
  writeHeader(buf, length, MESSAGE_TYPE.UPDATE);
  out.push(buf.slice(0, length));
}

/** IPv4 withdrawals: [withdrawn routes length][prefixes][total path attribute length 0]. */
function packWithdrawn(out: Uint8Array[], list: readonly Nlri[], addPath: boolean, max: number): void {
  const buf = bufferFor(max);
  const cursor = { next: 0 };
  while (cursor.next < list.length) {
    let pos = fill(buf, 21, list, cursor, AFI.IPV4, addPath, max - 2);
    writeUint16(buf, 19, pos - 21);
    buf[pos++] = 0;
    buf[pos++] = 0;
    finish(out, buf, pos);
  }
}

/** IPv4 announcements: [withdrawn length 0][attribute length][attributes][prefixes]. */
function packNlri(out: Uint8Array[], list: readonly Nlri[], block: Uint8Array, addPath: boolean, max: number): void {
  const buf = bufferFor(max);
  buf[19] = 0;
  buf[20] = 0;
  writeUint16(buf, 21, block.length);
  buf.set(block, 23);
  const start = 23 + block.length;
  const cursor = { next: 0 };
  while (cursor.next < list.length) finish(out, buf, fill(buf, start, list, cursor, AFI.IPV4, addPath, max));
}

/**
 * MP_REACH_NLRI or MP_UNREACH_NLRI as the first attribute, head (AFI, SAFI and for MP_REACH the next
 * hop) repeated in each message, as many prefixes as fit, then the shared attribute block.
 */
function packMp(
  out: Uint8Array[],
  code: number,
  head: Uint8Array,
  list: readonly Nlri[],
  afi: number,
  addPath: boolean,
  block: Uint8Array,
  max: number,
): void {
  const buf = bufferFor(max);
  buf[19] = 0;
  buf[20] = 0;
  const cursor = { next: 0 };
  while (cursor.next < list.length) {
    buf.set(head, 27);
    let pos = fill(buf, 27 + head.length, list, cursor, afi, addPath, max - block.length);
    const valueLength = pos - 27;
    buf[24] = code;
    if (valueLength > 255) {
      buf[23] = ATTR_FLAG.OPTIONAL | ATTR_FLAG.EXTENDED_LENGTH;
      writeUint16(buf, 25, valueLength);
    } else {
      buf[23] = ATTR_FLAG.OPTIONAL;
      buf[25] = valueLength;
      buf.copyWithin(26, 27, pos);
      pos -= 1;
    }
    buf.set(block, pos);
    pos += block.length;
    writeUint16(buf, 21, pos - 23);
    finish(out, buf, pos);
  }
}

function familyFor(afi: number, safi: number, what: string): NonNullable<ReturnType<typeof familyOf>> {
  const family = familyOf(afi, safi);
  if (family === undefined) throw new TypeError(`${what} of AFI ${afi}/SAFI ${safi} can only be given as hex`);
  return family;
}

function packMpUnreach(out: Uint8Array[], mp: MpUnreach, ctx: CodecContext | undefined, max: number): void {
  if (mp.withdrawnHex !== undefined) {
    if (mp.withdrawnHex !== '')
      out.push(encodeUpdate({ type: 'UPDATE', withdrawn: [], attributes: { mpUnreach: mp }, nlri: [] }, ctx));
    return;
  }
  const list = mp.withdrawn ?? [];
  if (list.length === 0) return;
  const family = familyFor(mp.afi, mp.safi, 'mpUnreach.withdrawn');
  const head = new Uint8Array(3);
  writeUint16(head, 0, checkUint(mp.afi, 0xffff, 'mpUnreach.afi'));
  head[2] = checkUint(mp.safi, 0xff, 'mpUnreach.safi');
  packMp(out, ATTR.MP_UNREACH_NLRI, head, list, mp.afi, hasAddPath(ctx, family), new Uint8Array(0), max);
}

function packMpReach(
  out: Uint8Array[],
  mp: MpReach,
  base: PathAttributes,
  ctx: CodecContext | undefined,
  max: number,
): void {
  if (mp.nlriHex !== undefined) {
    if (mp.nlriHex !== '')
      out.push(encodeUpdate({ type: 'UPDATE', withdrawn: [], attributes: { ...base, mpReach: mp }, nlri: [] }, ctx));
    return;
  }
  const list = mp.nlri ?? [];
  if (list.length === 0) return;
  const family = familyFor(mp.afi, mp.safi, 'mpReach.nlri');
  const headEnd = writeMpReachHead(headWriter, 0, mp);
  const head = headWriter.buf.slice(0, headEnd);
  packMp(out, ATTR.MP_REACH_NLRI, head, list, mp.afi, hasAddPath(ctx, family), encodeBlock(base, ctx), max);
}

function encodeBlock(attrs: PathAttributes, ctx: CodecContext | undefined): Uint8Array {
  const end = writeAttributes(blockWriter, 0, attrs, undefined, ctx);
  return blockWriter.buf.slice(0, end);
}

/**
 * Packs prefixes sharing one attribute set into as few UPDATEs as fit in ctx.maxMessageLength
 * (default 4096), canonical layout. Messages come in this order: MP_UNREACH_NLRI withdrawals, IPv4
 * withdrawals, MP_REACH_NLRI announcements, IPv4 announcements; each message carries one of the
 * four only (RFC 7606 5.1). Messages with only MP_REACH_NLRI prefixes leave NEXT_HOP out (RFC 4760
 * 3). ADD-PATH families (ctx.addPath) write each prefix's pathId, 0 when it has none. Throws
 * TypeError for bad prefixes or attributes (announcing needs origin and asPath; NLRI-field prefixes
 * need nextHop) and RangeError when the attributes leave no room for a prefix.
 */
export function packUpdates(input: PackInput, ctx?: CodecContext): Uint8Array[] {
  const max = Math.min(ctx?.maxMessageLength ?? MAX_MESSAGE_LENGTH, 0xffff);
  const out: Uint8Array[] = [];
  const { mpReach, mpUnreach, ...base } = input.attributes;
  if (mpUnreach !== undefined) packMpUnreach(out, mpUnreach, ctx, max);
  const withdrawn = input.withdrawn ?? [];
  if (withdrawn.length > 0) packWithdrawn(out, withdrawn, hasAddPath(ctx, 'ipv4-unicast'), max);

  const nlri = input.nlri ?? [];
  const announcesMp =
    mpReach !== undefined && (mpReach.nlriHex !== undefined ? mpReach.nlriHex !== '' : (mpReach.nlri?.length ?? 0) > 0);
  if ((announcesMp || nlri.length > 0) && (base.origin === undefined || base.asPath === undefined)) {
    throw new TypeError('announcing prefixes needs attributes.origin and attributes.asPath');
  }
  if (announcesMp) {
    const { nextHop: _nextHop, ...mpBase } = base;
    packMpReach(out, mpReach, mpBase, ctx, max);
  }
  if (nlri.length > 0) {
    if (base.nextHop === undefined) throw new TypeError('IPv4 prefixes in the NLRI field need attributes.nextHop');
    packNlri(out, nlri, encodeBlock(base, ctx), hasAddPath(ctx, 'ipv4-unicast'), max);
  }
  return out;
}
