// Services through the real client-node CoreV1Api: CRUD, the status subresource, 409 on a stale
// update, no-op updates, the three patch types, and the errors' metav1.Status bodies.
import t from 'tap';
import { CoreV1Api, PatchStrategy, setHeaderOptions, type V1Service } from '@kubernetes/client-node';
import { codeOf, kubeConfig, rejection, startServer, statusOf } from './helpers.js';

const lbService = (name: string): V1Service => ({
  metadata: { name, labels: { app: name } },
  spec: { type: 'LoadBalancer', loadBalancerClass: 'bgp-announce.io/bgp', ports: [{ name: 'http', port: 80 }] },
});

t.test('create, get, list, replace, delete a Service', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  const created = await core.createNamespacedService({ namespace: 'default', body: lbService('web') });
  t.equal(created.metadata?.name, 'web');
  t.match(created.metadata?.uid, /^[0-9a-f-]{36}$/);
  t.equal(created.metadata?.generation, undefined, 'Services do not track generation, as on the real server');
  t.equal(created.metadata?.resourceVersion, server.resourceVersion(), 'the create took the newest resourceVersion');
  t.ok(created.metadata?.creationTimestamp instanceof Date, 'creationTimestamp parses as a date');
  t.equal(created.spec?.clusterIP, '192.0.2.2', 'next free cluster IP after the kubernetes Service (.1)');
  t.equal(created.spec?.externalTrafficPolicy, 'Cluster', 'defaulted');
  t.equal(created.spec?.ports?.[0]?.nodePort, 30000, 'node port allocated');
  t.equal(created.spec?.ports?.[0]?.protocol, 'TCP');

  const got = await core.readNamespacedService({ name: 'web', namespace: 'default' });
  t.equal(got.metadata?.uid, created.metadata?.uid);
  t.equal(got.kind, 'Service');

  const list = await core.listNamespacedService({ namespace: 'default' });
  t.same(
    list.items.map((s) => s.metadata?.name),
    ['kubernetes', 'web'],
  );
  t.equal(list.metadata?.resourceVersion, server.resourceVersion());
  t.equal(list.items[0]?.kind, undefined, 'items of a built-in list carry no kind, as on the real server');

  got.spec!.externalTrafficPolicy = 'Local';
  got.metadata!.labels = { app: 'web', tier: 'front' };
  const replaced = await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: got });
  t.equal(replaced.spec?.externalTrafficPolicy, 'Local');
  t.ok(Number(replaced.metadata?.resourceVersion) > Number(created.metadata?.resourceVersion));
  t.ok(replaced.spec?.healthCheckNodePort, 'Local LoadBalancer gets a health check node port');

  const labelsOnly = { ...replaced, metadata: { ...replaced.metadata, labels: { app: 'web' } } };
  const relabelled = await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: labelsOnly });
  t.equal(relabelled.metadata?.labels?.tier, undefined);

  const again = await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: relabelled });
  t.equal(
    again.metadata?.resourceVersion,
    relabelled.metadata?.resourceVersion,
    'an update that changes nothing is not written',
  );

  const deleted = await core.deleteNamespacedService({ name: 'web', namespace: 'default' });
  t.equal(deleted.metadata?.name, 'web');
  const err = await rejection(t, () => core.readNamespacedService({ name: 'web', namespace: 'default' }));
  t.equal(codeOf(err), 404);
  t.match(statusOf(err), {
    kind: 'Status',
    status: 'Failure',
    reason: 'NotFound',
    code: 404,
    message: 'services "web" not found',
  });
});

t.test('409 AlreadyExists, 409 Conflict on a stale resourceVersion, 422 Invalid', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  await core.createNamespacedService({ namespace: 'default', body: lbService('web') });
  const dup = await rejection(t, () => core.createNamespacedService({ namespace: 'default', body: lbService('web') }));
  t.match(statusOf(dup), { code: 409, reason: 'AlreadyExists', message: 'services "web" already exists' });

  const first = await core.readNamespacedService({ name: 'web', namespace: 'default' });
  const stale = structuredClone(first);
  first.metadata!.labels = { app: 'web', changed: 'yes' };
  await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: first });
  stale.metadata!.labels = { app: 'web', changed: 'no' };
  const conflict = await rejection(t, () =>
    core.replaceNamespacedService({ name: 'web', namespace: 'default', body: stale }),
  );
  t.equal(codeOf(conflict), 409);
  t.match(statusOf(conflict), {
    reason: 'Conflict',
    message:
      'Operation cannot be fulfilled on services "web": the object has been modified; please apply your changes to the latest version and try again',
    details: { name: 'web', kind: 'services' },
  });
  t.equal(server.get('services', 'web')?.metadata.labels?.changed, 'yes', 'the stale write was refused');

  const bad = await rejection(t, () =>
    core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'Bad_Name' }, spec: { ports: [{ port: 80 }] } },
    }),
  );
  t.match(statusOf(bad), {
    code: 422,
    reason: 'Invalid',
    details: { kind: 'Service', causes: [{ field: 'metadata.name' }] },
  });
  const noPorts = await rejection(t, () =>
    core.createNamespacedService({ namespace: 'default', body: { metadata: { name: 'np' }, spec: {} } }),
  );
  t.match(statusOf(noPorts), { code: 422, message: 'Service "np" is invalid: spec.ports: Required value' });
  const classOnClusterIP = await rejection(t, () =>
    core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name: 'c' }, spec: { loadBalancerClass: 'x.io/y', ports: [{ port: 80 }] } },
    }),
  );
  t.match(statusOf(classOnClusterIP), { code: 422, details: { causes: [{ field: 'spec.loadBalancerClass' }] } });
  const noNs = await rejection(t, () => core.createNamespacedService({ namespace: 'nowhere', body: lbService('x') }));
  t.match(statusOf(noNs), { code: 404, message: 'namespaces "nowhere" not found' });
});

