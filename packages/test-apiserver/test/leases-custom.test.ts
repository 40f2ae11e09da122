// Leases with V1MicroTime (and the 400 a millisecond Date gets), custom objects through
// CustomObjectsApi (status subresource, resourceVersion required, validation hook), EndpointSlices,
// and the discovery documents.
import t from 'tap';
import {
  CoordinationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  DiscoveryV1Api,
  EventsV1Api,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  V1MicroTime,
  VersionApi,
} from '@kubernetes/client-node';
import { codeOf, kubeConfig, rejection, startServer, statusOf } from './helpers.js';

t.test('leases: create and update with V1MicroTime; a plain Date is 400', async (t) => {
  const server = await startServer(t);
  const leases = kubeConfig(server).makeApiClient(CoordinationV1Api);
  const now = new V1MicroTime('2025-03-01T10:00:00.123Z');
  const created = await leases.createNamespacedLease({
    namespace: 'kube-system',
    body: {
      metadata: { name: 'bgp-announce' },
      spec: {
        holderIdentity: 'node-a',
        leaseDurationSeconds: 15,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: 0,
      },
    },
  });
  t.equal(String(created.spec?.renewTime), '2025-03-01T10:00:00.123000Z', 'MicroTime kept with six digits');
  created.spec!.renewTime = new V1MicroTime('2025-03-01T10:00:05.000Z');
  const renewed = await leases.replaceNamespacedLease({
    name: 'bgp-announce',
    namespace: 'kube-system',
    body: created,
  });
  t.equal(String(renewed.spec?.renewTime), '2025-03-01T10:00:05.000000Z');

  const stale = await rejection(t, () =>
    leases.replaceNamespacedLease({ name: 'bgp-announce', namespace: 'kube-system', body: created }),
  );
  t.equal(codeOf(stale), 409, 'the loser of a leader election race gets 409');

  const plainDate = await rejection(t, () =>
    leases.createNamespacedLease({
      namespace: 'kube-system',
      body: { metadata: { name: 'bad' }, spec: { renewTime: new Date('2025-03-01T10:00:00Z') as V1MicroTime } },
    }),
  );
  t.match(statusOf(plainDate), {
    code: 400,
    reason: 'BadRequest',
    message: /parsing time "2025-03-01T10:00:00.000Z" as "2006-01-02T15:04:05.000000Z07:00"/,
  });

  const noRv = { ...renewed, metadata: { ...renewed.metadata, resourceVersion: undefined } };
  const unconditional = await rejection(t, () =>
    leases.replaceNamespacedLease({ name: 'bgp-announce', namespace: 'kube-system', body: noRv }),
  );
  t.match(
    statusOf(unconditional),
    { code: 422, details: { causes: [{ field: 'metadata.resourceVersion' }] } },
    'Lease PUT needs a resourceVersion',
  );
});

const pool = (name: string, addresses: string[]) => ({
  apiVersion: 'bgp-announce.io/v1alpha1',
  kind: 'IPAddressPool',
  metadata: { name, namespace: 'default' },
  spec: { addresses },
});

type Pool = { kind: string; metadata: { generation: number }; spec: { addresses: string[] }; status?: unknown };

