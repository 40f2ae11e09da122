// UdpTtlSocket on loopback (which does not decrement the TTL): every datagram is reported with the TTL
// (IPv4) or hop limit (IPv6) it was sent with, so RFC 5881's "TTL must be 255" check can tell 255 from
// 254; its source address and port, its destination address (IP_PKTINFO) and interface are right.
import t, { type Test } from 'tap';
import { dgramSend, dgramSender, ifindexOf, receiver, requireUdp, sender } from './udp-helpers.js';
import { UdpTtlSocket } from '../src/index.js';

const LOOPBACK = { 4: '127.0.0.1', 6: '::1' } as const;

async function ttlAsSent(t: Test, family: 4 | 6): Promise<void> {
  const here = LOOPBACK[family];
  const r = receiver(t, { family, address: here, port: 0 });
  t.equal(r.socket.localAddress, here, 'bound address');
  t.ok(r.socket.localPort >= 1024, 'the kernel chose a port');
  const ours255 = sender(t, family, 255);
  const ours254 = sender(t, family, 254);
  const ours1 = sender(t, family, 1);
  const theirs254 = await dgramSender(t, family, 254);

  ours255.send(Buffer.from('single-hop'), here, r.socket.localPort);
  ours254.send(Buffer.from('one hop further'), here, r.socket.localPort);
  ours1.send(new Uint8Array([1, 2, 3]), here, r.socket.localPort);
  await dgramSend(theirs254, 'from dgram', here, r.socket.localPort);
  const [a, b, c, d] = await r.received(4);

  const lo = ifindexOf('lo');
  t.match(a, { ttl: 255, address: here, port: ours255.localPort, localAddress: here, ifindex: lo });
  t.equal(a!.payload.toString(), 'single-hop');
  t.match(
    b,
    { ttl: 254, address: here, port: ours254.localPort, localAddress: here, ifindex: lo },
    'TTL 254 is reported as 254: a 255 check rejects it',
  );
  t.equal(b!.payload.toString(), 'one hop further');
  t.match(c, { ttl: 1, port: ours1.localPort });
  t.same([...c!.payload], [1, 2, 3], 'a Uint8Array payload');
  t.match(
    d,
    { ttl: 254, address: here, port: theirs254.address().port, localAddress: here },
    "dgram's setTTL(254) arrives as 254",
  );
  t.equal(d!.payload.toString(), 'from dgram');
  t.equal(r.messages.length, 4, 'nothing else arrived');
}

t.test('IPv4 loopback: the received TTL is the sent one (255, 254, 1), with source and destination', async (t) => {
  if (!requireUdp(t)) return;
  await ttlAsSent(t, 4);
});

t.test('IPv6 ::1: the received hop limit is the sent one (255, 254, 1), with source and destination', async (t) => {
  if (!requireUdp(t)) return;
  await ttlAsSent(t, 6);
});

t.test('the destination address comes from IP_PKTINFO on a socket bound to 0.0.0.0', async (t) => {
  if (!requireUdp(t)) return;
  const r = receiver(t, { family: 4, address: '0.0.0.0', port: 0 });
  t.equal(r.socket.localAddress, '0.0.0.0');
  const s = sender(t, 4, 255);
  s.send(Buffer.from('x'), '127.0.0.2', r.socket.localPort);
  s.send(Buffer.from('y'), '127.0.0.1', r.socket.localPort);
  const [x, y] = await r.received(2);
  t.match(x, { localAddress: '127.0.0.2', address: '127.0.0.1', ttl: 255 });
  t.match(y, { localAddress: '127.0.0.1', address: '127.0.0.1', ttl: 255 });
});

t.test('replies go back to the reported source: a two-way exchange at TTL 255 on both sides', async (t) => {
  if (!requireUdp(t)) return;
  const a = receiver(t, { family: 6, address: '::1', port: 0 });
  const b = receiver(t, { family: 6, address: '::1', port: 0 });
  a.socket.send(Buffer.from('hello'), '::1', b.socket.localPort);
  const [hello] = await b.received(1);
  b.socket.send(Buffer.from('hello back'), hello!.address, hello!.port);
  const [back] = await a.received(1);
  t.match(back, { address: '::1', port: b.socket.localPort, ttl: 255 });
  t.equal(back!.payload.toString(), 'hello back');
  t.equal(a.socket.ttl, 255, 'the default TTL is 255');
});

t.test('bound to the loopback device (SO_BINDTODEVICE): received with its ifindex', async (t) => {
  if (!requireUdp(t)) return;
  const r = receiver(t, { family: 4, address: '127.0.0.1', port: 0, device: 'lo' });
  t.equal(r.socket.device, 'lo');
  const s = UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port: 0, device: 'lo' });
  t.teardown(() => s.close());
  s.send(Buffer.from('on lo'), '127.0.0.1', r.socket.localPort);
  const [m] = await r.received(1);
  t.match(m, { ifindex: ifindexOf('lo'), ttl: 255, port: s.localPort });
});

t.test('an IPv6 destination with a zone (::1%lo) is accepted', async (t) => {
  if (!requireUdp(t)) return;
  const r = receiver(t, { family: 6, address: '::1', port: 0 });
  const s = sender(t, 6, 255);
  s.send(Buffer.from('zoned'), '::1%lo', r.socket.localPort);
  s.send(Buffer.from('zoned by index'), `::1%${ifindexOf('lo')}`, r.socket.localPort);
  const [m, n] = await r.received(2);
  t.equal(m!.payload.toString(), 'zoned');
  t.equal(n!.payload.toString(), 'zoned by index');
});
