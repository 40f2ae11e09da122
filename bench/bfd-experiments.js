// The experiments behind the BFD rows of bench/bfd.js. Each builds its network (bench/bfd-fabric.js),
// starts FRR's bfdd in namespace `b` (bench/bfd-frr.js) and our engine in namespace `a`
// (bench/bfd-engine.js), measures, and tears everything down, also on an error. Our side and FRR's
// are measured in the same run, on the same sessions: each session has our engine at one end and
// bfdd at the other, so every number here has FRR's counterpart from the same moments.
//
// Times: our engine stamps its state changes (performance.timeOrigin + now, the wall clock); bfdd's
// log has wall-clock microseconds; a cut is stamped in this process just before the command goes to
// the switch. All three read the same system clock, to well under a millisecond.
import { loadavg } from 'node:os';
import { poll, teardown } from './bgp-netns.js';
import { startEngine, wallClockMs } from './bfd-engine.js';
import { fabric, linkCutter } from './bfd-fabric.js';
import { autogroupEnabled, busyLoops, episodes, episodesAfterStalls, machineCpuMs, stallMonitor } from './bfd-load.js';
import { processCpuMs, startBfdd } from './bfd-frr.js';

export const DETECT_MULT = 3;
export const ROUNDS = Number(process.env.BFD_BENCH_ROUNDS ?? 5);
/** How long sessions must stay Up, untouched, before the cuts (a side that flaps here cannot hold the rate). */
export const HOLD_MS = Number(process.env.BFD_BENCH_HOLD_SECONDS ?? 10) * 1000;
export const SOAK_SESSIONS = 50;
export const SOAK_SECONDS = Number(process.env.BFD_BENCH_SOAK_SECONDS ?? 600);
/** The busy loops run in a session of their own (default) or in the bench's (BFD_BENCH_BUSY_SESSION=same). */
export const BUSY_OWN_SESSION = process.env.BFD_BENCH_BUSY_SESSION !== 'same';
export const CPU_SESSIONS = 100;
export const CPU_WINDOW_MS = Number(process.env.BFD_BENCH_CPU_SECONDS ?? 20) * 1000;
const SETTLE_MS = 1000; // Up on both sides this long (Poll Sequences over) before a cut or a window
const UP_MS = 30_000;
const STALL_MS = 50; // a gap this long in the bench process's 5 ms timer counts as a machine stall

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const profile = (intervalMs) => ({
  name: `bench-${intervalMs}`,
  transmitInterval: intervalMs,
  receiveInterval: intervalMs,
  detectMultiplier: DETECT_MULT,
});
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');

/** `n` sessions: ours from 198.51.100.1..n to FRR's 198.51.100.254 (n <= 200). */
function manySessions(n) {
  const ours = Array.from({ length: n }, (_, i) => `198.51.100.${i + 1}`);
  return {
    addressesA: ours.map((a) => `${a}/24`),
    addressesB: ['198.51.100.254/24'],
    ourSessions: ours.map((a) => ({ peerAddress: '198.51.100.254', localAddress: a })),
    frrPeers: ours.map((a) => ({ peer: a, local: '198.51.100.254' })),
  };
}

/** Both sides' sessions set up over a fresh fabric; `run(ctx)` measures; everything is removed after. */
async function withSessions({ addressesA, addressesB, ourSessions, frrPeers }, intervalMs, run, engine = {}) {
  const started = [];
  try {
    const ns = fabric(addressesA, addressesB);
    const frr = await startBfdd(ns.b, frrPeers, { intervalMs, detectMult: DETECT_MULT });
    started.push(frr);
    const ours = await startEngine(ns.a, {
      ...engine,
      sessions: ourSessions.map((s) => ({ ...s, profile: profile(intervalMs) })),
    });
    started.push(ours);
    const n = ourSessions.length;
    await poll(
      `${n} sessions to come Up on both sides`,
      () => {
        frr.poll();
        const why = ours.failure() ?? (ours.errors[0] && `our engine: ${ours.errors[0].message}`);
        if (why) throw new Error(why);
        return ours.upCount() === n && frr.upCount() === n ? true : undefined;
      },
      { ms: UP_MS, everyMs: 20 },
    ).catch((err) => {
      throw new Error(`${err.message} (ours Up: ${ours.upCount()}, FRR up: ${frr.upCount()})`);
    });
    return await run({ ns, frr, ours, n });
  } finally {
    await teardown(started);
  }
}

/** Waits until all n sessions have been Up on both sides for `ms` without a state change. */
async function settled({ frr, ours, n }, ms = SETTLE_MS) {
  await poll(
    'the sessions to settle Up on both sides',
    () => {
      frr.poll();
      if (ours.upCount() !== n || frr.upCount() !== n) return undefined;
      const last = Math.max(ours.changes.at(-1)?.at ?? 0, frr.changes.at(-1)?.at ?? 0);
      return wallClockMs() - last >= ms ? true : undefined;
    },
    { ms: UP_MS, everyMs: 20 },
  );
}

