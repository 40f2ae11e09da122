// deploy/rbac.yaml against the API calls the code really makes. The Kubernetes source of the daemon
// (kubernetesSource with a real Speaker) and the cluster reads of `bgp-announce check` run against
// the in-repo test API server, whose request log gives each call's verb, group, resource,
// subresource, namespace and name. The scenario walks every path that calls the API: the Lease taken
// and released, the configuration accepted (an Accepted condition on one object of each kind), a
// Service of our class allocated (finalizer, status, Event) with a 409 Conflict on its first update
// (so it is read again), this node's BGPNodeState created and its status updated (with a 409 that
// makes it read the object again), the leader's Announced condition and Events with a repeated Event
// (count + 1) that meets a 409 too, and the Service deleted (finalizer removed). A receiving router
// on 127.0.0.1 brings the session up. Then every call must be allowed by
// the ServiceAccount's Role and ClusterRole, and every verb they grant must have been used by some
// call (fewest verbs; EXCEPTIONS lists any granted verb the scenario cannot reach, with the reason).
import t, { type Test } from 'tap';
import pino from 'pino';
import { start, type RequestRecord, type TestApiServer } from '@bgp-announce/test-apiserver';
import { Speaker } from '@bgp-announce/bgp-speaker';
import {
  kubernetesSource,
  listServices,
  loadKubeConfig,
  readClusterConfig,
  readNodeLabels,
  type DaemonContext,
  type RouteSource,
} from '@bgp-announce/announcer';
import { readYamlFile, type YamlDoc } from './deploy-lib/yaml.js';
import { startReceiver } from '../packages/announcer/test/helpers/kube-bgp-receiver.js';
import {
  allowedBy,
  describeCall,
  describePermission,
  permissionUsed,
  permissionsOf,
  type ApiCall,
  type Grant,
  type PolicyRule,
} from './deploy-lib/rbac.js';

const ROOT = new URL('../', import.meta.url);
const NAMESPACE = 'bgp-announce';
const NODE = 'node-a';
const LB_CLASS = 'bgp-announce.io/bgp';
const GROUP = 'bgp-announce.io/v1alpha1';
const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';
const FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';

/** Granted verbs the scenario does not use, and why they are granted anyway (none so far). */
const EXCEPTIONS: { permission: RegExp; reason: string }[] = [];

