// UdpTtlSocket: a UDP socket that reports the TTL / hop limit of every datagram it receives and sends
// with a fixed TTL, for BFD (RFC 5881 single-hop: send with 255 and drop anything received below 255;
// RFC 5883 multihop: a configured minimum). Node's dgram cannot read a received TTL, so this goes
// through the addon's native/udp.c (recvmsg with IP_RECVTTL / IPV6_RECVHOPLIMIT, IP_PKTINFO /
// IPV6_RECVPKTINFO). It runs on the libuv loop of the thread that opens it: main thread or worker.
import { getSystemErrorName } from 'node:util';
import { probeAddon, SockoptError, type SockoptStatus } from './addon.js';

/** The functions native/udp.c exports. */
interface UdpAddon {
  udpOpen(
    family: number,
    address: string,
    port: number,
    ttl: number,
    device: string | undefined,
    onMessage:
      | ((payload: Buffer, address: string, port: number, ttl: number, localAddress: string, ifindex: number) => void)
      | undefined,
    onError: ((error: Error) => void) | undefined,
    receiveBufferSize: number,
  ): { handle: object; address: string; port: number };
  udpSend(handle: object, payload: Uint8Array, address: string, port: number): void;
  udpClose(handle: object): void;
  udpRef(handle: object, keepAlive: boolean): void;
  udpStats(handle: object): UdpTtlStats;
}

/** One received datagram. */
export interface UdpTtlMessage {
  /** The UDP payload (a copy; the receiver may keep it). */
  payload: Buffer;
  /** Source address and port of the datagram. */
  address: string;
  port: number;
  /** The TTL (IPv4) or hop limit (IPv6) the datagram arrived with; -1 if the kernel did not say (it always does on Linux). */
  ttl: number;
  /** The destination address of the datagram (the local address it was sent to). */
  localAddress: string;
  /** The interface it arrived on (an index, as in `ip link`); 0 if unknown. */
  ifindex: number;
}

export interface UdpTtlSocketOptions {
  /** 4 or 6. An IPv6 socket is IPv6-only (IPV6_V6ONLY): open one socket per family. */
  family: 4 | 6;
  /** Local address to bind: '0.0.0.0' / '::' for any; a link-local IPv6 address takes its interface as 'fe80::1%eth0'. */
  address: string;
  /** Local port, 0 for any (the bound port is `localPort`). */
  port: number;
  /** TTL (hop limit) of sent datagrams, 1-255; default 255 (RFC 5881, RFC 5082). */
  ttl?: number;
  /** Bind to this network device (SO_BINDTODEVICE): only its datagrams are received, sends leave through it. */
  device?: string;
  /**
   * Kernel receive buffer in bytes (SO_RCVBUF; as root SO_RCVBUFFORCE, past net.core.rmem_max); default
   * the kernel's (net.core.rmem_default, 212992 here: about 256 small datagrams). Datagrams that arrive
   * while it is full are dropped by the kernel.
   */
  receiveBufferSize?: number;
  /** Called for every received datagram, on the opening thread's event loop. Without it the socket only sends. */
  onMessage?: (message: UdpTtlMessage) => void;
  /** Receive errors (rare); without it they become a process warning. */
  onError?: (error: SockoptError) => void;
}

/** Counters of a socket: datagrams received, and the readable events that read them (one event reads up to 256). */
export interface UdpTtlStats {
  datagrams: number;
  wakeups: number;
}

let loaded: { addon: UdpAddon } | { reason: string } | undefined;

function load(): { addon: UdpAddon } | { reason: string } {
  if (process.platform !== 'linux')
    return {
      reason: `reading the TTL of received UDP datagrams is implemented for Linux only, not ${process.platform}`,
    };
  const probe = probeAddon();
  if ('reason' in probe) return probe;
  const addon = probe.addon as unknown as Partial<UdpAddon>;
  if (typeof addon.udpOpen !== 'function') {
    return {
      reason:
        'the native socket addon was built before it had UDP sockets: rebuild it with `npm run build:addon -w @bgp-announce/sockopt`',
    };
  }
  return { addon: addon as UdpAddon };
}