/** Up->Down transitions of both sides between two wall-clock times, with their causes. */
function downsBetween({ frr, ours }, from, to) {
  frr.poll();
  const o = ours.changes.filter((c) => c.from === 'Up' && c.to === 'Down' && c.at >= from && c.at <= to);
  const f = frr.changes.filter((c) => c.from === 'up' && c.to === 'down' && c.at >= from && c.at <= to);
  return {
    ours: o.length,
    oursTimedOut: o.filter((c) => c.diag === 1).length, // Control Detection Time Expired: FRR's packets stopped reaching us
    oursSignalled: o.filter((c) => c.diag === 3).length, // Neighbor Signaled Session Down: FRR timed out first
    frr: f.length,
    frrTimedOut: f.filter((c) => c.reason === 'control-expired').length,
    oursAt: o.map((c) => c.at),
    frrAt: f.map((c) => c.at),
  };
}

/**
 * Detection time after a link cut at 3 x `intervalMs`, one session: first HOLD_MS of Up sessions
 * untouched (Downs there mean a side cannot hold the rate), then ROUNDS cuts: cut, both sides' time
 * from the cut to their Down, heal, wait until Up and settled again.
 */
export function detectionExperiment(intervalMs) {
  const setup = {
    addressesA: ['192.0.2.1/24'],
    addressesB: ['192.0.2.2/24'],
    ourSessions: [{ peerAddress: '192.0.2.2', localAddress: '192.0.2.1' }],
    frrPeers: [{ peer: '192.0.2.1', local: '192.0.2.2' }],
  };
  return withSessions(setup, intervalMs, async (ctx) => {
    const { ns, frr, ours } = ctx;
    const loadBefore = load();
    await settled(ctx);
    const holdFrom = wallClockMs();
    await sleep(HOLD_MS);
    const hold = downsBetween(ctx, holdFrom, wallClockMs());
    const cutter = linkCutter(ns.sw);
    const rounds = [];
    const cuts = [];
    let spurious = 0;
    while (rounds.length < ROUNDS) {
      if (spurious > ROUNDS)
        throw new Error(
          `${spurious} cuts saw a Down before the cut: the sessions are not stable at 3 x ${intervalMs} ms`,
        );
      await settled(ctx);
      const oursBefore = ours.changes.length;
      frr.poll();
      const frrBefore = frr.changes.length;
      const cutAt = await cutter.cut();
      const [o, f] = await poll(
        'both sides to go Down after the cut',
        () => {
          frr.poll();
          const o = ours.changes.slice(oursBefore).find((c) => c.to === 'Down');
          const f = frr.changes.slice(frrBefore).find((c) => c.to === 'down');
          return o && f ? [o, f] : undefined;
        },
        { ms: 10_000, everyMs: 5 },
      );
      await cutter.heal();
      cuts.push([cutAt, wallClockMs()]);
      if (o.at < cutAt || f.at < cutAt)
        spurious++; // a flap just before the cut, not its detection
      else rounds.push({ oursMs: o.at - cutAt, frrMs: f.at - cutAt, oursDiag: o.diag, frrReason: f.reason });
    }
    await settled(ctx);
    cutter.close();
    // Downs not caused by a cut: while coming up, in the hold window, while settling between rounds.
    const between = downsBetween(ctx, 0, wallClockMs());
    const inCuts = (at) => cuts.some(([a, b]) => at >= a && at <= b);
    const session = await ours.request('metrics');
    return {
      intervalMs,
      rounds,
      hold: { ...hold, seconds: HOLD_MS / 1000 },
      falseDowns: {
        ours: between.oursAt.filter((at) => !inCuts(at)).length,
        frr: between.frrAt.filter((at) => !inCuts(at)).length,
      },
      metrics: session,
      load: [loadBefore, load()],
    };
  });
}

/**
 * SOAK_SESSIONS sessions at 3 x 50 ms for `seconds` while two busy loops keep both cores busy:
 * Up->Down transitions on each side (goal: none), grouped into episodes, with the witnesses of what
 * the machine did meanwhile (stalls of this process, CPU used by everything else, steal).
 */