/** Resolves with fn()'s value once it is neither undefined nor false; rejects after `ms`. */
async function until<T>(what: string, fn: () => T | undefined | false, ms = 15_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

type Obj = {
  metadata: {
    name: string;
    namespace?: string;
    labels?: Record<string, string>;
    finalizers?: string[];
    deletionTimestamp?: string;
  };
  status?: Record<string, unknown>;
};
type Svc = Obj & {
  status?: { loadBalancer?: { ingress?: { ip?: string }[] }; conditions?: { type: string; status: string }[] };
};
type Ev = Obj & { reason?: string; count?: number; involvedObject?: { name?: string } };
type Lease = Obj & { spec?: { holderIdentity?: string } };
type NodeState = Obj & {
  metadata: { ownerReferences?: { kind: string; name: string; uid: string }[] };
  status?: { sessionsEstablished?: number; servicesAnnounced?: number };
};
const ANNOUNCED = 'bgp-announce.io/Announced';

/** The grants of the DaemonSet's ServiceAccount, from deploy/rbac.yaml and deploy/daemonset.yaml. */
function serviceAccountGrants(t: Test): Grant[] {
  const docs: YamlDoc[] = [...readYamlFile(ROOT, 'deploy/rbac.yaml'), ...readYamlFile(ROOT, 'deploy/daemonset.yaml')];
  const of = (kind: string) => docs.map((d) => d.raw).filter((r) => r.kind === kind) as Record<string, any>[];
  const ds = of('DaemonSet')[0]!;
  const sa = { name: ds.spec.template.spec.serviceAccountName as string, namespace: ds.metadata.namespace as string };
  t.ok(
    of('ServiceAccount').some((s) => s.metadata.name === sa.name && s.metadata.namespace === sa.namespace),
    `the DaemonSet's ServiceAccount ${sa.namespace}/${sa.name} exists`,
  );
  const bindsUs = (b: Record<string, any>) =>
    (b.subjects as { kind: string; name: string; namespace?: string }[]).some(
      (s) => s.kind === 'ServiceAccount' && s.name === sa.name && s.namespace === sa.namespace,
    );
  const grants: Grant[] = [];
  for (const b of of('ClusterRoleBinding').filter(bindsUs)) {
    t.equal(b.roleRef.kind, 'ClusterRole');
    const role = of('ClusterRole').find((r) => r.metadata.name === b.roleRef.name);
    if (role) grants.push({ role: `ClusterRole ${role.metadata.name}`, rules: role.rules as PolicyRule[] });
  }
  for (const b of of('RoleBinding').filter(bindsUs)) {
    const ns = b.metadata.namespace as string;
    const role = of(b.roleRef.kind).find(
      (r) => r.metadata.name === b.roleRef.name && (b.roleRef.kind === 'ClusterRole' || r.metadata.namespace === ns),
    );
    if (role)
      grants.push({
        role: `${b.roleRef.kind} ${ns}/${role.metadata.name}`,
        namespace: ns,
        rules: role.rules as PolicyRule[],
      });
  }
  t.strictSame(
    grants.map((g) => g.role).sort(),
    [`ClusterRole bgp-announce`, `Role ${NAMESPACE}/bgp-announce`],
    'the ServiceAccount is bound to one ClusterRole and one Role in its namespace',
  );
  return grants;
}

function callOf(r: RequestRecord): ApiCall | undefined {
  if (r.verb === undefined || r.resource === undefined) return undefined;
  const call: ApiCall = { verb: r.verb, group: r.group ?? '', resource: r.resource };
  if (r.subresource !== undefined) call.subresource = r.subresource;
  if (r.namespace !== undefined) call.namespace = r.namespace;
  if (r.name !== undefined) call.name = r.name;
  // kube-apiserver authorizes a list or watch with the field selector metadata.name=X as a request
  // for the object X, so resourceNames rules cover it (the Lease watch relies on that).
  const byName = /(?:^|,)metadata\.name=([^,]+)/.exec(r.query.fieldSelector ?? '')?.[1];
  if ((r.verb === 'list' || r.verb === 'watch') && byName !== undefined) call.name = byName;
  return call;
}

/** The configuration in our namespace: one object of each kind, and a Secret the BGPPeer could name. */
function seed(server: TestApiServer, peerPort: number): void {
  try {
    server.resource('bgpnodestates');
  } catch {
    server.addCustomResource({
      group: 'bgp-announce.io',
      version: 'v1alpha1',
      plural: 'bgpnodestates',
      kind: 'BGPNodeState',
      shortNames: ['banode'],
    });
  }
  for (const name of [NAMESPACE, 'demo']) server.create('namespaces', { metadata: { name } });
  server.create('nodes', {
    metadata: { name: NODE, labels: { 'kubernetes.io/hostname': NODE } },
    status: {
      addresses: [{ type: 'InternalIP', address: '192.0.2.21' }],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  });
  server.create('secrets', {
    metadata: { name: 'tor-md5', namespace: NAMESPACE },
    type: 'kubernetes.io/basic-auth',
    data: { password: Buffer.from('not-used').toString('base64') },
  });
  const ns = { namespace: NAMESPACE };
  server.create('bfdprofiles', {
    apiVersion: GROUP,
    kind: 'BFDProfile',
    metadata: { name: 'fast', ...ns },
    spec: { receiveInterval: 300 },
  });
  // The receiving router on 127.0.0.1: the session comes up, so the Service is announced.
  server.create('bgppeers', {
    apiVersion: GROUP,
    kind: 'BGPPeer',
    metadata: { name: 'tor', ...ns },
    spec: { myASN: 64496, peerASN: 64497, peerAddress: '127.0.0.1', peerPort },
  });
  server.create('ipaddresspools', {
    apiVersion: GROUP,
    kind: 'IPAddressPool',
    metadata: { name: 'blue', ...ns },
    spec: { addresses: ['203.0.113.0/28'] },
  });
  server.create('bgpadvertisements', {
    apiVersion: GROUP,
    kind: 'BGPAdvertisement',
    metadata: { name: 'all', ...ns },
    spec: {},
  });
  server.create('staticroutes', {
    apiVersion: GROUP,
    kind: 'StaticRoute',
    metadata: { name: 'extra', ...ns },
    spec: { prefixes: ['198.51.100.200/32'] },
  });
}

t.test(
  'every API call of the daemon and of `bgp-announce check` is allowed by deploy/rbac.yaml, and every granted verb is used',
  async (t) => {
    const grants = serviceAccountGrants(t);
    const server = await start({ port: 0, bookmarkIntervalMs: 200 });
    t.teardown(() => server.stop());
    const receiver = await startReceiver(t);
    seed(server, receiver.port);
    const { kubeConfig } = loadKubeConfig({ url: server.url });

    const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.21' });
    speaker.on('error', () => {});
    t.teardown(() => speaker.stop());
    const ctx: DaemonContext = {
      nodeName: NODE,
      speaker,
      logger: pino({ level: 'silent' }),
      observeReconcile: () => {},
      setPoolUsage: () => {},
    };
    // A short Lease, so that it is renewed (updated) within the test: every 1 s.
    const source: RouteSource = kubernetesSource({
      kubeConfig,
      namespace: NAMESPACE,
      loadBalancerClass: LB_CLASS,
      leaseDurationSeconds: 3,
      nodeStateIntervalMs: 200,
      announced: { settleMs: 100, maxSettleMs: 500 },
    });
    let stopped = false;
    t.teardown(async () => {
      if (!stopped) await source.stop();
    });
    await source.start(ctx);

    // Leader election: the Lease watched by name (absent), created; then the Accepted condition on each of our objects.
    await until(
      'the Lease held by this node',
      () =>
        (server.get('leases', 'bgp-announce-allocator', NAMESPACE) as Lease | undefined)?.spec?.holderIdentity === NODE,
    );
    for (const resource of ['bfdprofiles', 'bgppeers', 'ipaddresspools', 'bgpadvertisements', 'staticroutes']) {
      await until(`the Accepted condition on the ${resource}`, () =>
        server.list(resource, NAMESPACE).every((o) => JSON.stringify((o as Obj).status ?? {}).includes('"Accepted"')),
      );
    }
    await until('the source ready', () => source.ready());

    // A Service of our class (with a ready endpoint: a Cluster Service without one is withdrawn); its
    // first update (the finalizer) meets a 409, so the writer reads it again.
    server.create('endpointslices', {
      metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['198.51.100.20'], nodeName: NODE, conditions: { ready: true } }],
    });
    server.failNext('update', 'services', 409, 'the object has been modified');
    server.create('services', {
      metadata: { name: 'web', namespace: 'demo' },
      spec: { type: 'LoadBalancer', loadBalancerClass: LB_CLASS, ports: [{ port: 80, protocol: 'TCP' }] },
    });
    const web = () => server.get('services', 'web', 'demo') as Svc | undefined;
    const vip = await until('an address on the Service', () => web()?.status?.loadBalancer?.ingress?.[0]?.ip);
    t.match(vip, /^203\.0\.113\.([0-9]|1[0-5])$/, `web got ${vip} from the pool`);
    t.ok(web()?.metadata.finalizers?.includes(FINALIZER), 'our finalizer is on the Service');
    await until('a renewal of the Lease', () =>
      server.requests().some((r) => r.resource === 'leases' && r.verb === 'update'),
    );
    // This node's BGPNodeState (created, then its status written), owned by the Node; the leader's Announced condition.
    const state = () => server.get('bgpnodestates', NODE, NAMESPACE) as NodeState | undefined;
    await until(
      'the BGPNodeState saying the session is up and web announced',
      () => state()?.status?.sessionsEstablished === 1 && state()?.status?.servicesAnnounced === 1,
    );
    t.match(
      state()?.metadata.ownerReferences,
      [{ kind: 'Node', name: NODE, uid: (server.get('nodes', NODE) as { metadata: { uid: string } }).metadata.uid }],
      'owned by the Node',
    );
    const announced = () => web()?.status?.conditions?.find((c) => c.type === ANNOUNCED);
    await until('the Announced condition on the Service', () => announced()?.status === 'True');
    const events = (reason: string) =>
      server
        .list('events', 'demo')
        .filter((e) => (e as Ev).reason === reason && (e as Ev).involvedObject?.name === 'web') as Ev[];
    await until(
      'the IPAllocated and Announced Events',
      () => events('IPAllocated').length === 1 && events('Announced').length === 1,
    );

    // The exclude label withdraws (the node's status update meets a 409, so it reads its object again:
    // NotAnnounced), its removal announces again: the same Event as the first one, so the recorder counts
    // it (update), after a 409 that makes it read the Event (get).
    server.failNext('update', 'bgpnodestates/status', 409, 'the object has been modified');
    server.patch('nodes', NODE, { metadata: { labels: { [EXCLUDE]: '' } } });
    await until('NotAnnounced', () => announced()?.status === 'False' && events('NotAnnounced').length === 1);
    server.failNext('update', 'events', 409, 'the object has been modified');
    server.patch('nodes', NODE, { metadata: { labels: { [EXCLUDE]: null } } });
    await until('the Announced Event counted twice', () => events('Announced')[0]?.count === 2).catch((err: Error) => {
      throw new Error(
        `${err.message}; events: ${JSON.stringify(server.list('events', 'demo').map((e) => [(e as Ev).reason, (e as Ev).count, (e as any).message]))}; requests: ${JSON.stringify(
          server
            .requests()
            .filter((r) => r.resource === 'events')
            .map((r) => [r.verb, r.status]),
        )}`,
      );
    });
    t.equal(events('Announced').length, 1, 'a repeat updates the Event instead of creating another');

    // `bgp-announce check` reads our objects, this node's labels and every Service.
    const checked = await readClusterConfig(kubeConfig, NAMESPACE);
    t.strictSame(checked.problems, [], 'check reads the same configuration without problems');
    t.strictSame(await readNodeLabels(kubeConfig, NODE), { 'kubernetes.io/hostname': NODE });
    t.ok((await listServices(kubeConfig)).some((s) => s.metadata?.name === 'web'));

    // Deleting the Service: the allocator releases the address and removes the finalizer.
    server.delete('services', 'web', 'demo');
    await until('the Service gone', () => web() === undefined);
    stopped = true;
    await source.stop();
    t.notOk(
      (server.get('leases', 'bgp-announce-allocator', NAMESPACE) as Lease | undefined)?.spec?.holderIdentity,
      'stop released the Lease',
    );

    const records = server.requests();
    const calls = records.map(callOf).filter((c): c is ApiCall => c !== undefined);
    const nonResource = [...new Set(records.filter((r) => r.verb === undefined).map((r) => `${r.method} ${r.path}`))];
    t.strictSame(nonResource, [], 'no discovery or other non-resource requests');
    const distinct = [
      ...new Set(
        calls.map((c) =>
          describeCall({ ...c, name: c.resource === 'leases' ? c.name : undefined, namespace: undefined }),
        ),
      ),
    ].sort();
    t.comment(`${calls.length} API calls; distinct: ${distinct.join('; ')}`);
    // What the code is known to call (so that a scenario that silently stopped exercising a path fails).
    for (const want of [
      'list services',
      'watch services',
      'get services',
      'update services',
      'update services/status',
      'list endpointslices.discovery.k8s.io',
      'watch endpointslices.discovery.k8s.io',
      'list nodes',
      'watch nodes',
      'get nodes',
      'list namespaces',
      'watch namespaces',
      'create events',
      'update events',
      'get events',
      'list secrets',
      'watch secrets',
      'list leases.coordination.k8s.io bgp-announce-allocator',
      'watch leases.coordination.k8s.io bgp-announce-allocator',
      'create leases.coordination.k8s.io',
      'update leases.coordination.k8s.io bgp-announce-allocator',
      'list bgpnodestates.bgp-announce.io',
      'watch bgpnodestates.bgp-announce.io',
      'create bgpnodestates.bgp-announce.io',
      'get bgpnodestates.bgp-announce.io',
      'update bgpnodestates.bgp-announce.io/status',
      ...['ipaddresspools', 'bgppeers', 'bgpadvertisements', 'bfdprofiles', 'staticroutes'].flatMap((p) => [
        `list ${p}.bgp-announce.io`,
        `watch ${p}.bgp-announce.io`,
        `update ${p}.bgp-announce.io/status`,
      ]),
    ]) {
      t.ok(distinct.includes(want), `the scenario calls: ${want}`);
    }

    const forbidden = [...new Set(calls.filter((c) => allowedBy(grants, c).length === 0).map(describeCall))];
    t.strictSame(forbidden, [], 'every call is allowed by the Role or the ClusterRole');

    const unused = permissionsOf(grants)
      .filter((p) => !permissionUsed(p, calls))
      .map(describePermission);
    const unexplained = unused.filter((u) => !EXCEPTIONS.some((e) => e.permission.test(u)));
    t.strictSame(unexplained, [], 'every granted verb was used by some call (fewest verbs)');
  },
);

