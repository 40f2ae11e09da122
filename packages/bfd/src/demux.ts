// RFC 5880 6.8.6 demultiplexing: which session a received control packet belongs to. A non-zero Your
// Discriminator selects the session by our bfd.LocalDiscr; a zero one (allowed only in Down and
// AdminDown) by the path it came over: single hop (RFC 5881 3) by source address and interface, multihop
// (RFC 5883 3) by source and destination address. Either way the path must be the session's, so a
// packet whose discriminator names a session with another peer is dropped. Plain data, no I/O.
import { isIP } from 'node:net';

/** The path a session runs over, or a packet arrived over (for a packet: `peerAddress` is its source). */
export interface BfdPath {
  multihop: boolean;
  peerAddress: string;
  localAddress: string;
  /** The interface (network device) the session is bound to, if any. */
  interface?: string | undefined;
}

/** The session a packet belongs to, or why none does (for logs and the "no session" drop count). */
export type BfdDemuxResult<T> = { session: T } | { session: undefined; reason: string };

/**
 * An IP address in one canonical text form, so '2001:DB8:0::1' and '2001:db8::1' compare equal; a zone
 * ('%eth0') is dropped (the interface is part of the path on its own). Throws TypeError for non-addresses.
 */
export function canonicalAddress(address: string): string {
  const bare = address.split('%')[0] ?? '';
  const family = isIP(bare);
  if (family === 0) throw new TypeError(`${JSON.stringify(address)} is not an IPv4 or IPv6 address`);
  if (family === 4) return bare;
  return new URL(`http://[${bare}]/`).hostname.slice(1, -1); // WHATWG URL serialises IPv6 canonically (RFC 5952)
}

/** The text that identifies a path: kind, peer, local address and interface. Addresses are canonicalised. */
export function bfdPathKey(path: BfdPath): string {
  const kind = path.multihop ? 'multihop' : 'single-hop';
  return `${kind} ${canonicalAddress(path.peerAddress)} ${canonicalAddress(path.localAddress)} ${path.interface ?? ''}`;
}

/** "192.0.2.2 -> 192.0.2.1 on eth0 (single hop)": a path for messages. */
export function describeBfdPath(path: BfdPath): string {
  const on = path.interface === undefined ? '' : ` on ${path.interface}`;
  return `${path.peerAddress} -> ${path.localAddress}${on} (${path.multihop ? 'multihop' : 'single hop'})`;
}

interface DemuxEntry<T> {
  key: string;
  path: BfdPath;
  /** The path's parts as compared with a received packet's: canonical addresses, '' for no interface. */
  multihop: boolean;
  peer: string;
  local: string;
  iface: string;
  /** What lookup returns for this session (one object, not one per packet). */
  found: { session: T };
}

/** Whether `address` is `canonical` (already in canonical form): a string comparison first, parsed only when that fails. */
function sameAddress(canonical: string, address: string): boolean {
  if (address === canonical) return true;
  try {
    return canonicalAddress(address) === canonical;
  } catch {
    return false;
  }
}

/** The session table of one engine, by bfd.LocalDiscr and by path. */
export class BfdDemux<T> {
  readonly #byDiscriminator = new Map<number, DemuxEntry<T>>();
  readonly #byPath = new Map<string, number>();

  /** Number of sessions. */
  get size(): number {
    return this.#byDiscriminator.size;
  }

  /** Whether a session already runs over this path (a second one would be ambiguous for Your Discriminator 0). */
  hasPath(path: BfdPath): boolean {
    return this.#byPath.has(bfdPathKey(path));
  }

  /**
   * A random discriminator (1 to 2^32-1) no session here uses. `random` returns [0, 1); RFC 5880 6.8.1
   * asks for a value unique on the system, and random values make a restarted session distinguishable.
   */
  allocateDiscriminator(random: () => number = Math.random): number {
    for (;;) {
      const candidate = Math.floor(random() * 0xffffffff) + 1;
      if (candidate <= 0xffffffff && !this.#byDiscriminator.has(candidate)) return candidate;
    }
  }

  /** Adds a session. Throws Error when the discriminator or the path is taken. */
  add(localDiscr: number, path: BfdPath, session: T): void {
    const key = bfdPathKey(path);
    if (this.#byDiscriminator.has(localDiscr)) throw new Error(`BFD discriminator ${localDiscr} is already in use`);
    if (this.#byPath.has(key)) throw new Error(`a BFD session ${describeBfdPath(path)} already exists`);
    this.#byDiscriminator.set(localDiscr, {
      key,
      path: { ...path },
      multihop: path.multihop,
      peer: canonicalAddress(path.peerAddress),
      local: canonicalAddress(path.localAddress),
      iface: path.interface ?? '',
      found: { session },
    });
    this.#byPath.set(key, localDiscr);
  }

  /** Removes the session with this discriminator (nothing if there is none). */
  remove(localDiscr: number): void {
    const entry = this.#byDiscriminator.get(localDiscr);
    if (entry === undefined) return;
    this.#byDiscriminator.delete(localDiscr);
    this.#byPath.delete(entry.key);
  }

  /**
   * RFC 5880 6.8.6: the session of a packet with `yourDiscriminator` that arrived over `received`
   * (its source address as `peerAddress`, the address it was sent to, the interface of the socket).
   * `received` is only read, so a caller may reuse one object for every packet; a found session comes
   * back in the same result object every time.
   */
  lookup(yourDiscriminator: number, received: BfdPath): BfdDemuxResult<T> {
    if (yourDiscriminator !== 0) {
      // The common case, once per received packet: no key built, addresses compared as they come.
      const entry = this.#byDiscriminator.get(yourDiscriminator);
      if (entry !== undefined && entry.multihop === received.multihop && entry.iface === (received.interface ?? '')) {
        if (sameAddress(entry.peer, received.peerAddress) && sameAddress(entry.local, received.localAddress))
          return entry.found;
      }
    }
    let key: string;
    try {
      key = bfdPathKey(received);
    } catch {
      return { session: undefined, reason: `packet from ${received.peerAddress}: not an IP address` };
    }
    if (yourDiscriminator !== 0) {
      const entry = this.#byDiscriminator.get(yourDiscriminator);
      if (entry === undefined)
        return {
          session: undefined,
          reason: `no session has discriminator ${yourDiscriminator} (${describeBfdPath(received)})`,
        };
      return {
        session: undefined,
        reason: `discriminator ${yourDiscriminator} is the session ${describeBfdPath(entry.path)}, not ${describeBfdPath(received)}`,
      };
    }
    const discriminator = this.#byPath.get(key);
    const entry = discriminator === undefined ? undefined : this.#byDiscriminator.get(discriminator);
    if (entry === undefined) return { session: undefined, reason: `no session ${describeBfdPath(received)}` };
    return entry.found;
  }
}
