// The CRDs in deploy/crds against the examples people copy: deploy/examples/*.yaml and the YAML blocks
// of the READMEs (README.md, packages/*/README.md, deploy/**/*.md) that hold our kinds. Each object is
// checked by the CRD's OpenAPI schema (deploy-lib/openapi.ts: the subset of OpenAPI the CRDs use,
// with the API server's rules; CEL rules are not evaluated) and by the daemon's own validateConfig;
// a table of broken objects must be rejected by both. Rows whose fault only a CEL rule catches in the
// cluster are rejected by validateConfig, and the test checks that the CRD has that rule.
// BGPNodeState is status only (no configuration): the objects the daemon really builds, a full one and
// one for 10,000 Services, must pass its schema and stay small; broken ones must not.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import {
  buildNodeStatus,
  nodeStateObject,
  validateConfig,
  type KubeObject,
  type NodeStateStatus,
} from '@bgp-announce/announcer';
import type { PeerStatus } from '@bgp-announce/bgp-speaker';
import {
  SUPPORTED_FORMATS,
  SUPPORTED_KEYWORDS,
  invalidDefaults,
  keywordsUsed,
  validate,
  type Schema,
} from './deploy-lib/openapi.js';
import { parseYamlText, readYamlFile } from './deploy-lib/yaml.js';
import { documentationExamples, yamlBlocks, type DocBlock } from './deploy-lib/docs.js';

const ROOT = new URL('../', import.meta.url);
const API_VERSION = 'bgp-announce.io/v1alpha1';

interface Crd {
  spec: {
    group: string;
    scope: string;
    names: { kind: string; plural: string };
    versions: { name: string; served: boolean; storage: boolean; schema: { openAPIV3Schema: Schema } }[];
  };
}
const crds = new Map<string, Crd>();
for (const file of readdirSync(new URL('deploy/crds/', ROOT))) {
  for (const doc of readYamlFile(ROOT, `deploy/crds/${file}`)) {
    const crd = doc.raw as unknown as Crd;
    crds.set(crd.spec.names.kind, crd);
  }
}

/** Schema errors of one object: its apiVersion must be served, its kind ours, its body valid. */
export function schemaErrors(object: KubeObject): string[] {
  const crd = crds.get(String(object.kind));
  if (crd === undefined) return [`kind ${JSON.stringify(object.kind)}: no CRD`];
  const version = crd.spec.versions.find((v) => `${crd.spec.group}/${v.name}` === object.apiVersion && v.served);
  if (version === undefined) return [`apiVersion ${JSON.stringify(object.apiVersion)}: not served by the CRD`];
  return validate(version.schema.openAPIV3Schema, object);
}

/** Kinds that are reports, not configuration: checked by their schema only. */
const STATUS_KINDS = new Set(['BGPNodeState']);
const problemsOf = (objects: KubeObject[]): string[] =>
  validateConfig(objects.filter((o) => !STATUS_KINDS.has(String(o.kind)))).problems.map(
    (p) => `${p.kind} ${p.name}: ${p.field}: ${p.message}`,
  );

t.test('the CRDs: our group and version, a schema in the subset the validator knows, valid defaults', async (t) => {
  t.strictSame([...crds.keys()].sort(), [
    'BFDProfile',
    'BGPAdvertisement',
    'BGPNodeState',
    'BGPPeer',
    'IPAddressPool',
    'StaticRoute',
  ]);
  for (const [kind, crd] of crds) {
    t.equal(`${crd.spec.group}/${crd.spec.versions[0]!.name}`, API_VERSION, `${kind}: ${API_VERSION}`);
    t.equal(crd.spec.scope, 'Namespaced');
    t.ok(crd.spec.versions[0]!.served && crd.spec.versions[0]!.storage, 'served and stored');
    const schema = crd.spec.versions[0]!.schema.openAPIV3Schema;
    const { keywords, formats } = keywordsUsed(schema);
    t.strictSame(
      [...keywords.keys()].filter((k) => !SUPPORTED_KEYWORDS.has(k)),
      [],
      `${kind}: every schema keyword is one the validator checks`,
    );
    t.strictSame(
      [...formats.keys()].filter((f) => !SUPPORTED_FORMATS.has(f)),
      [],
      `${kind}: every format is one the validator checks`,
    );
    t.strictSame(invalidDefaults(schema), [], `${kind}: every default is valid against its own schema`);
  }
  const fake: Schema = { type: 'object', properties: { a: { type: 'string', oneOf: [] } as Schema } };
  t.strictSame(
    [...keywordsUsed(fake).keywords.keys()].filter((k) => !SUPPORTED_KEYWORDS.has(k)),
    ['oneOf'],
    'a keyword the validator does not know is found',
  );
});

