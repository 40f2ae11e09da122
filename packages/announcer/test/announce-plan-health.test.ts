// StaticRoutes with a health check in the announce plan: announced while up, announced with
// GRACEFUL_SHUTDOWN (65535:0) while draining, not at all while pending or down or with no answer;
// routes without a check are always announced.
import t from 'tap';
import { planAnnouncements } from '../src/plan/announce-plan.js';
import type { HealthCheck } from '../src/config/types.js';
import { config, input, node, staticRoute } from './announce-plan-fixtures.js';

const check: HealthCheck = {
  http: { url: 'https://127.0.0.1:6443/readyz', insecureSkipVerify: true, expectedStatus: 200 },
  intervalMs: 1000,
  timeoutMs: 500,
  rise: 2,
  fall: 2,
  drainMs: 0,
};
const cfg = config({
  staticRoutes: [
    staticRoute('api', ['192.0.2.100/32'], { healthCheck: check, communities: ['64496:7'] }),
    staticRoute('plain', ['192.0.2.101/32']),
  ],
});

t.test('a health-checked StaticRoute follows its check', async (t) => {
  const plan = (status?: 'pending' | 'up' | 'draining' | 'down') =>
    planAnnouncements(input({ config: cfg, healthOf: (name) => (name === 'api' ? status : undefined) }));
  const communities = (p: ReturnType<typeof plan>) =>
    p.routes.get('192.0.2.100/32')?.perPeer.get('tor-1a')?.communities;
  t.strictSame(communities(plan('up')), ['64496:7'], 'up: announced as configured');
  t.strictSame(communities(plan('draining')), ['64496:7', '65535:0'], 'draining: with GRACEFUL_SHUTDOWN');
  for (const status of ['pending', 'down', undefined] as const) {
    const p = plan(status);
    t.notOk(p.routes.has('192.0.2.100/32'), `${status ?? 'no answer'}: not announced`);
    t.ok(p.routes.has('192.0.2.101/32'), 'the route without a check is');
  }
  t.notOk(
    planAnnouncements(input({ config: cfg })).routes.has('192.0.2.100/32'),
    'a plan without health answers announces no checked route',
  );
});

t.test('a node excluded from Service load balancing still announces its health-checked StaticRoutes', async (t) => {
  const excluded = node('n1', { rack: 'r1', 'node.kubernetes.io/exclude-from-external-load-balancers': '' });
  const plan = planAnnouncements(input({ config: cfg, node: excluded, healthOf: () => 'up' }));
  t.strictSame(
    [...plan.routes.keys()],
    ['192.0.2.100/32'],
    'the checked one (the API VIP on a Talos control plane), not the plain one',
  );
  const unavailable = node('n1', { rack: 'r1' }, [{ type: 'NetworkUnavailable', status: 'True' }]);
  t.strictSame(
    [...planAnnouncements(input({ config: cfg, node: unavailable, healthOf: () => 'up' })).routes.keys()],
    ['192.0.2.100/32'],
  );
});
