// Start-up faults of a real kube-apiserver: 403 Forbidden before its RBAC cache is loaded, 429
// "storage is (re)initializing" (Retry-After) on custom resource watches, and a SIGTERM-like
// shutdown that refuses new connections but keeps serving open watches for a grace period.
import t from 'tap';
import { CoreV1Api, CustomObjectsApi } from '@kubernetes/client-node';
import { codeOf, kubeConfig, poll, rejection, startServer, statusOf } from './helpers.js';
import type { TestApiServer } from '../src/index.js';

const SA = 'system:serviceaccount:bgp-announce:bgp-announce';
const RBAC = 'RBAC: clusterrole.rbac.authorization.k8s.io "bgp-announce" not found';

/** Resolves when fn resolves true (tried every 20 ms); rejects after ms. */
async function eventually(what: string, fn: () => Promise<boolean>, ms = 5000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await fn())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A watch over plain fetch: its status, headers, and the events as they arrive. */
async function openWatch(server: TestApiServer, path: string) {
  const controller = new AbortController();
  const res = await fetch(`${server.url}${path}${path.includes('?') ? '&' : '?'}watch=true`, {
    signal: controller.signal,
  });
  const events: { type: string; object: { metadata?: { name?: string } } }[] = [];
  let ended = false;
  const reading = (async () => {
    if (res.status !== 200 || !res.body) return;
    let buf = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buf += Buffer.from(chunk).toString('utf8');
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          events.push(JSON.parse(buf.slice(0, nl)));
          buf = buf.slice(nl + 1);
        }
      }
    } catch {
      // aborted or reset
    }
    ended = true;
  })();
  return { res, events, ended: () => ended, reading, close: () => controller.abort() };
}

t.test(
  'startupForbiddenMs: every request is 403 with the real message until RBAC is loaded, again after a restart',
  async (t) => {
    const server = await startServer(t, { startupForbiddenMs: 400 });
    const core = kubeConfig(server).makeApiClient(CoreV1Api);
    const err = await rejection(t, () => core.listServiceForAllNamespaces());
    t.equal(codeOf(err), 403);
    t.same(statusOf(err), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `services is forbidden: User "${SA}" cannot list resource "services" in API group "" at the cluster scope: ${RBAC}`,
      reason: 'Forbidden',
      details: { kind: 'services' },
      code: 403,
    });
    const named = statusOf(
      await rejection(t, () => core.readNamespacedService({ name: 'kubernetes', namespace: 'default' })),
    );
    t.equal(
      named.message,
      `services "kubernetes" is forbidden: User "${SA}" cannot get resource "services" in API group "" in the namespace "default": ${RBAC}`,
    );
    t.same(named.details, { name: 'kubernetes', kind: 'services' });
    const w = await openWatch(server, '/apis/bgp-announce.io/v1alpha1/namespaces/bgp-announce/bgppeers');
    t.equal(w.res.status, 403, 'a watch is refused too');
    const body = (await w.res.json()) as { message: string; details: unknown };
    t.equal(
      body.message,
      `bgppeers.bgp-announce.io is forbidden: User "${SA}" cannot watch resource "bgppeers" in API group "bgp-announce.io" in the namespace "bgp-announce": ${RBAC}`,
    );
    t.same(body.details, { group: 'bgp-announce.io', kind: 'bgppeers' });

    await eventually('the RBAC window to end', () =>
      core.listServiceForAllNamespaces().then(
        () => true,
        () => false,
      ),
    );
    t.ok(
      server.requests().some((r) => r.status === 403 && r.verb === 'watch'),
      'the request log shows the refused watch',
    );

    await server.restart();
    t.equal(codeOf(await rejection(t, () => core.listNode())), 403, 'a restarted server has no RBAC cache either');
    server.forbidFor(0);
    t.ok(await core.listNode(), 'forbidFor(0) ends the window');
  },
);

t.test('the 403 window is off by default; forbidFor() opens one with another user', async (t) => {
  const server = await startServer(t, { forbiddenUser: 'system:serviceaccount:x:y' });
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  t.ok(await core.listNode());
  server.forbidFor(60_000);
  t.match(
    statusOf(await rejection(t, () => core.listNode())).message,
    /^nodes is forbidden: User "system:serviceaccount:x:y" cannot list resource "nodes"/,
  );
});

