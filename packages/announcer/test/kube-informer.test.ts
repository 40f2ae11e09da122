// watchCache against the in-repo test API server, through the real @kubernetes/client-node: the cache
// fills and follows changes; after compaction + dropped watches it re-lists and reports only what
// really changed while it was blind; a failed list backs off and recovers; a silent watch (a proxy that
// stops forwarding without closing) is caught by the watchdog; bookmarks keep a quiet watch alive.
import net from 'node:net';
import t, { type Test } from 'tap';
import { BGP_ANNOUNCE_CRDS, start, type TestApiServer } from '@bgp-announce/test-apiserver';
import { manualClock } from '@bgp-announce/bgp-speaker';
import { loadKubeConfig } from '../src/kube/client.js';
import { backoffDelay, DEFAULT_WATCH_TIMEOUT_S, watchCache, type CachedObject } from '../src/kube/informer.js';
import {
  watchConfigObjects,
  watchEndpointSlices,
  watchNamespaces,
  watchNodes,
  watchSecrets,
  watchServices,
} from '../src/kube/watches.js';
import { silentLogger, type KubeLogger } from '../src/kube/api-errors.js';
import type { CacheChange, ObjectCache } from '../src/kube/cache.js';
import { until } from './helpers/kube-harness.js';

function collectingLogger(): { logger: KubeLogger; lines: string[] } {
  const lines: string[] = [];
  const push = (_o: unknown, msg?: string): void => void lines.push(String(msg));
  return { logger: { debug: push, info: push, warn: push, error: push } as unknown as KubeLogger, lines };
}

type Seen = [CacheChange, string, string | undefined];
/** Records every change as [change, key, resourceVersion of the object]. */
function record<T extends CachedObject>(cache: ObjectCache<T>): Seen[] {
  const seen: Seen[] = [];
  cache.on('change', (change, obj) => seen.push([change, cache.key(obj), obj.metadata?.resourceVersion]));
  return seen;
}

const svc = (name: string, extra: Record<string, unknown> = {}) => ({
  metadata: { name, namespace: 'default', labels: { app: name } },
  spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], ...extra },
});

async function server(t: Test, opts: Parameters<typeof start>[0] = {}): Promise<TestApiServer> {
  const s = await start(opts);
  t.teardown(() => s.stop());
  return s;
}

t.test('backoffDelay doubles, is capped and jittered down to half', async (t) => {
  t.equal(backoffDelay(0, { initialMs: 100, random: () => 1 }), 100);
  t.equal(backoffDelay(3, { initialMs: 100, random: () => 1 }), 800);
  t.equal(backoffDelay(3, { initialMs: 100, random: () => 0 }), 400);
  t.equal(backoffDelay(20, { initialMs: 100, maxMs: 30_000, random: () => 1 }), 30_000);
  t.equal(backoffDelay(20, { initialMs: 100, maxMs: 30_000, random: () => 0 }), 15_000);
});

t.test('each watch asks the server for a random timeout of 10-20 minutes unless told', async (t) => {
  const s = await server(t);
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const caches = [watchServices(kubeConfig), watchNodes(kubeConfig), watchNamespaces(kubeConfig)];
  const told = watchServices(kubeConfig, { watchTimeoutSeconds: 42 });
  t.teardown(() => [...caches, told].forEach((c) => c.stop()));
  await Promise.all([...caches, told].map((c) => c.synced()));
  const watchesOf = () => s.requests().filter((r) => r.verb === 'watch');
  await until('four watches open', () => (watchesOf().length >= 4 ? true : undefined));
  const timeouts = watchesOf().map((r) => Number(r.query.timeoutSeconds));
  t.equal(timeouts.filter((x) => x === 42).length, 1, 'the one told asks 42 s');
  const defaults = timeouts.filter((x) => x !== 42);
  t.equal(defaults.length, 3);
  t.equal(DEFAULT_WATCH_TIMEOUT_S, 600);
  t.ok(
    defaults.every((x) => x >= 600 && x <= 1200),
    `the others ask 600-1200 s: ${defaults.join(', ')}`,
  );
});

