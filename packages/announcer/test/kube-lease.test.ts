// Leader election on a coordination.k8s.io/v1 Lease against the test API server: one of two candidates
// leads; the other takes over at once after release() and only after expiry after a crash; a Lease
// changed behind the leader's back (stale resourceVersion, 409) and an unreachable API server both
// make the leader say 'lost' before anyone else can lead.
// In virtual time (a manual clock per candidate; every request is real and counted by the server):
// a non-leader watches instead of polling (one list and one watch over ten idle minutes), ignores
// clock skew, takes over exactly one lease duration plus its jitter after the last renewal it saw, or
// after the jitter alone on a release; of several candidates only the first writes; a dropped,
// compacted or restarted watch and a watch that cannot reconnect (stale view: a 409 and one read)
// never make a second leader.
import t, { type Test } from 'tap';
import { start } from '@bgp-announce/test-apiserver';
import { manualClock, type Clock, type ManualClock } from '@bgp-announce/bgp-speaker';
import type { V1Lease } from '@kubernetes/client-node';
import { loadKubeConfig } from '../src/kube/client.js';
import { LeaderElection, leaseExpired, microTime, type LeaderElectionOptions } from '../src/kube/lease.js';
import { takeoverAt } from '../src/kube/lease-watch.js';
import { until } from './helpers/kube-harness.js';

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Candidate {
  election: LeaderElection;
  log: string[];
}

const LEASES = 'leases.coordination.k8s.io';

async function setup(t: Test) {
  const s = await start();
  t.teardown(() => s.stop());
  const candidate = (identity: string, extra: Partial<LeaderElectionOptions> = {}): Candidate => {
    // Each candidate its own User-Agent: the server's request log tells whose request it was.
    const { kubeConfig } = loadKubeConfig({ url: s.url, userAgent: identity });
    const election = new LeaderElection({
      kubeConfig,
      name: 'bgp-announce',
      namespace: 'kube-system',
      identity,
      leaseDurationSeconds: 1,
      retryPeriodMs: 50,
      acquireJitterMs: 50,
      ...extra,
    });
    const log: string[] = [];
    election.on('leading', () => log.push('leading'));
    election.on('lost', (reason) => log.push(`lost: ${reason}`));
    t.teardown(() => election.stop());
    return { election, log };
  };
  const lease = (): V1Lease['spec'] & Record<string, unknown> =>
    (s.get(LEASES, 'bgp-announce', 'kube-system')?.spec ?? {}) as never;
  const resourceVersion = (): string | undefined =>
    s.get(LEASES, 'bgp-announce', 'kube-system')?.metadata.resourceVersion;
  /** The Lease requests `identity` made: [verb, status] (a watch refused with 410 shows 410). */
  const requestsOf = (identity: string): [string, number][] =>
    s
      .requests()
      .filter((r) => r.userAgent === identity && r.resource === 'leases')
      .map((r) => [r.verb ?? r.method, r.watchError ?? r.status]);
  return { s, candidate, lease, resourceVersion, requestsOf };
}

t.test('microTime has six fractional digits; leaseExpired', async (t) => {
  t.equal(JSON.stringify(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))), '"2024-01-02T03:04:05.678000Z"');
  const lease = (holder: string | undefined, renew: string): V1Lease => ({
    spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: renew as never },
  });
  const renewed = Date.UTC(2024, 0, 1);
  t.equal(
    leaseExpired(lease('a', '2024-01-01T00:00:00.000000Z'), renewed + 15_000),
    false,
    'exactly at the end: still held',
  );
  t.equal(leaseExpired(lease('a', '2024-01-01T00:00:00.000000Z'), renewed + 15_001), true);
  t.equal(leaseExpired(lease(undefined, '2024-01-01T00:00:00.000000Z'), renewed), true, 'no holder: free');
  t.equal(leaseExpired(lease('', '2024-01-01T00:00:00.000000Z'), renewed), true, 'empty holder: free');
});

