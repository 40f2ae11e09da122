// RouteApplier's damping of weighted ECMP (in virtual time): a change of a route's link bandwidth
// alone goes out at once after a quiet interval, else waits for the interval and goes out once, with
// the newest value; a value that comes back in time costs nothing; new routes, withdrawals and other
// attribute changes are never held.
import t from 'tap';
import { manualClock, type Announcement, type Speaker } from '@bgp-announce/bgp-speaker';
import { RouteApplier } from '../src/daemon/apply-routes.js';
import type { PlannedRoute, RouteAttributesPlan } from '../src/plan/announce-plan.js';

const MBPS = 125_000;
const INTERVAL = 5000;

/** A stand-in Speaker that records announce() and withdraw() calls. */
function recordingSpeaker() {
  const calls: string[] = [];
  const speaker = {
    announce(prefix: string, a: Announcement) {
      const list = Array.isArray(a) ? a : [a];
      const lb = list.map((x) =>
        typeof x.linkBandwidth === 'number' ? x.linkBandwidth : x.linkBandwidth?.bytesPerSecond,
      );
      calls.push(
        `announce ${prefix}${lb[0] === undefined ? '' : ` ${lb.map((b) => (b ?? 0) / MBPS).join('/')}`}${list[0]?.communities ? ` ${list[0].communities.join(',')}` : ''}`,
      );
    },
    withdraw(prefix: string) {
      calls.push(`withdraw ${prefix}`);
    },
  };
  return { speaker: speaker as unknown as Speaker, calls };
}

const routes = (...list: [string, number | undefined, string[]?][]): Map<string, PlannedRoute> =>
  new Map(
    list.map(([prefix, weight, communities]) => {
      const attrs: RouteAttributesPlan = { communities: communities ?? [], largeCommunities: [] };
      if (weight !== undefined) attrs.linkBandwidth = { bytesPerSecond: weight * MBPS, transitive: true };
      return [prefix, { prefix, perPeer: new Map([['tor', attrs]]), services: [] }];
    }),
  );

t.test('a rolling update costs one re-announcement per interval, with the newest weight', async (t) => {
  const clock = manualClock(0);
  const { speaker, calls } = recordingSpeaker();
  const applier = new RouteApplier(speaker, clock);
  const VIP = '203.0.113.10/32';
  applier.apply(routes([VIP, 5]), INTERVAL);
  t.strictSame(calls.splice(0), [`announce ${VIP} 5`], 'a new route goes at once');

  clock.advance(1000);
  t.strictSame(applier.apply(routes([VIP, 4]), INTERVAL), { announced: 1, withdrawn: 0, held: 0 });
  t.strictSame(calls.splice(0), [`announce ${VIP} 4`], 'the first weight change after a quiet time goes at once');

  // The rolling update goes on: 4 -> 5 -> 4 -> 3 within the next 5 s.
  for (const [at, w, held] of [
    [1500, 5, 1],
    [2500, 4, 0], // back to what was sent: nothing to hold
    [3500, 3, 1],
  ] as const) {
    clock.advance(at - clock.now());
    t.strictSame(applier.apply(routes([VIP, w]), INTERVAL).held, held, `weight ${w} at ${at} ms: ${held} held`);
  }
  t.strictSame(calls.splice(0), [], 'nothing sent while held');
  t.strictSame(applier.heldPrefixes(), [VIP]);
  t.equal(
    applier.current().get(VIP)?.perPeer.get('tor')?.linkBandwidth?.bytesPerSecond,
    4 * MBPS,
    'current() is what was sent',
  );
  clock.advance(5999 - clock.now());
  t.strictSame(calls, [], 'not before the interval ends');
  clock.advance(1);
  t.strictSame(
    calls.splice(0),
    [`announce ${VIP} 3`],
    'at 6,000 ms (5 s after the last send): the newest weight, once',
  );
  t.strictSame(applier.heldPrefixes(), []);

  // A change that comes back to what was sent before the interval ends costs nothing.
  clock.advance(1000);
  applier.apply(routes([VIP, 2]), INTERVAL);
  applier.apply(routes([VIP, 3]), INTERVAL);
  clock.advance(10_000);
  t.strictSame(calls.splice(0), [], '3 -> 2 -> 3 inside the interval: no UPDATE at all');
});

t.test('withdrawals, new routes and other changes are never held', async (t) => {
  const clock = manualClock(0);
  const { speaker, calls } = recordingSpeaker();
  const applier = new RouteApplier(speaker, clock);
  const A = '203.0.113.10/32';
  const B = '203.0.113.11/32';
  applier.apply(routes([A, 3]), INTERVAL);
  clock.advance(100);
  applier.apply(routes([A, 2]), INTERVAL);
  calls.splice(0);
  clock.advance(100);
  applier.apply(routes([A, 1], [B, 1]), INTERVAL);
  t.strictSame(calls.splice(0), [`announce ${B} 1`], 'B is new and goes at once; A (weight only) is held');
  applier.apply(routes([A, 1, ['64496:7']], [B, 1]), INTERVAL);
  t.strictSame(calls.splice(0), [`announce ${A} 1 64496:7`], 'a community change goes at once, with the newest weight');
  applier.apply(routes([B, 1]), INTERVAL);
  t.strictSame(calls.splice(0), [`withdraw ${A}`], 'a withdrawal (weight 0) goes at once');
  clock.advance(10_000);
  t.strictSame(calls, [], 'and nothing was left pending for A');

  const plain = new RouteApplier(recordingSpeaker().speaker, clock);
  t.strictSame(plain.apply(routes([A, 3])).announced, 1);
  t.strictSame(plain.apply(routes([A, 2])), { announced: 1, withdrawn: 0, held: 0 }, 'interval 0: never held');
});

t.test('stop() cancels a pending send', async (t) => {
  const clock = manualClock(0);
  const { speaker, calls } = recordingSpeaker();
  const applier = new RouteApplier(speaker, clock);
  const A = '203.0.113.10/32';
  applier.apply(routes([A, 3]), INTERVAL);
  applier.apply(routes([A, 2]), INTERVAL);
  applier.apply(routes([A, 1]), INTERVAL);
  calls.splice(0);
  applier.stop();
  clock.advance(10_000);
  t.strictSame(calls, []);
});