t.test('the cache fills from the list and follows add, update and delete', async (t) => {
  const s = await server(t);
  s.create('services', svc('a'));
  s.create('services', svc('b'));
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const cache = watchServices(kubeConfig);
  t.teardown(() => cache.stop());
  const seen = record(cache);
  await cache.synced();
  t.same(
    cache
      .list()
      .map((o) => cache.key(o))
      .sort(),
    ['default/a', 'default/b', 'default/kubernetes'],
  );
  t.same(seen.map(([c, k]) => [c, k]).sort(), [
    ['add', 'default/a'],
    ['add', 'default/b'],
    ['add', 'default/kubernetes'],
  ]);
  t.equal(
    typeof (cache.get('default/a') as { metadata: { creationTimestamp?: unknown } }).metadata.creationTimestamp,
    'string',
    'kept as plain JSON',
  );
  await until('the watch', () => cache.health().watching);
  t.same(cache.health(), { synced: true, watching: true, relists: 0 });
  seen.length = 0;

  const c = s.create('services', svc('c'));
  await until('add of c', () => seen.length === 1);
  t.same(seen[0], ['add', 'default/c', c.metadata.resourceVersion]);

  let old: unknown;
  cache.on('change', (_c, _o, o) => (old = o));
  const updated = s.patch('services', 'c', { metadata: { labels: { tier: 'web' } } });
  await until('update of c', () => seen.length === 2);
  t.same(seen[1], ['update', 'default/c', updated.metadata.resourceVersion]);
  t.equal(
    (old as CachedObject).metadata?.resourceVersion,
    c.metadata.resourceVersion,
    'the listener gets the previous object',
  );
  t.same(cache.get('default/c')?.metadata?.labels, { app: 'c', tier: 'web' });

  s.delete('services', 'c');
  await until('delete of c', () => seen.length === 3);
  t.same(seen[2]?.slice(0, 2), ['delete', 'default/c']);
  t.equal(cache.get('default/c'), undefined);
  t.equal(cache.health().relists, 0, 'no re-list was needed');
});

t.test('after compaction and dropped watches the cache re-lists and reports only real differences', async (t) => {
  const s = await server(t);
  for (const n of ['keep', 'gone', 'changed']) s.create('services', svc(n));
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const { logger, lines } = collectingLogger();
  const cache = watchServices(kubeConfig, { logger });
  t.teardown(() => cache.stop());
  await cache.synced();
  await until('the watch', () => cache.health().watching && s.openWatches() === 1);
  t.strictSame(
    s
      .requests()
      .filter((r) => r.verb === 'list')
      .map((r) => r.query.resourceVersion),
    ['0'],
    "the first list asks resourceVersion=0 (the API server's watch cache)",
  );
  const seen = record(cache);
  s.clearRequests();

  // All in one tick: the cache is blind while these happen, and the history it would replay is gone.
  t.equal(s.dropWatches(), 1);
  s.delete('services', 'gone');
  const changed = s.patch('services', 'changed', { spec: { ports: [{ port: 8080, protocol: 'TCP' }] } });
  const added = s.create('services', svc('new'));
  s.compactHistory();

  await until('the re-list', () => cache.health().relists === 1 && cache.health().watching);
  seen.sort((a, b) => a[1].localeCompare(b[1]));
  t.same(
    seen.map((e) => e.slice(0, 2)),
    [
      ['update', 'default/changed'],
      ['delete', 'default/gone'],
      ['add', 'default/new'],
    ],
    'one event per real change, none for default/keep or default/kubernetes',
  );
  t.equal(seen[0]?.[2], changed.metadata.resourceVersion, 'the update carries the new object');
  t.equal(seen[2]?.[2], added.metadata.resourceVersion);
  t.same(
    cache
      .list()
      .map((o) => cache.key(o))
      .sort(),
    ['default/changed', 'default/keep', 'default/kubernetes', 'default/new'],
  );
  const watches = s.requests().filter((r) => r.verb === 'watch');
  t.ok(
    watches.some((r) => r.watchError === 410),
    'the resumed watch was answered 410 Gone',
  );
  const relists = s.requests().filter((r) => r.verb === 'list');
  t.equal(relists.length, 1, 'one re-list');
  t.equal(relists[0]?.query.resourceVersion, undefined, 'after 410 Gone, the newest (no resourceVersion: from etcd)');
  t.ok(
    lines.some((l) => l.includes('410')),
    'the 410 is logged',
  );
});

