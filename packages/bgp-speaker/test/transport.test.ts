// transport.ts: validation of md5Password / ttlSecurity / ebgpMultihop; a missing addon or a refused
// option fails the connection (or listener) with a clear error and sends nothing; over loopback with
// the real addon, connectTransport and listenTransport carry the MD5 key and the TTLs; and two
// SessionDrivers with md5Password (and GTSM) reach Established, while a wrong key never connects.
import t, { type Test } from 'tap';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import { getMinTtl, getTtl, sockoptAvailable, SockoptError } from '@bgp-announce/sockopt';
import {
  TransportSetupError,
  connectTransport,
  listenTransport,
  socketOptionPlan,
  type Sockopt,
} from '../src/session/transport.js';
import { SessionDriver } from '../src/session/driver.js';
import { peerConfig } from '../src/session/config.js';
import { once } from './helpers/events.js';

const KEY = 'bgp md5 key';

function requireAddon(t: Test): boolean {
  const status = sockoptAvailable();
  if (status.ok) return true;
  if (process.env.CI === 'true') t.fail(`${status.reason} (required in CI)`);
  else t.plan(0, status.reason);
  return false;
}

/** Resolves with the first of the socket's 'connect' / 'error' (message) / 'timeout' (ms without an answer). */
function outcome(socket: net.Socket, ms = 800): Promise<string> {
  return new Promise((resolve) => {
    socket.setTimeout(ms, () => resolve('timeout'));
    socket.once('connect', () => resolve('connected'));
    socket.once('error', (e) => resolve(`error: ${e.message}`));
  });
}

function fdOf(s: net.Socket): number {
  return (s as unknown as { _handle: { fd: number } })._handle.fd;
}

/** A server made to listen by listenTransport; resolves once listening (rejects on 'error'). */
async function server(
  t: Test,
  peerAddress: string,
  opts: { md5Password?: string; ttlSecurity?: number },
  host = '127.0.0.1',
  so?: Sockopt,
) {
  const accepted: net.Socket[] = [];
  const srv = net.createServer((s) => {
    accepted.push(s);
    s.on('data', (d) => s.write(d));
  });
  t.teardown(() => new Promise<void>((resolve) => (accepted.forEach((s) => s.destroy()), srv.close(() => resolve()))));
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    listenTransport(srv, { host, port: 0 }, { peerAddress, ...opts }, resolve, so);
  });
  return { srv, accepted, port: (srv.address() as net.AddressInfo).port };
}

t.test('socketOptionPlan validates and resolves the options', async (t) => {
  t.equal(socketOptionPlan({}), undefined, 'nothing to set');
  t.strictSame(socketOptionPlan({ md5Password: 'k' }), { md5Key: Buffer.from('k') });
  t.strictSame(socketOptionPlan({ md5Password: 'x'.repeat(80) })?.md5Key?.length, 80);
  t.strictSame(socketOptionPlan({ ttlSecurity: 1 }), { ttl: 255, minTtl: 255 }, 'directly connected: minimum TTL 255');
  t.strictSame(socketOptionPlan({ ttlSecurity: 254 }), { ttl: 255, minTtl: 2 });
  t.strictSame(socketOptionPlan({ ebgpMultihop: 2 }), { ttl: 2 });
  t.strictSame(socketOptionPlan({ md5Password: 'k', ebgpMultihop: 255 }), { md5Key: Buffer.from('k'), ttl: 255 });
  const bad: [Parameters<typeof socketOptionPlan>[0], RegExp][] = [
    [{ md5Password: '' }, /^md5Password for 192\.0\.2\.1 is 0 bytes; RFC 2385 keys here are 1-80 bytes/],
    [{ md5Password: 'x'.repeat(81) }, /is 81 bytes/],
    [{ md5Password: 'é'.repeat(41) }, /is 82 bytes/], // UTF-8 bytes, not characters
    [{ md5Password: 42 as unknown as string }, /is a number/],
    [{ ttlSecurity: 0 }, /^ttlSecurity 0 for 192\.0\.2\.1 must be a hop count 1-254 \(RFC 5082 GTSM\)/],
    [{ ttlSecurity: 255 }, /ttlSecurity 255/],
    [{ ttlSecurity: 1.5 }, /ttlSecurity 1\.5/],
    [{ ebgpMultihop: 0 }, /^ebgpMultihop 0 for 192\.0\.2\.1 must be a TTL 1-255/],
    [{ ebgpMultihop: 256 }, /ebgpMultihop 256/],
    [
      { ttlSecurity: 1, ebgpMultihop: 2 },
      /^ttlSecurity and ebgpMultihop are both set for 192\.0\.2\.1: GTSM \(RFC 5082\) sends with TTL 255, so choose one/,
    ],
  ];
  for (const [o, message] of bad)
    t.throws(() => socketOptionPlan(o, '192.0.2.1'), { name: 'TransportSetupError', message }, JSON.stringify(o));
});

