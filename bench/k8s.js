// Kubernetes benchmarks of the daemon (issue 5): Service created -> route at the router and endpoint
// gone -> route withdrawn (p50/p99 over 200 Services each), the full reconcile of 5,000 Services x 4
// peers after a restart, and the idle daemon's RSS and CPU (5,000 Services x 4 peers, and a small
// cluster of 20 Services x 2 peers, without BFD and with BFD at 300 ms x 3 on both sessions; gobgpd has
// no BFD, so the routers' side of BFD is our own engine, bench/bfd-engine.js, in the router namespace).
//
// Each experiment gets two network namespaces made here (bench/bgp-netns.js: removed on exit, also on
// an error or Ctrl-C, and swept by the next run if this one was killed): `k8s-host` is the node, where
// bench/k8s-experiments.js runs with the in-repo test API server in its own process and the daemon
// (`bgp-announce daemon`, the built CLI) as its child; `k8s-rtr` holds the gobgpd routers. One veth
// pair joins them: 192.0.2.10/24 and 2001:db8::10/64 on the node's side, 192.0.2.1-4 and
// 2001:db8::1-4 on the routers'. Needs root, `ip`, `gobgpd` and `gobgp` (Debian package gobgpd).
//
// There is no reference controller here (MetalLB needs a real cluster), so the reference column is
// empty; the notes give the breakdown of each figure instead. One experiment feeds several rows, so
// results are kept in a directory made by prepare() (K8S_BENCH_CACHE); a row run alone runs its own.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, ip, namespace, netnsUnavailable, onCleanup, startIn, sweepStale, teardown } from './bgp-netns.js';
import {
  DAEMON_LOG_LEVEL,
  DAEMON_NODE_ARGS,
  LATENCY_SERVICES,
  PACE_MS,
  RECONCILE_PEERS,
  RECONCILE_SERVICES,
  RESULT_MARK,
  SMALL_BFD,
  SMALL_PEERS,
  SMALL_SERVICES,
} from './k8s-settings.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SCRIPT = join(ROOT, 'bench', 'k8s-experiments.js');
const BUILT = [
  'packages/cli/dist/main.js',
  'packages/announcer/dist/index.js',
  'packages/test-apiserver/dist/index.js',
].map((p) => join(ROOT, p));
const CACHE_PREFIX = 'k8s-bench-cache-';
const ROUTERS = 4;

const fixed = (n, d = 1) => (n === undefined || n === null || Number.isNaN(n) ? '?' : n.toFixed(d));
const mb = (bytes) => bytes / 1e6;
const thousands = (n) => n.toLocaleString('en-US');

function unavailable() {
  const why = netnsUnavailable(['gobgpd', 'gobgp']);
  if (why)
    return `the Kubernetes benchmarks ${why.replace(/^needs/, 'need')}${why.includes('on PATH') ? ' (Debian: apt-get install gobgpd iproute2)' : ''}`;
  const missing = BUILT.find((f) => !existsSync(f));
  if (missing) return `${missing} is missing: build first (npx tsc -b)`;
  return undefined;
}

/** The node and router namespaces joined by one veth pair, with the addresses of bench/k8s-rig.js. */
function network() {
  const host = namespace('k8s-host');
  const rtr = namespace('k8s-rtr');
  const id = process.pid.toString(36);
  const devHost = `kh${id}`.slice(0, 15);
  const devRtr = `kr${id}`.slice(0, 15);
  ip('link', 'add', devHost, 'netns', host, 'type', 'veth', 'peer', 'name', devRtr, 'netns', rtr);
  ip('-n', host, 'addr', 'add', '192.0.2.10/24', 'dev', devHost);
  ip('-n', host, 'addr', 'add', '2001:db8::10/64', 'dev', devHost, 'nodad');
  for (let i = 1; i <= ROUTERS; i++) {
    ip('-n', rtr, 'addr', 'add', `192.0.2.${i}/24`, 'dev', devRtr);
    ip('-n', rtr, 'addr', 'add', `2001:db8::${i}/64`, 'dev', devRtr, 'nodad');
  }
  ip('-n', host, 'link', 'set', devHost, 'up');
  ip('-n', rtr, 'link', 'set', devRtr, 'up');
  return { host, rtr };
}

