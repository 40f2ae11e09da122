// AllocationController against the in-repo test API server, through the real @kubernetes/client-node
// and the caches of kube/watches.ts. Checked on the stored objects: a Service of our class gets an
// address from the pool (ingress with ipMode VIP), the IPAllocated condition, the cleanup finalizer and
// an Event; a Service of another class (kube-vip's) is never written; an exhausted pool gives a False
// condition and a Warning; deleting a Service releases its address (to a waiting Service, or a new one)
// and removes the finalizer so the object goes; a new controller over the same server keeps every
// address; of two Services showing one address, the older keeps it.
import t, { type Test } from 'tap';
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import type { TestApiServer } from '@bgp-announce/test-apiserver';
import { AllocationController } from '../src/kube/allocation-controller.js';
import { ALLOCATED_CONDITION, ServiceWriter } from '../src/kube/service-status.js';
import { watchNamespaces, watchServices } from '../src/kube/watches.js';
import { validateConfig } from '../src/config/validate.js';
import type { IPAddressPool } from '../src/config/types.js';
import { CLEANUP_FINALIZER, DEFAULT_LOAD_BALANCER_CLASS, type Service } from '../src/service/model.js';
import type { PoolUsage } from '../src/allocation/allocator.js';
import {
  CONDITION_REASON_RE,
  RecordingEvents,
  apiServer,
  manualTime,
  recordingLogger,
  until,
} from './helpers/kube-harness.js';

function pools(...addresses: string[]): IPAddressPool[] {
  const { config, problems } = validateConfig([
    { apiVersion: 'bgp-announce.io/v1alpha1', kind: 'IPAddressPool', metadata: { name: 'blue' }, spec: { addresses } },
  ]);
  if (problems.length > 0) throw new Error(JSON.stringify(problems));
  return config.pools;
}

/**
 * Creates a LoadBalancer Service of our class (or `cls`; null: none). A status given is written after
 * the create, as a controller would (the server, like the real one, starts a new Service's status empty).
 */
function createLb(
  server: TestApiServer,
  name: string,
  cls: string | null = DEFAULT_LOAD_BALANCER_CLASS,
  extra: { finalizers?: string[]; ips?: string[] } = {},
) {
  server.create('services', {
    metadata: { name, namespace: 'default', ...(extra.finalizers ? { finalizers: extra.finalizers } : {}) },
    spec: { type: 'LoadBalancer', ...(cls ? { loadBalancerClass: cls } : {}), ports: [{ port: 80, protocol: 'TCP' }] },
  });
  if (extra.ips)
    server.patch('services', name, {
      status: { loadBalancer: { ingress: extra.ips.map((ip) => ({ ip, ipMode: 'VIP' })) } },
    });
  return server.get('services', name)!;
}

const stored = (server: TestApiServer, name: string): Service | undefined =>
  server.get('services', name) as Service | undefined;
const ipsOf = (server: TestApiServer, name: string): string[] =>
  (stored(server, name)?.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
const allocated = (server: TestApiServer, name: string) =>
  stored(server, name)?.status?.conditions?.find((c) => c.type === ALLOCATED_CONDITION);

/** Starts a controller with its own caches over `kubeConfig`; stop() (also run in teardown) stops all. */
async function controllerFor(
  t: Test,
  kubeConfig: KubeConfig,
  poolList: IPAddressPool[],
  events = new RecordingEvents(),
) {
  const { logger, lines } = recordingLogger();
  const services = watchServices(kubeConfig);
  const namespaces = watchNamespaces(kubeConfig);
  const usage: (readonly PoolUsage[])[] = [];
  const controller = new AllocationController({
    services,
    namespaces,
    writer: new ServiceWriter(kubeConfig.makeApiClient(CoreV1Api)),
    events,
    serviceClass: { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, defaultLoadBalancer: false },
    logger,
    setPoolUsage: (u) => void usage.push(u),
    retryMs: 50,
  });
  controller.setPools(poolList);
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await controller.stop();
    services.stop();
    namespaces.stop();
  };
  t.teardown(stop);
  await controller.start();
  return { controller, events, lines, usage, stop };
}

