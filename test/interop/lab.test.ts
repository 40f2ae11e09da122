// `bgp-announce lab --json` end to end, once per router (gobgpd, FRR, BIRD): three sessions
// Established, each Service of ours with a VIP from 203.0.113.0/28 routed to all three nodes (Cluster)
// or to node-2 alone (Local, its endpoint's node), a Cluster Service with no endpoint anywhere given a
// VIP but withdrawn by every node, each node's BGPNodeState and each Service's Announced condition
// saying so, the other class's Service untouched and unrouted, and nothing left
// afterwards. Then --hold: the lab stays up until SIGINT, then is gone; and a lab
// killed with SIGKILL is cleaned up by the next run.
// Needs root, ip and the router's Debian package: skipped elsewhere, a failure in CI (CI=true).
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { interopUnavailable, ip, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { frrUnavailable } from './frr.js';
import { birdUnavailable } from './bird.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/bgp-announce.js', import.meta.url));
const NODES = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];
const STATE_DIR = '/run/bgp-announce-lab';

/** The parts of the lab's JSON report the test reads. */
interface Report {
  ok: boolean;
  problems: string[];
  peer: string;
  sessions: { node: string; address: string; state: string }[];
  nodeStates: {
    node: string;
    sessionsEstablished: number;
    sessionsTotal: number;
    servicesAnnounced: number;
    servicesNotAnnounced: number;
  }[];
  services: {
    namespace: string;
    name: string;
    loadBalancerClass: string;
    externalTrafficPolicy: string;
    vips: string[];
    finalizers: string[];
    routes: { prefix: string; nextHops: string[] }[];
    announced?: { status: string; message: string };
  }[];
  routerPrefixes: string[];
  namespaces: string[];
  workDir: string;
}

/** Runs the lab CLI; collects stdout and stderr; killed in t.teardown if still running. */
function startLab(
  t: Test,
  args: string[],
): { child: ChildProcess; stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
  const child = spawn(process.execPath, [BIN, 'lab', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (err += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await exited;
    }
  });
  return { child, stdout: () => out, stderr: () => err, exited };
}

function parseReport(text: string): Report | undefined {
  try {
    return JSON.parse(text) as Report;
  } catch {
    return undefined;
  }
}

function labNamespaces(): string[] {
  return ip('netns', 'list')
    .split('\n')
    .map((l) => l.split(' ')[0]!)
    .filter((n) => n.startsWith('bgplab-'));
}

/** The pool 203.0.113.0/28 without .0 (avoidBuggyIPs). */
function inPool(vip: string): boolean {
  const m = /^203\.0\.113\.(\d+)$/.exec(vip);
  return m !== null && Number(m[1]) >= 1 && Number(m[1]) <= 15;
}

/** The checks every router's report must pass. */
function checkReport(t: Test, r: Report, peer: string): void {
  t.equal(r.peer, peer);
  t.same(r.problems, [], 'the lab found nothing amiss');
  t.same(
    r.sessions.map((s) => [s.node, s.address, s.state]),
    NODES.map((a, i) => [`node-${i + 1}`, a, 'Established']),
    'three sessions Established',
  );
  t.same(
    r.nodeStates.map((n) => [
      n.node,
      n.sessionsEstablished,
      n.sessionsTotal,
      n.servicesAnnounced,
      n.servicesNotAnnounced,
    ]),
    [
      ['node-1', 1, 1, 2, 2],
      ['node-2', 1, 1, 3, 1],
      ['node-3', 1, 1, 2, 2],
    ],
    'each node reports its session and its Services in its BGPNodeState (ingress is Local, on node-2; idle on none)',
  );
  const byName = Object.fromEntries(r.services.map((s) => [`${s.namespace}/${s.name}`, s]));
  t.same(Object.keys(byName).sort(), ['demo/dns', 'demo/idle', 'demo/ingress', 'demo/other-class', 'demo/web']);
  const vips: string[] = [];
  for (const [name, expected] of [
    ['demo/web', NODES],
    ['demo/dns', NODES],
    ['demo/ingress', ['192.0.2.12']],
  ] as const) {
    const s = byName[name]!;
    t.equal(s.vips.length, 1, `${name} has one VIP`);
    const vip = s.vips[0]!;
    vips.push(vip);
    t.ok(inPool(vip), `${name}: ${vip} is from the pool 203.0.113.0/28`);
    t.same(
      s.routes.find((x) => x.prefix === `${vip}/32`)?.nextHops,
      expected,
      `${name}: the router sends ${vip} to ${expected.join(', ')}`,
    );
    t.ok(s.finalizers.includes('service.kubernetes.io/load-balancer-cleanup'), `${name} carries our cleanup finalizer`);
    const nodes = expected.map((a) => `node-${NODES.indexOf(a) + 1}`);
    t.same(
      s.announced,
      {
        status: 'True',
        message: `announced by ${nodes.length} node${nodes.length === 1 ? '' : 's'} (${nodes.join(', ')}) to 1 peer (router)`,
      },
      `${name}: its Announced condition`,
    );
  }
  const idle = byName['demo/idle']!;
  t.equal(idle.vips.length, 1, 'demo/idle has a VIP (allocation does not wait for endpoints)');
  t.ok(inPool(idle.vips[0]!), `demo/idle: ${idle.vips[0]} is from the pool`);
  t.same(
    idle.routes.find((x) => x.prefix === `${idle.vips[0]}/32`)?.nextHops ?? [],
    [],
    'demo/idle: no ready endpoint on any node, so no route',
  );
  t.same(
    idle.announced,
    {
      status: 'False',
      message: 'announced by no node: no ready endpoint on any node (externalTrafficPolicy Cluster) (3 of 3 nodes)',
    },
    'demo/idle: its Announced condition says why',
  );
  t.equal(new Set([...vips, idle.vips[0]]).size, 4, 'four different VIPs');
  t.equal(byName['demo/ingress']!.externalTrafficPolicy, 'Local');
  const other = byName['demo/other-class']!;
  t.equal(other.loadBalancerClass, 'kube-vip.io/kube-vip-class');
  t.same([other.vips, other.finalizers, other.routes], [[], [], []], 'the other class: no VIP, no finalizer, no route');
  t.same(
    [...r.routerPrefixes].sort(),
    vips.map((v) => `${v}/32`).sort(),
    'the router holds our three VIPs and nothing else',
  );
}

