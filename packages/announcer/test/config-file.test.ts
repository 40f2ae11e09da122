// The config file: several YAML documents, List objects, empty documents, YAML syntax errors with
// file, line and column, unreadable files, and the shipped examples in deploy/examples.
import t from 'tap';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, parseConfigText, readConfigDocuments } from '../src/config/file.js';
import { decideConfig } from '../src/config/validate.js';
import { formatProblem } from '../src/config/types.js';

const EXAMPLES = fileURLToPath(new URL('../../../deploy/examples/', import.meta.url));

const PEER = `apiVersion: bgp-announce.io/v1alpha1
kind: BGPPeer
metadata:
  name: tor-a
spec:
  myASN: 64500
  peerASN: 64496
  peerAddress: 192.0.2.1
`;
const POOL = `apiVersion: bgp-announce.io/v1alpha1
kind: IPAddressPool
metadata: {name: public}
spec:
  addresses: [203.0.113.0/28]
`;

t.test('several documents, with comments, blank and empty documents in between', async (t) => {
  const text = `# leading comment\n---\n${PEER}---\n# only a comment\n---\n\n---   # a separator with a comment\n${POOL}---\n`;
  const { config, problems } = parseConfigText(text, 'config.yaml');
  t.strictSame(problems, []);
  t.strictSame(
    config.peers.map((p) => [p.name, p.holdTime]),
    [['tor-a', 90]],
  );
  t.strictSame(
    config.pools.map((p) => [p.name, p.ranges[0]?.last]),
    [['public', '203.0.113.15']],
  );
  t.strictSame(
    parseConfigText('', 'empty.yaml'),
    { config: { pools: [], peers: [], advertisements: [], bfdProfiles: [], staticRoutes: [] }, problems: [] },
    'an empty file is an empty config',
  );
});

t.test('a List of objects (as kubectl get -o yaml writes it)', async (t) => {
  const indent = (s: string): string => s.replace(/\n(?=.)/g, '\n    ');
  const text = `apiVersion: v1\nkind: List\nitems:\n  - ${indent(PEER)}  - ${indent(POOL)}`;
  const { config, problems } = parseConfigText(text, 'list.yaml');
  t.strictSame(problems, []);
  t.equal(config.peers[0]?.name, 'tor-a');
  t.equal(config.pools[0]?.name, 'public');
  const docs = readConfigDocuments(text, 'list.yaml');
  t.strictSame(docs.origins, ['list.yaml:1 items[0]', 'list.yaml:1 items[1]']);

  const bad = parseConfigText('kind: List\nitems: 5\nmetadata: {}\nextra: 1\n', 'list.yaml');
  t.strictSame(bad.problems.map(formatProblem), [
    'unknown list.yaml:1: extra: unknown field of a List (known fields here: apiVersion, kind, metadata, items)',
    'unknown list.yaml:1: items: must be a list of objects, got 5',
  ]);
});

t.test('YAML syntax errors name the file, line and column', async (t) => {
  // Line 13 of the file (line 5 of the second document) opens a flow sequence it never closes;
  // js-yaml notices at the start of line 14's key.
  const text = `${PEER}---\nkind: BGPAdvertisement\napiVersion: bgp-announce.io/v1alpha1\nspec:\n  peers: [tor-a\n  communities: [no-export]\n`;
  const { problems, config } = parseConfigText(text, '/etc/bgp-announce/config.yaml');
  t.equal(problems.length, 1);
  t.match(problems[0], { kind: 'unknown', name: '/etc/bgp-announce/config.yaml', field: 'line 14, column 3' });
  t.match(problems[0]?.message, /^YAML syntax error: /);
  t.equal(config.peers[0]?.name, 'tor-a', 'the other documents are still read');

  const dup = parseConfigText('apiVersion: bgp-announce.io/v1alpha1\nkind: BFDProfile\nkind: BGPPeer\n', 'dup.yaml');
  t.strictSame(
    dup.problems.map(formatProblem),
    ['unknown dup.yaml: line 3, column 1: YAML syntax error: duplicated mapping key (line reads: "kind: BGPPeer")'],
    'a duplicated key is an error, not a silent override',
  );

  const tab = parseConfigText(`${POOL}---\napiVersion: bgp-announce.io/v1alpha1\n\tkind: BGPPeer\n`, 'tab.yaml');
  t.equal(tab.problems.length, 1);
  t.match(tab.problems[0]?.field, /^line 8, column \d+$/, 'a tab on line 8 of the file (not of its document)');
});

t.test('documents that are not objects, and nameless objects, are named by file and line', async (t) => {
  const text = `${PEER}---\n- a list\n---\n~\n---\napiVersion: bgp-announce.io/v1alpha1\nkind: BFDProfile\nspec: {}\n`;
  const { problems } = parseConfigText(text, 'c.yaml');
  t.strictSame(problems.map(formatProblem), [
    'unknown c.yaml:12: document: must be an object with apiVersion, kind, metadata and spec, got null',
    'unknown c.yaml:10: (object): must be an object with apiVersion, kind, metadata and spec, got a list',
    'BFDProfile c.yaml:14: metadata.name: is required (a lower-case name such as "tor-a"), got nothing',
  ]);
});

