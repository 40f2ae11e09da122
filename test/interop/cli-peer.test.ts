// The built `bgp-announce peer` command (packages/cli/bin, after `npx tsc -b`) as a child process in a
// network namespace, against gobgpd (Debian's GoBGP 3.x, passive) in another: gobgpd at 192.0.2.1, us
// at 192.0.2.2, iBGP in AS 64496 so that LOCAL_PREF is carried. Checks: --until eor --json reaches
// Established, prints gobgpd's route and exits 0; while --until 60 runs, our route is in gobgpd's RIB
// with its community, large community, MED and LOCAL_PREF, and routes gobgpd adds and deletes are
// printed; SIGTERM exits 0 and gobgpd withdraws our route; a wrong AS on either side exits 1 naming
// the NOTIFICATION; no listener exits 1 within the connect timeout.
// Needs root, ip, gobgpd and gobgp: skipped elsewhere.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { interopUnavailable, requireOrSkip, vethPair } from './netns.js';
import { poll, startGobgpd } from './gobgpd.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const cli = join(here, '../../packages/cli/bin/bgp-announce.js');
const builtMain = join(here, '../../packages/cli/dist/main.js');

interface Run {
  pid: number;
  /** Output so far. */
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code (null when killed by a signal) and the run time; rejects after ms. */
  exit: (ms: number) => Promise<{ code: number | null; elapsedMs: number }>;
  signal: (s: NodeJS.Signals) => void;
}

/** Runs the CLI in `ns`; t.teardown kills it if it is still running. */
function runCli(t: Test, ns: string, args: string[]): Run {
  const started = Date.now();
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, cli, 'peer', ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => (out += c.toString()));
  proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
  // 'close', not 'exit': only then has all of its output been read.
  const exited = new Promise<{ code: number | null; elapsedMs: number }>((resolve) =>
    proc.once('close', (code) => resolve({ code, elapsedMs: Date.now() - started })),
  );
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return {
    pid: proc.pid!,
    stdout: () => out,
    stderr: () => err,
    exit: (ms) =>
      Promise.race([
        exited,
        new Promise<never>((_, reject) =>
          setTimeout(
            () => reject(new Error(`bgp-announce peer still running after ${ms} ms\nstdout:\n${out}\nstderr:\n${err}`)),
            ms,
          ).unref(),
        ),
      ]),
    signal: (s) => proc.kill(s),
  };
}

const jsonLines = (text: string): Record<string, unknown>[] =>
  text
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
const attr = (
  attrs: ({ type: number } & Record<string, unknown>)[],
  type: number,
): Record<string, unknown> | undefined => attrs.find((a) => a.type === type);

function ready(t: Test): boolean {
  if (!requireOrSkip(t, interopUnavailable(['gobgpd', 'gobgp']))) return false;
  if (!existsSync(builtMain)) {
    t.fail(`${builtMain} is missing: build the packages first (npx tsc -b)`);
    return false;
  }
  return true;
}

