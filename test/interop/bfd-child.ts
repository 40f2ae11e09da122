// Our BFD engine (the built @bgp-announce/bfd from packages/bfd/dist) in a child process inside a
// network namespace (`ip netns exec`), for interop tests against FRR and BIRD: Node cannot enter a
// namespace itself. The child prints its events as JSON lines and answers requests read from stdin;
// it is killed in t.teardown.
import type { Test } from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type {
  BfdEngineMetrics,
  BfdEngineOptions,
  BfdProfileInput,
  BfdSessionOptions,
  BfdSessionStatus,
} from '@bgp-announce/bfd';
import { poll, startProcess } from './gobgpd.js';

const here = fileURLToPath(new URL('.', import.meta.url));
/** The built engine the child imports (npx tsc -b makes it). */
export const builtBfd = join(here, '../../packages/bfd/dist/index.js');

/**
 * Why our engine cannot run its sessions here (the TTL-reporting socket addon is not built), or
 * undefined; for requireOrSkip. A missing build of the package itself is an error, not a reason to skip.
 */
export async function bfdEngineUnavailable(): Promise<string | undefined> {
  if (!existsSync(builtBfd)) throw new Error(`${builtBfd} is missing: build the packages first (npx tsc -b)`);
  const { bfdTransportStatus } = await import('@bgp-announce/bfd');
  const status = bfdTransportStatus();
  return status.ttlCheck === 'available'
    ? undefined
    : `our BFD engine cannot check received TTLs here: ${status.reason ?? 'unknown reason'}`;
}

