// Server-side printing, asked for with plain fetch and the Accept header kubectl sends: the
// meta.k8s.io/v1 Table of Services (kube-apiserver's printer), of custom resources (the CRD's
// printer columns), of a resource without a printer (NAME and "Created At") and of the other
// built-in kinds; includeObject, paging, a single object, watch, and the Accept negotiation.
import t, { type Test } from 'tap';
import type { TestApiServer } from '../src/index.js';
import { startServer } from './helpers.js';

/** What kubectl get sends. */
const KUBECTL_ACCEPT =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

// biome-ignore lint/suspicious/noExplicitAny: response bodies of any shape
type Json = any;

interface Column {
  name: string;
  type: string;
  format: string;
  description: string;
  priority: number;
}
interface Table {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  columnDefinitions: Column[] | null;
  rows: { cells: unknown[]; object: Record<string, Json> | null }[] | null;
}

async function fetchJson(
  server: TestApiServer,
  path: string,
  accept = KUBECTL_ACCEPT,
): Promise<{ status: number; contentType: string | null; body: Json }> {
  const res = await fetch(`${server.url}${path}`, { headers: { Accept: accept } });
  return { status: res.status, contentType: res.headers.get('content-type'), body: await res.json() };
}

async function table(server: TestApiServer, path: string, accept = KUBECTL_ACCEPT): Promise<Table> {
  const { status, body } = await fetchJson(server, path, accept);
  if (status !== 200) throw new Error(`GET ${path}: ${status} ${JSON.stringify(body)}`);
  return body as Table;
}

const cellsByName = (tbl: Table): Record<string, unknown[]> =>
  Object.fromEntries((tbl.rows ?? []).map((r) => [r.cells[0] as string, r.cells]));

/** A server whose clock the test moves. */
async function clockedServer(t: Test): Promise<{ server: TestApiServer; advance: (ms: number) => void }> {
  let now = Date.parse('2025-06-01T12:00:00Z');
  const server = await startServer(t, { now: () => new Date(now) });
  return { server, advance: (ms) => (now += ms) };
}

