// What we write on Services: the condition types (valid for metav1.Condition), the pure mutations (ingress with ipMode VIP, conditions keeping their transition time while
// the status holds, the cleanup finalizer), and ServiceWriter through the real @kubernetes/client-node
// against the in-repo test API server: no write when nothing changes, a stale write (409) re-read and
// re-applied, a Service that is gone (404) reported as ServiceGoneError.
import t from 'tap';
import { CoreV1Api } from '@kubernetes/client-node';
import {
  ALLOCATED_CONDITION,
  ServiceGoneError,
  ServiceWriter,
  ingressIps,
  removeCondition,
  setCondition,
  setFinalizer,
  setIngress,
} from '../src/kube/service-status.js';
import { ANNOUNCED_CONDITION, LEGACY_NODE_CONDITION_PREFIX } from '../src/kube/announced-aggregate.js';
import { CLEANUP_FINALIZER, type Service } from '../src/service/model.js';
import { CONDITION_REASON_RE, CONDITION_TYPE_RE, apiServer } from './helpers/kube-harness.js';

t.test('our condition types and the legacy prefix are valid for metav1.Condition', async (t) => {
  t.match(ALLOCATED_CONDITION, CONDITION_TYPE_RE);
  t.match(ANNOUNCED_CONDITION, CONDITION_TYPE_RE);
  t.match(
    `${LEGACY_NODE_CONDITION_PREFIX}node-a`,
    CONDITION_TYPE_RE,
    'the per-node conditions of earlier versions were too',
  );
});

const svc = (status?: Service['status'], finalizers?: string[]): Service => ({
  metadata: { namespace: 'shop', name: 'web', ...(finalizers ? { finalizers } : {}) },
  spec: { type: 'LoadBalancer' },
  ...(status ? { status } : {}),
});

t.test('setIngress and ingressIps', async (t) => {
  const s = svc();
  t.same(ingressIps(s), []);
  t.equal(setIngress(s, ['203.0.113.5', '2001:db8::5']), true);
  t.same(s.status?.loadBalancer?.ingress, [
    { ip: '203.0.113.5', ipMode: 'VIP' },
    { ip: '2001:db8::5', ipMode: 'VIP' },
  ]);
  t.same(ingressIps(s), ['203.0.113.5', '2001:db8::5']);
  t.equal(setIngress(s, ['203.0.113.5', '2001:db8::5']), false, 'already so');
  t.equal(setIngress(s, ['2001:db8::5', '203.0.113.5']), true, 'order counts (the primary family first)');
  const proxy = svc({ loadBalancer: { ingress: [{ ip: '203.0.113.5' }] } });
  t.equal(setIngress(proxy, ['203.0.113.5']), true, 'no ipMode: set to VIP');
  t.same(proxy.status?.loadBalancer?.ingress, [{ ip: '203.0.113.5', ipMode: 'VIP' }]);
  const host = svc({ loadBalancer: { ingress: [{ ip: '203.0.113.5', ipMode: 'VIP', hostname: 'lb.example.org' }] } });
  t.equal(setIngress(host, ['203.0.113.5']), true, 'a hostname is not ours: replaced');
  t.equal(setIngress(s, []), true);
  t.same(s.status?.loadBalancer?.ingress, []);
  t.equal(setIngress(s, []), false);
  const withConditions = svc({ conditions: [{ type: 'x', status: 'True' }] });
  setIngress(withConditions, ['203.0.113.9']);
  t.same(withConditions.status?.conditions, [{ type: 'x', status: 'True' }], 'conditions untouched');
});