/** A fake addon: reports `status`, records calls, and throws `fail` from setTcpMd5Sig. */
function fakeSockopt(status: ReturnType<Sockopt['sockoptAvailable']>, fail?: Error) {
  const calls: string[] = [];
  const so: Sockopt = {
    sockoptAvailable: () => status,
    createTcpSocket: (family) => (calls.push(`create ${family}`), 1000),
    bindSocket: () => void calls.push('bind'),
    closeSocket: (fd) => void calls.push(`close ${fd}`),
    setTcpMd5Sig: () => {
      calls.push('md5');
      if (fail) throw fail;
    },
    setTtl: () => void calls.push('ttl'),
    setMinTtl: () => void calls.push('minttl'),
  };
  return { so, calls };
}

t.test(
  'without the addon, or when the kernel refuses, nothing connects or listens and the error says why',
  async (t) => {
    const missing = fakeSockopt({
      ok: false,
      reason: 'the native socket addon is not built (build it with npm run build:addon)',
    });
    const s = connectTransport({ peerAddress: '192.0.2.1', md5Password: KEY }, missing.so);
    const closed = new Promise<string>((resolve) => s.once('close', () => resolve('closed')));
    const err = await new Promise<Error>((resolve) => s.once('error', resolve));
    t.ok(err instanceof TransportSetupError);
    t.equal(
      err.message,
      'TCP MD5 (md5Password) for 192.0.2.1 needs the native socket addon @bgp-announce/sockopt, which is unavailable, so the session will not connect: ' +
        'the native socket addon is not built (build it with npm run build:addon)',
    );
    t.equal(await closed, 'closed', "then 'close', which the driver takes as a failed connection");
    t.strictSame(missing.calls, [], 'no socket was created');

    const refused = fakeSockopt(
      { ok: true },
      new SockoptError(
        'TCP MD5 (RFC 2385) key for 192.0.2.1: setsockopt TCP_MD5SIG failed: ENOPROTOOPT, the kernel lacks CONFIG_TCP_MD5SIG',
        'ENOPROTOOPT',
        92,
        'setsockopt TCP_MD5SIG',
      ),
    );
    const s2 = connectTransport({ peerAddress: '192.0.2.1', md5Password: KEY, ttlSecurity: 1 }, refused.so);
    const err2 = (await new Promise<Error>((resolve) => s2.once('error', resolve))) as TransportSetupError;
    t.equal(err2.code, 'ENOPROTOOPT');
    t.match(
      err2.message,
      /^TCP MD5 \(RFC 2385\) key for 192\.0\.2\.1: setsockopt TCP_MD5SIG failed: ENOPROTOOPT, the kernel lacks CONFIG_TCP_MD5SIG \(session with 192\.0\.2\.1 not started\)$/,
    );
    t.strictSame(refused.calls, ['create 4', 'md5', 'close 1000'], 'the socket was closed, never connected');

    const gtsm = fakeSockopt({ ok: false, reason: 'not built' });
    const srv = net.createServer();
    const listenErr = await new Promise<Error>((resolve) => {
      srv.once('error', resolve);
      listenTransport(
        srv,
        { port: 0 },
        { peerAddress: '2001:db8::1', ttlSecurity: 1 },
        () => resolve(new Error('listening')),
        gtsm.so,
      );
    });
    t.match(listenErr.message, /^GTSM \(ttlSecurity\) for 2001:db8::1 needs the native socket addon/);
    t.equal(srv.listening, false);

    const v6peer = fakeSockopt({ ok: true });
    const srv2 = net.createServer();
    const familyErr = await new Promise<Error>((resolve) => {
      srv2.once('error', resolve);
      listenTransport(
        srv2,
        { host: '192.0.2.7', port: 179 },
        { peerAddress: '2001:db8::1', md5Password: KEY },
        () => resolve(new Error('listening')),
        v6peer.so,
      );
    });
    t.match(familyErr.message, 'cannot listen on IPv4 192.0.2.7 for IPv6 peer 2001:db8::1 with TCP MD5 (md5Password)');
    t.strictSame(v6peer.calls, []);

    const named = connectTransport({ peerAddress: 'router.example', ebgpMultihop: 2 }, v6peer.so);
    t.match(await outcome(named), /peerAddress "router\.example" must be an IP address for a TTL \(ebgpMultihop\)/);
  },
);

