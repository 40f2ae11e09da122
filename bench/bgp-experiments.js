// The experiments behind the BGP rows of bench/bgp.js: each sets up its network namespaces, BIRD
// daemons and our Speaker (bench/bgp-speaker.js, its own process), measures, and tears everything
// down (also on an error). Timed experiments alternate BIRD and us for ROUNDS rounds each, so a
// change in the machine's load affects both sides alike; the rows take medians.
//
// The routes are 10.0.0.0/8 /32s: NLRI data between BIRD and us inside these namespaces only, never
// installed in a kernel table (no BIRD `kernel` protocol) and never a traffic destination.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  birdConfig,
  birdMemory,
  importedRoutes,
  processCpuMs,
  processMemory,
  protocolState,
  startBird,
} from './bgp-bird.js';
import { link, namespace, onCleanup, poll, startIn, teardown } from './bgp-netns.js';

const SPEAKER_SCRIPT = join(dirname(fileURLToPath(import.meta.url)), 'bgp-speaker.js');

export const COUNT = Number(process.env.BGP_BENCH_PREFIXES ?? 1_000_000);
export const ROUNDS = Number(process.env.BGP_BENCH_ROUNDS ?? 3);
export const IDLE_PEERS = 100;
export const IDLE_WINDOW_MS = Number(process.env.BGP_BENCH_IDLE_MS ?? 20_000);
export const IDLE_HOLD_TIME = 30; // s: keepalives every ~10 s, so the window holds keepalive traffic
/**
 * Wait before the first idle window: start-up is over (V8's memory reducer runs its full collections
 * ~10-20 s after the last burst of allocation, once), for both sides alike.
 */
export const IDLE_SETTLE_MS = Number(process.env.BGP_BENCH_IDLE_SETTLE_MS ?? 20_000);
const IDLE_ROUTES = 10;
const CONVERGE_MS = 180_000;
const POLL_MS = 10;
const BIRD_AS = 64496;
const SENDER_AS = 64497; // the BIRD sender and our Speaker

const referenceOn = () => process.env.BENCH_REFERENCE !== 'skip';

/** Our Speaker in namespace `ns`; `wait(event)` resolves with the first such event it printed. */
function startSpeaker(ns, settings) {
  const nodeArgs = (process.env.BGP_BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof
  const child = startIn(ns, process.execPath, ['--expose-gc', ...nodeArgs, SPEAKER_SCRIPT, JSON.stringify(settings)], {
    stdin: 'pipe',
  });
  const seen = [];
  const waiters = new Set();
  let rest = '';
  let failure;
  const check = () => {
    for (const w of waiters) {
      const found = seen.find((e) => e.event === w.event);
      if (found) w.resolve(found);
      else if (failure) w.reject(failure);
    }
  };
  child.proc.stdout.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) {
      if (!line.startsWith('{')) {
        // e.g. BGP_BENCH_NODE_ARGS=--trace-gc: shown with BGP_BENCH_TRACE=1
        if (process.env.BGP_BENCH_TRACE) process.stderr.write(`ours: ${line}\n`);
        continue;
      }
      const e = JSON.parse(line);
      seen.push(e);
      if (e.event === 'fatal') failure = new Error(`our speaker failed: ${e.message}`);
    }
    check();
  });
  void child.exited.then((code) => {
    failure ??= new Error(`our speaker exited (${code}): ${child.output().trim().slice(-2000)}`);
    check();
  });
  return {
    ...child,
    seen,
    send: (line) => child.proc.stdin.write(`${line}\n`),
    wait(event, ms = CONVERGE_MS) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(w);
          reject(
            new Error(
              `timed out after ${ms} ms waiting for our speaker's ${event}: ${child.output().trim().slice(-2000)}`,
            ),
          );
        }, ms);
        const done = (f) => (v) => {
          clearTimeout(timer);
          waiters.delete(w);
          f(v);
        };
        const w = { event, resolve: done(resolve), reject: done(reject) };
        waiters.add(w);
        check();
      });
    },
    async exit() {
      child.proc.stdin.write('exit\n');
      await Promise.race([child.exited, new Promise((r) => setTimeout(r, 5000))]);
      await child.stop();
    },
  };
}

