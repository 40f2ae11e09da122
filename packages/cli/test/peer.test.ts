// `bgp-announce peer` command line parsing: every option's validation (message naming the option,
// exit status 2 through peerCommand and through the built CLI), and the plan handed to the Speaker.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  MD5_PASSWORD_ENV,
  parseAnnounceFile,
  parseListen,
  parsePeerBfd,
  parsePeerCommand,
  parsePrefix,
  parseUntil,
  type PeerCommandOptions,
} from '../src/peer.js';
import { UsageError, parseAs } from '../src/options.js';
import { peerCommand } from '../src/peer-run.js';

const base: PeerCommandOptions = { localAs: '64497', peerAs: '64496', peer: '192.0.2.1', localAddress: '192.0.2.2' };
const usage = (o: PeerCommandOptions, input = {}): string => {
  try {
    parsePeerCommand(o, input);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('no UsageError');
};

t.test('the plan for a typical command line', async (t) => {
  const plan = parsePeerCommand({
    ...base,
    announce: ['203.0.113.0/24', '198.51.100.7/32', '203.0.113.0/24'],
    community: ['64497:100', 'no-export'],
    largeCommunity: ['64497:1:2'],
    med: '7',
    holdTime: '9',
    port: '1179',
    until: 'eor',
    json: true,
  });
  t.strictSame(plan, {
    localAs: 64497,
    bgpId: '192.0.2.2',
    peerId: '192.0.2.1',
    peer: {
      peerAddress: '192.0.2.1',
      peerAs: 64496,
      localAddress: '192.0.2.2',
      peerPort: 1179,
      families: ['ipv4-unicast'],
      communities: ['64497:100', 'no-export'],
      largeCommunities: ['64497:1:2'],
      med: 7,
      holdTime: 9,
    },
    prefixes: ['203.0.113.0/24', '198.51.100.7/32'],
    until: { kind: 'eor' },
    connectTimeoutMs: 30000,
    gracefulShutdownMs: undefined,
    json: true,
    warnings: [],
  });
});

t.test('defaults and derived settings', async (t) => {
  const bare = parsePeerCommand({ localAs: '64497', peerAs: '64496', peer: '192.0.2.1' });
  t.equal(bare.bgpId, undefined, 'IPv4 peer, no local address: router id found at run time');
  t.strictSame(bare.until, { kind: 'signal' }, 'runs until a signal');
  t.equal(bare.peer.mode, undefined, 'active (the Speaker default)');
  t.equal(parsePeerCommand({ ...base, routerId: '198.51.100.1' }).bgpId, '198.51.100.1', '--router-id wins');
  t.equal(parsePeerCommand({ ...base, passive: true }).peer.mode, 'passive');
  const both = parsePeerCommand({ ...base, listen: '192.0.2.2:1179' });
  t.equal(both.peer.mode, 'both', '--listen without --passive: connect and listen');
  t.strictSame(both.peer.listen, { host: '192.0.2.2', port: 1179 });
  t.equal(parsePeerCommand({ ...base, ttlSecurity: true }).peer.ttlSecurity, 1, '--ttl-security alone: 1 hop');
  t.equal(parsePeerCommand({ ...base, ttlSecurity: '3' }).peer.ttlSecurity, 3);
  t.equal(parsePeerCommand({ ...base, ebgpMultihop: '4' }).peer.ebgpMultihop, 4);
  t.strictSame(parsePeerCommand({ ...base, gracefulRestart: '120' }).peer.gracefulRestart, { restartTime: 120 });
  t.equal(parsePeerCommand({ ...base, gracefulShutdown: '5' }).gracefulShutdownMs, 5000);
  t.equal(parsePeerCommand({ ...base, connectTimeout: '0' }).connectTimeoutMs, 0, '0: no limit');
  t.equal(parsePeerCommand({ ...base, md5Password: 's3cret' }).peer.md5Password, 's3cret');
  t.equal(
    parsePeerCommand(base, { env: { [MD5_PASSWORD_ENV]: 'from-env' } }).peer.md5Password,
    'from-env',
    'key from the environment',
  );
  t.equal(
    parsePeerCommand({ ...base, md5Password: 'opt' }, { env: { [MD5_PASSWORD_ENV]: 'env' } }).peer.md5Password,
    'opt',
    'the option wins',
  );
  t.equal(parsePeerCommand({ ...base, localAs: '1.10' }).localAs, 65546, 'asdot');
  const ibgp = parsePeerCommand({ ...base, peerAs: '64497', localPref: '200' });
  t.equal(ibgp.peer.localPref, 200);
  t.strictSame(ibgp.warnings, [], 'no warning on iBGP');
  t.match(
    parsePeerCommand({ ...base, localPref: '200' }).warnings,
    [/--local-pref is sent to iBGP peers only/],
    'warned on eBGP',
  );
});

t.test('--bfd: MetalLB defaults; the tuning options imply it', async (t) => {
  // MetalLB's BFDProfile defaults, written out here.
  const metallb = {
    receiveInterval: 300,
    transmitInterval: 300,
    detectMultiplier: 3,
    echoInterval: 50,
    echoMode: false,
    passiveMode: false,
    minimumTtl: 254,
  };
  t.equal(parsePeerCommand(base).peer.bfd, undefined, 'no BFD unless asked');
  t.strictSame(parsePeerCommand({ ...base, bfd: true }).peer.bfd, { profile: { name: 'command-line', ...metallb } });
  t.strictSame(
    parsePeerCommand({ ...base, bfdInterval: '50', bfdMultiplier: '5', bfdMultihop: true, bfdPassive: true }).peer.bfd,
    {
      profile: {
        name: 'command-line',
        ...metallb,
        receiveInterval: 50,
        transmitInterval: 50,
        detectMultiplier: 5,
        passiveMode: true,
      },
      multihop: true,
    },
  );
  t.match(
    parsePeerBfd({ bfdMultiplier: '2' }),
    { profile: { detectMultiplier: 2, transmitInterval: 300 } },
    '--bfd-multiplier alone turns BFD on',
  );
  t.equal(parsePeerBfd({ bfd: false }), undefined);
});

t.test('families and next hops', async (t) => {
  const v6 = parsePeerCommand({ ...base, announce: ['2001:db8:1::/48'], nextHopIpv6: '2001:db8::2' });
  t.strictSame(v6.peer.families, ['ipv4-unicast', 'ipv6-unicast'], 'an IPv6 prefix offers ipv6-unicast');
  t.equal(v6.peer.nextHopIpv6, '2001:db8::2');
  const v6session = parsePeerCommand({
    localAs: '64497',
    peerAs: '64496',
    peer: '2001:DB8::1',
    routerId: '192.0.2.2',
    announce: ['2001:db8:1::/48'],
  });
  t.equal(v6session.peer.peerAddress, '2001:db8::1', 'canonical address');
  t.strictSame(v6session.peer.families, ['ipv6-unicast']);
  const enh = parsePeerCommand({
    localAs: '64497',
    peerAs: '64496',
    peer: '2001:db8::1',
    routerId: '192.0.2.2',
    announce: ['203.0.113.0/24'],
    extendedNextHop: true,
  });
  t.strictSame(enh.peer.families, ['ipv6-unicast', 'ipv4-unicast']);
  t.equal(enh.peer.extendedNextHop, true);
  t.strictSame(
    parsePeerCommand({ ...base, family: ['ipv6,ipv4-unicast'] }).peer.families,
    ['ipv6-unicast', 'ipv4-unicast'],
    '--family as given',
  );
});

t.test('small parsers', async (t) => {
  t.equal(parseAs('4294967295', '--x'), 4294967295);
  t.equal(parseAs('65535.65535', '--x'), 4294967295);
  t.equal(parseAs('0.1', '--x'), 1);
  t.equal(parsePrefix('2001:DB8:0::/32', '--x'), '2001:db8::/32');
  t.equal(parsePrefix('0.0.0.0/0', '--x'), '0.0.0.0/0');
  t.equal(parsePrefix('192.0.2.128/25', '--x'), '192.0.2.128/25');
  t.strictSame(parseListen('[2001:db8::2]:0'), { host: '2001:db8::2', port: 0 });
  t.strictSame(parseUntil('2.5'), { kind: 'time', ms: 2500 });
  t.strictSame(parseAnnounceFile('# ours\n203.0.113.0/24  # web\n\n  198.51.100.0/24\r\n', 'f'), [
    '203.0.113.0/24',
    '198.51.100.0/24',
  ]);
});

// Each bad option: the message that names it.
const BAD: [string, PeerCommandOptions, RegExp][] = [
  ['missing --local-as', { peerAs: '1', peer: '192.0.2.1' }, /^--local-as is required$/],
  ['missing --peer-as', { localAs: '1', peer: '192.0.2.1' }, /^--peer-as is required$/],
  ['missing --peer', { localAs: '1', peerAs: '1' }, /^--peer is required$/],
  [
    'AS 0',
    { ...base, localAs: '0' },
    /^--local-as must be an AS number 1-4294967295 \(or asdot such as 1\.10\), got "0"$/,
  ],
  ['AS too big', { ...base, peerAs: '4294967296' }, /^--peer-as must be an AS number/],
  ['AS not a number', { ...base, peerAs: 'AS64496' }, /^--peer-as must be an AS number/],
  ['asdot part too big', { ...base, localAs: '65536.1' }, /^--local-as must be an AS number/],
  ['asdot 0.0', { ...base, localAs: '0.0' }, /^--local-as must be an AS number/],
  ['peer not an address', { ...base, peer: 'router1' }, /^--peer must be an IPv4 or IPv6 address, got "router1"$/],
  ['peer with a prefix length', { ...base, peer: '192.0.2.1/24' }, /^--peer must be an IPv4 or IPv6 address/],
  [
    'local address of the other family',
    { ...base, localAddress: '2001:db8::2' },
    /^--local-address 2001:db8::2 and --peer 192\.0\.2\.1 must be of one family/,
  ],
  ['port 0', { ...base, port: '0' }, /^--port must be a whole number 1-65535, got "0"$/],
  ['port 65536', { ...base, port: '65536' }, /^--port must be a whole number 1-65535/],
  [
    'router id not a dotted quad',
    { ...base, routerId: '2001:db8::2' },
    /^--router-id must be a dotted quad other than 0\.0\.0\.0/,
  ],
  ['router id 0.0.0.0', { ...base, routerId: '0.0.0.0' }, /^--router-id must be a dotted quad/],
  [
    'IPv6 session without a router id',
    { localAs: '1', peerAs: '2', peer: '2001:db8::1' },
    /^--router-id is required on an IPv6 session/,
  ],
  [
    'bad prefix',
    { ...base, announce: ['203.0.113.0'] },
    /^--announce: not an IP prefix \(such as 192\.0\.2\.0\/24 or 2001:db8::\/32\): "203\.0\.113\.0"$/,
  ],
  ['prefix too long', { ...base, announce: ['203.0.113.0/33'] }, /^--announce: prefix length 33 is more than 32/],
  [
    'host bits set',
    { ...base, announce: ['203.0.113.1/24'] },
    /^--announce: 203\.0\.113\.1\/24 has host bits set \(did you mean 203\.0\.113\.0\/24\?\)$/,
  ],
  [
    'bad community',
    { ...base, community: ['64497:70000'] },
    /^--community must be "A:B" \(each 0-65535\) or a well-known name such as no-export, got "64497:70000"$/,
  ],
  [
    'bad large community',
    { ...base, largeCommunity: ['1:2'] },
    /^--large-community must be "A:B:C" \(each 0-4294967295\), got "1:2"$/,
  ],
  ['bad local-pref', { ...base, localPref: '-1' }, /^--local-pref must be a whole number 0-4294967295, got "-1"$/],
  ['bad med', { ...base, med: '4294967296' }, /^--med must be a whole number 0-4294967295/],
  ['hold time 2', { ...base, holdTime: '2' }, /^--hold-time must be 0 or 3-65535 seconds, got "2"$/],
  ['hold time 65536', { ...base, holdTime: '65536' }, /^--hold-time must be 0 or 3-65535 seconds/],
  ['listen without port', { ...base, listen: '192.0.2.2' }, /^--listen must be ADDR:PORT or \[IPv6\]:PORT/],
  [
    'listen IPv6 without brackets',
    { ...base, listen: '2001:db8::2:179' },
    /^--listen must be ADDR:PORT or \[IPv6\]:PORT/,
  ],
  ['listen IPv4 in brackets', { ...base, listen: '[192.0.2.2]:179' }, /^--listen: an IPv6 address goes in brackets/],
  ['listen port too big', { ...base, listen: '192.0.2.2:70000' }, /^--listen port must be a whole number 0-65535/],
  [
    'listen of the other family',
    { ...base, listen: '[2001:db8::2]:179' },
    /^--listen \[2001:db8::2\]:179 and --peer 192\.0\.2\.1 must be of one family$/,
  ],
  ['empty md5 password', { ...base, md5Password: '' }, /^--md5-password must be 1-80 bytes long .*got 0 bytes$/],
  [
    'md5 password too long',
    { ...base, md5Password: 'x'.repeat(81) },
    /^--md5-password must be 1-80 bytes long .*got 81 bytes$/,
  ],
  ['ttl-security 0', { ...base, ttlSecurity: '0' }, /^--ttl-security must be a number of hops 1-254, got "0"$/],
  ['ebgp-multihop 256', { ...base, ebgpMultihop: '256' }, /^--ebgp-multihop must be a TTL 1-255/],
  [
    'both GTSM and multihop',
    { ...base, ttlSecurity: true, ebgpMultihop: '2' },
    /^--ttl-security and --ebgp-multihop exclude each other/,
  ],
  [
    'graceful restart time',
    { ...base, gracefulRestart: '4096' },
    /^--graceful-restart must be a restart time 0-4095 seconds/,
  ],
  [
    'graceful shutdown time',
    { ...base, gracefulShutdown: 'soon' },
    /^--graceful-shutdown must be a drain time 0-3600 seconds/,
  ],
  [
    'connect timeout',
    { ...base, connectTimeout: '-5' },
    /^--connect-timeout must be 0 \(no limit\) or 1-86400 seconds/,
  ],
  ['until', { ...base, until: 'forever' }, /^--until must be established, eor or a number of seconds, got "forever"$/],
  ['until 0', { ...base, until: '0' }, /^--until must be/],
  [
    'bfd interval too short',
    { ...base, bfdInterval: '9' },
    /^--bfd-interval must be a number of milliseconds 10-60000, got "9"$/,
  ],
  [
    'bfd interval not a number',
    { ...base, bfd: true, bfdInterval: '0.3s' },
    /^--bfd-interval must be a number of milliseconds 10-60000, got "0\.3s"$/,
  ],
  ['bfd multiplier 1', { ...base, bfdMultiplier: '1' }, /^--bfd-multiplier must be a whole number 2-255, got "1"$/],
  [
    'bfd multiplier 256',
    { ...base, bfd: true, bfdMultiplier: '256' },
    /^--bfd-multiplier must be a whole number 2-255/,
  ],
  [
    'unknown family',
    { ...base, family: ['l2vpn-evpn'] },
    /^--family must be ipv4-unicast or ipv6-unicast, got "l2vpn-evpn"$/,
  ],
  [
    'prefix outside --family',
    { ...base, family: ['ipv4-unicast'], announce: ['2001:db8::/32'], nextHopIpv6: '2001:db8::2' },
    /^--announce 2001:db8::\/32 is ipv6-unicast but --family does not include ipv6-unicast$/,
  ],
  [
    'IPv6 next hop in --next-hop',
    { ...base, nextHop: '2001:db8::2' },
    /^--next-hop is the next hop of IPv4 prefixes and must be IPv4; use --next-hop-ipv6/,
  ],
  ['IPv4 in --next-hop-ipv6', { ...base, nextHopIpv6: '192.0.2.2' }, /^--next-hop-ipv6 must be an IPv6 address/],
  [
    'IPv6 prefix over IPv4 without a next hop',
    { ...base, announce: ['2001:db8::/32'] },
    /^announcing IPv6 prefixes \(2001:db8::\/32\) over an IPv4 session needs --next-hop-ipv6 ADDR/,
  ],
  [
    'IPv4 prefix over IPv6 without a next hop',
    { localAs: '1', peerAs: '2', peer: '2001:db8::1', routerId: '192.0.2.2', announce: ['192.0.2.0/24'] },
    /^announcing IPv4 prefixes \(192\.0\.2\.0\/24\) over an IPv6 session needs --next-hop ADDR \(IPv4\) or --extended-next-hop/,
  ],
];

t.test('each bad option: its message', async (t) => {
  for (const [name, options, message] of BAD) t.match(usage(options), message, name);
});

t.test('an md5 password is never in a message', async (t) => {
  const secret = 'p'.repeat(81);
  t.notMatch(usage({ ...base, md5Password: secret }), /ppp/, 'not echoed');
  t.match(usage({ ...base, localAs: '0', md5Password: 'hunter2' }), /^--local-as/);
});

t.test('--announce-file: bad lines named FILE:LINE', async (t) => {
  t.equal(
    usage(
      { ...base, announceFile: 'routes.txt' },
      { announceFileText: '203.0.113.0/24\nweb\n# fine\n198.51.100.1/24 # host bits\n' },
    ),
    [
      '--announce-file has 2 bad lines:',
      '  routes.txt:2: not an IP prefix (such as 192.0.2.0/24 or 2001:db8::/32): "web"',
      '  routes.txt:4: 198.51.100.1/24 has host bits set (did you mean 198.51.100.0/24?)',
    ].join('\n'),
  );
  const plan = parsePeerCommand(
    { ...base, announce: ['203.0.113.0/24'], announceFile: 'r' },
    { announceFileText: '198.51.100.0/24\n203.0.113.0/24\n' },
  );
  t.strictSame(plan.prefixes, ['203.0.113.0/24', '198.51.100.0/24'], 'merged with --announce, once each');
});

t.test('peerCommand: usage errors exit 2 before any I/O', async (t) => {
  for (const [name, options, message] of BAD) {
    const err: string[] = [];
    const status = await peerCommand(options, { out: () => t.fail('no output'), err: (l) => err.push(l) });
    t.equal(status, 2, `${name}: exit 2`);
    t.match(err.join('\n'), new RegExp(`^bgp-announce peer: ${message.source.replace(/^\^/, '')}`), `${name}: message`);
  }
  const err: string[] = [];
  t.equal(
    await peerCommand({ ...base, announceFile: '/nonexistent/routes.txt' }, { out: () => {}, err: (l) => err.push(l) }),
    2,
    'unreadable file: exit 2',
  );
  t.strictSame(err, ['bgp-announce peer: cannot read --announce-file /nonexistent/routes.txt: no such file']);
});

const cli = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));