t.test(
  'over loopback: MD5 with the same key connects, a wrong key does not; GTSM and TTL are on the sockets',
  async (t) => {
    if (!requireAddon(t)) return;
    const l = await server(t, '127.0.0.1', { md5Password: KEY, ttlSecurity: 1 });
    const good = connectTransport({
      peerAddress: '127.0.0.1',
      peerPort: l.port,
      localAddress: '127.0.0.1',
      md5Password: KEY,
      ttlSecurity: 1,
    });
    t.teardown(() => void good.destroy());
    t.equal(await outcome(good), 'connected');
    t.equal(getTtl(fdOf(good)), 255, 'GTSM sends with TTL 255');
    t.equal(getMinTtl(fdOf(good)), 255, 'and accepts only TTL 255 (1 hop)');
    t.equal(l.accepted.length, 1);
    t.equal(getMinTtl(fdOf(l.accepted[0]!)), 255, "the accepted socket inherited the listener's minimum TTL");
    good.write('ping');
    t.equal((await new Promise<Buffer>((resolve) => good.once('data', resolve))).toString(), 'ping');

    const wrong = connectTransport({
      peerAddress: '127.0.0.1',
      peerPort: l.port,
      md5Password: `${KEY}?`,
      ttlSecurity: 1,
    });
    t.teardown(() => void wrong.destroy());
    t.equal(await outcome(wrong), 'timeout', 'a wrong key gets no answer within the connect timeout');
    t.equal(l.accepted.length, 1, 'nothing more accepted');

    const multihop = connectTransport({ peerAddress: '::1', peerPort: 9, ebgpMultihop: 7 });
    t.teardown(() => void multihop.destroy());
    t.equal(getTtl(fdOf(multihop)), 7, 'ebgpMultihop 7: hop limit 7 on the IPv6 socket');
    t.match(await outcome(multihop), /ECONNREFUSED/, 'and it really connects (port 9 is closed)');

    const plain = connectTransport({ peerAddress: '127.0.0.1', peerPort: l.port });
    t.teardown(() => void plain.destroy());
    t.equal(await outcome(plain), 'timeout', 'no options: plain net.connect, refused by the keyed listener');
  },
);

t.test("a taken port keeps its EADDRINUSE code for the driver's diagnosis", async (t) => {
  if (!requireAddon(t)) return;
  const l = await server(t, '127.0.0.1', { md5Password: KEY });
  const srv = net.createServer();
  const err = await new Promise<NodeJS.ErrnoException>((resolve) => {
    srv.once('error', resolve);
    listenTransport(srv, { host: '127.0.0.1', port: l.port }, { peerAddress: '127.0.0.1', md5Password: KEY }, () =>
      resolve(new Error('listening')),
    );
  });
  t.equal(err.code, 'EADDRINUSE');
});

/** A passive driver on 127.0.0.1 (ephemeral port) and an active one towards it, stopped in teardown. */
async function pair(t: Test, passiveOpts: object, activeOpts: object) {
  const passive = new SessionDriver({
    config: peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1', mode: 'passive' }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
    ...passiveOpts,
  });
  const listening = once(passive, 'listening');
  passive.start();
  const [{ port }] = await listening;
  const active = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2' }),
    peerAddress: '127.0.0.1',
    peerPort: port,
    localAddress: '127.0.0.1',
    ...activeOpts,
  });
  t.teardown(async () => {
    await active.stop();
    await passive.stop();
  });
  return { passive, active };
}

const md5Failures = (): number => {
  const lines = readFileSync('/proc/net/netstat', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]?.split(' ') ?? [];
  return Number(lines[1]?.split(' ')[names.indexOf('TCPMD5Failure')] ?? 0);
};

t.test('two SessionDrivers with md5Password and ttlSecurity reach Established', async (t) => {
  if (!requireAddon(t)) return;
  const { passive, active } = await pair(t, { md5Password: KEY, ttlSecurity: 1 }, { md5Password: KEY, ttlSecurity: 1 });
  const up = Promise.all([once(active, 'established'), once(passive, 'established')]);
  active.start();
  const [[a], [p]] = await up;
  t.equal(a.peerBgpId, '192.0.2.1');
  t.equal(p.peerBgpId, '192.0.2.2');
  t.equal(active.state.state, 'Established');
});

t.test('a SessionDriver with the wrong md5Password never gets past Connect', async (t) => {
  if (!requireAddon(t)) return;
  const { passive, active } = await pair(t, { md5Password: KEY }, { md5Password: 'not the key' });
  const before = md5Failures();
  const states: string[] = [];
  passive.on('state', (to) => states.push(to));
  active.start();
  // Await the kernel's count of a SYN dropped for a bad MD5 signature (a condition, with a deadline).
  const deadline = Date.now() + 5000;
  while (md5Failures() <= before && Date.now() < deadline) await new Promise((resolve) => setImmediate(resolve));
  t.ok(md5Failures() > before, 'the listener dropped a SYN with a bad signature');
  t.equal(active.state.state, 'Connect', 'still connecting');
  t.strictSame(states, [], 'the passive side saw no connection');
});

t.test('an option the driver cannot carry out is an error event, and it does not connect', async (t) => {
  let connections = 0;
  const peer = net.createServer((s) => (connections++, s.destroy()));
  await new Promise<void>((resolve) => peer.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => peer.close(() => resolve())));
  const d = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2' }),
    peerAddress: '127.0.0.1',
    peerPort: (peer.address() as net.AddressInfo).port,
    md5Password: 'k'.repeat(81),
  });
  t.teardown(() => d.stop());
  const err = once(d, 'error');
  const idle = new Promise<void>((resolve) => d.on('state', (to) => to === 'Idle' && resolve()));
  d.start();
  const [e] = await err;
  t.ok(e instanceof TransportSetupError);
  t.match(e.message, 'md5Password for 127.0.0.1 is 81 bytes');
  await idle;
  t.equal(d.state.lastDown?.kind, 'connection-failed', 'the attempt failed; the FSM retries after its back-off');
  t.equal(connections, 0, 'nothing reached the peer');
});