t.test('two candidates: one leads; the other takes over at once after release()', async (t) => {
  const { s, candidate, lease } = await setup(t);
  const a = candidate('node-a', { leaseDurationSeconds: 10 });
  a.election.start();
  await until('a leading', () => a.election.isLeader());
  const b = candidate('node-b', { leaseDurationSeconds: 10 });
  b.election.start();
  await until('b to see a holding', () => b.election.holder() === 'node-a');
  t.equal(b.election.isLeader(), false);
  const held = lease();
  t.equal(held.holderIdentity, 'node-a');
  t.equal(held.leaseDurationSeconds, 10);
  t.equal(held.leaseTransitions, 0);
  t.match(held.renewTime, MICRO_TIME, 'renewTime is a MicroTime');
  t.match(held.acquireTime, MICRO_TIME, 'acquireTime is a MicroTime');

  const released = Date.now();
  await a.election.release();
  t.same(a.log, ['leading', 'lost: released']);
  t.equal(lease().holderIdentity, undefined, 'the holder is cleared');
  await until('b leading', () => b.election.isLeader(), 2000);
  t.ok(Date.now() - released < 2000, 'b took over long before the 10 s lease could expire');
  t.same(b.log, ['leading']);
  const taken = lease();
  t.equal(taken.holderIdentity, 'node-b');
  t.equal(taken.leaseTransitions, 1);
  const updates = s.requests().filter((r) => r.resource === 'leases' && r.verb === 'update' && r.status === 409);
  t.same(updates, [], 'no conflicts: b waited while a held the lease');
});

t.test('after a crash (no release) the other candidate takes over only once the lease expired', async (t) => {
  const { candidate, lease } = await setup(t);
  const a = candidate('node-a', { leaseDurationSeconds: 2, renewIntervalMs: 200 });
  a.election.start();
  await until('a leading', () => a.election.isLeader());
  const b = candidate('node-b', { leaseDurationSeconds: 2 });
  b.election.start();
  // a renews: renewTime moves while b keeps waiting.
  const first = lease().renewTime as unknown as string;
  await until('a renewal', () => (lease().renewTime as unknown as string) !== first);
  t.equal(b.election.isLeader(), false);
  a.election.stop();
  t.equal(a.log[0], 'leading');
  t.equal(a.log.at(-1), 'lost: stopped', 'stop() while leading says lost');
  const lastRenew = Date.parse(lease().renewTime as unknown as string);
  await until('b leading', () => b.election.isLeader(), 4000);
  const acquired = Date.parse(lease().acquireTime as unknown as string);
  t.ok(
    acquired > lastRenew + 2000,
    `b acquired ${acquired - lastRenew} ms after a's last renewal, after the 2 s lease expired`,
  );
  t.equal(lease().holderIdentity, 'node-b');
  t.equal(lease().leaseTransitions, 1);
});

t.test('a lease changed behind the leader (stale resourceVersion): 409 on renew is lost', async (t) => {
  const { s, candidate } = await setup(t);
  const a = candidate('node-a', { leaseDurationSeconds: 5, renewIntervalMs: 100 });
  a.election.start();
  await until('a leading', () => a.election.isLeader());
  // Someone else (an old instance, an admin) writes the Lease: a's resourceVersion is now stale.
  s.patch(
    'leases.coordination.k8s.io',
    'bgp-announce',
    { spec: { holderIdentity: 'intruder', renewTime: microTime(Date.now() + 60_000).toISOString() } },
    'kube-system',
  );
  await until('a lost', () => a.log.length === 2);
  t.match(a.log[1], /lost: .*409/);
  t.equal(a.election.isLeader(), false);
  await until('a to see the intruder', () => a.election.holder() === 'intruder');
  t.ok(
    s.requests().some((r) => r.resource === 'leases' && r.verb === 'update' && r.status === 409),
    'the renew was answered 409',
  );
});