t.test('a failing list backs off and recovers; a failing watch resumes without a re-list', async (t) => {
  const s = await server(t);
  s.create('services', svc('a'));
  s.failNext('list', 'services', 500, 'injected');
  s.failNext('list', 'services', 503, 'injected again');
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const began = Date.now();
  const cache = watchServices(kubeConfig, { backoff: { initialMs: 100, random: () => 1 } });
  t.teardown(() => cache.stop());
  await until('the first error', () => cache.health().lastError);
  t.match(cache.health().lastError, /list services: 50[03]: injected/);
  t.equal(cache.health().synced, false);
  await cache.synced();
  t.ok(Date.now() - began >= 300, `two back-offs of 100 and 200 ms (took ${Date.now() - began} ms)`);
  t.same(
    s
      .requests()
      .filter((r) => r.verb === 'list')
      .map((r) => r.status),
    [500, 503, 200],
  );
  t.ok(cache.get('default/a'));
  await until('the watch', () => cache.health().watching);
  t.equal(cache.health().lastError, undefined, 'the error is cleared once watching');

  // A watch refused with 500: the cache watches again from where it was, without a list.
  const seen = record(cache);
  s.clearRequests();
  s.failNext('watch', 'services', 500);
  s.dropWatches();
  s.create('services', svc('b'));
  await until('b', () => seen.some((e) => e[1] === 'default/b'));
  t.same(
    seen.map((e) => e.slice(0, 2)),
    [['add', 'default/b']],
  );
  t.same(
    s.requests().map((r) => [r.verb, r.status]),
    [
      ['watch', 500],
      ['watch', 200],
    ],
    'no list, two watches',
  );
  t.equal(cache.health().relists, 0);
});

t.test(
  'a restart that keeps the history (a warm API server behind the same address) and abruptly reset watches: the watch resumes from where it was, no re-list',
  async (t) => {
    const s = await server(t);
    s.create('services', svc('a'));
    const { kubeConfig } = loadKubeConfig({ url: s.url });
    const cache = watchServices(kubeConfig, { backoff: { initialMs: 20 } });
    t.teardown(() => cache.stop());
    const seen = record(cache);
    await cache.synced();
    await until('the watch', () => cache.health().watching && s.openWatches() === 1);
    seen.length = 0;

    await s.restart({ keepHistory: true });
    const b = s.create('services', svc('b'));
    await until('b after the restart', () => seen.length === 1);
    t.same(seen, [['add', 'default/b', b.metadata.resourceVersion]]);

    await until('the watch again', () => s.openWatches() === 1);
    t.equal(s.dropWatches({ abrupt: true }), 1);
    s.delete('services', 'a');
    await until('a deleted after the reset', () => seen.length === 2);
    t.same(seen[1]?.slice(0, 2), ['delete', 'default/a']);
    t.equal(cache.health().relists, 0, 'the history was still there: no re-list');
    t.same(
      cache
        .list()
        .map((o) => cache.key(o))
        .sort(),
      ['default/b', 'default/kubernetes'],
    );
  },
);