t.test('deploy/examples: every object is accepted by its CRD schema and by validateConfig', async (t) => {
  for (const file of ['deploy/examples/config.yaml', 'deploy/examples/kubernetes.yaml']) {
    const objects = readYamlFile(ROOT, file).map((d) => d.raw as KubeObject);
    t.ok(objects.length >= 6, `${file}: ${objects.length} objects`);
    for (const o of objects) {
      t.strictSame(schemaErrors(o), [], `${file}: ${o.kind} ${o.metadata?.name}`);
    }
    t.strictSame(problemsOf(objects), [], `${file}: validateConfig accepts the whole file`);
  }
  const cluster = readYamlFile(ROOT, 'deploy/examples/kubernetes.yaml').map((d) => d.raw as KubeObject);
  t.ok(
    cluster.every((o) => (o.metadata as { namespace?: string }).namespace === 'bgp-announce'),
    'the cluster example lives in the namespace the DaemonSet reads',
  );
});

/** validateConfig on one block; references to objects that another block of the same file defines are fine. */
function blockProblems(block: DocBlock, sameFile: DocBlock[]): string[] {
  const objects = block.docs.map((d) => d.raw as KubeObject).filter((o) => !STATUS_KINDS.has(String(o.kind)));
  if (objects.length === 0) return [];
  const elsewhere = new Set(
    sameFile
      .filter((b) => b !== block)
      .flatMap((b) =>
        b.docs.map((d) => `${d.raw.kind} ${JSON.stringify((d.raw.metadata as { name?: string })?.name)}`),
      ),
  );
  return validateConfig(objects)
    .problems.filter((p) => {
      const ref = /refers to (\w+) ("[^"]*"), which does not exist/.exec(p.message);
      return !(ref && elsewhere.has(`${ref[1]} ${ref[2]}`));
    })
    .map((p) => `${p.kind} ${p.name}: ${p.field}: ${p.message}`);
}

t.test('the YAML examples in the documentation are accepted by the CRD schemas and by validateConfig', async (t) => {
  const blocks = documentationExamples(ROOT);
  t.comment(
    `${blocks.length} YAML blocks with our kinds in: ${[...new Set(blocks.map((b) => b.origin.split(' line ')[0]))].join(', ') || 'none yet'}`,
  );
  for (const block of blocks) {
    const file = block.origin.split(' line ')[0];
    for (const doc of block.docs) {
      t.strictSame(
        schemaErrors(doc.raw as KubeObject),
        [],
        `${block.origin}: ${doc.raw.kind} ${(doc.raw.metadata as { name?: string })?.name}`,
      );
    }
    t.strictSame(
      blockProblems(
        block,
        blocks.filter((b) => b.origin.startsWith(`${file} `)),
      ),
      [],
      `${block.origin}: validateConfig`,
    );
  }
  // The extraction itself, on a made-up README: one block of ours, one other YAML block, one shell block.
  const md = [
    '# x',
    '```yaml',
    'apiVersion: bgp-announce.io/v1alpha1',
    'kind: BGPPeer',
    'metadata: {name: a}',
    'spec: {myASN: 64500, peerASN: 64496, peerAddress: 192.0.2.1, bfdProfile: fast}',
    '```',
    '```yaml',
    'apiVersion: v1',
    'kind: Namespace',
    '```',
    '```sh',
    'apiVersion: bgp-announce.io/v1alpha1',
    '```',
    '  ```yml',
    '  apiVersion: bgp-announce.io/v1alpha1',
    '  kind: BFDProfile',
    '  metadata: {name: fast}',
    '  ```',
  ].join('\n');
  const found = yamlBlocks(md, 'made-up.md');
  t.strictSame(
    found.map((b) => [b.origin, b.docs.map((d) => d.raw.kind)]),
    [
      ['made-up.md line 3', ['BGPPeer']],
      ['made-up.md line 16', ['BFDProfile']],
    ],
    'finds the blocks of our kinds, indented ones too',
  );
  t.strictSame(
    blockProblems(found[0]!, found),
    [],
    'a reference to an object of another block of the same file is fine',
  );
  t.equal(blockProblems(found[0]!, [found[0]!]).length, 1, 'a reference to nothing is a problem');
  t.throws(
    () => yamlBlocks('```yaml\napiVersion: bgp-announce.io/v1alpha1\nkind: [\n```\n', 'bad.md'),
    /bad\.md line 2/,
    'a block that does not parse fails, naming its line',
  );
});