/**
 * Sends BIRD a cheap command every POLL_MS until stopped. BIRD's main loop sleeps in poll() for up to
 * 3 s when no timer is due, and work it queued for itself meanwhile (the tail of an export feed) then
 * waits for the next wake-up: a sender left alone delivers its last routes 0-3 s late, at random.
 * Keeping the sender awake removes that idle-loop latency from both sides of the comparison (and
 * makes the BIRD reference faster, never slower). Receivers are woken the same way by the polling.
 */
function keepAwake(bird) {
  let on = true;
  const loop = (async () => {
    while (on) {
      await bird.ctl.command('show status');
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();
  return async () => {
    on = false;
    await loop;
  };
}

/** Polls BIRD until protocol `name` has imported `count` routes; returns the wall-clock time seen. */
async function untilImported(bird, name, count) {
  const trace = [];
  const start = Date.now();
  const done = await poll(
    `${count} routes imported by BIRD ${bird.name} from ${name}`,
    async () => {
      const n = await importedRoutes(bird.ctl, name);
      if (n !== trace.at(-1)?.[1]) trace.push([Date.now() - start, n]);
      return n >= count ? Date.now() : undefined;
    },
    { ms: CONVERGE_MS, everyMs: POLL_MS },
  );
  // BGP_BENCH_TRACE=1: how the count grew (ms since polling began, routes), on stderr.
  if (process.env.BGP_BENCH_TRACE) process.stderr.write(`BIRD ${bird.name} import trace: ${JSON.stringify(trace)}\n`);
  return done;
}

/** Starts the BIRD sender (COUNT static blackhole routes, the BGP protocols given) once its static protocol holds them all. */
async function startSender(ns, dir, protocols) {
  const start = Date.now();
  const bird = await startBird(
    ns,
    dir,
    'sender',
    birdConfig({ routerId: '192.0.2.1', staticRoutes: COUNT, protocols }),
  );
  await poll(
    'the BIRD sender to load its static routes',
    async () => ((await importedRoutes(bird.ctl, 'prefixes')) >= COUNT ? true : undefined),
    {
      ms: CONVERGE_MS,
      everyMs: 50,
    },
  );
  return { bird, loadMs: Date.now() - start };
}

/** A BIRD receiver: one passive eBGP protocol `peer` importing everything from `neighbor`. */
function startReceiver(ns, dir, name, local, neighbor) {
  const protocols = [
    { name: 'peer', local, localAs: BIRD_AS, neighbor, peerAs: SENDER_AS, passive: true, importAll: true },
  ];
  return startBird(ns, dir, name, birdConfig({ routerId: local, protocols }));
}

/** Runs `body(dir, started)` with a scratch directory, then stops what was started and removes the namespaces. */
async function withSetup(body) {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-bench-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const started = [];
  try {
    return await body(dir, started);
  } finally {
    await teardown(started);
  }
}

/** Stops a daemon and takes it off the list of things to stop at the end. */
async function stopOne(started, thing) {
  await thing.stop();
  started.splice(started.indexOf(thing), 1);
}

/**
 * Announce: BIRD sender -> BIRD receiver (reference), and our Speaker -> a BIRD receiver, each round
 * with a fresh receiver (and a fresh Speaker process). Both are timed from the receiver's Established
 * (its protocol's `Since`, to the millisecond) to the first poll that sees all COUNT routes imported.
 */
export async function announceExperiment() {
  return withSetup(async (dir, started) => {
    const result = { count: COUNT, reference: [], ours: [] };
    let sender;
    let rcvRef;
    if (referenceOn()) {
      rcvRef = namespace('rref');
      const snd = namespace('snd');
      link(snd, ['192.0.2.1/30'], rcvRef, ['192.0.2.2/30']);
      const s = await startSender(snd, dir, [
        {
          name: 'peer',
          local: '192.0.2.1',
          localAs: SENDER_AS,
          neighbor: '192.0.2.2',
          peerAs: BIRD_AS,
          disabled: true,
          exportAll: true,
        },
      ]);
      sender = s.bird;
      started.push(sender);
      result.senderLoadMs = s.loadMs;
      result.senderMemory = await birdMemory(sender.ctl);
    }
    const ours = namespace('ours');
    const rcv = namespace('rcv');
    link(ours, ['192.0.2.5/30'], rcv, ['192.0.2.6/30']);
    for (let round = 0; round < ROUNDS; round++) {
      if (sender) {
        const receiver = await startReceiver(rcvRef, dir, `ref-receiver-${round}`, '192.0.2.2', '192.0.2.1');
        started.push(receiver);
        result.emptyBirdMemory ??= await birdMemory(receiver.ctl);
        const cpuBefore = processCpuMs(sender.pid);
        const asleep = keepAwake(sender);
        await sender.ctl.command('enable peer');
        const done = await untilImported(receiver, 'peer', COUNT);
        await asleep();
        const { since } = await protocolState(receiver.ctl, 'peer');
        result.reference.push({ ms: done - since, cpuMs: processCpuMs(sender.pid) - cpuBefore });
        await sender.ctl.command('disable peer');
        await stopOne(started, receiver);
      }
      const receiver = await startReceiver(rcv, dir, `receiver-${round}`, '192.0.2.6', '192.0.2.5');
      started.push(receiver);
      const speaker = startSpeaker(ours, {
        mode: 'announce',
        count: COUNT,
        localAs: SENDER_AS,
        bgpId: '192.0.2.5',
        peerAs: BIRD_AS,
        peers: [{ peerAddress: '192.0.2.6', localAddress: '192.0.2.5' }],
      });
      started.push(speaker);
      const baseline = await speaker.wait('baseline');
      const announced = await speaker.wait('announced');
      const done = await untilImported(receiver, 'peer', COUNT);
      const { since } = await protocolState(receiver.ctl, 'peer');
      const established = await speaker.wait('established');
      speaker.send('memory');
      const end = await speaker.wait('memory');
      result.ours.push({
        ms: done - since,
        cpuMs: (end.cpuUs - established.cpuUs) / 1000,
        establishedLagMs: established.at - since,
        flushMs: established.flushMs,
        announceMs: announced.ms,
        baseline,
        announced,
        end,
      });
      await speaker.exit();
      started.splice(started.indexOf(speaker), 1);
      await stopOne(started, receiver);
    }
    return result;
  });
}

/**
 * Receive: one BIRD sender with COUNT routes sends them, each round, to a fresh BIRD receiver
 * (reference: the receiver's Established to all imported) and to a fresh Speaker process (its
 * Established event to all COUNT routes in its Adj-RIB-In, timed in that process).
 */
export async function receiveExperiment() {
  return withSetup(async (dir, started) => {
    const result = { count: COUNT, reference: [], ours: [] };
    const snd = namespace('snd');
    const ours = namespace('ours');
    link(snd, ['192.0.2.5/30'], ours, ['192.0.2.6/30']);
    const protocols = [
      {
        name: 'ours',
        local: '192.0.2.5',
        localAs: SENDER_AS,
        neighbor: '192.0.2.6',
        peerAs: BIRD_AS,
        passive: true,
        disabled: true,
        exportAll: true,
      },
    ];
    let rcvRef;
    if (referenceOn()) {
      rcvRef = namespace('rref');
      link(snd, ['192.0.2.1/30'], rcvRef, ['192.0.2.2/30']);
      protocols.push({
        name: 'peer',
        local: '192.0.2.1',
        localAs: SENDER_AS,
        neighbor: '192.0.2.2',
        peerAs: BIRD_AS,
        disabled: true,
        exportAll: true,
      });
    }
    const { bird: sender, loadMs } = await startSender(snd, dir, protocols);
    started.push(sender);
    result.senderLoadMs = loadMs;
    for (let round = 0; round < ROUNDS; round++) {
      if (rcvRef) {
        const receiver = await startReceiver(rcvRef, dir, `ref-receiver-${round}`, '192.0.2.2', '192.0.2.1');
        started.push(receiver);
        const memoryBefore = await birdMemory(receiver.ctl);
        const rssBefore = processMemory(receiver.pid);
        const cpuBefore = processCpuMs(receiver.pid);
        const asleep = keepAwake(sender);
        await sender.ctl.command('enable peer');
        const done = await untilImported(receiver, 'peer', COUNT);
        await asleep();
        const cpuMs = processCpuMs(receiver.pid) - cpuBefore;
        const { since } = await protocolState(receiver.ctl, 'peer');
        const memoryAfter = await birdMemory(receiver.ctl);
        result.reference.push({
          ms: done - since,
          cpuMs,
          memoryBefore,
          memoryAfter,
          rssBefore,
          rssAfter: processMemory(receiver.pid),
        });
        await sender.ctl.command('disable peer');
        await stopOne(started, receiver);
      }
      await sender.ctl.command('enable ours');
      const speaker = startSpeaker(ours, {
        mode: 'receive',
        count: COUNT,
        localAs: BIRD_AS,
        bgpId: '192.0.2.6',
        peerAs: SENDER_AS,
        peers: [{ peerAddress: '192.0.2.5', localAddress: '192.0.2.6' }],
      });
      started.push(speaker);
      const asleep = keepAwake(sender);
      const baseline = await speaker.wait('baseline');
      const received = await speaker.wait('received');
      await asleep();
      speaker.send('memory');
      const end = await speaker.wait('memory');
      if (process.env.BGP_BENCH_TRACE)
        process.stderr.write(
          `our receive trace [ms, routes, CPU ms]: ${JSON.stringify(received.trace)}, ${received.updates} UPDATEs\n`,
        );
      result.ours.push({ ms: received.ms, cpuMs: received.cpuMs, baseline, end });
      await speaker.exit();
      started.splice(started.indexOf(speaker), 1);
      await sender.ctl.command('disable ours');
    }
    return result;
  });
}

/**
 * Idle: our Speaker with IDLE_PEERS sessions to one BIRD (one protocol per peer address) and a few
 * routes; once every session is up and BIRD holds our routes, and IDLE_SETTLE_MS later, the CPU both
 * processes use over ROUNDS windows of IDLE_WINDOW_MS.
 */
export async function idleExperiment() {
  return withSetup(async (dir, started) => {
    const ours = namespace('ours');
    const rcv = namespace('rcv');
    const ourAddresses = Array.from({ length: IDLE_PEERS }, (_, i) => `198.51.100.${i + 1}`);
    link(
      ours,
      ourAddresses.map((a) => `${a}/24`),
      rcv,
      ['198.51.100.254/24'],
    );
    const protocols = ourAddresses.map((a, i) => ({
      name: `p${i + 1}`,
      local: '198.51.100.254',
      localAs: BIRD_AS,
      neighbor: a,
      peerAs: SENDER_AS,
      passive: true,
      importAll: true,
    }));
    const bird = await startBird(rcv, dir, 'receiver', birdConfig({ routerId: '198.51.100.254', protocols }));
    started.push(bird);
    const speaker = startSpeaker(ours, {
      mode: 'idle',
      announce: IDLE_ROUTES,
      holdTime: IDLE_HOLD_TIME,
      localAs: SENDER_AS,
      bgpId: '198.51.100.1',
      peerAs: BIRD_AS,
      peers: ourAddresses.map((a) => ({ peerAddress: '198.51.100.254', localAddress: a })),
    });
    started.push(speaker);
    await speaker.wait('allEstablished', 60_000);
    // Idle means: every session up and our routes in BIRD (the initial exchange is over).
    await poll(
      `BIRD to import ${IDLE_ROUTES} routes from each of ${IDLE_PEERS} sessions`,
      async () => {
        for (const p of protocols) if ((await importedRoutes(bird.ctl, p.name)) < IDLE_ROUTES) return undefined;
        return true;
      },
      { ms: 60_000, everyMs: 200 },
    );
    await new Promise((resolve) => setTimeout(resolve, IDLE_SETTLE_MS));
    // ROUNDS windows back to back; in each, our CPU and BIRD's over the same time.
    const windows = [];
    for (let round = 0; round < ROUNDS; round++) {
      const birdBefore = processCpuMs(bird.pid);
      const birdStart = Date.now();
      speaker.send(`cpu ${IDLE_WINDOW_MS}`);
      const cpu = await speaker.wait('cpu', IDLE_WINDOW_MS + 30_000);
      speaker.seen.splice(speaker.seen.indexOf(cpu), 1); // the next window waits for its own
      const birdMs = processCpuMs(bird.pid) - birdBefore;
      const birdWall = Date.now() - birdStart;
      windows.push({
        windowMs: cpu.wallMs,
        ours: {
          percent: ((cpu.userUs + cpu.systemUs) / 1000 / cpu.wallMs) * 100,
          userUs: cpu.userUs,
          systemUs: cpu.systemUs,
          threads: cpu.threads,
        },
        reference: { percent: (birdMs / birdWall) * 100, cpuMs: birdMs },
      });
    }
    const down = speaker.seen.filter((e) => e.event === 'down').length;
    await speaker.exit();
    started.splice(started.indexOf(speaker), 1);
    return { peers: IDLE_PEERS, routes: IDLE_ROUTES, settleMs: IDLE_SETTLE_MS, windows, down };
  });
}
