// `bgp-announce status --cluster` against the in-repo test API server (real REST, real client-node):
// BGPNodeStates written by the daemon's own code (a kubernetesSource with a Speaker and a receiving
// router on 127.0.0.1) and by hand for a second node, Services with the leader's conditions and one
// with per-node conditions of an earlier version. Checked: the table per node (sessions, Services
// announced to which peers and why not), the Services with their aggregate, --node, --json, the view
// when the CRD is missing or nobody reports, options that do not fit, and an API that does not answer.
import t, { type Test } from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { start, BGP_ANNOUNCE_CRDS, type TestApiServer } from '@bgp-announce/test-apiserver';
import { kubernetesSource, loadKubeConfig, type ClusterStatus, type DaemonContext } from '@bgp-announce/announcer';
import { statusCommand, type StatusCommandOptions } from '../src/status.js';
import { formatClusterStatus } from '../src/status-cluster.js';
import { startReceiver } from '../../announcer/test/helpers/kube-bgp-receiver.js';

const CLI = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
const NS = 'bgp-announce';
const V = 'bgp-announce.io/v1alpha1';
const LOCAL = 'no ready local endpoint (externalTrafficPolicy Local)';

const dir = mkdtempSync(join(tmpdir(), 'bgp-status-cluster-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const ENV = { PATH: process.env.PATH, HOME: dir };

async function status(
  options: StatusCommandOptions,
  env: Record<string, string | undefined> = ENV,
): Promise<{ code: number; out: string[]; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await statusCommand(
    { cluster: true, ...options },
    { out: (l) => out.push(l), err: (l) => err.push(l), env },
  );
  return { code, out, err: err.join('\n') };
}

/** Resolves once fn() is true; rejects after ms. */
async function until(what: string, fn: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** node-1 runs the real daemon source (its BGPNodeState written by it); node-2 is written by hand. */
async function cluster(t: Test): Promise<TestApiServer> {
  const s = await start();
  t.teardown(() => s.stop());
  for (const name of [NS, 'demo']) s.create('namespaces', { metadata: { name } });
  const receiver = await startReceiver(t);
  s.create('nodes', {
    metadata: { name: 'node-1' },
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.11' }] },
  });
  s.create('nodes', { metadata: { name: 'node-2' } });
  s.create('bgppeers', {
    apiVersion: V,
    kind: 'BGPPeer',
    metadata: { name: 'tor', namespace: NS },
    spec: { myASN: 64496, peerASN: 64497, peerAddress: '127.0.0.1', peerPort: receiver.port },
  });
  s.create('ipaddresspools', {
    apiVersion: V,
    kind: 'IPAddressPool',
    metadata: { name: 'blue', namespace: NS },
    spec: { addresses: ['203.0.113.0/28'] },
  });
  s.create('bgpadvertisements', {
    apiVersion: V,
    kind: 'BGPAdvertisement',
    metadata: { name: 'all', namespace: NS },
    spec: {},
  });
  const lb = (name: string, policy: 'Cluster' | 'Local') =>
    s.create('services', {
      metadata: { name, namespace: 'demo' },
      spec: {
        type: 'LoadBalancer',
        loadBalancerClass: 'bgp-announce.io/bgp',
        externalTrafficPolicy: policy,
        ports: [{ port: 80, protocol: 'TCP' }],
      },
    });
  lb('web', 'Cluster');
  lb('local', 'Local');
  // web's pod runs on node-2 (a Cluster Service with no serving endpoint anywhere is withdrawn).
  s.create('endpointslices', {
    metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.51.100.10'], nodeName: 'node-2', conditions: { ready: true } }],
  });
  s.create('services', {
    metadata: { name: 'theirs', namespace: 'demo' },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'metallb.io/metallb', ports: [{ port: 80, protocol: 'TCP' }] },
  });

  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.11' });
  speaker.on('error', () => {});
  t.teardown(() => speaker.stop());
  const source = kubernetesSource({
    kubeConfig: loadKubeConfig({ url: s.url }).kubeConfig,
    namespace: NS,
    nodeStateIntervalMs: 100,
    announced: { settleMs: 100 },
  });
  t.teardown(() => source.stop());
  const ctx: DaemonContext = {
    nodeName: 'node-1',
    speaker,
    logger: pino({ level: 'silent' }),
    observeReconcile: () => {},
    setPoolUsage: () => {},
  };
  await source.start(ctx);
  const svc = (name: string) =>
    s.get('services', name, 'demo') as
      | {
          status?: { loadBalancer?: { ingress?: { ip: string }[] }; conditions?: { type: string; message?: string }[] };
        }
      | undefined;
  await until('both Services allocated', () =>
    ['web', 'local'].every((n) => svc(n)?.status?.loadBalancer?.ingress?.length === 1),
  );
  const ip = (n: string) => svc(n)!.status!.loadBalancer!.ingress![0]!.ip;
  s.create('bgpnodestates', {
    apiVersion: V,
    kind: 'BGPNodeState',
    metadata: { name: 'node-2', namespace: NS },
    status: {
      sessionsEstablished: 0,
      sessionsTotal: 1,
      servicesAnnounced: 0,
      servicesNotAnnounced: 2,
      sessions: [
        {
          peer: 'tor',
          peerAddress: '127.0.0.1',
          peerASN: 64497,
          state: 'Down',
          lastDown: { at: '2026-01-01T10:00:00Z', reason: 'connect ECONNREFUSED 127.0.0.1:179' },
          prefixesSent: 0,
          prefixesReceived: 0,
        },
      ],
      announced: [],
      notAnnounced: [
        { service: 'demo/local', addresses: [ip('local')], reason: 'no Established BGP session to its peers (tor)' },
        { service: 'demo/web', addresses: [ip('web')], reason: 'no Established BGP session to its peers (tor)' },
      ],
      unlisted: 0,
    },
  });
  const state = () =>
    (
      s.get('bgpnodestates', 'node-1', NS) as
        | { status?: { servicesAnnounced?: number; servicesNotAnnounced?: number } }
        | undefined
    )?.status;
  await until('node-1 to report', () => state()?.servicesAnnounced === 1 && state()?.servicesNotAnnounced === 1);
  const cond = (n: string) => svc(n)?.status?.conditions?.find((c) => c.type === 'bgp-announce.io/Announced');
  await until(
    'the Announced conditions, node-2 counted',
    () =>
      cond('web')?.message === 'announced by 1 node (node-1) to 1 peer (tor)' &&
      /of 2 nodes/.test(cond('local')?.message ?? ''),
  );
  // A Service left by an earlier version with per-node conditions (no daemon allocates from 198.51.100.0/24).
  s.create('services', {
    metadata: { name: 'old', namespace: 'demo' },
    spec: { type: 'LoadBalancer', loadBalancerClass: 'other.example/lb', ports: [{ port: 80, protocol: 'TCP' }] },
  });
  s.patch(
    'services',
    'old',
    {
      status: {
        conditions: [
          {
            type: 'announced.bgp-announce.io/node-9',
            status: 'True',
            reason: 'Announced',
            message: 'x',
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      },
    },
    'demo',
  );
  return s;
}

t.test('the cluster view: a table per node, the Services with their aggregate; --node; --json', async (t) => {
  const s = await cluster(t);
  const { code, out, err } = await status({ kubeUrl: s.url });
  t.equal(code, 0, err);
  const text = out.join('\n');
  t.match(out[0], 'BGPNodeStates in namespace bgp-announce: 2 nodes, 1/2 sessions Established');
  t.match(text, /^NODE\s+SESSIONS\s+ANNOUNCED\s+NOT ANNOUNCED\s+REPORTING FOR$/m);
  t.match(text, /^node-1\s+1\/1\s+1\s+1\s+\d+s$/m, 'node-1: its session up, one Service announced, one not');
  t.match(text, /^node-2\s+0\/1\s+0\s+2\s/m);
  t.match(text, /^node-1: 1\/1 sessions Established, 1 Services announced, 1 not$/m);
  t.match(
    text,
    /^ {2}tor\s+127\.0\.0\.1\s+64497\s+Established\s+\d+s\s+1\s+0\s+-$/m,
    "node-1's session: Established, 1 prefix sent",
  );
  t.match(text, /^ {2}demo\/web\s+203\.0\.113\.\d+\s+to tor$/m, 'web announced to tor');
  t.match(
    text,
    new RegExp(`^ {2}demo/local\\s+203\\.0\\.113\\.\\d+\\s+not announced: ${LOCAL.replace(/[()]/g, '\\$&')}$`, 'm'),
    'local not announced, with why',
  );
  t.match(
    text,
    /^ {2}tor\s+127\.0\.0\.1\s+64497\s+Down\s+\S+\s+0\s+0\s+-\s+2026-01-01 10:00:00: connect ECONNREFUSED 127\.0\.0\.1:179$/m,
    "node-2's session down, with why",
  );
  t.match(text, /^Services \(3\):$/m);
  t.match(
    text,
    /^ {2}demo\/web\s+203\.0\.113\.\d+\s+True\s+announced by 1 node \(node-1\) to 1 peer \(tor\)$/m,
    "web's aggregate",
  );
  t.match(
    text,
    /^ {2}demo\/local\s+203\.0\.113\.\d+\s+False\s+announced by no node: .+ \(1 of 2 nodes; 1 other reason\)$/m,
    "local's aggregate: the commonest reason",
  );
  t.match(
    text,
    /^ {2}demo\/old\s+-\s+-\s+no address \[1 per-node conditions of an earlier version, removed by the leader\]$/m,
    'a Service with conditions of an earlier version',
  );
  t.notMatch(text, /theirs/, "another class's Service is not shown");

  const one = await status({ kubeUrl: s.url, node: 'node-2' });
  t.equal(one.code, 0);
  t.notMatch(one.out.join('\n'), /node-1:|Services \(/, '--node: that node only');
  t.match(one.out.join('\n'), /^node-2: 0\/1 sessions Established/m);

  const json = await status({ kubeUrl: s.url, json: true });
  const view = JSON.parse(json.out.join('\n')) as ClusterStatus;
  t.strictSame(
    view.nodes.map((n) => [n.node, n.sessionsEstablished, n.announced.map((a) => a.service)]),
    [
      ['node-1', 1, ['demo/web']],
      ['node-2', 0, []],
    ],
  );
  t.match(
    view.services.find((x) => x.service === 'demo/web'),
    { announced: { status: 'True', reason: 'Announced' }, allocated: { status: 'True' }, legacyConditions: 0 },
  );
  t.strictSame(view.problems, []);

  // A kubeconfig file works as --kube-url does, through the built command too.
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, s.kubeconfigYaml());
  const viaFile = await status({ kubeconfig, json: true });
  t.equal(JSON.parse(viaFile.out.join('\n')).nodes.length, 2, '--kubeconfig');
  if (!BUILT) t.comment('packages/cli is not built (npx tsc -b): the command line is not run');
  else {
    const stdout = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, [CLI, 'status', '--cluster', '--kubeconfig', kubeconfig], { env: ENV }, (e, o, se) =>
        e ? reject(new Error(`${e.message}\n${se}`)) : resolve(o),
      ),
    );
    t.match(stdout, /^node-1\s+1\/1\s+1\s+1\s/m, '`bgp-announce status --cluster --kubeconfig FILE`');
  }
});

t.test('nobody reporting, the CRD missing, options that do not fit, an API that does not answer', async (t) => {
  const empty = await start();
  t.teardown(() => empty.stop());
  const none = await status({ kubeUrl: empty.url });
  t.equal(none.code, 0);
  t.match(none.out.join('\n'), /! no BGPNodeState in namespace bgp-announce: no daemon reports here/);
  t.match(none.out.join('\n'), /^Services \(0\):$/m);

  const old = await start({ customResources: BGP_ANNOUNCE_CRDS.filter((c) => c.plural !== 'bgpnodestates') });
  t.teardown(() => old.stop());
  const missing = await status({ kubeUrl: old.url, namespace: 'elsewhere' });
  t.equal(missing.code, 0);
  t.match(
    missing.out.join('\n'),
    /BGPNodeStates in namespace elsewhere: 0 nodes[\s\S]*! bgpnodestates\.bgp-announce\.io is not installed in the cluster/,
  );

  t.equal((await status({ kubeUrl: empty.url, peer: 'tor' })).code, 2, '--peer asks a node, not the cluster');
  t.match((await status({ kubeUrl: empty.url, admin: '127.0.0.1:7474' })).err, /--admin asks a node, not --cluster/);
  const noCluster = await statusCommand({ kubeUrl: empty.url }, { out: () => {}, err: () => {}, env: ENV });
  t.equal(noCluster, 2, '--kube-url without --cluster is a usage error');
  t.equal(
    (await status({ kubeUrl: empty.url, kubeconfig: '/nowhere' })).code,
    2,
    '--kube-url and --kubeconfig exclude each other',
  );
  const nowhere = await status({}, { HOME: dir });
  t.equal(nowhere.code, 2);
  t.match(nowhere.err, /no cluster to read: .*give --kubeconfig FILE or --kube-url URL/);

  const port = empty.port;
  await empty.stop();
  const down = await status({ kubeUrl: `http://127.0.0.1:${port}` });
  t.equal(down.code, 1, 'no answer from the API: exit 1');
  t.match(down.err, /^bgp-announce status --cluster: list bgpnodestates\.bgp-announce\.io in namespace bgp-announce: /);
});

t.test('formatClusterStatus: lists cut by the size cap are said so; --node for an unknown node', async (t) => {
  const view: ClusterStatus = {
    namespace: 'ns',
    nodes: [
      {
        node: 'n1',
        sessionsEstablished: 0,
        sessionsTotal: 0,
        servicesAnnounced: 1200,
        servicesNotAnnounced: 0,
        sessions: [],
        announced: [],
        notAnnounced: [],
        unlisted: 1200,
      },
    ],
    services: [],
    problems: [],
  };
  const lines = formatClusterStatus(view, Date.parse('2026-01-01T00:00:00Z'));
  t.ok(lines.includes('  no BGP sessions (no BGPPeer selects this node)'));
  t.ok(lines.includes('  (1200 more Services counted but not listed: the object lists at most 1000)'));
  t.match(formatClusterStatus(view, 0, 'n9').join('\n'), /! no BGPNodeState for node n9 \(nodes: n1\)/);
});