t.test('Services: the real printer columns and cells, EXTERNAL-IP with and without ingress', async (t) => {
  const { server, advance } = await clockedServer(t);
  const lb = (name: string, extra: Record<string, unknown> = {}) => ({
    metadata: { name },
    spec: {
      type: 'LoadBalancer',
      selector: { tier: 'front', app: name },
      ports: [
        { name: 'http', port: 80 },
        { name: 'dns', port: 53, protocol: 'UDP' },
      ],
      ...extra,
    },
  });
  server.create('services', lb('web'));
  server.patch('services', 'web', {
    status: {
      loadBalancer: {
        ingress: [
          { ip: '198.51.100.9', ipMode: 'VIP' },
          { ip: '198.51.100.10' },
          { hostname: 'web.example.net' },
          { ip: '198.51.100.9' },
        ],
      },
    },
  });
  server.create('services', lb('pending'));
  server.create('services', lb('with-external', { externalIPs: ['203.0.113.5'] }));
  server.create('services', { metadata: { name: 'np' }, spec: { type: 'NodePort', ports: [{ port: 8080 }] } });
  server.create('services', {
    metadata: { name: 'ext' },
    spec: { type: 'ExternalName', externalName: 'db.example.org' },
  });
  server.create('services', {
    metadata: { name: 'headless' },
    spec: { clusterIP: 'None', selector: { app: 'db' }, ports: [{ port: 5432 }] },
  });
  advance(5 * 60_000 + 3_000);

  const res = await fetchJson(server, '/api/v1/services');
  t.equal(res.status, 200);
  t.match(res.contentType, /^application\/json/, 'the Table is JSON');
  const tbl = res.body as Table;
  t.equal(tbl.kind, 'Table');
  t.equal(tbl.apiVersion, 'meta.k8s.io/v1');
  t.same(
    tbl.metadata,
    { resourceVersion: server.resourceVersion() },
    'the list resourceVersion, nothing else when not paged',
  );
  t.same(
    tbl.columnDefinitions?.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Type', 'string', '', 0],
      ['Cluster-IP', 'string', '', 0],
      ['External-IP', 'string', '', 0],
      ['Port(s)', 'string', '', 0],
      ['Age', 'string', '', 0],
      ['Selector', 'string', '', 1],
    ],
  );
  t.match(tbl.columnDefinitions?.[0]?.description, /^Name must be unique within a namespace/);
  t.match(tbl.columnDefinitions?.[5]?.description, /^CreationTimestamp is a timestamp/);
  t.match(tbl.columnDefinitions?.[3]?.description, /^externalIPs is a list of IP addresses/);

  const rows = cellsByName(tbl);
  t.same(
    Object.keys(rows),
    ['ext', 'headless', 'kubernetes', 'np', 'pending', 'web', 'with-external'],
    'in list order (namespace, name)',
  );
  t.same(
    rows.web,
    [
      'web',
      'LoadBalancer',
      '192.0.2.2',
      '198.51.100.10,198.51.100.9,web.example.net',
      '80:30000/TCP,53:30001/UDP',
      '5m3s',
      'app=web,tier=front',
    ],
    'ingress IPs (else hostnames), de-duplicated and sorted',
  );
  t.same(
    rows.pending,
    [
      'pending',
      'LoadBalancer',
      '192.0.2.3',
      '<pending>',
      '80:30002/TCP,53:30003/UDP',
      '5m3s',
      'app=pending,tier=front',
    ],
    'LoadBalancer without ingress',
  );
  t.equal(rows['with-external']?.[3], '203.0.113.5', 'no ingress yet: only the external IPs');
  t.same(rows.np?.slice(1, 5), ['NodePort', '192.0.2.5', '<none>', '8080:30006/TCP']);
  t.same(
    rows.ext?.slice(1, 5),
    ['ExternalName', '<none>', 'db.example.org', '<none>'],
    'no cluster IP, the external name, no ports',
  );
  t.same(rows.headless?.slice(1, 5), ['ClusterIP', 'None', '<none>', '5432/TCP']);
  t.same(rows.kubernetes, ['kubernetes', 'ClusterIP', '192.0.2.1', '<none>', '443/TCP', '5m3s', '<none>']);

  const web = tbl.rows?.find((r) => r.cells[0] === 'web');
  t.same(Object.keys(web ?? {}), ['cells', 'object']);
  t.match(web?.object, {
    kind: 'PartialObjectMetadata',
    apiVersion: 'meta.k8s.io/v1',
    metadata: { name: 'web', namespace: 'default', uid: server.get('services', 'web')?.metadata.uid },
  });
  t.notOk(web?.object?.spec, 'includeObject defaults to Metadata: no spec');

  advance(3 * 3600_000);
  t.equal(
    cellsByName(await table(server, '/api/v1/namespaces/default/services')).web?.[5],
    '3h5m',
    'the age is computed at request time',
  );
});

t.test('Services: includeObject, a single object, paging, v1beta1, plain JSON', async (t) => {
  const server = await startServer(t);
  server.create('services', { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
  server.patch('services', 'web', { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } } });

  const none = await table(server, '/api/v1/namespaces/default/services?includeObject=None');
  t.same(
    none.rows?.map((r) => r.object),
    [null, null],
    'None: "object": null',
  );
  const full = await table(server, '/api/v1/namespaces/default/services?includeObject=Object');
  t.match(full.rows?.[1]?.object, {
    kind: 'Service',
    apiVersion: 'v1',
    metadata: { name: 'web' },
    spec: { type: 'LoadBalancer' },
    status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } },
  });
  const bad = await fetchJson(server, '/api/v1/namespaces/default/services?includeObject=Everything');
  t.match(bad, {
    status: 400,
    body: { kind: 'Status', reason: 'BadRequest', message: 'unrecognized includeObject value: "Everything"' },
  });

  const one = await table(server, '/api/v1/namespaces/default/services/web');
  t.equal(one.rows?.length, 1);
  t.equal(one.rows?.[0]?.cells[3], '198.51.100.7');
  t.same(
    one.metadata,
    { resourceVersion: server.get('services', 'web')?.metadata.resourceVersion },
    "a single object's Table carries its resourceVersion",
  );
  t.equal(one.columnDefinitions?.length, 7);

  const page = await table(server, '/api/v1/services?limit=1');
  t.equal(page.rows?.length, 1);
  t.equal(page.metadata.remainingItemCount, 1);
  t.type(page.metadata.continue, 'string', 'a paged list carries continue');
  const next = await table(
    server,
    `/api/v1/services?limit=1&continue=${encodeURIComponent(page.metadata.continue as string)}`,
  );
  t.same(
    next.rows?.map((r) => r.cells[0]),
    ['web'],
  );
  t.equal(next.metadata.continue, undefined);

  const beta = await table(
    server,
    '/api/v1/services',
    'application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json',
  );
  t.equal(beta.apiVersion, 'meta.k8s.io/v1beta1');
  t.equal(beta.rows?.[0]?.object?.apiVersion, 'meta.k8s.io/v1beta1');

  const plain = await fetchJson(server, '/api/v1/namespaces/default/services', 'application/json');
  t.equal(plain.body.kind, 'ServiceList', 'without as=Table: the list as before');
  const errors = await fetchJson(server, '/api/v1/namespaces/default/services/nope');
  t.match(errors, { status: 404, body: { kind: 'Status', reason: 'NotFound' } }, 'errors stay metav1.Status');
});

