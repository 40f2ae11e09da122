// `bgp-announce lab`: the command line, the plan of names and addresses, the Debian packages each
// router needs, and the state file that lets the next run clean up after a crashed one.
import t from 'tap';
import { mkdtempSync, mkdirSync, existsSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { labPlan, localEndpointNode, newRunId, parseLabOptions, planNamespaces } from '../src/lab/plan.js';
import { debianNeeds, ensurePackages, missingPackages } from '../src/lab/packages.js';
import {
  cleanupStale,
  newState,
  ownerAlive,
  parseStartTime,
  parseState,
  processStartTime,
  writeState,
} from '../src/lab/state.js';
import { fabricCommands } from '../src/lab/fabric.js';
import { findCommand, GiveUp, run, waitFor } from '../src/lab/run.js';
import { UsageError } from '../src/options.js';

t.test('options: defaults and bad input', async (t) => {
  t.same(parseLabOptions({}), {
    peer: 'gobgp',
    nodes: 3,
    bfd: false,
    hold: false,
    json: false,
    prometheus: false,
    weighted: false,
    controlPlane: false,
  });
  t.same(parseLabOptions({ peer: 'frr', nodes: '5', bfd: true, hold: true, json: true }), {
    peer: 'frr',
    nodes: 5,
    bfd: true,
    hold: true,
    json: true,
    prometheus: false,
    weighted: false,
    controlPlane: false,
  });
  t.same(parseLabOptions({ prometheus: true, rules: 'my.rules.yaml' }), {
    peer: 'gobgp',
    nodes: 3,
    bfd: false,
    hold: false,
    json: false,
    prometheus: true,
    weighted: false,
    controlPlane: false,
    rules: 'my.rules.yaml',
  });
  t.same(parseLabOptions({ peer: 'frr', weighted: true }), {
    peer: 'frr',
    nodes: 3,
    bfd: false,
    hold: false,
    json: false,
    prometheus: false,
    weighted: true,
    controlPlane: false,
  });
  for (const peer of [undefined, 'gobgp', 'frr', 'bird'])
    t.same(
      parseLabOptions({ peer, controlPlane: true }).controlPlane,
      true,
      `--control-plane with --peer ${peer ?? '(default)'}`,
    );
  for (const peer of [undefined, 'gobgp', 'bird'])
    t.throws(() => parseLabOptions({ peer, weighted: true }), /--weighted needs --peer frr/, `--peer ${peer}`);
  t.throws(() => parseLabOptions({ rules: 'my.rules.yaml' }), new UsageError('--rules needs --prometheus'));
  t.throws(() => parseLabOptions({ prometheus: true, rules: '' }), new UsageError('--rules needs a file'));
  t.throws(
    () => parseLabOptions({ peer: 'quagga' }),
    new UsageError('--peer must be one of gobgp, frr, bird, got "quagga"'),
  );
  t.throws(() => parseLabOptions({ nodes: '0' }), new UsageError('--nodes must be a whole number 1-32, got "0"'));
  t.throws(() => parseLabOptions({ nodes: '33' }), { name: 'UsageError' });
  t.throws(() => parseLabOptions({ nodes: 'three' }), { name: 'UsageError' });
  t.throws(
    () => parseLabOptions({ bfd: true }),
    new UsageError('--bfd needs a router with BFD: gobgpd has none; use --peer frr or --peer bird'),
  );
});

t.test('the plan: names, addresses, AS numbers', async (t) => {
  const plan = labPlan({ peer: 'gobgp', nodes: 3, bfd: false }, 'abc123');
  t.equal(plan.switchNamespace, 'bgplab-abc123-sw');
  t.same(plan.router, { namespace: 'bgplab-abc123-rtr', address: '192.0.2.1', asn: 64496 });
  t.same(plan.api, { namespace: 'bgplab-abc123-api', address: '192.0.2.100', port: 6443 });
  t.equal(plan.prometheus, undefined, 'no Prometheus unless asked');
  t.equal(plan.controlPlane, undefined, 'no API VIP unless asked');
  t.same(
    labPlan({ peer: 'gobgp', nodes: 3, bfd: false, controlPlane: true }, 'abc123').controlPlane,
    { vip: '203.0.113.100', healthUrl: 'http://127.0.0.1:6443/readyz' },
    '--control-plane: the API VIP outside the pool 203.0.113.0/28, the stand-in where the API server listens',
  );
  t.same(
    labPlan({ peer: 'gobgp', nodes: 1, bfd: false, prometheus: true }, 'abc123').prometheus,
    { namespace: 'bgplab-abc123-api', address: '192.0.2.100', port: 9090 },
    'Prometheus in the API namespace, on the fabric',
  );
  t.same(
    plan.nodes.map((n) => [n.name, n.short, n.namespace, n.address, n.asn]),
    [
      ['node-1', 'n1', 'bgplab-abc123-n1', '192.0.2.11', 64497],
      ['node-2', 'n2', 'bgplab-abc123-n2', '192.0.2.12', 64497],
      ['node-3', 'n3', 'bgplab-abc123-n3', '192.0.2.13', 64497],
    ],
  );
  t.same(planNamespaces(plan), [
    'bgplab-abc123-sw',
    'bgplab-abc123-rtr',
    'bgplab-abc123-api',
    'bgplab-abc123-n1',
    'bgplab-abc123-n2',
    'bgplab-abc123-n3',
  ]);
  t.equal(localEndpointNode(plan).name, 'node-2', 'the Local Service endpoint is on node-2');
  t.equal(
    localEndpointNode(labPlan({ peer: 'gobgp', nodes: 1, bfd: false }, 'x')).name,
    'node-1',
    'or node-1 when alone',
  );
  t.equal(labPlan({ peer: 'bird', nodes: 32, bfd: false }, 'x').nodes[31]!.address, '192.0.2.42');
  t.match(newRunId(), /^[0-9a-z]{6}$/);
  t.equal(
    newRunId(() => 0.999),
    'zzzzzz',
  );
});

t.test('the fabric commands: a bridge in the switch namespace, eth0 in each host', async (t) => {
  const plan = labPlan({ peer: 'gobgp', nodes: 1, bfd: false }, 'id');
  const c = fabricCommands(plan);
  t.same(c.switch[2], ['-n', 'bgplab-id-sw', 'link', 'add', 'br0', 'type', 'bridge']);
  t.equal(c.hosts.length, 3, 'router, api, one node');
  t.same(c.hosts[2], [
    ['netns', 'add', 'bgplab-id-n1'],
    ['-n', 'bgplab-id-n1', 'link', 'set', 'lo', 'up'],
    ['link', 'add', 'eth0', 'netns', 'bgplab-id-n1', 'type', 'veth', 'peer', 'name', 'p-n1', 'netns', 'bgplab-id-sw'],
    ['-n', 'bgplab-id-sw', 'link', 'set', 'p-n1', 'master', 'br0'],
    ['-n', 'bgplab-id-sw', 'link', 'set', 'p-n1', 'up'],
    ['-n', 'bgplab-id-n1', 'addr', 'add', '192.0.2.11/24', 'dev', 'eth0'],
    ['-n', 'bgplab-id-n1', 'link', 'set', 'eth0', 'up'],
  ]);
  t.same(c.hosts[1]![5], ['-n', 'bgplab-id-api', 'addr', 'add', '192.0.2.100/24', 'dev', 'eth0']);
});

t.test('Debian packages per router', async (t) => {
  t.same(
    debianNeeds('gobgp', false).map((n) => n.package),
    ['iproute2', 'gobgpd'],
  );
  t.same(debianNeeds('frr', true)[1], {
    package: 'frr',
    commands: ['vtysh'],
    files: ['/usr/lib/frr/zebra', '/usr/lib/frr/bgpd', '/usr/lib/frr/bfdd'],
  });
  t.same(debianNeeds('bird', false)[1]!.commands, ['bird', 'birdc']);
  t.same(
    debianNeeds('gobgp', false, true).map((n) => n.package),
    ['iproute2', 'gobgpd', 'prometheus'],
    '--prometheus needs Debian prometheus',
  );
  t.same(debianNeeds('frr', false, true)[2], { package: 'prometheus', commands: ['prometheus'], files: [] });
  const has = (commands: string[], files: string[] = []) => ({
    command: (c: string) => commands.includes(c),
    file: (f: string) => files.includes(f),
  });
  t.same(missingPackages(debianNeeds('gobgp', false), has(['ip', 'gobgpd'])), [
    { package: 'gobgpd', missing: 'command gobgp' },
  ]);
  t.same(missingPackages(debianNeeds('frr', false), has(['ip', 'vtysh'], ['/usr/lib/frr/zebra'])), [
    { package: 'frr', missing: '/usr/lib/frr/bgpd' },
  ]);
  t.same(missingPackages(debianNeeds('bird', false), has(['ip', 'bird', 'birdc'])), []);
  const said: string[] = [];
  t.same(
    await ensurePackages(debianNeeds('bird', false), (l) => said.push(l), has(['ip', 'bird', 'birdc'])),
    [],
    'nothing to install',
  );
  await t.rejects(
    ensurePackages(debianNeeds('bird', false), (l) => said.push(l), has(['ip'])),
    {
      message: 'missing: bird2 (no command bird); there is no apt-get here: install bird2 yourself',
    },
  );
  t.same(said, [], 'nothing said when nothing is installed');

  // apt-get: the first install fails (stale package lists), update, install again.
  const installed = new Set(['ip']);
  const calls: string[] = [];
  let installs = 0;
  const aptGet = async (args: string[]): Promise<string> => {
    calls.push(args.join(' '));
    if (args[0] === 'install' && installs++ === 0) throw new Error('E: Unable to locate package bird2');
    if (args[0] === 'install') for (const c of ['bird', 'birdc']) installed.add(c);
    return '';
  };
  const machine = { command: (c: string) => installed.has(c) || c === 'apt-get', file: () => true };
  t.same(await ensurePackages(debianNeeds('bird', false), (l) => said.push(l), machine, aptGet), ['bird2']);
  t.same(calls, [
    'install -y -q --no-install-recommends bird2',
    'update -q',
    'install -y -q --no-install-recommends bird2',
  ]);
  t.same(
    said,
    [
      'installing Debian packages: bird2 (missing: bird2 (no command bird))',
      'apt-get install failed; running apt-get update and trying again',
    ],
    'it says what it installs',
  );
  const never = async (): Promise<string> => '';
  await t.rejects(
    ensurePackages(
      debianNeeds('gobgp', false),
      () => {},
      { command: (c) => c === 'apt-get' || c === 'ip', file: () => true },
      never,
    ),
    {
      message: 'installed gobgpd, but still missing: command gobgpd',
    },
  );
});

t.test('state files: start times, owners, parsing', async (t) => {
  t.equal(
    parseStartTime('1234 (node) S 1 1234 1234 0 -1 4194560 100 0 0 0 5 3 0 0 20 0 11 0 987654 1000 50'),
    '987654',
  );
  t.equal(
    parseStartTime('42 (a (b) c) R 1 42 42 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 555 1 1'),
    '555',
    'a command name with spaces and parentheses',
  );
  const mine = processStartTime(process.pid);
  t.match(mine, /^\d+$/, 'our own start time is read from /proc');
  t.ok(ownerAlive({ ownerPid: process.pid, ownerStartTime: mine! }), 'this process owns a state it wrote');
  t.notOk(
    ownerAlive({ ownerPid: process.pid, ownerStartTime: '1' }),
    'a reused pid with another start time is not the owner',
  );
  t.notOk(
    ownerAlive({ ownerPid: 1, ownerStartTime: 'x' }, () => undefined),
    'no such process',
  );
  const good = {
    id: 'abc',
    ownerPid: 5,
    ownerStartTime: '9',
    namespaces: ['bgplab-abc-sw'],
    directories: ['/tmp/bgp-announce-lab-abc-XYZ', '/var/run/frr/bgplab-abc-rtr'],
    createdAt: 'now',
  };
  t.same(parseState(JSON.stringify(good)), good);
  t.equal(
    parseState(JSON.stringify({ ...good, namespaces: ['prod'] })),
    undefined,
    'a namespace that is not a lab one is never touched',
  );
  t.equal(
    parseState(JSON.stringify({ ...good, directories: ['/etc'] })),
    undefined,
    'nor a directory that is not a lab one',
  );
  t.equal(parseState('not json'), undefined);
});

t.test('a stale run is removed, a live one is left alone', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-state-test-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const leftover = join(dir, 'bgp-announce-lab-dead-1');
  mkdirSync(leftover);
  writeFileSync(join(leftover, 'daemon-node-1.log'), 'x');
  await writeState(
    { id: 'dead', ownerPid: 2 ** 22 + 7, ownerStartTime: '1', namespaces: [], directories: [leftover], createdAt: '' },
    dir,
  );
  const live = newState('live', [], []);
  await writeState(live, dir);
  writeFileSync(join(dir, 'junk.json'), '{"id": 1}');
  const result = await cleanupStale(dir);
  t.same(result.removed, ['dead']);
  t.same(result.problems, [`${join(dir, 'junk.json')} is not a lab state file; left alone`]);
  t.notOk(existsSync(leftover), "the dead run's directory is gone");
  t.same(readdirSync(dir).sort(), ['junk.json', 'live.json'], "the dead run's state file is gone, the live one stays");
});

