// Load and its witnesses for the BFD soak (bench/bfd-experiments.js): the busy loops that keep both
// cores busy, a timer in the bench process that notices when the machine did not run it (a stall
// that has nothing to do with BFD), the machine's CPU time from /proc/stat (what everything else on
// the machine used, and the time the hypervisor took: steal), and the grouping of Down transitions
// into episodes (sessions that went Down together, in one stall).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { onCleanup } from './bgp-netns.js';
import { wallClockMs } from './bfd-engine.js';
import { processCpuMs } from './bfd-frr.js';

const TICK_MS = 10; // USER_HZ 100: /proc/stat counts in 10 ms ticks

/**
 * Starts `count` busy loops (`node -e`, a `for(;;)`, nice 0) in this namespace; killed on exit. With
 * `ownSession` they run in a session of their own (setsid), as another workload on the machine would:
 * with the kernel's autogroup scheduling on, CPU is first shared between sessions, then between the
 * processes of a session, so loops in the bench's own session compete with the BFD daemons inside it.
 */
export function busyLoops(count, { ownSession = true, limitMs = 3_600_000 } = {}) {
  // for(;;){} that ends by itself once its parent (this process) is gone or after limitMs: a loop in
  // a session of its own would otherwise outlive a bench killed outright.
  const code = `const p = process.ppid, end = Date.now() + ${limitMs}; for (let i = 1; ; i++) if ((i & 0xffffff) === 0 && (process.ppid !== p || Date.now() > end)) break;`;
  const procs = Array.from({ length: count }, () =>
    spawn(process.execPath, ['-e', code], { stdio: 'ignore', detached: ownSession }),
  );
  onCleanup(() => procs.forEach((p) => p.kill('SIGKILL')));
  const last = procs.map(() => 0);
  const alive = (p) => p.exitCode === null && p.signalCode === null;
  const cpuOr = (pid, fallback) => {
    try {
      return processCpuMs(pid);
    } catch {
      return fallback; // it ended just now
    }
  };
  return {
    /** CPU time the loops have used, in ms (a loop that has ended counts with its last reading). */
    cpuMs: () => procs.reduce((sum, p, i) => sum + (last[i] = alive(p) ? cpuOr(p.pid, last[i]) : last[i]), 0),
    stop: () => procs.forEach((p) => p.kill('SIGKILL')),
  };
}

/**
 * A timer in this process every `everyMs`: gaps of `stallMs` or more beyond it are stalls (the machine
 * did not run this nearly idle process in time). `stalls` lists { at, ms } with `at` when it began.
 */
export function stallMonitor({ everyMs = 5, stallMs = 50 } = {}) {
  const stalls = [];
  let last = wallClockMs();
  let max = 0;
  const timer = setInterval(() => {
    const now = wallClockMs();
    const gap = now - last - everyMs;
    if (gap > max) max = gap;
    if (gap >= stallMs) stalls.push({ at: last, ms: gap });
    last = now;
  }, everyMs);
  return { stalls, stallMs, max: () => max, stop: () => clearInterval(timer) };
}

/** The machine's CPU time so far from /proc/stat, in ms summed over all cores: { busy, steal }. */
export function machineCpuMs() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return { busy: (user + nice + system + irq + softirq) * TICK_MS, steal: steal * TICK_MS };
}

/**
 * Groups Down times (ms, any side) into episodes: Downs less than `gapMs` apart belong together.
 * Returns [{ from, to, count }], oldest first.
 */
export function episodes(times, gapMs = 1000) {
  const sorted = [...times].sort((a, b) => a - b);
  const out = [];
  for (const at of sorted) {
    const last = out.at(-1);
    if (last && at - last.to < gapMs) {
      last.to = at;
      last.count++;
    } else out.push({ from: at, to: at, count: 1 });
  }
  return out;
}

/** How many episodes began within `beforeMs` after the start of a stall (or during one). */
export function episodesAfterStalls(list, stalls, beforeMs = 500) {
  return list.filter((e) => stalls.some((s) => s.at <= e.from && e.from - s.at <= s.ms + beforeMs)).length;
}

/** Whether the kernel's autogroup scheduling is on (/proc/sys/kernel/sched_autogroup_enabled). */
export function autogroupEnabled() {
  const file = '/proc/sys/kernel/sched_autogroup_enabled';
  return existsSync(file) && readFileSync(file, 'utf8').trim() === '1';
}
