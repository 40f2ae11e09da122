// loadKubeConfig: from a URL, a kubeconfig file, $KUBECONFIG, the in-cluster service account, or
// ~/.kube/config, each checked against the test API server where it can reach one, and one clear
// line for each way that does not work.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { CoreV1Api, Watch } from '@kubernetes/client-node';
import { start } from '@bgp-announce/test-apiserver';
import { KubeConnectError, loadKubeConfig, userAgentOf } from '../src/kube/client.js';

function tmpDir(t: Test): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'kube-client-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const empty = { env: {}, homeDir: '/nonexistent-home', serviceAccountDir: '/nonexistent-sa' };

t.test('a URL and a kubeconfig file both reach the API server', async (t) => {
  const s = await start();
  t.teardown(() => s.stop());
  const byUrl = loadKubeConfig({ ...empty, url: `${s.url}/` });
  t.equal(byUrl.source, `API server ${s.url}`);
  const names = async (kc: typeof byUrl.kubeConfig) =>
    (await kc.makeApiClient(CoreV1Api).listNamespace()).items.map((n) => n.metadata?.name).sort();
  t.same(await names(byUrl.kubeConfig), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);

  const dir = tmpDir(t);
  const file = path.join(dir, 'config');
  fs.writeFileSync(file, s.kubeconfigYaml());
  const byFile = loadKubeConfig({ ...empty, kubeconfig: file });
  t.match(byFile.source, `kubeconfig ${file} (context bgp-announce-test, server ${s.url})`);
  t.equal(byFile.namespace, 'default');
  t.same(await names(byFile.kubeConfig), ['default', 'kube-node-lease', 'kube-public', 'kube-system']);

  const byEnv = loadKubeConfig({ ...empty, env: { KUBECONFIG: `${file}${path.delimiter}/other` } });
  t.match(byEnv.source, /^\$KUBECONFIG /);
  const home = path.join(dir, 'home');
  fs.mkdirSync(path.join(home, '.kube'), { recursive: true });
  fs.copyFileSync(file, path.join(home, '.kube', 'config'));
  t.match(loadKubeConfig({ ...empty, homeDir: home }).source, `kubeconfig ${path.join(home, '.kube', 'config')}`);
});

t.test('every request, API calls and watches alike, carries the User-Agent asked for', async (t) => {
  const s = await start();
  t.teardown(() => s.stop());
  const ua = userAgentOf('bgp-announce', '0.1.0', 'node-1');
  t.equal(ua, 'bgp-announce/0.1.0 (node-1)');
  const { kubeConfig } = loadKubeConfig({ ...empty, url: s.url, userAgent: ua });
  await kubeConfig.makeApiClient(CoreV1Api).listNamespace();
  const watch = new Watch(kubeConfig);
  const req = await watch.watch(
    '/api/v1/namespaces',
    {},
    () => {},
    () => {},
  );
  t.teardown(() => req.abort());
  const seen = s.requests().map((r) => [r.verb, r.userAgent]);
  t.same(seen, [
    ['list', ua],
    ['watch', ua],
  ]);
  const plain = loadKubeConfig({ ...empty, url: s.url });
  s.clearRequests();
  await plain.kubeConfig.makeApiClient(CoreV1Api).listNamespace();
  t.not(s.requests()[0]?.userAgent, ua, 'only where asked');
});

t.test('in-cluster: the service account token, CA and namespace', async (t) => {
  const dir = tmpDir(t);
  fs.writeFileSync(path.join(dir, 'token'), 'abc');
  fs.writeFileSync(path.join(dir, 'ca.crt'), 'not really a certificate');
  fs.writeFileSync(path.join(dir, 'namespace'), 'bgp-announce\n');
  const loaded = loadKubeConfig({
    env: { KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' },
    serviceAccountDir: dir,
    homeDir: '/nonexistent-home',
  });
  t.equal(loaded.source, 'in-cluster service account (server https://[fd00::1]:443)');
  t.equal(loaded.namespace, 'bgp-announce');
  t.match(loaded.kubeConfig.getCurrentCluster(), {
    server: 'https://[fd00::1]:443',
    caFile: path.join(dir, 'ca.crt'),
    skipTLSVerify: false,
  });
  t.match(loaded.kubeConfig.getCurrentUser(), {
    authProvider: { name: 'tokenFile', config: { tokenFile: path.join(dir, 'token') } },
  });
  t.throws(
    () =>
      loadKubeConfig({
        env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
        serviceAccountDir: path.join(dir, 'missing'),
      }),
    {
      message: `in-cluster service account: ${path.join(dir, 'missing', 'token')} does not exist (is automountServiceAccountToken off for the pod?)`,
    },
  );
});

t.test('each way that does not work says why in one line', async (t) => {
  const dir = tmpDir(t);
  const cases: [string, Parameters<typeof loadKubeConfig>[0], string][] = [
    [
      'not a URL',
      { ...empty, url: 'localhost:6443' },
      'API server URL "localhost:6443" must start with http:// or https://',
    ],
    [
      'garbage URL',
      { ...empty, url: 'http://' },
      'API server URL "http://" is not a URL (expected e.g. https://127.0.0.1:6443)',
    ],
    [
      'missing file',
      { ...empty, kubeconfig: path.join(dir, 'nope') },
      `kubeconfig ${path.join(dir, 'nope')}: no such file`,
    ],
    [
      'missing $KUBECONFIG file',
      { ...empty, env: { KUBECONFIG: path.join(dir, 'nope') } },
      `$KUBECONFIG ${path.join(dir, 'nope')}: no such file`,
    ],
    [
      'nothing at all',
      empty,
      'no Kubernetes API configuration found: no --kube-url or --kubeconfig given, $KUBECONFIG is not set, KUBERNETES_SERVICE_HOST is not set (not running in a pod), and /nonexistent-home/.kube/config does not exist',
    ],
    [
      'port missing',
      { ...empty, env: { KUBERNETES_SERVICE_HOST: '10.0.0.1' } },
      'in-cluster service account: KUBERNETES_SERVICE_HOST is set but KUBERNETES_SERVICE_PORT is not',
    ],
  ];
  for (const [what, options, message] of cases)
    t.throws(() => loadKubeConfig(options), new KubeConnectError(message), what);

  const bad = path.join(dir, 'bad');
  fs.writeFileSync(bad, 'clusters: [unclosed');
  t.throws(() => loadKubeConfig({ ...empty, kubeconfig: bad }), {
    name: 'KubeConnectError',
    message: new RegExp(`^kubeconfig ${bad}: cannot be read: `),
  });

  const twoContexts = path.join(dir, 'two');
  fs.writeFileSync(
    twoContexts,
    [
      'apiVersion: v1',
      'clusters: [{name: c, cluster: {server: "https://192.0.2.1:6443"}}]',
      'users: [{name: u, user: {token: t}}]',
      'contexts: [{name: one, context: {cluster: c, user: u}}, {name: two, context: {cluster: c, user: u}}]',
      '',
    ].join('\n'),
  );
  t.throws(() => loadKubeConfig({ ...empty, kubeconfig: twoContexts }), {
    message: `kubeconfig ${twoContexts}: no current context set (it has: one, two); choose one with --kube-context`,
  });
  t.throws(() => loadKubeConfig({ ...empty, kubeconfig: twoContexts, context: 'three' }), {
    message: `kubeconfig ${twoContexts}: has no context "three" (it has: one, two)`,
  });
  t.equal(loadKubeConfig({ ...empty, kubeconfig: twoContexts, context: 'two' }).kubeConfig.getCurrentContext(), 'two');
});