t.test('the command: bad input and no root', async (t) => {
  const bin = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
  const bad = spawnSync(process.execPath, [bin, 'lab', '--peer', 'quagga'], { encoding: 'utf8' });
  t.equal(bad.status, 2, 'usage error');
  t.equal(bad.stderr, 'bgp-announce lab: --peer must be one of gobgp, frr, bird, got "quagga"\n');
  const bfd = spawnSync(process.execPath, [bin, 'lab', '--bfd'], { encoding: 'utf8' });
  t.equal(bfd.status, 2);
  t.match(bfd.stderr, /gobgpd has none; use --peer frr or --peer bird/);
  if (process.getuid?.() !== 0) return;
  // `env -i`: tap injects its process-info hook into node children, which cannot write its files as nobody.
  const user = spawnSync('env', ['-i', `PATH=${process.env.PATH ?? ''}`, process.execPath, bin, 'lab'], {
    encoding: 'utf8',
    uid: 65534,
    gid: 65534,
    cwd: tmpdir(),
  });
  // A Node installed under /root (scripts/lib/node.sh's Node 24) cannot be run by nobody at all.
  if (user.status === 126 && /Permission denied/.test(user.stderr)) {
    t.comment(`not-root check skipped: ${process.execPath} is not executable by nobody`);
    return;
  }
  t.equal(user.status, 1, 'not root: exit 1');
  t.equal(user.stderr, 'bgp-announce lab: the lab needs root (it creates network namespaces); run it with sudo\n');
});

