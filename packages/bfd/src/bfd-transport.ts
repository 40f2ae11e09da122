// The socket edge of the BFD engine. Receiving: one socket per (kind, local address, interface) on the
// well-known port (3784 single hop, RFC 5881 4; 4784 multihop, RFC 5883 2), shared by every session on
// it, accepting any source port (BIRD sends from the kernel's ephemeral range). Sending: one socket per
// session on a random source port in 49152-65535 (RFC 5881 4: the same port for the whole session and
// SHOULD be unique per session, which a per-session socket gives for one descriptor each), TTL 255.
//
// The received TTL is only readable through the native addon (@bgp-announce/sockopt, recvmsg with
// IP_RECVTTL / IPV6_RECVHOPLIMIT). Without it, Node's dgram still sends with TTL 255 but cannot check
// what arrives: the engine then reports `ttlCheck: 'unavailable'` and uses dgram only when told to.
import dgram from 'node:dgram';
import { UdpTtlSocket, udpTtlAvailable } from '@bgp-announce/sockopt';

/** RFC 5881 4: single-hop control packets go to this UDP port. */
export const BFD_SINGLE_HOP_PORT = 3784;
/** RFC 5883 2: multihop control packets go to this UDP port. */
export const BFD_MULTIHOP_PORT = 4784;
/** RFC 5881 4: the range our source ports are taken from. */
export const BFD_SOURCE_PORT_MIN = 49152;
export const BFD_SOURCE_PORT_MAX = 65535;

/** Whether received TTLs can be checked: 'available' with the native addon, 'unavailable' with dgram. */
export type BfdTtlCheck = 'available' | 'unavailable';

export interface BfdTransportStatus {
  ttlCheck: BfdTtlCheck;
  /** Why the TTL cannot be checked, and how to fix it. */
  reason?: string;
}

/** Whether this thread can open the TTL-reporting socket (Linux, addon built). Never throws. */
export function bfdTransportStatus(): BfdTransportStatus {
  const status = udpTtlAvailable();
  return status.ok ? { ttlCheck: 'available' } : { ttlCheck: 'unavailable', reason: status.reason };
}

/**
 * Called with each received datagram: the payload, its source, and the TTL it arrived with (undefined:
 * not known). Arguments rather than an object: this runs for every packet. The payload is the
 * receiver's to keep.
 */
export type BfdDatagramHandler = (payload: Uint8Array, address: string, port: number, ttl: number | undefined) => void;

/** Where to bind: the address may carry a zone for IPv6 link-local ('fe80::1%eth0'). */
export interface BfdBindOptions {
  family: 4 | 6;
  address: string;
  device?: string | undefined;
}

export interface BfdReceiveSocket {
  readonly localPort: number;
  close(): Promise<void>;
}

export interface BfdSendSocket {
  readonly localPort: number;
  /** Sends at once; failures go to the onError given at opening (never thrown). The bytes may be reused once it returns. */
  send(bytes: Uint8Array, address: string, port: number): void;
  /** Closes once what was handed to send() has left. */
  close(): Promise<void>;
}

/** Opens the engine's sockets. Errors name the address and the cause. */
export interface BfdSockets {
  readonly ttlCheck: BfdTtlCheck;
  listen(
    options: BfdBindOptions & { port: number },
    onDatagram: BfdDatagramHandler,
    onError: (e: Error) => void,
  ): Promise<BfdReceiveSocket>;
  /** A socket bound to a random free source port in 49152-65535, sending with TTL 255. */
  openSender(options: BfdBindOptions, onError: (e: Error) => void, random?: () => number): Promise<BfdSendSocket>;
}

const PORT_ATTEMPTS = 64;