/** The experiment's result: from this run's cache, or run now (and cached for the next rows). */
async function experiment(name) {
  const why = unavailable();
  if (why) throw new Error(why);
  const cache = process.env.K8S_BENCH_CACHE;
  const file = cache ? join(cache, `${name}.json`) : undefined;
  if (file && existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    if (cached.error) throw new Error(cached.error);
    return cached;
  }
  sweepStale();
  const { host, rtr } = network();
  // The experiment's files (router configs) go where this process removes them, even if it is killed.
  const scratch = mkdtempSync(join(tmpdir(), 'k8s-bench-'));
  onCleanup(() => rmSync(scratch, { recursive: true, force: true }));
  const innerArgs = (process.env.K8S_BENCH_INNER_NODE_ARGS ?? '').split(' ').filter(Boolean); // e.g. --cpu-prof for the API server's process
  const inner = startIn(host, process.execPath, [...innerArgs, SCRIPT, name, rtr], {
    env: { K8S_BENCH_SCRATCH: scratch },
  });
  await inner.exited;
  const output = inner.output();
  await teardown([inner]);
  const line = output.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (!line) throw new Error(`the ${name} experiment printed no result: ${output.trim().slice(-1500)}`);
  const result = JSON.parse(line.slice(RESULT_MARK.length));
  if (file) writeFileSync(file, JSON.stringify(result)); // errors too: the experiment's other rows fail at once
  if (result.error) throw new Error(`${result.error}${process.env.K8S_BENCH_DEBUG ? `\n${output}` : ''}`);
  return result;
}

// ---------------------------------------------------------------------------------------------
// Runner hooks

