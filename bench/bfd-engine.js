// Our side of the BFD benchmarks (bench/bfd.js): the built BfdEngine (packages/bfd/dist) in its own
// process inside a network namespace. Node cannot enter a namespace itself, so bench/bfd-experiments.js
// starts this file with `ip netns exec <ns> node bench/bfd-engine.js '<settings as JSON>'`, where
// settings are { sessions: [BfdSessionOptions, ...], engine?: BfdEngineOptions }.
//
// The child prints one JSON object per line: {event: 'ready'}, {event: 'state', i, from, to, diag,
// remoteDiag, at} for every state change of session i (at: the engine's timestamp, ms since the epoch),
// {event: 'error', i, code, message}, {event: 'fatal', message}, with settings.mainThreadStallMs
// {event: 'mainThreadStall', at, ms} when a 5 ms timer on the main thread ran that late, and {event: 'reply', id, value} to a
// request read on stdin, one JSON object per line: {id, cmd: 'metrics'} (engine.metrics()),
// {id, cmd: 'cpu'} (process.cpuUsage() of this whole process, the worker included, and the time),
// {id, cmd: 'exit'} (engine.stop(), which sends AdminDown, then exit).
//
// Imported instead, it exports startEngine(), which runs it and follows what it prints.
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startIn } from './bgp-netns.js';

const SCRIPT = fileURLToPath(import.meta.url);
const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
/** The nice value both BFD daemons run at (BFD_BENCH_NICE, default 0, as the busy loops of the soak). */
export const NICE = Number(process.env.BFD_BENCH_NICE ?? 0);

/** [command, args] to run `command args` at NICE (`nice` execs it, so the pid stays the command's). */
export function niced(command, args) {
  return NICE === 0 ? [command, args] : ['nice', ['-n', String(NICE), command, ...args]];
}

/** Wall-clock time in ms with sub-ms precision, on the same clock as the engine's `at`. */
export const wallClockMs = () => performance.timeOrigin + performance.now();

async function child(settings) {
  const { BfdEngine } = await import('@bgp-announce/bfd');
  const engine = await BfdEngine.start(settings.engine ?? {});
  const index = new Map();
  engine.on('state', (id, c) =>
    print({
      event: 'state',
      i: index.get(id),
      from: c.from,
      to: c.to,
      diag: c.diag,
      remoteDiag: c.remoteDiag,
      at: c.at,
    }),
  );
  engine.on('error', (e) => print({ event: 'error', i: index.get(e.sessionId), code: e.code, message: e.message }));
  settings.sessions.forEach((options, i) => index.set(engine.addSession(options), i));
  if (settings.mainThreadStallMs) {
    // A 5 ms timer on this process's main thread (the engine runs in its worker): a gap tells a stall
    // of the whole process (or the machine) apart from one of the worker alone.
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      if (now - last - 5 >= settings.mainThreadStallMs)
        print({ event: 'mainThreadStall', at: performance.timeOrigin + last, ms: now - last - 5 });
      last = now;
    }, 5);
  }
  print({ event: 'ready', ttlCheck: engine.ttlCheck, sessions: settings.sessions.length });
  const commands = createInterface({ input: process.stdin });
  commands.on('close', () => void engine.stop().finally(() => process.exit(0))); // the bench went away
  commands.on('line', async (line) => {
    const { id, cmd } = JSON.parse(line);
    if (cmd === 'metrics') print({ event: 'reply', id, value: await engine.metrics() });
    else if (cmd === 'cpu') print({ event: 'reply', id, value: { ...process.cpuUsage(), at: wallClockMs() } });
    else if (cmd === 'exit') {
      await engine.stop();
      print({ event: 'reply', id, value: null });
      process.exit(0);
    } else print({ event: 'reply', id, error: `unknown command ${cmd}` });
  });
}

/**
 * Starts our engine with `settings` in namespace `ns` and resolves once its sessions are added.
 * The result follows the child's output: `state[i]` is session i's last state, `changes` every state
 * change in order; `request(cmd)` asks the child ('metrics', 'cpu'); `exit()` stops the engine.
 */
export async function startEngine(ns, settings) {
  const nodeArgs = (process.env.BFD_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof, --trace-gc
  const proc = startIn(ns, ...niced(process.execPath, [...nodeArgs, SCRIPT, JSON.stringify(settings)]), {
    stdin: 'pipe',
  });
  const state = settings.sessions.map(() => 'Down');
  const changes = [];
  const errors = [];
  const mainThreadStalls = [];
  const replies = new Map();
  let ready = false;
  let fatal;
  let rest = '';
  proc.proc.stdout.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (!line.startsWith('{')) continue;
      const e = JSON.parse(line);
      if (e.event === 'state') {
        state[e.i] = e.to;
        changes.push(e);
      } else if (e.event === 'reply') replies.get(e.id)?.(e);
      else if (e.event === 'ready') ready = true;
      else if (e.event === 'error') errors.push(e);
      else if (e.event === 'mainThreadStall') mainThreadStalls.push(e);
      else if (e.event === 'fatal') fatal = e.message;
    }
  });
  const failure = () =>
    fatal
      ? `our engine failed: ${fatal}`
      : proc.proc.exitCode !== null
        ? `our engine exited: ${proc.output().trim().slice(-1500)}`
        : undefined;
  const deadline = Date.now() + 15_000;
  while (!ready) {
    const why =
      failure() ??
      (Date.now() > deadline ? `our engine did not start in 15 s: ${proc.output().trim().slice(-1500)}` : undefined);
    if (why) throw new Error(why);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  let nextId = 1;
  const request = (cmd, ms = 10_000) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(
        () => reject(new Error(`our engine did not answer ${cmd} in ${ms} ms: ${failure() ?? ''}`)),
        ms,
      );
      replies.set(id, (e) => {
        clearTimeout(timer);
        replies.delete(id);
        if (e.error) reject(new Error(e.error));
        else resolve(e.value);
      });
      proc.proc.stdin.write(`${JSON.stringify({ id, cmd })}\n`);
    });
  return {
    pid: proc.proc.pid,
    state,
    changes,
    errors,
    mainThreadStalls,
    failure,
    request,
    upCount: () => state.filter((s) => s === 'Up').length,
    async exit() {
      await request('exit').catch(() => {});
      await proc.stop();
    },
    stop: () => proc.stop(),
    output: proc.output,
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  child(JSON.parse(process.argv[2] ?? '{}')).catch((err) => {
    print({ event: 'fatal', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