t.test('an unreachable API server: the leader gives up at its renew deadline', async (t) => {
  const { s, candidate } = await setup(t);
  const a = candidate('node-a', { leaseDurationSeconds: 3, renewIntervalMs: 100, renewDeadlineMs: 600 });
  a.election.start();
  await until('a leading', () => a.election.isLeader());
  await s.stop();
  await until('a lost', () => a.log.length === 2, 3000);
  const lostAt = Date.now();
  t.match(a.log[1], /could not renew the lease within 600 ms/);
  // The deadline counts from the renewTime of the last renewal the server stored.
  const stored = s.get('leases.coordination.k8s.io', 'bgp-announce', 'kube-system') as unknown as {
    spec: { renewTime: string };
  };
  const lastRenew = Date.parse(stored.spec.renewTime);
  const after = lostAt - lastRenew;
  t.ok(after >= 595, `not before the deadline: lost ${after} ms after the last renewal`);
  t.ok(after <= 2000, 'and not long after it');
});

// ---- In virtual time: each candidate runs on its own manual clock; the requests are real. ----

/** The defaults (15 s lease, renew every 5 s, deadline 10 s, jitter 0..2 s), the jitter drawn as 1 s. */
const DEFAULTS: Partial<LeaderElectionOptions> = {
  leaseDurationSeconds: 15,
  retryPeriodMs: 2000,
  acquireJitterMs: 2000,
  random: () => 0.5,
};
const JITTER = 1000;
const LEASE_MS = 15_000;

/** Starts `c` on a cluster without a Lease and lets its clock run to its first attempt: it creates the Lease. */
async function elect(c: Candidate, clock: ManualClock): Promise<void> {
  c.election.start();
  const at = await until('the first list', () => c.election.observed()?.nextAttemptAt);
  clock.advance(at - clock.now());
  await until('leading', () => c.election.isLeader());
}

/**
 * Waits until `c` has seen resourceVersion `rv` (through its watch). A watch being re-established
 * may first sleep out its back-off in virtual time, so the clock is nudged meanwhile (at most 4 s);
 * returns by how much.
 */
async function follow(c: Candidate, clock: ManualClock, rv: string, what: string): Promise<number> {
  let nudged = 0;
  await until(what, () => {
    if (c.election.observed()?.resourceVersion === rv) return true;
    if (nudged < 4000) {
      clock.advance(50);
      nudged += 50;
    }
    return false;
  });
  return nudged;
}

type Setup = Awaited<ReturnType<typeof setup>>;

/** A leader played by the test (no candidate of its own): creates the Lease; the function returned renews it. */
function testLeader({ s }: Setup, holder = 'node-a'): () => string {
  const stamp = (): string => microTime(Date.now()).toISOString();
  s.create(LEASES, {
    metadata: { name: 'bgp-announce', namespace: 'kube-system' },
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: stamp(),
      renewTime: stamp(),
      leaseTransitions: 0,
    },
  });
  return () =>
    s.patch(LEASES, 'bgp-announce', { spec: { renewTime: stamp() } }, 'kube-system').metadata.resourceVersion as string;
}

/** `steps` renewals 5 s apart (virtual), each followed by `c`. */
async function renewals(
  c: Candidate,
  clock: ManualClock,
  renew: () => string,
  steps: number,
  what: string,
): Promise<void> {
  for (let i = 0; i < steps; i++) {
    const nudged = await follow(c, clock, renew(), `${what}: renewal ${i + 1}`);
    clock.advance(5000 - nudged);
  }
}

