// A map from route key ("prefix" or "prefix#pathId", see routeKey in route.ts) to a 32-bit integer
// (an attribute set id), with the methods of Map<string, number>. Keys in canonical IPv4 text are
// kept packed in typed arrays (address, length, path identifier): no string, object or Map entry per
// route, so a million IPv4 routes cost about 30-60 bytes each (20 per entry, 8 of hash buckets, and
// room to grow) and nothing the garbage collector has to trace. Any other key (IPv6, or text that is
// not canonical IPv4) goes to an ordinary Map, so the map behaves exactly like Map<string, number>,
// except that iteration lists the packed IPv4 keys first (in insertion order) and then the others
// (in insertion order), and that keys added while iterating may be visited twice or not at all
// (setting existing keys and deleting are safe).

const LENGTH_MASK = 0x3f; // prefix length 0-32
const HAS_PATH_ID = 0x40;
const LIVE = 0x80; // a deleted entry keeps its slot (a hole) until the next compaction
const MARK = 0x100; // see markedGet
const KEY_BITS = LENGTH_MASK | HAS_PATH_ID; // the part of the meta word that belongs to the key
const NONE = -1;

/** The packed form of a parsed IPv4 key, reused by every call (the map is single-threaded). */
const parsed = { address: 0, meta: 0, pathId: 0 };

/**
 * Parses canonical IPv4 route key text ("192.0.2.0/24", "192.0.2.0/24#7": no leading zeros, octets
 * 0-255, length 0-32, path id 0-4294967295) into `parsed`. False for anything else.
 */
function parseIpv4Key(key: string): boolean {
  const n = key.length;
  let address = 0;
  let value = 0;
  let digits = 0;
  let part = 0; // 0-3 octets, 4 length, 5 path id
  for (let i = 0; i < n; i++) {
    const c = key.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      if (digits > 0 && value === 0) return false; // a leading zero
      value = value * 10 + (c - 48);
      digits++;
      if (digits > 10) return false;
      continue;
    }
    if (digits === 0) return false;
    if (c === 46 /* . */ && part < 3) {
      if (value > 255) return false;
      address = (address << 8) | value;
    } else if (c === 47 /* / */ && part === 3) {
      if (value > 255) return false;
      address = (address << 8) | value;
    } else if (c === 35 /* # */ && part === 4) {
      if (value > 32) return false;
      parsed.meta = value | HAS_PATH_ID;
    } else return false;
    part++;
    value = 0;
    digits = 0;
  }
  if (digits === 0) return false;
  if (part === 4) {
    if (value > 32) return false;
    parsed.meta = value;
    parsed.pathId = 0;
  } else if (part === 5) {
    if (value > 0xffffffff) return false;
    parsed.pathId = value | 0;
  } else return false;
  parsed.address = address | 0;
  return true;
}

/** Puts an IPv4 route given as numbers into `parsed`, as parseIpv4Key would for its text. */
function setParsed(address: number, length: number, pathId: number | undefined): void {
  if (!Number.isInteger(length) || length < 0 || length > 32) throw new RangeError(`IPv4 prefix length ${length}`);
  parsed.address = length === 0 ? 0 : address & (-1 << (32 - length)); // bits past the length do not count
  parsed.meta = pathId === undefined ? length : length | HAS_PATH_ID;
  parsed.pathId = pathId === undefined ? 0 : pathId | 0;
}

function formatIpv4Key(address: number, meta: number, pathId: number): string {
  const text = `${address >>> 24}.${(address >>> 16) & 0xff}.${(address >>> 8) & 0xff}.${address & 0xff}/${meta & LENGTH_MASK}`;
  return meta & HAS_PATH_ID ? `${text}#${pathId >>> 0}` : text;
}

/**
 * Bucket hash. Prefixes that differ only in the last 12 bits of their network part (a /20 of /32s, a
 * /12 of /24s) fall into one window of 4096 buckets, one bucket each, so the clustered keys a RIB
 * mostly holds touch few memory pages (the hash tables are too big for the CPU caches). The rest of
 * the key (higher network bits, length, path id) is mixed (murmur3's finalizer), so keys that are not
 * close spread like a random hash, and a peer cannot pile its prefixes into one chain (at worst a few
 * dozen share one while the table is small).
 */
