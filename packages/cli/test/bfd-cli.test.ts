// The built `bgp-announce bfd` against itself: two processes in two network namespaces joined by a
// veth pair (192.0.2.1/24 and 192.0.2.2/24), each on the standard port 3784 and its kernel-chosen
// local address. With --json --until up both exit 0 after printing Up; run until a signal, SIGTERM on
// one makes it exit 0 and the other print Down with remote diag Administratively Down.
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { requireTtlSocket } from '../../bfd/test/engine-helpers.js';
import { interopUnavailable, requireOrSkip, vethPair } from '../../../test/interop/netns.js';

const CLI = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
type Event = { type: string } & Record<string, unknown>;

interface Run {
  proc: ChildProcess;
  events: Event[];
  stderr: () => string;
  /** Resolves with the first event matching `check`; rejects after `ms` (generous: starting node and a worker takes seconds on a loaded 2-vCPU machine). */
  event(check: (e: Event) => boolean, what: string, ms?: number): Promise<Event>;
  /** Resolves with the exit status; rejects after `ms`. */
  exit(ms?: number): Promise<number | null>;
}

/** Runs `bgp-announce bfd ARGS --json` in namespace `ns`; killed in teardown if still running. */
function bfd(t: Test, ns: string, args: string[]): Run {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, CLI, 'bfd', '--json', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Event[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      events.push(JSON.parse(line) as Event);
    } catch {
      events.push({ type: 'not-json', line });
    }
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => proc.once('close', (code) => resolve(code)));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  const deadline = <T>(p: Promise<T>, ms: number, what: string): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${ns}: no ${what} in ${ms} ms; output: ${JSON.stringify(events)} ${stderr}`)),
        ms,
      );
      void p.then((v) => (clearTimeout(timer), resolve(v)));
    });
  return {
    proc,
    events,
    stderr: () => stderr,
    event: (check, what, ms = 30_000) =>
      deadline(
        new Promise<Event>((resolve) => {
          const attempt = (): boolean => {
            const found = events.find(check);
            if (found) resolve(found);
            return found !== undefined;
          };
          if (attempt()) return;
          const waiter = (): void => void (attempt() && waiters.delete(waiter));
          waiters.add(waiter);
        }),
        ms,
        what,
      ),
    exit: (ms = 30_000) => deadline(exited, ms, 'exit'),
  };
}

function available(t: Test): boolean {
  if (!requireOrSkip(t, interopUnavailable([]))) return false;
  if (!BUILT) return requireOrSkip(t, 'not built (npx tsc -b)');
  return requireTtlSocket(t);
}

t.test('--until up: both ends exit 0 after printing Up', async (t) => {
  if (!available(t)) return;
  const { a, b } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgpf');
  const runA = bfd(t, a.ns, ['--peer', b.address, '--interval', '50', '--until', 'up']);
  const runB = bfd(t, b.ns, ['--peer', a.address, '--interval', '50', '--until', 'up']);
  const [statusA, statusB] = await Promise.all([runA.exit(), runB.exit()]);
  t.equal(statusA, 0, `a exits 0 ${runA.stderr()}`);
  t.equal(statusB, 0, `b exits 0 ${runB.stderr()}`);
  for (const [run, local, peer] of [
    [runA, a.address, b.address],
    [runB, b.address, a.address],
  ] as const) {
    t.match(
      run.events[0],
      {
        type: 'started',
        peer,
        localAddress: local,
        multihop: false,
        transmitInterval: 50,
        receiveInterval: 50,
        detectMultiplier: 3,
        ttlCheck: 'available',
      },
      `${local}: the kernel's source address toward ${peer}`,
    );
    const up = run.events.find((e) => e.type === 'state' && e.to === 'Up');
    t.match(up, { peer, diag: 'No Diagnostic' }, `${local}: Up`);
    // The first to exit sends AdminDown: the other may be Down again when it reads its timers, and then prints none.
    if (up?.transmitIntervalMs !== undefined)
      t.equal(up.transmitIntervalMs, 50, `${local}: sending every 50 ms once Up`);
    t.match(run.events.at(-1), { type: 'stopped', status: 0, reason: 'session up' });
    t.equal(run.stderr(), '');
  }
});

t.test('SIGTERM on one end: it exits 0; the other prints Down with remote diag Administratively Down', async (t) => {
  if (!available(t)) return;
  const { a, b } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgpf');
  const runA = bfd(t, a.ns, ['--peer', b.address, '--interval', '50']);
  const runB = bfd(t, b.ns, ['--peer', a.address, '--interval', '50', '--local-address', b.address]);
  const isUp = (e: Event): boolean => e.type === 'state' && e.to === 'Up';
  await Promise.all([runA.event(isUp, 'Up'), runB.event(isUp, 'Up')]);
  await runB.event(
    (e) => (e.type === 'state' || e.type === 'timers') && e.detectionTimeMs === 150,
    'detection time 3 x 50 ms',
  );
  runA.proc.kill('SIGTERM');
  t.equal(await runA.exit(), 0, `a exits 0 on SIGTERM ${runA.stderr()}`);
  t.match(runA.events.at(-1), { type: 'stopped', status: 0, reason: 'stopped by SIGTERM' });
  t.match(runA.events.at(-2), { type: 'state', from: 'Up', to: 'AdminDown', diag: 'Administratively Down' });
  const down = await runB.event((e) => e.type === 'state' && e.from === 'Up' && e.to === 'Down', 'Down');
  t.match(
    down,
    { peer: a.address, diag: 'Neighbor Signaled Session Down', remoteDiag: 'Administratively Down' },
    'told, not timed out',
  );
  t.equal(runB.proc.exitCode, null, 'b keeps running');
  runB.proc.kill('SIGINT');
  t.equal(await runB.exit(), 0, 'b exits 0 on SIGINT');
  t.match(runB.events.at(-1), { type: 'stopped', status: 0, reason: 'stopped by SIGINT' });
  t.equal(runA.stderr() + runB.stderr(), '');
});