t.test('custom resources: the CRD printer columns (filters, types, priorities, ages)', async (t) => {
  const { server, advance } = await clockedServer(t);
  server.create('bgppeers', {
    metadata: { name: 'tor-a' },
    spec: { peerAddress: '192.0.2.254', peerASN: 65000, myASN: 64512, holdTime: '90s', ebgpMultiHop: true },
  });
  server.patch('bgppeers', 'tor-a', {
    status: {
      conditions: [
        { type: 'Ready', status: 'False', message: 'not this one' },
        { type: 'Accepted', status: 'True', message: 'valid' },
      ],
    },
  });
  advance(120_000);
  server.create('bgppeers', { metadata: { name: 'tor-b' }, spec: { peerAddress: 'fd00::1', peerASN: '65001' } });
  advance(60_000);

  const tbl = await table(server, '/apis/bgp-announce.io/v1alpha1/namespaces/default/bgppeers');
  t.same(
    tbl.columnDefinitions?.map((c) => `${c.name}:${c.type}:${c.priority}`),
    [
      'Name:string:0',
      'Address:string:0',
      'Peer ASN:integer:0',
      'My ASN:integer:0',
      'BFD Profile:string:0',
      'Mode:string:0',
      'Accepted:string:0',
      'Hold Time:string:1',
      'Source:string:1',
      'Multi Hop:boolean:1',
      'Problem:string:1',
      'Age:date:0',
    ],
    'NAME, then the columns in CRD order with their priorities',
  );
  t.equal(tbl.columnDefinitions?.[0]?.format, 'name');
  t.equal(
    tbl.columnDefinitions?.[1]?.description,
    'Custom resource definition column (in JSONPath format): .spec.peerAddress',
  );
  const rows = cellsByName(tbl);
  t.same(rows['tor-a'], ['tor-a', '192.0.2.254', 65000, 64512, null, null, 'True', '90s', null, true, 'valid', '3m']);
  t.same(
    rows['tor-b'],
    ['tor-b', 'fd00::1', null, null, null, null, null, null, null, null, null, '60s'],
    'missing fields and a string in an integer column are null',
  );
  t.match(tbl.rows?.[0]?.object, { kind: 'PartialObjectMetadata', metadata: { name: 'tor-a' } });
  t.equal(tbl.metadata.resourceVersion, server.resourceVersion());

  server.create('bgpadvertisements', {
    metadata: { name: 'adv' },
    spec: { ipAddressPools: ['pool-a', 'pool-b'], aggregationLength: 32, communities: ['<none>&'] },
  });
  const adv = cellsByName(await table(server, '/apis/bgp-announce.io/v1alpha1/bgpadvertisements'));
  t.same(
    adv.adv?.slice(0, 4),
    ['adv', '["pool-a","pool-b"]', null, 32],
    'a list in a string column is printed as JSON',
  );
  t.equal(adv.adv?.[5], '["\\u003cnone\\u003e\\u0026"]', "as Go's json.Marshal escapes it");

  const one = await table(
    server,
    '/apis/bgp-announce.io/v1alpha1/namespaces/default/bgppeers/tor-b?includeObject=Object',
  );
  t.match(one.rows?.[0]?.object, {
    apiVersion: 'bgp-announce.io/v1alpha1',
    kind: 'BGPPeer',
    spec: { peerAddress: 'fd00::1' },
  });
});

