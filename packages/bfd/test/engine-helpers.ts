// Shared by the engine tests: engines stopped in teardown, their events recorded and awaited with a
// deadline (never a sleep), free loopback ports, raw packets sent with a chosen TTL, and the skip
// (or, in CI, failure) when the TTL-reporting socket is not built.
import dgram from 'node:dgram';
import type { Test } from 'tap';
import {
  BfdEngine,
  bfdTransportStatus,
  type BfdEngineError,
  type BfdEngineOptions,
  type BfdSessionId,
  type BfdSessionOptions,
  type BfdStateChangeEvent,
} from '../src/index.js';

export const LOOPBACK = { 4: '127.0.0.1', 6: '::1' } as const;

/** True when the addon's TTL-reporting socket is usable; otherwise skips the test, or fails it when CI=true. */
export function requireTtlSocket(t: Test): boolean {
  const status = bfdTransportStatus();
  if (status.ttlCheck === 'available') return true;
  if (process.env.CI === 'true') t.fail(`${status.reason ?? 'no TTL check'} (required in CI)`);
  else t.plan(0, status.reason ?? 'no TTL check');
  return false;
}

/** A UDP port the kernel just handed out on `address` (bound, read, closed). */
export async function freePort(family: 4 | 6, address: string = LOOPBACK[family]): Promise<number> {
  const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export type RecordedChange = BfdStateChangeEvent & { id: BfdSessionId };

export interface RecordedEngine {
  engine: BfdEngine;
  changes: RecordedChange[];
  errors: BfdEngineError[];
  /** Resolves with the first truthy value of `check()`, evaluated now and after every event; rejects after `ms`. */
  until<T>(check: () => T | undefined | false, what: string, ms?: number): Promise<T>;
  /** The first change of session `id` to `to` (after index `from` in changes). */
  reached(
    id: BfdSessionId,
    to: BfdStateChangeEvent['to'],
    what: string,
    from?: number,
    ms?: number,
  ): Promise<RecordedChange>;
}

/** Starts an engine (stopped in teardown) and records its events. */
export async function startEngine(t: Test, options: BfdEngineOptions): Promise<RecordedEngine> {
  const engine = await BfdEngine.start(options);
  t.teardown(() => engine.stop());
  const changes: RecordedChange[] = [];
  const errors: BfdEngineError[] = [];
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const w of [...waiters]) w();
  };
  engine.on('state', (id, change) => {
    changes.push({ ...change, id });
    notify();
  });
  engine.on('error', (e) => {
    errors.push(e);
    notify();
  });
  const until = <T>(check: () => T | undefined | false, what: string, ms = 5000): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        const value = check();
        if (value === undefined || value === false) return false;
        resolve(value);
        return true;
      };
      if (attempt()) return;
      const waiter = (): void => {
        if (!attempt()) return;
        clearTimeout(timer);
        waiters.delete(waiter);
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        const seen = changes.map((c) => `${c.id}:${c.from}>${c.to}(${c.diag})`).join(' ');
        reject(
          new Error(
            `timed out after ${ms} ms waiting for ${what}; changes: ${seen || 'none'}; errors: ${errors.map((e) => e.message).join(' | ') || 'none'}`,
          ),
        );
      }, ms);
      waiters.add(waiter);
    });
  const reached = (
    id: BfdSessionId,
    to: BfdStateChangeEvent['to'],
    what: string,
    from = 0,
    ms?: number,
  ): Promise<RecordedChange> => until(() => changes.slice(from).find((c) => c.id === id && c.to === to), what, ms);
  return { engine, changes, errors, until, reached };
}

/** Polls an asynchronous condition every 20 ms until it gives a value; rejects after `ms`. */
export async function pollUntil<T>(what: string, check: () => Promise<T | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface EnginePair {
  a: RecordedEngine;
  b: RecordedEngine;
  idA: BfdSessionId;
  idB: BfdSessionId;
}

export type PairSide = Omit<BfdSessionOptions, 'peerAddress' | 'localAddress' | 'port'>;

/** Two engines on the loopback address of `family`, on free ports, each with one session to the other. */
export async function enginePair(
  t: Test,
  family: 4 | 6,
  sideA: PairSide,
  sideB: PairSide,
  options: BfdEngineOptions = {},
): Promise<EnginePair> {
  const here = LOOPBACK[family];
  const portsA = { singleHop: await freePort(family), multihop: await freePort(family) };
  const portsB = { singleHop: await freePort(family), multihop: await freePort(family) };
  const a = await startEngine(t, { ...options, listenPorts: portsA });
  const b = await startEngine(t, { ...options, listenPorts: portsB });
  const peerPort = (ports: typeof portsA, side: PairSide): number => (side.multihop ? ports.multihop : ports.singleHop);
  const idA = a.engine.addSession({ ...sideA, peerAddress: here, localAddress: here, port: peerPort(portsB, sideB) });
  const idB = b.engine.addSession({ ...sideB, peerAddress: here, localAddress: here, port: peerPort(portsA, sideA) });
  return { a, b, idA, idB };
}

export const FAST = { name: 'fast', transmitInterval: 50, receiveInterval: 50, detectMultiplier: 3 } as const;

/** Waits until both sessions are Up with the given detection times and no Poll Sequence running. */
export async function settled(p: EnginePair, detectA: number, detectB: number): Promise<void> {
  await p.a.reached(p.idA, 'Up', 'a Up');
  await p.b.reached(p.idB, 'Up', 'b Up');
  await pollUntil(`detection times ${detectA}/${detectB} ms`, async () => {
    const [sa, sb] = await Promise.all([p.a.engine.session(p.idA), p.b.engine.session(p.idB)]);
    return sa?.detectionTimeMs === detectA && sb?.detectionTimeMs === detectB && !sa.pollActive && !sb.pollActive;
  });
}

/** Sends one datagram to `to`:`port` from a plain dgram socket bound to `from`, with `ttl` (setTTL); resolves when sent. */
export async function sendWithTtl(
  family: 4 | 6,
  payload: Uint8Array,
  ttl: number,
  port: number,
  to: string = LOOPBACK[family],
  from: string = to,
): Promise<void> {
  const socket = dgram.createSocket(family === 4 ? 'udp4' : 'udp6');
  await new Promise<void>((resolve) => socket.bind(0, from, resolve));
  socket.setTTL(ttl);
  await new Promise<void>((resolve, reject) =>
    socket.send(payload, port, to, (err) => (err ? reject(err) : resolve())),
  );
  await new Promise<void>((resolve) => socket.close(() => resolve()));
}
