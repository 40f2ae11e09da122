// `bgp-announce check` with a cluster: the in-repo test API server (real REST, real client-node) holds
// our resources, a node and Services; the sockets come from the announcer's fixture /proc tree
// (gobgpd pid 4242 peers with 192.0.2.1 from 192.0.2.10). Config from the CRDs (one namespace, the
// node's labels against nodeSelectors), Services checked for another controller, the config file
// combined with --kubeconfig, $KUBECONFIG found by itself, and the built command end to end.
import t, { type Test } from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start, type TestApiServer } from '@bgp-announce/test-apiserver';
import { checkCommand, type CheckCommandOptions } from '../src/check.js';

const CLI = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
const PROC = fileURLToPath(new URL('../../announcer/test/fixtures/proc/node', import.meta.url));
const NS = 'bgp-announce';
const V = 'bgp-announce.io/v1alpha1';

type Finding = { check: string; status: string; message: string; fix?: string };

const dir = mkdtempSync(join(tmpdir(), 'bgp-check-cluster-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A seeded test API server and a kubeconfig file for it. */
async function cluster(t: Test): Promise<{ s: TestApiServer; kubeconfig: string }> {
  const s = await start();
  t.teardown(() => s.stop());
  for (const name of [NS, 'web']) s.create('namespaces', { metadata: { name } });
  s.create('ipaddresspools', {
    apiVersion: V,
    kind: 'IPAddressPool',
    metadata: { name: 'vips', namespace: NS },
    spec: { addresses: ['192.0.2.64/27'] },
  });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'tor-a', namespace: NS },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1' },
  });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'tor-b', namespace: NS },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.2', nodeSelectors: [{ matchLabels: { rack: 'b' } }] },
  });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'far', namespace: 'web' },
    spec: { myASN: 64500, peerASN: 64501, peerAddress: '198.51.100.1' },
  });
  s.create('nodes', { metadata: { name: 'node-1', labels: { rack: 'a' } } });
  const statusBy = (manager: string) => ({
    manager,
    operation: 'Update',
    subresource: 'status',
    fieldsV1: { 'f:status': { 'f:loadBalancer': { 'f:ingress': {} } } },
  });
  const lb = (name: string, cls: string, manager: string, ip: string) => {
    s.create('services', {
      metadata: { name, namespace: 'web', managedFields: [statusBy(manager)] },
      spec: { type: 'LoadBalancer', loadBalancerClass: cls, ports: [{ port: 80 }] },
    });
    s.patch('services', name, { status: { loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] } } }, 'web');
  };
  lb('shop', 'bgp-announce.io/bgp', 'metallb-controller', '192.0.2.70');
  lb('blog', 'bgp-announce.io/bgp', 'bgp-announce', '192.0.2.99');
  lb('theirs', 'metallb.io/metallb', 'metallb-controller', '203.0.113.9');
  const kubeconfig = join(dir, `kubeconfig-${s.port}`);
  writeFileSync(kubeconfig, s.kubeconfigYaml());
  return { s, kubeconfig };
}

const ENV = { PATH: process.env.PATH, HOME: dir };

async function check(
  options: CheckCommandOptions,
  env: Record<string, string | undefined> = ENV,
): Promise<{ status: number; findings: Finding[]; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await checkCommand(
    { procRoot: PROC, json: true, ...options },
    { out: (l) => out.push(l), err: (l) => err.push(l), env },
  );
  return { status, findings: out.map((l) => JSON.parse(l) as Finding), stderr: err.join('\n') };
}

const summary = (fs: Finding[]) => fs.map((f) => `${f.check} ${f.status}`);

t.test("from the cluster: our resources, the node's labels, the Services", async (t) => {
  const { kubeconfig } = await cluster(t);
  const r = await check({ kubeconfig, nodeName: 'node-1' });
  t.equal(r.status, 1, r.stderr);
  t.strictSame(summary(r.findings), [
    'config ok',
    'port179 ok',
    'sourceCollision fail',
    'otherController warn',
    'otherController warn',
  ]);
  t.equal(
    r.findings[0]!.message,
    "configuration from the cluster's bgp-announce.io resources in namespace bgp-announce: 1 BGPPeer on node node-1 (all active-only); not on this node (nodeSelectors): tor-b",
  );
  t.match(
    r.findings[2]!.message,
    /^BGPPeer tor-a: router 192\.0\.2\.1 sees one neighbor per source address: gobgpd \(pid 4242\)/,
  );
  const other = r.findings.filter((f) => f.check === 'otherController').map((f) => f.message);
  t.ok(
    other.some((m) =>
      /^Service web\/shop is of class bgp-announce\.io\/bgp, but "metallb-controller" wrote its status\.loadBalancer/.test(
        m,
      ),
    ),
    other.join('\n'),
  );
  t.ok(
    other.some((m) => /^Service web\/blog .* holds 192\.0\.2\.99, in none of our pools \(our pools: vips\)/.test(m)),
    other.join('\n'),
  );
});

