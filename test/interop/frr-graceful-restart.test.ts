// Graceful restart after a real restart (issue 15): FRR (Debian's 8.4, zebra installing the kernel
// route) is the helper; a node namespace announces the VIP 203.0.113.10/32 with graceful restart and
// is restarted: the old process leaves FRR keeping its routes (SIGTERM, as in a DaemonSet rollout),
// then a new process starts. `ip monitor route` in the router's namespace watches the kernel all along.
//   - `bgp-announce daemon` with --state-dir: the new process finds the record of the old one, sets
//     the R bit (and, as every graceful-restart session now does, the F bit) in its first OPEN,
//     re-announces and sends End-of-RIB: the kernel route does not change at all, and zebra's route
//     is the same one (its uptime did not restart);
//   - the same restart with the capability the daemon sent before issue 15 (no R, no F bit), by the
//     Speaker child, whose new process has not announced the VIP yet when the session is back: FRR
//     drops the stale route at once, and the kernel route is deleted, then added again once the VIP
//     is announced. Measured with FRR 8.4: it acts on the F bit, not the R bit (a new session with F
//     but without R keeps the route too; R only shows as rBit in `show bgp neighbors json`), and with
//     the VIP re-sent in the same instant as the session, even a session without F left the kernel
//     route alone (bgpd coalesced the flush and the re-add).
// Needs root, ip and FRR: skipped elsewhere, a failure in CI (CI=true).
import t, { type Test } from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interopUnavailable, ip, requireOrSkip } from './netns.js';
import { poll, startProcess } from './gobgpd.js';
import { fabric, startSpeaker } from './fabric.js';
import { frrNeighbor, frrPaths, frrUnavailable, kernelNextHops, startFrr, type Frr } from './frr.js';

const BIN = fileURLToPath(new URL('../../packages/cli/bin/bgp-announce.js', import.meta.url));
const VIP = '203.0.113.10';
const ROUTER = '192.0.2.1';
const NODE = '192.0.2.11';
const SENTINEL = '198.51.100.99/32';

/** The graceful restart part of `show bgp neighbors <node> json` (FRR 8.4). */
type GrInfo = { rBit?: boolean; nBit?: boolean; ipv4Unicast?: { fBit?: boolean } };
const grInfo = (frr: Frr): GrInfo | undefined =>
  frr.json<Record<string, { gracefulRestartInfo?: GrInfo }>>(`show bgp neighbors ${NODE} json`)[NODE]
    ?.gracefulRestartInfo;

/** The fabric (router and one node), FRR as the helper. */
async function lab(t: Test, prefix: string) {
  const net = fabric(t, { rtr: [`${ROUTER}/24`], n1: [`${NODE}/24`] }, prefix);
  const frr = await router(t, net.hosts.rtr!.ns);
  return { rtr: net.hosts.rtr!, node: net.hosts.n1!, frr };
}

/** `ip monitor route` in `ns`: its output, and a sentinel route change that proves it is listening. */
async function monitorRoutes(t: Test, ns: string, dev: string) {
  const { output } = startProcess(t, 'ip', ['-n', ns, 'monitor', 'route']);
  let marks = 0;
  /** Adds and deletes the sentinel route and waits until the monitor printed both: every kernel change before it was seen. */
  const sync = async (): Promise<void> => {
    const before = output()
      .split('\n')
      .filter((l) => l.includes('198.51.100.99')).length;
    ip('-n', ns, 'route', 'add', SENTINEL, 'dev', dev);
    ip('-n', ns, 'route', 'del', SENTINEL, 'dev', dev);
    marks++;
    await poll('ip monitor to print the sentinel route', () =>
      output()
        .split('\n')
        .filter((l) => l.includes('198.51.100.99')).length >=
      before + 2
        ? true
        : undefined,
    );
  };
  await poll('ip monitor to listen', async () => {
    await sync();
    return true;
  });
  /** Kernel route changes of the VIP printed since `from` (an output length). */
  const vipChanges = (from: number): string[] =>
    output()
      .slice(from)
      .split('\n')
      .filter((l) => l.includes(VIP));
  return { output, sync, vipChanges, marks: () => marks };
}

