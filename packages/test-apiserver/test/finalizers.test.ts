// Deletion with finalizers: DELETE sets deletionTimestamp and keeps the object; the update that
// removes the last finalizer deletes it and watchers get DELETED. Namespaces delete their content.
import t from 'tap';
import { CoreV1Api, PatchStrategy, setHeaderOptions, Watch, type KubernetesObject } from '@kubernetes/client-node';
import { codeOf, kubeConfig, poll, rejection, startServer, statusOf } from './helpers.js';

const FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';

t.test('finalizer deletion flow seen by a watcher', async (t) => {
  const server = await startServer(t);
  const kc = kubeConfig(server);
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: 'default',
    body: { metadata: { name: 'web', finalizers: [FINALIZER] }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } },
  });
  const events: { type: string; object: KubernetesObject }[] = [];
  const req = await new Watch(kc).watch(
    '/api/v1/namespaces/default/services',
    { resourceVersion: server.resourceVersion(), fieldSelector: 'metadata.name=web' },
    (type, object) => events.push({ type, object: object as KubernetesObject }),
    () => undefined,
  );
  t.teardown(() => req.abort());

  const marked = await core.deleteNamespacedService({ name: 'web', namespace: 'default' });
  t.ok(marked.metadata?.deletionTimestamp, 'DELETE answered the object with deletionTimestamp');
  t.same(marked.metadata?.finalizers, [FINALIZER]);
  const still = await core.readNamespacedService({ name: 'web', namespace: 'default' });
  t.ok(still.metadata?.deletionTimestamp, 'the object stays while a finalizer is left');
  const again = await core.deleteNamespacedService({ name: 'web', namespace: 'default' });
  t.equal(again.metadata?.resourceVersion, still.metadata?.resourceVersion, 'a second DELETE changes nothing');

  const adding = await rejection(t, () =>
    core.patchNamespacedService(
      { name: 'web', namespace: 'default', body: { metadata: { finalizers: [FINALIZER, 'x.io/late'] } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  t.equal(codeOf(adding), 422, 'no new finalizers on an object being deleted');

  still.metadata!.finalizers = [];
  await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: still });
  const gone = await rejection(t, () => core.readNamespacedService({ name: 'web', namespace: 'default' }));
  t.equal(codeOf(gone), 404, 'removing the last finalizer deleted it');
  await poll('DELETED', () => events.some((e) => e.type === 'DELETED'));
  t.same(
    events.map((e) => e.type),
    ['MODIFIED', 'DELETED'],
  );
  t.ok(events[1]?.object.metadata?.deletionTimestamp, 'DELETED carries the last state');
  t.ok(
    Number(events[1]?.object.metadata?.resourceVersion) > Number(events[0]?.object.metadata?.resourceVersion),
    'at a new resourceVersion',
  );
});

t.test('delete preconditions, and deleting a namespace deletes its content', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  await core.createNamespace({ body: { metadata: { name: 'team' } } });
  await core.createNamespacedSecret({
    namespace: 'team',
    body: { metadata: { name: 's1' }, stringData: { password: 'x' } },
  });
  await core.createNamespacedSecret({
    namespace: 'team',
    body: { metadata: { name: 's2', finalizers: ['a.io/hold'] } },
  });
  t.same(
    server.get('secrets', 's1', 'team')?.data,
    { password: Buffer.from('x').toString('base64') },
    'stringData folded into data',
  );

  await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'plain' } } });
  const plain = await core.deleteNamespacedSecret({ name: 'plain', namespace: 'default' });
  t.match(
    plain,
    { kind: 'Status', status: 'Success', details: { name: 'plain', kind: 'secrets' } },
    'an immediate delete answers a Status, as for most resources',
  );

  const pre = await rejection(t, () =>
    core.deleteNamespacedSecret({ name: 's2', namespace: 'team', body: { preconditions: { uid: 'not-the-uid' } } }),
  );
  t.match(statusOf(pre), { code: 409, reason: 'Conflict' });

  const ns = await core.deleteNamespace({ name: 'team' });
  t.equal((ns as { status?: { phase?: string } }).status?.phase, 'Terminating');
  t.equal(server.get('secrets', 's1', 'team'), undefined, 's1 is gone');
  t.ok(server.get('secrets', 's2', 'team')?.metadata.deletionTimestamp, 's2 waits for its finalizer');
  t.ok(server.get('namespaces', 'team'), 'the namespace waits for its content');
  const refused = await rejection(t, () =>
    core.createNamespacedSecret({ namespace: 'team', body: { metadata: { name: 's3' } } }),
  );
  t.match(statusOf(refused), { code: 403, reason: 'Forbidden' });

  const s2 = server.get('secrets', 's2', 'team');
  if (!s2) throw new Error('s2 vanished');
  s2.metadata.finalizers = [];
  server.update('secrets', s2);
  t.equal(server.get('secrets', 's2', 'team'), undefined);
  t.equal(server.get('namespaces', 'team'), undefined, 'the namespace went with its last object');
});