/** Whether UdpTtlSocket can be used here (Linux, addon built with UDP support); if not, why and how to fix it. Never throws. */
export function udpTtlAvailable(): SockoptStatus {
  loaded ??= load();
  return 'addon' in loaded ? { ok: true } : { ok: false, reason: `no UDP TTL check: ${loaded.reason}` };
}

function native(): UdpAddon {
  loaded ??= load();
  if ('reason' in loaded) throw new Error(`no UDP TTL check: ${loaded.reason}`);
  return loaded.addon;
}

/** address:port, with brackets around IPv6 addresses. */
function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function hint(syscall: string, code: string, device: string | undefined): string {
  if (syscall === 'setsockopt SO_BINDTODEVICE' && code === 'ENODEV')
    return `, there is no network device ${device ?? ''}`;
  if (syscall === 'setsockopt SO_BINDTODEVICE' && code === 'EPERM')
    return ', binding to a device needs CAP_NET_RAW (root)';
  if (syscall === 'if_nametoindex') return ', the interface after % in the address does not exist';
  if (code === 'EADDRINUSE') return ', another socket holds this address and port';
  if (code === 'EADDRNOTAVAIL') return ', the address is not on any interface of this host';
  if (code === 'EACCES' && syscall === 'bind')
    return ', ports below net.ipv4.ip_unprivileged_port_start need CAP_NET_BIND_SERVICE (root)';
  if (code === 'EINVAL' && syscall === 'bind')
    return ', a link-local address needs its interface (fe80::1%eth0 or the device option)';
  if (code === 'EINVAL' && syscall === 'sendto')
    return ', the kernel will not send there from this socket (a link-local destination needs its interface: fe80::1%eth0)';
  if (code === 'ENETUNREACH') return ', no route to that network';
  if (code === 'EHOSTUNREACH') return ', no route to that host';
  if (code === 'EPERM' && syscall === 'sendto') return ', a firewall rule refused the datagram';
  if (code === 'EAGAIN') return ', the socket send buffer is full and the datagram was not sent';
  if (code === 'EMSGSIZE') return ', the datagram is too large';
  if (code === 'EBADF') return ', the socket is closed';
  return '';
}

/** A native errno error as a SockoptError whose message starts with `what`; other errors unchanged. */
function toSockoptError(what: string, err: unknown, device?: string): unknown {
  const e = err as { errno?: unknown; syscall?: unknown };
  if (typeof e.errno !== 'number') return err; // an argument error (TypeError, RangeError)
  const code = getSystemErrorName(-e.errno);
  const syscall = typeof e.syscall === 'string' ? e.syscall : 'syscall';
  return new SockoptError(`${what}: ${syscall} failed: ${code}${hint(syscall, code, device)}`, code, e.errno, syscall);
}

function integer(value: unknown, min: number, max: number, name: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(`sockopt: ${name} must be an integer ${min}-${max}, not ${String(value)}`);
  }
  return value;
}

/**
 * A UDP socket bound to an address and port (and optionally a device) that sends with a fixed TTL and
 * hands each received datagram to `onMessage` with the TTL / hop limit it arrived with, its source,
 * destination address and interface. Open it on the thread whose event loop should receive (a BFD
 * worker); it is closed with close(), or when that thread's Node environment ends.
 */
export class UdpTtlSocket {
  readonly family: 4 | 6;
  /** The bound address and port (the port the kernel chose when `port` was 0). */
  readonly localAddress: string;
  readonly localPort: number;
  readonly device: string | undefined;
  readonly ttl: number;
  #handle: object;
  #closed = false;

