// KubeConfigSource against the test API server: a burst of objects gives one configuration; a bad
// object is rejected with its name and field while the previous configuration stays; Accepted
// conditions are written (only when asked); a passwordSecret is resolved, and a missing one reported.
import t, { type Test } from 'tap';
import { BGP_ANNOUNCE_CRDS, start, type TestApiServer } from '@bgp-announce/test-apiserver';
import { loadKubeConfig } from '../src/kube/client.js';
import { KubeConfigSource, ACCEPTED_CONDITION } from '../src/kube/config-source.js';
import { ConfigError, type AnnouncerConfig } from '../src/config/types.js';
import type { StatusCondition } from '../src/kube/watches.js';
import { until } from './helpers/kube-harness.js';

const NS = 'bgp-announce';
const V = 'bgp-announce.io/v1alpha1';
const PLURAL = {
  IPAddressPool: 'ipaddresspools',
  BGPPeer: 'bgppeers',
  BGPAdvertisement: 'bgpadvertisements',
  StaticRoute: 'staticroutes',
  BFDProfile: 'bfdprofiles',
} as const;
type Kind = keyof typeof PLURAL;

function create(s: TestApiServer, kind: Kind, name: string, spec: Record<string, unknown>) {
  return s.create(PLURAL[kind], { apiVersion: V, kind, metadata: { name, namespace: NS }, spec });
}

function condition(s: TestApiServer, kind: Kind, name: string): StatusCondition | undefined {
  const obj = s.get(PLURAL[kind], name, NS) as { status?: { conditions?: StatusCondition[] } } | undefined;
  return obj?.status?.conditions?.find((c) => c.type === ACCEPTED_CONDITION);
}

async function setup(t: Test, writeStatus = true) {
  const s = await start();
  t.teardown(() => s.stop());
  s.create('namespaces', { metadata: { name: NS } });
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const source = new KubeConfigSource({ kubeConfig, namespace: NS, writeStatus });
  const configs: AnnouncerConfig[] = [];
  const rejections: ConfigError[] = [];
  source.on('config', (c) => configs.push(c));
  source.on('rejected', (e) => rejections.push(e));
  t.teardown(() => source.stop());
  return { s, source, configs, rejections };
}

