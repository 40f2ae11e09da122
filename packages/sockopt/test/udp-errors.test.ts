// UdpTtlSocket's errors: the kernel's refusals are SockoptErrors with the errno name as code and a
// message saying where and why (address in use, no such device, permission), bad options are
// TypeError / RangeError, and a closed socket refuses to send.
import t from 'tap';
import dgram from 'node:dgram';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { receiver, requireUdp } from './udp-helpers.js';
import { SockoptError, UdpTtlSocket, udpTtlAvailable } from '../src/index.js';

t.test('udpTtlAvailable says yes, or why not and how to build', async (t) => {
  const status = udpTtlAvailable();
  if (status.ok) t.pass('available');
  else t.match(status.reason, /^no UDP TTL check: .*(build|Linux)/);
});

t.test('a port in use is EADDRINUSE, whoever holds it', async (t) => {
  if (!requireUdp(t)) return;
  const r = receiver(t, { family: 4, address: '127.0.0.1', port: 0 });
  const port = r.socket.localPort;
  t.throws(() => UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port }), {
    name: 'SockoptError',
    code: 'EADDRINUSE',
    errno: 98,
    syscall: 'bind',
    message: `opening a UDP socket on 127.0.0.1:${port}: bind failed: EADDRINUSE, another socket holds this address and port`,
  });
  const node = dgram.createSocket('udp6');
  await new Promise<void>((resolve) => node.bind(0, '::1', resolve));
  t.teardown(() => node.close());
  const taken = node.address().port;
  t.throws(() => UdpTtlSocket.open({ family: 6, address: '::1', port: taken }), {
    code: 'EADDRINUSE',
    message: `opening a UDP socket on [::1]:${taken}: bind failed: EADDRINUSE, another socket holds this address and port`,
  });
});

t.test('an address not on this host is EADDRNOTAVAIL; an unknown device ENODEV', async (t) => {
  if (!requireUdp(t)) return;
  // 192.0.2.1 (documentation address) is on no interface here: bind fails, nothing is sent.
  t.throws(() => UdpTtlSocket.open({ family: 4, address: '192.0.2.1', port: 3784 }), {
    code: 'EADDRNOTAVAIL',
    message:
      'opening a UDP socket on 192.0.2.1:3784: bind failed: EADDRNOTAVAIL, the address is not on any interface of this host',
  });
  t.throws(() => UdpTtlSocket.open({ family: 4, address: '0.0.0.0', port: 0, device: 'nosuchdev0' }), {
    code: 'ENODEV',
    syscall: 'setsockopt SO_BINDTODEVICE',
    message:
      'opening a UDP socket on 0.0.0.0:0 on device nosuchdev0: setsockopt SO_BINDTODEVICE failed: ENODEV, there is no network device nosuchdev0',
  });
  t.throws(() => UdpTtlSocket.open({ family: 6, address: 'fe80::1%nosuchdev0', port: 0 }), {
    code: 'ENODEV',
    message: /if_nametoindex failed: ENODEV, the interface after % in the address does not exist/,
  });
});

t.test('bad options are TypeError / RangeError', async (t) => {
  if (!requireUdp(t)) return;
  const open = (o: object) => () => UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port: 0, ...o });
  t.throws(open({ family: 5 }), { name: 'TypeError', message: 'sockopt: family must be 4 or 6, not 5' });
  t.throws(open({ port: 70000 }), {
    name: 'RangeError',
    message: 'sockopt: port must be an integer 0-65535, not 70000',
  });
  t.throws(open({ ttl: 0 }), { name: 'RangeError', message: 'sockopt: ttl must be an integer 1-255, not 0' });
  t.throws(open({ ttl: 256 }), RangeError);
  t.throws(open({ ttl: 254.5 }), RangeError);
  t.throws(open({ device: 'a-device-name-too-long' }), {
    name: 'TypeError',
    message: /device must be a network device name of 1-15 bytes/,
  });
  t.throws(open({ device: '' }), TypeError);
  t.throws(open({ address: 'localhost' }), {
    name: 'TypeError',
    message: "sockopt: address is not an IP address of the socket's family",
  });
  t.throws(open({ family: 6, address: '127.0.0.1' }), TypeError, 'an IPv6 socket is IPv6-only');
  t.throws(open({ onMessage: 'not a function' }), {
    name: 'TypeError',
    message: 'sockopt: onMessage must be a function',
  });
  const s = UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port: 0 });
  t.teardown(() => s.close());
  t.throws(() => s.send(Buffer.from('x'), 'peer.example', 3784), TypeError);
  t.throws(() => s.send(Buffer.from('x'), '::1', 3784), TypeError);
  t.throws(() => s.send(Buffer.from('x'), '127.0.0.1', 0), RangeError);
  t.throws(() => s.send('x' as unknown as Uint8Array, '127.0.0.1', 3784), {
    name: 'TypeError',
    message: 'sockopt: payload must be a Uint8Array',
  });
});

t.test('a closed socket refuses to send; close twice is fine', async (t) => {
  if (!requireUdp(t)) return;
  const s = UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port: 0 });
  s.close();
  s.close();
  t.equal(s.closed, true);
  t.throws(() => s.send(Buffer.from('x'), '127.0.0.1', 3784), {
    name: 'SockoptError',
    code: 'EBADF',
    message: `sending UDP from 127.0.0.1:${s.localPort} to 127.0.0.1:3784: the socket is closed`,
  });
  t.throws(() => s.stats(), { code: 'EBADF' });
  t.equal(s.unref(), s, 'ref/unref on a closed socket do nothing');
});

t.test('without privileges a port below ip_unprivileged_port_start is EACCES', async (t) => {
  if (!requireUdp(t)) return;
  const start = Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
  if (process.getuid?.() !== 0 || start < 2) {
    t.plan(0, `needs root (to run a child as nobody) and ip_unprivileged_port_start > 1 (it is ${start})`);
    return;
  }
  // A child process as nobody (uid 65534) opens the socket through the same TypeScript sources.
  const index = fileURLToPath(new URL('../src/index.ts', import.meta.url));
  const script = `import(${JSON.stringify(index)}).then(({ UdpTtlSocket }) => {
    try { UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port: ${start - 1} }); console.log('{"opened":true}'); }
    catch (e) { console.log(JSON.stringify({ name: e.name, code: e.code, message: e.message })); }
  });`;
  const loader = process.execArgv.filter((a) => a.includes('@tapjs/typescript'));
  const child = spawnSync(process.execPath, [...loader, '--input-type=module', '-e', script], {
    uid: 65534,
    gid: 65534,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (child.error) {
    // e.g. this Node lives under /root, which nobody may not enter
    t.plan(0, `cannot run ${process.execPath} as nobody: ${child.error.message}`);
    return;
  }
  const line = child.stdout.trim().split('\n').pop() ?? '';
  t.ok(line.startsWith('{'), `the child reported (stderr: ${child.stderr.slice(0, 300)})`);
  if (!line.startsWith('{')) return;
  t.match(JSON.parse(line), {
    name: 'SockoptError',
    code: 'EACCES',
    message: `opening a UDP socket on 127.0.0.1:${start - 1}: bind failed: EACCES, ports below net.ipv4.ip_unprivileged_port_start need CAP_NET_BIND_SERVICE (root)`,
  });
  t.ok(SockoptError, 'the same error class as the TCP options');
});
