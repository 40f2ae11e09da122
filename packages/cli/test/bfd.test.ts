// `bgp-announce bfd` command line parsing: the plan for typical lines, each bad option's message
// (exit status 2 through bfdCommand and through the built CLI), and the key never printed.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BFD_KEY_ENV, parseBfdCommand, parseBfdUntil, type BfdCommandOptions } from '../src/bfd.js';
import { bfdCommand } from '../src/bfd-run.js';
import { UsageError } from '../src/options.js';

// MetalLB's BFDProfile defaults, written out here rather than read from the bfd package.
const DEFAULTS = {
  receiveInterval: 300,
  transmitInterval: 300,
  detectMultiplier: 3,
  echoInterval: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
};

const usage = (o: BfdCommandOptions, env = {}): string => {
  try {
    parseBfdCommand(o, env);
  } catch (err) {
    if (err instanceof UsageError) return err.message;
    throw err;
  }
  throw new Error('no UsageError');
};

t.test('the plan: defaults', async (t) => {
  t.strictSame(parseBfdCommand({ peer: '192.0.2.1' }), {
    session: { peerAddress: '192.0.2.1', multihop: false, profile: { name: 'command-line', ...DEFAULTS } },
    until: { kind: 'signal' },
    upTimeoutMs: 0,
    allowUncheckedTtl: false,
    json: false,
  });
});

t.test('the plan: every option', async (t) => {
  const plan = parseBfdCommand({
    peer: '2001:DB8::1',
    localAddress: '2001:db8::2',
    interface: 'eth0',
    multihop: true,
    interval: '100',
    transmitInterval: '50',
    multiplier: '5',
    passive: true,
    minimumTtl: '250',
    auth: 'meticulous-keyed-sha1',
    keyId: '7',
    key: 'twenty-bytes-secret!',
    allowUncheckedTtl: true,
    until: 'up',
    timeout: '5',
    json: true,
  });
  t.strictSame(plan, {
    session: {
      peerAddress: '2001:db8::1',
      multihop: true,
      profile: {
        ...DEFAULTS,
        name: 'command-line',
        receiveInterval: 100,
        transmitInterval: 50,
        detectMultiplier: 5,
        passiveMode: true,
        minimumTtl: 250,
      },
      localAddress: '2001:db8::2',
      interface: 'eth0',
      auth: { type: 'meticulous-keyed-sha1', keyId: 7, secret: 'twenty-bytes-secret!' },
    },
    until: { kind: 'up' },
    upTimeoutMs: 5000,
    allowUncheckedTtl: true,
    json: true,
  });
});

t.test('details: intervals, zones, keys, --until', async (t) => {
  t.match(
    parseBfdCommand({ peer: '192.0.2.1', interval: '50' }).session.profile,
    { receiveInterval: 50, transmitInterval: 50 },
    '--interval sets both',
  );
  t.match(
    parseBfdCommand({ peer: '192.0.2.1', interval: '50', receiveInterval: '500' }).session.profile,
    { receiveInterval: 500, transmitInterval: 50 },
    'a direction overrides --interval',
  );
  t.match(parseBfdCommand({ peer: '192.0.2.1', transmitInterval: '20' }).session.profile, {
    receiveInterval: 300,
    transmitInterval: 20,
  });
  const ll = parseBfdCommand({ peer: 'fe80::2%veth1' }).session;
  t.equal(ll.peerAddress, 'fe80::2');
  t.equal(ll.interface, 'veth1', 'the zone is the interface');
  t.equal(
    parseBfdCommand({ peer: 'fe80::2', localAddress: 'fe80::1%veth1', interface: 'veth1' }).session.interface,
    'veth1',
    'given twice, the same',
  );
  t.strictSame(
    parseBfdCommand({ peer: '192.0.2.1', auth: 'simple' }, { [BFD_KEY_ENV]: 'from-env' }).session.auth,
    { type: 'simple', keyId: 1, secret: 'from-env' },
    'key from the environment, key id 1 by default',
  );
  t.equal(
    parseBfdCommand({ peer: '192.0.2.1', auth: 'keyed-md5', key: 'opt' }, { [BFD_KEY_ENV]: 'env' }).session.auth
      ?.secret,
    'opt',
    '--key wins',
  );
  t.equal(
    parseBfdCommand({ peer: '192.0.2.1' }, { [BFD_KEY_ENV]: 'env' }).session.auth,
    undefined,
    'the environment alone does not turn authentication on',
  );
  t.equal(
    parseBfdCommand({ peer: '192.0.2.1', until: 'up' }).upTimeoutMs,
    30000,
    '--until up gives up after 30 s by default',
  );
  t.equal(parseBfdCommand({ peer: '192.0.2.1', until: 'up', timeout: '0' }).upTimeoutMs, 0, '--timeout 0: never');
  t.strictSame(parseBfdUntil('2.5'), { kind: 'time', ms: 2500 });
});