/** Once per run: removes stale namespaces and caches of earlier runs, and makes this run's cache. */
export async function prepare() {
  const why = unavailable();
  if (why) return { env: {}, notes: [`skipped: ${why}`] };
  sweepStale();
  for (const d of readdirSync(tmpdir())) {
    const pid = d.startsWith(CACHE_PREFIX) ? Number(d.slice(CACHE_PREFIX.length)) : NaN;
    if (Number.isInteger(pid) && !alive(pid)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  const cache = join(tmpdir(), `${CACHE_PREFIX}${process.pid}`);
  mkdirSync(cache, { recursive: true });
  const gobgp = /\d+\.\d+\.\d+/.exec(spawnSync('gobgpd', ['--version'], { encoding: 'utf8' }).stdout ?? '')?.[0] ?? '?';
  return {
    env: { K8S_BENCH_CACHE: cache },
    notes: [
      `routers: gobgpd ${gobgp} in a namespace; the daemon is the built CLI in its own Node process (BFD engine on, metrics and admin endpoints on, log level ${DAEMON_LOG_LEVEL}), ` +
        `against the in-repo test API server in the bench's process; no reference controller (MetalLB cannot run here); load average ${loadavg()
          .map((l) => l.toFixed(1))
          .join(' ')} at the start`,
    ],
  };
}

/** Which Node ran the daemon, and with which options. */
const daemonText = (r) =>
  `daemon on Node ${r.daemonNode}${DAEMON_NODE_ARGS.length ? ` with ${DAEMON_NODE_ARGS.join(' ')}` : ''}`;

/** "p50 x, p99 y, max z ms". */
const spread = (s) => `p50 ${fixed(s.p50)}, p99 ${fixed(s.p99)}, max ${fixed(s.max)} ms`;
const paced = () => (PACE_MS > 0 ? `one every ${PACE_MS} ms` : 'each after the previous one arrived');

/** "1233 update services/status, ..." for the writes (and reads with many calls) of a request count. */
const requestsText = (counts) =>
  Object.entries(counts)
    .filter(([k, n]) => !/^(list|watch) /.test(k) || n > 2)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ') || 'none';

function createNote(r) {
  return (
    `${daemonText(r)}; ${r.services} Services created ${paced()} (after 10 warm-up Services, and once the daemon was quiet: ${fixed(r.settled[0] / 1000, 1)} s), API create call to the route in gobgpd's monitor stream: ${spread(r.create)}; ` +
    `of which create -> the allocator's status write served (allocator: watch, finalizer write, status write) ${spread(r.create.allocator)}, ` +
    `status -> route (node: watch, plan, UPDATE, gobgpd) ${spread(r.create.node)}; before them, ${r.single.n} Services one at a time (each after the previous route): ${spread(r.single)}; ` +
    `while they were created and announced (${fixed(r.load.create.ms / 1000, 1)} s) the daemon used ${fixed(r.load.create.daemonCpuPercent, 0)} % of a core and the API server's event loop was busy ${fixed(r.load.create.apiServerLoopPercent, 0)} % of the time; ` +
    `daemon reconciles so far ${r.reconciles.create.count} (mean ${fixed(r.reconciles.create.meanMs)} ms); API requests of the whole experiment: ${requestsText(r.requests)}`
  );
}

function withdrawNote(r) {
  return (
    `${r.services} Local Services with a ready endpoint on this node and on another; the EndpointSlice updated to drop this node's endpoint ${paced()} once the daemon was quiet (${fixed(r.settled[1] / 1000, 1)} s after they were announced), ` +
    `update call to the withdrawal in gobgpd's monitor stream: ${spread(r.withdraw)}; no allocator in this path; ` +
    (r.withdraw.applied
      ? `update call to the daemon's 'routes changed' log line (debug, ms resolution): ${spread(r.withdraw.applied)}; `
      : '') +
    `meanwhile (${fixed(r.load.withdraw.ms / 1000, 1)} s) the daemon used ${fixed(r.load.withdraw.daemonCpuPercent, 0)} % of a core, the API server's event loop was busy ${fixed(r.load.withdraw.apiServerLoopPercent, 0)} %`
  );
}

function reconcileNote(r) {
  const b = r.breakdown;
  const writes = requestsText(r.writesDuring);
  return (
    `${daemonText(r)}; ${thousands(r.services)} Services already allocated and announced (status, finalizer, conditions as our daemon leaves them) and ${r.peers} gobgpd routers (IPv6 sessions, 2001:db8:5::/112 VIPs); ` +
    `from the daemon's spawn: first API request served ${fixed(b.firstRequestMs, 0)} ms (Node start, module loading), Services listed ${fixed(b.servicesListedMs, 0)} ms, configuration accepted ${fixed(b.configAcceptedMs, 0)} ms, ` +
    `first plan applied (peers added) ${fixed(b.peersAddedMs, 0)} ms, all sessions Established ${fixed(b.establishedMs, 0)} ms, first route at a router ${fixed(b.firstRouteMs, 0)} ms, ` +
    `all ${thousands(r.services)} at each router ${b.perRouterMs.map((m) => fixed(m, 0)).join(', ')} ms; ` +
    `API writes before the last route: ${writes}; ` +
    (r.floorMs !== undefined && r.floorMs !== null
      ? `floor: the same routes from a bare Speaker already running (no Kubernetes, no process start) to the same routers ${fixed(r.floorMs, 0)} ms; `
      : '') +
    `(loading the Services into the test API server, untimed: ${fixed(r.loadMs / 1000, 1)} s)`
  );
}

function idleNote(r) {
  const w = r.idle;
  const requests = Object.entries(r.idleRequests)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ');
  return (
    `${daemonText(r)}; ${thousands(r.services)} Services x ${r.peers} peers${r.bfd ? `, BFD ${r.bfd.intervalMs} ms x ${r.bfd.detectMultiplier} with each (the routers' side: our engine in another process; Up through the window, ${r.bfd.packetsIn} packets received by it in all)` : ''}, window ${fixed(w.windowMs / 1000, 0)} s with no change, once the daemon had been quiet for 2 s (no API request, under 5 % CPU), ${fixed(r.settleMs / 1000, 1)} s after all routes were in` +
    (r.gcSettleMs !== undefined
      ? `, and then without a garbage collection for 10 s (${fixed(r.gcSettleMs / 1000, 1)} s)`
      : '') +
    `; ` +
    `VmRSS ${fixed(mb(w.rss), 1)} MB at the end (highest sample ${fixed(mb(w.maxRss), 1)}, VmHWM ${fixed(mb(w.hwm), 1)}; the daemon's V8 heap ${fixed(mb(w.daemon?.heapUsed), 1)} MB used of ${fixed(mb(w.daemon?.heapTotal), 1)}, external ${fixed(mb(w.daemon?.external), 1)}); ` +
    `CPU ${fixed(w.cpuMs, 0)} ms over the window (/proc/<pid>/stat, all threads; schedstat by thread: ${Object.entries(
      w.threads ?? {},
    )
      .map(([t, ms]) => `${t} ${fixed(ms, 0)}`)
      .join(', ')} ms), ` +
    `of which garbage collection ${
      Object.entries(w.gc ?? {})
        .map(([k, g]) => `${g.count} ${k} ${fixed(g.ms, 0)} ms`)
        .join(', ') || 'none'
    } (the daemon's GC metrics); ` +
    `${r.idleRequestCount} API requests in the window${requests ? ` (writes: ${requests})` : ''}` +
    (r.allWrites ? `; API writes from the daemon's start to the window: ${requestsText(r.allWrites)}` : '')
  );
}

const LATENCY_NAME = `${LATENCY_SERVICES} Services`;
const BIG = `${thousands(RECONCILE_SERVICES)} Services x ${RECONCILE_PEERS} peers`;
const SMALL = `${SMALL_SERVICES} Services x ${SMALL_PEERS} peers`;
const SMALL_WITH_BFD = `${SMALL}, BFD ${SMALL_BFD.intervalMs} ms x ${SMALL_BFD.detectMultiplier}`;

export const rows = [
  {
    name: `K8S Service created -> route at the router, p50 of ${LATENCY_NAME}`,
    unit: 'ms',
    goal: 100,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('latency');
      return { ours: r.create.p50, note: createNote(r) };
    },
  },
  {
    name: `K8S Service created -> route at the router, p99 of ${LATENCY_NAME}`,
    unit: 'ms',
    goal: 500,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('latency');
      return { ours: r.create.p99, note: `max ${fixed(r.create.max)} ms` };
    },
  },
  {
    name: `K8S endpoint gone -> route withdrawn, p50 of ${LATENCY_NAME}`,
    unit: 'ms',
    goal: 100,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('latency');
      return { ours: r.withdraw.p50, note: withdrawNote(r) };
    },
  },
  {
    name: `K8S endpoint gone -> route withdrawn, p99 of ${LATENCY_NAME}`,
    unit: 'ms',
    goal: 500,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('latency');
      return { ours: r.withdraw.p99, note: `max ${fixed(r.withdraw.max)} ms` };
    },
  },
  {
    name: `K8S full reconcile after a restart, ${BIG} (daemon start to all routes at all routers)`,
    unit: 's',
    goal: 2,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('reconcile');
      return { ours: r.totalMs / 1000, note: reconcileNote(r) };
    },
  },
  {
    name: `K8S idle daemon RSS, ${BIG}`,
    unit: 'MB',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('reconcile');
      return { ours: mb(r.idle.rss), note: idleNote(r) };
    },
  },
  {
    name: `K8S idle daemon CPU, ${BIG}`,
    unit: '% of a core',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('reconcile');
      return { ours: r.idle.cpuPercent };
    },
  },
  {
    name: `K8S idle daemon RSS, ${SMALL}`,
    unit: 'MB',
    goal: 80,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('idle');
      return { ours: mb(r.idle.rss), note: idleNote(r) };
    },
  },
  {
    name: `K8S idle daemon CPU, ${SMALL}`,
    unit: '% of a core',
    lowerIsBetter: true,
    async run() {
      const r = await experiment('idle');
      return { ours: r.idle.cpuPercent };
    },
  },
  {
    name: `K8S idle daemon RSS, ${SMALL_WITH_BFD}`,
    unit: 'MB',
    goal: 100,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('idle-bfd');
      return { ours: mb(r.idle.rss), note: idleNote(r) };
    },
  },
  {
    name: `K8S idle daemon CPU, ${SMALL_WITH_BFD}`,
    unit: '% of a core',
    goal: 1,
    lowerIsBetter: true,
    async run() {
      const r = await experiment('idle-bfd');
      return { ours: r.idle.cpuPercent };
    },
  },
];
