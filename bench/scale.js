// Kubernetes load against node count (issue 12): the lab (`bgp-announce lab`'s library, gobgpd as the
// router) at 3, 10 and 32 nodes, each node a network namespace running the built daemon against the
// lab's in-repo API server. Per size: the API requests of an idle node, the writes one Service change
// costs (to Service objects and to the per-node BGPNodeStates), and Service created -> route at the
// router. bench/scale-lab.js runs one size and says what each figure is made of; projecting the
// figures to 5,000 nodes is done on paper in bench/README.md.
//
// One lab per size feeds several rows, so results are kept in a directory made by prepare()
// (SCALE_BENCH_CACHE); a row run alone runs its own lab. Settings (environment):
//   SCALE_NODES            sizes, default "3,10,32" (the lab's maximum is 32)
//   SCALE_IDLE_SECONDS     the idle window, default 120 (10 when CI=true)
//   SCALE_SERVICES         Services created one after another for the latency rows, default 50
// Needs root, ip and gobgpd (Debian: gobgpd); takes about 3 minutes per size with the defaults.
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { alive, netnsUnavailable } from './bgp-netns.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const BUILT = ['packages/cli/dist/lab/lab.js', 'packages/announcer/dist/kube/informer.js'].map((p) => join(ROOT, p));
const CACHE_PREFIX = 'scale-bench-cache-';
const env = process.env;
const SIZES = (env.SCALE_NODES ?? '3,10,32').split(',').map(Number);
const IDLE_MS = Number(env.SCALE_IDLE_SECONDS ?? (env.CI === 'true' ? 10 : 120)) * 1000;
const SERVICES = Number(env.SCALE_SERVICES ?? 50);

const fixed = (n, d = 1) => (n === undefined || n === null || Number.isNaN(n) ? '?' : n.toFixed(d));
const counts = (o) =>
  Object.entries(o)
    .map(([k, n]) => `${n} ${k}`)
    .join(', ') || 'none';

function unavailable() {
  const why = netnsUnavailable(['gobgpd', 'gobgp']);
  if (why) return `the scale benchmarks ${why.replace(/^needs/, 'need')}`;
  const missing = BUILT.find((f) => !existsSync(f));
  if (missing) return `${missing} is missing: build first (npx tsc -b)`;
  return undefined;
}

/** The result for `nodes` nodes: from this run's cache, or run now (and cached for the next rows). */
async function experiment(nodes) {
  const why = unavailable();
  if (why) throw new Error(why);
  const cache = env.SCALE_BENCH_CACHE;
  const file = cache ? join(cache, `${nodes}.json`) : undefined;
  if (file && existsSync(file)) {
    const cached = JSON.parse(readFileSync(file, 'utf8'));
    if (cached.error) throw new Error(cached.error);
    return cached;
  }
  const { runScale } = await import('./scale-lab.js');
  const { DEFAULT_WATCH_TIMEOUT_S } = await import('../packages/announcer/dist/kube/informer.js');
  let result;
  try {
    result = await runScale({
      nodes,
      idleMs: IDLE_MS,
      latencyServices: SERVICES,
      say: (line) => process.stderr.write(`  [${nodes} nodes] ${line}\n`),
    });
    result.meanWatchTimeoutS = 1.5 * DEFAULT_WATCH_TIMEOUT_S;
  } catch (err) {
    result = { error: err instanceof Error ? err.message : String(err) };
  }
  if (file) writeFileSync(file, JSON.stringify(result)); // errors too: the size's other rows fail at once
  if (result.error) throw new Error(result.error);
  return result;
}

/** Once per run: removes caches of earlier runs and makes this run's. */
export async function prepare() {
  const why = unavailable();
  if (why) return { env: {}, notes: [`skipped: ${why}`] };
  for (const d of readdirSync(tmpdir())) {
    const pid = d.startsWith(CACHE_PREFIX) ? Number(d.slice(CACHE_PREFIX.length)) : NaN;
    if (Number.isInteger(pid) && !alive(pid)) rmSync(join(tmpdir(), d), { recursive: true, force: true });
  }
  const cache = join(tmpdir(), `${CACHE_PREFIX}${process.pid}`);
  mkdirSync(cache, { recursive: true });
  return {
    env: { SCALE_BENCH_CACHE: cache },
    notes: [
      `the lab with gobgpd as the router, one daemon per node namespace (the built CLI, default settings: 15 s Lease, watches re-opened every 10-20 min), the in-repo API server in the bench's process; idle window ${IDLE_MS / 1000} s; ${SERVICES} Services timed per size`,
    ],
  };
}

