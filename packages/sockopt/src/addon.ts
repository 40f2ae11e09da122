// Loading the native socket addon (build/Release/sockopt.node, built from native/*.c) and the typed
// error of a failed system call: shared by the TCP options (index.ts) and the UDP socket (udp.ts).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The functions native/sockopt.c exports. */
export interface Addon {
  createTcpSocket(family: number): number;
  bindSocket(fd: number, address: string, port: number): void;
  closeSocket(fd: number): void;
  setTcpMd5Sig(fd: number, peerAddress: string, key: Uint8Array): void;
  setTtl(fd: number, ttl: number): void;
  setMinTtl(fd: number, ttl: number): void;
  getTtl(fd: number): number;
  getMinTtl(fd: number): number;
}

/** Whether the addon can be used, and if not, why and how to build it. */
export type SockoptStatus = { ok: true } | { ok: false; reason: string };

/** Where the built addon lives. */
export const addonPath: string = fileURLToPath(new URL('../build/Release/sockopt.node', import.meta.url));

const BUILD_HINT =
  'build it with `npm run build:addon -w @bgp-announce/sockopt` (or `npm ci`, which builds it); ' +
  'that needs g++, make and python3 (Debian: apt-get install build-essential python3)';

/** A failed system call, with the errno name as `code` (like Node's own system errors). */
export class SockoptError extends Error {
  readonly code: string;
  readonly errno: number;
  readonly syscall: string;
  constructor(message: string, code: string, errno: number, syscall: string) {
    super(message);
    this.name = 'SockoptError';
    this.code = code;
    this.errno = errno;
    this.syscall = syscall;
  }
}

/** Loads the addon at `path` (the default: addonPath); tells why it cannot be used. For tests and diagnostics. */
export function probeAddon(path: string = addonPath): { addon: Addon } | { reason: string } {
  if (process.platform !== 'linux') {
    return { reason: `TCP MD5, GTSM and TTL setting are implemented for Linux only, not ${process.platform}` };
  }
  if (!existsSync(path)) return { reason: `the native socket addon is not built (no ${path}): ${BUILD_HINT}` };
  try {
    return { addon: createRequire(import.meta.url)(path) as Addon };
  } catch (err) {
    return { reason: `the native socket addon ${path} does not load (${(err as Error).message}): re-${BUILD_HINT}` };
  }
}
