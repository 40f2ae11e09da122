// Leader election with the default durations (15 s Lease, renew every 5 s, jitter 0-2 s), in real
// time against the in-repo test API server, through the built packages:
// - idle: the requests a non-leader (and the leader) make in one minute;
// - failover: a leader killed (stopped without release) at a random point of its renew cycle ->
//   another candidate leads; how long it took and how many writes the candidates made for it;
// - release: a leader that releases -> another candidate leads.
// Standalone (its name has a dash, so `npm run bench` skips it): `npx tsc -b && node bench/lease-failover.js
// [--candidates N] [--trials N] [--idle-seconds N]`. Takes about 2-3 minutes with the defaults.
import { parseArgs } from 'node:util';
import { start } from '@bgp-announce/test-apiserver';
import { LeaderElection, loadKubeConfig } from '@bgp-announce/announcer';

const { values } = parseArgs({
  options: {
    candidates: { type: 'string', default: '5' },
    trials: { type: 'string', default: '5' },
    'idle-seconds': { type: 'string', default: '60' },
  },
});
const CANDIDATES = Number(values.candidates);
const TRIALS = Number(values.trials);
const IDLE_S = Number(values['idle-seconds']);
const NAME = 'bgp-announce-allocator';
const NS = 'kube-system';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
async function until(what, fn, ms = 60_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

const server = await start({ port: 0, bookmarkIntervalMs: 60_000 });
let next = 0;
const live = new Set();
function candidate() {
  const identity = `node-${++next}`;
  const { kubeConfig } = loadKubeConfig({ url: server.url, userAgent: identity });
  const election = new LeaderElection({ kubeConfig, name: NAME, namespace: NS, identity });
  election.identity = identity;
  election.start();
  live.add(election);
  return election;
}
const leader = () => [...live].find((e) => e.isLeader());
const leaseRequests = (since, filter = () => true) =>
  server
    .requests()
    .slice(since)
    .filter((r) => r.resource === 'leases' && filter(r));
const renewTimeOf = () => Date.parse(server.get('leases.coordination.k8s.io', NAME, NS)?.spec?.renewTime ?? '');

for (let i = 0; i < CANDIDATES; i++) candidate();
let current = await until('a first leader', leader);
await until('every candidate to see it', () => [...live].every((e) => e.holder() === current.identity));
// Candidates whose first attempt (a create, at start) was already on its way settle: 409, then they wait.
await until('no attempt in flight', () =>
  [...live].every((e) => e.isLeader() || e.observed()?.nextAttemptAt !== undefined),
);

// Idle.
let mark = server.requests().length;
await sleep(IDLE_S * 1000);
const idle = leaseRequests(mark);
const perMinute = (n) => ((n * 60) / IDLE_S).toFixed(2);
const nonLeaderRequests = idle.filter((r) => r.userAgent !== current.identity);
console.log(
  `idle ${IDLE_S} s, ${CANDIDATES} candidates: non-leaders made ${nonLeaderRequests.length} requests (${perMinute(nonLeaderRequests.length / (CANDIDATES - 1))}/min each: ${[...new Set(nonLeaderRequests.map((r) => r.verb))].join(', ') || 'none'}); the leader ${idle.length - nonLeaderRequests.length} (${perMinute(idle.length - nonLeaderRequests.length)}/min)`,
);

// Failover after a kill.
const results = [];
for (let trial = 0; trial < TRIALS; trial++) {
  const renewed = renewTimeOf();
  await until('the next renewal', () => renewTimeOf() !== renewed);
  await sleep(Math.random() * 5000); // kill at a random point of the renew cycle
  const lastRenew = renewTimeOf();
  mark = server.requests().length;
  const killed = current;
  const t0 = Date.now();
  killed.stop();
  live.delete(killed);
  current = await until('a new leader', leader);
  const took = Date.now() - t0;
  const writes = leaseRequests(mark, (r) => r.verb === 'update');
  results.push({
    took,
    sinceRenew: Date.now() - lastRenew,
    writes: writes.length,
    conflicts: writes.filter((r) => r.status === 409).length,
  });
  console.log(
    `kill ${trial + 1}: ${current.identity} leads ${took} ms after the kill (${Date.now() - lastRenew} ms after the last renewal); ${writes.length} update(s), ${writes.filter((r) => r.status === 409).length} answered 409`,
  );
  candidate(); // keep the number of candidates
  await until('every candidate to see the new leader', () => [...live].every((e) => e.holder() === current.identity));
}
const tooks = results.map((r) => r.took).sort((a, b) => a - b);
console.log(
  `failover after a kill: min ${tooks[0]} ms, median ${tooks[tooks.length >> 1]} ms, max ${tooks.at(-1)} ms (bound: 15 s + 5 s = 20000 ms)`,
);

// Release.
for (let trial = 0; trial < 3; trial++) {
  mark = server.requests().length;
  const releasing = current;
  const t0 = Date.now();
  await releasing.release();
  live.delete(releasing);
  current = await until('a new leader', leader);
  const writes = leaseRequests(mark, (r) => r.verb === 'update' && r.userAgent !== releasing.identity);
  console.log(
    `release ${trial + 1}: ${current.identity} leads ${Date.now() - t0} ms after release() began; ${writes.length} update(s), ${writes.filter((r) => r.status === 409).length} answered 409`,
  );
  candidate();
  await until('every candidate to see the new leader', () => [...live].every((e) => e.holder() === current.identity));
}

for (const e of live) e.stop();
await server.stop();
