// Footprint benchmarks: what using the Speaker library costs before it does anything, and what the
// BFD engine costs while it has nothing to do.
// - the time `import('@bgp-announce/bgp-speaker')` takes in a fresh Node process, and the process's
//   RSS after it (median of FOOTPRINT_BENCH_RUNS fresh processes, default 9); the notes give a bare
//   Node's figures and those of importing the whole announcer (Kubernetes client included) next to them;
// - the CPU of a process whose BfdEngine has no session (over FOOTPRINT_BENCH_IDLE_SECONDS, default 20,
//   after FOOTPRINT_BENCH_SETTLE_SECONDS, default 30: the first seconds after start-up hold some garbage
//   collection work, ~50 ms of CPU), per thread from /proc/<pid>/task/*/schedstat.
// The child script is bench/footprint-child.js. The daemon's own idle figures are the K8S idle rows
// (bench/k8s.js).
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './run.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'footprint-child.js');
const RESULT_MARK = '@@footprint '; // as in footprint-child.js (importing it would run it)
const RUNS = Number(process.env.FOOTPRINT_BENCH_RUNS ?? 9);
const IDLE_MS = Number(process.env.FOOTPRINT_BENCH_IDLE_SECONDS ?? 20) * 1000;
const SETTLE_MS = Number(process.env.FOOTPRINT_BENCH_SETTLE_SECONDS ?? 30) * 1000;
/** Extra Node options for the children, e.g. "--max-semi-space-size=1". */
const NODE_ARGS = (process.env.FOOTPRINT_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean);
const SPEAKER = '@bgp-announce/bgp-speaker';

const fixed = (n, d = 1) => (n === undefined || Number.isNaN(n) ? '?' : n.toFixed(d));
const mb = (bytes) => bytes / 1e6;

/** Runs the child script with `args` and resolves with its result line (the child's `{ pid }` line for long-running modes, with the process). */
function child(args, { keep = false } = {}) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [...NODE_ARGS, CHILD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let settled = false;
    const done = (fn) => {
      if (!settled) {
        settled = true;
        fn();
      }
    };
    proc.stdout.on('data', (c) => {
      out += c;
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (!line || !keep) return;
      const r = JSON.parse(line.slice(RESULT_MARK.length));
      done(() => (r.error ? reject(new Error(r.error)) : resolve({ ...r, proc })));
    });
    proc.stderr.on('data', (c) => (out += c));
    proc.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      const r = line ? JSON.parse(line.slice(RESULT_MARK.length)) : undefined;
      done(() =>
        r && !r.error
          ? resolve(r)
          : reject(
              new Error(
                r?.error ?? `footprint-child ${args.join(' ')} exited with code ${code}: ${out.trim().slice(-1000)}`,
              ),
            ),
      );
    });
  });
}

/** RUNS fresh processes importing `specifier`, alternating with bare ones: medians of each figure. */
async function imports(specifier) {
  const runs = { ours: [], bare: [] };
  for (let i = 0; i < RUNS; i++) {
    runs.ours.push(await child(['import', specifier]));
    runs.bare.push(await child(['import', 'none']));
  }
  const med = (list, key) => median(list.map((r) => r[key]));
  const figures = (list) => ({
    importMs: med(list, 'importMs'),
    readyMs: med(list, 'readyMs'),
    rss: med(list, 'rss'),
    heapUsed: med(list, 'heapUsed'),
    spread: [Math.min(...list.map((r) => r.importMs)), Math.max(...list.map((r) => r.importMs))],
  });
  return { ours: figures(runs.ours), bare: figures(runs.bare) };
}

/** The experiment behind both import rows, run once per bench run and kept for the second row. */
let speakerRun;
const speakerImports = () => (speakerRun ??= imports(SPEAKER));

function importNote(r, other) {
  const o = r.ours;
  return (
    `median of ${RUNS} fresh processes (import ${fixed(o.spread[0])}-${fixed(o.spread[1])} ms)${NODE_ARGS.length ? ` with ${NODE_ARGS.join(' ')}` : ''}: import() ${fixed(o.importMs)} ms, ` +
    `process start to imported ${fixed(o.readyMs)} ms, RSS ${fixed(mb(o.rss))} MB (V8 heap used ${fixed(mb(o.heapUsed))} MB); ` +
    `a bare Node: start to ready ${fixed(r.bare.readyMs)} ms, RSS ${fixed(mb(r.bare.rss))} MB (heap used ${fixed(mb(r.bare.heapUsed))} MB)` +
    (other
      ? `; for comparison, @bgp-announce/announcer (the daemon's library, Kubernetes client, pino, prom-client): import() ${fixed(other.ours.importMs)} ms, RSS ${fixed(mb(other.ours.rss))} MB`
      : '') +
    `; load average ${loadavg()
      .map((l) => l.toFixed(1))
      .join(' ')}`
  );
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU ms of a process: all threads from /proc/<pid>/stat (clock ticks) and per thread from schedstat (ns). */
function cpu(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const threads = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      threads[name] =
        (threads[name] ?? 0) + Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]) / 1e6;
    } catch {
      // the thread ended meanwhile
    }
  }
  return { ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND, threads };
}

/** CPU (% of one core) of a process running a BfdEngine with no session, over IDLE_MS after SETTLE_MS. */
async function bfdIdle() {
  const { pid, proc } = await child(['bfd-idle'], { keep: true });
  try {
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    const start = cpu(pid);
    const t0 = performance.now();
    await new Promise((resolve) => setTimeout(resolve, IDLE_MS));
    const end = cpu(pid);
    const ms = performance.now() - t0;
    const threads = Object.entries(end.threads)
      .map(([name, t]) => [name, t - (start.threads[name] ?? 0)])
      .filter(([, t]) => t > 0.05)
      .sort((a, b) => b[1] - a[1]);
    const sched = threads.reduce((n, [, t]) => n + t, 0);
    return {
      percent: (sched / ms) * 100,
      note:
        `a Node process with a BfdEngine started and no session, ${fixed(ms / 1000, 0)} s window after ${fixed(SETTLE_MS / 1000, 0)} s: ${fixed(sched, 0)} ms of CPU by the scheduler's count ` +
        `(${threads.map(([n, t]) => `${n} ${fixed(t, 0)}`).join(', ')} ms), ${fixed(end.ms - start.ms, 0)} ms in clock ticks; load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')}`,
    };
  } finally {
    proc.kill('SIGKILL');
  }
}

export const rows = [
  {
    name: `footprint: import('${SPEAKER}') in a fresh Node process`,
    unit: 'ms',
    goal: 150,
    lowerIsBetter: true,
    async run() {
      const r = await speakerImports();
      const announcer =
        process.env.FOOTPRINT_BENCH_ANNOUNCER === 'skip' ? undefined : await imports('@bgp-announce/announcer');
      return { ours: r.ours.importMs, note: importNote(r, announcer) };
    },
  },
  {
    name: `footprint: RSS after import('${SPEAKER}')`,
    unit: 'MB',
    goal: 60,
    lowerIsBetter: true,
    async run() {
      const r = await speakerImports();
      return {
        ours: mb(r.ours.rss),
        note: `bare Node ${fixed(mb(r.bare.rss))} MB; the Speaker adds ${fixed(mb(r.ours.rss - r.bare.rss))} MB`,
      };
    },
  },
  {
    name: 'footprint: idle CPU, BfdEngine with no session',
    unit: '% of a core',
    lowerIsBetter: true,
    async run() {
      const r = await bfdIdle();
      return { ours: r.percent, note: r.note };
    },
  },
];
