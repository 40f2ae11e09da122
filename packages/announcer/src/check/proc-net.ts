// The node's TCP sockets as Linux shows them in /proc/net/tcp and /proc/net/tcp6: addresses, ports,
// state, owning uid and socket inode. No root needed. /proc/net is the network namespace of the
// reading process: the daemon runs with hostNetwork, so there it shows the node's sockets.
//
// Format (one socket per line after a header), fields separated by spaces:
//   sl  local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode ...
//   0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  0  0 12345 ...
// An address is the in-memory (network order) value printed as 32-bit words in the host's byte order:
// one word for IPv4, four for IPv6, so on a little-endian host each word's bytes appear reversed.
// Ports are plain hex numbers. The state is the kernel's TCP state number in hex.
import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { formatIpv4, formatIpv6 } from '@bgp-announce/bgp-wire';

/** Kernel TCP states (include/net/tcp_states.h), by their number in /proc/net/tcp. */
export const TCP_STATES = {
  0x01: 'ESTABLISHED',
  0x02: 'SYN_SENT',
  0x03: 'SYN_RECV',
  0x04: 'FIN_WAIT1',
  0x05: 'FIN_WAIT2',
  0x06: 'TIME_WAIT',
  0x07: 'CLOSE',
  0x08: 'CLOSE_WAIT',
  0x09: 'LAST_ACK',
  0x0a: 'LISTEN',
  0x0b: 'CLOSING',
  0x0c: 'NEW_SYN_RECV',
} as const;

export type TcpStateName = (typeof TCP_STATES)[keyof typeof TCP_STATES] | 'UNKNOWN';

/** The table a socket was read from. */
export type TcpTable = 'tcp' | 'tcp6';

/** One TCP socket. */
export interface TcpSocket {
  table: TcpTable;
  /**
   * The address family on the wire: 6 for IPv6; 4 for IPv4, also for an IPv4-mapped address
   * (::ffff:192.0.2.1) in tcp6, whose addresses are then given as plain IPv4 text.
   */
  family: 4 | 6;
  /** Canonical text ("0.0.0.0" and "::" for a listener on every address). */
  localAddress: string;
  localPort: number;
  remoteAddress: string;
  remotePort: number;
  state: TcpStateName;
  /** The owner's user id (readable without root even when the process is not). */
  uid: number;
  /** The socket's inode, as in /proc/<pid>/fd/N -> "socket:[inode]"; 0 for sockets no file refers to (TIME_WAIT). */
  inode: number;
}

const V4_MAPPED_PREFIX = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff];

/**
 * The address bytes in network order from /proc/net/tcp hex: 8 digits (IPv4) or 32 (IPv6), each
 * 32-bit word printed in the host's byte order. Undefined when the text is not such hex.
 */
export function decodeProcAddressBytes(hex: string, byteOrder: 'LE' | 'BE' = endianness()): Uint8Array | undefined {
  if ((hex.length !== 8 && hex.length !== 32) || !/^[0-9A-Fa-f]+$/.test(hex)) return undefined;
  const bytes = new Uint8Array(hex.length / 2);
  for (let word = 0; word < bytes.length / 4; word++) {
    for (let i = 0; i < 4; i++) {
      const value = parseInt(hex.slice(word * 8 + i * 2, word * 8 + i * 2 + 2), 16);
      bytes[word * 4 + (byteOrder === 'LE' ? 3 - i : i)] = value;
    }
  }
  return bytes;
}

/** An address of /proc/net/tcp as text and family: IPv4-mapped IPv6 addresses become IPv4. */
export function decodeProcAddress(
  hex: string,
  byteOrder: 'LE' | 'BE' = endianness(),
): { family: 4 | 6; address: string } | undefined {
  const bytes = decodeProcAddressBytes(hex, byteOrder);
  if (bytes === undefined) return undefined;
  if (bytes.length === 4) return { family: 4, address: formatIpv4(bytes, 0) };
  if (V4_MAPPED_PREFIX.every((b, i) => bytes[i] === b)) return { family: 4, address: formatIpv4(bytes, 12) };
  return { family: 6, address: formatIpv6(bytes, 0) };
}

function decodeEndpoint(
  text: string,
  byteOrder: 'LE' | 'BE',
): { family: 4 | 6; address: string; port: number } | undefined {
  const colon = text.indexOf(':');
  if (colon < 0) return undefined;
  const address = decodeProcAddress(text.slice(0, colon), byteOrder);
  const portText = text.slice(colon + 1);
  if (address === undefined || !/^[0-9A-Fa-f]{4}$/.test(portText)) return undefined;
  return { ...address, port: parseInt(portText, 16) };
}

/**
 * The sockets of one /proc/net/tcp or /proc/net/tcp6 text. The header and any line that does not
 * have the kernel's shape are skipped (never thrown on).
 */
export function parseProcNetTcp(text: string, table: TcpTable, byteOrder: 'LE' | 'BE' = endianness()): TcpSocket[] {
  const sockets: TcpSocket[] = [];
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 10 || !/^\d+:$/.test(f[0]!)) continue;
    const local = decodeEndpoint(f[1]!, byteOrder);
    const remote = decodeEndpoint(f[2]!, byteOrder);
    if (
      local === undefined ||
      remote === undefined ||
      !/^[0-9A-Fa-f]{2}$/.test(f[3]!) ||
      !/^\d+$/.test(f[7]!) ||
      !/^\d+$/.test(f[9]!)
    )
      continue;
    const stateNumber = parseInt(f[3]!, 16);
    sockets.push({
      table,
      family: table === 'tcp' ? 4 : local.family,
      localAddress: local.address,
      localPort: local.port,
      remoteAddress: remote.address,
      remotePort: remote.port,
      state: (TCP_STATES as Record<number, TcpStateName>)[stateNumber] ?? 'UNKNOWN',
      uid: Number(f[7]),
      inode: Number(f[9]),
    });
  }
  return sockets;
}

/** The sockets of both tables, and notes about tables that could not be read. */
export interface TcpSocketTable {
  sockets: TcpSocket[];
  /** "cannot read /proc/net/tcp6: no such file (IPv6 disabled?)" */
  notes: string[];
}

/** Why a file could not be read, in words. */
export function errnoWords(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'ESRCH':
      return 'the process is gone';
    default:
      return (err as Error).message;
  }
}

/**
 * Reads `<procRoot>/net/tcp` and `<procRoot>/net/tcp6`. A missing tcp6 (IPv6 disabled) or an
 * unreadable table is a note, not an error.
 */
export async function readTcpSockets(
  procRoot = '/proc',
  byteOrder: 'LE' | 'BE' = endianness(),
): Promise<TcpSocketTable> {
  const result: TcpSocketTable = { sockets: [], notes: [] };
  for (const table of ['tcp', 'tcp6'] as const) {
    const path = `${procRoot}/net/${table}`;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      const missing6 = table === 'tcp6' && (err as NodeJS.ErrnoException).code === 'ENOENT';
      result.notes.push(`cannot read ${path}: ${errnoWords(err)}${missing6 ? ' (IPv6 disabled?)' : ''}`);
      continue;
    }
    result.sockets.push(...parseProcNetTcp(text, table, byteOrder));
  }
  return result;
}

/** "192.0.2.1:179", "[2001:db8::1]:179". */
export function formatEndpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}
