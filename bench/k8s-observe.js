// What the daemon did during the Kubernetes benchmarks (bench/k8s-experiments.js): its CPU and the API
// server's load over a phase, its requests to the API server, its log lines and warnings, and what its
// own metrics endpoint says (reconciles, heap, garbage collections). Also the waits built on them.
import { cpuMs, FatalError, idleWindow, NODE_NAME, leaseHolder, now, percentile, until } from './k8s-rig.js';
import { neighborState } from './k8s-routers.js';
import { IDLE_MS } from './k8s-settings.js';

const SETTLE_QUIET_MS = 2000;
const SETTLE_MAX_MS = 60_000;
const METRICS_URL = 'http://127.0.0.1:7475/metrics'; // the daemon's default metrics address, in the host namespace
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/** Throws (ending any wait) when the daemon has exited. */
export function alive(daemon) {
  if (!daemon.alive())
    throw new FatalError(
      `the daemon exited (${daemon.proc.exitCode ?? daemon.proc.signalCode}): ${daemon.stderr().slice(-2000)}`,
    );
}

/** The daemon is up: it holds the Lease and every router has its session Established. */
export async function daemonReady(server, daemon, routers) {
  const check = () => alive(daemon);
  await until('the daemon to hold the allocator Lease', () => (check(), leaseHolder(server) === NODE_NAME), {
    ms: 60_000,
  });
  for (const r of routers)
    await until(`the session with router ${r.address}`, () => (check(), neighborState(r) === 'established'), {
      ms: 60_000,
      everyMs: 100,
    });
}

/**
 * Waits until the daemon is quiet: no request to the API server for SETTLE_QUIET_MS and under 5 % of a
 * core over the last second (it may be busy without asking the API server anything). Returns how
 * long that took, not counting the quiet period itself.
 */
export async function settle(server, daemon) {
  const started = now();
  let count = server.requests().length;
  let quietSince = now();
  let cpu = cpuMs(daemon.pid);
  while (now() - quietSince < SETTLE_QUIET_MS && now() - started < SETTLE_MAX_MS) {
    await sleep(1000);
    const c = server.requests().length;
    const used = cpuMs(daemon.pid) - cpu;
    cpu += used;
    if (c !== count || used > 50) {
      count = c;
      quietSince = now();
    }
  }
  return now() - started - SETTLE_QUIET_MS;
}

/**
 * Who was busy during a phase: the daemon's CPU (% of one core, all threads) and this process's event
 * loop utilisation (this process is the API server: 100 % means requests waited for it).
 */
export function phaseLoad(daemon) {
  const start = now();
  const cpu = cpuMs(daemon.pid);
  const elu = performance.eventLoopUtilization();
  return {
    end() {
      const ms = now() - start;
      return {
        ms,
        daemonCpuPercent: ((cpuMs(daemon.pid) - cpu) / ms) * 100,
        apiServerLoopPercent: performance.eventLoopUtilization(elu).utilization * 100,
      };
    },
  };
}

