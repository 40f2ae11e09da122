// The test controls: injected failures, the request log, restart on the same port keeping the store,
// the kubeconfig (object and YAML), and the CLI entry.
import t from 'tap';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CoreV1Api, KubeConfig, makeInformer } from '@kubernetes/client-node';
import { codeOf, kubeConfig, poll, rejection, startServer, statusOf } from './helpers.js';

t.test('failNext injects one error; the request log records verbs and statuses', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  server.failNext('list', 'services', 503, 'etcd is sad');
  const failed = await rejection(t, () => core.listNamespacedService({ namespace: 'default' }));
  t.equal(codeOf(failed), 503);
  t.match(statusOf(failed), { reason: 'ServiceUnavailable', message: 'etcd is sad' });
  const ok = await core.listNamespacedService({ namespace: 'default' });
  t.equal(ok.items.length, 1, 'only the next request failed');

  server.failNext('update', 'services/status', 500);
  const svc = await core.readNamespacedService({ name: 'kubernetes', namespace: 'default' });
  await core.replaceNamespacedService({ name: 'kubernetes', namespace: 'default', body: svc });
  const statusFail = await rejection(t, () =>
    core.replaceNamespacedServiceStatus({ name: 'kubernetes', namespace: 'default', body: svc }),
  );
  t.equal(codeOf(statusFail), 500, 'the failure waited for the status subresource');
  t.throws(() => server.failNext('get', 'widgets', 500), /unknown resource "widgets"/);

  const log = server
    .requests()
    .map((r) => [r.verb, r.resource, r.subresource ?? '', r.namespace ?? '', r.name ?? '', r.status]);
  t.same(log, [
    ['list', 'services', '', 'default', '', 503],
    ['list', 'services', '', 'default', '', 200],
    ['get', 'services', '', 'default', 'kubernetes', 200],
    ['update', 'services', '', 'default', 'kubernetes', 200],
    ['update', 'services', 'status', 'default', 'kubernetes', 500],
  ]);
  t.match(server.requests()[0], {
    method: 'GET',
    path: '/api/v1/namespaces/default/services',
    group: '',
    version: 'v1',
  });
  server.clearRequests();
  t.same(server.requests(), []);
});

t.test('a watch failed with 410 gets an ERROR event; with another code the informer stops', async (t) => {
  const server = await startServer(t);
  const kc = kubeConfig(server);
  const core = kc.makeApiClient(CoreV1Api);
  server.failNext('watch', 'services', 410);
  const informer = makeInformer(kc, '/api/v1/namespaces/default/services', () =>
    core.listNamespacedService({ namespace: 'default' }),
  );
  const errors: unknown[] = [];
  informer.on('error', (e) => errors.push(e));
  await informer.start();
  t.teardown(() => informer.stop());
  await poll(
    're-listed after 410',
    () => server.requests().filter((r) => r.verb === 'list').length === 2 && server.openWatches() === 1,
  );
  t.same(errors, []);

  server.failNext('watch', 'services', 500);
  server.dropWatches();
  await poll('informer error', () => errors.length === 1);
  t.equal((errors[0] as { statusCode?: number }).statusCode, 500);
});

t.test(
  'restart keeps the store and the port; watches end and resuming them gets 410 (keepHistory: they resume)',
  async (t) => {
    const server = await startServer(t);
    const kc = kubeConfig(server);
    const core = kc.makeApiClient(CoreV1Api);
    await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'keep' } } });
    const port = server.port;
    const rv = server.resourceVersion();
    const informer = makeInformer(kc, '/api/v1/namespaces/default/secrets', () =>
      core.listNamespacedSecret({ namespace: 'default' }),
    );
    await informer.start();
    t.teardown(() => informer.stop());
    await poll('watching', () => server.openWatches() === 1);
    server.clearRequests();
    await server.restart();
    t.equal(server.port, port);
    t.ok(Number(server.resourceVersion()) > Number(rv), 'the revision moved on, as etcd does while a server restarts');
    const again = await core.readNamespacedSecret({ name: 'keep', namespace: 'default' });
    t.equal(again.metadata?.resourceVersion, rv, 'the object is kept as it was');
    await poll('informer watching again', () => server.openWatches() === 1);
    const verbs = server.requests().filter((r) => r.verb === 'watch' || r.verb === 'list');
    t.same(
      verbs.slice(0, 2).map((r) => [r.verb, r.watchError]),
      [
        ['watch', 410],
        ['list', undefined],
      ],
      'the resumed watch got 410, the informer re-listed',
    );
    server.clearRequests();
    const before = server.resourceVersion();
    await server.restart({ keepHistory: true });
    t.equal(server.resourceVersion(), before, 'keepHistory: nothing moved');
    await poll('informer watching again after a warm restart', () => server.openWatches() === 1);
    t.notOk(
      server.requests().some((r) => r.watchError === 410 || r.verb === 'list'),
      'resumed without 410 or list',
    );
    await server.stop();
    const down = await core.readNamespacedSecret({ name: 'keep', namespace: 'default' }).catch((e: unknown) => e);
    t.match(String(down), /ECONNREFUSED|fetch failed|connect/i, 'nothing listens after stop');
  },
);

t.test('the YAML kubeconfig loads into client-node', async (t) => {
  const server = await startServer(t);
  const kc = new KubeConfig();
  kc.loadFromString(server.kubeconfigYaml());
  t.equal(kc.getCurrentCluster()?.server, server.url);
  t.equal(kc.getContextObject(kc.getCurrentContext())?.namespace, 'default');
  const ns = await kc.makeApiClient(CoreV1Api).listNamespace();
  t.same(
    ns.items.map((n) => n.metadata?.name),
    ['default', 'kube-node-lease', 'kube-public', 'kube-system'],
  );
});

t.test('the CLI prints its URL and serves until SIGTERM; bad arguments get a clear error', async (t) => {
  const main = fileURLToPath(new URL('../dist/main.js', import.meta.url));
  const child = spawn(process.execPath, [main, '--port', '0', '--bookmark-interval-ms', '1000']);
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  const url = await poll('URL printed', () => /^http:\/\/127\.0\.0\.1:\d+$/m.exec(out)?.[0]);
  const res = await fetch(`${url}/api/v1/namespaces`);
  t.equal(res.status, 200);
  child.kill('SIGTERM');
  t.equal(await exited, 0, 'clean exit on SIGTERM');

  const bad = spawn(process.execPath, [main, '--port', '70000']);
  let err = '';
  bad.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const code = await new Promise<number | null>((resolve) => bad.once('exit', (c) => resolve(c)));
  t.equal(code, 2);
  t.match(err, /^test-apiserver: --port must be an integer from 0 to 65535, got "70000"/);
  t.notMatch(err, /at .*\.js:\d+/, 'no stack trace');
});