export function soakExperiment(seconds = SOAK_SECONDS) {
  return withSessions(
    manySessions(SOAK_SESSIONS),
    50,
    async (ctx) => {
      const { frr, ours } = ctx;
      await settled(ctx, 2000);
      const metricsBefore = await ours.request('metrics');
      const loadBefore = load();
      const monitor = stallMonitor({ stallMs: STALL_MS });
      const busy = busyLoops(2, { ownSession: BUSY_OWN_SESSION, limitMs: seconds * 1000 + 60_000 });
      const cpuNow = () => ({
        machine: machineCpuMs(),
        busy: busy.cpuMs(),
        ours: processCpuMs(ours.pid),
        frr: frr.cpuMs(),
        bench: processCpuMs(process.pid),
      });
      const from = wallClockMs();
      const c0 = cpuNow();
      let nextReport = from + 60_000;
      while (wallClockMs() - from < seconds * 1000) {
        await sleep(Math.min(1000, from + seconds * 1000 - wallClockMs()));
        frr.poll();
        if (wallClockMs() >= nextReport) {
          nextReport += 60_000;
          const d = downsBetween(ctx, from, wallClockMs());
          process.stderr.write(
            `  BFD soak: ${Math.round((wallClockMs() - from) / 1000)} of ${seconds} s, Downs: ours ${d.ours}, FRR ${d.frr}, load average ${load()}\n`,
          );
        }
      }
      const to = wallClockMs();
      const c1 = cpuNow();
      busy.stop();
      monitor.stop();
      const loadAfter = load();
      const metrics = await ours.request('metrics');
      const downs = downsBetween(ctx, from, to);
      await settled(ctx, 500).catch(() => {}); // give flapped sessions a moment; the counts are taken already
      const percent = (ms) => (ms / (to - from)) * 100;
      const used = (k) => c1[k] - c0[k];
      const machineBusy = c1.machine.busy - c0.machine.busy;
      const list = episodes([...downs.oursAt, ...downs.frrAt]);
      const minutes = Math.ceil((to - from) / 60_000);
      const perMinute = (times) =>
        Array.from(
          { length: minutes },
          (_, i) => times.filter((at) => at >= from + i * 60_000 && at < from + (i + 1) * 60_000).length,
        );
      return {
        sessions: ctx.n,
        seconds: (to - from) / 1000,
        downs: {
          ...downs,
          oursPerMinute: perMinute(downs.oursAt),
          frrPerMinute: perMinute(downs.frrAt),
          oursAt: undefined,
          frrAt: undefined,
        },
        episodes: {
          count: list.length,
          afterStalls: episodesAfterStalls(list, monitor.stalls),
          largest: Math.max(0, ...list.map((e) => e.count)),
        },
        downsBefore: downsBetween(ctx, 0, from), // while coming up, before the busy loops
        upAtEnd: { ours: ours.upCount(), frr: frr.upCount() },
        autogroup: autogroupEnabled(),
        stalls: { count: monitor.stalls.length, maxMs: monitor.max() },
        mainThreadStalls: {
          count: ours.mainThreadStalls.length,
          maxMs: Math.max(0, ...ours.mainThreadStalls.map((x) => x.ms)),
          // stalls of our process that overlap one of the bench process: the machine, not our process
          shared: ours.mainThreadStalls.filter((x) =>
            monitor.stalls.some((b) => b.at < x.at + x.ms && x.at < b.at + b.ms),
          ).length,
        },
        stallTimes: process.env.BFD_BENCH_TRACE
          ? {
              bench: monitor.stalls,
              engineMainThread: ours.mainThreadStalls.map(({ at, ms }) => ({ at, ms })),
              ours: downs.oursAt,
              frr: downs.frrAt,
            }
          : undefined,
        // % of one core over the window; `others` is everything else on the machine (2 cores: up to 200 %)
        cpu: {
          busyLoops: percent(used('busy')),
          ours: percent(used('ours')),
          frr: percent(used('frr')),
          others: percent(machineBusy - used('busy') - used('ours') - used('frr') - used('bench')),
          steal: percent(c1.machine.steal - c0.machine.steal),
        },
        metricsBefore,
        metrics,
        load: [loadBefore, loadAfter],
      };
    },
    { mainThreadStallMs: STALL_MS },
  );
}

/** CPU of both sides over CPU_WINDOW_MS with CPU_SESSIONS sessions Up at 3 x 50 ms. */
export function cpuExperiment() {
  return withSessions(manySessions(CPU_SESSIONS), 50, async (ctx) => {
    const { frr, ours } = ctx;
    await settled(ctx, 3000);
    const loadBefore = load();
    const m0 = await ours.request('metrics');
    const c0 = await ours.request('cpu');
    const p0 = processCpuMs(ours.pid);
    const f0 = frr.cpuMs();
    const from = wallClockMs();
    await sleep(CPU_WINDOW_MS);
    const c1 = await ours.request('cpu');
    const p1 = processCpuMs(ours.pid);
    const f1 = frr.cpuMs();
    const to = wallClockMs();
    const m1 = await ours.request('metrics');
    const oursWallMs = c1.at - c0.at;
    return {
      sessions: ctx.n,
      windowMs: to - from,
      ours: {
        percent: ((c1.user + c1.system - c0.user - c0.system) / 1000 / oursWallMs) * 100,
        userPercent: ((c1.user - c0.user) / 1000 / oursWallMs) * 100,
        procPercent: ((p1 - p0) / (to - from)) * 100,
      },
      frr: { percent: ((f1 - f0) / (to - from)) * 100 },
      packets: { in: m1.packetsIn - m0.packetsIn, out: m1.packetsOut - m0.packetsOut },
      downs: downsBetween(ctx, from, to),
      downsSinceStart: downsBetween(ctx, 0, to),
      metrics: m1,
      load: [loadBefore, load()],
    };
  });
}
