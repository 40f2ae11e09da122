// `bgp-announce check` on a real node: two network namespaces joined by a veth pair, a router (gobgpd,
// passive, 192.0.2.1) and a node (192.0.2.10) where another speaker (a second gobgpd, active, which
// also listens on :179) already peers with the router. The built command runs inside the node's
// namespace (`ip netns exec`) and must name that gobgpd by its pid: on :179, and as the holder of the
// router's one neighbor entry for 192.0.2.10. Then the same as an unprivileged user with no
// capabilities (setpriv): it still runs, and says the owner is unknown. Needs root, ip, gobgpd, gobgp
// and setpriv: skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interopUnavailable, ip, requireOrSkip, vethPair } from '../../../test/interop/netns.js';
import { GOBGP_ESTABLISHED, poll, startGobgpd, startProcess } from '../../../test/interop/gobgpd.js';

const CLI = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
const NOBODY = '65534';

type Finding = { check: string; status: string; message: string; fix?: string };

t.test('check inside a namespace where gobgpd holds :179 and a session to our router', async (t) => {
  if (!requireOrSkip(t, interopUnavailable(['gobgpd', 'gobgp', 'setpriv']))) return;
  if (!BUILT) {
    t.fail('packages/cli is not built: npx tsc -b');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'bgp-check-netns-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o755); // readable by the unprivileged run

  const { a: node, b: router } = vethPair(t, '192.0.2.10/24', '192.0.2.1/24', 'bgck');
  ip('-n', node.ns, 'addr', 'add', '192.0.2.11/24', 'dev', node.dev);
  const routerBgp = await startGobgpd(t, {
    ns: router.ns,
    as: 64501,
    address: '192.0.2.1',
    neighborAddress: '192.0.2.10',
    neighborAs: 64500,
  });

  // The other speaker on our node: gobgpd, active toward the router, listening on :179 (its default).
  const conf = join(dir, 'other.toml');
  writeFileSync(
    conf,
    [
      '[global.config]',
      '  as = 64500',
      '  router-id = "192.0.2.10"',
      '[[neighbors]]',
      '  [neighbors.config]',
      '    neighbor-address = "192.0.2.1"',
      '    peer-as = 64501',
      '',
    ].join('\n'),
  );
  // `ip netns exec` execs the command in place: the pid is gobgpd's own.
  const other = startProcess(t, 'ip', [
    'netns',
    'exec',
    node.ns,
    'gobgpd',
    '-f',
    conf,
    '--api-hosts',
    '127.0.0.1:50051',
    '--pprof-disable',
  ]);
  const pid = other.proc.pid!;
  await poll(
    "the other speaker's session to Established",
    () => (routerBgp.neighbor().state.session_state === GOBGP_ESTABLISHED ? true : undefined),
    60_000,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nother gobgpd:\n${other.output()}\nrouter gobgpd:\n${routerBgp.output()}`);
  });

  const configFile = (name: string, spec: Record<string, unknown>): string => {
    const path = join(dir, name);
    writeFileSync(
      path,
      `apiVersion: bgp-announce.io/v1alpha1\nkind: BGPPeer\nmetadata: {name: tor}\nspec: ${JSON.stringify({ myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', ...spec })}\n`,
    );
    return path;
  };
  const active = configFile('active.yaml', {});
  const passive = configFile('passive.yaml', { connectionMode: 'passive' });
  const ownSource = configFile('own-source.yaml', { sourceAddress: '192.0.2.11' });

  /** The built command in the node's namespace, as root or (prefix) as someone else; resolves with exit status and findings. */
  const check = (
    config: string,
    prefix: string[] = [],
  ): Promise<{ status: number | null; findings: Finding[]; stderr: string }> =>
    new Promise((resolve) => {
      const args = [
        'netns',
        'exec',
        node.ns,
        ...prefix,
        process.execPath,
        CLI,
        'check',
        '--config',
        config,
        '--node-name',
        'node-1',
        '--json',
      ];
      execFile('ip', args, { env: { PATH: process.env.PATH, HOME: dir }, timeout: 180_000 }, (err, stdout, stderr) => {
        const findings = stdout
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .map((l) => JSON.parse(l) as Finding);
        resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, findings, stderr });
      });
    });
  const find = (fs: Finding[], check: string): Finding =>
    fs.find((f) => f.check === check) ?? { check, status: 'missing', message: JSON.stringify(fs) };

  t.test('as root, active-only: :179 is no conflict, the source address is', async (t) => {
    const r = await check(active);
    t.equal(r.status, 1, r.stderr);
    const port = find(r.findings, 'port179');
    t.equal(port.status, 'ok');
    t.match(port.message, new RegExp(`^gobgpd \\(pid ${pid}\\) on (0\\.0\\.0\\.0|\\[::\\]):179`));
    t.match(port.message, /no conflict while active-only/);
    const source = find(r.findings, 'sourceCollision');
    t.equal(source.status, 'fail');
    t.equal(
      source.message,
      `BGPPeer tor: router 192.0.2.1 sees one neighbor per source address: gobgpd (pid ${pid}) already has a session from 192.0.2.10, and we would connect from 192.0.2.10 (the kernel's source toward it; no sourceAddress is set)`,
    );
  });

  t.test('as root, a passive peer: :179 held by gobgpd fails', async (t) => {
    const r = await check(passive);
    t.equal(r.status, 1, r.stderr);
    const port = find(r.findings, 'port179');
    t.equal(port.status, 'fail');
    t.match(
      port.message,
      new RegExp(
        `^BGPPeer tor listens on every address, port 179 \\(connectionMode passive\\), but gobgpd \\(pid ${pid}\\) on `,
      ),
    );
    t.match(port.fix, /set connectionMode: active on BGPPeer tor/);
  });

  t.test('as root, our own second address: no collision, exit 0', async (t) => {
    const r = await check(ownSource);
    t.equal(r.status, 0, r.stderr);
    t.match(find(r.findings, 'sourceCollision'), {
      status: 'ok',
      message: `BGPPeer tor: gobgpd (pid ${pid}) peers with 192.0.2.1 from 192.0.2.10; we use 192.0.2.11: a different neighbor`,
    });
  });

  t.test("as nobody with no capability: it runs, and cannot name root's process", async (t) => {
    const drop = [
      'setpriv',
      `--reuid=${NOBODY}`,
      `--regid=${NOBODY}`,
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--no-new-privs',
    ];
    const r = await check(passive, drop);
    t.equal(r.status, 0, `only warnings: ${r.stderr}`);
    const port = find(r.findings, 'port179');
    t.equal(port.status, 'warn');
    t.match(port.message, /uid 0, owner unknown \(run as root to see the process\) on /);
    t.notMatch(port.message, /gobgpd/);
    const source = find(r.findings, 'sourceCollision');
    t.equal(source.status, 'warn');
    t.match(
      source.message,
      /uid 0, owner unknown \(run as root to see the process\) already has a session from 192\.0\.2\.10/,
    );
  });
});