t.test('waitFor and run', async (t) => {
  let calls = 0;
  t.equal(await waitFor('the third call', () => (++calls === 3 ? 'yes' : undefined), 5000, 1), 'yes');
  let tries = 0;
  const started = Date.now();
  await t.rejects(
    waitFor(
      'a process that exited',
      () => {
        tries++;
        throw new GiveUp('gobgpd exited');
      },
      10_000,
      1,
    ),
    { name: 'GiveUp', message: 'gobgpd exited' },
  );
  t.equal(tries, 1, 'GiveUp stops the wait at once');
  t.ok(Date.now() - started < 5000);
  await t.rejects(
    waitFor(
      'never',
      () => {
        throw new Error('connection refused');
      },
      30,
      5,
    ),
    { message: 'timed out after 0 s waiting for never: connection refused' },
  );
  await t.rejects(run('no-such-command-here', ['x']), {
    name: 'CommandError',
    message: 'no-such-command-here x: not found',
  });
  await t.rejects(run(process.execPath, ['-e', 'console.error("bad thing"); process.exit(3)']), {
    name: 'CommandError',
    message: `${process.execPath} -e console.error("bad thing"); process.exit(3): bad thing`,
  });
  t.equal(await run(process.execPath, ['-e', 'process.stdout.write("out")']), 'out');
  t.match(
    findCommand('sh', ['/nonexistent', '/bin', '/usr/bin']),
    /^\/(usr\/)?bin\/sh$/,
    'sh is found in the directories given',
  );
  t.equal(findCommand('sh', ['/nonexistent']), undefined);
  t.equal(findCommand('no-such-command-here'), undefined);
});
