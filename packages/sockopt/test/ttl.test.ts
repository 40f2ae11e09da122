// GTSM (RFC 5082) and the sent TTL on loopback (which does not decrement the TTL): a listener with
// minimum TTL 255 drops the SYN of a client sending with TTL 254 and accepts one sending with 255,
// over IPv4, IPv6 and a dual-stack listener; accepted sockets inherit the listener's TTL options;
// setTtl/setMinTtl are read back with getsockopt.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { attempt, fdOf, listener, requireAddon, tcpExt } from './helpers.js';
import { closeSocket, createTcpSocket, getMinTtl, getTtl, setMinTtl, setTtl } from '../src/index.js';

async function gtsm(t: Test, listenFamily: 4 | 6, listenHost: string, family: 4 | 6, host: string): Promise<void> {
  const l = await listener(t, listenFamily, listenHost, { minTtl: 255, ttl: 255 });
  const before = tcpExt();
  const far = attempt(t, family, host, l.port, { ttl: 254 });
  t.equal(await far.outcome, 'timeout', 'TTL 254: no connection within the connect timeout');
  t.equal(l.accepted.length, 0, 'TTL 254: nothing accepted');
  t.ok((tcpExt().TCPMinTTLDrop ?? 0) > (before.TCPMinTTLDrop ?? 0), 'the kernel counted the drop (TCPMinTTLDrop)');
  const near = attempt(t, family, host, l.port, { ttl: 255 });
  t.equal(await near.outcome, 'connected', 'TTL 255: connected');
  t.equal(l.accepted.length, 1);
  const accepted = l.accepted[0]!;
  t.equal(getMinTtl(fdOf(accepted)), 255, 'the accepted socket inherited the minimum TTL');
  t.equal(getTtl(fdOf(accepted)), 255, 'the accepted socket inherited the TTL');
}

t.test('GTSM over IPv4: TTL 254 refused, 255 accepted', async (t) => {
  if (!requireAddon(t)) return;
  await gtsm(t, 4, '127.0.0.1', 4, '127.0.0.1');
});

t.test('GTSM over IPv6 ::1 (IPV6_MINHOPCOUNT): hop limit 254 refused, 255 accepted', async (t) => {
  if (!requireAddon(t)) return;
  await gtsm(t, 6, '::1', 6, '::1');
});

t.test('GTSM on a dual-stack IPv6 listener for an IPv4 client (IP_MINTTL set too)', async (t) => {
  if (!requireAddon(t)) return;
  await gtsm(t, 6, '::ffff:127.0.0.1', 4, '127.0.0.1');
});

t.test('setTtl and setMinTtl read back with getsockopt', async (t) => {
  if (!requireAddon(t)) return;
  const v4 = createTcpSocket(4);
  const v6 = createTcpSocket(6);
  t.teardown(() => {
    closeSocket(v4);
    closeSocket(v6);
  });
  const defaultTtl = Number(readFileSync('/proc/sys/net/ipv4/ip_default_ttl', 'utf8'));
  t.equal(getTtl(v4), defaultTtl, 'IPv4 default is net.ipv4.ip_default_ttl');
  t.equal(getMinTtl(v4), 0, 'no minimum TTL by default');
  setTtl(v4, 17);
  setMinTtl(v4, 254);
  t.equal(getTtl(v4), 17);
  t.equal(getMinTtl(v4), 254);
  setMinTtl(v4, 0);
  t.equal(getMinTtl(v4), 0, 'minimum TTL 0 turns GTSM off');
  setTtl(v6, 1);
  setMinTtl(v6, 255);
  t.equal(getTtl(v6), 1, 'IPV6_UNICAST_HOPS');
  t.equal(getMinTtl(v6), 255, 'IPV6_MINHOPCOUNT');
});

t.test(
  'a TTL set on the client is the one on the wire: a listener with minimum TTL 18 takes TTL 18, drops 17',
  async (t) => {
    if (!requireAddon(t)) return;
    const l = await listener(t, 4, '127.0.0.1', { minTtl: 18 });
    const low = attempt(t, 4, '127.0.0.1', l.port, { ttl: 17 });
    t.equal(await low.outcome, 'timeout');
    const ok = attempt(t, 4, '127.0.0.1', l.port, { ttl: 18 });
    t.equal(await ok.outcome, 'connected');
    t.equal(l.accepted.length, 1);
  },
);