t.test(
  'idle: a non-leader watches the Lease instead of polling it: one list and one watch in ten minutes',
  async (t) => {
    const setupped = await setup(t);
    const { candidate, requestsOf } = setupped;
    const renew = testLeader(setupped);
    const clock = manualClock(Date.now());
    const b = candidate('node-b', { ...DEFAULTS, clock });
    b.election.start();
    await until('b to see node-a holding', () => b.election.holder() === 'node-a');
    await renewals(b, clock, renew, 120, 'idle');
    t.equal(b.election.isLeader(), false);
    const seen = b.election.observed()!;
    t.equal(
      seen.nextAttemptAt,
      seen.observedAt + LEASE_MS + JITTER,
      'its takeover stays a lease duration after the last renewal seen',
    );
    const made = requestsOf('node-b');
    t.same(
      made,
      [
        ['list', 200],
        ['watch', 200],
      ],
      'one list and one watch, no GET, no write',
    );
    t.ok(made.length <= 10, `${made.length} requests in 10 minutes: at most one a minute`);
  },
);

t.test('a non-leader whose clock runs a minute ahead does not take a Lease that is being renewed', async (t) => {
  // Its own clock says every renewTime is 45 s past the lease duration: expiry is timed from when it
  // saw each renewal, not from renewTime, so it keeps waiting.
  const setupped = await setup(t);
  const renew = testLeader(setupped);
  const clock = manualClock(Date.now() + 60_000);
  const b = setupped.candidate('node-b', { ...DEFAULTS, clock });
  b.election.start();
  await until('b to see node-a holding', () => b.election.holder() === 'node-a');
  await renewals(b, clock, renew, 6, 'skewed');
  t.equal(b.election.isLeader(), false);
  t.same(
    setupped.requestsOf('node-b'),
    [
      ['list', 200],
      ['watch', 200],
    ],
    'no write',
  );
  t.equal(setupped.lease().holderIdentity, 'node-a');
});

t.test(
  'takeoverAt: at once when absent, released or ours; else the declared duration after the sighting',
  async (t) => {
    const held = (holderIdentity: string | undefined, leaseDurationSeconds?: number): V1Lease => ({
      metadata: { resourceVersion: '7' },
      spec: { holderIdentity, leaseDurationSeconds },
    });
    t.same(takeoverAt({ lease: undefined, observedAt: 1000 }, 'me', 15), { reason: 'absent', at: 1000 });
    t.same(takeoverAt({ lease: held(undefined, 1), observedAt: 1000 }, 'me', 15), { reason: 'free', at: 1000 });
    t.same(takeoverAt({ lease: held(''), observedAt: 1000 }, 'me', 15), { reason: 'free', at: 1000 });
    t.same(takeoverAt({ lease: held('me', 30), observedAt: 1000 }, 'me', 15), { reason: 'ours', at: 1000 });
    t.same(
      takeoverAt({ lease: held('other', 30), observedAt: 1000 }, 'me', 15),
      { reason: 'held', at: 31_000 },
      "the holder's duration",
    );
    t.same(
      takeoverAt({ lease: held('other'), observedAt: 1000 }, 'me', 15),
      { reason: 'held', at: 16_000 },
      'ours when it declares none',
    );
  },
);