  private constructor(
    family: 4 | 6,
    opened: { handle: object; address: string; port: number },
    ttl: number,
    device: string | undefined,
  ) {
    this.family = family;
    this.#handle = opened.handle;
    this.localAddress = opened.address;
    this.localPort = opened.port;
    this.ttl = ttl;
    this.device = device;
  }

  /**
   * Opens and binds the socket. Throws a SockoptError (code EADDRINUSE, ENODEV, EPERM, EACCES,
   * EADDRNOTAVAIL, ...) when the kernel refuses, TypeError / RangeError for bad options, and an Error
   * saying why when the addon is not available (see udpTtlAvailable()).
   */
  static open(options: UdpTtlSocketOptions): UdpTtlSocket {
    const { family, address, device, onMessage, onError } = options;
    if (family !== 4 && family !== 6) throw new TypeError(`sockopt: family must be 4 or 6, not ${String(family)}`);
    if (typeof address !== 'string') throw new TypeError('sockopt: address must be a string');
    const port = integer(options.port, 0, 65535, 'port');
    const ttl = integer(options.ttl ?? 255, 1, 255, 'ttl');
    const receiveBufferSize = integer(options.receiveBufferSize ?? 0, 0, 2 ** 30, 'receiveBufferSize');
    if (device !== undefined && (typeof device !== 'string' || device.length === 0 || Buffer.byteLength(device) > 15)) {
      throw new TypeError(`sockopt: device must be a network device name of 1-15 bytes, not ${JSON.stringify(device)}`);
    }
    if (onMessage !== undefined && typeof onMessage !== 'function')
      throw new TypeError('sockopt: onMessage must be a function');
    if (onError !== undefined && typeof onError !== 'function')
      throw new TypeError('sockopt: onError must be a function');
    const at = `${endpoint(address, port)}${device === undefined ? '' : ` on device ${device}`}`;
    const addon = native();
    const deliver = onMessage
      ? (payload: Buffer, from: string, fromPort: number, received: number, localAddress: string, ifindex: number) =>
          onMessage({ payload, address: from, port: fromPort, ttl: received, localAddress, ifindex })
      : undefined;
    const fail = (err: Error): void => {
      const error = toSockoptError(`receiving UDP on ${at}`, err) as SockoptError;
      if (onError) onError(error);
      else process.emitWarning(error.message, 'SockoptWarning');
    };
    try {
      return new UdpTtlSocket(
        family,
        addon.udpOpen(family, address, port, ttl, device, deliver, fail, receiveBufferSize),
        ttl,
        device,
      );
    } catch (err) {
      throw toSockoptError(`opening a UDP socket on ${at}`, err, device);
    }
  }

  /** Sends one datagram (sendto). Throws a SockoptError when the kernel refuses (EAGAIN: buffer full, not sent; ENETUNREACH; ...). */
  send(payload: Uint8Array, address: string, port: number): void {
    const what = `sending UDP from ${endpoint(this.localAddress, this.localPort)} to ${endpoint(address, port)}`;
    if (this.#closed) throw new SockoptError(`${what}: the socket is closed`, 'EBADF', 9, 'sendto');
    try {
      native().udpSend(this.#handle, payload, address, port);
    } catch (err) {
      throw toSockoptError(what, err);
    }
  }

  /** Closes the socket: no onMessage call follows (even for datagrams already read in the same batch) and the port is free at once. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    native().udpClose(this.#handle);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Lets the thread's event loop end while the socket is open (like dgram's unref()); only a receiving socket holds it. */
  unref(): this {
    if (!this.#closed) native().udpRef(this.#handle, false);
    return this;
  }

  /** Undoes unref(). */
  ref(): this {
    if (!this.#closed) native().udpRef(this.#handle, true);
    return this;
  }

  /** Datagrams received so far and the readable events that read them. */
  stats(): UdpTtlStats {
    if (this.#closed) throw new SockoptError('UDP socket statistics: the socket is closed', 'EBADF', 9, 'stats');
    return native().udpStats(this.#handle);
  }
}