t.test('ten objects applied at once give one configuration; all are Accepted', async (t) => {
  const { s, source, configs, rejections } = await setup(t);
  source.start();
  await until('the first (empty) config', () => configs.length === 1);
  t.same(configs[0], { pools: [], peers: [], advertisements: [], bfdProfiles: [], staticRoutes: [] });

  for (const n of ['a', 'b', 'c'])
    create(s, 'IPAddressPool', `pool-${n}`, { addresses: [`198.51.100.${n === 'a' ? 0 : n === 'b' ? 16 : 32}/28`] });
  for (const n of ['a', 'b', 'c'])
    create(s, 'BGPPeer', `tor-${n}`, {
      myASN: 64496,
      peerASN: 64497,
      peerAddress: `192.0.2.${n === 'a' ? 1 : n === 'b' ? 2 : 3}`,
      bfdProfile: 'fast',
    });
  create(s, 'BFDProfile', 'fast', { receiveInterval: 100, transmitInterval: 100 });
  create(s, 'BFDProfile', 'slow', {});
  create(s, 'BGPAdvertisement', 'all', {});
  create(s, 'BGPAdvertisement', 'only-a', { ipAddressPools: ['pool-a'], peers: ['tor-a'], communities: ['64496:100'] });

  await until('a second config', () => configs.length === 2);
  const config = configs[1]!;
  t.same(
    config.pools.map((p) => p.name).sort(),
    ['pool-a', 'pool-b', 'pool-c'],
    'the first config after the burst already has every object',
  );
  t.same(config.peers.map((p) => p.name).sort(), ['tor-a', 'tor-b', 'tor-c']);
  t.same(config.bfdProfiles.map((p) => [p.name, p.receiveInterval]).sort(), [
    ['fast', 100],
    ['slow', 300],
  ]);
  t.same(config.advertisements.map((a) => a.name).sort(), ['all', 'only-a']);
  t.equal(rejections.length, 0);
  t.equal(source.current(), config);

  const all: [Kind, string][] = [
    ...['pool-a', 'pool-b', 'pool-c'].map((n): [Kind, string] => ['IPAddressPool', n]),
    ...['tor-a', 'tor-b', 'tor-c'].map((n): [Kind, string] => ['BGPPeer', n]),
    ['BFDProfile', 'fast'],
    ['BFDProfile', 'slow'],
    ['BGPAdvertisement', 'all'],
    ['BGPAdvertisement', 'only-a'],
  ];
  await until('every Accepted condition', () =>
    all.every(([kind, name]) => condition(s, kind, name)?.status === 'True'),
  );
  const c = condition(s, 'BGPPeer', 'tor-a')!;
  t.match(c, { type: 'Accepted', status: 'True', reason: 'Accepted', observedGeneration: 1 });
  t.match(c.lastTransitionTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  // Successful writes only: a write from a cache that has not yet seen its own last write gets 409.
  const statusWrites = (): number =>
    s.requests().filter((r) => r.subresource === 'status' && r.verb === 'update' && r.status === 200).length;
  t.equal(statusWrites(), 10, 'one status write per object');
  // Status writes change resourceVersions and come back as watch events; they must not produce
  // another config. A later change shows what came in between: only its own config.
  create(s, 'IPAddressPool', 'pool-d', { addresses: ['198.51.100.48/28'] });
  await until('the config with pool-d', () => configs.some((c) => c.pools.length === 4));
  t.equal(configs.length, 3, 'no config from the status writes');
  await until('pool-d accepted', () => condition(s, 'IPAddressPool', 'pool-d')?.status === 'True');
  t.equal(statusWrites(), 11, 'only pool-d written: the others are unchanged');
});

t.test('a bad object rejects the whole; the previous config stays; fixing it brings a config back', async (t) => {
  const { s, source, configs, rejections } = await setup(t);
  create(s, 'IPAddressPool', 'pool', { addresses: ['198.51.100.0/28'] });
  create(s, 'BGPPeer', 'tor', { myASN: 64496, peerASN: 64497, peerAddress: '192.0.2.1' });
  source.start();
  await until('the first config', () => configs.length === 1);
  const good = configs[0]!;
  t.same(
    good.peers.map((p) => p.name),
    ['tor'],
  );

  create(s, 'BGPPeer', 'broken', { myASN: 64496, peerASN: -1, peerAddress: '192.0.2.9' });
  await until('the rejection', () => rejections.length === 1);
  const error = rejections[0]!;
  t.ok(error instanceof ConfigError);
  t.same(
    error.problems.map((p) => [p.kind, p.name, p.field]),
    [['BGPPeer', 'broken', 'spec.peerASN']],
  );
  t.match(error.message, /^BGPPeer broken: spec\.peerASN: /);
  t.equal(source.current(), good, 'the previous configuration stays in force');
  t.equal(source.lastError(), error);
  t.equal(configs.length, 1, 'no config for the rejected objects');

  await until('the Invalid condition', () => condition(s, 'BGPPeer', 'broken')?.reason === 'Invalid');
  t.match(condition(s, 'BGPPeer', 'broken'), { status: 'False', reason: 'Invalid', message: /^spec\.peerASN: / });
  await until('the others marked', () => condition(s, 'BGPPeer', 'tor')?.reason === 'ConfigRejected');
  t.match(condition(s, 'BGPPeer', 'tor'), { status: 'False', message: /problems in BGPPeer broken/ });
  t.match(condition(s, 'IPAddressPool', 'pool'), { status: 'False', reason: 'ConfigRejected' });

  s.delete('bgppeers', 'broken', NS);
  await until('a config again', () => configs.length === 2);
  t.same(configs[1], good, 'the same configuration, announced again now that the problem is gone');
  t.equal(source.lastError(), undefined);
  await until('tor accepted again', () => condition(s, 'BGPPeer', 'tor')?.status === 'True');
  t.equal(rejections.length, 1);
});

const NOT_FOUND =
  'Secret bgp-announce/tor-pw of type kubernetes.io/basic-auth not found (the announcer reads only Secrets of that type: create it with type kubernetes.io/basic-auth and the key "password")';

t.test(
  'passwordSecret: a missing Secret is a problem naming the peer and the Secret; a present one is resolved',
  async (t) => {
    const { s, source, configs, rejections } = await setup(t);
    create(s, 'BGPPeer', 'tor', {
      myASN: 64496,
      peerASN: 64497,
      peerAddress: '192.0.2.1',
      passwordSecret: { name: 'tor-pw' },
    });
    source.start();
    await until('the rejection', () => rejections.length === 1);
    t.same(rejections[0]!.problems, [
      { kind: 'BGPPeer', name: 'tor', field: 'spec.passwordSecret', message: NOT_FOUND },
    ]);
    t.equal(configs.length, 0, 'no configuration yet');
    t.equal(source.current(), undefined);

    // Only Secrets of type kubernetes.io/basic-auth are listed and watched (Helm's release Secrets never are).
    // The watch opens after the list has been taken (and may come after the first evaluation).
    const secretRequests = await until('the Secrets listed and watched', () => {
      const list = s.requests().filter((r) => r.resource === 'secrets');
      return list.some((r) => r.verb === 'watch') ? list : undefined;
    });
    t.ok(secretRequests.length >= 2, 'the Secrets were listed and watched');
    t.same(
      [...new Set(secretRequests.map((r) => `${r.verb} ${r.namespace} ${r.query.fieldSelector}`))].sort(),
      [`list ${NS} type=kubernetes.io/basic-auth`, `watch ${NS} type=kubernetes.io/basic-auth`],
      'every Secret request has the field selector type=kubernetes.io/basic-auth',
    );

    // A Secret of the right name but another type is never seen: still not found (a second BGPPeer
    // naming it makes the source evaluate again, with one more problem).
    s.create('secrets', {
      metadata: { name: 'tor-pw', namespace: NS },
      type: 'Opaque',
      data: { password: Buffer.from('s3cret').toString('base64') },
    });
    create(s, 'BGPPeer', 'tor-2', {
      myASN: 64496,
      peerASN: 64497,
      peerAddress: '192.0.2.2',
      passwordSecret: { name: 'tor-pw' },
    });
    await until('the second rejection', () => rejections.length === 2);
    t.same(
      rejections[1]!.problems,
      ['tor', 'tor-2'].map((name) => ({ kind: 'BGPPeer', name, field: 'spec.passwordSecret', message: NOT_FOUND })),
      'an Opaque Secret is not read: the problem says which type to give it',
    );
    s.delete('bgppeers', 'tor-2', NS);
    await until('the BGPPeer says so in its Accepted condition', () =>
      condition(s, 'BGPPeer', 'tor')?.message === `spec.passwordSecret: ${NOT_FOUND}` ? true : undefined,
    );

    s.delete('secrets', 'tor-pw', NS);
    s.create('secrets', {
      metadata: { name: 'tor-pw', namespace: NS },
      type: 'kubernetes.io/basic-auth',
      data: { username: '', password: Buffer.from('s3cret').toString('base64') },
    });
    await until('the config', () => configs.length === 1);
    t.equal(configs[0]!.peers[0]!.password, 's3cret');
    t.same(configs[0]!.peers[0]!.passwordSecret, { name: 'tor-pw' });

    // The password changes in the Secret: a new configuration with the new key.
    s.patch('secrets', 'tor-pw', { data: { password: Buffer.from('n3w').toString('base64') } }, NS);
    await until('the new password', () => configs.length === 2);
    t.equal(configs[1]!.peers[0]!.password, 'n3w');
  },
);

t.test('status is written only while writeStatus is on', async (t) => {
  const { s, source, configs } = await setup(t, false);
  create(s, 'IPAddressPool', 'pool', { addresses: ['198.51.100.0/28'] });
  source.start();
  await until('the config', () => configs.length === 1);
  // Another change to evaluate again, still without writing.
  create(s, 'IPAddressPool', 'pool-2', { addresses: ['198.51.100.16/28'] });
  await until('the second config', () => configs.length === 2);
  t.equal(s.requests().filter((r) => r.subresource === 'status').length, 0, 'no status request');
  t.equal(condition(s, 'IPAddressPool', 'pool'), undefined);

  source.setWriteStatus(true);
  await until(
    'conditions written',
    () =>
      condition(s, 'IPAddressPool', 'pool')?.status === 'True' &&
      condition(s, 'IPAddressPool', 'pool-2')?.status === 'True',
  );
  t.equal(configs.length, 2);
  // Turned off again: a new object gets no condition.
  source.setWriteStatus(false);
  create(s, 'IPAddressPool', 'pool-3', { addresses: ['198.51.100.32/28'] });
  await until('the third config', () => configs.length === 3);
  t.equal(condition(s, 'IPAddressPool', 'pool-3'), undefined);
});

t.test('StaticRoute objects from the cluster, health check included; Accepted like the other kinds', async (t) => {
  const { s, source, configs } = await setup(t);
  create(s, 'StaticRoute', 'kube-apiserver', {
    prefixes: ['203.0.113.100/32'],
    healthCheck: { http: { url: 'https://127.0.0.1:6443/readyz', insecureSkipVerify: true }, fall: 2 },
  });
  create(s, 'StaticRoute', 'bad', { prefixes: ['203.0.113.100/32'], healthCheck: { tcp: { address: 'nowhere' } } });
  source.start();
  await until('the StaticRoute problem', () => condition(s, 'StaticRoute', 'bad')?.status === 'False');
  t.match(condition(s, 'StaticRoute', 'bad')?.message, /spec\.healthCheck\.tcp\.address: must be "host:port"/);
  s.delete('staticroutes', 'bad', NS);
  await until('a config', () => configs.length > 0);
  t.match(configs.at(-1)!.staticRoutes, [
    {
      name: 'kube-apiserver',
      prefixes: ['203.0.113.100/32'],
      healthCheck: { fall: 2, rise: 2, http: { insecureSkipVerify: true } },
    },
  ]);
  await until('Accepted', () => condition(s, 'StaticRoute', 'kube-apiserver')?.status === 'True');
});

t.test('a cluster without the StaticRoute CRD (an upgrade) still gives a configuration', async (t) => {
  const s = await start({ customResources: BGP_ANNOUNCE_CRDS.filter((c) => c.plural !== 'staticroutes') });
  t.teardown(() => s.stop());
  s.create('namespaces', { metadata: { name: NS } });
  create(s, 'BGPPeer', 'tor', { myASN: 64496, peerASN: 64497, peerAddress: '192.0.2.1' });
  const warnings: string[] = [];
  const logger = {
    warn: (_o: unknown, msg?: string) => void warnings.push(msg ?? ''),
    info: () => {},
    error: () => {},
    debug: () => {},
  };
  const source = new KubeConfigSource({
    kubeConfig: loadKubeConfig({ url: s.url }).kubeConfig,
    namespace: NS,
    logger: logger as never,
  });
  const configs: AnnouncerConfig[] = [];
  source.on('config', (c) => configs.push(c));
  t.teardown(() => source.stop());
  source.start();
  await until('a configuration', () => configs.length > 0, 10_000);
  t.strictSame(
    configs[0]!.peers.map((p) => p.name),
    ['tor'],
    'the other kinds are read; no StaticRoute objects',
  );
  t.match(warnings, [/the staticroutes\.bgp-announce\.io CRD is not installed: no StaticRoute objects/]);
});