t.test(
  'a killed leader: the non-leader takes over one lease duration (plus its jitter) after the last renewal it saw, with one write',
  async (t) => {
    const { candidate, requestsOf, lease, resourceVersion } = await setup(t);
    const clockA = manualClock(Date.now());
    const clockB = manualClock(Date.now());
    // A renew deadline of 12 s: an old deadline can never fall on the step where the next renewal is due,
    // whatever order the test sees a's answer and b's watch event in.
    const a = candidate('node-a', { ...DEFAULTS, clock: clockA, renewDeadlineMs: 12_000 });
    await elect(a, clockA);
    const b = candidate('node-b', { ...DEFAULTS, clock: clockB });
    b.election.start();
    await until('b to see node-a holding', () => b.election.holder() === 'node-a');
    for (let i = 0; i < 3; i++) {
      const before = resourceVersion();
      clockA.advance(5000);
      const rv = await until(`a's renewal ${i + 1}`, () => resourceVersion() !== before && resourceVersion());
      const nudged = await follow(b, clockB, rv, `b sees renewal ${i + 1}`);
      clockB.advance(5000 - nudged);
    }
    t.same(a.log, ['leading']);
    a.election.stop(); // killed: no release
    const killedAt = clockB.now();
    const seen = b.election.observed()!;
    t.equal(seen.holder, 'node-a');
    const due = seen.observedAt + LEASE_MS + JITTER;
    t.equal(seen.nextAttemptAt, due);
    clockB.advance(due - 1 - clockB.now());
    t.equal(b.election.isLeader(), false);
    clockB.advance(1);
    await until('b leading', () => b.election.isLeader());
    t.comment(
      `failover in virtual time: ${due - killedAt} ms after the kill, ${due - seen.observedAt} ms after the last renewal seen`,
    );
    t.equal(lease().holderIdentity, 'node-b');
    t.equal(
      lease().acquireTime,
      microTime(due).toISOString(),
      'b wrote at exactly the last renewal seen + 15 s + its jitter',
    );
    t.equal(lease().leaseTransitions, 1);
    t.same(
      requestsOf('node-b'),
      [
        ['list', 200],
        ['watch', 200],
        ['update', 200],
      ],
      'the takeover is one update',
    );
  },
);

t.test('a released Lease is taken after the jitter alone, not after the lease duration', async (t) => {
  const { candidate, requestsOf, lease } = await setup(t);
  const clockA = manualClock(Date.now());
  const clockB = manualClock(Date.now());
  const a = candidate('node-a', { ...DEFAULTS, clock: clockA });
  await elect(a, clockA);
  const b = candidate('node-b', { ...DEFAULTS, clock: clockB });
  b.election.start();
  const held = await until(
    'b to see node-a holding',
    () => b.election.holder() === 'node-a' && b.election.observed()!.resourceVersion,
  );
  await a.election.release();
  const seen = await until(
    'b to see the release',
    () => b.election.observed()?.resourceVersion !== held && b.election.observed(),
  );
  t.equal(seen.holder, undefined);
  t.equal(seen.nextAttemptAt, seen.observedAt + JITTER, 'b tries after its jitter');
  clockB.advance(JITTER);
  await until('b leading', () => b.election.isLeader());
  t.equal(lease().holderIdentity, 'node-b');
  t.equal(lease().acquireTime, microTime(seen.observedAt + JITTER).toISOString());
  t.same(requestsOf('node-b'), [
    ['list', 200],
    ['watch', 200],
    ['update', 200],
  ]);
});

t.test(
  'a Lease that already names this candidate (restarted with the same identity) is taken back at once',
  async (t) => {
    const setupped = await setup(t);
    testLeader(setupped, 'node-b');
    const acquired = setupped.lease().acquireTime;
    const clock = manualClock(Date.now());
    const b = setupped.candidate('node-b', { ...DEFAULTS, clock });
    b.election.start();
    const seen = await until('b to see the Lease', () => b.election.observed());
    t.equal(seen.nextAttemptAt, seen.observedAt, 'no jitter, no waiting');
    clock.advance(0);
    await until('b leading', () => b.election.isLeader());
    t.equal(setupped.lease().leaseTransitions, 0, 'not a transition');
    t.equal(setupped.lease().acquireTime, acquired, 'acquireTime kept');
  },
);

/** Five candidates on one clock drawing jitters of 0.2, 0.6, 1, 1.4 and 1.8 s (or none). */
async function crowd({ candidate }: Setup, clock: ManualClock, jitter: boolean): Promise<Candidate[]> {
  const all = [0.1, 0.3, 0.5, 0.7, 0.9].map((r, i) =>
    candidate(`node-${i + 1}`, { ...DEFAULTS, clock, random: () => r, ...(jitter ? {} : { acquireJitterMs: 0 }) }),
  );
  for (const c of all) c.election.start();
  await until('all to see node-a holding', () => all.every((c) => c.election.holder() === 'node-a'));
  return all;
}