t.test('storageInitializing: custom resource watches get 429 with Retry-After, for a count or a time', async (t) => {
  const server = await startServer(t, { storageInitializing: { count: 2 } });
  const crd = '/apis/bgp-announce.io/v1alpha1/namespaces/default/bgppeers';
  const core = await openWatch(server, '/api/v1/services');
  t.equal(core.res.status, 200, 'built-in resources are not affected');
  core.close();
  const custom = kubeConfig(server).makeApiClient(CustomObjectsApi);
  t.ok(
    await custom.listNamespacedCustomObject({
      group: 'bgp-announce.io',
      version: 'v1alpha1',
      namespace: 'default',
      plural: 'bgppeers',
    }),
    'lists are not affected',
  );
  for (let i = 0; i < 2; i++) {
    const w = await openWatch(server, crd);
    t.equal(w.res.status, 429);
    t.equal(w.res.headers.get('retry-after'), '1');
    t.same(await w.res.json(), {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'storage is (re)initializing',
      reason: 'TooManyRequests',
      details: { retryAfterSeconds: 1 },
      code: 429,
    });
  }
  const third = await openWatch(server, crd);
  t.equal(third.res.status, 200, 'the third watch is served');
  third.close();

  server.storageInitializing({ ms: 300, retryAfterSeconds: 2 });
  const during = await openWatch(server, crd);
  t.equal(during.res.status, 429);
  t.equal(during.res.headers.get('retry-after'), '2');
  await eventually('the storage to be ready', async () => {
    const w = await openWatch(server, crd);
    w.close();
    return w.res.status === 200;
  });
  server.storageInitializing();
  t.equal((await openWatch(server, crd)).res.status, 429, 'no limit: until cleared');
  server.storageInitializing(false);
  const after = await openWatch(server, crd);
  t.equal(after.res.status, 200, 'cleared');
  after.close();
});

/** The error code of a failed fetch (ECONNREFUSED ...). */
async function connectError(url: string): Promise<string | undefined> {
  try {
    await fetch(url);
    return undefined;
  } catch (err) {
    return (err as { cause?: { code?: string } }).cause?.code;
  }
}

t.test('shutdown: new connections are refused, open watches keep delivering for the grace, then close', async (t) => {
  const server = await startServer(t);
  const w = await openWatch(server, '/api/v1/namespaces/default/services?resourceVersion=' + server.resourceVersion());
  t.equal(w.res.status, 200);
  const shutdown = server.shutdown({ graceMs: 300 });
  t.ok(server.isShuttingDown());
  t.equal(await connectError(`${server.url}/api/v1/services`), 'ECONNREFUSED', 'a new connection is refused at once');
  server.create('services', { metadata: { name: 'late' }, spec: { ports: [{ port: 80 }] } });
  await poll('the event on the open watch', () =>
    w.events.some((e) => e.type === 'ADDED' && e.object.metadata?.name === 'late'),
  );
  t.notOk(w.ended(), 'the watch is still open');
  t.equal(server.openWatches(), 1);
  await shutdown;
  await w.reading;
  t.ok(w.ended(), 'the watch ended after the grace');
  t.equal(server.openWatches(), 0);
  t.notOk(server.isShuttingDown());
  t.equal(await connectError(`${server.url}/api/v1/services`), 'ECONNREFUSED', 'still down');
  await server.restart();
  t.equal((await fetch(`${server.url}/api/v1/services`)).status, 200, 'restart() serves again');
});

t.test('restart() during the grace ends it at once; the default grace is 60 s', async (t) => {
  const server = await startServer(t);
  const w = await openWatch(server, '/api/v1/services');
  const started = Date.now();
  const shutdown = server.shutdown();
  t.equal(server.shutdown(), shutdown, 'a second call gets the same shutdown');
  t.equal(await connectError(`${server.url}/api/v1/nodes`), 'ECONNREFUSED');
  t.notOk(w.ended());
  await server.restart();
  await shutdown;
  await w.reading;
  t.ok(w.ended());
  t.ok(Date.now() - started < 5000, 'the 60 s grace was cut short');
  t.equal((await fetch(`${server.url}/api/v1/nodes`)).status, 200);
});
