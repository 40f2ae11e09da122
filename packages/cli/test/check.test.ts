// The built `bgp-announce check` against the hand-written /proc tree of the announcer's tests
// (--proc-root, hidden; see packages/announcer/test/fixtures/proc/node/README.md: gobgpd pid 4242 holds
// 0.0.0.0:179 and a session 192.0.2.10 -> 192.0.2.1:179, bird pid 6000 holds [2001:db8::10]:179) and
// config files written here: findings, their fixes, the exit status (0, 1, 2) and the JSON output.
// Most scenarios run checkCommand in this process; a few run the built command (each start loads the
// whole CLI, seconds on a loaded 2-vCPU machine, so those run two at a time).
import t from 'tap';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkCommand, type CheckCommandOptions } from '../src/check.js';

const CLI = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const BUILT = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));
const PROC = fileURLToPath(new URL('../../announcer/test/fixtures/proc/node', import.meta.url));

const dir = mkdtempSync(join(tmpdir(), 'bgp-check-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Writes a config file of BGPPeers (name -> spec fields beyond the ASNs) and returns its path. */
function config(name: string, peers: Record<string, Record<string, unknown>>): string {
  const docs = Object.entries(peers).map(([peer, spec]) =>
    [
      'apiVersion: bgp-announce.io/v1alpha1',
      'kind: BGPPeer',
      `metadata: {name: ${peer}}`,
      `spec: ${JSON.stringify({ myASN: 64500, peerASN: 64501, ...spec })}`,
    ].join('\n'),
  );
  const path = join(dir, name);
  writeFileSync(path, docs.join('\n---\n') + '\n');
  return path;
}

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A clean environment: no cluster to be found (HOME is empty, no KUBECONFIG, not in a pod). */
const ENV = { PATH: process.env.PATH, HOME: dir, NODE_NAME: 'node-1' };

let running = 0;
const waiting: (() => void)[] = [];

/** Runs the built CLI (at most two at a time). */
async function run(...args: string[]): Promise<Result> {
  if (running >= 2) await new Promise<void>((resolve) => waiting.push(resolve));
  running++;
  try {
    return await new Promise((resolve) => {
      execFile(process.execPath, [CLI, 'check', ...args], { env: ENV, timeout: 180_000 }, (err, stdout, stderr) => {
        resolve({ status: err ? ((err as { code?: number }).code ?? null) : 0, stdout, stderr });
      });
    });
  } finally {
    running--;
    waiting.shift()?.();
  }
}

/** checkCommand in this process, with the clean environment. */
async function check(options: CheckCommandOptions): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await checkCommand(options, { out: (l) => out.push(l), err: (l) => err.push(l), env: ENV });
  return { status, stdout: out.map((l) => `${l}\n`).join(''), stderr: err.map((l) => `${l}\n`).join('') };
}

type Finding = { check: string; status: string; message: string; fix?: string };
const findings = (r: Result): Finding[] =>
  r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Finding);