t.test(
  'five candidates and a release: the first to try wins; the others see it during their jitter and never write',
  async (t) => {
    const setupped = await setup(t);
    const { s, candidate } = setupped;
    const clockA = manualClock(Date.now());
    const a = candidate('node-a', { ...DEFAULTS, clock: clockA });
    await elect(a, clockA);
    const clock = manualClock(Date.now());
    const all = await crowd(setupped, clock, true);
    await a.election.release();
    await until('all to see the release', () => all.every((c) => c.election.observed()?.holder === undefined));
    clock.advance(200);
    await until('node-1 leading', () => all[0]!.election.isLeader());
    await until('the others to see node-1', () => all.every((c) => c.election.holder() === 'node-1'));
    clock.advance(2000); // past every jitter
    const writes = s
      .requests()
      .filter((r) => r.resource === 'leases' && r.verb === 'update' && r.userAgent !== 'node-a');
    t.same(
      writes.map((r) => [r.userAgent, r.status]),
      [['node-1', 200]],
      'one write in all',
    );
    t.same(
      all.map((c) => c.election.isLeader()),
      [true, false, false, false, false],
    );
  },
);

t.test(
  'five candidates without jitter all write at once: one wins, the others get 409 (the 409 alone keeps it safe)',
  async (t) => {
    const setupped = await setup(t);
    const { s, candidate } = setupped;
    const clockA = manualClock(Date.now());
    const a = candidate('node-a', { ...DEFAULTS, clock: clockA });
    await elect(a, clockA);
    const clock = manualClock(Date.now());
    const all = await crowd(setupped, clock, false);
    await a.election.release();
    await until('all to see the release', () => all.every((c) => c.election.observed()?.holder === undefined));
    clock.advance(0);
    const winner = await until('a winner', () => all.find((c) => c.election.isLeader()));
    const name = winner.election.holder();
    await until('the others to see the winner', () => all.every((c) => c.election.holder() === name));
    await until('every attempt answered', () =>
      all.every((c) => c.election.isLeader() || c.election.observed()?.nextAttemptAt !== undefined),
    );
    const leases = s.requests().filter((r) => r.resource === 'leases' && r.userAgent !== 'node-a');
    const writes = leases.filter((r) => r.verb === 'update');
    t.equal(writes.length, 5, 'all five wrote');
    t.equal(writes.filter((r) => r.status === 409).length, 4, 'four were answered 409');
    t.equal(all.filter((c) => c.election.isLeader()).length, 1, 'one leader');
    for (const [i, c] of all.entries()) {
      if (c.election.isLeader()) continue;
      // A loser whose watch had not shown the winner yet when the 409 came reads the Lease once.
      const made = setupped.requestsOf(`node-${i + 1}`).filter(([verb]) => verb !== 'watch');
      t.ok(
        made.length <= 3 && made[1]?.[0] === 'update' && made.filter(([verb]) => verb === 'list').length <= 2,
        `node-${i + 1}: ${JSON.stringify(made)}`,
      );
    }
  },
);