function hash(address: number, meta: number, pathId: number): number {
  const length = meta & LENGTH_MASK;
  const network = length === 0 ? 0 : address >>> (32 - length);
  let h = (network >>> 12) ^ Math.imul(meta, 0x9e3779b1) ^ Math.imul(pathId, 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h ^= h >>> 16;
  // Within the window the low bits are rotated by h, so small tables (< 4096 buckets) mix them too.
  return (h << 12) | ((network + h) & 0xfff);
}

// Entry layout: five int32 words per entry, side by side so one lookup touches one cache line.
const ADDRESS = 0;
const META = 1; // prefix length, HAS_PATH_ID, LIVE, MARK
const PATH_ID = 2;
const VALUE = 3;
const NEXT = 4; // next entry in the same hash bucket, or NONE
const STRIDE = 5;

/** An ArrayBuffer that can grow in place (ES2024; Node 20 has it, the ES2022 typings do not). */
interface ResizableBuffer extends ArrayBuffer {
  readonly resizable: boolean;
  readonly maxByteLength: number;
  resize(byteLength: number): void;
}
type ResizableBufferConstructor = new (byteLength: number, options: { maxByteLength: number }) => ResizableBuffer;

/** A table of this many entry slots or more reserves room to grow in place up to this factor. */
const IN_PLACE_MIN_SLOTS = 4096;
const IN_PLACE_FACTOR = 16;

/**
 * A new entry table of `slots` slots. From IN_PLACE_MIN_SLOTS on, its buffer is resizable (address
 * space reserved, memory committed only as it grows): growing it keeps the entries where they are,
 * so a big table neither copies them nor leaves the old copy for the garbage collector (which, for
 * tables in the old generation, held it until a major collection: the peak RSS of receiving 1M
 * routes).
 */
function newEntries(slots: number): Int32Array {
  if (slots < IN_PLACE_MIN_SLOTS) return new Int32Array(slots * STRIDE);
  const bytes = slots * STRIDE * 4;
  const buffer = new (ArrayBuffer as unknown as ResizableBufferConstructor)(bytes, {
    maxByteLength: bytes * IN_PLACE_FACTOR,
  });
  return new Int32Array(buffer); // length-tracking: follows the buffer's size
}

/** Whether `entries` can grow in place to `slots` slots (see newEntries). */
function growsInPlace(entries: Int32Array, slots: number): boolean {
  const buffer = entries.buffer as ResizableBuffer;
  return buffer.resizable === true && slots * STRIDE * 4 <= buffer.maxByteLength;
}

/** See the file comment: Map<string, number> with IPv4 keys stored packed. */
export class RouteMap implements Iterable<[string, number]> {
  /** Packed entries in insertion order (STRIDE words each); deleted ones stay as holes until grow(). */
  private entries32: Int32Array = new Int32Array(0);
  /** Hash bucket to the word offset of its first entry (NONE when empty); two buckets per entry slot. */
  private buckets: Int32Array = new Int32Array(0);
  /** Entry slots used (live entries and holes). */
  private used = 0;
  private live = 0;
  private readonly other = new Map<string, number>();
  /** Marked keys among `other` (packed entries carry a MARK bit). */
  private readonly otherMarked = new Set<string>();
  private marked = false;

  /** Number of entries. */
  get size(): number {
    return this.live + this.other.size;
  }

  /** Number of entries kept packed (all with canonical IPv4 keys). */
  get packedSize(): number {
    return this.live;
  }

  /** The keys not kept packed (IPv6 and non-canonical text), in insertion order. */
  otherKeys(): IterableIterator<string> {
    return this.other.keys();
  }

  /** The word offset of the packed entry for the key in `parsed`, or NONE. */
  private find(): number {
    const { address, meta, pathId } = parsed;
    const e = this.entries32;
    const mask = this.buckets.length - 1;
    if (mask < 0) return NONE;
    for (let at = this.buckets[hash(address, meta, pathId) & mask]!; at !== NONE; at = e[at + NEXT]!) {
      if (e[at + ADDRESS] === address && (e[at + META]! & KEY_BITS) === meta && e[at + PATH_ID] === pathId) return at;
    }
    return NONE;
  }

  get(key: string): number | undefined {
    if (!parseIpv4Key(key)) return this.other.get(key);
    const at = this.find();
    return at === NONE ? undefined : this.entries32[at + VALUE];
  }

  /**
   * get(), and marks the key when it is there. unmarkedKeys() then lists, in one pass over the packed
   * entries, the keys that were not asked for: a diff finds what to withdraw without looking up every
   * key of the map elsewhere.
   */
  markedGet(key: string): number | undefined {
    this.marked = true;
    if (!parseIpv4Key(key)) {
      const value = this.other.get(key);
      if (value !== undefined) this.otherMarked.add(key);
      return value;
    }
    const at = this.find();
    if (at === NONE) return undefined;
    this.entries32[at + META]! |= MARK;
    return this.entries32[at + VALUE];
  }

  /** The keys markedGet did not mark (packed ones first, in insertion order); clears every mark. */
  unmarkedKeys(): string[] {
    const out: string[] = [];
    const e = this.entries32;
    for (let at = 0; at < this.used * STRIDE; at += STRIDE) {
      const meta = e[at + META]!;
      if (meta & MARK) e[at + META] = meta & ~MARK;
      else if (meta & LIVE) out.push(formatIpv4Key(e[at + ADDRESS]!, meta, e[at + PATH_ID]!));
    }
    for (const key of this.other.keys()) if (!this.otherMarked.has(key)) out.push(key);
    this.otherMarked.clear();
    this.marked = false;
    return out;
  }

  /** Clears the marks of markedGet (after a diff that failed half-way). */
  clearMarks(): void {
    if (!this.marked) return;
    const e = this.entries32;
    for (let at = 0; at < this.used * STRIDE; at += STRIDE) e[at + META]! &= ~MARK;
    this.otherMarked.clear();
    this.marked = false;
  }

  has(key: string): boolean {
    if (!parseIpv4Key(key)) return this.other.has(key);
    return this.find() !== NONE;
  }

  set(key: string, value: number): this {
    this.replace(key, value);
    return this;
  }

  /** Sets the key's value and returns the one it replaces (undefined if the key is new). */
  replace(key: string, value: number): number | undefined {
    if (!parseIpv4Key(key)) {
      const old = this.other.get(key);
      this.other.set(key, value);
      return old;
    }
    return this.replaceParsed(value);
  }

  /**
   * replace() for the IPv4 route given as numbers: the address (its four bytes big-endian; bits past
   * `length` are ignored), the prefix length (0-32) and the path identifier (undefined: none). The same
   * entry as replace() with the route's key text, without the text.
   */
  replaceIpv4(address: number, length: number, pathId: number | undefined, value: number): number | undefined {
    setParsed(address, length, pathId);
    return this.replaceParsed(value);
  }

  /** remove() for the IPv4 route given as numbers (see replaceIpv4). */
  removeIpv4(address: number, length: number, pathId: number | undefined): number | undefined {
    setParsed(address, length, pathId);
    return this.removeParsed();
  }

  /** replace() of the packed key in `parsed`. */
  private replaceParsed(value: number): number | undefined {
    const found = this.find();
    if (found !== NONE) {
      const old = this.entries32[found + VALUE];
      this.entries32[found + VALUE] = value;
      return old;
    }
    if (this.used * STRIDE === this.entries32.length) this.grow();
    const e = this.entries32;
    const at = this.used++ * STRIDE;
    const { address, meta, pathId } = parsed;
    e[at + ADDRESS] = address;
    e[at + META] = meta | LIVE;
    e[at + PATH_ID] = pathId;
    e[at + VALUE] = value;
    const b = hash(address, meta, pathId) & (this.buckets.length - 1);
    e[at + NEXT] = this.buckets[b]!;
    this.buckets[b] = at;
    this.live++;
    return undefined;
  }

  delete(key: string): boolean {
    return this.remove(key) !== undefined;
  }

  /** Deletes the key and returns its value (undefined if it was not there). */
  remove(key: string): number | undefined {
    if (!parseIpv4Key(key)) {
      const old = this.other.get(key);
      this.other.delete(key);
      return old;
    }
    return this.removeParsed();
  }

  /** remove() of the packed key in `parsed`. */
  private removeParsed(): number | undefined {
    const { address, meta, pathId } = parsed;
    const e = this.entries32;
    const mask = this.buckets.length - 1;
    if (mask < 0) return undefined;
    const b = hash(address, meta, pathId) & mask;
    for (let at = this.buckets[b]!, prev = NONE; at !== NONE; prev = at, at = e[at + NEXT]!) {
      if (e[at + ADDRESS] !== address || (e[at + META]! & KEY_BITS) !== meta || e[at + PATH_ID] !== pathId) continue;
      if (prev === NONE) this.buckets[b] = e[at + NEXT]!;
      else e[prev + NEXT] = e[at + NEXT]!;
      e[at + META] = 0; // a hole: not LIVE
      this.live--;
      return e[at + VALUE];
    }
    return undefined;
  }

  clear(): void {
    this.used = 0;
    this.live = 0;
    this.buckets.fill(NONE);
    this.other.clear();
    this.otherMarked.clear();
    this.marked = false;
  }

  /** Makes room for `count` entries in all (IPv4 ones), so that adding that many grows the table once at most. */
  reserve(count: number): void {
    const slots = this.entries32.length / STRIDE;
    if (count <= slots) return;
    let capacity = Math.max(16, slots);
    while (capacity < count) capacity *= 2;
    this.grow(capacity);
  }

  /**
   * More room: drops the holes, and doubles the capacity when over half of it is live (or makes it
   * `wanted`). There are two buckets per entry slot, so most new keys land in an empty bucket (no
   * chain to read).
   */
  private grow(wanted = 0): void {
    const slots = this.entries32.length / STRIDE;
    const capacity = wanted > slots ? wanted : slots === 0 || this.live * 2 > slots ? Math.max(16, slots * 2) : slots;
    const from = this.entries32;
    const inPlace = capacity > slots && this.live === this.used && growsInPlace(from, capacity);
    if (inPlace) (from.buffer as ResizableBuffer).resize(capacity * STRIDE * 4);
    const e = capacity === slots || inPlace ? from : newEntries(capacity);
    const buckets = capacity === slots ? this.buckets.fill(NONE) : new Int32Array(capacity * 2).fill(NONE);
    const mask = buckets.length - 1;
    let to = 0;
    if ((e !== from || inPlace) && this.live === this.used) {
      // No holes: the entries stay as they are (grown in place, or copied in one go), and are only
      // chained into the new buckets.
      const words = this.used * STRIDE;
      if (e !== from) e.set(from.subarray(0, words));
      for (; to < words; to += STRIDE) {
        const b = hash(e[to + ADDRESS]!, e[to + META]! & KEY_BITS, e[to + PATH_ID]!) & mask;
        e[to + NEXT] = buckets[b]!;
        buckets[b] = to;
      }
    } else {
      for (let at = 0; at < this.used * STRIDE; at += STRIDE) {
        const meta = from[at + META]!;
        if (!(meta & LIVE)) continue;
        const address = from[at + ADDRESS]!;
        const pathId = from[at + PATH_ID]!;
        e[to + ADDRESS] = address;
        e[to + META] = meta;
        e[to + PATH_ID] = pathId;
        e[to + VALUE] = from[at + VALUE]!;
        const b = hash(address, meta & KEY_BITS, pathId) & mask;
        e[to + NEXT] = buckets[b]!;
        buckets[b] = to;
        to += STRIDE;
      }
    }
    this.entries32 = e;
    this.buckets = buckets;
    this.used = to / STRIDE;
  }

  *entries(): IterableIterator<[string, number]> {
    // Entries set while iterating are visited (`used` is re-read); holes are skipped.
    for (let at = 0; at < this.used * STRIDE; at += STRIDE) {
      const e = this.entries32;
      const meta = e[at + META]!;
      if (meta & LIVE) yield [formatIpv4Key(e[at + ADDRESS]!, meta, e[at + PATH_ID]!), e[at + VALUE]!];
    }
    yield* this.other.entries();
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<number> {
    for (let at = 0; at < this.used * STRIDE; at += STRIDE) {
      const meta = this.entries32[at + META]!;
      if (meta & LIVE) yield this.entries32[at + VALUE]!;
    }
    yield* this.other.values();
  }

  forEach(callback: (value: number, key: string, map: RouteMap) => void): void {
    for (const [key, value] of this.entries()) callback(value, key, this);
  }

  [Symbol.iterator](): IterableIterator<[string, number]> {
    return this.entries();
  }
}
