// Leader election on a coordination.k8s.io/v1 Lease against the test API server: one of two candidates
// leads; the other takes over at once after release() and only after expiry after a crash; a Lease
// changed behind the leader's back (stale resourceVersion, 409) and an unreachable API server both
// make the leader say 'lost' before anyone else can lead.
import t, { type Test } from 'tap';
import { start, type TestApiServer } from '@bgp-announce/test-apiserver';
import type { V1Lease } from '@kubernetes/client-node';
import { loadKubeConfig } from '../src/kube/client.js';
import { LeaderElection, leaseExpired, microTime, type LeaderElectionOptions } from '../src/kube/lease.js';

async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;

interface Candidate {
  election: LeaderElection;
  log: string[];
}

async function setup(t: Test) {
  const s = await start();
  t.teardown(() => s.stop());
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const candidate = (identity: string, extra: Partial<LeaderElectionOptions> = {}): Candidate => {
    const election = new LeaderElection({ kubeConfig, name: 'bgp-announce', namespace: 'kube-system', identity, leaseDurationSeconds: 1, retryPeriodMs: 50, ...extra });
    const log: string[] = [];
    election.on('leading', () => log.push('leading'));
    election.on('lost', (reason) => log.push(`lost: ${reason}`));
    t.teardown(() => election.stop());
    return { election, log };
  };
  const lease = (): V1Lease['spec'] & Record<string, unknown> => (s.get('leases.coordination.k8s.io', 'bgp-announce', 'kube-system')?.spec ?? {}) as never;
  return { s, candidate, lease };
}

t.test('microTime has six fractional digits; leaseExpired', async (t) => {
  t.equal(JSON.stringify(microTime(Date.UTC(2024, 0, 2, 3, 4, 5, 678))), '"2024-01-02T03:04:05.678000Z"');
  const lease = (holder: string | undefined, renew: string): V1Lease => ({ spec: { holderIdentity: holder, leaseDurationSeconds: 15, renewTime: renew as never } });
  const renewed = Date.UTC(2024, 0, 1);
  t.equal(leaseExpired(lease('a', '2024-01-01T00:00:00.000000Z'), renewed + 15_000), false, 'exactly at the end: still held');
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
  t.ok(acquired > lastRenew + 2000, `b acquired ${acquired - lastRenew} ms after a's last renewal, after the 2 s lease expired`);
  t.equal(lease().holderIdentity, 'node-b');
  t.equal(lease().leaseTransitions, 1);
});

t.test('a lease changed behind the leader (stale resourceVersion): 409 on renew is lost', async (t) => {
  const { s, candidate } = await setup(t);
  const a = candidate('node-a', { leaseDurationSeconds: 5, renewIntervalMs: 100 });
  a.election.start();
  await until('a leading', () => a.election.isLeader());
  // Someone else (an old instance, an admin) writes the Lease: a's resourceVersion is now stale.
  s.patch('leases.coordination.k8s.io', 'bgp-announce', { spec: { holderIdentity: 'intruder', renewTime: microTime(Date.now() + 60_000).toISOString() } }, 'kube-system');
  await until('a lost', () => a.log.length === 2);
  t.match(a.log[1], /lost: .*409/);
  t.equal(a.election.isLeader(), false);
  await until('a to see the intruder', () => a.election.holder() === 'intruder');
  t.ok(s.requests().some((r) => r.resource === 'leases' && r.verb === 'update' && r.status === 409), 'the renew was answered 409');
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
  const stored = s.get('leases.coordination.k8s.io', 'bgp-announce', 'kube-system') as unknown as { spec: { renewTime: string } };
  const lastRenew = Date.parse(stored.spec.renewTime);
  const after = lostAt - lastRenew;
  t.ok(after >= 595, `not before the deadline: lost ${after} ms after the last renewal`);
  t.ok(after <= 2000, 'and not long after it');
});