t.test(
  'dropped, compacted and restarted watches: the non-leader keeps following, never writes, and still takes over after a crash',
  async (t) => {
    const setupped = await setup(t);
    const { s, candidate, requestsOf, lease } = setupped;
    const renew = testLeader(setupped);
    const clock = manualClock(Date.now());
    const b = candidate('node-b', { ...DEFAULTS, clock });
    b.election.start();
    await until('b to see node-a holding', () => b.election.holder() === 'node-a');
    await renewals(b, clock, renew, 3, 'before');
    // Each break: the watch ends, and the leader renews before b's watch is back (b's back-off sleeps in
    // virtual time, so it cannot come back before follow() moves the clock).
    const broken = async (
      what: string,
      change: () => void | Promise<void>,
      afterMissed?: () => void,
    ): Promise<void> => {
      await change();
      const missed = renew();
      afterMissed?.();
      const nudged = await follow(b, clock, missed, `${what}: the renewal b's watch missed`);
      clock.advance(5000 - nudged);
      await renewals(b, clock, renew, 2, what);
    };
    await broken('dropped', () => void s.dropWatches());
    // Compacted after the renewal b missed: b's resourceVersion is now too old.
    await broken(
      'compacted',
      () => void s.dropWatches(),
      () => s.compactHistory(),
    );
    await broken('restarted', () => s.restart());
    t.equal(b.election.isLeader(), false);
    const made = requestsOf('node-b');
    t.same(
      made.filter(([verb]) => verb !== 'list' && verb !== 'watch'),
      [],
      'only lists and watches: no write',
    );
    t.equal(made.filter(([verb]) => verb === 'list').length, 3, 're-listed after the compaction and after the restart');
    t.equal(made.filter(([, status]) => status === 410).length, 2, 'each after a 410');
    // The leader dies: b takes over one lease duration (and its jitter) after the last renewal it saw.
    const seen = b.election.observed()!;
    t.equal(seen.nextAttemptAt, seen.observedAt + LEASE_MS + JITTER);
    clock.advance(seen.nextAttemptAt! - clock.now());
    await until('b leading', () => b.election.isLeader());
    t.equal(lease().acquireTime, microTime(seen.observedAt + LEASE_MS + JITTER).toISOString());
    t.same(requestsOf('node-b').slice(made.length), [['update', 200]]);
  },
);

t.test(
  'a watch that stays down: the stale view costs a 409 and one read per lease duration, never a second leader',
  async (t) => {
    const setupped = await setup(t);
    const { s, candidate, requestsOf, lease } = setupped;
    const renew = testLeader(setupped);
    const clock = manualClock(Date.now());
    // The watch's timers on the same clock, its back-off sleeps recorded (the watchdog's are 5 min).
    const sleeps: number[] = [];
    const watchClock: Clock = {
      now: () => clock.now(),
      setTimer: (ms, fn) => {
        if (ms < 60_000) sleeps.push(ms);
        return clock.setTimer(ms, fn);
      },
      clearTimer: (h) => clock.clearTimer(h),
    };
    // After a dropped watch b waits 40 s before it watches again: blind for eight renewals.
    const b = candidate('node-b', {
      ...DEFAULTS,
      clock,
      watch: { clock: watchClock, backoff: { initialMs: 40_000, maxMs: 40_000, random: () => 1 } },
    });
    b.election.start();
    await until('b to see node-a holding', () => b.election.holder() === 'node-a');
    await renewals(b, clock, renew, 2, 'before');
    s.dropWatches();
    await until('b sleeping before it watches again', () => sleeps.length === 1);
    for (let i = 0; i < 8; i++) {
      renew();
      clock.advance(5000);
      await until('b between attempts', () => b.election.observed()?.nextAttemptAt !== undefined);
    }
    // (The first list is the watch's; the watch itself resumes without a re-list.)
    const blind = requestsOf('node-b')
      .filter(([verb]) => verb !== 'watch')
      .slice(1);
    t.same(
      blind,
      [
        ['update', 409],
        ['list', 200],
        ['update', 409],
        ['list', 200],
      ],
      'two tries in 40 s, 16 s apart: each a 409, then one read (a list by name)',
    );
    t.equal(lease().holderIdentity, 'node-a', 'node-a still holds the Lease');
    t.equal(b.election.isLeader(), false);
    // The watch came back at 40 s (resumed from before the drop: the renewals it missed arrive in
    // order): b follows the renewals again, without trying.
    await renewals(b, clock, renew, 6, 'after recovery');
    t.same(
      requestsOf('node-b')
        .filter(([verb]) => verb !== 'watch')
        .slice(1),
      blind,
      'no more tries',
    );
    t.same(b.log, []);
  },
);