/** FRR with zebra, a passive graceful-restart helper neighbor for the node. */
function router(t: Test, ns: string): Promise<Frr> {
  return startFrr(t, {
    ns,
    bgpd: [
      'router bgp 64496',
      ` bgp router-id ${ROUTER}`,
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ' timers bgp 3 9',
      ' bgp graceful-restart',
      ` neighbor ${NODE} remote-as 64497`,
      ` neighbor ${NODE} passive`,
      ' address-family ipv4 unicast',
      `  neighbor ${NODE} activate`,
      ' exit-address-family',
    ].join('\n'),
  });
}

/** How long a daemon may take to start and peer: its imports take seconds on a loaded 2-core machine. */
const DAEMON_START_MS = 60_000;

/** zebra's installed route for the VIP: its uptime in seconds, or undefined. */
function zebraUptime(frr: Frr): number | undefined {
  const routes = frr.json<Record<string, { uptime?: string; installed?: boolean }[]>>(`show ip route ${VIP}/32 json`);
  const r = routes[`${VIP}/32`]?.find((x) => x.installed === true);
  if (r?.uptime === undefined) return undefined;
  const [h, m, s] = r.uptime.split(':').map(Number);
  return (h ?? 0) * 3600 + (m ?? 0) * 60 + (s ?? 0);
}

t.test('a restarted daemon sets the R and F bits: the router keeps its kernel route untouched', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const { rtr, node, frr } = await lab(t, 'bggr');
  const work = mkdtempSync(join(tmpdir(), 'bgp-gr-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const config = join(work, 'config.yaml');
  writeFileSync(
    config,
    [
      'apiVersion: bgp-announce.io/v1alpha1',
      'kind: BGPPeer',
      'metadata: { name: tor }',
      `spec: { myASN: 64497, peerASN: 64496, peerAddress: ${ROUTER}, sourceAddress: ${NODE}, holdTime: 9s, enableGracefulRestart: true }`,
      '---',
      'apiVersion: bgp-announce.io/v1alpha1',
      'kind: StaticRoute',
      'metadata: { name: vip }',
      `spec: { prefixes: [${VIP}/32] }`,
      '',
    ].join('\n'),
  );
  const state = join(work, 'state');
  const daemon = () => {
    const { proc, output } = startProcess(t, 'ip', [
      'netns',
      'exec',
      node.ns,
      process.execPath,
      BIN,
      'daemon',
      '--config',
      config,
      '--node-name',
      'node-1',
      '--router-id',
      NODE,
      '--metrics-address',
      'off',
      '--admin-address',
      'off',
      '--no-bfd',
      '--drain-time',
      '0',
      '--state-dir',
      state,
    ]);
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
    return { proc, output, exited };
  };
  const first = daemon();
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n--- daemon:\n${first.output()}\n${frr.logs()}`);
  };
  await poll(
    'the kernel route via the node',
    () => (kernelNextHops(rtr.ns, VIP).join() === NODE ? true : undefined),
    DAEMON_START_MS,
  ).catch(withLogs);
  const gr = frrNeighbor(frr, NODE)?.neighborCapabilities?.gracefulRestart;
  t.ok(gr, `FRR negotiated graceful restart with the node (${JSON.stringify(gr)})`);

  const monitor = await monitorRoutes(t, rtr.ns, rtr.dev);
  const from = monitor.output().length;
  const uptimeBefore = zebraUptime(frr);
  const restartStarted = Date.now();
  t.ok(uptimeBefore !== undefined, 'zebra has the route installed');

  // A DaemonSet rollout: SIGTERM, the old process leaves FRR keeping its routes, a new one starts.
  first.proc.kill('SIGTERM');
  t.equal(await first.exited, 0, 'the old daemon exited 0');
  t.match(first.output(), /graceful restart: tor keep our routes/, 'it left tor keeping its routes');
  const stale = await poll('FRR to hold the path as stale', () =>
    frrPaths(frr, 'ipv4', `${VIP}/32`).find((p) => (p as { stale?: boolean }).stale === true),
  ).catch(withLogs);
  t.ok(stale, 'FRR keeps the path, stale, while the node restarts');

  const second = daemon();
  const withBoth = (err: Error): never => {
    throw new Error(
      `${err.message}\n--- old daemon:\n${first.output()}\n--- new daemon:\n${second.output()}\n${frr.logs()}`,
    );
  };
  await poll(
    'the new daemon to say it restarted',
    () => (/restarting: the first OPEN to tor sets the Restart State bit/.test(second.output()) ? true : undefined),
    DAEMON_START_MS,
  ).catch(withBoth);
  await poll('the session back and the path fresh (our End-of-RIB)', () => {
    const n = frrNeighbor(frr, NODE);
    const paths = frrPaths(frr, 'ipv4', `${VIP}/32`) as ({ stale?: boolean } & object)[];
    return n?.bgpState === 'Established' && paths.length === 1 && paths[0]!.stale !== true ? true : undefined;
  }).catch(withBoth);
  const info = grInfo(frr);
  t.equal(info?.rBit, true, "FRR received the R bit in the new process's OPEN");
  t.equal(info?.ipv4Unicast?.fBit, true, 'and the F bit for IPv4 unicast');
  await monitor.sync(); // every kernel change made so far has been printed
  t.strictSame(monitor.vipChanges(from), [], 'ip monitor route: no change of the VIP route during the restart');
  t.equal(kernelNextHops(rtr.ns, VIP).join(), NODE, 'the kernel route is still via the node');
  const uptimeAfter = zebraUptime(frr);
  const elapsed = Math.floor((Date.now() - restartStarted) / 1000);
  t.ok(elapsed >= 2, `the restart took a while (${elapsed} s)`);
  t.ok(
    uptimeAfter !== undefined && uptimeBefore !== undefined && uptimeAfter >= uptimeBefore + elapsed - 1,
    `zebra's route was not re-installed (uptime ${uptimeBefore} s before, ${uptimeAfter} s ${elapsed} s later)`,
  );
  const received = execFileSync('vtysh', ['--vty_socket', frr.dir, '-c', `show bgp neighbors ${NODE}`], {
    encoding: 'utf8',
  });
  t.match(received, /Remote Restart timer is 120 seconds/, "FRR read our graceful restart capability's Restart Time");
});