t.test('410 Gone re-lists at once, whatever back-off the failures before it built up', async (t) => {
  // In virtual time: a sleep is a timer on the manual clock, which moves only when the test says so.
  // Three failed watches build up a back-off; the 410 that follows must not wait it out.
  const s = await server(t);
  s.create('services', svc('a'));
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const manual = manualClock(1_000_000);
  const sleeps: number[] = []; // back-off sleeps (the watchdog's timers are 5 min)
  const clock = {
    now: () => manual.now(),
    setTimer: (ms: number, fn: () => void) => {
      if (ms < 60_000) sleeps.push(ms);
      return manual.setTimer(ms, fn);
    },
    clearTimer: (h: Parameters<typeof manual.clearTimer>[0]) => manual.clearTimer(h),
  };
  const cache = watchServices(kubeConfig, { clock, backoff: { initialMs: 1000, random: () => 1 } });
  t.teardown(() => cache.stop());
  await cache.synced();
  await until('the watch', () => cache.health().watching && s.openWatches() === 1);
  s.clearRequests();
  for (let i = 0; i < 3; i++) s.failNext('watch', 'services', 503, 'unavailable');
  s.failNext('watch', 'services', 410);
  s.dropWatches();
  // The dropped stream and each refused watch are followed by a back-off sleep: let each one pass.
  for (let n = 1; n <= 4; n++) {
    await until(`back-off sleep ${n}`, () => sleeps.length === n);
    manual.advance(sleeps[n - 1]!);
  }
  t.same(sleeps, [1000, 2000, 4000, 8000], 'the back-off grew with each failure');
  await until('the 410', () => s.requests().some((r) => r.watchError === 410));
  const b = s.create('services', svc('b'));
  await until('b, through a re-list made without the clock moving', () => cache.get('default/b'), 3000);
  t.equal(cache.health().relists, 1);
  t.equal(sleeps.length, 4, 'no back-off sleep before the re-list');
  t.same(cache.get('default/b')?.metadata?.resourceVersion, b.metadata.resourceVersion);
  t.same(
    s
      .requests()
      .slice(0, 5)
      .map((r) => [r.verb, r.watchError ?? r.status]),
    [
      ['watch', 503],
      ['watch', 503],
      ['watch', 503],
      ['watch', 410],
      ['list', 200],
    ],
  );
});

t.test(
  'a restarted API server has lost its watch history: resumed watches get 410 and the cache re-lists',
  async (t) => {
    const s = await server(t);
    s.create('services', svc('a'));
    const { kubeConfig } = loadKubeConfig({ url: s.url });
    const cache = watchServices(kubeConfig, { backoff: { initialMs: 20 } });
    t.teardown(() => cache.stop());
    const seen = record(cache);
    await cache.synced();
    await until('the watch', () => cache.health().watching && s.openWatches() === 1);
    seen.length = 0;
    s.clearRequests();
    await s.restart();
    const b = s.create('services', svc('b'));
    await until('b after the restart', () => cache.get('default/b'));
    t.equal(cache.health().relists, 1, 'one re-list');
    t.ok(
      s.requests().some((r) => r.verb === 'watch' && r.watchError === 410),
      'the resumed watch was refused as too old',
    );
    t.same(
      seen.map((e) => e.slice(0, 2)),
      [['add', 'default/b']],
      `the re-list reports only what changed: ${JSON.stringify(seen)}`,
    );
    t.same(cache.get('default/b')?.metadata?.resourceVersion, b.metadata.resourceVersion);
  },
);