t.test('setCondition keeps the transition time while the status holds; removeCondition', async (t) => {
  const s = svc();
  const t0 = new Date('2026-01-01T00:00:00Z');
  const t1 = new Date('2026-01-01T00:05:00Z');
  const t2 = new Date('2026-01-01T00:09:00Z');
  const cond = {
    type: ALLOCATED_CONDITION,
    status: 'True' as const,
    reason: 'Allocated',
    message: '203.0.113.5 from pool blue',
  };
  t.equal(setCondition(s, cond, t0), true);
  t.same(s.status?.conditions, [{ ...cond, lastTransitionTime: t0 }]);
  t.equal(setCondition(s, { ...cond }, t1), false, 'same status, reason and message: nothing to write');
  t.equal(setCondition(s, { ...cond, message: '203.0.113.6 from pool blue' }, t1), true, 'a new message is a change');
  t.same(s.status?.conditions?.[0]?.lastTransitionTime, t0, 'but not a transition: the time stays');
  t.equal(s.status?.conditions?.[0]?.message, '203.0.113.6 from pool blue');
  t.equal(setCondition(s, { ...cond, status: 'False', reason: 'PoolExhausted', message: 'no address left' }, t2), true);
  t.same(
    s.status?.conditions,
    [
      {
        type: ALLOCATED_CONDITION,
        status: 'False',
        reason: 'PoolExhausted',
        message: 'no address left',
        lastTransitionTime: t2,
      },
    ],
    'a status change moves the time',
  );
  t.match(s.status?.conditions?.[0]?.reason, CONDITION_REASON_RE);

  // A time read back from the API is a string: kept as it is.
  const read = svc({
    conditions: [
      {
        type: 'announced.bgp-announce.io/n1',
        status: 'True',
        reason: 'Announced',
        message: 'm',
        lastTransitionTime: '2025-12-31T23:00:00Z',
      },
    ],
  });
  t.equal(
    setCondition(
      read,
      { type: 'announced.bgp-announce.io/n1', status: 'True', reason: 'Announced', message: 'm2' },
      t1,
    ),
    true,
  );
  t.equal(read.status?.conditions?.[0]?.lastTransitionTime, '2025-12-31T23:00:00Z');
  t.equal(
    setCondition(read, { type: ALLOCATED_CONDITION, status: 'True', reason: 'Allocated', message: 'x' }, t1),
    true,
    'another type is added',
  );
  t.same(
    read.status?.conditions?.map((c) => c.type),
    ['announced.bgp-announce.io/n1', ALLOCATED_CONDITION],
    'after the others, in order',
  );

  t.equal(removeCondition(read, 'announced.bgp-announce.io/n1'), true);
  t.same(
    read.status?.conditions?.map((c) => c.type),
    [ALLOCATED_CONDITION],
  );
  t.equal(removeCondition(read, 'announced.bgp-announce.io/n1'), false, 'none left to remove');
  t.equal(removeCondition(svc(), ALLOCATED_CONDITION), false, 'no status at all');
});

t.test('setFinalizer adds and removes only the cleanup finalizer', async (t) => {
  const s = svc(undefined, ['example.com/other']);
  t.equal(setFinalizer(s, true), true);
  t.same(s.metadata?.finalizers, ['example.com/other', CLEANUP_FINALIZER]);
  t.equal(setFinalizer(s, true), false, 'already there');
  t.equal(setFinalizer(s, false), true);
  t.same(s.metadata?.finalizers, ['example.com/other'], 'the other finalizer stays');
  t.equal(setFinalizer(s, false), false);
  t.equal(setFinalizer(svc(), false), false, 'no finalizers at all');
  t.equal(CLEANUP_FINALIZER, 'service.kubernetes.io/load-balancer-cleanup');
});

const lbService = (name: string) => ({
  metadata: { name, namespace: 'default' },
  spec: { type: 'LoadBalancer', loadBalancerClass: 'bgp-announce.io/bgp', ports: [{ port: 80, protocol: 'TCP' }] },
});

t.test('ServiceWriter: writes status and object; nothing when nothing changes', async (t) => {
  const { server, kubeConfig } = await apiServer(t);
  server.create('services', lbService('web'));
  const writer = new ServiceWriter(kubeConfig.makeApiClient(CoreV1Api));
  const now = new Date('2026-02-03T04:05:06Z');
  const mark = (s: Service): boolean =>
    [
      setIngress(s, ['203.0.113.5']),
      setCondition(
        s,
        { type: ALLOCATED_CONDITION, status: 'True', reason: 'Allocated', message: 'from pool blue' },
        now,
      ),
    ].includes(true);
  t.equal(await writer.updateStatus('default/web', mark), true);
  let stored = server.get('services', 'web')!;
  t.same((stored.status as Service['status'])?.loadBalancer?.ingress, [{ ip: '203.0.113.5', ipMode: 'VIP' }]);
  t.same((stored.status as Service['status'])?.conditions, [
    {
      type: ALLOCATED_CONDITION,
      status: 'True',
      reason: 'Allocated',
      message: 'from pool blue',
      lastTransitionTime: '2026-02-03T04:05:06Z',
    },
  ]);

  server.clearRequests();
  t.equal(await writer.updateStatus('default/web', mark), false, 'read, nothing to change');
  t.same(
    server.requests().map((r) => `${r.method} ${r.subresource ?? ''}`),
    ['GET '],
    'one read, no write',
  );

  t.equal(await writer.updateObject('default/web', (s) => setFinalizer(s, true)), true);
  stored = server.get('services', 'web')!;
  t.same(stored.metadata.finalizers, [CLEANUP_FINALIZER]);
  t.same(
    (stored.status as Service['status'])?.loadBalancer?.ingress,
    [{ ip: '203.0.113.5', ipMode: 'VIP' }],
    'an object write keeps the status',
  );
});