/** Nothing of the run is left: namespaces, state file, work directory. */
function checkGone(t: Test, r: Report): void {
  const left = labNamespaces();
  t.same(
    r.namespaces.filter((n) => left.includes(n)),
    [],
    'no namespace of the run is left',
  );
  const id = /^bgplab-([a-z0-9]+)-sw$/.exec(r.namespaces[0] ?? '')?.[1];
  t.ok(id, 'the run id is in the namespace names');
  t.notOk(existsSync(`${STATE_DIR}/${id}.json`), 'its state file is gone');
  t.notOk(existsSync(r.workDir), 'its work directory is gone');
}

const routers: [string, () => string | undefined][] = [
  ['gobgp', () => interopUnavailable(['gobgpd', 'gobgp'])],
  ['frr', () => interopUnavailable([]) ?? frrUnavailable()],
  ['bird', () => interopUnavailable([]) ?? birdUnavailable()],
];

for (const [peer, unavailable] of routers) {
  t.test(`bgp-announce lab --peer ${peer} --json`, async (t) => {
    if (!requireOrSkip(t, unavailable())) return;
    const started = Date.now();
    const lab = startLab(t, ['--peer', peer, '--json']);
    const status = await lab.exited;
    const seconds = (Date.now() - started) / 1000;
    const report = parseReport(lab.stdout());
    t.equal(status, 0, `exit status 0${status === 0 ? '' : `\nstderr:\n${lab.stderr()}`}`);
    if (!report) return t.fail(`stdout is not one JSON report:\n${lab.stdout()}\nstderr:\n${lab.stderr()}`);
    checkReport(t, report, peer);
    checkGone(t, report);
    // The issue's goal for the default lab (gobgpd, 3 nodes): the whole run well under a minute.
    if (peer === 'gobgp') t.ok(seconds < 60, `the whole run took ${seconds.toFixed(1)} s (under a minute)`);
    else t.comment(`the whole run took ${seconds.toFixed(1)} s`);
  });
}

t.test('--hold keeps the lab up until SIGINT; a killed lab is cleaned up by the next run', async (t) => {
  if (!requireOrSkip(t, interopUnavailable(['gobgpd', 'gobgp']))) return;
  const held = startLab(t, ['--nodes', '1', '--hold', '--json']);
  const report = await poll('the held lab to print its report', () => parseReport(held.stdout()), 60_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}\nstderr:\n${held.stderr()}`);
    },
  );
  t.equal(report.ok, true, 'one node: settled');
  t.same(
    report.namespaces.filter((n) => !labNamespaces().includes(n)),
    [],
    'every namespace exists while held',
  );
  await poll('the commands to look inside', () => (held.stderr().includes('Look inside:') ? true : undefined), 10_000);
  t.match(
    held.stderr(),
    new RegExp(`ip netns exec ${report.namespaces[1]} gobgp global rib`),
    'how to see the router RIB',
  );
  held.child.kill('SIGINT');
  t.equal(await held.exited, 0, 'exit status 0 after Ctrl-C');
  checkGone(t, report);

  const killed = startLab(t, ['--nodes', '1', '--hold', '--json']);
  const stale = await poll('the second held lab to print its report', () => parseReport(killed.stdout()), 60_000);
  killed.child.kill('SIGKILL');
  await killed.exited;
  const id = /^bgplab-([a-z0-9]+)-sw$/.exec(stale.namespaces[0]!)?.[1];
  t.ok(existsSync(`${STATE_DIR}/${id}.json`), 'a killed lab leaves its state file');
  t.ok(labNamespaces().includes(stale.namespaces[0]!), 'and its namespaces');

  const next = startLab(t, ['--nodes', '1', '--json']);
  const nextStatus = await next.exited;
  t.equal(nextStatus, 0, `the next run succeeds${nextStatus === 0 ? '' : `\nstderr:\n${next.stderr()}`}`);
  checkGone(t, stale);
});