t.test('custom resources without printer columns: NAME and AGE; a bad column is refused at registration', async (t) => {
  const { server, advance } = await clockedServer(t);
  server.addCustomResource({
    group: 'example.com',
    version: 'v1',
    plural: 'widgets',
    kind: 'Widget',
    namespaced: false,
  });
  server.create('widgets', { metadata: { name: 'w1' } });
  advance(10 * 24 * 3600_000);
  const tbl = await table(server, '/apis/example.com/v1/widgets');
  t.same(
    tbl.columnDefinitions?.map((c) => [c.name, c.type, c.format]),
    [
      ['Name', 'string', 'name'],
      ['Age', 'date', ''],
    ],
  );
  t.match(tbl.columnDefinitions?.[1]?.description, /^CreationTimestamp is a timestamp/);
  t.same(tbl.rows?.[0]?.cells, ['w1', '10d'], 'the date cell is an age computed on the server');

  const empty = await table(server, '/apis/bgp-announce.io/v1alpha1/namespaces/default/ipaddresspools');
  t.same(empty.rows, [], 'an empty list of custom resources has rows: []');

  t.throws(
    () =>
      server.addCustomResource({
        group: 'example.com',
        version: 'v1',
        plural: 'gadgets',
        kind: 'Gadget',
        additionalPrinterColumns: [{ name: 'X', type: 'string', jsonPath: 'spec.x' }],
      }),
    /jsonPath: .*must be a simple json path starting with \./,
  );
  t.throws(
    () =>
      server.addCustomResource({
        group: 'example.com',
        version: 'v1',
        plural: 'gadgets',
        kind: 'Gadget',
        additionalPrinterColumns: [{ name: 'X', type: 'object' as 'string', jsonPath: '.spec.x' }],
      }),
    /type: Unsupported value: "object"/,
  );
});

t.test('resources without a printer here (Pods): NAME and "Created At" (the default table convertor)', async (t) => {
  const { server, advance } = await clockedServer(t);
  server.create('pods', {
    metadata: { name: 'speaker-x7k2p' },
    spec: { containers: [{ name: 'speaker', image: 'bgp-announce:dev' }] },
  });
  advance(3600_000);
  const tbl = await table(server, '/api/v1/namespaces/default/pods');
  t.same(
    tbl.columnDefinitions?.map((c) => [c.name, c.type, c.format, c.priority]),
    [
      ['Name', 'string', 'name', 0],
      ['Created At', 'date', '', 0],
    ],
  );
  t.same(tbl.rows?.[0]?.cells, ['speaker-x7k2p', '2025-06-01T12:00:00Z'], 'the creation time as RFC 3339, not an age');
  t.match(tbl.rows?.[0]?.object, { kind: 'PartialObjectMetadata', metadata: { name: 'speaker-x7k2p' } });
  const empty = await table(server, '/api/v1/namespaces/kube-system/pods');
  t.equal(empty.rows, null, 'the default convertor leaves rows null for an empty list');
  t.equal(empty.columnDefinitions?.length, 2);
  const events = await table(server, '/apis/events.k8s.io/v1/events');
  t.same(
    events.columnDefinitions?.map((c) => c.name),
    ['Name', 'Created At'],
  );
});