const P = { peer: '192.0.2.1' };
// Each bad option: the message that names it.
const BAD: [string, BfdCommandOptions, RegExp][] = [
  ['missing --peer', {}, /^--peer is required$/],
  ['peer not an address', { peer: 'router1' }, /^--peer must be an IPv4 or IPv6 address, got "router1"$/],
  ['peer with a prefix length', { peer: '192.0.2.1/24' }, /^--peer must be an IPv4 or IPv6 address/],
  ['bad zone', { peer: 'fe80::2%' }, /^--peer: the zone after % must be a network device name/],
  [
    'local address not an address',
    { ...P, localAddress: 'eth0' },
    /^--local-address must be an IPv4 or IPv6 address, got "eth0"$/,
  ],
  [
    'local address of the other family',
    { ...P, localAddress: '2001:db8::2' },
    /^--local-address 2001:db8::2 and --peer 192\.0\.2\.1 must be of one family/,
  ],
  [
    'interface name too long',
    { ...P, interface: 'a-very-long-device-name' },
    /^--interface must be a network device name of 1-15 characters/,
  ],
  [
    'two interfaces',
    { peer: 'fe80::2%eth0', interface: 'eth1' },
    /^the interface is given twice, differently: eth1, eth0/,
  ],
  [
    'link-local without an interface',
    { peer: 'fe80::2' },
    /^a link-local address needs its interface: --interface DEV \(or fe80::2%DEV\)$/,
  ],
  [
    'link-local local address without an interface',
    { peer: '2001:db8::1', localAddress: 'fe80::1' },
    /^a link-local address needs its interface/,
  ],
  ['interval too short', { ...P, interval: '5' }, /^--interval must be a number of milliseconds 10-60000, got "5"$/],
  [
    'interval not a number',
    { ...P, interval: '1s' },
    /^--interval must be a number of milliseconds 10-60000, got "1s"$/,
  ],
  [
    'receive interval too long',
    { ...P, receiveInterval: '60001' },
    /^--receive-interval must be a number of milliseconds 10-60000/,
  ],
  [
    'transmit interval negative',
    { ...P, transmitInterval: '-10' },
    /^--transmit-interval must be a number of milliseconds 10-60000/,
  ],
  ['multiplier 1', { ...P, multiplier: '1' }, /^--multiplier must be a whole number 2-255, got "1"$/],
  ['multiplier 256', { ...P, multiplier: '256' }, /^--multiplier must be a whole number 2-255/],
  ['minimum TTL on single hop', { ...P, minimumTtl: '200' }, /^--minimum-ttl applies to --multihop sessions only/],
  ['minimum TTL 255', { ...P, multihop: true, minimumTtl: '255' }, /^--minimum-ttl must be a TTL 1-254, got "255"$/],
  [
    'unknown auth type',
    { ...P, auth: 'md5', key: 'k' },
    /^--auth must be one of simple, keyed-md5, meticulous-keyed-md5, keyed-sha1, meticulous-keyed-sha1, got "md5"$/,
  ],
  [
    'auth without a key',
    { ...P, auth: 'keyed-sha1' },
    /^--auth keyed-sha1 needs a key: --key K, or the environment variable BGP_ANNOUNCE_BFD_KEY/,
  ],
  ['key without auth', { ...P, key: 'k' }, /^--key needs --auth TYPE$/],
  ['key id without auth', { ...P, keyId: '1' }, /^--key-id needs --auth TYPE$/],
  [
    'key id 256',
    { ...P, auth: 'simple', key: 'k', keyId: '256' },
    /^--key-id must be a whole number 0-255, got "256"$/,
  ],
  [
    'MD5 key too long',
    { ...P, auth: 'keyed-md5', key: 'x'.repeat(17) },
    /^--key: BFD keyed-md5 secret of 17 bytes, expected 1 to 16$/,
  ],
  [
    'SHA1 key too long',
    { ...P, auth: 'keyed-sha1', key: 'x'.repeat(21) },
    /^--key: BFD keyed-sha1 secret of 21 bytes, expected 1 to 20$/,
  ],
  ['empty key', { ...P, auth: 'simple', key: '' }, /^--key: BFD simple secret of 0 bytes, expected 1 to 16$/],
  ['until', { ...P, until: 'forever' }, /^--until must be up or a number of seconds, got "forever"$/],
  ['until 0', { ...P, until: '0' }, /^--until must be up or a number of seconds/],
  ['timeout without --until up', { ...P, timeout: '5' }, /^--timeout applies to --until up only$/],
  [
    'bad timeout',
    { ...P, until: 'up', timeout: 'soon' },
    /^--timeout must be 0 \(no limit\) or 1-86400 seconds, got "soon"$/,
  ],
];

