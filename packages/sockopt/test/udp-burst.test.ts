// Bursts and closing: every datagram of a burst is delivered, in order, by a few readable events (the
// native side drains the socket up to 256 datagrams per event); close() stops callbacks at once, even
// for datagrams waiting in the same batch, and frees the port.
import t from 'tap';
import { receiver, requireUdp, sender, waiter } from './udp-helpers.js';
import { UdpTtlSocket, type UdpTtlMessage } from '../src/index.js';

t.test('a burst of 100 within the default receive buffer is read by one readable event', async (t) => {
  if (!requireUdp(t)) return;
  const r = receiver(t, { family: 4, address: '127.0.0.1', port: 0 });
  const s = sender(t, 4, 255);
  for (let i = 0; i < 100; i++) s.send(Buffer.from(`datagram ${i}`), '127.0.0.1', r.socket.localPort);
  const got = await r.received(100);
  t.same(
    got.map((m) => m.payload.toString()),
    Array.from({ length: 100 }, (_, i) => `datagram ${i}`),
    'all 100, in order',
  );
  t.ok(got.every((m) => m.ttl === 255 && m.port === s.localPort));
  const stats = r.socket.stats();
  t.equal(stats.datagrams, 100);
  t.ok(stats.wakeups <= 2, `read by ${stats.wakeups} readable event(s), not one per datagram`);
});

t.test('a burst of 1000 (larger receive buffer) is all delivered, 256 per readable event at most', async (t) => {
  if (!requireUdp(t)) return;
  const r = receiver(t, { family: 6, address: '::1', port: 0, receiveBufferSize: 4 * 1024 * 1024 });
  const s = sender(t, 6, 255);
  for (let i = 0; i < 1000; i++) s.send(Buffer.from([i >> 8, i & 0xff]), '::1', r.socket.localPort);
  const got = await r.received(1000);
  t.ok(
    got.every((m, i) => m.payload.readUInt16BE(0) === i),
    'all 1000, in order',
  );
  const stats = r.socket.stats();
  t.equal(stats.datagrams, 1000);
  t.ok(stats.wakeups >= 4 && stats.wakeups <= 8, `${stats.wakeups} readable events (ceil(1000 / 256) = 4 at least)`);
});

t.test('close() inside onMessage: no further callback for datagrams already queued; the port is free', async (t) => {
  if (!requireUdp(t)) return;
  const seen: UdpTtlMessage[] = [];
  const errors: Error[] = [];
  const first = waiter(() => `${seen.length} datagrams`);
  const r = UdpTtlSocket.open({
    family: 4,
    address: '127.0.0.1',
    port: 0,
    onError: (e) => errors.push(e),
    onMessage: (m) => {
      seen.push(m);
      r.close();
      first.notify();
    },
  });
  t.teardown(() => r.close());
  const port = r.localPort;
  const s = sender(t, 4, 255);
  for (let i = 0; i < 5; i++) s.send(Buffer.from(`queued ${i}`), '127.0.0.1', port);
  await first.until(() => seen.length >= 1);
  t.equal(r.closed, true);
  // A datagram to another socket, sent after more to the closed port, comes through the same loop:
  // once it is in, the closed socket had every chance to call back.
  const sentinel = receiver(t, { family: 4, address: '127.0.0.1', port: 0 });
  t.throws(() => r.send(Buffer.from('x'), '127.0.0.1', port), { code: 'EBADF' });
  s.send(Buffer.from('to the sentinel'), '127.0.0.1', sentinel.socket.localPort);
  await sentinel.received(1);
  await new Promise((resolve) => setImmediate(resolve));
  t.equal(seen.length, 1, 'one callback, though 5 datagrams were queued');
  t.equal(seen[0]!.payload.toString(), 'queued 0');
  t.same(
    errors.map((e) => e.message),
    [],
    'no receive error either (the batch stopped reading at close)',
  );
  const again = UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port });
  t.teardown(() => again.close());
  t.equal(again.localPort, port, 'the port could be bound again at once');
});

t.test('close() from outside stops delivery; a reopened socket on the port gets the next datagrams', async (t) => {
  if (!requireUdp(t)) return;
  const r = receiver(t, { family: 6, address: '::1', port: 0 });
  const port = r.socket.localPort;
  const s = sender(t, 6, 255);
  s.send(Buffer.from('before'), '::1', port);
  await r.received(1);
  r.socket.close();
  const next = receiver(t, { family: 6, address: '::1', port });
  s.send(Buffer.from('after'), '::1', port);
  const [m] = await next.received(1);
  t.equal(m!.payload.toString(), 'after');
  t.equal(r.messages.length, 1, 'the closed socket got nothing more');
});

t.test('unref() lets the loop end while a socket is open; the process exits cleanly', async (t) => {
  if (!requireUdp(t)) return;
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const script = `import(${JSON.stringify(index)}).then(({ UdpTtlSocket }) => {
    const s = UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port: 0, onMessage() {} });
    s.unref();
    console.log('open on ' + s.localPort);
  });`;
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  const child = spawnSync(process.execPath, [...loader, '--input-type=module', '-e', script], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  t.match(child.stdout, /^open on \d+$/m);
  t.equal(child.status, 0, `exit code 0 (stderr: ${child.stderr.slice(0, 300)})`);
  t.equal(child.signal, null, 'not killed by the timeout, no abort');
});
