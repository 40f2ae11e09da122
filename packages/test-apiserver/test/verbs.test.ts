// Less common verbs and parameters: dryRun=All, deletecollection, 405 for a verb a path does not
// take, sendInitialEvents with its closing bookmark, a bad resourceVersion on a watch.
import t from 'tap';
import { CoreV1Api, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { kubeConfig, poll, rejection, startServer, statusOf } from './helpers.js';

t.test('dryRun=All checks but stores nothing', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  const rv = server.resourceVersion();
  const dry = await core.createNamespacedSecret({
    namespace: 'default',
    body: { metadata: { name: 'dry' }, stringData: { k: 'v' } },
    dryRun: 'All',
  });
  t.same(dry.data, { k: Buffer.from('v').toString('base64') }, 'the answer is what would be stored');
  t.equal(server.get('secrets', 'dry'), undefined);
  t.equal(server.resourceVersion(), rv, 'no write');
  const bad = await rejection(t, () =>
    core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'Dry' } }, dryRun: 'All' }),
  );
  t.equal(statusOf(bad).code, 422, 'validation still runs');
});

t.test('deletecollection with a label selector', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  for (const [name, app] of [
    ['a', 'x'],
    ['b', 'x'],
    ['c', 'y'],
  ])
    server.create('secrets', { metadata: { name, labels: { app } } });
  await core.deleteCollectionNamespacedSecret({ namespace: 'default', labelSelector: 'app=x' });
  t.same(
    server.list('secrets').map((s) => s.metadata.name),
    ['c'],
  );
});

t.test('405 for a verb the path does not take; 400 for a malformed watch resourceVersion', async (t) => {
  const server = await startServer(t);
  const post = await fetch(`${server.url}/api/v1/namespaces/default/services/kubernetes`, {
    method: 'POST',
    body: '{}',
  });
  t.equal(post.status, 405);
  t.match(await post.json(), { kind: 'Status', reason: 'MethodNotAllowed', code: 405 });
  const clusterCreate = await fetch(`${server.url}/api/v1/services`, { method: 'POST', body: '{}' });
  t.equal(clusterCreate.status, 405, 'no create of a namespaced resource without a namespace');
  const badRv = await fetch(`${server.url}/api/v1/services?watch=true&resourceVersion=abc`);
  t.equal(badRv.status, 400);
  const badJson = await fetch(`${server.url}/api/v1/namespaces/default/secrets`, {
    method: 'POST',
    body: '{nope',
    headers: { 'content-type': 'application/json' },
  });
  t.match(await badJson.json(), { code: 400, reason: 'BadRequest', message: /json parse error/ });
});

t.test('sendInitialEvents ends the initial events with the initial-events-end bookmark', async (t) => {
  const server = await startServer(t);
  server.create('secrets', { metadata: { name: 's' } });
  const events: { type: string; object: KubernetesObject }[] = [];
  const req = await new Watch(kubeConfig(server)).watch(
    '/api/v1/namespaces/default/secrets',
    { sendInitialEvents: true, allowWatchBookmarks: true, resourceVersionMatch: 'NotOlderThan' },
    (type, object) => events.push({ type, object: object as KubernetesObject }),
    () => undefined,
  );
  t.teardown(() => req.abort());
  await poll('bookmark', () => events.some((e) => e.type === 'BOOKMARK'));
  t.same(
    events.map((e) => e.type),
    ['ADDED', 'BOOKMARK'],
  );
  t.same(events[1]?.object.metadata, {
    resourceVersion: server.resourceVersion(),
    annotations: { 'k8s.io/initial-events-end': 'true' },
  });
});