function randomSourcePort(random: () => number): number {
  return BFD_SOURCE_PORT_MIN + Math.floor(random() * (BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1));
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/** Tries random source ports until one binds; only EADDRINUSE makes it try another. */
async function bindRandomPort<T>(random: () => number, open: (port: number) => Promise<T>, what: string): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await open(randomSourcePort(random));
    } catch (err) {
      if (errorCode(err) !== 'EADDRINUSE') throw err;
      if (attempt + 1 >= PORT_ATTEMPTS)
        throw new Error(
          `${what}: no free source port in ${BFD_SOURCE_PORT_MIN}-${BFD_SOURCE_PORT_MAX} after ${PORT_ATTEMPTS} tries`,
        );
    }
  }
}

/** The addon's UdpTtlSocket: TTL 255 sent, the received TTL reported; usable in a worker_thread. */
export function nativeBfdSockets(): BfdSockets {
  return {
    ttlCheck: 'available',
    async listen(o, onDatagram, onError) {
      const socket = UdpTtlSocket.open({
        family: o.family,
        address: o.address,
        port: o.port,
        ttl: 255,
        ...(o.device === undefined ? {} : { device: o.device }),
        // The payload Buffer goes on as it is (the codec copies what it keeps, never slice()s).
        onMessage: (m) => onDatagram(m.payload, m.address, m.port, m.ttl < 0 ? undefined : m.ttl),
        onError,
      });
      return {
        localPort: socket.localPort,
        close: async () => socket.close(),
      };
    },
    async openSender(o, onError, random = Math.random) {
      const socket = await bindRandomPort(
        random,
        async (port) =>
          UdpTtlSocket.open({
            family: o.family,
            address: o.address,
            port,
            ttl: 255,
            ...(o.device === undefined ? {} : { device: o.device }),
          }),
        `opening a BFD send socket on ${o.address}`,
      );
      return {
        localPort: socket.localPort,
        send(bytes, address, port) {
          try {
            socket.send(bytes, address, port);
          } catch (err) {
            onError(err instanceof Error ? err : new Error(String(err)));
          }
        },
        close: async () => socket.close(),
      };
    },
  };
}

function dgramSocket(family: 4 | 6): dgram.Socket {
  return family === 4 ? dgram.createSocket({ type: 'udp4' }) : dgram.createSocket({ type: 'udp6', ipv6Only: true });
}

function bindDgram(socket: dgram.Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (err: Error): void => reject(err);
    socket.once('error', failed);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', failed);
      resolve();
    });
  });
}

function dgramError(what: string, err: unknown): Error {
  const code = errorCode(err);
  const message = err instanceof Error ? err.message : String(err);
  const wrapped = new Error(`${what}: ${message}`) as Error & { code?: string };
  if (code !== undefined) wrapped.code = code;
  return wrapped;
}

/**
 * Node's dgram: sends with TTL 255 but cannot read the received TTL, and cannot bind to a device.
 * Only for hosts without the addon, when the user accepts running without the TTL check.
 */
export function dgramBfdSockets(): BfdSockets {
  const noDevice = (device: string | undefined): void => {
    if (device !== undefined)
      throw new Error(
        `binding a BFD session to interface ${device} needs the native socket addon (Node's dgram cannot bind to a device)`,
      );
  };
  return {
    ttlCheck: 'unavailable',
    async listen(o, onDatagram, onError) {
      noDevice(o.device);
      const socket = dgramSocket(o.family);
      try {
        await bindDgram(socket, o.address, o.port);
      } catch (err) {
        socket.close();
        throw dgramError(`listening for BFD on ${endpoint(o.address, o.port)}`, err);
      }
      socket.on('message', (payload, rinfo) => onDatagram(payload, rinfo.address, rinfo.port, undefined));
      socket.on('error', (err) => onError(dgramError(`receiving BFD on ${endpoint(o.address, o.port)}`, err)));
      return {
        localPort: socket.address().port,
        close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
      };
    },
    async openSender(o, onError, random = Math.random) {
      noDevice(o.device);
      const socket = await bindRandomPort(
        random,
        async (port) => {
          const s = dgramSocket(o.family);
          try {
            await bindDgram(s, o.address, port);
          } catch (err) {
            s.close();
            throw dgramError(`opening a BFD send socket on ${endpoint(o.address, port)}`, err);
          }
          return s;
        },
        `opening a BFD send socket on ${o.address}`,
      );
      socket.setTTL(255);
      socket.on('error', (err) => onError(err));
      let pending = 0;
      let drained: (() => void) | undefined;
      return {
        localPort: socket.address().port,
        send(bytes, address, port) {
          pending++;
          // A copy: dgram sends after a lookup on a later tick, and the caller reuses its buffer.
          socket.send(Buffer.from(bytes), port, address, (err) => {
            pending--;
            if (err) onError(dgramError(`sending BFD to ${endpoint(address, port)}`, err));
            if (pending === 0) drained?.();
          });
        },
        async close() {
          if (pending > 0) await new Promise<void>((resolve) => (drained = resolve));
          await new Promise<void>((resolve) => socket.close(() => resolve()));
        },
      };
    },
  };
}

