// Watches and informers with the real client-node: makeInformer sees ADDED/MODIFIED/DELETED, an
// informer survives compactHistory + dropWatches by re-listing after 410 Gone, bookmarks arrive,
// history replays from a resourceVersion, timeoutSeconds ends a watch, selectors filter events.
import t, { type Test } from 'tap';
import {
  CoreV1Api,
  makeInformer,
  Watch,
  type KubernetesObject,
  type ListWatch,
  type V1Service,
} from '@kubernetes/client-node';
import { kubeConfig, poll, startServer } from './helpers.js';

const svc = (name: string, labels: Record<string, string> = {}): V1Service => ({
  metadata: { name, namespace: 'default', labels },
  spec: { ports: [{ port: 80 }] },
});

type Seen = { type: string; object: KubernetesObject };

t.test('makeInformer sees ADDED, MODIFIED and DELETED', async (t) => {
  const server = await startServer(t);
  const kc = kubeConfig(server);
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(kc, '/api/v1/namespaces/default/services', () =>
    core.listNamespacedService({ namespace: 'default' }),
  );
  const events: string[] = [];
  const errors: unknown[] = [];
  informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
  informer.on('update', (o) => events.push(`update ${o.metadata?.name} ${o.metadata?.labels?.v ?? ''}`));
  informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
  informer.on('error', (e) => errors.push(e));
  await informer.start();
  t.teardown(() => informer.stop());
  await poll('initial list', () => events.includes('add kubernetes'));
  const listedAt = (informer as unknown as ListWatch<V1Service>).latestResourceVersion();
  t.equal(listedAt, server.resourceVersion(), 'the list carried the current resourceVersion');

  server.create('services', svc('web'));
  await poll('ADDED', () => events.includes('add web'));
  const web = await core.readNamespacedService({ name: 'web', namespace: 'default' });
  web.metadata!.labels = { v: '2' };
  await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: web });
  await poll('MODIFIED', () => events.includes('update web 2'));
  await core.deleteNamespacedService({ name: 'web', namespace: 'default' });
  await poll('DELETED', () => events.includes('delete web'));
  t.same(events, ['add kubernetes', 'add web', 'update web 2', 'delete web']);
  t.same(
    informer.list('default').map((o) => o.metadata?.name),
    ['kubernetes'],
    'the cache follows',
  );
  t.same(errors, []);
  const watches = server.requests().filter((r) => r.verb === 'watch');
  t.equal(watches.length, 1, 'one watch, no reconnects');
  t.equal(watches[0]?.query.resourceVersion, listedAt, "watched from the list's resourceVersion");
});

t.test('an informer survives compactHistory + dropWatches by re-listing on 410 Gone', async (t) => {
  const server = await startServer(t);
  const kc = kubeConfig(server);
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(kc, '/api/v1/namespaces/default/services', () =>
    core.listNamespacedService({ namespace: 'default' }),
  );
  const events: string[] = [];
  const errors: unknown[] = [];
  informer.on('add', (o) => events.push(`add ${o.metadata?.name}`));
  informer.on('delete', (o) => events.push(`delete ${o.metadata?.name}`));
  informer.on('error', (e) => errors.push(e));
  await informer.start();
  t.teardown(() => informer.stop());
  await poll('initial list', () => events.includes('add kubernetes'));
  const listedAt = (informer as unknown as ListWatch<V1Service>).latestResourceVersion();

  // While no watch is open, change things and forget the history, all in one tick.
  t.equal(server.dropWatches(), 1, 'one watch was open');
  server.create('services', svc('missed'));
  server.delete('services', 'kubernetes');
  server.compactHistory();

  await poll('re-list', () => events.includes('add missed') && events.includes('delete kubernetes'));
  t.same(errors, [], 'no error: 410 is handled by re-listing');
  const log = server.requests();
  const gone = log.find((r) => r.verb === 'watch' && r.watchError === 410);
  t.ok(gone, 'the re-watch got an ERROR event with 410');
  t.equal(gone?.query.resourceVersion, listedAt, 'from the resourceVersion of the first list');
  t.equal(log.filter((r) => r.verb === 'list').length, 2, 'listed twice');
  await poll('watching again', () => server.openWatches() === 1);
  server.create('services', svc('after'));
  await poll('events after the re-list', () => events.includes('add after'));
});

t.test('an abrupt connection reset stops a client-node informer (it only recovers from 410)', async (t) => {
  const server = await startServer(t);
  const kc = kubeConfig(server);
  const core = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer(kc, '/api/v1/namespaces/default/services', () =>
    core.listNamespacedService({ namespace: 'default' }),
  );
  const errors: unknown[] = [];
  informer.on('error', (e) => errors.push(e));
  await informer.start();
  t.teardown(() => informer.stop());
  await poll('watch open', () => server.openWatches() === 1);
  server.dropWatches({ abrupt: true });
  await poll('informer error', () => errors.length > 0);
  t.equal(server.requests().filter((r) => r.verb === 'watch').length, 1, 'it did not watch again');
});