/** Requests per minute of an idle non-leader: what the window saw, plus its watches' steady re-opening. */
function idleRate(r) {
  return r.idle.nonLeaderMean + (r.idle.watchesPerNonLeader * 60) / r.meanWatchTimeoutS;
}

function idleNote(r) {
  const i = r.idle;
  return (
    `${r.nodes} nodes settled (sessions up, every VIP routed) ${fixed(r.settledMs / 1000)} s after the lab started; window ${fixed(i.seconds, 0)} s with no change: ` +
    `non-leaders made ${fixed(i.nonLeaderMean, 2)} requests a minute on average (most ${fixed(i.nonLeaderMax, 2)}), the leader ${i.leader} ${fixed(i.leaderPerMinute, 1)} (Lease renewals every 5 s); ` +
    `all requests in the window: ${counts(i.byKind)}${i.unattributed ? ` (${i.unattributed} without our User-Agent)` : ''}; ` +
    `each non-leader holds ${i.watchesPerNonLeader} watches, each re-opened (one request, no list) when its random 10-20 min timeout runs out: ` +
    `${fixed((i.watchesPerNonLeader * 60) / r.meanWatchTimeoutS, 2)} a minute at steady state, added to the window's rate (the window is shorter than the timeouts)`
  );
}

const isCreate = (c) => c.what.startsWith('created');

function changesNote(r) {
  return r.changes
    .map(
      (c) =>
        `${c.what}: ${fixed(c.ms, 0)} ms to the router and the Announced condition, Service writes ${counts(c.serviceWrites)} (${counts(c.serviceWriteKinds)}), ` +
        `BGPNodeState writes ${c.nodeStateWrites} by ${c.nodeStateNodes} nodes (most by one ${c.maxPerNodeState}), other writes ${counts(c.other)}`,
    )
    .join('; ');
}

function latencyNote(r) {
  const { first, every } = r.latency;
  return (
    `${first.n} Cluster Services with ready endpoints on every node, created one after another: API create call -> the first path in gobgpd's monitor stream p50 ${fixed(first.p50)}, p99 ${fixed(first.p99)}, max ${fixed(first.max)} ms; ` +
    `-> a path from every one of the ${r.nodes} nodes in gobgpd's RIB (read every 50 ms) p50 ${fixed(every.p50)}, p99 ${fixed(every.p99)}, max ${fixed(every.max)} ms`
  );
}

function sizeRows(nodes) {
  const n = `${nodes} node${nodes === 1 ? '' : 's'}`;
  return [
    {
      name: `K8S at scale, ${n}: API requests per minute per non-leader node at idle`,
      unit: 'requests/min',
      goal: 1,
      lowerIsBetter: true,
      async run() {
        const r = await experiment(nodes);
        return { ours: idleRate(r), note: idleNote(r) };
      },
    },
    {
      name: `K8S at scale, ${n}: most writes to one Service object per change (policy, endpoint moved, node excluded, deleted)`,
      unit: 'writes',
      goal: 2,
      lowerIsBetter: true,
      async run() {
        const r = await experiment(nodes);
        return {
          ours: Math.max(...r.changes.filter((c) => !isCreate(c)).map((c) => c.maxPerService)),
          note: changesNote(r),
        };
      },
    },
    {
      name: `K8S at scale, ${n}: writes to a new Service object (finalizer, address, Announced)`,
      unit: 'writes',
      lowerIsBetter: true,
      async run() {
        const r = await experiment(nodes);
        return { ours: r.changes.find(isCreate).maxPerService };
      },
    },
    {
      name: `K8S at scale, ${n}: most writes to one node's BGPNodeState per change`,
      unit: 'writes',
      goal: 1,
      lowerIsBetter: true,
      async run() {
        const r = await experiment(nodes);
        const c = r.changes;
        return {
          ours: Math.max(...c.map((x) => x.maxPerNodeState)),
          note: `BGPNodeState writes in all per change (only nodes whose announcements changed write): ${c.map((x) => `${x.what} ${x.nodeStateWrites}`).join(', ')}`,
        };
      },
    },
    {
      name: `K8S at scale, ${n}: Service created -> route at the router, p99`,
      unit: 'ms',
      goal: nodes >= 32 ? 1000 : undefined,
      lowerIsBetter: true,
      async run() {
        const r = await experiment(nodes);
        return { ours: r.latency.first.p99, note: latencyNote(r) };
      },
    },
  ];
}

export const rows = SIZES.flatMap(sizeRows);