t.test('the other built-in printers: Namespaces, Nodes, Secrets, ConfigMaps, Leases, EndpointSlices', async (t) => {
  const { server, advance } = await clockedServer(t);
  server.create('nodes', {
    metadata: { name: 'cp-1', labels: { 'node-role.kubernetes.io/control-plane': '', 'kubernetes.io/role': 'master' } },
    spec: { unschedulable: true },
    status: {
      conditions: [{ type: 'Ready', status: 'True' }],
      addresses: [
        { type: 'Hostname', address: 'cp-1' },
        { type: 'InternalIP', address: '10.0.0.11' },
      ],
      nodeInfo: {
        kubeletVersion: 'v1.32.4',
        osImage: 'Talos (v1.10.0)',
        kernelVersion: '6.12.25-talos',
        containerRuntimeVersion: 'containerd://2.0.5',
      },
    },
  });
  server.create('nodes', {
    metadata: { name: 'worker-1' },
    status: { conditions: [{ type: 'Ready', status: 'Unknown' }] },
  });
  server.create('nodes', { metadata: { name: 'worker-2' } });
  server.create('secrets', { metadata: { name: 'md5' }, stringData: { password: 'x', user: 'y' } });
  server.create('configmaps', { metadata: { name: 'settings' }, data: { a: '1' }, binaryData: { b: 'AA==' } });
  server.create('leases', {
    metadata: { name: 'bgp-announce-leader', namespace: 'kube-system' },
    spec: { holderIdentity: 'node-a' },
  });
  server.create('endpointslices', {
    metadata: { name: 'web-abc12' },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 80 }, { name: 'named' }, { port: 443 }, { port: 8443 }],
    endpoints: [{ addresses: ['10.1.0.5'] }, { addresses: ['10.1.0.6', '10.1.0.7'] }, { addresses: ['10.1.0.8'] }],
  });
  server.create('endpointslices', { metadata: { name: 'empty' }, addressType: 'IPv6' });
  advance(90_000);

  const nodes = await table(server, '/api/v1/nodes');
  t.same(
    nodes.columnDefinitions?.map((c) => `${c.name}:${c.priority}`),
    [
      'Name:0',
      'Status:0',
      'Roles:0',
      'Age:0',
      'Version:0',
      'Internal-IP:1',
      'External-IP:1',
      'OS-Image:1',
      'Kernel-Version:1',
      'Container-Runtime:1',
    ],
  );
  const n = cellsByName(nodes);
  t.same(n['cp-1'], [
    'cp-1',
    'Ready,SchedulingDisabled',
    'control-plane,master',
    '90s',
    'v1.32.4',
    '10.0.0.11',
    '<none>',
    'Talos (v1.10.0)',
    '6.12.25-talos',
    'containerd://2.0.5',
  ]);
  t.same(n['worker-1']?.slice(0, 3), ['worker-1', 'NotReady', '<none>']);
  t.same(n['worker-2'], [
    'worker-2',
    'Unknown',
    '<none>',
    '90s',
    '',
    '<none>',
    '<none>',
    '<unknown>',
    '<unknown>',
    '<unknown>',
  ]);

  const ns = await table(server, '/api/v1/namespaces');
  t.same(
    ns.columnDefinitions?.map((c) => c.name),
    ['Name', 'Status', 'Age'],
  );
  t.same(cellsByName(ns)['kube-system'], ['kube-system', 'Active', '90s']);
  const secrets = await table(server, '/api/v1/namespaces/default/secrets');
  t.same(
    secrets.columnDefinitions?.map((c) => c.name),
    ['Name', 'Type', 'Data', 'Age'],
  );
  t.same(secrets.rows?.[0]?.cells, ['md5', 'Opaque', 2, '90s'], 'Data is a count');
  const cms = await table(server, '/api/v1/namespaces/default/configmaps');
  t.same(
    cms.columnDefinitions?.map((c) => c.name),
    ['Name', 'Data', 'Age'],
  );
  t.same(cms.rows?.[0]?.cells, ['settings', 2, '90s'], 'data and binaryData keys');
  const leases = await table(server, '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases');
  t.same(
    leases.columnDefinitions?.map((c) => c.name),
    ['Name', 'Holder', 'Age'],
  );
  t.same(leases.rows?.[0]?.cells, ['bgp-announce-leader', 'node-a', '90s']);
  const slices = await table(server, '/apis/discovery.k8s.io/v1/namespaces/default/endpointslices');
  t.same(
    slices.columnDefinitions?.map((c) => c.name),
    ['Name', 'AddressType', 'Ports', 'Endpoints', 'Age'],
  );
  const s = cellsByName(slices);
  t.same(s['web-abc12'], [
    'web-abc12',
    'IPv4',
    '80,named,443 + 1 more...',
    '10.1.0.5,10.1.0.6,10.1.0.7 + 1 more...',
    '90s',
  ]);
  t.same(s.empty, ['empty', 'IPv6', '<unset>', '<unset>', '90s']);
});

