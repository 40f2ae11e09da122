// How much the BFD engine's worker allocates per packet, and how often it collects garbage: two built
// engines (packages/bfd/dist) in one process on loopback, N sessions between them, run under
// `--trace-gc-nvp`, whose every line names the isolate (each worker has its own) and the bytes allocated
// since that isolate's previous collection. Needs the addon (TTL-checking sockets) and `npx tsc -b`.
//
//   node packages/bfd/scripts/alloc-probe.mjs [sessions=50] [intervalMs=50] [seconds=60]
//
// Prints, per worker: collections per minute, the largest pause, and bytes allocated per packet
// (sent or received), counted between consecutive young-generation collections in the measured window.
// BFD_PROBE_DIST=<path to another build's index.js> measures that build instead (before/after).
import { spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const [sessions = 50, intervalMs = 50, seconds = 60] = process.argv
  .slice(2)
  .filter((a) => a !== '--child')
  .map(Number);
const WARMUP_MS = 5000;

async function child() {
  const { BfdEngine } = await import(process.env.BFD_PROBE_DIST ?? '../dist/index.js');
  const base = 40000 + Math.floor(Math.random() * 20000);
  const portsA = { singleHop: base, multihop: base + 1 };
  const portsB = { singleHop: base + 2, multihop: base + 3 };
  const started = performance.now();
  const a = await BfdEngine.start({ listenPorts: portsA });
  const b = await BfdEngine.start({ listenPorts: portsB });
  const profile = { name: 'probe', transmitInterval: intervalMs, receiveInterval: intervalMs, detectMultiplier: 3 };
  const downs = {}; // Up -> Down transitions before the engines stop, by diag
  let stopping = false;
  for (const e of [a, b])
    e.on(
      'state',
      (_id, c) => void (c.from === 'Up' && !stopping && (downs[`diag ${c.diag}`] = (downs[`diag ${c.diag}`] ?? 0) + 1)),
    );
  for (let i = 0; i < sessions; i++) {
    const peer = `127.0.${1 + (i >> 8)}.${i & 255}`;
    a.addSession({ peerAddress: peer, localAddress: '127.0.0.1', port: portsB.singleHop, profile });
    b.addSession({ peerAddress: '127.0.0.1', localAddress: peer, port: portsA.singleHop, profile });
  }
  await new Promise((resolve) => setTimeout(resolve, WARMUP_MS));
  const packets = async () => (await Promise.all([a.metrics(), b.metrics()])).map((m) => m.packetsIn + m.packetsOut);
  const before = await packets();
  const from = performance.now() - started;
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const after = await packets();
  const to = performance.now() - started;
  const up = (await Promise.all(a.sessionIds().map((id) => a.session(id)))).filter((s) => s?.state === 'Up').length;
  stopping = true;
  await Promise.all([a.stop(), b.stop()]);
  process.stdout.write(
    `PROBE ${JSON.stringify({ from, to, packets: after.map((n, i) => n - (before[i] ?? 0)), up, downs })}\n`,
  );
}

async function parent() {
  const proc = spawn(
    process.execPath,
    [
      '--trace-gc-nvp',
      fileURLToPath(import.meta.url),
      '--child',
      String(sessions),
      String(intervalMs),
      String(seconds),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  proc.stdout.on('data', (c) => (out += c));
  await new Promise((resolve) => proc.on('exit', resolve));
  const probe = JSON.parse(
    out
      .split('\n')
      .find((l) => l.startsWith('PROBE '))
      ?.slice(6) ?? 'null',
  );
  if (probe === null) throw new Error(`the probe printed no result:\n${out.slice(-2000)}`);
  const isolates = new Map();
  for (const line of out.split('\n')) {
    const m = /^\[\d+:(0x[0-9a-f]+)\]\s+(\d+) ms: pause=([\d.]+).*? gc=(\w+).*? allocated=(\d+)/.exec(line);
    if (m === null) continue;
    const [, isolate, at, pause, kind, allocated] = m;
    if (!isolates.has(isolate)) isolates.set(isolate, []);
    isolates.get(isolate).push({ at: Number(at), pause: Number(pause), kind, allocated: Number(allocated) });
  }
  // The two workers collect the most often (the main thread idles); each handles about half of the
  // packets (both engines send and receive alike).
  const workers = [...isolates.values()].sort((x, y) => y.length - x.length).slice(0, 2);
  const packetsPerMs = (probe.packets[0] + probe.packets[1]) / 2 / (probe.to - probe.from);
  console.log(
    `${sessions} sessions at ${intervalMs} ms, ${seconds} s measured after ${WARMUP_MS / 1000} s; ${probe.up}/${sessions} Up at the end, Downs ${JSON.stringify(probe.downs)}; ${(packetsPerMs * 1000).toFixed(0)} packets/s per worker (sent + received)`,
  );
  workers.forEach((gcs, i) => {
    // Worker isolates start a few ms after the child's clock origin: close enough for a window of seconds.
    const inWindow = gcs.filter((g) => g.at >= probe.from && g.at <= probe.to);
    const perMinute = (inWindow.length / (probe.to - probe.from)) * 60_000;
    const maxPause = Math.max(0, ...inWindow.map((g) => g.pause));
    // Bytes per packet from runs of consecutive young-generation collections: each one's `allocated`
    // counts from the collection before it (a full collection in between starts a new run).
    let bytes = 0;
    let ms = 0;
    for (let k = 1; k < inWindow.length; k++) {
      if (inWindow[k].kind !== 's' || inWindow[k - 1].kind !== 's') continue;
      bytes += inWindow[k].allocated;
      ms += inWindow[k].at - inWindow[k - 1].at;
    }
    const perPacket =
      ms > 0
        ? `${(bytes / (ms * packetsPerMs)).toFixed(0)} bytes/packet`
        : 'n/a (no two young-generation collections in a row)';
    console.log(
      `worker ${i + 1}: ${inWindow.length} collections (${perMinute.toFixed(1)}/min; ${inWindow.filter((g) => g.kind !== 's').length} not young-generation), max pause ${maxPause} ms, ${perPacket}`,
    );
  });
}

if (process.argv.includes('--child')) await child();
else await parent();
