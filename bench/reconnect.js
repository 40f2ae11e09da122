// How fast a session comes back (issue 17): the interop test test/interop/frr-reconnect.test.ts run
// as it is (FRR 8.4 and our built Speaker in namespaces: 20 link flaps in a row, each after the
// previous recovery, then 5 FRR restarts), its figures read from the file it writes when
// RECONNECT_RESULTS names one. One run feeds both rows (cached through prepare()).
// Needs root, ip and FRR (Debian: frr); about 1.5 minutes.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './k8s-rig.js';
import { median } from './run.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const TEST = 'test/interop/frr-reconnect.test.ts';

function unavailable() {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces)';
  if (!existsSync('/usr/lib/frr/bgpd')) return 'needs FRR (Debian: apt-get install frr)';
  if (!existsSync(join(ROOT, 'packages/bgp-speaker/dist/speaker.js'))) return 'build first (npx tsc -b)';
  return undefined;
}

/** Runs the interop test once; its figures, or an error with the test's output. */
function runOnce() {
  const dir = mkdtempSync(join(tmpdir(), 'reconnect-bench-'));
  try {
    const file = join(dir, 'results.json');
    const r = spawnSync('npx', ['tap', '--disable-coverage', '--reporter=tap', TEST], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, RECONNECT_RESULTS: file, CI: 'true' },
      timeout: 600_000,
    });
    if (!existsSync(file))
      throw new Error(`${TEST} wrote no figures (exit ${r.status}): ${(r.stdout + r.stderr).slice(-2000)}`);
    return JSON.parse(readFileSync(file, 'utf8'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function figures() {
  const why = unavailable();
  if (why) throw new Error(`the reconnect rows ${why}`);
  const cache = process.env.RECONNECT_BENCH_CACHE;
  if (cache && existsSync(cache)) return JSON.parse(readFileSync(cache, 'utf8'));
  const result = runOnce();
  if (cache) writeFileSync(cache, JSON.stringify(result));
  return result;
}

export async function prepare() {
  const why = unavailable();
  if (why) return { env: {}, notes: [`skipped: the reconnect rows ${why}`] };
  return { env: { RECONNECT_BENCH_CACHE: join(tmpdir(), `reconnect-bench-${process.pid}.json`) } };
}

export const rows = [
  {
    name: 'session back after a link flap, p99 of 20 in a row (FRR, link-up -> Established)',
    unit: 'ms',
    goal: 2000,
    lowerIsBetter: true,
    async run() {
      const r = await figures();
      return {
        ours: percentile(r.flaps, 99),
        note: `${r.flaps.length} flaps of our node's switch port, each once both sides had dropped the session (3 s hold time), link-up -> our Established: p50 ${median(r.flaps)}, p99 ${percentile(r.flaps, 99)}, max ${Math.max(...r.flaps)} ms (${r.flaps.join(', ')})`,
      };
    },
  },
  {
    name: "session back after an FRR restart, slowest of 5 (bgpd's start -> Established, its start-up included)",
    unit: 'ms',
    goal: 2000,
    lowerIsBetter: true,
    async run() {
      const r = await figures();
      return {
        ours: Math.max(...r.fromStart),
        note: `bgpd stopped with SIGTERM (it sends a Cease: a transport failure, so no back-off) and started again: its start -> our Established ${r.fromStart.join(', ')} ms; bgpd answering vtysh -> our Established ${r.restarts.join(', ')} ms (negative: bgpd took our connection before vtysh answered)`,
      };
    },
  },
];
