// BGP benchmarks of the Speaker against BIRD 2, with BIRD itself as the reference in the same run:
// sending and receiving 1,000,000 IPv4 /32s, memory per route, and idle CPU with 100 sessions.
// Every daemon runs in network namespaces the bench creates (bench/bgp-netns.js), joined by veth
// pairs with documentation addresses; they are removed and the daemons killed on exit, also on an
// error or Ctrl-C. Needs root, `ip` and BIRD 2 (`bird`); our side is the built Speaker, run by
// bench/bgp-speaker.js in its own process. The experiments are in bench/bgp-experiments.js.
//
// The 1,000,000 prefixes are 10.0.0.0/8 /32s (the documentation ranges hold only 768 /32s). They are
// NLRI data exchanged between BIRD and us inside those namespaces: no configuration has a BIRD
// `kernel` protocol, so none is installed in any kernel table, and no traffic is sent to them.
//
// One run of an experiment feeds several rows (e.g. the receive experiment gives the time, the peak
// RSS and the memory per route). Rows run in separate processes, so results are kept in a directory
// made by prepare() for this run (BGP_BENCH_CACHE); a row run on its own runs its experiment.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  COUNT,
  IDLE_HOLD_TIME,
  IDLE_PEERS,
  ROUNDS,
  announceExperiment,
  idleExperiment,
  receiveExperiment,
} from './bgp-experiments.js';
import { alive, netnsUnavailable, sweepStale } from './bgp-netns.js';
import { median } from './run.js';

const BUILT_SPEAKER = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'packages',
  'bgp-speaker',
  'dist',
  'speaker.js',
);

const referenceOn = () => process.env.BENCH_REFERENCE !== 'skip';
const mb = (bytes) => bytes / 1e6;
const seconds = (ms) => ms / 1000;
const fixed = (n, d = 2) => n.toFixed(d);
const perRoute = (bytes) => Math.round(bytes / COUNT);
const M = `${(COUNT / 1e6).toLocaleString('en-US')}M`;
/** Median of f over the rounds, or undefined for no rounds. */
const med = (list, f) => (list && list.length > 0 ? median(list.map(f)) : undefined);
/** Ours / BIRD of each round of an experiment (rounds alternate, so round i of each side ran side by side). */
const roundRatios = (r) => r.ours.map((o, i) => o.ms / r.reference[i].ms);
/** "1.23, 1.31, 1.40 s": the per-round times, in order. */
const roundsText = (list) => `${list.map((r) => fixed(seconds(r.ms))).join(', ')} s`;

function unavailable() {
  const why = netnsUnavailable(['bird']);
  if (why) return `the BGP benchmarks ${why.replace(/^needs/, 'need')} (Debian: apt-get install bird2 iproute2)`;
  if (!existsSync(BUILT_SPEAKER)) return `${BUILT_SPEAKER} is missing: build first (npx tsc -b)`;
  return undefined;
}

const EXPERIMENTS = { announce: announceExperiment, receive: receiveExperiment, idle: idleExperiment };