t.test('ServiceWriter: a stale write (409) is read again and the mutation re-applied', async (t) => {
  const { server, kubeConfig } = await apiServer(t);
  server.create('services', lbService('web'));
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const stale = (await core.readNamespacedService({ namespace: 'default', name: 'web' })) as Service;
  // Someone else (another node writing its condition) writes in between.
  server.patch('services', 'web', {
    status: {
      conditions: [
        {
          type: 'announced.bgp-announce.io/n2',
          status: 'True',
          reason: 'Announced',
          message: 'n2',
          lastTransitionTime: '2026-01-01T00:00:00Z',
        },
      ],
    },
  });
  const writer = new ServiceWriter(core);
  let calls = 0;
  server.clearRequests();
  const wrote = await writer.updateStatus(
    'default/web',
    (s) => {
      calls++;
      return setCondition(s, {
        type: 'announced.bgp-announce.io/n1',
        status: 'True',
        reason: 'Announced',
        message: 'n1',
      });
    },
    stale,
  );
  t.equal(wrote, true);
  t.equal(calls, 2, 'the mutation ran on the stale copy, then on the fresh one');
  t.same(
    server.requests().map((r) => `${r.method} ${r.status}`),
    ['PUT 409', 'GET 200', 'PUT 200'],
  );
  const types = ((server.get('services', 'web')!.status as Service['status'])?.conditions ?? []).map((c) => c.type);
  t.same(
    types,
    ['announced.bgp-announce.io/n2', 'announced.bgp-announce.io/n1'],
    "the other writer's condition is kept",
  );
  t.same(stale.status?.conditions ?? [], [], 'the cached object handed in is not changed');

  // Conflicts every time: gives up after `attempts` writes with the API's message.
  const few = new ServiceWriter(core, 3);
  for (let i = 0; i < 3; i++) server.failNext('update', 'services/status', 409, 'the object has been modified');
  server.clearRequests();
  await t.rejects(
    few.updateStatus('default/web', (s) => setIngress(s, ['203.0.113.7'])),
    { message: 'writing Service default/web: 409: the object has been modified' },
  );
  t.equal(server.requests().filter((r) => r.method === 'PUT').length, 3);
});

t.test('ServiceWriter: a Service that is gone is ServiceGoneError; other failures say what failed', async (t) => {
  const { server, kubeConfig } = await apiServer(t);
  const writer = new ServiceWriter(kubeConfig.makeApiClient(CoreV1Api));
  const gone = await writer.updateStatus('default/nope', () => true).catch((e: unknown) => e);
  t.type(gone, ServiceGoneError);
  t.equal((gone as ServiceGoneError).key, 'default/nope');
  t.equal((gone as Error).message, 'Service default/nope no longer exists');

  // Deleted after it was cached: the write finds it gone.
  const created = server.create('services', lbService('web')) as unknown as Service;
  server.delete('services', 'web');
  await t.rejects(
    writer.updateObject('default/web', (s) => setFinalizer(s, true), created),
    ServiceGoneError,
  );

  server.create('services', lbService('web'));
  server.failNext(
    'get',
    'services',
    403,
    'services "web" is forbidden: User "system:serviceaccount:x:y" cannot get resource "services"',
  );
  await t.rejects(
    writer.updateStatus('default/web', () => true),
    { message: /^reading Service default\/web: 403: services "web" is forbidden/ },
  );
  server.failNext('update', 'services/status', 500, 'etcd is sad');
  await t.rejects(
    writer.updateStatus('default/web', (s) => setIngress(s, ['203.0.113.5'])),
    { message: 'writing Service default/web: 500: etcd is sad' },
  );
});
