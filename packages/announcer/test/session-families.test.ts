// carriedBySessions: an IPv4 session does not carry IPv6 VIPs (nor the other way round), so the plan
// applied and the conditions written name only the peers that can carry each address.
import t from 'tap';
import { planAnnouncements } from '../src/plan/announce-plan.js';
import { carriedBySessions } from '../src/daemon/session-families.js';
import { config, input, peer, service } from './announce-plan-fixtures.js';

const v6Peer = { ...peer('tor-v6'), peerAddress: '2001:db8::1' };

t.test('dual-stack Service, one IPv4 and one IPv6 peer: each prefix goes to its family only', async (t) => {
  const plan = carriedBySessions(
    planAnnouncements(
      input({
        services: [service('a/dual', ['203.0.113.1', '2001:db8:1::1'])],
        config: config({ peers: [peer('tor-v4'), v6Peer] }),
      }),
    ),
  );
  t.strictSame([...plan.routes.get('203.0.113.1/32')!.perPeer.keys()], ['tor-v4']);
  t.strictSame([...plan.routes.get('2001:db8:1::1/128')!.perPeer.keys()], ['tor-v6']);
  t.strictSame(plan.services[0], {
    key: 'a/dual',
    ips: ['203.0.113.1', '2001:db8:1::1'],
    announced: true,
    peers: ['tor-v4', 'tor-v6'],
  });
});

t.test('IPv4 peers only: the IPv6 address is not planned and the Service says why', async (t) => {
  const before = planAnnouncements(
    input({
      services: [service('a/dual', ['203.0.113.1', '2001:db8:1::1']), service('a/six', ['2001:db8:1::6'])],
      config: config({ peers: [peer('tor-v4')] }),
    }),
  );
  t.ok(before.routes.has('2001:db8:1::1/128'), 'the pure plan lists it (it knows nothing of sessions)');
  const plan = carriedBySessions(before);
  t.strictSame([...plan.routes.keys()], ['203.0.113.1/32']);
  const [dual, six] = plan.services;
  t.equal(dual?.announced, true);
  t.strictSame(dual?.peers, ['tor-v4']);
  t.match(dual?.reason, /no BGP session of this node carries IPv6/);
  t.equal(six?.announced, false, 'an IPv6-only Service is not announced at all');
  t.strictSame(six?.peers, []);
  t.match(six?.reason, /carries IPv6/);
});

t.test('nothing to narrow: the plan comes back as it was', async (t) => {
  const plan = planAnnouncements(
    input({ services: [service('a/one', ['203.0.113.1'])], config: config({ peers: [peer('tor-v4')] }) }),
  );
  const out = carriedBySessions(plan);
  t.equal(out.routes.get('203.0.113.1/32'), plan.routes.get('203.0.113.1/32'), 'the same route object');
  t.equal(out.services[0], plan.services[0]);
});