t.test(
  'a Service of our class gets an address, the condition, the finalizer and an Event; another class is never touched',
  async (t) => {
    const { server, kubeConfig } = await apiServer(t);
    const kubeVip = createLb(server, 'kube-vip-svc', 'kube-vip.io/kube-vip-class', {
      finalizers: [CLEANUP_FINALIZER],
      ips: ['198.51.100.50'],
    });
    const noClass = createLb(server, 'cloud-svc', null);
    createLb(server, 'web');
    const { controller, events, usage } = await controllerFor(t, kubeConfig, pools('203.0.113.10-203.0.113.12'));

    await until('web allocated', () => allocated(server, 'web')?.status === 'True');
    const web = stored(server, 'web')!;
    t.same(
      web.status?.loadBalancer?.ingress,
      [{ ip: '203.0.113.10', ipMode: 'VIP' }],
      'the first address of the pool, as a VIP',
    );
    t.match(allocated(server, 'web'), {
      type: ALLOCATED_CONDITION,
      status: 'True',
      reason: 'Allocated',
      message: '203.0.113.10 from pool blue',
    });
    t.match(allocated(server, 'web')?.reason, CONDITION_REASON_RE);
    t.match(
      String(allocated(server, 'web')?.lastTransitionTime),
      /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/,
      'a transition time',
    );
    t.same(web.metadata?.finalizers, [CLEANUP_FINALIZER]);
    await until('the Event', () => events.of('default/web').length > 0);
    t.same(events.of('default/web'), [
      {
        service: 'default/web',
        type: 'Normal',
        reason: 'IPAllocated',
        message: 'assigned 203.0.113.10 from pool blue',
      },
    ]);

    // Touch kube-vip's Service, then let the controller handle one more of ours: by then it has
    // looked at kube-vip's change too (changes are handled in order).
    const touched = server.patch('services', 'kube-vip-svc', { metadata: { labels: { touched: 'yes' } } });
    createLb(server, 'web2');
    await until('web2 allocated', () => allocated(server, 'web2')?.status === 'True');
    await controller.idle();
    t.equal(
      stored(server, 'kube-vip-svc')?.metadata?.resourceVersion,
      touched.metadata.resourceVersion,
      "kube-vip's Service is unchanged",
    );
    t.same(stored(server, 'kube-vip-svc')?.metadata?.finalizers, [CLEANUP_FINALIZER], 'its finalizer stays');
    t.same(ipsOf(server, 'kube-vip-svc'), ['198.51.100.50']);
    t.not(touched.metadata.resourceVersion, kubeVip.metadata.resourceVersion);
    t.equal(
      stored(server, 'cloud-svc')?.metadata?.resourceVersion,
      noClass.metadata.resourceVersion,
      'a Service with no class (not ours by default) is unchanged',
    );
    const writes = server
      .requests()
      .filter((r) => r.method !== 'GET' && (r.name === 'kube-vip-svc' || r.name === 'cloud-svc'));
    t.same(writes, [], 'no write was even tried');
    t.same(
      events.events.filter((e) => e.service !== 'default/web' && e.service !== 'default/web2'),
      [],
    );

    t.same(ipsOf(server, 'web2'), ['203.0.113.11']);
    t.same(controller.status(), [
      { key: 'default/web', ips: ['203.0.113.10'], pool: 'blue' },
      { key: 'default/web2', ips: ['203.0.113.11'], pool: 'blue' },
    ]);
    t.same(usage.at(-1), [{ pool: 'blue', family: 4, used: 2, total: 3 }]);
    t.equal(controller.poolOf('203.0.113.12'), 'blue');
    t.equal(controller.poolOf('198.51.100.50'), undefined);
  },
);

t.test(
  'an exhausted pool: a False condition and a Warning; a delete releases the address to the waiting Service and lets the object go',
  async (t) => {
    const { server, kubeConfig } = await apiServer(t);
    for (const name of ['a', 'b', 'c']) createLb(server, name);
    const { events } = await controllerFor(t, kubeConfig, pools('203.0.113.10-203.0.113.12'));
    await until('a, b, c allocated', () => ['a', 'b', 'c'].every((n) => allocated(server, n)?.status === 'True'));
    const held = new Map(['a', 'b', 'c'].map((n) => [n, ipsOf(server, n)[0]!]));
    t.same([...held.values()].sort(), ['203.0.113.10', '203.0.113.11', '203.0.113.12'], 'each address once');

    createLb(server, 'd');
    await until('d refused', () => allocated(server, 'd')?.status === 'False');
    t.match(allocated(server, 'd'), { status: 'False', reason: 'PoolExhausted', message: /blue/ });
    t.same(ipsOf(server, 'd'), []);
    await until('the Warning', () => events.of('default/d').length > 0);
    t.match(events.of('default/d'), [{ type: 'Warning', reason: 'AllocationFailed', message: /blue/ }]);

    server.delete('services', 'a');
    t.ok(
      stored(server, 'a')?.metadata?.deletionTimestamp,
      'the finalizer holds the Service while the address is released',
    );
    await until('a gone', () => stored(server, 'a') === undefined);
    await until('the IPReleased Event', () => events.of('default/a').at(-1)?.reason === 'IPReleased');
    t.match(events.of('default/a').at(-1), {
      type: 'Normal',
      reason: 'IPReleased',
      message: `released ${held.get('a')}`,
    });
    await until("d gets a's address", () => allocated(server, 'd')?.status === 'True', 3000);
    t.same(ipsOf(server, 'd'), [held.get('a')]);
    await until('the IPAllocated Event of d', () => events.of('default/d').at(-1)?.reason === 'IPAllocated');
    t.match(events.of('default/d').at(-1), { type: 'Normal', message: `assigned ${held.get('a')} from pool blue` });

    // Nobody waits now: the next new Service gets the released address.
    server.delete('services', 'b');
    await until('b gone', () => stored(server, 'b') === undefined);
    createLb(server, 'e');
    await until('e allocated', () => allocated(server, 'e')?.status === 'True');
    t.same(ipsOf(server, 'e'), [held.get('b')]);
  },
);