type Row = { why: string; kind: string; spec?: Record<string, unknown>; set?: Record<string, unknown>; cel?: string };
const BASE: Record<string, Record<string, unknown>> = {
  BGPPeer: { myASN: 64500, peerASN: 64496, peerAddress: '192.0.2.1' },
  IPAddressPool: { addresses: ['203.0.113.0/28'] },
  BGPAdvertisement: {},
  BFDProfile: {},
};
/** Broken objects: `spec` replaces the base spec, `set` changes fields of it; `cel` names the CRD rule's message. */
const BROKEN: Row[] = [
  { why: 'peerAddress missing', kind: 'BGPPeer', spec: { myASN: 64500, peerASN: 64496 } },
  { why: 'myASN 0', kind: 'BGPPeer', set: { myASN: 0 } },
  { why: 'peerASN above 4294967295', kind: 'BGPPeer', set: { peerASN: 4294967296 } },
  { why: 'myASN as a string', kind: 'BGPPeer', set: { myASN: '64500' } },
  { why: 'peerAddress not an address', kind: 'BGPPeer', set: { peerAddress: '192.0.2.300' } },
  { why: 'peerAddress a host name', kind: 'BGPPeer', set: { peerAddress: 'tor-a.example' } },
  { why: 'peerPort above 65535', kind: 'BGPPeer', set: { peerPort: 70000 } },
  { why: 'connectionMode not an enum value', kind: 'BGPPeer', set: { connectionMode: 'listen' } },
  { why: 'holdTime without a unit', kind: 'BGPPeer', set: { holdTime: '90' } },
  { why: 'an empty password', kind: 'BGPPeer', set: { password: '' } },
  { why: 'a password longer than 80', kind: 'BGPPeer', set: { password: 'k'.repeat(81) } },
  { why: 'passwordSecret without a name', kind: 'BGPPeer', set: { passwordSecret: { namespace: 'bgp-announce' } } },
  { why: 'a misspelt field', kind: 'BGPPeer', set: { peerAdress: '192.0.2.2' } },
  {
    why: 'a bad selector operator',
    kind: 'BGPPeer',
    set: { nodeSelectors: [{ matchExpressions: [{ key: 'rack', operator: 'Equals', values: ['a'] }] }] },
  },
  { why: 'routerID not IPv4', kind: 'BGPPeer', set: { routerID: '2001:db8::1' } },
  { why: 'ebgpMultiHop not a boolean', kind: 'BGPPeer', set: { ebgpMultiHop: 'yes' } },
  {
    why: 'password and passwordSecret',
    kind: 'BGPPeer',
    set: { password: 'k', passwordSecret: { name: 's' } },
    cel: 'password and passwordSecret cannot both be set',
  },
  {
    why: 'listenPort in active mode',
    kind: 'BGPPeer',
    set: { listenPort: 1179 },
    cel: 'listenAddress and listenPort are only used when connectionMode is passive or both',
  },
  {
    why: 'keepaliveTime not below holdTime',
    kind: 'BGPPeer',
    set: { holdTime: '30s', keepaliveTime: '30s' },
    cel: 'keepaliveTime must be shorter than holdTime',
  },
  {
    why: 'holdTime 2s',
    kind: 'BGPPeer',
    set: { holdTime: '2s' },
    cel: 'holdTime must be 0 or from 3s to 65535s (RFC 4271)',
  },
  {
    why: 'ebgpMultiHop on iBGP',
    kind: 'BGPPeer',
    set: { peerASN: 64500, ebgpMultiHop: true },
    cel: 'ebgpMultiHop is for eBGP peers (myASN different from peerASN)',
  },
  { why: 'no addresses', kind: 'IPAddressPool', set: { addresses: [] } },
  { why: 'no spec', kind: 'IPAddressPool', spec: undefined },
  { why: 'an address given twice', kind: 'IPAddressPool', set: { addresses: ['203.0.113.0/28', '203.0.113.0/28'] } },
  { why: 'a pool name as an address', kind: 'IPAddressPool', set: { addresses: ['pool-a'] } },
  { why: 'autoAssign as a string', kind: 'IPAddressPool', set: { autoAssign: 'yes' } },
  { why: 'a negative priority', kind: 'IPAddressPool', set: { serviceAllocation: { priority: -1 } } },
  { why: 'aggregationLength 33', kind: 'BGPAdvertisement', set: { aggregationLength: 33 } },
  { why: 'aggregationLengthV6 129', kind: 'BGPAdvertisement', set: { aggregationLengthV6: 129 } },
  { why: 'a community value of six digits', kind: 'BGPAdvertisement', set: { communities: ['64500:100000'] } },
  { why: 'a community with a space', kind: 'BGPAdvertisement', set: { communities: ['no export'] } },
  { why: 'a negative localPref', kind: 'BGPAdvertisement', set: { localPref: -1 } },
  { why: 'an empty peer name', kind: 'BGPAdvertisement', set: { peers: [''] } },
  { why: 'receiveInterval 5 ms', kind: 'BFDProfile', set: { receiveInterval: 5 } },
  { why: 'detectMultiplier 1', kind: 'BFDProfile', set: { detectMultiplier: 1 } },
  { why: 'echoMode on', kind: 'BFDProfile', set: { echoMode: true } },
  { why: 'minimumTtl 255', kind: 'BFDProfile', set: { minimumTtl: 255 } },
  { why: 'transmitInterval with a unit', kind: 'BFDProfile', set: { transmitInterval: '300ms' } },
];