t.test('custom objects: CRUD, status subresource, generation, validation hook', async (t) => {
  const server = await startServer(t, {
    validate: (kind, obj) => {
      const addresses = (obj.spec as { addresses?: unknown } | undefined)?.addresses;
      return kind === 'IPAddressPool' && (!Array.isArray(addresses) || addresses.length === 0)
        ? ['spec.addresses: Required value']
        : [];
    },
  });
  const api = kubeConfig(server).makeApiClient(CustomObjectsApi);
  const g = { group: 'bgp-announce.io', version: 'v1alpha1', namespace: 'default', plural: 'ipaddresspools' };
  const created = (await api.createNamespacedCustomObject({
    ...g,
    body: { ...pool('blue', ['203.0.113.0/28']), status: { ignored: true } },
  })) as Pool;
  t.equal(created.metadata.generation, 1);
  t.equal(created.status, undefined, 'status dropped on create');
  t.equal(created.kind, 'IPAddressPool');

  const invalid = await rejection(t, () => api.createNamespacedCustomObject({ ...g, body: pool('empty', []) }));
  t.match(statusOf(invalid), {
    code: 422,
    reason: 'Invalid',
    message: 'IPAddressPool.bgp-announce.io "empty" is invalid: spec.addresses: Required value',
  });

  const withStatus = (await api.replaceNamespacedCustomObjectStatus({
    ...g,
    name: 'blue',
    body: { ...created, status: { assigned: 1 }, spec: { addresses: ['198.51.100.0/24'] } },
  })) as Pool;
  t.same(withStatus.status, { assigned: 1 });
  t.same(withStatus.spec.addresses, ['203.0.113.0/28'], 'status PUT ignored spec');
  t.equal(withStatus.metadata.generation, 1);

  const specChanged = (await api.patchNamespacedCustomObject(
    {
      ...g,
      name: 'blue',
      body: { spec: { addresses: ['203.0.113.0/28', '203.0.113.16/28'] }, status: { assigned: 99 } },
    },
    setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
  )) as Pool;
  t.equal(specChanged.metadata.generation, 2, 'spec change bumps generation');
  t.same(specChanged.status, { assigned: 1 }, 'main patch ignored status');

  const noRv = await rejection(t, () =>
    api.replaceNamespacedCustomObject({ ...g, name: 'blue', body: pool('blue', ['203.0.113.0/28']) }),
  );
  t.match(statusOf(noRv), {
    code: 422,
    message: /metadata.resourceVersion: Invalid value: 0x0: must be specified for an update/,
  });
  const smp = await rejection(t, () =>
    api.patchNamespacedCustomObject(
      { ...g, name: 'blue', body: { spec: {} } },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
  );
  t.equal(codeOf(smp), 415, 'no strategic merge patch for custom resources');

  const list = (await api.listNamespacedCustomObject(g)) as { kind: string; items: { kind: string }[] };
  t.equal(list.kind, 'IPAddressPoolList');
  t.equal(list.items[0]?.kind, 'IPAddressPool', 'custom list items keep their kind');
  await api.deleteNamespacedCustomObject({ ...g, name: 'blue' });
  t.same(server.list('ipaddresspools'), []);
});

t.test('endpointslices, discovery, version', async (t) => {
  const server = await startServer(t);
  const kc = kubeConfig(server);
  const discovery = kc.makeApiClient(DiscoveryV1Api);
  const slice = await discovery.createNamespacedEndpointSlice({
    namespace: 'default',
    body: {
      metadata: { name: 'web-abc', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['192.0.2.50'], conditions: { ready: true }, nodeName: 'node-a' }],
    },
  });
  t.equal(slice.endpoints[0]?.nodeName, 'node-a');
  const bySvc = await discovery.listNamespacedEndpointSlice({
    namespace: 'default',
    labelSelector: 'kubernetes.io/service-name=web',
  });
  t.equal(bySvc.items.length, 1);
  const noType = await rejection(t, () =>
    discovery.createNamespacedEndpointSlice({ namespace: 'default', body: { metadata: { name: 'x' } } as never }),
  );
  t.match(statusOf(noType), { code: 422, details: { causes: [{ field: 'addressType' }] } });

  const version = await kc.makeApiClient(VersionApi).getCode();
  t.equal(version.major, '1');
  // KubernetesObjectApi finds resources through /api/v1 and /apis/<group>/<version>.
  const objects = KubernetesObjectApi.makeApiClient(kc);
  const read = await objects
    .read({ apiVersion: 'bgp-announce.io/v1alpha1', kind: 'BGPPeer', metadata: { name: 'tor', namespace: 'default' } })
    .catch((e: unknown) => e);
  t.equal(codeOf(read), 404, 'BGPPeer resolved through discovery, object absent');
  const created = await objects.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'node-a' } });
  t.equal(created.metadata?.name, 'node-a');
  const res = await fetch(`${server.url}/apis/coordination.k8s.io`);
  t.match(await res.json(), {
    kind: 'APIGroup',
    name: 'coordination.k8s.io',
    preferredVersion: { groupVersion: 'coordination.k8s.io/v1' },
  });
  const core = (await (await fetch(`${server.url}/api/v1`)).json()) as { resources: { name: string }[] };
  t.ok(core.resources.some((r) => r.name === 'services/status'));
  t.equal(await (await fetch(`${server.url}/readyz`)).text(), 'ok');
  t.equal((await fetch(`${server.url}/api/v1/widgets`)).status, 404);
});

t.test('events (events.k8s.io/v1 with MicroTime eventTime, core v1) and a legacy /watch/ path', async (t) => {
  const server = await startServer(t);
  const kc = kubeConfig(server);
  const events = kc.makeApiClient(EventsV1Api);
  const ev = await events.createNamespacedEvent({
    namespace: 'default',
    body: {
      metadata: { generateName: 'web.' },
      eventTime: new V1MicroTime('2025-03-01T10:00:00.5Z'),
      reportingController: 'bgp-announce.io/controller',
      reportingInstance: 'node-a',
      action: 'Announce',
      reason: 'IPAllocated',
      type: 'Normal',
      regarding: { kind: 'Service', namespace: 'default', name: 'web' },
      note: 'Assigned IP 203.0.113.1',
    },
  });
  t.match(ev.metadata?.name, /^web\.[a-z0-9]{5}$/, 'generateName');
  t.equal(String(ev.eventTime), '2025-03-01T10:00:00.500000Z');
  const core = kc.makeApiClient(CoreV1Api);
  await core.createNamespacedEvent({
    namespace: 'default',
    body: {
      metadata: { name: 'web.1' },
      involvedObject: { kind: 'Service', name: 'web', namespace: 'default' },
      reason: 'IPAllocated',
      type: 'Normal',
      firstTimestamp: new Date('2025-03-01T10:00:00.250Z'),
    },
  });
  const byReason = await core.listNamespacedEvent({
    namespace: 'default',
    fieldSelector: 'involvedObject.name=web,reason=IPAllocated',
  });
  t.same(
    byReason.items.map((e) => e.metadata.name),
    ['web.1'],
  );
  t.equal(
    byReason.items[0]?.firstTimestamp?.toISOString(),
    '2025-03-01T10:00:00.000Z',
    'metav1.Time stored with whole seconds',
  );

  const res = await fetch(`${server.url}/api/v1/watch/namespaces/default/services/kubernetes?timeoutSeconds=1`);
  const lines = (await res.text())
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; object: { metadata: { name: string } } });
  t.same(
    lines.map((l) => `${l.type} ${l.object.metadata.name}`),
    ['ADDED kubernetes'],
    'the legacy watch path watches one object',
  );
});
