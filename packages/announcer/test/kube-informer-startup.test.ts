// watchCache against the start-up faults of a real kube-apiserver (test-apiserver's fault modes):
// the 403 window before RBAC is loaded (the cache backs off, then syncs; lastError and the log carry
// the server's message, for a refused list and a refused watch alike), 429 "storage is
// (re)initializing" on CRD watches (the cache waits at least Retry-After), and a SIGTERM'd server
// that refuses new connections but keeps serving open watches for its grace (events still arrive;
// after restart() the cache re-lists and nothing is lost).
import t, { type Test } from 'tap';
import { start, type TestApiServer } from '@bgp-announce/test-apiserver';
import { loadKubeConfig } from '../src/kube/client.js';
import { retryAfterMs, type KubeLogger } from '../src/kube/api-errors.js';
import type { CachedObject } from '../src/kube/informer.js';
import { watchConfigObjects, watchServices } from '../src/kube/watches.js';
import type { CacheChange, ObjectCache } from '../src/kube/cache.js';
import { until } from './helpers/kube-harness.js';

const SA = 'system:serviceaccount:bgp-announce:bgp-announce';
const RBAC = 'RBAC: clusterrole.rbac.authorization.k8s.io "bgp-announce" not found';

function collectingLogger(): { logger: KubeLogger; lines: string[] } {
  const lines: string[] = [];
  const push = (o: unknown, msg?: string): void =>
    void lines.push(`${String(msg)}: ${String((o as { err?: unknown }).err)}`);
  return { logger: { debug: push, info: push, warn: push, error: push } as unknown as KubeLogger, lines };
}

type Seen = [CacheChange, string];
function record<T extends CachedObject>(cache: ObjectCache<T>): Seen[] {
  const seen: Seen[] = [];
  cache.on('change', (change, obj) => seen.push([change, cache.key(obj)]));
  return seen;
}

const svc = (name: string) => ({
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }] },
});

async function server(t: Test, opts: Parameters<typeof start>[0] = {}): Promise<TestApiServer> {
  const s = await start(opts);
  t.teardown(() => s.stop());
  return s;
}

t.test('retryAfterMs reads the Retry-After header, else details.retryAfterSeconds', async (t) => {
  t.equal(retryAfterMs({ code: 429, headers: { 'retry-after': '2' } }), 2000);
  t.equal(retryAfterMs({ code: 429, body: '{"details":{"retryAfterSeconds":1}}' }), 1000);
  t.equal(retryAfterMs({ statusCode: 429, message: 'Too Many Requests' }), undefined);
  t.equal(retryAfterMs(undefined), undefined);
});

t.test(
  '403 before RBAC is loaded: the cache backs off, names the server message, and syncs when the window ends',
  async (t) => {
    const s = await server(t, { startupForbiddenMs: 400 });
    const { kubeConfig } = loadKubeConfig({ url: s.url });
    const { logger, lines } = collectingLogger();
    const cache = watchServices(kubeConfig, { logger, backoff: { initialMs: 20, maxMs: 1000 } });
    t.teardown(() => cache.stop());
    const message = `services is forbidden: User "${SA}" cannot list resource "services" in API group "" at the cluster scope: ${RBAC}`;
    const lastError = await until('the first refusal', () => cache.health().lastError);
    t.equal(lastError, `list services: 403: ${message}`);
    t.ok(
      lines.some((l) => l.includes(message)),
      'the log line carries the message',
    );
    await cache.synced();
    const lists = s.requests().filter((r) => r.verb === 'list');
    const refused = lists.filter((r) => r.status === 403).length;
    t.ok(refused >= 2, `retried while refused (${refused} refused lists)`);
    t.ok(refused <= 8, `backed off rather than hammering (${refused} refused lists in 400 ms)`);
    t.equal(lists.at(-1)?.status, 200);
    await until('the watch', () => cache.health().watching);
    t.equal(cache.health().lastError, undefined, 'cleared once synced and watching');
  },
);