t.test('peer with gobgpd: --until eor, routes both ways, SIGTERM withdraws', async (t) => {
  if (!ready(t)) return;
  const { a: gobgpSide, b: ourSide } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgpc');
  // gobgpd sends End-of-RIB only with graceful restart negotiated: enabled there (helper) and offered by us.
  const { gobgp, neighbor, rib } = await startGobgpd(t, {
    ns: gobgpSide.ns,
    as: 64496,
    address: '192.0.2.1',
    neighborAddress: '192.0.2.2',
    neighborAs: 64496,
    gracefulRestart: { restartTime: 120 },
  });
  gobgp('global', 'rib', 'add', '198.51.100.0/24', 'origin', 'igp', 'community', '64496:7', 'med', '5', '-a', 'ipv4');

  const common = [
    '--local-as',
    '64496',
    '--peer-as',
    '64496',
    '--peer',
    '192.0.2.1',
    '--local-address',
    '192.0.2.2',
    '--hold-time',
    '9',
  ];
  const route = [
    '--announce',
    '203.0.113.0/24',
    '--community',
    '64496:100',
    '--large-community',
    '64496:1:2',
    '--med',
    '7',
    '--local-pref',
    '200',
  ];

  // 1. --until eor --json: Established, gobgpd's route received, End-of-RIB, exit 0.
  const eor = runCli(t, ourSide.ns, [...common, ...route, '--until', 'eor', '--graceful-restart', '60', '--json']);
  const first = await eor.exit(20000);
  t.equal(first.code, 0, `--until eor exits 0 (stderr: ${eor.stderr()})`);
  const events = jsonLines(eor.stdout());
  t.ok(
    events.some((e) => e.type === 'state' && e.to === 'Established'),
    'a state line reaching Established',
  );
  const established = events.find((e) => e.type === 'established');
  t.match(
    established,
    { peerAs: 64496, peerBgpId: '192.0.2.1', holdTime: 9, families: ['ipv4-unicast'] },
    'what the OPENs agreed',
  );
  t.match(
    events.find((e) => e.type === 'received' && e.prefix === '198.51.100.0/24'),
    {
      family: 'ipv4-unicast',
      nextHop: '192.0.2.1',
      asPath: '',
      origin: 'igp',
      med: 5,
      localPref: 100,
      communities: ['64496:7'],
    },
    "gobgpd's route printed as received",
  );
  t.match(
    events.find((e) => e.type === 'advertised'),
    {
      prefix: '203.0.113.0/24',
      nextHop: '192.0.2.2',
      med: 7,
      localPref: 200,
      communities: ['64496:100'],
      largeCommunities: ['64496:1:2'],
    },
    'our route as advertised',
  );
  t.ok(
    events.some((e) => e.type === 'end-of-rib' && e.family === 'ipv4-unicast'),
    'End-of-RIB line',
  );
  t.match(events.at(-1), { type: 'stopped', status: 0 }, 'last line: stopped, status 0');
  t.ok(
    events.length > 0 && events.every((e) => typeof e.time === 'string' && !Number.isNaN(Date.parse(e.time))),
    'every JSON line carries an ISO time',
  );

  // 2. --until 60 (readable output, no graceful restart): our route is in gobgpd's RIB; SIGTERM
  // withdraws it and exits 0.
  await poll('gobgpd to see the first session end', () => (neighbor().state.session_state !== 6 ? true : undefined));
  const long = runCli(t, ourSide.ns, [...common, ...route, '--until', '60']);
  const paths = await poll('203.0.113.0/24 in gobgpd global rib', () => rib()['203.0.113.0/24'], 20000).catch(
    (err: Error) => {
      throw new Error(`${err.message}\nstdout:\n${long.stdout()}\nstderr:\n${long.stderr()}`);
    },
  );
  const attrs = paths[0]!.attrs;
  t.equal(attr(attrs, 3)?.nexthop, '192.0.2.2', 'next hop self');
  t.equal(attr(attrs, 4)?.metric, 7, 'MED 7');
  t.equal(attr(attrs, 5)?.value, 200, 'LOCAL_PREF 200');
  t.strictSame(attr(attrs, 8)?.communities, [64496 * 65536 + 100], 'COMMUNITIES 64496:100');
  t.match(attr(attrs, 32)?.value, [{ ASN: 64496, LocalData1: 1, LocalData2: 2 }], 'LARGE_COMMUNITY 64496:1:2');
  await poll('the readable received line', () =>
    /received 198\.51\.100\.0\/24 next-hop 192\.0\.2\.1 as-path \(empty\) origin igp med 5 local-pref 100 communities 64496:7/.test(
      long.stdout(),
    )
      ? true
      : undefined,
  );
  // A route gobgpd adds and deletes while we run: printed as received, then withdrawn.
  gobgp('global', 'rib', 'add', '198.51.100.64/26', 'origin', 'igp', 'large-community', '64496:3:4', '-a', 'ipv4');
  await poll('the added route printed', () =>
    /received 198\.51\.100\.64\/26 next-hop 192\.0\.2\.1 as-path \(empty\) origin igp local-pref 100 large-communities 64496:3:4/.test(
      long.stdout(),
    )
      ? true
      : undefined,
  );
  gobgp('global', 'rib', 'del', '198.51.100.64/26', '-a', 'ipv4');
  await poll('the deleted route printed as withdrawn', () =>
    /withdrawn 198\.51\.100\.64\/26/.test(long.stdout()) ? true : undefined,
  );
  t.pass('routes gobgpd adds and deletes are printed as they come');
  const cease = neighbor().state.messages.received.notification ?? 0;
  long.signal('SIGTERM');
  const second = await long.exit(10000);
  t.equal(second.code, 0, `SIGTERM exits 0 (stderr: ${long.stderr()})`);
  t.match(long.stdout(), /stopped \(exit 0\): stopped by SIGTERM/, 'says why it stopped');
  await poll('gobgpd to count our Cease', () =>
    (neighbor().state.messages.received.notification ?? 0) > cease ? true : undefined,
  );
  await poll('our route gone from gobgpd', () => (rib()['203.0.113.0/24'] === undefined ? true : undefined));
  t.pass('gobgpd withdrew 203.0.113.0/24');
});