t.test('the RBAC check itself fails on a missing or a needless verb', async (t) => {
  const grants = serviceAccountGrants(t);
  const call: ApiCall = {
    verb: 'update',
    group: '',
    resource: 'services',
    subresource: 'status',
    namespace: 'demo',
    name: 'web',
  };
  t.ok(allowedBy(grants, call).length > 0, 'status update allowed as granted');
  const without = grants.map((g) => ({
    ...g,
    rules: g.rules.filter((r) => !(r.resources ?? []).includes('services/status')),
  }));
  t.strictSame(allowedBy(without, call), [], 'without the services/status rule the same call is Forbidden');
  const lease: ApiCall = {
    verb: 'update',
    group: 'coordination.k8s.io',
    resource: 'leases',
    namespace: NAMESPACE,
    name: 'someone-else',
  };
  t.strictSame(allowedBy(grants, lease), [], 'a Lease of another name cannot be updated (resourceNames)');
  t.strictSame(
    allowedBy(grants, { ...lease, name: 'bgp-announce-allocator', namespace: 'kube-system' }),
    [],
    'the Role does not reach other namespaces',
  );
  const extra = [
    ...grants,
    { role: 'ClusterRole extra', rules: [{ apiGroups: [''], resources: ['pods'], verbs: ['delete'] }] },
  ];
  const used: ApiCall[] = [call];
  t.ok(
    permissionsOf(extra).some((p) => p.resource === 'pods' && !permissionUsed(p, used)),
    'a granted verb no call used is reported',
  );
});