t.test('a new controller over the same server keeps every address', async (t) => {
  const { server, kubeConfig } = await apiServer(t);
  for (const name of ['m', 'n']) createLb(server, name);
  const first = await controllerFor(t, kubeConfig, pools('203.0.113.10-203.0.113.13'));
  await until('m, n allocated', () => ['m', 'n'].every((n) => allocated(server, n)?.status === 'True'));
  const before = { m: ipsOf(server, 'm'), n: ipsOf(server, 'n') };
  t.same([...before.m, ...before.n].sort(), ['203.0.113.10', '203.0.113.11']);
  await first.stop();

  // While no controller runs, a Service arrives whose name sorts first: a controller that did not
  // restore the statuses first would give it the first address, which m or n holds.
  createLb(server, 'aaa');
  server.clearRequests();
  const second = await controllerFor(t, kubeConfig, pools('203.0.113.10-203.0.113.13'));
  await until('aaa allocated', () => allocated(server, 'aaa')?.status === 'True');
  await second.controller.idle();
  t.same(ipsOf(server, 'm'), before.m);
  t.same(ipsOf(server, 'n'), before.n);
  t.same(ipsOf(server, 'aaa'), ['203.0.113.12']);
  const rewrites = server.requests().filter((r) => r.method !== 'GET' && (r.name === 'm' || r.name === 'n'));
  t.same(rewrites, [], 'm and n were not written again');
  t.same(
    second.events.events.map((e) => [e.service, e.reason]),
    [['default/aaa', 'IPAllocated']],
  );
});

t.test('two Services showing one address: the older keeps it, the other gets a new one', async (t) => {
  const clock = manualTime();
  const { server, kubeConfig } = await apiServer(t, { now: clock.now });
  // The older one has the name that sorts last, so name order alone would pick the other.
  const zeta = createLb(server, 'zeta', DEFAULT_LOAD_BALANCER_CLASS, { ips: ['203.0.113.10'] });
  clock.advance(10);
  const alpha = createLb(server, 'alpha', DEFAULT_LOAD_BALANCER_CLASS, { ips: ['203.0.113.10'] });
  t.ok(
    Date.parse(zeta.metadata.creationTimestamp!) < Date.parse(alpha.metadata.creationTimestamp!),
    'zeta is the older',
  );
  t.same(ipsOf(server, 'alpha'), ['203.0.113.10'], 'both show the address');
  const { controller, events, lines } = await controllerFor(t, kubeConfig, pools('203.0.113.10-203.0.113.12'));
  await until(
    'both allocated',
    () =>
      allocated(server, 'zeta')?.status === 'True' &&
      allocated(server, 'alpha')?.status === 'True' &&
      ipsOf(server, 'alpha')[0] !== '203.0.113.10',
  );
  t.same(ipsOf(server, 'zeta'), ['203.0.113.10'], 'the older Service keeps the address');
  t.same(ipsOf(server, 'alpha'), ['203.0.113.11'], 'the newer one gets the next free one');
  t.match(
    lines.find((l) => l.service === 'default/alpha'),
    { level: 40, reason: 'RequestedIPInUse', msg: /cannot keep the address in the status/ },
  );
  await until('the Event', () => events.of('default/alpha').length > 0);
  t.match(events.of('default/alpha'), [
    { type: 'Normal', reason: 'IPAllocated', message: 'assigned 203.0.113.11 from pool blue' },
  ]);
  await controller.idle();
  t.same(events.of('default/zeta'), [], 'no Event for the one that kept its address');
});