t.test(
  'the built command: exit 2 with the message, no stack trace',
  { skip: built ? false : 'not built (npx tsc -b)' },
  async (t) => {
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [cli, 'peer', ...args], { encoding: 'utf8', timeout: 20000 });
    const bad = run(
      '--local-as',
      '64497',
      '--peer-as',
      '64496',
      '--peer',
      '192.0.2.1',
      '--hold-time',
      '1',
      '--md5-password',
      'hunter2',
    );
    t.equal(bad.status, 2);
    t.equal(bad.stderr, 'bgp-announce peer: --hold-time must be 0 or 3-65535 seconds, got "1"\n');
    t.equal(bad.stdout, '');
    const dir = mkdtempSync(join(tmpdir(), 'bgp-peer-'));
    const file = join(dir, 'routes.txt');
    writeFileSync(file, '203.0.113.0/24\n203.0.113.0/33\n');
    const fileRun = run('--local-as', '64497', '--peer-as', '64496', '--peer', '192.0.2.1', '--announce-file', file);
    t.equal(fileRun.status, 2);
    t.equal(
      fileRun.stderr,
      `bgp-announce peer: --announce-file has 1 bad line:\n  ${file}:2: prefix length 33 is more than 32 in "203.0.113.0/33"\n`,
    );
    const unknown = run('--local-as', '64497', '--bogus');
    t.equal(unknown.status, 2, 'unknown option: exit 2');
    t.match(unknown.stderr, /unknown option '--bogus'/);
    t.notMatch(bad.stderr + fileRun.stderr + unknown.stderr, /\n\s+at /, 'no stack trace');
    t.notMatch(bad.stderr + bad.stdout, /hunter2/, 'password not printed');
  },
);