t.test(
  'a watch refused with 403: lastError and the log carry the server message, not just "403: Forbidden"',
  async (t) => {
    const s = await server(t);
    const { kubeConfig } = loadKubeConfig({ url: s.url });
    const { logger, lines } = collectingLogger();
    const cache = watchServices(kubeConfig, { logger, backoff: { initialMs: 100, maxMs: 1000 } });
    t.teardown(() => cache.stop());
    await cache.synced();
    await until('the watch', () => cache.health().watching && s.openWatches() === 1);
    s.clearRequests();
    s.forbidFor(60_000);
    s.dropWatches();
    const lastError = await until('the refused watch', () => cache.health().lastError);
    t.match(
      lastError,
      /^watch services: 403: services is forbidden: User "system:serviceaccount:bgp-announce:bgp-announce" cannot list resource "services" in API group "" at the cluster scope: RBAC: clusterrole/,
    );
    t.ok(
      lines.some((l) => l.includes('is forbidden: User') && l.includes('watch failed')),
      'the log line carries it too',
    );
    t.same(
      s
        .requests()
        .slice(0, 2)
        .map((r) => [r.verb, r.status, r.query.limit]),
      [
        ['watch', 403, undefined],
        ['list', 403, '1'],
      ],
      'the message came from a one-item list',
    );
    const seen = record(cache);
    s.forbidFor(0);
    s.create('services', svc('a'));
    await until('a, once allowed', () => seen.some((e) => e[1] === 'default/a'));
    t.equal(cache.health().relists, 0, 'the watch resumed, no re-list');
  },
);

t.test(
  'CRD watches answered 429 "storage is (re)initializing": the cache waits at least Retry-After (1 s), then watches',
  async (t) => {
    const s = await server(t, { storageInitializing: { count: 1 } });
    s.create('bgppeers', {
      metadata: { name: 'tor-a', namespace: 'default' },
      spec: { peerAddress: '192.0.2.1', peerASN: 65000 },
    });
    const { kubeConfig } = loadKubeConfig({ url: s.url });
    // A back-off of 10 ms would retry at once without Retry-After.
    const cache = watchConfigObjects(kubeConfig, 'BGPPeer', 'default', { backoff: { initialMs: 10, maxMs: 50 } });
    t.teardown(() => cache.stop());
    await cache.synced();
    t.ok(cache.get('default/tor-a'), 'the list was not affected');
    await until('the 429', () => s.requests().some((r) => r.verb === 'watch' && r.status === 429));
    const refusedAt = Date.now();
    t.match(cache.health().lastError, /^watch bgppeers in default: 429/);
    await until('the watch', () => cache.health().watching && s.openWatches() === 1, 5000);
    const waited = Date.now() - refusedAt;
    t.ok(waited >= 900, `waited ${waited} ms (Retry-After: 1) before watching again`);
    t.same(
      s
        .requests()
        .filter((r) => r.verb === 'watch')
        .map((r) => r.status),
      [429, 200],
    );
    const seen = record(cache);
    s.create('bgppeers', {
      metadata: { name: 'tor-b', namespace: 'default' },
      spec: { peerAddress: '192.0.2.2', peerASN: 65000 },
    });
    await until('tor-b', () => seen.some((e) => e[1] === 'default/tor-b'));
  },
);

t.test(
  'graceful shutdown: open watches still deliver, then the cache reconnects to the restarted server without losing events',
  async (t) => {
    const s = await server(t);
    s.create('services', svc('a'));
    const { kubeConfig } = loadKubeConfig({ url: s.url });
    const cache = watchServices(kubeConfig, { backoff: { initialMs: 20, maxMs: 200 } });
    t.teardown(() => cache.stop());
    const seen = record(cache);
    await cache.synced();
    await until('the watch', () => cache.health().watching && s.openWatches() === 1);
    seen.length = 0;
    s.clearRequests();

    const shutdown = s.shutdown({ graceMs: 300 });
    s.create('services', svc('during'));
    await until('the event through the open watch', () => seen.some((e) => e[1] === 'default/during'));
    t.same(s.requests(), [], 'delivered on the open stream: no new request');
    await shutdown;
    // The stream has ended; the cache's attempts are refused (ECONNREFUSED) while the server is down.
    await until('a refused reconnection', () => /ECONNREFUSED/.test(cache.health().lastError ?? ''));
    t.equal(cache.health().synced, true, 'the cache keeps its objects while the server is down');
    s.create('services', svc('while-down'));
    s.delete('services', 'a');
    await s.restart();
    await until('the changes made while down', () => cache.get('default/while-down') && !cache.get('default/a'));
    await until('the watch again', () => cache.health().watching && s.openWatches() === 1);
    t.same(seen, [
      ['add', 'default/during'],
      ['delete', 'default/a'],
      ['add', 'default/while-down'],
    ]);
    t.equal(cache.health().relists, 1, 'the resumed watch got 410 (empty watch cache) and the cache re-listed once');
    const c = s.create('services', svc('after'));
    await until('after', () => cache.get('default/after'));
    t.equal(cache.get('default/after')?.metadata?.resourceVersion, c.metadata.resourceVersion);
  },
);