t.test('values YAML turns into other types are reported, not coerced', async (t) => {
  const text = `apiVersion: bgp-announce.io/v1alpha1\nkind: BGPPeer\nmetadata: {name: p, labels: {rack: 7}}\nspec:\n  myASN: 64500\n  peerASN: "64496"\n  peerAddress: 192.0.2.1\n  ebgpMultiHop: yes\n  holdTime: 90\n`;
  const { problems } = parseConfigText(text, 'types.yaml');
  t.strictSame(
    problems.map((p) => `${p.field}: ${p.message}`),
    [
      'metadata.labels.rack: label values must be strings (quote them in YAML), got 7',
      'spec.peerASN: must be an integer from 1 to 4294967295 (an AS number), got "64496"',
      'spec.holdTime: must be a duration string such as "90s" or "1m30s", got 90',
      'spec.ebgpMultiHop: must be true or false, got "yes"',
    ],
  );
});

t.test('loadConfigFile reads a file; a missing file is a problem, not a crash', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bgp-announce-config-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const path = join(dir, 'config.yaml');
  await writeFile(path, `${PEER}---\n${POOL}`);
  const ok = await loadConfigFile(path);
  t.strictSame(ok.problems, []);
  t.equal(ok.config.peers.length, 1);
  t.equal(ok.config.pools.length, 1);

  const kept = decideConfig(await loadConfigFile(join(dir, 'nope.yaml')), ok.config);
  t.equal(kept.accepted, false);
  t.equal(kept.config, ok.config, 'a file that cannot be read keeps the previous config');
  const missing = await loadConfigFile(join(dir, 'nope.yaml'));
  t.strictSame(missing.problems, [
    {
      kind: 'unknown',
      name: join(dir, 'nope.yaml'),
      field: 'file',
      message: 'cannot read the config file: no such file',
    },
  ]);
  const directory = await loadConfigFile(dir);
  t.match(directory.problems[0]?.message, /^cannot read the config file: is a directory/);
});

t.test('the examples in deploy/examples are valid, with the objects they describe', async (t) => {
  const file = await loadConfigFile(join(EXAMPLES, 'config.yaml'));
  t.strictSame(file.problems, [], 'config.yaml has no problems');
  t.strictSame(
    {
      pools: file.config.pools.map((p) => p.name),
      peers: file.config.peers.map((p) => p.name),
      advertisements: file.config.advertisements.map((a) => a.name),
      bfdProfiles: file.config.bfdProfiles.map((b) => b.name),
      staticRoutes: file.config.staticRoutes.map((r) => r.name),
    },
    {
      pools: ['public', 'staging'],
      peers: ['tor-a', 'tor-b', 'core'],
      advertisements: ['public', 'staging-aggregate'],
      bfdProfiles: ['fast'],
      staticRoutes: ['host-services'],
    },
  );
  const core = file.config.peers.find((p) => p.name === 'core');
  t.match(core, { holdTime: 180, keepaliveTime: 60, connectTime: 30, connectionMode: 'both', listenPort: 1179 });

  // kubernetes.yaml holds CRs for a cluster, where its passwordSecret is read from a Secret: valid as
  // objects, and refused only as a config file (a file has no Secrets).
  const kube = parseConfigText(readFileSync(join(EXAMPLES, 'kubernetes.yaml'), 'utf8'), 'kubernetes.yaml');
  t.strictSame(kube.problems, [], 'kubernetes.yaml has no problems');
  t.equal(kube.config.staticRoutes.length, 0, 'no StaticRoute among the custom resources');
  t.ok(
    kube.config.peers.length > 0 &&
      kube.config.pools.length > 0 &&
      kube.config.advertisements.length > 0 &&
      kube.config.bfdProfiles.length > 0,
    'every CRD kind is shown',
  );
});

t.test('a config file cannot use passwordSecret: no Secret to read the MD5 key from', async (t) => {
  const { loadConfigFile } = await import('../src/config/file.js');
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const text = `apiVersion: bgp-announce.io/v1alpha1
kind: BGPPeer
metadata: { name: tor-a }
spec: { myASN: 64500, peerASN: 64496, peerAddress: 192.0.2.1, passwordSecret: { name: tor-a-md5 } }
`;
  const file = join(mkdtempSync(join(tmpdir(), 'bgp-announce-config-')), 'node.yaml');
  writeFileSync(file, text);
  const { problems } = await loadConfigFile(file);
  t.strictSame(
    problems.map((p) => [p.kind, p.name, p.field]),
    [['BGPPeer', 'tor-a', 'spec.passwordSecret']],
  );
  t.match(problems[0]?.message, /spec\.password/);
});