/** A TCP proxy that can freeze its watch connections: they stay open but nothing more gets through. */
async function freezingProxy(t: Test, target: number): Promise<{ url: string; freeze(): void; frozen(): number }> {
  const watches = new Set<{ frozen: boolean }>();
  const proxy = net.createServer((client) => {
    const upstream = net.connect(target, '127.0.0.1');
    const state = { frozen: false };
    let first = true;
    client.on('data', (d) => {
      if (first && /^GET [^ ]*watch=true/.test(d.toString('latin1'))) watches.add(state);
      first = false;
      upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!state.frozen) client.write(d);
    });
    const close = (): void => {
      watches.delete(state);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', close).on('error', close);
    upstream.on('close', close).on('error', close);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => proxy.close(() => r())));
  return {
    url: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`,
    freeze: () => watches.forEach((w) => (w.frozen = true)),
    frozen: () => [...watches].filter((w) => w.frozen).length,
  };
}

t.test('bookmarks keep a quiet watch alive; the watchdog restarts a silent one with a re-list', async (t) => {
  const s = await server(t, { bookmarkIntervalMs: 50 });
  s.create('services', svc('a'));
  const proxy = await freezingProxy(t, s.port);
  const { kubeConfig } = loadKubeConfig({ url: proxy.url });
  const { logger, lines } = collectingLogger();
  const cache = watchServices(kubeConfig, { watchdogMs: 1000, logger });
  t.teardown(() => cache.stop());
  const seen = record(cache);
  await cache.synced();
  await until('the watch', () => cache.health().watching);
  // 2 s with bookmarks every 50 ms and no change: the watchdog (1 s) must not fire.
  const quietUntil = Date.now() + 2000;
  await until('two quiet seconds', () => Date.now() > quietUntil, 3000);
  t.equal(cache.health().relists, 0, 'bookmarks fed the watchdog');
  t.equal(s.requests().filter((r) => r.verb === 'watch').length, 1);

  proxy.freeze();
  t.equal(proxy.frozen(), 1, 'the one watch is frozen: open, but silent');
  const updated = s.patch('services', 'a', { metadata: { labels: { v: '2' } } });
  const frozenAt = Date.now();
  await until('the watchdog re-list', () => cache.health().relists === 1, 5000);
  t.ok(Date.now() - frozenAt >= 900, 'not before the watchdog period');
  t.same(
    seen.slice(-1),
    [['update', 'default/a', updated.metadata.resourceVersion]],
    'the missed change arrives through the re-list',
  );
  t.equal(seen.filter((e) => e[0] !== 'add').length, 1, 'and nothing else');
  t.ok(lines.some((l) => l.includes('no event or bookmark')));
  await until('a new watch', () => cache.health().watching && s.openWatches() >= 1);
  const next = s.create('services', svc('b'));
  await until('b through the new watch', () => seen.some((e) => e[1] === 'default/b'));
  t.same(seen.slice(-1), [['add', 'default/b', next.metadata.resourceVersion]]);
});

t.test('the watch factories list what they should', async (t) => {
  const s = await server(t);
  const slice = (name: string, service: string) => ({
    metadata: {
      name,
      namespace: 'default',
      labels: {
        'kubernetes.io/service-name': service,
        'endpointslice.kubernetes.io/managed-by': service === 'a' ? 'x' : 'y',
      },
    },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.51.100.1'], nodeName: 'n1', conditions: { ready: true } }],
  });
  s.create('endpointslices', slice('a-1', 'a'));
  s.create('endpointslices', slice('b-1', 'b'));
  s.create('nodes', { metadata: { name: 'n1' } });
  s.create('nodes', { metadata: { name: 'n2' } });
  s.create('namespaces', { metadata: { name: 'bgp', labels: { team: 'net' } } });
  s.create('secrets', {
    metadata: { name: 'pw', namespace: 'bgp' },
    type: 'kubernetes.io/basic-auth',
    data: { password: Buffer.from('x').toString('base64') },
  });
  s.create('secrets', { metadata: { name: 'other', namespace: 'default' }, data: {} });
  s.create('bgppeers', {
    apiVersion: 'bgp-announce.io/v1alpha1',
    kind: 'BGPPeer',
    metadata: { name: 'tor', namespace: 'bgp' },
    spec: { myASN: 64496, peerASN: 64497, peerAddress: '192.0.2.1' },
  });
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const caches = {
    slices: watchEndpointSlices(kubeConfig, { labelSelector: 'endpointslice.kubernetes.io/managed-by=x' }),
    node: watchNodes(kubeConfig, { nodeName: 'n2' }),
    nodes: watchNodes(kubeConfig),
    namespaces: watchNamespaces(kubeConfig),
    secrets: watchSecrets(kubeConfig, 'bgp'),
    peers: watchConfigObjects(kubeConfig, 'BGPPeer', 'bgp'),
    pools: watchConfigObjects(kubeConfig, 'IPAddressPool', 'bgp'),
  };
  t.teardown(() => Object.values(caches).forEach((c) => c.stop()));
  await Promise.all(Object.values(caches).map((c) => c.synced()));
  const keys = (c: ObjectCache<CachedObject>): string[] =>
    c
      .list()
      .map((o) => c.key(o))
      .sort();
  t.same(keys(caches.slices), ['default/a-1']);
  t.same(keys(caches.node), ['n2'], 'fieldSelector metadata.name');
  t.same(keys(caches.nodes), ['n1', 'n2']);
  t.ok(keys(caches.namespaces).includes('bgp'));
  t.same(keys(caches.secrets), ['bgp/pw']);
  t.same(keys(caches.peers), ['bgp/tor']);
  t.equal(
    caches.peers.get('bgp/tor')?.spec && (caches.peers.get('bgp/tor')!.spec as { peerASN: number }).peerASN,
    64497,
  );
  t.same(keys(caches.pools), []);
  await until('watching', () => Object.values(caches).every((c) => c.health().watching));
  const bookmarks = s
    .requests()
    .filter((r) => r.verb === 'watch')
    .map((r) => r.query.allowWatchBookmarks);
  t.same(bookmarks, Array(7).fill('true'), 'seven watches, each asking for bookmarks');
  // Changes to both nodes: the single-node cache sees only its own.
  s.patch('nodes', 'n2', { metadata: { labels: { ready: 'yes' } } });
  s.patch('nodes', 'n1', { metadata: { labels: { ready: 'yes' } } });
  await until('n1 and n2 updated in nodes', () =>
    caches.nodes.list().every((n) => n.metadata?.labels?.ready === 'yes'),
  );
  t.equal(caches.node.get('n2')?.metadata?.labels?.ready, 'yes');
  t.same(keys(caches.node), ['n2']);
});

t.test('a cache built on a list function that is not client-node: stop() ends everything', async (t) => {
  const s = await server(t);
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  let lists = 0;
  const cache = watchCache<CachedObject>({
    kubeConfig,
    path: '/api/v1/namespaces/default/configmaps',
    list: async () => {
      lists++;
      return { items: [], metadata: { resourceVersion: s.resourceVersion() } };
    },
  });
  await cache.synced();
  await until('the watch', () => s.openWatches() === 1);
  cache.stop();
  await until('the watch to close', () => s.openWatches() === 0);
  t.equal(lists, 1);
  t.equal(cache.health().watching, false);
});

t.test('a list that never answers times out and is retried', async (t) => {
  // A server that accepts connections and never says a word.
  const sockets = new Set<net.Socket>();
  const mute = net.createServer((c) => void sockets.add(c));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    sockets.forEach((c) => c.destroy());
    return new Promise<void>((r) => mute.close(() => r()));
  });
  const { kubeConfig } = loadKubeConfig({ url: `http://127.0.0.1:${(mute.address() as net.AddressInfo).port}` });
  const cache = watchServices(kubeConfig, { listTimeoutMs: 200, backoff: { initialMs: 50 } });
  t.teardown(() => cache.stop());
  await until('the timeout', () => cache.health().lastError);
  t.equal(cache.health().lastError, 'list services: no answer from the API server within 200 ms');
  await until('a second attempt', () => sockets.size >= 2, 3000);
  t.equal(cache.health().synced, false);
});