t.test('peer with gobgpd: a wrong AS on either side exits 1 naming the NOTIFICATION', async (t) => {
  if (!ready(t)) return;
  const { a: gobgpSide, b: ourSide } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgpc');
  await startGobgpd(t, {
    ns: gobgpSide.ns,
    as: 64496,
    address: '192.0.2.1',
    neighborAddress: '192.0.2.2',
    neighborAs: 64497,
  });
  const base = ['--peer', '192.0.2.1', '--local-address', '192.0.2.2', '--connect-timeout', '20'];

  // We expect AS 64499; gobgpd is 64496: we refuse its OPEN.
  const ours = runCli(t, ourSide.ns, [...base, '--local-as', '64497', '--peer-as', '64499']);
  const a = await ours.exit(20000);
  t.equal(a.code, 1, 'exit 1');
  t.match(
    ours.stderr(),
    /we refused peer 192\.0\.2\.1's OPEN \(peer is AS 64496, expected AS 64499\): NOTIFICATION 2\/2 OPEN Message Error\/Bad Peer AS sent/,
    'names the NOTIFICATION we sent',
  );
  t.notMatch(ours.stderr(), /\n\s+at /, 'no stack trace');

  // gobgpd expects AS 64497; we say 64498: it refuses ours.
  const theirs = runCli(t, ourSide.ns, [...base, '--local-as', '64498', '--peer-as', '64496', '--json']);
  const b = await theirs.exit(20000);
  t.equal(b.code, 1, 'exit 1');
  t.match(
    theirs.stderr(),
    /^bgp-announce peer: peer 192\.0\.2\.1 refused the session: NOTIFICATION 2\/2 OPEN Message Error\/Bad Peer AS\n$/,
    'names the NOTIFICATION received',
  );
  t.match(
    jsonLines(theirs.stdout()).find((e) => e.type === 'down' && e.notification !== undefined),
    { notification: 'NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS received' },
    'a down line with it',
  );
});

t.test('peer where nothing listens: exit 1 within the connect timeout, naming the error', async (t) => {
  if (!ready(t)) return;
  const { b: ourSide } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgpc');
  const run = runCli(t, ourSide.ns, [
    '--local-as',
    '64497',
    '--peer-as',
    '64496',
    '--peer',
    '192.0.2.1',
    '--connect-timeout',
    '3',
    '--announce',
    '203.0.113.0/24',
  ]);
  const r = await run.exit(10000);
  t.equal(r.code, 1, 'exit 1');
  // Not before the timeout; the upper bound only rules out waiting for something else (Node's start-up
  // alone takes seconds on a loaded machine).
  t.ok(r.elapsedMs >= 3000 && r.elapsedMs < 20000, `gave up after the 3 s connect timeout (took ${r.elapsedMs} ms)`);
  t.match(
    run.stderr(),
    /^bgp-announce peer: session with 192\.0\.2\.1 not established within 3 s: cannot connect to 192\.0\.2\.1 port 179: connection refused \(ECONNREFUSED\)\n$/,
    'clear message',
  );
  t.match(run.stdout(), /192\.0\.2\.1 Idle -> Connect/, 'state lines while trying');
});
