// Label and field selectors: the parser and matcher on their own, and through client-node lists.
import t from 'tap';
import { CoreV1Api } from '@kubernetes/client-node';
import { matchesLabels, parseFieldSelector, parseLabelSelector } from '../src/selectors.js';
import { builtInResources } from '../src/resources.js';
import { ApiError } from '../src/status.js';
import { codeOf, kubeConfig, rejection, startServer, statusOf } from './helpers.js';

const m = (sel: string, labels: Record<string, string>): boolean => matchesLabels(parseLabelSelector(sel), labels);

t.test('label selector grammar and matching', async (t) => {
  t.same(parseLabelSelector('app=web, tier in (a,b),!legacy,env!=prod,zone'), [
    { key: 'app', operator: '=', values: ['web'] },
    { key: 'tier', operator: 'in', values: ['a', 'b'] },
    { key: 'legacy', operator: '!', values: [] },
    { key: 'env', operator: '!=', values: ['prod'] },
    { key: 'zone', operator: 'exists', values: [] },
  ]);
  t.equal(m('app==web', { app: 'web' }), true);
  t.equal(m('app=web', { app: 'db' }), false);
  t.equal(m('env!=prod', {}), true, '!= matches a missing label');
  t.equal(m('tier notin (a,b)', { tier: 'c' }), true);
  t.equal(m('tier notin (a,b)', {}), true, 'notin matches a missing label');
  t.equal(m('tier in (a,b)', {}), false);
  t.equal(m('!legacy', { legacy: '' }), false);
  t.equal(m('bgp-announce.io/pool', { 'bgp-announce.io/pool': 'x' }), true, 'prefixed key exists');
  t.equal(m('rank>5', { rank: '7' }), true);
  t.equal(m('rank<5', { rank: '7' }), false);
  t.equal(m('', { a: 'b' }), true, 'empty selector matches everything');
  for (const bad of ['app=web,', 'tier in (a', 'tier in ()', '=x', 'app=we b', 'a=b)']) {
    t.throws(() => parseLabelSelector(bad), ApiError, `"${bad}" is refused`);
  }
});

t.test('field selector parsing', async (t) => {
  const services = builtInResources().find((r) => r.plural === 'services');
  if (!services) throw new Error('no services');
  t.same(parseFieldSelector('metadata.name=a,spec.type!=ClusterIP', services), [
    { field: 'metadata.name', operator: '=', value: 'a' },
    { field: 'spec.type', operator: '!=', value: 'ClusterIP' },
  ]);
  t.same(
    parseFieldSelector('metadata.name=a\\,b', services),
    [{ field: 'metadata.name', operator: '=', value: 'a,b' }],
    'escaped comma',
  );
  const err = (() => {
    try {
      parseFieldSelector('spec.selector=x', services);
    } catch (e) {
      return e as ApiError;
    }
    return undefined;
  })();
  t.match(err, { code: 400, reason: 'BadRequest', message: 'field label not supported: spec.selector' });
});

t.test('selectors through client-node lists', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  for (const [name, labels] of [
    ['a', { app: 'web', tier: 'front' }],
    ['b', { app: 'web', tier: 'back' }],
    ['c', { app: 'db' }],
  ] as const) {
    await core.createNamespacedService({
      namespace: 'default',
      body: { metadata: { name, labels }, spec: { ports: [{ port: 80 }] } },
    });
  }
  await core.createNamespace({ body: { metadata: { name: 'other' } } });
  await core.createNamespacedService({
    namespace: 'other',
    body: { metadata: { name: 'a', labels: { app: 'web' } }, spec: { ports: [{ port: 80 }] } },
  });
  const names = (l: { items: { metadata?: { name?: string; namespace?: string } }[] }): string[] =>
    l.items.map((s) => `${s.metadata?.namespace}/${s.metadata?.name}`);

  t.same(names(await core.listNamespacedService({ namespace: 'default', labelSelector: 'app=web' })), [
    'default/a',
    'default/b',
  ]);
  t.same(
    names(
      await core.listNamespacedService({ namespace: 'default', labelSelector: 'app in (web,db),tier notin (back)' }),
    ),
    ['default/a', 'default/c'],
  );
  t.same(names(await core.listServiceForAllNamespaces({ labelSelector: 'app=web' })), [
    'default/a',
    'default/b',
    'other/a',
  ]);
  t.same(names(await core.listServiceForAllNamespaces({ fieldSelector: 'metadata.name=a' })), ['default/a', 'other/a']);
  t.same(names(await core.listServiceForAllNamespaces({ fieldSelector: 'metadata.namespace=other' })), ['other/a']);
  t.same(names(await core.listServiceForAllNamespaces({ fieldSelector: 'metadata.namespace!=default' })), ['other/a']);
  const bad = await rejection(t, () => core.listNamespacedService({ namespace: 'default', labelSelector: 'app in (' }));
  t.equal(codeOf(bad), 400);
  t.equal(statusOf(bad).reason, 'BadRequest');

  const page1 = await core.listServiceForAllNamespaces({ limit: 2 });
  t.same(names(page1), ['default/a', 'default/b']);
  t.equal(page1.metadata?.remainingItemCount, 3);
  const page2 = await core.listServiceForAllNamespaces({ limit: 2, _continue: page1.metadata?._continue });
  t.same(names(page2), ['default/c', 'default/kubernetes']);
  const page3 = await core.listServiceForAllNamespaces({ limit: 2, _continue: page2.metadata?._continue });
  t.same(names(page3), ['other/a']);
  t.equal(page3.metadata?._continue, undefined, 'last page has no continue token');
  t.equal(
    page3.metadata?.resourceVersion,
    page1.metadata?.resourceVersion,
    "pages share the first page's resourceVersion",
  );
});

t.test('Secrets by type (fieldSelector type=, as the real server supports for Secrets)', async (t) => {
  const server = await startServer(t);
  const core = kubeConfig(server).makeApiClient(CoreV1Api);
  await core.createNamespacedSecret({
    namespace: 'default',
    body: { metadata: { name: 'pw' }, type: 'kubernetes.io/basic-auth', stringData: { password: 'x' } },
  });
  await core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: 'plain' }, data: {} } });
  await core.createNamespacedSecret({
    namespace: 'default',
    body: { metadata: { name: 'sh.helm.release.v1.app.v1' }, type: 'helm.sh/release.v1', data: {} },
  });
  const names = async (fieldSelector: string): Promise<string[]> =>
    (await core.listNamespacedSecret({ namespace: 'default', fieldSelector })).items.map((s) => s.metadata!.name!);
  t.same(await names('type=kubernetes.io/basic-auth'), ['pw']);
  t.same(await names('type=Opaque'), ['plain'], 'a Secret created without a type is Opaque');
  t.same(await names('type!=kubernetes.io/basic-auth'), ['plain', 'sh.helm.release.v1.app.v1']);
  t.same(await names('type=kubernetes.io/basic-auth,metadata.name=plain'), [], 'requirements are ANDed');
  const bad = await rejection(t, () =>
    core.listNamespacedSecret({ namespace: 'default', fieldSelector: 'data.password=x' }),
  );
  t.equal(codeOf(bad), 400, 'a field Secrets do not support: 400');
  t.equal(statusOf(bad).reason, 'BadRequest');
  const configMaps = await rejection(t, () =>
    core.listNamespacedConfigMap({ namespace: 'default', fieldSelector: 'type=Opaque' }),
  );
  t.equal(codeOf(configMaps), 400, 'type is a field selector of Secrets only');
});
