// BFD benchmarks of our engine (the built packages/bfd) against FRR's bfdd, with bfdd as the reference
// in the same run: every session has our engine at one end and bfdd at the other. Rows: detection
// time after a link cut at 3 x 50 ms and 3 x 10 ms, false Downs of 50 sessions over a long run while
// two busy loops keep both cores busy, and CPU for 100 sessions at 50 ms. The experiments are in
// bench/bfd-experiments.js; our engine runs in its own process (bench/bfd-engine.js) in a network
// namespace, bfdd in another (bench/bfd-frr.js), joined through a bridge in a third
// (bench/bfd-fabric.js). Needs root, `ip`, vtysh and FRR's bfdd; namespaces are removed on exit.
//
// Environment: BFD_BENCH_SOAK_SECONDS (default 600; 0 skips that row), BFD_BENCH_ROUNDS (cuts per
// detection row, default 5), BFD_BENCH_HOLD_SECONDS (Up and untouched before the cuts, default 10),
// BFD_BENCH_CPU_SECONDS (CPU window, default 20), BFD_BENCH_NICE (nice value of both BFD daemons,
// default 0), BFD_BENCH_NODE_ARGS (node options of our engine's process, e.g. --trace-gc),
// BFD_BENCH_TRACE=1 (the soak's stall and Down times in its note).
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { netnsUnavailable, sweepStale } from './bgp-netns.js';
import {
  BUSY_OWN_SESSION,
  CPU_SESSIONS,
  DETECT_MULT,
  SOAK_SECONDS,
  SOAK_SESSIONS,
  cpuExperiment,
  detectionExperiment,
  soakExperiment,
} from './bfd-experiments.js';
import { BFDD, bfddVersion } from './bfd-frr.js';
import { median } from './run.js';

const BUILT_ENGINE = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'bfd', 'dist', 'engine.js');

const fixed = (n, d = 1) => n.toFixed(d);
const list = (values, d = 1) => values.map((v) => fixed(v, d)).join(', ');

function unavailable() {
  const why = netnsUnavailable(['vtysh']);
  if (why) return `the BFD benchmarks ${why.replace(/^needs/, 'need')} (Debian: apt-get install frr iproute2)`;
  if (!existsSync(BFDD)) return `the BFD benchmarks need FRR's bfdd at ${BFDD} (Debian: apt-get install frr)`;
  if (!existsSync(BUILT_ENGINE)) return `${BUILT_ENGINE} is missing: build first (npx tsc -b)`;
  return undefined;
}

function ready() {
  const why = unavailable();
  if (why) throw new Error(why);
  sweepStale();
}

/** Our engine's metrics() as note text: worker lag, late transmissions (since `before`, when given), detection timeouts, drops. */
function engineMetrics(m, before) {
  const late = m.lateTransmissions - (before?.lateTransmissions ?? 0);
  const sent = m.transmitLatenessMs.samples - (before?.transmitLatenessMs.samples ?? 0);
  return (
    `our worker's event-loop lag p99 ${fixed(m.eventLoopLagMs.p99, 2)} ms (max ${fixed(m.eventLoopLagMs.max)}), ` +
    `late transmissions (> ${m.lateTransmissionSlackMs} ms) ${late} of ${sent.toLocaleString('en-US')} (lateness p99 ${fixed(m.transmitLatenessMs.p99, 2)} ms, max ${fixed(m.transmitLatenessMs.max)}), ` +
    `detection timeouts ${m.detectionTimeouts}, rescued ${m.detectionsRescued}, drops ${JSON.stringify(m.dropped)}`
  );
}

/** A detection row: medians of both sides, or an error when our side cannot hold the rate. */
async function detectionRow(intervalMs) {
  ready();
  const r = await detectionExperiment(intervalMs);
  const detection = DETECT_MULT * intervalMs;
  // A side did not hold the rate when the other side timed out on it during the hold: its packets
  // stopped arriving in time (sent late, or the receiver stalled: the notes give our lateness).
  const unstable = (side) => (side === 'ours' ? r.hold.frrTimedOut : r.hold.oursTimedOut) > 0;
  const holdText = `held Up ${r.hold.seconds} s before the cuts: Downs ours ${r.hold.ours} (${r.hold.oursTimedOut} our detection timeouts), FRR ${r.hold.frr} (${r.hold.frrTimedOut} its detection timeouts)`;
  const oursMs = r.rounds.map((x) => x.oursMs);
  const frrMs = r.rounds.map((x) => x.frrMs);
  const note =
    `${r.rounds.length} cuts, time from the cut to each side's Down; ours ${list(oursMs)} ms (diag ${[...new Set(r.rounds.map((x) => x.oursDiag))].join('/')}), ` +
    `FRR ${list(frrMs)} ms (${[...new Set(r.rounds.map((x) => x.frrReason))].join('/')}); ${holdText}; Downs not caused by a cut: ours ${r.falseDowns.ours}, FRR ${r.falseDowns.frr}; ` +
    `${engineMetrics(r.metrics)}; load average ${r.load[0]} -> ${r.load[1]}`;
  if (unstable('ours'))
    throw new Error(
      `our side did not hold 3 x ${intervalMs} ms (FRR timed out on our packets while the sessions were held Up); ${note}`,
    );
  return {
    ours: median(oursMs),
    reference: unstable('frr') ? undefined : median(frrMs),
    note: `${unstable('frr') ? `FRR did not hold 3 x ${intervalMs} ms (we timed out on its packets while the sessions were held Up; its median ${fixed(median(frrMs))} ms not shown); ` : ''}goal: the detection time ${detection} ms; ${note}`,
  };
}

