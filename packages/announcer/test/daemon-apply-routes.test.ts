// announcementOf (a planned route as one Speaker announcement: alternatives grouped by attribute
// values, one object per shared per-peer map) and RouteApplier against a real Speaker on 127.0.0.1
// with two receiving routers: one prefix reaches them with different communities, only differences
// reach the Speaker, and a prefix gone from the plan is withdrawn on the wire.
import t from 'tap';
import { announcementOf, RouteApplier } from '../src/daemon/apply-routes.js';
import type { PlannedRoute, RouteAttributesPlan } from '../src/plan/announce-plan.js';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { next } from '../../bgp-speaker/test/helpers/events.js';
import { announcedIn, startReceiver, withdrawnIn } from './helpers/kube-bgp-receiver.js';
import { until } from './helpers/kube-harness.js';

const attrs = (communities: string[], fields: Partial<RouteAttributesPlan> = {}): RouteAttributesPlan => ({
  communities,
  largeCommunities: [],
  ...fields,
});
const route = (prefix: string, perPeer: ReadonlyMap<string, RouteAttributesPlan>): PlannedRoute => ({
  prefix,
  perPeer,
  services: [],
});

t.test('announcementOf: one alternative per distinct attribute set, naming its peers', async (t) => {
  const shared = attrs(['64496:1']);
  const perPeer = new Map([
    ['a', shared],
    ['b', shared],
    ['c', attrs(['64496:1'])], // equal values, another object
    ['d', attrs(['64496:2'], { largeCommunities: ['64496:0:7'], localPref: 150 })],
    ['e', attrs([])],
  ]);
  t.same(announcementOf(route('203.0.113.5/32', perPeer)), [
    { peers: ['a', 'b', 'c'], communities: ['64496:1'] },
    { peers: ['d'], communities: ['64496:2'], largeCommunities: ['64496:0:7'], localPref: 150 },
    { peers: ['e'] },
  ]);
  t.same(
    announcementOf(
      route(
        '203.0.113.5/32',
        new Map([
          ['a', shared],
          ['b', attrs(['64496:1'])],
        ]),
      ),
    ),
    { peers: ['a', 'b'], communities: ['64496:1'] },
    'one set: one object, not a list',
  );
  t.same(
    announcementOf(route('203.0.113.5/32', new Map([['a', attrs([], { localPref: 0 })]]))),
    { peers: ['a'], localPref: 0 },
    'localPref 0 is kept',
  );
});

t.test('announcementOf: routes sharing a per-peer map share one announcement object', async (t) => {
  const memo = new WeakMap();
  const perPeer = new Map([['a', attrs(['64496:1'])]]);
  const first = announcementOf(route('203.0.113.5/32', perPeer), memo);
  const second = announcementOf(route('203.0.113.6/32', perPeer), memo);
  t.equal(first, second, 'the same object');
  const other = announcementOf(route('203.0.113.7/32', new Map([['a', attrs(['64496:1'])]])), memo);
  t.not(other, first, 'another map: its own object');
  t.same(other, first);
});