const collideFile = config('collide.yaml', {
  'tor-a': { peerAddress: '192.0.2.1', sourceAddress: '192.0.2.10' },
  far: { peerAddress: '198.51.100.1' },
});
const fineFile = config('fine.yaml', { 'tor-a': { peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11' } });

t.test(
  'active-only, gobgpd peers with our router from our source address: exit 1, each finding with its fix',
  async (t) => {
    const r = await check({ config: collideFile, procRoot: PROC, json: true });
    t.equal(r.status, 1, r.stderr);
    t.equal(r.stderr, '');
    const f = findings(r);
    t.strictSame(
      f.map((x) => [x.check, x.status]),
      [
        ['config', 'ok'],
        ['port179', 'ok'],
        ['sourceCollision', 'ok'],
        ['sourceCollision', 'fail'],
        ['otherController', 'skip'],
      ],
    );
    t.equal(f[0]!.message, `configuration from ${collideFile}: 2 BGPPeers on node node-1 (all active-only)`);
    t.match(
      f[1]!.message,
      /^gobgpd \(pid 4242\) on 0\.0\.0\.0:179; bird \(pid 6000\) on \[2001:db8::10\]:179 listens on :179; no conflict while active-only/,
    );
    t.equal(
      f[2]!.message,
      'BGPPeer far: no other speaker has a session with 198.51.100.1:179',
      'peers sorted by name; our own daemon (pid 900) does not count',
    );
    t.match(
      f[3]!.message,
      /^BGPPeer tor-a: router 192\.0\.2\.1 sees one neighbor per source address: gobgpd \(pid 4242\) already has a session from 192\.0\.2\.10/,
    );
    t.match(f[3]!.fix, /sourceAddress/);
    t.match(f[4]!.message, /no cluster access/);
  },
);

t.test('a different source address: nothing fails, exit 0; text output with a summary', async (t) => {
  const r = await check({ config: fineFile, procRoot: PROC });
  t.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  t.match(
    lines[2],
    /^ok {4}sourceCollision: BGPPeer tor-a: gobgpd \(pid 4242\) peers with 192\.0\.2\.1 from 192\.0\.2\.10; we use 192\.0\.2\.11/,
  );
  t.match(lines[3], /^skip {2}otherController: /);
  t.equal(lines.at(-1), '3 ok, 0 warn, 0 fail, 1 skip');
});

t.test('a passive peer while gobgpd holds :179: port179 fails with its fix', async (t) => {
  const r = await check({
    config: config('passive.yaml', {
      'tor-a': { peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11', connectionMode: 'passive' },
    }),
    procRoot: PROC,
  });
  t.equal(r.status, 1);
  const lines = r.stdout.split('\n');
  const at = lines.findIndex((l) =>
    l.startsWith(
      'FAIL  port179: BGPPeer tor-a listens on 192.0.2.11:179 (connectionMode passive), but gobgpd (pid 4242) on 0.0.0.0:179',
    ),
  );
  t.ok(at > 0, r.stdout);
  t.match(lines[at + 1], /^ {6}fix: set connectionMode: active on BGPPeer tor-a/);
});

t.test('an invalid config: each problem fails, the valid objects are still checked', async (t) => {
  const file = config('bad.yaml', {
    good: { peerAddress: '192.0.2.1', sourceAddress: '192.0.2.11' },
    bad: { peerAddress: '192.0.2.300', holdTime: 2 },
  });
  const r = await check({ config: file, procRoot: PROC, json: true });
  t.equal(r.status, 1);
  const f = findings(r);
  const problems = f.filter((x) => x.check === 'config' && x.status === 'fail');
  t.ok(problems.length >= 2, JSON.stringify(problems));
  t.ok(problems.some((p) => /^BGPPeer bad: spec\.peerAddress: /.test(p.message)));
  t.ok(problems.some((p) => /^BGPPeer bad: spec\.holdTime: /.test(p.message)));
  t.match(problems[0]!.fix, /rejects the whole configuration/);
  t.match(f.find((x) => x.check === 'config' && x.status === 'ok')?.message, /1 BGPPeer on node node-1/);
  t.equal(f.filter((x) => x.check === 'sourceCollision').length, 1, 'the valid peer');
});

t.test('an unreadable config file: a failing finding, the rest skipped', async (t) => {
  const r = await check({ config: join(dir, 'missing.yaml'), procRoot: PROC, json: true });
  t.equal(r.status, 1);
  const f = findings(r);
  t.match(f[0], {
    check: 'config',
    status: 'fail',
    message: /missing\.yaml: cannot read the config file: no such file/,
  });
  t.match(
    f.filter((x) => x.status === 'skip').map((x) => x.check),
    ['port179', 'sourceCollision', 'otherController'],
  );
});

t.test('a /proc without TCP tables: the socket checks are skipped, never a crash', async (t) => {
  const r = await check({
    config: config('empty.yaml', { 'tor-a': { peerAddress: '192.0.2.1' } }),
    procRoot: dir,
    json: true,
  });
  t.equal(r.status, 1, 'the unreadable tables fail');
  const f = findings(r);
  t.match(
    f.filter((x) => x.check === 'sockets').map((x) => x.status),
    ['fail', 'fail'],
  );
  t.match(
    f.find((x) => x.check === 'port179'),
    { status: 'skip', message: 'the TCP tables could not be read' },
  );
});

t.test('usage errors exit 2 with a message', async (t) => {
  const none = await check({ procRoot: PROC });
  t.equal(none.status, 2);
  t.equal(none.stdout, '');
  t.match(none.stderr, /^bgp-announce check: no configuration to check: give --config FILE, or --kubeconfig FILE/);
  for (const [option, value] of [
    ['config', ''],
    ['nodeName', ' '],
    ['loadBalancerClass', ''],
    ['procRoot', ''],
  ] as const) {
    const r = await check({ [option]: value });
    t.equal(r.status, 2, `${option} empty`);
    t.match(r.stderr, /must not be empty/);
  }
  const kube = await check({ kubeconfig: join(dir, 'nope') });
  t.equal(kube.status, 2);
  t.match(kube.stderr, /^bgp-announce check: kubeconfig .*nope: no such file$/m);
  const garbage = join(dir, 'garbage.kubeconfig');
  writeFileSync(garbage, 'clusters: [');
  const bad = await check({ kubeconfig: garbage });
  t.equal(bad.status, 2);
  t.match(bad.stderr, /^bgp-announce check: kubeconfig .*garbage\.kubeconfig: cannot be read: /);
});

t.test(
  'the built command: exit statuses, JSON, usage errors, help',
  { skip: !BUILT && 'packages/cli is not built (npx tsc -b)' },
  async (t) => {
    const [collide, fine, none, unknown, help] = await Promise.all([
      run('--config', collideFile, '--proc-root', PROC, '--json'),
      run('--config', fineFile, '--proc-root', PROC),
      run('--proc-root', PROC),
      run('--frobnicate'),
      run('--help'),
    ]);
    t.equal(collide.status, 1, collide.stderr);
    t.strictSame(
      findings(collide).map((f) => f.status),
      ['ok', 'ok', 'ok', 'fail', 'skip'],
    );
    t.equal(fine.status, 0, fine.stderr);
    t.equal(fine.stdout.trim().split('\n').at(-1), '3 ok, 0 warn, 0 fail, 1 skip');
    t.equal(none.status, 2);
    t.match(none.stderr, /^bgp-announce check: no configuration to check/);
    t.notMatch(none.stderr, /\n\s+at /, 'no stack trace');
    t.equal(unknown.status, 2);
    t.match(unknown.stderr, /unknown option '--frobnicate'/);
    t.equal(help.status, 0);
    for (const option of [
      '--config <file>',
      '--kubeconfig <file>',
      '--node-name <name>',
      '--load-balancer-class <class>',
      '--default-load-balancer',
      '--json',
    ])
      t.match(help.stdout, option);
    t.notMatch(help.stdout, /proc-root/, 'the test option stays hidden');
  },
);
