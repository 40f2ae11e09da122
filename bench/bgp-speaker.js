// Our side of the BGP benchmarks: the built Speaker (packages/bgp-speaker/dist) in its own process,
// started by bench/bgp.js inside a network namespace as
//   node --expose-gc bench/bgp-speaker.js '<settings as JSON>'
// It prints one JSON object per line (events, measurements) and reads commands, one per line, on
// stdin: "memory" (gc, then heap and RSS), "cpu <ms>" (CPU used over that window), "exit".
// Modes:
//   announce  announce `count` benchmark prefixes, then add the peer: they go out on Established
//   receive   add the peer and count what arrives in its Adj-RIB-In until `count` routes are there
//   idle      add `peers` peers, announce a few routes, report when every session is Established
// Benchmark prefixes are 10.0.0.0/8 /32s: NLRI data between BIRD and us in the bench's namespaces,
// never installed in a kernel table and never a traffic destination (see bench/README.md).
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import inspector from 'node:inspector';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { benchPrefix } from './bgp-bird.js';

const print = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);

function memory() {
  globalThis.gc?.();
  globalThis.gc?.();
  const m = process.memoryUsage();
  const hwm = Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN) * 1024;
  // external includes ArrayBuffers (typed arrays), where packed tables live
  return { heapUsed: m.heapUsed, external: m.external, used: m.heapUsed + m.external, rss: m.rss, peakRss: hwm };
}

/** CPU time (user + system) this process has used, in microseconds. */
function cpuUs() {
  const u = process.cpuUsage();
  return u.user + u.system;
}

/** CPU time (user + system, in clock ticks of 10 ms) of this process's main thread and of its other threads. */
function threadTicks() {
  const out = {};
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === process.pid ? 'main' : 'others';
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out[name] = (out[name] ?? 0) + Number(fields[11]) + Number(fields[12]);
    } catch {
      // the thread ended
    }
  }
  return out;
}

/**
 * With BGP_BENCH_WINDOW_PROFILE=<directory>: starts V8's CPU profiler now, and stop() writes what it
 * sampled to <directory>/window-<pid>.cpuprofile (unlike --cpu-prof, only the measured window).
 */
function windowProfiler() {
  const dir = process.env.BGP_BENCH_WINDOW_PROFILE;
  if (!dir) return undefined;
  const session = new inspector.Session();
  session.connect();
  session.post('Profiler.enable', () => session.post('Profiler.start'));
  return {
    stop: () =>
      session.post('Profiler.stop', (err, result) => {
        if (!err) writeFileSync(join(dir, `window-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
        session.disconnect();
      }),
  };
}

async function main(settings) {
  const { Speaker } = await import('@bgp-announce/bgp-speaker');
  const speaker = new Speaker({ localAs: settings.localAs, bgpId: settings.bgpId });
  speaker.on('error', (id, err) => print({ event: 'error', id, message: err.message }));
  speaker.on('down', (id, reason) => print({ event: 'down', id, reason: reason.kind ?? String(reason) }));

  const commands = createInterface({ input: process.stdin });
  commands.on('close', () => process.exit(0)); // the bench went away
  commands.on('line', (line) => {
    const [cmd, arg] = line.trim().split(/\s+/);
    if (cmd === 'memory') print({ event: 'memory', cpuUs: cpuUs(), ...memory() });
    else if (cmd === 'cpu') {
      const profile = windowProfiler(); // BGP_BENCH_WINDOW_PROFILE: a CPU profile of this window only
      const threadsBefore = threadTicks();
      const before = process.cpuUsage();
      const start = performance.now();
      if (process.env.BGP_BENCH_TRACE) console.log(`cpu window starts`);
      setTimeout(() => {
        if (process.env.BGP_BENCH_TRACE) console.log(`cpu window ends`);
        const used = process.cpuUsage(before);
        const threads = threadTicks();
        for (const [name, ticks] of Object.entries(threadsBefore)) threads[name] = (threads[name] ?? 0) - ticks;
        print({ event: 'cpu', userUs: used.user, systemUs: used.system, wallMs: performance.now() - start, threads });
        profile?.stop();
      }, Number(arg));
    } else if (cmd === 'exit') {
      const stop = speaker.stop({ message: 'benchmark done' });
      const timer = setTimeout(() => process.exit(0), 3000);
      void stop.then(() => {
        clearTimeout(timer);
        process.exit(0);
      });
    }
  });

  const peer = (p) => ({
    peerAddress: p.peerAddress,
    localAddress: p.localAddress,
    peerAs: settings.peerAs,
    ...(settings.holdTime ? { holdTime: settings.holdTime } : {}),
  });

  if (settings.mode === 'announce') {
    print({ event: 'baseline', ...memory() });
    const start = performance.now();
    for (let i = 0; i < settings.count; i++) speaker.announce(benchPrefix(i));
    print({ event: 'announced', ms: performance.now() - start, ...memory() });
    speaker.on('established', () => {
      const at = Date.now();
      const t = performance.now();
      const cpu = cpuUs();
      // The Speaker diffs and sends synchronously right after this event: time that part.
      setImmediate(() => print({ event: 'established', at, cpuUs: cpu, flushMs: performance.now() - t }));
    });
    speaker.addPeer('bird', peer(settings.peers[0]));
  } else if (settings.mode === 'receive') {
    print({ event: 'baseline', ...memory() });
    let established = 0;
    let cpuAtEstablished = 0;
    let done = false;
    speaker.on('established', () => {
      established = performance.now();
      cpuAtEstablished = cpuUs();
      print({ event: 'established', at: Date.now() });
    });
    const trace = []; // [ms since Established, routes, CPU ms] every 100,000 routes
    let upTo = 0; // announced minus withdrawn so far, never less than the routes held: peers() is asked only near the end
    let updates = 0;
    speaker.on('routesReceived', (id, result) => {
      if (done) return;
      updates++;
      upTo += result.announced - result.withdrawn;
      if (Math.floor(upTo / 100_000) > trace.length)
        trace.push([
          Math.round(performance.now() - established),
          upTo,
          Math.round((cpuUs() - cpuAtEstablished) / 1000),
        ]);
      if (upTo < settings.count) return;
      const received = speaker.peers()[0]?.received ?? 0;
      if (received < settings.count) return;
      done = true;
      print({
        event: 'received',
        ms: performance.now() - established,
        cpuMs: (cpuUs() - cpuAtEstablished) / 1000,
        at: Date.now(),
        received,
        updates,
        trace,
      });
    });
    speaker.addPeer('bird', peer(settings.peers[0]));
  } else if (settings.mode === 'idle') {
    for (let i = 0; i < settings.announce; i++) speaker.announce(`203.0.113.${i + 1}/32`);
    const up = new Set();
    speaker.on('peerState', (id, to) => {
      if (to === 'Established') up.add(id);
      else up.delete(id);
      if (to === 'Established' && up.size === settings.peers.length) print({ event: 'allEstablished', at: Date.now() });
    });
    settings.peers.forEach((p, i) => speaker.addPeer(`p${i}`, peer(p)));
  } else throw new Error(`unknown mode ${settings.mode}`);
  print({ event: 'started' });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(JSON.parse(process.argv[2] ?? '{}')).catch((err) => {
    print({ event: 'fatal', message: err instanceof Error ? err.message : String(err) });
    process.exit(1);
  });
}