t.test('status subresource: status PUT changes only status, main PUT ignores status', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  const withStatus = { ...lbService('web'), status: { loadBalancer: { ingress: [{ ip: '203.0.113.1' }] } } };
  const created = await core.createNamespacedService({ namespace: 'default', body: withStatus });
  t.same(created.status, { loadBalancer: {} }, 'create drops status');

  created.status = { loadBalancer: { ingress: [{ ip: '203.0.113.10', ipMode: 'VIP' }] } };
  created.spec!.externalTrafficPolicy = 'Local';
  created.metadata!.labels = { sneaky: 'yes' };
  const afterStatus = await core.replaceNamespacedServiceStatus({ name: 'web', namespace: 'default', body: created });
  t.same(afterStatus.status?.loadBalancer?.ingress, [{ ip: '203.0.113.10', ipMode: 'VIP' }]);
  t.equal(afterStatus.spec?.externalTrafficPolicy, 'Cluster', 'status PUT left spec alone');
  t.same(afterStatus.metadata?.labels, { app: 'web' }, 'status PUT left metadata alone');

  afterStatus.status = { loadBalancer: {} };
  afterStatus.spec!.externalTrafficPolicy = 'Local';
  const afterMain = await core.replaceNamespacedService({ name: 'web', namespace: 'default', body: afterStatus });
  t.same(afterMain.status?.loadBalancer?.ingress, [{ ip: '203.0.113.10', ipMode: 'VIP' }], 'main PUT kept status');
  t.equal(afterMain.spec?.externalTrafficPolicy, 'Local');

  const patched = await core.patchNamespacedServiceStatus(
    { name: 'web', namespace: 'default', body: { status: { loadBalancer: { ingress: [{ ip: '203.0.113.11' }] } } } },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  t.same(patched.status?.loadBalancer?.ingress, [{ ip: '203.0.113.11' }]);
  const status = await core.readNamespacedServiceStatus({ name: 'web', namespace: 'default' });
  t.same(status.status?.loadBalancer?.ingress, [{ ip: '203.0.113.11' }]);
});

t.test('merge, JSON and strategic merge patches', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  await core.createNamespacedService({
    namespace: 'default',
    body: { ...lbService('web'), metadata: { name: 'web', finalizers: ['a.io/one'] } },
  });
  const merge = await core.patchNamespacedService(
    {
      name: 'web',
      namespace: 'default',
      body: { metadata: { annotations: { 'bgp-announce.io/address-pool': 'blue' } } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  );
  t.same(merge.metadata?.annotations, { 'bgp-announce.io/address-pool': 'blue' });
  const strategic = await core.patchNamespacedService(
    {
      name: 'web',
      namespace: 'default',
      body: { metadata: { finalizers: ['b.io/two'] }, spec: { ports: [{ name: 'https', port: 443 }] } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
  );
  t.same(strategic.metadata?.finalizers, ['a.io/one', 'b.io/two'], 'finalizers merge as a set');
  t.same(
    strategic.spec?.ports?.map((p) => p.port),
    [80, 443],
    'ports merge by port',
  );
  const json = await core.patchNamespacedService({
    name: 'web',
    namespace: 'default',
    body: [
      { op: 'test', path: '/metadata/finalizers/0', value: 'a.io/one' },
      { op: 'remove', path: '/metadata/finalizers/0' },
    ],
  });
  t.same(json.metadata?.finalizers, ['b.io/two'], 'JSON patch (the client default) applied');
  const failedTest = await rejection(t, () =>
    core.patchNamespacedService({
      name: 'web',
      namespace: 'default',
      body: [{ op: 'test', path: '/metadata/name', value: 'other' }],
    }),
  );
  t.equal(codeOf(failedTest), 422);
  const stale = await rejection(t, () =>
    core.patchNamespacedService(
      { name: 'web', namespace: 'default', body: { metadata: { resourceVersion: '2', labels: { x: 'y' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    ),
  );
  t.equal(codeOf(stale), 409, 'a resourceVersion in a patch is a precondition');
});