t.test('each bad option: its message', async (t) => {
  for (const [name, options, message] of BAD) t.match(usage(options), message, name);
  t.match(
    usage({ ...P, auth: 'keyed-md5' }, { [BFD_KEY_ENV]: 'y'.repeat(17) }),
    /^BGP_ANNOUNCE_BFD_KEY: BFD keyed-md5 secret of 17 bytes/,
    'a bad key from the environment names the variable',
  );
});

t.test('the key is never in a message', async (t) => {
  const secret = 'hunter2-hunter2-hunter2';
  t.notMatch(usage({ ...P, auth: 'keyed-md5', key: secret }), /hunter2/);
  t.notMatch(usage({ ...P, auth: 'keyed-md5' }, { [BFD_KEY_ENV]: secret }), /hunter2/);
});

t.test('bfdCommand: usage errors exit 2 before any I/O', async (t) => {
  for (const [name, options, message] of BAD) {
    const err: string[] = [];
    const status = await bfdCommand(options, { out: () => t.fail('no output'), err: (l) => err.push(l) }, {});
    t.equal(status, 2, `${name}: exit 2`);
    t.match(err.join('\n'), new RegExp(`^bgp-announce bfd: ${message.source.replace(/^\^/, '')}`), `${name}: message`);
  }
});

const cli = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));

t.test(
  'the built command: exit 2 with the message, no stack trace, no key',
  { skip: built ? false : 'not built (npx tsc -b)' },
  async (t) => {
    const run = (env: Record<string, string>, ...args: string[]) =>
      spawnSync(process.execPath, [cli, 'bfd', ...args], {
        encoding: 'utf8',
        timeout: 20000,
        env: { ...process.env, ...env },
      });
    const bad = run({}, '--peer', '192.0.2.1', '--multiplier', '1', '--auth', 'keyed-sha1', '--key', 'hunter2');
    t.equal(bad.status, 2);
    t.equal(bad.stderr, 'bgp-announce bfd: --multiplier must be a whole number 2-255, got "1"\n');
    t.equal(bad.stdout, '');
    const key = run({ [BFD_KEY_ENV]: 'hunter2'.repeat(3) }, '--peer', '192.0.2.1', '--auth', 'keyed-md5');
    t.equal(key.status, 2);
    t.equal(key.stderr, 'bgp-announce bfd: BGP_ANNOUNCE_BFD_KEY: BFD keyed-md5 secret of 21 bytes, expected 1 to 16\n');
    const missing = run({}, '--interval', '50');
    t.equal(missing.status, 2);
    t.equal(missing.stderr, 'bgp-announce bfd: --peer is required\n');
    const unknown = run({}, '--peer', '192.0.2.1', '--bogus');
    t.equal(unknown.status, 2, 'unknown option: exit 2');
    t.match(unknown.stderr, /unknown option '--bogus'/);
    const noValue = run({}, '--peer');
    t.equal(noValue.status, 2, 'option without its value: exit 2');
    t.match(noValue.stderr, /option '--peer <address>' argument missing/);
    t.notMatch(
      bad.stderr + key.stderr + missing.stderr + unknown.stderr + noValue.stderr,
      /\n\s+at /,
      'no stack trace',
    );
    t.notMatch(bad.stderr + bad.stdout + key.stderr + key.stdout, /hunter2/, 'key not printed');
  },
);