t.test(
  'RouteApplier: two peers get different communities for one prefix; only differences reach the Speaker; a gone prefix is withdrawn',
  async (t) => {
    const [r1, r2] = [await startReceiver(t), await startReceiver(t)];
    const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
    t.teardown(() => speaker.stop());
    speaker.on('error', (id, err) => t.fail(`speaker error on ${id}: ${err.message}`));
    const calls: string[] = [];
    const announce = speaker.announce.bind(speaker);
    const withdraw = speaker.withdraw.bind(speaker);
    speaker.announce = (prefix, a) => {
      calls.push(`announce ${prefix}`);
      announce(prefix, a);
    };
    speaker.withdraw = (prefix) => {
      calls.push(`withdraw ${prefix}`);
      withdraw(prefix);
    };
    const both = next(speaker, 'established', (id) => id === 'p2');
    const one = next(speaker, 'established', (id) => id === 'p1');
    speaker.addPeer('p1', { peerAddress: '127.0.0.1', peerPort: r1.port, peerAs: 64497 });
    speaker.addPeer('p2', { peerAddress: '127.0.0.1', peerPort: r2.port, peerAs: 64497 });
    await Promise.all([one, both]);

    const applier = new RouteApplier(speaker);
    const c1 = attrs(['64496:1']);
    const c2 = attrs(['64496:2']);
    const plan1 = new Map([
      ['198.51.100.7/32', route('198.51.100.7/32', new Map([['p1', c1]]))],
      [
        '203.0.113.5/32',
        route(
          '203.0.113.5/32',
          new Map([
            ['p1', c1],
            ['p2', c2],
          ]),
        ),
      ],
    ]);
    t.same(applier.apply(plan1), { announced: 2, withdrawn: 0, held: 0 });
    t.same(calls.sort(), ['announce 198.51.100.7/32', 'announce 203.0.113.5/32']);
    t.equal(applier.current(), plan1);
    await until('r1 has both routes', () => r1.routes.size === 2);
    await until('r2 has its route', () => r2.routes.has('203.0.113.5/32'));
    t.same(r1.routes.get('203.0.113.5/32')?.communities, ['64496:1'], 'p1 gets 64496:1');
    t.same(r2.routes.get('203.0.113.5/32')?.communities, ['64496:2'], 'p2 gets 64496:2 for the same prefix');
    t.same(r1.routes.get('198.51.100.7/32')?.communities, ['64496:1']);
    t.notOk(r2.routes.has('198.51.100.7/32'), 'a route planned for p1 only never reaches p2');

    // The same plan again (new but equal objects): nothing reaches the Speaker.
    calls.length = 0;
    const again = new Map([
      ['198.51.100.7/32', route('198.51.100.7/32', new Map([['p1', attrs(['64496:1'])]]))],
      [
        '203.0.113.5/32',
        route(
          '203.0.113.5/32',
          new Map([
            ['p1', attrs(['64496:1'])],
            ['p2', attrs(['64496:2'])],
          ]),
        ),
      ],
    ]);
    t.same(applier.apply(again), { announced: 0, withdrawn: 0, held: 0 });
    t.same(calls, []);

    // 198.51.100.7 leaves the plan, p2's community changes, p1's stays.
    const r1Before = r1.updates.length;
    const r2Before = r2.updates.length;
    const plan3 = new Map([
      [
        '203.0.113.5/32',
        route(
          '203.0.113.5/32',
          new Map([
            ['p1', c1],
            ['p2', attrs(['64496:3'])],
          ]),
        ),
      ],
    ]);
    t.same(applier.apply(plan3), { announced: 1, withdrawn: 1, held: 0 });
    t.same(calls, ['withdraw 198.51.100.7/32', 'announce 203.0.113.5/32']);
    await until('r1 withdraws 198.51.100.7/32', () => !r1.routes.has('198.51.100.7/32'));
    await until('r2 gets the new community', () => r2.routes.get('203.0.113.5/32')?.communities?.includes('64496:3'));
    t.same(r2.routes.get('203.0.113.5/32')?.communities, ['64496:3']);
    const r1New = r1.updates.slice(r1Before);
    t.same(r1New.map(withdrawnIn), [['198.51.100.7/32']], 'r1: one UPDATE, withdrawing the gone prefix');
    t.same(r1New.map(announcedIn), [[]], 'and nothing re-announced to p1, whose attributes did not change');
    t.same(r2.updates.slice(r2Before).map(announcedIn), [['203.0.113.5/32']], 'r2: only the changed route');
    t.same(r1.routes.get('203.0.113.5/32')?.communities, ['64496:1']);
    t.same([...speaker.announced().keys()], ['203.0.113.5/32']);

    t.same(applier.apply(new Map()), { announced: 0, withdrawn: 1, held: 0 });
    await until('both withdraw 203.0.113.5/32', () => r1.routes.size === 0 && r2.routes.size === 0);
    t.same(speaker.announced().size, 0);
  },
);