/** The experiment's result: from this run's cache, or run now (and cached for the next rows). */
async function experiment(name) {
  const why = unavailable();
  if (why) throw new Error(why);
  const cache = process.env.BGP_BENCH_CACHE;
  const file = cache ? join(cache, `${name}${referenceOn() ? '' : '-noref'}.json`) : undefined;
  if (file && existsSync(file)) return JSON.parse(readFileSync(file, 'utf8'));
  sweepStale();
  const result = await EXPERIMENTS[name]();
  if (file) writeFileSync(file, JSON.stringify(result));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Runner hooks

const CACHE_PREFIX = 'bgp-bench-cache-';

/** Once per run: removes stale namespaces and caches of earlier runs, and makes this run's cache. */
export async function prepare() {
  const notes = [];
  const why = unavailable();
  if (why) return { env: {}, notes: [`skipped: ${why}`] };
  sweepStale();
  for (const d of readdirSync(tmpdir())) {
    const pid = d.startsWith(CACHE_PREFIX) ? Number(d.slice(CACHE_PREFIX.length)) : NaN;
    if (Number.isInteger(pid) && !alive(pid)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  const cache = join(tmpdir(), `${CACHE_PREFIX}${process.pid}`);
  mkdirSync(cache, { recursive: true });
  notes.push(
    `reference: BIRD ${birdVersion()} in the same run${referenceOn() ? '' : ' (skipped: BENCH_REFERENCE=skip)'}, ${ROUNDS} rounds each, alternating; ` +
      `prefixes are 10.0.0.0/8 /32s, NLRI data inside the bench's namespaces only`,
  );
  return { env: { BGP_BENCH_CACHE: cache }, notes };
}

function birdVersion() {
  const r = spawnSync('bird', ['--version'], { encoding: 'utf8' });
  return /\d+\.\d+\.\d+/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? '2';
}

export const rows = [
  {
    name: `announce ${M} IPv4 /32s to BIRD (Established to all in BIRD)`,
    unit: 's',
    goal: 1.0,
    goalOf: 'ratio',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('announce');
      const ref = r.reference.length > 0 ? r.reference : undefined;
      return {
        ours: seconds(med(r.ours, (o) => o.ms)),
        reference: ref && seconds(med(ref, (o) => o.ms)),
        note:
          `median of ${r.ours.length} rounds, ours ${roundsText(r.ours)}` +
          (ref ? `, BIRD ${roundsText(ref)}` : '') +
          `; ours: ${M} announce() calls before the session ${fixed(seconds(med(r.ours, (o) => o.announceMs)))} s (not timed), ` +
          `diff and packing on Established ${fixed(seconds(med(r.ours, (o) => o.flushMs)))} s, CPU while sending ${fixed(seconds(med(r.ours, (o) => o.cpuMs)))} s` +
          (ref
            ? `; reference: a BIRD sender (static protocol, loaded in ${fixed(seconds(r.senderLoadMs))} s before the sessions) to a BIRD receiver, sender CPU ${fixed(seconds(med(ref, (o) => o.cpuMs)))} s`
            : ''),
      };
    },
  },
  {
    name: `receive ${M} IPv4 /32s from BIRD into the Adj-RIB-In`,
    unit: 's',
    goal: 0.8,
    goalOf: 'ratio',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('receive');
      const ref = r.reference.length > 0 ? r.reference : undefined;
      return {
        ours: seconds(med(r.ours, (o) => o.ms)),
        reference: ref && seconds(med(ref, (o) => o.ms)),
        note:
          `median of ${r.ours.length} rounds, ours ${roundsText(r.ours)}` +
          (ref
            ? `, BIRD ${roundsText(ref)}; ratio per round ${roundRatios(r)
                .map((x) => fixed(x))
                .join(', ')}`
            : '') +
          `; ours: Established event to the last route in the Adj-RIB-In, timed in our process, CPU ${fixed(seconds(med(r.ours, (o) => o.cpuMs)))} s` +
          (ref
            ? `; reference: a BIRD receiver, Established (Since) to the first poll that saw all imported, CPU ${fixed(seconds(med(ref, (o) => o.cpuMs)))} s`
            : ''),
      };
    },
  },
  {
    name: `receive ${M} IPv4 /32s from BIRD: the slowest round against its BIRD round`,
    unit: 'x',
    goal: 0.8,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('receive');
      if (r.reference.length === 0) throw new Error('needs the BIRD reference (BENCH_REFERENCE is skip)');
      const ratios = roundRatios(r);
      return {
        ours: Math.max(...ratios),
        note: `each round ours / BIRD of the same round (alternating): ${ratios.map((x) => fixed(x)).join(', ')}; spread ${fixed(Math.min(...ratios))}-${fixed(Math.max(...ratios))}`,
      };
    },
  },
  {
    name: `peak RSS receiving ${M} routes`,
    unit: 'MB',
    goal: 1.2,
    goalOf: 'ratio',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('receive');
      const ref = r.reference.length > 0 ? r.reference : undefined;
      return {
        ours: mb(Math.max(...r.ours.map((o) => o.end.peakRss))),
        reference: ref && mb(Math.max(...ref.map((o) => o.rssAfter.hwm))),
        note:
          `highest of ${r.ours.length} rounds, ours ${r.ours.map((o) => fixed(mb(o.end.peakRss), 0)).join(', ')} MB` +
          (ref ? `, BIRD ${ref.map((o) => fixed(mb(o.rssAfter.hwm), 1)).join(', ')} MB` : '') +
          `; ours: VmHWM of our whole Node process (RSS before the session ${fixed(mb(r.ours[0].baseline.rss), 0)} MB); reference: VmHWM of the BIRD receiver`,
      };
    },
  },
  {
    name: 'memory per announced route',
    unit: 'bytes',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('announce');
      const o = r.ours;
      const total = (x) => x.end.used - x.baseline.used;
      const ref = r.senderMemory && r.emptyBirdMemory;
      return {
        ours: perRoute(med(o, total)),
        reference: ref ? perRoute(r.senderMemory.Total - r.emptyBirdMemory.Total) : undefined,
        note:
          `ours: V8 heap + external memory (typed arrays) after gc, ${perRoute(med(o, (x) => x.announced.used - x.baseline.used))} B in the Speaker's routes + ` +
          `${perRoute(med(o, (x) => x.end.used - x.announced.used))} B in the Adj-RIB-Out of the one peer; RSS ${perRoute(med(o, (x) => x.end.rss - x.baseline.rss))} B per route` +
          (ref
            ? `; reference: the BIRD sender's effective memory (show memory Total) above an empty BIRD's: routing tables ${perRoute(r.senderMemory['Routing tables'])} B, configuration ${perRoute(r.senderMemory['Current config'])} B`
            : ''),
      };
    },
  },
  {
    name: 'memory per received route',
    unit: 'bytes',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('receive');
      const ref = r.reference.length > 0 ? r.reference : undefined;
      return {
        ours: perRoute(med(r.ours, (x) => x.end.used - x.baseline.used)),
        reference: ref && perRoute(med(ref, (x) => x.memoryAfter.Total - x.memoryBefore.Total)),
        note:
          `ours: V8 heap + external memory (typed arrays) after gc, RSS ${perRoute(med(r.ours, (x) => x.end.rss - x.baseline.rss))} B per route` +
          (ref
            ? `; reference: the BIRD receiver's effective memory growth (show memory Total), RSS ${perRoute(med(ref, (x) => x.rssAfter.rss - x.rssBefore.rss))} B per route`
            : ''),
      };
    },
  },
  {
    name: `idle CPU, ${IDLE_PEERS} established sessions`,
    unit: '% of a core',
    goal: 2.0,
    goalOf: 'ratio',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('idle');
      const w = r.windows;
      const ref = referenceOn();
      const ratios = w.map((x) => x.ours.percent / x.reference.percent);
      return {
        ours: med(w, (x) => x.ours.percent),
        reference: ref ? med(w, (x) => x.reference.percent) : undefined,
        note:
          `median of ${w.length} windows of ${fixed(seconds(w[0].windowMs), 0)} s back to back, ${fixed(seconds(r.settleMs), 0)} s after every session was up and BIRD held our routes; ` +
          `ours ${w.map((x) => fixed(x.ours.percent)).join(', ')} % (process.cpuUsage(); main thread ${w.map((x) => x.ours.threads.main * 10).join(', ')} ms, other threads ${w.map((x) => (x.ours.threads.others ?? 0) * 10).join(', ')} ms)` +
          (ref
            ? `, BIRD ${w.map((x) => fixed(x.reference.percent)).join(', ')} % (CPU time from /proc, 10 ms ticks); ratio per window ${ratios.map((x) => fixed(x)).join(', ')}`
            : '') +
          `; ${r.peers} peers with hold time ${IDLE_HOLD_TIME} s, ${r.routes} routes announced${r.down ? `; ${r.down} sessions went down` : ''}`,
      };
    },
  },
];
