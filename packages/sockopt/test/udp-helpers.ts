// Shared by the UDP tests: whether UdpTtlSocket is available (skip outside CI, fail in CI), receiving
// sockets whose datagrams are awaited with a deadline (never a sleep), senders with a chosen TTL (ours
// and Node's dgram), and the loopback interface's index from sysfs.
import type { Test } from 'tap';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { UdpTtlSocket, udpTtlAvailable, type UdpTtlMessage, type UdpTtlSocketOptions } from '../src/index.js';

/** True when UdpTtlSocket can be used; otherwise skips the test, or fails it when CI=true. */
export function requireUdp(t: Test): boolean {
  const status = udpTtlAvailable();
  if (status.ok) return true;
  if (process.env.CI === 'true') t.fail(`${status.reason} (required in CI)`);
  else t.plan(0, status.reason);
  return false;
}

/** The interface index of `name` as the kernel numbers it (sysfs), independent of the addon. */
export function ifindexOf(name: string): number {
  return Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8'));
}

/** Resolves when `ready()` is true, checked on every `notify()`; rejects after `ms`. */
export function waiter(what: () => string) {
  let pending: { ready: () => boolean; resolve: () => void } | undefined;
  return {
    notify(): void {
      if (pending?.ready()) {
        const done = pending;
        pending = undefined;
        done.resolve();
      }
    },
    until(ready: () => boolean, ms = 5000): Promise<void> {
      if (ready()) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          pending = undefined;
          reject(new Error(`timed out after ${ms} ms: ${what()}`));
        }, ms);
        pending = {
          ready,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        };
      });
    },
  };
}

/** A receiving UdpTtlSocket (closed in teardown); `received(n)` resolves with the first n datagrams. */
export function receiver(t: Test, options: Omit<UdpTtlSocketOptions, 'onMessage'>) {
  const messages: UdpTtlMessage[] = [];
  const wait = waiter(() => `${messages.length} datagrams received`);
  const socket = UdpTtlSocket.open({
    ...options,
    onMessage: (m) => {
      messages.push(m);
      wait.notify();
    },
  });
  t.teardown(() => socket.close());
  return {
    socket,
    messages,
    async received(n: number, ms?: number): Promise<UdpTtlMessage[]> {
      await wait.until(() => messages.length >= n, ms);
      return messages.slice(0, n);
    },
  };
}

/** A send-only UdpTtlSocket with `ttl` on the loopback address of `family`; closed in teardown. */
export function sender(t: Test, family: 4 | 6, ttl: number): UdpTtlSocket {
  const socket = UdpTtlSocket.open({ family, address: family === 4 ? '127.0.0.1' : '::1', port: 0, ttl });
  t.teardown(() => socket.close());
  return socket;
}

/** A bound Node dgram socket sending with `ttl` (setTTL); closed in teardown. */
export async function dgramSender(t: Test, family: 4 | 6, ttl: number): Promise<dgram.Socket> {
  const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  await new Promise<void>((resolve) => socket.bind(0, family === 4 ? '127.0.0.1' : '::1', resolve));
  socket.setTTL(ttl);
  t.teardown(() => socket.close());
  return socket;
}

/** Sends with dgram and waits for the send to complete. */
export function dgramSend(socket: dgram.Socket, payload: string, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) =>
    socket.send(payload, port, address, (err) => (err ? reject(err) : resolve())),
  );
}
