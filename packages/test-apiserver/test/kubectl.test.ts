// The real kubectl against the server: `kubectl get svc -A -o wide` shows EXTERNAL-IP and the other
// columns of the Service printer, `kubectl get bgppeers` our CRD's printer columns, `kubectl get
// nodes` the Node printer's. Skipped when kubectl is not installed.
import { execFile } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { startServer } from './helpers.js';

const run = promisify(execFile);

function findKubectl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter).concat('/usr/bin', '/usr/local/bin')) {
    if (!dir) continue;
    const candidate = join(dir, 'kubectl');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

const kubectl = findKubectl();

t.test(
  'kubectl get shows the server-side columns',
  { skip: kubectl ? false : 'kubectl is not installed (looked in PATH and /usr/bin)' },
  async (t) => {
    const server = await startServer(t);
    const dir = mkdtempSync(join(tmpdir(), 'test-apiserver-kubectl-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const kubeconfig = join(dir, 'kubeconfig');
    writeFileSync(kubeconfig, server.kubeconfigYaml(), { mode: 0o600 });
    const get = async (...args: string[]): Promise<string[]> => {
      // Asynchronously: the server answers from this process's event loop.
      const { stdout } = await run(
        kubectl as string,
        ['--kubeconfig', kubeconfig, '--cache-dir', join(dir, 'cache'), '--request-timeout=20s', 'get', ...args],
        {
          timeout: 60_000,
          env: { ...process.env, HOME: dir, KUBECONFIG: kubeconfig },
        },
      );
      return stdout.trimEnd().split('\n');
    };

    server.create('services', {
      metadata: { name: 'web' },
      spec: { type: 'LoadBalancer', selector: { app: 'web' }, ports: [{ port: 80 }] },
    });
    server.patch('services', 'web', { status: { loadBalancer: { ingress: [{ ip: '198.51.100.7', ipMode: 'VIP' }] } } });
    server.create('services', {
      metadata: { name: 'pending' },
      spec: { type: 'LoadBalancer', ports: [{ port: 443 }] },
    });

    const wide = await get('svc', '-A', '-o', 'wide');
    t.match(
      wide[0],
      /^NAMESPACE\s+NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE\s+SELECTOR$/,
      'the Service printer columns, SELECTOR with -o wide',
    );
    t.match(
      wide.find((l) => /\sweb\s/.test(l)),
      /^default\s+web\s+LoadBalancer\s+192\.0\.2\.2\s+198\.51\.100\.7\s+80:30000\/TCP\s+\d+s\s+app=web$/,
    );
    t.match(
      wide.find((l) => /\spending\s/.test(l)),
      /^default\s+pending\s+LoadBalancer\s+192\.0\.2\.3\s+<pending>\s+443:30001\/TCP\s+\d+s\s+<none>$/,
    );
    t.match(
      wide.find((l) => /\skubernetes\s/.test(l)),
      /^default\s+kubernetes\s+ClusterIP\s+192\.0\.2\.1\s+<none>\s+443\/TCP\s+/,
    );
    const narrow = await get('svc');
    t.match(
      narrow[0],
      /^NAME\s+TYPE\s+CLUSTER-IP\s+EXTERNAL-IP\s+PORT\(S\)\s+AGE$/,
      'no SELECTOR (priority 1) without -o wide',
    );

    server.create('bgppeers', {
      metadata: { name: 'tor-a' },
      spec: { peerAddress: '192.0.2.254', peerASN: 65000, myASN: 64512, holdTime: '90s' },
    });
    server.patch('bgppeers', 'tor-a', {
      status: { conditions: [{ type: 'Accepted', status: 'True', reason: 'Valid', message: 'accepted' }] },
    });
    const peers = await get('bgppeers');
    t.match(
      peers[0],
      /^NAME\s+ADDRESS\s+PEER ASN\s+MY ASN\s+BFD PROFILE\s+MODE\s+ACCEPTED\s+AGE$/,
      "the CRD's printer columns",
    );
    t.match(peers[1], /^tor-a\s+192\.0\.2\.254\s+65000\s+64512\s+True\s+\d+s$/);
    const peersWide = await get('bgppeers', '-o', 'wide');
    t.match(peersWide[0], /\sACCEPTED\s+HOLD TIME\s+SOURCE\s+MULTI HOP\s+PROBLEM\s+AGE$/);
    t.match(peersWide[1], /\sTrue\s+90s\s+accepted\s+\d+s$/);

    server.create('nodes', {
      metadata: { name: 'node-a', labels: { 'node-role.kubernetes.io/control-plane': '' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.4' } },
    });
    const nodes = await get('nodes');
    t.match(nodes[0], /^NAME\s+STATUS\s+ROLES\s+AGE\s+VERSION$/, 'the Node printer columns');
    t.match(nodes[1], /^node-a\s+Ready\s+control-plane\s+\d+s\s+v1\.32\.4$/);

    const lists = server.requests().filter((r) => r.verb === 'list');
    t.ok(
      lists.length >= 5 && lists.every((r) => r.accept?.startsWith('application/json;as=Table;v=v1;g=meta.k8s.io')),
      'kubectl asked for Tables',
    );
  },
);