t.test('Accept negotiation: Table only as meta.k8s.io, PartialObjectMetadata, 406', async (t) => {
  const server = await startServer(t);
  const noGroup = await fetchJson(server, '/api/v1/namespaces/default/services', 'application/json;as=Table');
  t.match(
    noGroup,
    { status: 406, body: { kind: 'Status', reason: 'NotAcceptable', code: 406 } },
    'as=Table without g and v is not acceptable',
  );
  t.match(noGroup.body.message, /^only the following media types are accepted: application\/json/);
  const fallback = await fetchJson(
    server,
    '/api/v1/namespaces/default/services',
    'application/json;as=Table, application/json',
  );
  t.equal(fallback.body.kind, 'ServiceList', 'a clause the server cannot serve is skipped');
  const quality = await fetchJson(
    server,
    '/api/v1/namespaces/default/services',
    'application/json;q=0.5, application/json;as=Table;g=meta.k8s.io;v=v1',
  );
  t.equal(quality.body.kind, 'Table', 'clauses are taken in order of q');
  const html = await fetchJson(server, '/api/v1/namespaces/default/services', 'text/html');
  t.equal(html.status, 406);

  const pom = await fetchJson(
    server,
    '/api/v1/namespaces/default/services/kubernetes',
    'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
  );
  t.same(Object.keys(pom.body), ['kind', 'apiVersion', 'metadata']);
  t.match(pom.body, { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: { name: 'kubernetes' } });
  const pomList = await fetchJson(
    server,
    '/api/v1/namespaces/default/services',
    'application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1',
  );
  t.match(pomList.body, {
    kind: 'PartialObjectMetadataList',
    metadata: { resourceVersion: server.resourceVersion() },
    items: [{ kind: 'PartialObjectMetadata', metadata: { name: 'kubernetes' } }],
  });
  const mismatch = await fetchJson(
    server,
    '/api/v1/namespaces/default/services',
    'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1',
  );
  t.match(mismatch, {
    status: 406,
    body: { message: /you requested PartialObjectMetadata, but the requested object is a list/ },
  });

  t.match(
    server.requests().at(-1),
    { accept: 'application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1' },
    'the request log keeps the Accept header',
  );
});

t.test('watch with as=Table: one-row Tables, column definitions only in the first event', async (t) => {
  const server = await startServer(t);
  const ac = new AbortController();
  t.teardown(() => ac.abort());
  const res = await fetch(`${server.url}/api/v1/namespaces/default/services?watch=true`, {
    headers: { Accept: KUBECTL_ACCEPT },
    signal: ac.signal,
  });
  t.equal(res.status, 200);
  const reader = (res.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffered = '';
  const nextEvent = async (): Promise<{ type: string; object: Table }> => {
    for (;;) {
      const nl = buffered.indexOf('\n');
      if (nl >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        return JSON.parse(line) as { type: string; object: Table };
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('the watch ended');
      buffered += decoder.decode(value, { stream: true });
    }
  };
  const first = await nextEvent();
  t.equal(first.type, 'ADDED');
  t.equal(first.object.kind, 'Table');
  t.equal(first.object.columnDefinitions?.length, 7, 'the first event carries the columns');
  t.same(
    first.object.rows?.map((r) => r.cells[0]),
    ['kubernetes'],
  );
  // The initial event has arrived, so the watch is subscribed: later writes reach it.
  server.create('services', { metadata: { name: 'web' }, spec: { type: 'LoadBalancer', ports: [{ port: 80 }] } });
  const added = await nextEvent();
  t.equal(added.type, 'ADDED');
  t.equal(added.object.columnDefinitions, null, 'later events leave the columns out');
  t.same(added.object.rows?.[0]?.cells.slice(0, 4), ['web', 'LoadBalancer', '192.0.2.2', '<pending>']);
  t.equal(added.object.metadata.resourceVersion, server.get('services', 'web')?.metadata.resourceVersion);
  server.patch('services', 'web', { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7' }] } } });
  const modified = await nextEvent();
  t.equal(modified.type, 'MODIFIED');
  t.equal(modified.object.rows?.[0]?.cells[3], '198.51.100.7');
});