/** What a shared receive socket is for: sessions of one kind on one local address (and interface). */
export interface BfdListenerKey {
  multihop: boolean;
  family: 4 | 6;
  /** As bound (zone included for link-local). */
  bindAddress: string;
  port: number;
  device?: string | undefined;
}

/** The receive sockets of an engine, shared by the sessions on the same address, port and device. */
export class BfdListenerPool {
  readonly #sockets: BfdSockets;
  readonly #onDatagram: (
    key: BfdListenerKey,
    payload: Uint8Array,
    address: string,
    port: number,
    ttl: number | undefined,
  ) => void;
  readonly #onError: (key: BfdListenerKey, e: Error) => void;
  readonly #open = new Map<string, { users: number; socket: Promise<BfdReceiveSocket> }>();

  /** `onDatagram` gets the key of the socket a datagram came in on: the same object for every datagram of that socket. */
  constructor(
    sockets: BfdSockets,
    onDatagram: (
      key: BfdListenerKey,
      payload: Uint8Array,
      address: string,
      port: number,
      ttl: number | undefined,
    ) => void,
    onError: (key: BfdListenerKey, e: Error) => void,
  ) {
    this.#sockets = sockets;
    this.#onDatagram = onDatagram;
    this.#onError = onError;
  }

  static #id(k: BfdListenerKey): string {
    return `${k.multihop ? 'm' : 's'} ${k.bindAddress} ${k.port} ${k.device ?? ''}`;
  }

  /** Opens the socket for `key`, or takes another user on the one already open. Throws (and keeps nothing) when it cannot be opened. */
  async acquire(key: BfdListenerKey): Promise<void> {
    const id = BfdListenerPool.#id(key);
    const open = this.#open.get(id);
    if (open !== undefined) {
      open.users++;
      await open.socket;
      return;
    }
    const copy = { ...key };
    const socket = this.#sockets.listen(
      { family: key.family, address: key.bindAddress, port: key.port, device: key.device },
      (payload, address, port, ttl) => this.#onDatagram(copy, payload, address, port, ttl),
      (e) => this.#onError(copy, e),
    );
    this.#open.set(id, { users: 1, socket });
    try {
      await socket;
    } catch (err) {
      this.#open.delete(id);
      throw err;
    }
  }

  /** One user fewer; the socket closes with its last user. */
  async release(key: BfdListenerKey): Promise<void> {
    const id = BfdListenerPool.#id(key);
    const open = this.#open.get(id);
    if (open === undefined) return;
    if (--open.users > 0) return;
    this.#open.delete(id);
    await (await open.socket).close();
  }

  /** Closes every socket. */
  async closeAll(): Promise<void> {
    const all = [...this.#open.values()];
    this.#open.clear();
    await Promise.all(all.map(async (o) => (await o.socket).close()));
  }
}