t.test('--namespace, an unknown node, another class', async (t) => {
  const { kubeconfig } = await cluster(t);
  const web = await check({ kubeconfig, nodeName: 'node-1', namespace: 'web' });
  t.match(web.findings[0]!.message, /in namespace web: 1 BGPPeer on node node-1/);
  t.strictSame(
    summary(web.findings).slice(1, 3),
    ['port179 ok', 'sourceCollision ok'],
    'far: only our own daemon talks to 198.51.100.1',
  );
  const ghost = await check({ kubeconfig, nodeName: 'ghost' });
  t.match(
    ghost.findings[0]!.message,
    /2 BGPPeers on node ghost .*; node labels unknown \(get node ghost: 404: .*\), so every BGPPeer is checked$/,
  );
  const metallb = await check({ kubeconfig, nodeName: 'node-1', loadBalancerClass: 'metallb.io/metallb' });
  const other = metallb.findings.filter((f) => f.check === 'otherController');
  t.strictSame(
    other.map((f) => f.message.split(' is of')[0]),
    ['Service web/theirs', 'Service web/theirs'],
    'another controller, and an address outside our pools',
  );
});

t.test(
  'a config file with --kubeconfig: peers from the file, Services from the cluster; $KUBECONFIG found alone',
  async (t) => {
    const { kubeconfig } = await cluster(t);
    const file = join(dir, 'file.yaml');
    writeFileSync(
      file,
      `apiVersion: ${V}\nkind: BGPPeer\nmetadata: {name: only}\nspec: {myASN: 64500, peerASN: 64501, peerAddress: 192.0.2.1, sourceAddress: 192.0.2.11}\n`,
    );
    const r = await check({ config: file, kubeconfig, nodeName: 'node-1' });
    t.equal(r.status, 0, 'warnings only');
    t.match(r.findings[0]!.message, new RegExp(`^configuration from ${file}: 1 BGPPeer on node node-1`));
    // The file has no pool: both addresses are outside "our" pools, and shop has another writer.
    t.equal(r.findings.filter((f) => f.check === 'otherController' && f.status === 'warn').length, 3);
    const fromEnv = await check({ nodeName: 'node-1' }, { ...ENV, KUBECONFIG: kubeconfig });
    t.match(fromEnv.findings[0]!.message, /in namespace bgp-announce: 1 BGPPeer on node node-1/);
    const missing = await check({ nodeName: 'node-1' }, { ...ENV, KUBECONFIG: join(dir, 'nope') });
    t.equal(missing.status, 2);
    t.match(
      missing.stderr,
      /^bgp-announce check: no configuration to check: give --config FILE, or --kubeconfig FILE \(\$KUBECONFIG .*nope: no such file\)/,
    );
  },
);

t.test(
  "the built command with --kubeconfig exits with the findings' status",
  { skip: !BUILT && 'packages/cli is not built (npx tsc -b)' },
  async (t) => {
    const { kubeconfig } = await cluster(t);
    const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile(
        process.execPath,
        [CLI, 'check', '--kubeconfig', kubeconfig, '--node-name', 'node-1', '--proc-root', PROC],
        { env: ENV, timeout: 180_000 },
        (err, stdout, stderr) =>
          resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr }),
      );
    });
    t.equal(r.status, 1, r.stderr);
    t.match(r.stdout, /^WARN {2}otherController: Service web\/shop /m);
    t.match(r.stdout, /^ {6}fix: let one controller handle class bgp-announce\.io\/bgp/m);
    t.equal(r.stdout.trim().split('\n').at(-1), '2 ok, 2 warn, 1 fail, 0 skip');
  },
);
