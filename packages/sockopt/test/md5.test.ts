// TCP MD5 signatures (RFC 2385) on loopback: a listener keyed for 127.0.0.1 accepts a client with the
// same key and exchanges bytes; the kernel drops the SYN of a client with no key or a wrong key (no
// connection within the connect timeout, and its MD5 drop counter moves); a removed key lets an
// unsigned client in. The same over ::1, and for an IPv4 client of a dual-stack (IPv6) listener.
import t, { type Test } from 'tap';
import { attempt, exchange, listener, requireAddon, tcpExt } from './helpers.js';
import { setTcpMd5Sig } from '../src/index.js';

const K = 'bgp-announce md5 test key';

/** A refused attempt: no answer within the timeout, nothing accepted, and the kernel counted the drop. */
async function refused(
  t: Test,
  l: { accepted: unknown[] },
  a: ReturnType<typeof attempt>,
  counter: string,
  before: Record<string, number>,
) {
  t.equal(await a.outcome, 'timeout', 'no connection within the connect timeout');
  t.equal(l.accepted.length, 0, 'the listener accepted nothing');
  t.equal(a.socket.connecting, true, 'the client is still waiting for a SYN-ACK');
  t.ok((tcpExt()[counter] ?? 0) > (before[counter] ?? 0), `the kernel counted the drop (${counter})`);
}

t.test('IPv4: same key connects and exchanges bytes; no key and a wrong key do not', async (t) => {
  if (!requireAddon(t)) return;
  const l = await listener(t, 4, '127.0.0.1', { md5: { peer: '127.0.0.1', key: K } });
  const good = attempt(t, 4, '127.0.0.1', l.port, { md5: { peer: '127.0.0.1', key: K } });
  t.equal(await good.outcome, 'connected');
  t.equal(await exchange(good.socket, 'hello'), 'echo:hello');
  t.equal(l.accepted.length, 1);
  good.socket.destroy();
  l.accepted.length = 0;

  let before = tcpExt();
  await refused(t, l, attempt(t, 4, '127.0.0.1', l.port, {}), 'TCPMD5NotFound', before);
  l.accepted.length = 0;
  before = tcpExt();
  await refused(
    t,
    l,
    attempt(t, 4, '127.0.0.1', l.port, { md5: { peer: '127.0.0.1', key: `${K}!` } }),
    'TCPMD5Failure',
    before,
  );
});

t.test('a signed client is refused by a listener without a key', async (t) => {
  if (!requireAddon(t)) return;
  const l = await listener(t, 4, '127.0.0.1', {});
  const before = tcpExt();
  await refused(
    t,
    l,
    attempt(t, 4, '127.0.0.1', l.port, { md5: { peer: '127.0.0.1', key: K } }),
    'TCPMD5Unexpected',
    before,
  );
});

t.test(
  'removing the key: the listener then takes unsigned clients; removing it twice says there is none',
  async (t) => {
    if (!requireAddon(t)) return;
    const l = await listener(t, 4, '127.0.0.1', { md5: { peer: '127.0.0.1', key: K } });
    const before = tcpExt();
    await refused(t, l, attempt(t, 4, '127.0.0.1', l.port, {}), 'TCPMD5NotFound', before);
    setTcpMd5Sig(l.fd, '127.0.0.1', new Uint8Array(0));
    const after = attempt(t, 4, '127.0.0.1', l.port, {});
    t.equal(await after.outcome, 'connected', 'unsigned client accepted once the key is gone');
    t.equal(await exchange(after.socket, 'x'), 'echo:x');
    t.throws(() => setTcpMd5Sig(l.fd, '127.0.0.1', ''), {
      name: 'SockoptError',
      code: 'ENOENT',
      message:
        'TCP MD5 (RFC 2385) key for 127.0.0.1: setsockopt TCP_MD5SIG failed: ENOENT, no key was installed for this peer',
    });
  },
);

t.test('IPv6 ::1: same key connects, a wrong key does not', async (t) => {
  if (!requireAddon(t)) return;
  const l = await listener(t, 6, '::1', { md5: { peer: '::1', key: K } });
  const good = attempt(t, 6, '::1', l.port, { md5: { peer: '::1', key: K } });
  t.equal(await good.outcome, 'connected');
  t.equal(await exchange(good.socket, 'v6'), 'echo:v6');
  good.socket.destroy();
  l.accepted.length = 0;
  const before = tcpExt();
  await refused(t, l, attempt(t, 6, '::1', l.port, { md5: { peer: '::1', key: 'other' } }), 'TCPMD5Failure', before);
});

t.test('dual-stack IPv6 listener: an IPv4 peer is keyed by its IPv4-mapped address', async (t) => {
  if (!requireAddon(t)) return;
  // An IPv6 socket bound to ::ffff:127.0.0.1 takes IPv4 connections to 127.0.0.1 only.
  const l = await listener(t, 6, '::ffff:127.0.0.1', { md5: { peer: '127.0.0.1', key: K } });
  const good = attempt(t, 4, '127.0.0.1', l.port, { md5: { peer: '127.0.0.1', key: K } });
  t.equal(await good.outcome, 'connected');
  t.equal(l.accepted[0]?.remoteAddress, '::ffff:127.0.0.1', 'seen as IPv4-mapped');
  t.equal(await exchange(good.socket, 'mapped'), 'echo:mapped');
  good.socket.destroy();
  l.accepted.length = 0;
  const before = tcpExt();
  await refused(t, l, attempt(t, 4, '127.0.0.1', l.port, {}), 'TCPMD5NotFound', before);
});