/** Like poll() for an async check: every 100 ms until `fn` resolves with a value; rejects after `ms`. */
export async function pollAsync<T>(what: string, fn: () => Promise<T | undefined>, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${last === undefined ? '' : `: ${String(last)}`}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A JSON line the child printed: {event: 'ready' | 'state' | 'error' | 'reply' | 'fatal', ...}. */
export type BfdChildEvent = { event: string } & Record<string, unknown>;

/** A state change of one named session, as the child printed it (`at`: ms since the epoch). */
export interface BfdChildState {
  event: 'state';
  name: string;
  from: string;
  to: string;
  diag: number;
  at: number;
}

// Requests on stdin, one JSON object a line, each answered by {event: 'reply', requestId, value | error}:
// {cmd: 'session', name}, {cmd: 'metrics'}, {cmd: 'update', name, changes}, {cmd: 'adminDown', name},
// {cmd: 'remove', name}, {cmd: 'stop'} (the engine stops, then the process exits).
const childSource = (url: string): string => `
import { createInterface } from 'node:readline';
import { BfdEngine } from ${JSON.stringify(url)};
const print = (x) => process.stdout.write(JSON.stringify(x) + '\\n');
try {
  const o = JSON.parse(process.argv[1]);
  const engine = await BfdEngine.start(o.engine ?? {});
  const ids = {};
  const names = new Map();
  engine.on('state', (id, c) => print({ event: 'state', name: names.get(id), ...c }));
  engine.on('error', (e) => print({ event: 'error', name: names.get(e.sessionId), code: e.code, message: e.message }));
  for (const [name, options] of Object.entries(o.sessions)) {
    ids[name] = engine.addSession(options);
    names.set(ids[name], name);
  }
  print({ event: 'ready', ids, ttlCheck: engine.ttlCheck });
  const rl = createInterface({ input: process.stdin });
  rl.on('line', async (line) => {
    let c = {};
    try {
      c = JSON.parse(line);
      let value = null;
      if (c.cmd === 'session') value = (await engine.session(ids[c.name])) ?? null;
      else if (c.cmd === 'metrics') value = await engine.metrics();
      else if (c.cmd === 'update') engine.updateSession(ids[c.name], c.changes);
      else if (c.cmd === 'adminDown') engine.adminDown(ids[c.name]);
      else if (c.cmd === 'remove') await engine.removeSession(ids[c.name]);
      else if (c.cmd === 'stop') await engine.stop();
      else throw new Error('unknown command ' + c.cmd);
      print({ event: 'reply', requestId: c.requestId, value });
      if (c.cmd === 'stop') process.exit(0);
    } catch (err) {
      print({ event: 'reply', requestId: c.requestId, error: String((err && err.message) || err) });
    }
  });
  rl.on('close', () => engine.stop().finally(() => process.exit(0)));
} catch (err) {
  print({ event: 'fatal', message: String((err && err.message) || err) });
  process.exit(1);
}
`;

/** A running engine child. */
export interface BfdChild {
  /** Everything it printed (stdout and stderr), for failure messages. */
  output: () => string;
  /** Its JSON lines so far. */
  events: () => BfdChildEvent[];
  /** The state changes of session `name` (all sessions when undefined), oldest first. */
  states: (name?: string) => BfdChildState[];
  /** Resolves with the first state change of `name` to `to` after the first `after` state changes of it. */
  waitState: (name: string, to: string, after?: number, ms?: number) => Promise<BfdChildState>;
  /** engine.session(id) of the named session. */
  session: (name: string) => Promise<BfdSessionStatus>;
  /** engine.metrics(). */
  metrics: () => Promise<BfdEngineMetrics>;
  /** engine.updateSession(id, changes). */
  update: (name: string, changes: Partial<Omit<BfdProfileInput, 'name'>>) => Promise<void>;
  /** engine.stop() (AdminDown on every session), then the child exits. */
  stop: () => Promise<void>;
  /** Resolves once the process has exited. */
  exited: Promise<number | null>;
}

/**
 * Starts a BfdEngine with `engine` options in namespace `ns` and adds the named `sessions`; resolves
 * once it reports ready. Throws when the package is not built or the engine does not start.
 */
export async function startBfdChild(
  t: Test,
  ns: string,
  o: { engine?: BfdEngineOptions; sessions: Record<string, BfdSessionOptions> },
): Promise<BfdChild> {
  if (!existsSync(builtBfd)) throw new Error(`${builtBfd} is missing: build the packages first (npx tsc -b)`);
  const { proc, output } = startProcess(t, 'ip', [
    'netns',
    'exec',
    ns,
    process.execPath,
    '--input-type=module',
    '-e',
    childSource(pathToFileURL(builtBfd).href),
    JSON.stringify(o),
  ]);
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  // Complete lines only (the last one may still be being written); stderr lines are not JSON.
  const events = (): BfdChildEvent[] =>
    output()
      .split('\n')
      .slice(0, -1)
      .flatMap((l) => {
        try {
          return l.startsWith('{') ? [JSON.parse(l) as BfdChildEvent] : [];
        } catch {
          return [];
        }
      });
  const withOutput = (err: Error): never => {
    throw new Error(`${err.message}\nBFD child output (${ns}):\n${output()}`);
  };
  let nextRequest = 1;
  const request = async (cmd: Record<string, unknown>): Promise<unknown> => {
    const requestId = nextRequest++;
    proc.stdin?.write(`${JSON.stringify({ ...cmd, requestId })}\n`);
    const reply = await poll(
      `the BFD child to answer ${String(cmd.cmd)}`,
      () => events().find((e) => e.event === 'reply' && e.requestId === requestId),
      10_000,
    ).catch(withOutput);
    if (typeof reply.error === 'string') throw new Error(`BFD child ${String(cmd.cmd)}: ${reply.error}`);
    return reply.value;
  };
  const states = (name?: string): BfdChildState[] =>
    events().filter(
      (e): e is BfdChildEvent & BfdChildState => e.event === 'state' && (name === undefined || e.name === name),
    );
  await poll(
    'the BFD child to start its engine',
    () => events().find((e) => e.event === 'ready' || e.event === 'fatal'),
    10_000,
  )
    .then((e) => {
      if (e.event === 'fatal') throw new Error(`the BFD child failed: ${String(e.message)}`);
    })
    .catch(withOutput);
  return {
    output,
    events,
    states,
    waitState: (name, to, after = 0, ms = 15_000) =>
      poll(
        `BFD session ${name} to go ${to}`,
        () =>
          states(name)
            .slice(after)
            .find((s) => s.to === to),
        ms,
      ).catch(withOutput),
    session: async (name) => (await request({ cmd: 'session', name })) as BfdSessionStatus,
    metrics: async () => (await request({ cmd: 'metrics' })) as BfdEngineMetrics,
    update: async (name, changes) => {
      await request({ cmd: 'update', name, changes });
    },
    stop: async () => {
      await request({ cmd: 'stop' });
      await exited;
    },
    exited,
  };
}