function brokenObject(row: Row): KubeObject {
  const object: KubeObject = { apiVersion: API_VERSION, kind: row.kind, metadata: { name: 'broken' } };
  const spec = 'spec' in row ? row.spec : { ...BASE[row.kind], ...row.set };
  if (spec !== undefined) object.spec = spec;
  return object;
}

t.test('broken objects are rejected by the CRD schema (or its CEL rule) and by validateConfig', async (t) => {
  for (const kind of Object.keys(BASE)) {
    const base = brokenObject({ why: 'base', kind, set: {} });
    t.strictSame(
      [schemaErrors(base), problemsOf([base])],
      [[], []],
      `the base ${kind} is valid, so each row breaks one thing`,
    );
  }
  for (const row of BROKEN) {
    const object = brokenObject(row);
    t.ok(problemsOf([object]).length > 0, `${row.kind}, ${row.why}: validateConfig rejects it`);
    if (row.cel === undefined) {
      t.ok(
        schemaErrors(object).length > 0,
        `${row.kind}, ${row.why}: the schema rejects it (${schemaErrors(object)[0]})`,
      );
    } else {
      const text = readFileSync(new URL(`deploy/crds/${row.kind.toLowerCase()}.yaml`, ROOT), 'utf8');
      t.ok(
        text.includes(`message: ${row.cel}`),
        `${row.kind}, ${row.why}: the CRD's CEL rule "${row.cel}" rejects it in the cluster (not evaluated here)`,
      );
    }
  }
  const wrongVersion = { ...brokenObject({ why: '', kind: 'BGPPeer', set: {} }), apiVersion: 'bgp-announce.io/v1' };
  t.ok(
    schemaErrors(wrongVersion).length > 0 && problemsOf([wrongVersion]).length > 0,
    'an apiVersion the CRD does not serve',
  );
  const metallb = { ...brokenObject({ why: '', kind: 'IPAddressPool', set: {} }), apiVersion: 'metallb.io/v1beta1' };
  t.ok(schemaErrors(metallb).length > 0 && problemsOf([metallb]).length > 0, "a MetalLB object under MetalLB's group");
  t.strictSame(parseYamlText('kind: X\n', 'x')[0]!.raw, { kind: 'X' });
});

/** A Speaker peer as peers() shows it, for buildNodeStatus. */
function peer(id: string, over: Partial<PeerStatus> = {}): PeerStatus {
  return {
    id,
    peerAddress: '192.0.2.1',
    peerAs: 64497,
    state: 'Established',
    advertised: 2,
    received: 1,
    receivedAsLoop: 0,
    localAs: 64500,
    bgpId: '192.0.2.21',
    establishedAt: Date.parse('2026-01-01T10:00:00Z'),
    counters: {} as PeerStatus['counters'],
    restartLeave: 'stop' as PeerStatus['restartLeave'],
    ...over,
  };
}

