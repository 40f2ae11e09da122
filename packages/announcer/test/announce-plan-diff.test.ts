// diffPlannedRoutes: what changed between two plans, compared by value (plans are rebuilt from scratch
// on every change, so equal attributes are different objects).
import t from 'tap';
import { diffPlannedRoutes, planAnnouncements, type PlannedRoute } from '../src/plan/announce-plan.js';
import { advertisement, config, input, service } from './announce-plan-fixtures.js';

const SERVICES = [
  service('a/one', ['203.0.113.1']),
  service('a/two', ['203.0.113.2']),
  service('a/six', ['2001:db8:1::6']),
];
const plan = (fields: Parameters<typeof advertisement>[1] = {}, services = SERVICES) =>
  planAnnouncements(input({ services, config: config({ advertisements: [advertisement('all', fields)] }) })).routes;
const prefixes = (routes: PlannedRoute[]) => routes.map((r) => r.prefix);

t.test('the same input planned twice: no change', async (t) => {
  const a = plan({ communities: ['64496:1'], localPref: 100 });
  const b = plan({ communities: ['64496:1'], localPref: 100 });
  t.not(a.get('203.0.113.1/32')!.perPeer, b.get('203.0.113.1/32')!.perPeer, 'different objects');
  t.strictSame(diffPlannedRoutes(a, b), { changed: [], withdrawn: [] });
});

t.test('from nothing: every route is changed; to nothing: every prefix withdrawn, sorted', async (t) => {
  const a = plan();
  t.strictSame(prefixes(diffPlannedRoutes(new Map(), a).changed), [
    '2001:db8:1::6/128',
    '203.0.113.1/32',
    '203.0.113.2/32',
  ]);
  t.strictSame(diffPlannedRoutes(a, new Map()), {
    changed: [],
    withdrawn: ['2001:db8:1::6/128', '203.0.113.1/32', '203.0.113.2/32'],
  });
});

t.test('a Service gone: its prefix withdrawn, the others untouched', async (t) => {
  const d = diffPlannedRoutes(plan(), plan({}, [SERVICES[0]!, SERVICES[2]!]));
  t.strictSame(d, { changed: [], withdrawn: ['203.0.113.2/32'] });
});

t.test('changed attributes: community, large community, localPref (set, changed, removed)', async (t) => {
  const base = plan({ communities: ['64496:1'], largeCommunities: ['64496:1:1'], localPref: 100 });
  const cases: [string, Parameters<typeof advertisement>[1]][] = [
    ['community added', { communities: ['64496:1', '64496:2'], largeCommunities: ['64496:1:1'], localPref: 100 }],
    ['community replaced', { communities: ['64496:3'], largeCommunities: ['64496:1:1'], localPref: 100 }],
    ['large community changed', { communities: ['64496:1'], largeCommunities: ['64496:1:2'], localPref: 100 }],
    ['localPref changed', { communities: ['64496:1'], largeCommunities: ['64496:1:1'], localPref: 200 }],
    ['localPref removed', { communities: ['64496:1'], largeCommunities: ['64496:1:1'] }],
  ];
  for (const [name, fields] of cases) {
    const next = plan(fields);
    const d = diffPlannedRoutes(base, next);
    t.strictSame(prefixes(d.changed), ['2001:db8:1::6/128', '203.0.113.1/32', '203.0.113.2/32'], name);
    t.equal(d.changed[0], next.get('2001:db8:1::6/128'), `${name}: the new route is returned`);
    t.strictSame(d.withdrawn, [], `${name}: nothing withdrawn`);
  }
});

t.test('a peer dropped from one prefix is a change of that prefix', async (t) => {
  const next = plan({ peers: ['tor-1a'] });
  const d = diffPlannedRoutes(plan(), next);
  t.strictSame(prefixes(d.changed), ['2001:db8:1::6/128', '203.0.113.1/32', '203.0.113.2/32']);
  t.strictSame([...d.changed[1]!.perPeer.keys()], ['tor-1a']);
});

t.test('aggregation: host routes withdrawn, the covering /24 is new', async (t) => {
  const d = diffPlannedRoutes(plan(), plan({ aggregationLength: 24 }));
  t.strictSame(prefixes(d.changed), ['203.0.113.0/24']);
  t.strictSame(d.withdrawn, ['203.0.113.1/32', '203.0.113.2/32']);
});

t.test('only the Services behind a prefix changed: nothing to send', async (t) => {
  const one = plan({ aggregationLength: 24 }, [SERVICES[0]!]);
  const two = plan({ aggregationLength: 24 }, [SERVICES[0]!, SERVICES[1]!]);
  t.strictSame(two.get('203.0.113.0/24')!.services, ['a/one', 'a/two']);
  t.strictSame(diffPlannedRoutes(one, two), { changed: [], withdrawn: [] });
});
