// Network namespaces and child processes for the BGP benchmarks (bench/bgp.js), in plain JS after the
// pattern of test/interop/netns.ts. Everything created here is registered first and removed on exit,
// also on an error, an uncaught exception or Ctrl-C: processes are killed, namespaces deleted.
// Names carry this process's pid (bgpbench-<pid>-<role>), so a run that was killed outright (SIGKILL)
// leaves namespaces that the next run recognises and removes (sweepStale).
// Links use documentation addresses only (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24).
import { execFileSync, spawn } from 'node:child_process';

const NAME_PREFIX = 'bgpbench-';
const namespaces = new Set();
const processes = new Set();
const cleanups = new Set();
let installed = false;
let linkCount = 0;

/** Runs `ip` with the arguments; throws with ip's stderr on failure. */
export function ip(...args) {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why the BGP benchmarks cannot run here (not Linux, not root, a command missing), or undefined. */
export function netnsUnavailable(commands) {
  if (process.platform !== 'linux') return 'needs Linux network namespaces';
  if (process.getuid?.() !== 0) return 'needs root (ip netns)';
  for (const c of ['ip', ...commands]) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      return `needs \`${c}\` on PATH`;
    }
  }
  return undefined;
}

/** The process with this pid exists. */
export function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}

function deleteNamespace(ns) {
  try {
    for (const pid of ip('netns', 'pids', ns).split('\n').filter(Boolean)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone already
      }
    }
  } catch {
    // the namespace is gone already
  }
  try {
    ip('netns', 'del', ns);
  } catch {
    // not created, or gone already
  }
}

/** Removes namespaces (and kills their processes) left by earlier runs whose process is dead. */
export function sweepStale() {
  let list = '';
  try {
    list = ip('netns', 'list');
  } catch {
    return;
  }
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    const m = /^bgpbench-([0-9a-z]+)-/.exec(name ?? '');
    if (m && !alive(parseInt(m[1], 36))) deleteNamespace(name);
  }
}

/** Kills every registered process (SIGKILL) and deletes every namespace, synchronously. */
function cleanupNow() {
  for (const proc of processes) {
    if (proc.exitCode === null && proc.signalCode === null) {
      try {
        proc.kill('SIGKILL');
      } catch {
        // gone already
      }
    }
  }
  processes.clear();
  for (const ns of namespaces) deleteNamespace(ns);
  namespaces.clear();
  for (const fn of cleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  cleanups.clear();
}

/** Registers a synchronous clean-up (e.g. removing a scratch directory) run on exit, or by teardown. */
export function onCleanup(fn) {
  installHandlers();
  cleanups.add(fn);
}

function installHandlers() {
  if (installed) return;
  installed = true;
  process.on('exit', cleanupNow);
  for (const [signal, n] of [
    ['SIGINT', 2],
    ['SIGTERM', 15],
    ['SIGHUP', 1],
  ]) {
    process.on(signal, () => {
      cleanupNow();
      process.exit(128 + n);
    });
  }
}

/** Creates namespace bgpbench-<pid>-<role> with loopback up, removed on exit. Returns its name. */
export function namespace(role) {
  installHandlers();
  const ns = `${NAME_PREFIX}${process.pid.toString(36)}-${role}`;
  namespaces.add(ns);
  ip('netns', 'add', ns);
  ip('-n', ns, 'link', 'set', 'lo', 'up');
  return ns;
}

/**
 * Joins two namespaces with a veth pair and gives each end its addresses (CIDR text, the first is
 * the main one). Returns the device names.
 */
export function link(nsA, addressesA, nsB, addressesB) {
  const id = `${process.pid.toString(36)}x${linkCount++}`;
  const devA = `ba${id}`.slice(0, 15);
  const devB = `bb${id}`.slice(0, 15);
  ip('link', 'add', devA, 'netns', nsA, 'type', 'veth', 'peer', 'name', devB, 'netns', nsB);
  for (const [ns, dev, addresses] of [
    [nsA, devA, addressesA],
    [nsB, devB, addressesB],
  ]) {
    for (const a of addresses) ip('-n', ns, 'addr', 'add', a, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  return { devA, devB };
}

/**
 * Starts `command args` inside namespace `ns` (`ip netns exec` execs it, so the pid is the
 * command's own). Output is collected; the process is killed on exit if still running.
 */
export function startIn(ns, command, args, { env, stdin = 'ignore' } = {}) {
  installHandlers();
  const proc = spawn('ip', ['netns', 'exec', ns, command, ...args], {
    stdio: [stdin, 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  processes.add(proc);
  let output = '';
  proc.stdout.on('data', (c) => (output += c));
  proc.stderr.on('data', (c) => (output += c));
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  return {
    proc,
    output: () => output,
    exited,
    /** SIGTERM, then SIGKILL after 3 s; resolves once the process has exited. */
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        proc.kill('SIGTERM');
        const timer = setTimeout(() => proc.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
      processes.delete(proc);
    },
  };
}

/** Stops the processes given and deletes every namespace created so far. */
export async function teardown(started) {
  await Promise.all(started.map((p) => p.stop()));
  cleanupNow();
}

/** Polls fn (returning a value or undefined, maybe async) every `everyMs` until it returns a value; rejects after ms. */
export async function poll(what, fn, { ms = 60_000, everyMs = 100 } = {}) {
  const deadline = Date.now() + ms;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${lastError ? `: ${lastError.message ?? lastError}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
