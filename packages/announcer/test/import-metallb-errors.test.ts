// `import metallb` on bad input: every broken document gets a problem naming the document (kind and
// name, or its place), the field and why; nothing is written and the status is 2; nothing throws.
// Also the report's text and the YAML output.
import t from 'tap';
import { loadAllYaml } from '@kubernetes/client-node';
import { readConfigDocuments } from '../src/config/file.js';
import { importMetalLB } from '../src/import/metallb-import.js';
import { formatImportReport, objectFileName, objectsYaml } from '../src/import/metallb-report.js';
import type { MetalLBImportResult } from '../src/import/metallb-types.js';

function importYaml(text: string): MetalLBImportResult {
  const read = readConfigDocuments(text, 'in.yaml');
  return importMetalLB(read.objects.map((object, i) => ({ object, origin: read.origins[i]! })));
}

const PEER = `apiVersion: metallb.io/v1beta2
kind: BGPPeer
metadata: {name: tor-a}
spec: {myASN: 64500, peerASN: 64496, peerAddress: 192.0.2.1, connectTime: 2s}
`;

const BROKEN: [string, string, string, string, RegExp][] = [
  // name, input, document, field, message
  ['a scalar document', 'hello', 'in.yaml:1', '(document)', /must be an object.*got "hello"/],
  [
    'no kind',
    'apiVersion: metallb.io/v1beta1\nmetadata: {name: x}',
    'in.yaml:1',
    'kind',
    /naming one of MetalLB's kinds/,
  ],
  ['no apiVersion', 'kind: BGPPeer\nmetadata: {name: x}', 'in.yaml:1', 'apiVersion', /got apiVersion nothing/],
  [
    "another group's object",
    'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}',
    'Deployment web (in.yaml:1)',
    'apiVersion',
    /must be metallb\.io\/<version>.*got "apps\/v1"/,
  ],
  [
    'our own objects fed back',
    'apiVersion: bgp-announce.io/v1alpha1\nkind: BGPPeer\nmetadata: {name: x}',
    'BGPPeer x (in.yaml:1)',
    'apiVersion',
    /must be metallb\.io/,
  ],
  [
    "MetalLB's old ConfigMap",
    'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: config, namespace: metallb-system}\ndata: {config: ""}',
    'ConfigMap config (in.yaml:1)',
    'kind',
    /before 0\.13.*configmaptocrs/,
  ],
  [
    'a version MetalLB never had for the kind',
    'apiVersion: metallb.io/v1alpha1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: [203.0.113.0/28]}',
    'IPAddressPool p (in.yaml:1)',
    'apiVersion',
    /read as metallb\.io\/v1beta1, got "metallb\.io\/v1alpha1"/,
  ],
  [
    'no name',
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {}\nspec: {addresses: [203.0.113.0/28]}',
    'IPAddressPool (no name) (in.yaml:1)',
    'metadata.name',
    /non-empty string, got nothing/,
  ],
  [
    'spec not an object',
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: [1]',
    'IPAddressPool p (in.yaml:1)',
    'spec',
    /must be an object, got a list/,
  ],
  [
    'the same name twice',
    `${PEER}---\n${PEER}`,
    'BGPPeer tor-a (in.yaml:6)',
    'metadata.name',
    /another BGPPeer named "tor-a" comes earlier/,
  ],
  [
    'a wrong type in a copied field (found by our own validation)',
    'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: t}\nspec: {myASN: "64500", peerASN: 64496, peerAddress: 192.0.2.1}',
    'BGPPeer t (in.yaml:1)',
    'spec.myASN',
    /64500.*\(bgp-announce's own check\)/,
  ],
  [
    'peerASN and dynamicASN together',
    'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: t}\nspec: {myASN: 64500, peerASN: 64496, dynamicASN: internal, peerAddress: 192.0.2.1}',
    'BGPPeer t (in.yaml:1)',
    'spec.dynamicASN',
    /exclude each other/,
  ],
  [
    'a dynamicASN that is neither',
    'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: t}\nspec: {myASN: 64500, dynamicASN: outer, peerAddress: 192.0.2.1}',
    'BGPPeer t (in.yaml:1)',
    'spec.dynamicASN',
    /must be internal or external, got "outer"/,
  ],
  [
    'peerAddress and interface together',
    'apiVersion: metallb.io/v1beta2\nkind: BGPPeer\nmetadata: {name: t}\nspec: {myASN: 64500, peerASN: 64496, interface: eth0, peerAddress: 192.0.2.1}',
    'BGPPeer t (in.yaml:1)',
    'spec.interface',
    /exclude each other/,
  ],
  [
    'a community that is no value and no alias',
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {communities: [vpn-only]}',
    'BGPAdvertisement a (in.yaml:1)',
    'spec.communities[0]',
    /"vpn-only" is neither a community.*nor an alias.*there is none/,
  ],
  [
    'a malformed community value (found by our own validation)',
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {communities: ["70000:1"]}',
    'BGPAdvertisement a (in.yaml:1)',
    'spec.communities[0]',
    /is not a community/,
  ],
  [
    'a malformed Community alias',
    'apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata: {name: c}\nspec: {communities: [{name: x}]}',
    'Community c (in.yaml:1)',
    'spec.communities[0]',
    /must be \{name, value\}/,
  ],
  [
    'one alias, two values',
    'apiVersion: metallb.io/v1beta1\nkind: Community\nmetadata: {name: c}\nspec: {communities: [{name: x, value: "1:1"}]}\n---\napiVersion: metallb.io/v1beta1\nkind: Community\nmetadata: {name: d}\nspec: {communities: [{name: x, value: "1:2"}]}',
    'Community d (in.yaml:6)',
    'spec.communities[0].name',
    /alias "x" is also defined by Community c/,
  ],
  [
    'an advertisement naming a peer that is not in the input',
    'apiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {peers: [nobody]}',
    'BGPAdvertisement a (in.yaml:1)',
    'spec.peers[0]',
    /refers to BGPPeer "nobody", which does not exist/,
  ],
  [
    'an address range that is not one',
    'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: p}\nspec: {addresses: [203.0.113.0/33]}',
    'IPAddressPool p (in.yaml:1)',
    'spec.addresses[0]',
    /./,
  ],
];

for (const [name, input, document, field, message] of BROKEN) {
  t.test(name, async (t) => {
    const result = importYaml(input);
    t.equal(result.status, 2, 'status 2');
    t.same(result.objects, [], 'nothing written');
    const p = result.problems.find((x) => x.document === document && x.field === field);
    t.ok(p, `a problem for ${document} ${field}`, { found: result.problems });
    t.match(p?.message, message);
    const report = formatImportReport(result).join('\n');
    t.match(report, /^bad input, nothing written/);
    t.notMatch(report, /\n\s+at /, 'no stack trace');
  });
}

t.test('documents that are not objects at all never throw', async (t) => {
  for (const object of [null, 42, [1, 2], 'text', { kind: 7 }, { apiVersion: 'metallb.io', kind: 'BGPPeer' }]) {
    const result = importMetalLB([{ object, origin: 'x' }]);
    t.equal(result.status, 2, JSON.stringify(object));
  }
  const weird = importMetalLB([
    {
      object: {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'L2Advertisement',
        metadata: { name: 'l2' },
        spec: { ipAddressPoolSelectors: [{ matchExpressions: 'nope' }] },
      },
      origin: 'x',
    },
    {
      object: {
        apiVersion: 'metallb.io/v1beta1',
        kind: 'IPAddressPool',
        metadata: { name: 'p' },
        spec: { addresses: ['203.0.113.0/28'] },
      },
      origin: 'y',
    },
  ]);
  t.equal(weird.status, 1, 'a malformed selector of an L2Advertisement (not carried over) matches nothing');
});

t.test('the report and the YAML', async (t) => {
  const result = importYaml(
    `${PEER}---\napiVersion: metallb.io/v1beta1\nkind: L2Advertisement\nmetadata: {name: l2}\n---\napiVersion: metallb.io/v1beta1\nkind: BGPAdvertisement\nmetadata: {name: a}\nspec: {localPref: 0}\n`,
  );
  t.equal(result.status, 1);
  const report = formatImportReport(result);
  t.equal(report[0], 'read 1 BGPPeer, 1 L2Advertisement, 1 BGPAdvertisement; wrote 1 BGPPeer, 1 BGPAdvertisement');
  const needs = report.indexOf('needs you (not carried over, or only once you act):');
  const changed = report.indexOf('changed on the way:');
  t.ok(needs > 0 && changed > needs, 'needs-you first, then changes');
  t.match(report[needs + 1], /^ {2}L2Advertisement l2 \(in\.yaml:6\): \(object\): layer-2 mode/);
  t.match(report.at(-1), /metallb\.universe\.tf\/address-pool.*win when both are set/);

  const yaml = objectsYaml(result.objects);
  t.same(loadAllYaml(yaml), result.objects, 'the YAML reads back as the objects');
  t.match(yaml, /^---\napiVersion: bgp-announce\.io\/v1alpha1\nkind: BGPPeer\n/);
  t.equal(objectFileName(result.objects[0]!), 'bgppeer-tor-a.yaml');
});

t.test('an input without any MetalLB object is bad input', async (t) => {
  for (const input of ['', '# nothing\n', 'apiVersion: v1\nkind: Service\nmetadata: {name: web}\n']) {
    const result = importYaml(input);
    t.equal(result.status, 2, JSON.stringify(input));
    t.match(result.problems, [{ document: '(input)', message: /holds no MetalLB object/ }]);
  }
  t.equal(
    importYaml('apiVersion: metallb.io/v1beta1\nkind: ServiceBGPStatus\nmetadata: {name: s}\n').status,
    1,
    "one of MetalLB's other kinds is something",
  );
});
