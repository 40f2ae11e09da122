// Public API of @bgp-announce/sockopt: see README.md. Socket options Node's `net` cannot set (TCP MD5
// signatures, RFC 2385; GTSM's minimum TTL, RFC 5082; the TTL of sent TCP packets) over a socket's file
// descriptor, through a small N-API addon built from native/sockopt.c. The addon is loaded lazily on
// first use, so importing this module never fails; sockoptAvailable() says whether it can be used.
import { getSystemErrorName } from 'node:util';
import { probeAddon, SockoptError, type Addon, type SockoptStatus } from './addon.js';

export { addonPath, probeAddon, SockoptError, type SockoptStatus } from './addon.js';

let loaded: { addon: Addon } | { reason: string } | undefined;

/** Whether the addon is built and loads. Never throws. */
export function sockoptAvailable(): SockoptStatus {
  loaded ??= probeAddon();
  return 'addon' in loaded ? { ok: true } : { ok: false, reason: loaded.reason };
}

function addon(): Addon {
  loaded ??= probeAddon();
  if ('reason' in loaded) throw new Error(loaded.reason);
  return loaded.addon;
}

/** Hints for errno codes, by option. */
function hint(option: string, code: string): string {
  if (option === 'TCP_MD5SIG' && code === 'ENOPROTOOPT') return ', the kernel lacks CONFIG_TCP_MD5SIG';
  if (option === 'TCP_MD5SIG' && code === 'ENOENT') return ', no key was installed for this peer';
  if (option === 'TCP_MD5SIG' && code === 'EINVAL') return ', the key or the address is not acceptable to the kernel';
  if ((option === 'IP_MINTTL' || option === 'IPV6_MINHOPCOUNT') && code === 'ENOPROTOOPT')
    return ', the kernel lacks GTSM (Linux 2.6.34 or later)';
  if (code === 'EBADF' || code === 'ENOTSOCK') return ', the file descriptor is not an open socket';
  if (code === 'EADDRINUSE') return ', another socket holds this address and port';
  if (code === 'EADDRNOTAVAIL') return ', the address is not on any interface of this host';
  return '';
}

/** Calls into the addon; a failed system call becomes a SockoptError whose message starts with `what`. */
function call<T>(what: string, fn: (a: Addon) => T): T {
  const a = addon();
  try {
    return fn(a);
  } catch (err) {
    const e = err as { errno?: unknown; syscall?: unknown; message?: string };
    if (typeof e.errno !== 'number') throw err; // an argument error (TypeError, RangeError)
    const code = getSystemErrorName(-e.errno);
    const syscall = typeof e.syscall === 'string' ? e.syscall : 'syscall';
    const option = syscall.split(' ')[1] ?? '';
    throw new SockoptError(`${what}: ${syscall} failed: ${code}${hint(option, code)}`, code, e.errno, syscall);
  }
}

/** A new non-blocking TCP socket of `family` (4 or 6), not bound or connected; wrap it with `new net.Socket({ fd })`. */
export function createTcpSocket(family: 4 | 6): number {
  return call(`creating an IPv${family} TCP socket`, (a) => a.createTcpSocket(family));
}

/** Binds the socket to `address` (an IPv4 address on an IPv6 socket is taken as IPv4-mapped) and `port`, with SO_REUSEADDR as Node does. */
export function bindSocket(fd: number, address: string, port: number): void {
  const where = address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
  call(`binding to ${where}`, (a) => a.bindSocket(fd, address, port));
}

/** Closes a socket that was never handed to a net.Socket or net.Server (they close their own). */
export function closeSocket(fd: number): void {
  call('closing a socket', (a) => a.closeSocket(fd));
}

/**
 * Installs the RFC 2385 TCP MD5 key for segments to and from `peerAddress` on the socket (before
 * connect() or listen()); an empty key removes it. A string key is taken as UTF-8 bytes, at most 80.
 * On an IPv6 socket an IPv4 peer is keyed by its IPv4-mapped address (what a dual-stack listener sees).
 */
export function setTcpMd5Sig(fd: number, peerAddress: string, key: Uint8Array | string): void {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'utf8') : key;
  if (bytes.length > 80)
    throw new RangeError(`TCP MD5 (RFC 2385) key for ${peerAddress} is ${bytes.length} bytes; the most is 80`);
  call(`TCP MD5 (RFC 2385) key for ${peerAddress}`, (a) => a.setTcpMd5Sig(fd, peerAddress, bytes));
}

/** Sets the TTL (hop limit) of packets the socket sends, 1-255 (IP_TTL; IPV6_UNICAST_HOPS, and IP_TTL too on a dual-stack IPv6 socket). */
export function setTtl(fd: number, ttl: number): void {
  call(`TTL ${ttl}`, (a) => a.setTtl(fd, ttl));
}

/**
 * Drops received packets whose TTL (hop limit) is below `ttl`, 0-255, 0 turning it off: GTSM (RFC 5082)
 * with 256 - hops (IP_MINTTL; IPV6_MINHOPCOUNT, and IP_MINTTL too on a dual-stack IPv6 socket).
 */
export function setMinTtl(fd: number, ttl: number): void {
  call(`GTSM (RFC 5082) minimum TTL ${ttl}`, (a) => a.setMinTtl(fd, ttl));
}

/** The socket's TTL for sent packets (IP_TTL, or IPV6_UNICAST_HOPS on an IPv6 socket, where -1 means the route's default). */
export function getTtl(fd: number): number {
  return call('reading the TTL', (a) => a.getTtl(fd));
}

/** The socket's minimum received TTL (IP_MINTTL, or IPV6_MINHOPCOUNT on an IPv6 socket); 0 when off. */
export function getMinTtl(fd: number): number {
  return call('reading the minimum TTL', (a) => a.getMinTtl(fd));
}

// UDP with the received TTL / hop limit, for BFD (RFC 5881, RFC 5883): see src/udp.ts.
export {
  UdpTtlSocket,
  udpTtlAvailable,
  type UdpTtlMessage,
  type UdpTtlSocketOptions,
  type UdpTtlStats,
} from './udp.js';
