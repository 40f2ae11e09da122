// The pieces of server-side printing on their own: the JSONPath subset of CRD printer columns (as
// client-go's jsonpath with AllowMissingKeys), ages as apimachinery's HumanDuration, the Service
// cells, and that BGP_ANNOUNCE_CRDS carries the printer columns of deploy/crds/*.yaml.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { loadAllYaml } from '@kubernetes/client-node';
import { BGP_ANNOUNCE_CRDS } from '../src/index.js';
import { ageOf, humanDuration } from '../src/duration.js';
import { compileJsonPath, findResults } from '../src/jsonpath.js';
import { formatLabels, serviceExternalIP, servicePorts } from '../src/printer-service.js';

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML of any shape
type Json = any;

const obj = {
  metadata: { name: 'a', labels: { 'app.kubernetes.io/name': 'x' } },
  spec: { list: ['p', 'q', 'r'], n: 3, nested: { deep: 'yes' }, empty: null, maps: [{ k: 1 }, { k: 2 }] },
  status: {
    conditions: [
      { type: 'Ready', status: 'False', count: 1 },
      { type: 'Accepted', status: 'True', message: 'fine', count: 5 },
      { type: 'Accepted', status: 'Unknown' },
    ],
  },
};
const find = (path: string): unknown[] => findResults(compileJsonPath(path), obj);

t.test('JSONPath: fields, indexes, slices, wildcards, quoted keys', async (t) => {
  t.same(find('.spec.nested.deep'), ['yes']);
  t.same(find('.spec.n'), [3]);
  t.same(find('.spec.missing.deeper'), [], 'missing keys select nothing');
  t.same(find('.spec.empty'), [null], 'a null value is selected');
  t.same(find('.spec.empty.x'), [], 'nothing under null');
  t.same(find('.spec.n.x'), [], 'a field of a scalar selects nothing');
  t.same(find('.spec.list'), [['p', 'q', 'r']]);
  t.same(find('.spec.list[0]'), ['p']);
  t.same(find('.spec.list[-1]'), ['r']);
  t.same(find('.spec.list[1:]'), ['q', 'r']);
  t.same(find('.spec.list[0:3:2]'), ['p', 'r']);
  t.same(find('.spec.list[*]'), ['p', 'q', 'r']);
  t.same(find('.spec.maps[*].k'), [1, 2]);
  t.same(find('.spec.nested.*'), ['yes']);
  t.same(find(".metadata.labels['app.kubernetes.io/name']"), ['x']);
  t.same(find('.metadata.labels["app.kubernetes.io/name"]'), ['x']);
  t.throws(() => find('.spec.list[5]'), { name: 'JsonPathError' }, 'out of bounds is an error (a null cell)');
  t.throws(() => find('.spec.n[0]'), { name: 'JsonPathError' }, 'indexing a scalar is an error');
});

t.test('JSONPath: filters', async (t) => {
  t.same(
    find('.status.conditions[?(@.type=="Accepted")].status'),
    ['True', 'Unknown'],
    'every match (a column takes the first)',
  );
  t.same(find(".status.conditions[?(@.type=='Ready')].status"), ['False']);
  t.same(find('.status.conditions[?(@.type!="Accepted")].status'), ['False']);
  t.same(find('.status.conditions[?(@.count>2)].message'), ['fine'], 'elements without the key are skipped');
  t.same(find('.status.conditions[?(@.count<=1)].type'), ['Ready']);
  t.same(find('.status.conditions[?(@.message)].type'), ['Accepted'], 'existence');
  t.same(find('.status.conditions[?(@.type=="Gone")].status'), []);
  t.same(find('.spec.missing[?(@.type=="x")]'), [], 'filtering nothing is nothing');
  t.throws(() => find('.spec.nested[?(@.deep=="yes")]'), { name: 'JsonPathError' }, 'only arrays can be filtered');
  t.throws(
    () => find('.status.conditions[?(@.count=="5")].type'),
    { name: 'JsonPathError' },
    'a number compared with a string is an error',
  );
});

t.test('JSONPath: what compiling refuses', async (t) => {
  t.throws(() => compileJsonPath('spec.x'), /must be a simple json path starting with \./);
  t.throws(() => compileJsonPath('..spec'), /recursive descent/);
  t.throws(() => compileJsonPath('.spec.list[a]'), /is not an integer/);
  t.throws(() => compileJsonPath('.spec.list[0'), /unterminated/);
  t.throws(() => compileJsonPath('.status.conditions[?(@.type=="x"]'), /expected "\)"/);
  t.throws(() => compileJsonPath('.status.conditions[?(@.type==x)]'), /unsupported filter operand "x"/);
  t.same(findResults(compileJsonPath('.'), { a: 1 }), [{ a: 1 }], '"." is the object itself');
});

