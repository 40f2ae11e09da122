// Shared by the sockopt tests: the addon's availability (skip outside CI, fail in CI), TCP listeners and
// clients on loopback whose sockets get options before listen()/connect(), the outcome of a connection
// attempt within a bounded connect timeout, and the kernel's drop counters from /proc/net/netstat.
import type { Test } from 'tap';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { bindSocket, createTcpSocket, setMinTtl, setTcpMd5Sig, setTtl, sockoptAvailable } from '../src/index.js';

/** True when the addon loads; otherwise skips the test, or fails it when CI=true. */
export function requireAddon(t: Test): boolean {
  const status = sockoptAvailable();
  if (status.ok) return true;
  if (process.env.CI === 'true') t.fail(`${status.reason} (required in CI)`);
  else t.plan(0, status.reason);
  return false;
}

export interface Options {
  md5?: { peer: string; key: string };
  ttl?: number;
  minTtl?: number;
}

function apply(fd: number, o: Options): void {
  if (o.md5) setTcpMd5Sig(fd, o.md5.peer, o.md5.key);
  if (o.ttl !== undefined) setTtl(fd, o.ttl);
  if (o.minTtl !== undefined) setMinTtl(fd, o.minTtl);
}

/** The descriptor of a net.Socket or net.Server (Linux: the libuv handle's fd). */
export function fdOf(s: net.Socket | net.Server): number {
  const fd = (s as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) throw new Error('no file descriptor');
  return fd;
}

/** A listener on host (port 0) whose socket got `o` before listen(); closed in t.teardown. */
export async function listener(t: Test, family: 4 | 6, host: string, o: Options) {
  const fd = createTcpSocket(family);
  apply(fd, o);
  bindSocket(fd, host, 0);
  const accepted: net.Socket[] = [];
  const server = net.createServer((s) => {
    accepted.push(s);
    s.on('error', () => {});
    s.on('data', (d) => s.write(Buffer.concat([Buffer.from('echo:'), d])));
  });
  await new Promise<void>((resolve) => server.listen({ fd }, resolve));
  t.teardown(
    () =>
      new Promise<void>((resolve) => {
        for (const s of accepted) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { fd, server, accepted, port: (server.address() as net.AddressInfo).port };
}

/** The outcome of connecting with options `o`: 'connected', 'timeout' (no answer within ms), or 'error CODE'. */
export function attempt(t: Test, family: 4 | 6, host: string, port: number, o: Options, ms = 800) {
  const fd = createTcpSocket(family);
  apply(fd, o);
  const socket = new net.Socket({ fd });
  t.teardown(() => {
    socket.destroy();
  });
  const outcome = new Promise<string>((resolve) => {
    socket.setTimeout(ms, () => resolve('timeout'));
    socket.once('error', (e: NodeJS.ErrnoException) => resolve(`error ${e.code}`));
    socket.connect({ host, port }, () => {
      socket.setTimeout(0);
      resolve('connected');
    });
  });
  return { socket, outcome };
}

/** Sends `text` and resolves with the listener's echo. */
export function exchange(socket: net.Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => reject(new Error(`no echo of ${text} within 5 s`)), 5000);
    socket.on('data', (d) => {
      got += d.toString();
      if (got.length >= text.length + 5) {
        clearTimeout(timer);
        resolve(got);
      }
    });
    socket.write(text);
  });
}

/** TcpExt counters of this network namespace (TCPMD5NotFound, TCPMD5Failure, TCPMinTTLDrop, ...). */
export function tcpExt(): Record<string, number> {
  const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
  const at = lines.findIndex((l) => l.startsWith('TcpExt:'));
  const names = (lines[at] ?? '').split(' ');
  const values = (lines[at + 1] ?? '').split(' ');
  const out: Record<string, number> = {};
  names.forEach((n, i) => {
    if (i > 0) out[n] = Number(values[i]);
  });
  return out;
}
