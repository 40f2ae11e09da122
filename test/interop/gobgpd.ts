// Shared by the gobgpd interop tests: polling with a deadline, and a gobgpd started in its own
// network namespace (passive, one neighbor) with its CLI wrapped for queries.
import type { Test } from 'tap';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Polls fn (returning a value or undefined, maybe async) every 100 ms until it returns a value; rejects after ms. */
export async function poll<T>(what: string, fn: () => T | undefined | Promise<T | undefined>, ms = 15000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Starts a process, collecting its output; t.teardown kills it (SIGKILL after 3 s) and waits for it to exit. */
export function startProcess(t: Test, cmd: string, args: string[]): { proc: ChildProcess; output: () => string } {
  const proc = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  proc.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGTERM');
      const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
      await exited;
      clearTimeout(timer);
    }
  });
  return { proc, output: () => out };
}

export type NeighborJson = { state: { session_state: number; messages: { received: Record<string, number> } } };
export type RibJson = Record<string, { attrs: ({ type: number } & Record<string, unknown>)[] }[]>;
/** GoBGP API SessionState: IDLE 1, CONNECT 2, ACTIVE 3, OPENSENT 4, OPENCONFIRM 5, ESTABLISHED 6. */
export const GOBGP_ESTABLISHED = 6;

export interface GobgpdOptions {
  ns: string;
  as: number;
  address: string;
  neighborAddress: string;
  neighborAs: number;
  /** Graceful restart (RFC 4724) toward the neighbor for IPv4 unicast, as a helper (receiving side only). */
  gracefulRestart?: { restartTime: number; notification?: boolean };
}

const API_PORT = 50051; // gobgpd's gRPC API, on the loopback of its own namespace

/**
 * Starts a passive gobgpd in `ns` with one neighbor, killed in t.teardown; resolves once its API
 * answers. `gobgp(...)` runs the CLI against it; `neighbor()` and `rib()` parse its JSON.
 */
export async function startGobgpd(
  t: Test,
  o: GobgpdOptions,
): Promise<{
  gobgp: (...args: string[]) => string;
  neighbor: () => NeighborJson;
  rib: () => RibJson;
  output: () => string;
}> {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-interop-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const conf = join(dir, 'gobgpd.toml');
  writeFileSync(
    conf,
    [
      '[global.config]',
      `  as = ${o.as}`,
      `  router-id = "${o.address}"`,
      `  local-address-list = ["${o.address}"]`,
      '[[neighbors]]',
      '  [neighbors.config]',
      `    neighbor-address = "${o.neighborAddress}"`,
      `    peer-as = ${o.neighborAs}`,
      '  [neighbors.transport.config]',
      '    passive-mode = true',
      ...(o.gracefulRestart
        ? [
            '  [neighbors.graceful-restart.config]',
            '    enabled = true',
            '    helper-only = true',
            `    restart-time = ${o.gracefulRestart.restartTime}`,
            `    notification-enabled = ${o.gracefulRestart.notification ?? false}`,
            '  [[neighbors.afi-safis]]',
            '    [neighbors.afi-safis.config]',
            '      afi-safi-name = "ipv4-unicast"',
            '    [neighbors.afi-safis.mp-graceful-restart.config]',
            '      enabled = true',
          ]
        : []),
      '',
    ].join('\n'),
  );
  const { output } = startProcess(t, 'ip', [
    'netns',
    'exec',
    o.ns,
    'gobgpd',
    '-f',
    conf,
    '--api-hosts',
    `127.0.0.1:${API_PORT}`,
    '--pprof-disable',
  ]);
  const gobgp = (...args: string[]): string =>
    execFileSync('ip', ['netns', 'exec', o.ns, 'gobgp', '-p', String(API_PORT), ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  const neighbor = (): NeighborJson => JSON.parse(gobgp('neighbor', o.neighborAddress, '-j')) as NeighborJson;
  const rib = (): RibJson => JSON.parse(gobgp('global', 'rib', '-j') || '{}') as RibJson;
  await poll('gobgpd to answer on its API', () => neighbor()).catch((err: Error) => {
    throw new Error(`${err.message}\ngobgpd output:\n${output()}`);
  });
  return { gobgp, neighbor, rib, output };
}