t.test('ages as HumanDuration', async (t) => {
  const s = 1000;
  const m = 60 * s;
  const h = 60 * m;
  const d = 24 * h;
  const cases: [number, string][] = [
    [-3 * s, '<invalid>'],
    [-1500, '0s'],
    [0, '0s'],
    [1 * s, '1s'],
    [70 * s, '70s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [190 * s, '3m10s'],
    [5 * m, '5m'],
    [70 * m, '70m'],
    [3 * h, '3h'],
    [3 * h + 30 * m, '3h30m'],
    [8 * h + 59 * m, '8h'],
    [47 * h, '47h'],
    [49 * h, '2d1h'],
    [3 * d, '3d'],
    [8 * d + 2 * h, '8d'],
    [367 * d, '367d'],
    [365 * 2 * d + 25 * h, '2y1d'],
    [365 * 8 * d + 2 * h, '8y'],
  ];
  for (const [ms, want] of cases) t.equal(humanDuration(ms), want, `${ms} ms`);
  const now = new Date('2025-06-01T12:00:00Z');
  t.equal(ageOf('2025-06-01T11:55:00Z', now), '5m');
  t.equal(ageOf('2025-06-01T13:55:00+02:00', now), '5m', 'any RFC 3339 offset');
  t.equal(ageOf(undefined, now), '<unknown>');
  t.equal(ageOf('', now), '<unknown>');
  t.equal(ageOf('yesterday', now), '<invalid>');
});

t.test('Service cells', async (t) => {
  t.equal(serviceExternalIP({ spec: { type: 'LoadBalancer' }, status: { loadBalancer: {} } }), '<pending>');
  t.equal(
    serviceExternalIP({
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: '10.0.0.2' }, { ip: '10.0.0.10' }] } },
    }),
    '10.0.0.10,10.0.0.2',
    'sorted as strings, as Go does',
  );
  t.equal(
    serviceExternalIP({
      spec: { type: 'LoadBalancer', externalIPs: ['192.0.2.9'] },
      status: { loadBalancer: { ingress: [{ hostname: 'lb.example' }] } },
    }),
    'lb.example,192.0.2.9',
  );
  t.equal(
    serviceExternalIP({ spec: { type: 'ClusterIP', externalIPs: ['192.0.2.9', '192.0.2.8'] } }),
    '192.0.2.9,192.0.2.8',
    'external IPs in their order',
  );
  t.equal(serviceExternalIP({ spec: {} }), '<unknown>');
  t.equal(
    servicePorts({
      spec: {
        ports: [
          { port: 80, nodePort: 31234, protocol: 'TCP' },
          { port: 443, protocol: 'TCP' },
        ],
      },
    }),
    '80:31234/TCP,443/TCP',
  );
  t.equal(servicePorts({ spec: {} }), '<none>');
  t.equal(formatLabels({ b: '2', a: '1' }), 'a=1,b=2');
  t.equal(formatLabels({}), '<none>');
});

t.test('BGP_ANNOUNCE_CRDS match deploy/crds/*.yaml (names, short names, printer columns)', async (t) => {
  const dir = join(dirname(fileURLToPath(import.meta.url)), '../../../deploy/crds');
  const manifests = readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .flatMap((f) => loadAllYaml(readFileSync(join(dir, f), 'utf8')) as Json[])
    .filter((o) => o?.kind === 'CustomResourceDefinition');
  const norm = (cols: readonly Json[] | undefined) =>
    (cols ?? []).map((c) => ({
      name: c.name,
      type: c.type,
      jsonPath: c.jsonPath,
      priority: c.priority ?? 0,
      description: c.description ?? '',
      format: c.format ?? '',
    }));
  for (const ours of BGP_ANNOUNCE_CRDS) {
    const crd = manifests.find((m) => m.spec.group === ours.group && m.spec.names.plural === ours.plural);
    t.ok(crd, `deploy/crds has ${ours.plural}.${ours.group}`);
    if (!crd) continue;
    const served = (crd.spec.versions as Json[]).find((v) => v.name === ours.version);
    t.ok(served?.served, `${crd.metadata.name} serves ${ours.version}`);
    t.equal(ours.kind, crd.spec.names.kind, `${crd.metadata.name} kind`);
    t.same(ours.shortNames ?? [], crd.spec.names.shortNames ?? [], `${crd.metadata.name} short names`);
    t.equal(ours.namespaced ?? true, crd.spec.scope === 'Namespaced', `${crd.metadata.name} scope`);
    t.same(
      norm(ours.additionalPrinterColumns),
      norm(served?.additionalPrinterColumns),
      `${crd.metadata.name} printer columns`,
    );
  }
  const unregistered = manifests.filter(
    (m) => !BGP_ANNOUNCE_CRDS.some((d) => d.plural === m.spec.names.plural && d.group === m.spec.group),
  );
  if (unregistered.length > 0)
    t.comment(`not served by default: ${unregistered.map((m) => m.metadata.name).join(', ')}`);
});