t.test(
  'the capability sent before issue 15 (no R, no F bit): FRR drops the stale route when the session returns',
  async (t) => {
    if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
    const { rtr, node, frr } = await lab(t, 'bggn');
    const speaker = (routes: { prefix: string }[]) =>
      startSpeaker(t, node.ns, {
        localAs: 64497,
        bgpId: NODE,
        peers: [
          {
            id: 'tor',
            options: {
              peerAddress: ROUTER,
              localAddress: NODE,
              peerAs: 64496,
              holdTime: 9,
              gracefulRestart: { restartTime: 120, notification: true }, // what peerOptionsFor gave before
            },
          },
        ],
        routes,
      });
    const first = speaker([{ prefix: `${VIP}/32` }]);
    await poll('the kernel route via the node', () =>
      kernelNextHops(rtr.ns, VIP).join() === NODE ? true : undefined,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${first.output()}\n${frr.logs()}`);
    });
    const monitor = await monitorRoutes(t, rtr.ns, rtr.dev);
    const from = monitor.output().length;
    first.command({ cmd: 'stop', restart: true, message: 'restarting' });
    t.equal(await first.exited, 0, 'the old process left for a restart');
    await poll('FRR to hold the path as stale', () =>
      frrPaths(frr, 'ipv4', `${VIP}/32`).find((p) => (p as { stale?: boolean }).stale === true),
    );
    // The new process announces nothing yet: what FRR does at the session's start is all there is.
    const second = speaker([]);
    await second.waitFor('the new session', (e) => e.event === 'established');
    t.equal(grInfo(frr)?.rBit, false, 'FRR saw no R bit');
    t.equal(grInfo(frr)?.ipv4Unicast?.fBit, false, 'and no F bit');
    await poll('FRR to drop the stale path', () =>
      frrPaths(frr, 'ipv4', `${VIP}/32`).length === 0 ? true : undefined,
    );
    await poll('the kernel route to go', () => (kernelNextHops(rtr.ns, VIP).length === 0 ? true : undefined));
    second.command({ cmd: 'announce', prefix: `${VIP}/32` });
    await poll('the kernel route back via the node', () =>
      kernelNextHops(rtr.ns, VIP).join() === NODE ? true : undefined,
    );
    await monitor.sync();
    const changes = monitor.vipChanges(from);
    t.ok(
      changes.some((l) => l.startsWith('Deleted')) && changes.some((l) => !l.startsWith('Deleted')),
      `ip monitor route: the VIP route was deleted and added again (${JSON.stringify(changes)})`,
    );
  },
);