t.test(
  'BGPNodeState: what the daemon builds passes the schema, stays small at 10,000 Services; broken ones fail',
  async (t) => {
    const peers = [
      peer('tor-a', { bfd: { state: 'Up', holding: false } }),
      peer('tor-b', {
        peerAddress: '2001:db8::1',
        state: 'Active',
        establishedAt: undefined,
        lastDown: {
          at: Date.parse('2026-01-01T09:00:00Z'),
          state: 'Established',
          kind: 'notification-received',
          message: 'hold timer expired',
        } as PeerStatus['lastDown'],
      }),
    ];
    const plan = {
      services: [
        { key: 'demo/web', ips: ['203.0.113.5', '2001:db8:5::5'], announced: true, peers: ['tor-a', 'tor-b'] },
        {
          key: 'demo/local',
          ips: ['203.0.113.6'],
          announced: false,
          peers: [],
          reason: 'no ready local endpoint (externalTrafficPolicy Local)',
        },
      ],
    };
    const status = buildNodeStatus({ nodeName: 'node-a', plan, peers });
    const object = nodeStateObject(
      'bgp-announce',
      { name: 'node-a', uid: '0b6a5c8e-1b7e-4c6a-9d1e-2f1e1c9b7a11' },
      status,
    ) as unknown as KubeObject;
    t.strictSame(schemaErrors(object), [], 'a node with two sessions (one down), one Service announced and one not');
    t.match(status, {
      sessionsEstablished: 1,
      sessionsTotal: 2,
      servicesAnnounced: 1,
      servicesNotAnnounced: 1,
      announced: [{ service: 'demo/web', peers: ['tor-a'] }],
    });

    // 10,000 Services with long names, two addresses, eight peers: the lists are cut, the object stays small.
    const many = Array.from({ length: 8 }, (_, i) => peer(`tor-${'x'.repeat(40)}-${i}`));
    const services = Array.from({ length: 10_000 }, (_, i) => ({
      key: `${'n'.repeat(60)}${i % 7}/${'s'.repeat(55)}-${String(i).padStart(5, '0')}`,
      ips: [`10.${i >> 8}.${i & 255}.1`, `2001:db8:ffff:ffff:ffff:ffff:${i.toString(16)}:1`],
      announced: i % 3 !== 0,
      peers: many.map((p) => p.id),
      ...(i % 3 === 0
        ? { reason: `no ready local endpoint (externalTrafficPolicy Local) ${'because '.repeat(20)}` }
        : {}),
    }));
    const big = buildNodeStatus({ nodeName: 'node-a', plan: { services }, peers: many });
    const bytes = JSON.stringify(nodeStateObject('bgp-announce', { name: 'node-a', uid: 'u' }, big)).length;
    t.ok(bytes < 300 * 1024, `10,000 Services: ${Math.round(bytes / 1024)} KiB (etcd's limit is 1.5 MiB)`);
    t.equal(big.servicesAnnounced + big.servicesNotAnnounced, 10_000, 'every Service counted');
    t.equal(big.announced.length + big.notAnnounced.length + big.unlisted, 10_000, 'listed + unlisted = all');
    t.ok(big.unlisted > 0, `${big.unlisted} unlisted`);
    t.strictSame(
      schemaErrors(nodeStateObject('bgp-announce', { name: 'node-a', uid: 'u' }, big) as unknown as KubeObject),
      [],
      'the cut lists pass the schema (maxItems, maxLength)',
    );

    const broken: [string, (s: NodeStateStatus) => void][] = [
      [
        'a session state the schema does not know',
        (s) => void ((s.sessions[0] as { state: string }).state = 'Connect'),
      ],
      ['a negative prefix count', (s) => void (s.sessions[0]!.prefixesSent = -1)],
      ['a session without a peer', (s) => void delete (s.sessions[0] as { peer?: string }).peer],
      ['a BFD state the schema does not know', (s) => void ((s.sessions[0] as { bfd?: string }).bfd = 'Broken')],
      ['an establishedSince that is no time', (s) => void (s.sessions[0]!.establishedSince = 'yesterday')],
      ['a Service listed twice', (s) => void s.announced.push({ ...s.announced[0]! })],
      [
        'more than 1000 Services listed',
        (s) =>
          void s.notAnnounced.push(
            ...Array.from({ length: 1000 }, (_, i) => ({ service: `x/${i}`, addresses: [], reason: 'r' })),
          ),
      ],
      ['a reason longer than 1024', (s) => void (s.notAnnounced[0]!.reason = 'r'.repeat(1025))],
    ];
    for (const [why, breakIt] of broken) {
      const s = structuredClone(status);
      breakIt(s);
      const errors = schemaErrors(
        nodeStateObject('bgp-announce', { name: 'node-a', uid: 'u' }, s) as unknown as KubeObject,
      );
      t.ok(errors.length > 0, `${why}: rejected (${errors[0]})`);
    }
  },
);