/** Once per run, in the runner: what is missing, or the reference's version for the notes. */
export async function prepare() {
  const why = unavailable();
  if (why) return { notes: [`skipped: ${why}`] };
  sweepStale();
  return {
    notes: [
      `reference: FRR bfdd ${bfddVersion() ?? ''} in the same run, the other end of the same sessions; single hop, our engine and bfdd in two namespaces joined through a bridge in a third, documentation addresses`,
    ],
  };
}

export const rows = [
  ...[50, 10].map((intervalMs) => ({
    name: `BFD Down after a link cut, 3 x ${intervalMs} ms, vs FRR bfdd`,
    unit: 'ms',
    goal: DETECT_MULT * intervalMs,
    lowerIsBetter: true,
    run: () => detectionRow(intervalMs),
  })),
  {
    name: `BFD false Downs, ${SOAK_SESSIONS} sessions at 3 x 50 ms, both cores busy`,
    unit: 'Up->Down',
    goal: 0,
    lowerIsBetter: true,
    async run() {
      if (SOAK_SECONDS <= 0) return { ours: null, note: 'skipped (BFD_BENCH_SOAK_SECONDS=0)' };
      ready();
      const r = await soakExperiment();
      const d = r.downs;
      const c = r.cpu;
      const minutes = (counts) => (counts.length > 1 ? ` (per minute ${counts.join(', ')})` : '');
      return {
        ours: d.ours,
        reference: d.frr,
        note:
          `ran ${fixed(r.seconds / 60)} min (BFD_BENCH_SOAK_SECONDS=${SOAK_SECONDS}) with two Node busy loops (nice 0) in ${BUSY_OWN_SESSION ? 'a session of their own' : "the bench's session"}` +
          `${r.autogroup ? ' (autogroup scheduling on)' : ''}; ` +
          `ours: ${d.ours} Up->Down${minutes(d.oursPerMinute)}, ${d.oursTimedOut} our detection timeouts (diag 1) and ${d.oursSignalled} signalled by FRR (diag 3); ` +
          `FRR: ${d.frr}${minutes(d.frrPerMinute)}, ${d.frrTimedOut} its detection timeouts; Up at the end: ours ${r.upAtEnd.ours}, FRR ${r.upAtEnd.frr} of ${r.sessions}; ` +
          `${r.episodes.count} episodes (Downs less than 1 s apart; largest ${r.episodes.largest} Downs), ${r.episodes.afterStalls} of them right after a stall of the bench process; ` +
          `5 ms timers, stalls >= 50 ms: the bench process ${r.stalls.count} (worst ${fixed(r.stalls.maxMs)} ms), the main thread of our engine's process ${r.mainThreadStalls.count} (worst ${fixed(r.mainThreadStalls.maxMs)} ms; ${r.mainThreadStalls.shared} at the same time as one of the bench process); ` +
          (r.stallTimes ? `trace ${JSON.stringify(r.stallTimes)}; ` : '') +
          `CPU (% of one core): busy loops ${fixed(c.busyLoops, 0)}, ours ${fixed(c.ours)}, FRR ${fixed(c.frr)}, everything else on the machine ${fixed(c.others, 0)}, steal ${fixed(c.steal)}; ` +
          `Downs while coming up, before the busy loops: ours ${r.downsBefore.ours}, FRR ${r.downsBefore.frr}; ` +
          `${engineMetrics(r.metrics, r.metricsBefore)} (lag since engine start); load average ${r.load[0]} -> ${r.load[1]}`,
      };
    },
  },
  {
    name: `BFD CPU, ${CPU_SESSIONS} Up sessions at 3 x 50 ms`,
    unit: '% of a core',
    lowerIsBetter: true,
    async run() {
      ready();
      const r = await cpuExperiment();
      return {
        ours: r.ours.percent,
        reference: r.frr.percent,
        note:
          `over ${fixed(r.windowMs / 1000, 0)} s; ours: process.cpuUsage() of the process hosting the engine, worker included (user ${fixed(r.ours.userPercent, 2)}%; /proc schedstat of the same process ${fixed(r.ours.procPercent, 2)}%), ` +
          `${r.packets.out.toLocaleString('en-US')} packets sent and ${r.packets.in.toLocaleString('en-US')} received; FRR: bfdd's /proc schedstat (all threads); ` +
          `Downs in the window ours ${r.downs.ours}, FRR ${r.downs.frr} (since the sessions were added: ours ${r.downsSinceStart.ours}, FRR ${r.downsSinceStart.frr}); ${engineMetrics(r.metrics)}; load average ${r.load[0]} -> ${r.load[1]}`,
      };
    },
  },
];