t.test(
  'a resource whose CRD is missing (missingIsEmpty): synced empty, listed again only every 5-10 minutes',
  async (t) => {
    const s = await start({ customResources: BGP_ANNOUNCE_CRDS.filter((c) => c.plural !== 'staticroutes') });
    t.teardown(() => s.stop());
    const { kubeConfig } = loadKubeConfig({ url: s.url });
    const manual = manualClock(1_000_000);
    const waits: number[] = [];
    const clock = {
      now: () => manual.now(),
      setTimer: (ms: number, fn: () => void) => {
        waits.push(ms);
        return manual.setTimer(ms, fn);
      },
      clearTimer: (h: Parameters<typeof manual.clearTimer>[0]) => manual.clearTimer(h),
    };
    const warnings: string[] = [];
    const logger = { ...silentLogger, warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? '') };
    const cache = watchConfigObjects(kubeConfig, 'StaticRoute', 'bgp-announce', {
      clock,
      logger: logger as KubeLogger,
    });
    t.teardown(() => cache.stop());
    await cache.synced();
    t.strictSame(cache.list(), [], 'synced, with no objects');
    t.match(warnings, [/staticroutes\.bgp-announce\.io CRD is not installed/]);
    const lists = () =>
      s.requests().filter((r) => r.path.endsWith('/staticroutes') && r.method === 'GET' && r.query.watch === undefined)
        .length;
    await until('the wait before the next list', () => waits.some((ms) => ms >= 300_000));
    const wait = waits.find((ms) => ms >= 300_000)!;
    t.ok(wait >= 300_000 && wait <= 600_000, `the next list in ${Math.round(wait / 1000)} s, not on the back-off`);
    t.equal(lists(), 1, 'one list so far');
    manual.advance(wait - 1);
    t.equal(lists(), 1, 'none before the wait is over');
    manual.advance(1);
    await until('the second list', () => lists() === 2);
    t.equal(warnings.length, 1, 'said once');
  },
);