async function collectWatch(
  t: Test,
  server: Awaited<ReturnType<typeof startServer>>,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
) {
  const events: Seen[] = [];
  let done: unknown = 'open';
  const req = await new Watch(kubeConfig(server)).watch(
    path,
    query,
    (type, object) => events.push({ type, object: object as KubernetesObject }),
    (err) => (done = err),
  );
  t.teardown(() => req.abort());
  return { events, done: () => done };
}

t.test('bookmarks arrive with allowWatchBookmarks and carry the current resourceVersion', async (t) => {
  const server = await startServer(t, { bookmarkIntervalMs: 50 });
  const rv = server.resourceVersion();
  const w = await collectWatch(t, server, '/api/v1/namespaces/default/services', {
    resourceVersion: rv,
    allowWatchBookmarks: true,
  });
  const first = await poll('a bookmark', () => w.events.find((e) => e.type === 'BOOKMARK'));
  t.match(first.object, { kind: 'Service', apiVersion: 'v1', metadata: { resourceVersion: rv } });
  server.create('secrets', { metadata: { name: 'unrelated' }, stringData: { a: 'b' } });
  const newer = server.resourceVersion();
  t.not(newer, rv);
  await poll('a bookmark at the newer resourceVersion', () =>
    w.events.find((e) => e.type === 'BOOKMARK' && e.object.metadata?.resourceVersion === newer),
  );
  t.same(
    w.events.filter((e) => e.type !== 'BOOKMARK'),
    [],
    'no events for other resources',
  );

  const plain = await collectWatch(t, server, '/api/v1/namespaces/default/services', { resourceVersion: rv });
  server.create('services', svc('marker'));
  await poll('marker', () => plain.events.some((e) => e.object.metadata?.name === 'marker'));
  t.notOk(
    plain.events.some((e) => e.type === 'BOOKMARK'),
    'no bookmarks unless asked for',
  );
});

t.test('watch replays history after a resourceVersion; too old gets ERROR 410 Expired', async (t) => {
  const server = await startServer(t, { historySize: 4 });
  const start = server.resourceVersion();
  server.create('services', svc('a'));
  server.patch('services', 'a', { metadata: { labels: { x: '1' } } });
  const replay = await collectWatch(t, server, '/api/v1/namespaces/default/services', { resourceVersion: start });
  await poll('replayed', () => replay.events.length === 2);
  t.same(
    replay.events.map((e) => `${e.type} ${e.object.metadata?.name}`),
    ['ADDED a', 'MODIFIED a'],
  );

  for (let i = 0; i < 4; i++) server.create('secrets', { metadata: { name: `s${i}` } });
  const old = await collectWatch(t, server, '/api/v1/namespaces/default/services', { resourceVersion: start });
  await poll('stream ended', () => old.done() !== 'open');
  t.equal(old.events.length, 1);
  t.match(old.events[0], {
    type: 'ERROR',
    object: {
      kind: 'Status',
      code: 410,
      reason: 'Expired',
      message: new RegExp(`^too old resource version: ${start} \\(\\d+\\)$`),
    },
  });

  const fromZero = await collectWatch(t, server, '/api/v1/namespaces/default/services', { resourceVersion: '0' });
  await poll('current state', () => fromZero.events.length === 2);
  t.same(
    fromZero.events.map((e) => `${e.type} ${e.object.metadata?.name}`),
    ['ADDED a', 'ADDED kubernetes'],
    'resourceVersion 0 starts with the current objects',
  );
});

t.test('timeoutSeconds ends the watch', async (t) => {
  const server = await startServer(t);
  const began = Date.now();
  const w = await collectWatch(t, server, '/api/v1/services', { timeoutSeconds: 1 });
  await poll('watch ended', () => w.done() !== 'open', 4000);
  t.equal(w.done(), null, 'ended cleanly');
  t.ok(Date.now() - began >= 900, 'not before the timeout');
  t.equal(server.openWatches(), 0);
});

t.test('selector transitions: leaving the selector is DELETED, entering is ADDED', async (t) => {
  const server = await startServer(t);
  server.create('services', svc('web', { app: 'web' }));
  const w = await collectWatch(t, server, '/api/v1/namespaces/default/services', {
    resourceVersion: server.resourceVersion(),
    labelSelector: 'app=web',
  });
  server.patch('services', 'web', { metadata: { labels: { app: 'other' } } });
  server.patch('services', 'web', { metadata: { labels: { app: 'web' } } });
  server.create('services', svc('db', { app: 'db' }));
  server.patch('services', 'web', { metadata: { annotations: { a: 'b' } } });
  await poll('three events', () => w.events.length === 3);
  // The DELETED event carries the last state that matched, at the change's resourceVersion.
  t.same(
    w.events.map((e) => `${e.type} ${e.object.metadata?.name} ${e.object.metadata?.labels?.app}`),
    ['DELETED web web', 'ADDED web web', 'MODIFIED web web'],
  );
});