/** What the daemon asked of the API server ("update services/status": n, ...), from the request log; reads too with `all`. */
export function writesIn(requests, all = false) {
  const out = {};
  for (const r of requests) {
    if (r.verb === undefined || (!all && ['get', 'list', 'watch'].includes(r.verb))) continue;
    const key = `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

/** The daemon's log lines counted by level and message, most frequent first (the first `top`). */
export function logCounts(daemon, top = 8) {
  const counts = new Map();
  for (const l of daemon.logs) {
    const key = `${l.level}: ${String(l.msg)
      .replace(/[0-9a-f:.]{6,}|\d+/g, 'N')
      .slice(0, 80)}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return Object.fromEntries([...counts].sort((a, b) => b[1] - a[1]).slice(0, top));
}

/** The daemon's warnings and errors (the first `max`), with their time, message and error text. */
export function warnings(daemon, max = 10) {
  return daemon.logs
    .filter((l) => l.level === 'warn' || l.level === 'error' || l.level === 'fatal')
    .slice(0, max)
    .map(
      (l) =>
        `${l.time} ${l.level} ${l.msg}${l.err ? ` (${l.err.message ?? JSON.stringify(l.err)})` : ''}${l.reason ? ` (${typeof l.reason === 'string' ? l.reason : JSON.stringify(l.reason)})` : ''}`,
    );
}

/** What went wrong, for an error message: each router's route count and the daemon's last warnings. */
function diagnosis(daemon, routers) {
  const counts = routers
    .map((r) => `${r.address}: ${r.monitor ? `${r.monitor.present.size} routes` : 'see above'}`)
    .join(', ');
  const warnings = daemon.logs
    .filter((l) => l.level !== 'info' && l.level !== 'debug')
    .slice(-5)
    .map((l) => `${l.level} ${l.msg}${l.err ? ` (${l.err.message ?? JSON.stringify(l.err)})` : ''}`);
  return `routers: ${counts}; daemon ${daemon.alive() ? 'running' : `exited (${daemon.proc.exitCode ?? daemon.proc.signalCode})`}, ${daemon.logs.length} log lines, last warnings: ${warnings.join(' | ') || 'none'}${daemon.stderr() ? `; stderr: ${daemon.stderr().slice(-500)}` : ''}`;
}

/** Awaits `promise`; a failure gets the diagnosis appended. */
export async function diagnosed(promise, daemon, routers) {
  try {
    return await promise;
  } catch (err) {
    throw new Error(`${err.message}; ${diagnosis(daemon, routers)}`);
  }
}

/** The daemon's garbage collections so far by kind ({ major: { count, ms } ...}), from its metrics. */
async function gcMetrics() {
  try {
    const text = await (await fetch(METRICS_URL)).text();
    const out = {};
    for (const m of text.matchAll(/^\w*nodejs_gc_duration_seconds_(sum|count)\{kind="(\w+)"\} ([0-9.e+-]+)$/gm)) {
      out[m[2]] ??= { count: 0, ms: 0 };
      if (m[1] === 'count') out[m[2]].count = Number(m[3]);
      else out[m[2]].ms = Number(m[3]) * 1000;
    }
    return out;
  } catch {
    return {};
  }
}

/**
 * Waits until the daemon has run no garbage collection for `quietMs` (at most `maxMs`): after start-up
 * V8's memory reducer runs a few full collections once allocation stops, which shrink the heap (RSS
 * then drops by ~40 MB) and cost ~0.2 s of CPU. A window that begins before they are done measures a
 * random share of them; one that begins after measures the daemon's steady idle state. A daemon that
 * keeps collecting is measured after maxMs all the same. Returns how long it waited.
 */
export async function settleGc({ quietMs = 10_000, maxMs = 30_000 } = {}) {
  const started = now();
  const total = (gc) => Object.values(gc).reduce((n, g) => n + g.count, 0);
  let count = total(await gcMetrics());
  let quietSince = now();
  while (now() - quietSince < quietMs && now() - started < maxMs) {
    await sleep(1000);
    const c = total(await gcMetrics());
    if (c !== count) {
      count = c;
      quietSince = now();
    }
  }
  return now() - started;
}

/** GC done during an idle window: the difference of two gcMetrics() readings. */
export async function idleWithGc(pid) {
  const before = await gcMetrics();
  const window = await idleWindow(pid, IDLE_MS);
  const after = await gcMetrics();
  window.gc = Object.fromEntries(
    Object.entries(after)
      .map(([kind, a]) => [kind, { count: a.count - (before[kind]?.count ?? 0), ms: a.ms - (before[kind]?.ms ?? 0) }])
      .filter(([, d]) => d.count > 0),
  );
  window.daemon = await memoryMetrics();
  return window;
}

/** The daemon's own view of its memory (prom-client default metrics): V8 heap used and total, external. */
async function memoryMetrics() {
  try {
    const text = await (await fetch(METRICS_URL)).text();
    const value = (name) => Number(new RegExp(`^\\w*${name} ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
    return {
      heapUsed: value('nodejs_heap_size_used_bytes'),
      heapTotal: value('nodejs_heap_size_total_bytes'),
      external: value('nodejs_external_memory_bytes'),
    };
  } catch (err) {
    return { error: err.message };
  }
}

/** The daemon's reconcile histogram from its metrics endpoint (count, mean ms). */
export async function reconcileMetrics() {
  try {
    const text = await (await fetch(METRICS_URL)).text();
    const value = (name) => Number(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.e+-]+)$`, 'm').exec(text)?.[1] ?? NaN);
    const count = value('bgp_announce_reconcile_duration_seconds_count');
    const sum = value('bgp_announce_reconcile_duration_seconds_sum');
    return { count, meanMs: count > 0 ? (sum / count) * 1000 : undefined };
  } catch (err) {
    return { error: err.message };
  }
}

/** n, p50, p99, max and min of a list of numbers. */
export function summary(values) {
  return {
    n: values.length,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: Math.max(...values),
    min: Math.min(...values),
  };
}

/** Samples the API server's request log so the breakdown can say when the daemon's first requests were served. */
export function followRequests(server) {
  const seen = [];
  let count = 0;
  const timer = setInterval(() => {
    const log = server.requests();
    const at = now();
    for (; count < log.length; count++) seen.push({ ...log[count], at });
  }, 2);
  return { seen, stop: () => clearInterval(timer) };
}
