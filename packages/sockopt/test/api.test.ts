// The wrapper's contract: a missing or broken addon is reported with how to build it (never a crash at
// import); argument errors are TypeError/RangeError; failed system calls are SockoptErrors with the errno
// name as code and a message naming the option.
import t from 'tap';
import net from 'node:net';
import { mkdtempSync, openSync, closeSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireAddon } from './helpers.js';
import {
  addonPath,
  bindSocket,
  closeSocket,
  createTcpSocket,
  probeAddon,
  setMinTtl,
  setTcpMd5Sig,
  setTtl,
  sockoptAvailable,
  SockoptError,
} from '../src/index.js';

t.test('an addon that is not built or does not load is reported with how to build it', async (t) => {
  t.match(addonPath, /packages\/sockopt\/build\/Release\/sockopt\.node$/);
  const dir = mkdtempSync(join(tmpdir(), 'sockopt-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const missing = probeAddon(join(dir, 'sockopt.node'));
  t.ok('reason' in missing);
  if ('reason' in missing) {
    t.match(missing.reason, /is not built \(no .*sockopt\.node\)/);
    t.match(missing.reason, /npm run build:addon -w @bgp-announce\/sockopt/);
    t.match(missing.reason, /apt-get install build-essential python3/);
  }
  const broken = join(dir, 'broken.node');
  writeFileSync(broken, 'not a shared object');
  const bad = probeAddon(broken);
  t.ok('reason' in bad);
  if ('reason' in bad) t.match(bad.reason, /does not load/);
  const status = sockoptAvailable();
  t.equal(typeof status.ok, 'boolean');
  if (!status.ok) t.match(status.reason, /build/);
});

t.test('argument errors', async (t) => {
  if (!requireAddon(t)) return;
  const fd = createTcpSocket(4);
  t.teardown(() => closeSocket(fd));
  t.throws(() => createTcpSocket(5 as 4), TypeError);
  t.throws(() => setTtl(fd, 0), { name: 'RangeError', message: 'sockopt: ttl must be an integer 1-255' });
  t.throws(() => setTtl(fd, 256), RangeError);
  t.throws(() => setMinTtl(fd, -1), RangeError);
  t.throws(() => setTtl(-1, 64), { name: 'RangeError', message: /fd must be/ });
  t.throws(() => setTcpMd5Sig(fd, '127.0.0.1', 'k'.repeat(81)), {
    name: 'RangeError',
    message: /81 bytes; the most is 80/,
  });
  t.throws(() => setTcpMd5Sig(fd, '2001:db8::1', 'k'), {
    name: 'TypeError',
    message: /not an IP address of the socket's family/,
  });
  t.throws(() => setTcpMd5Sig(fd, 'peer.example', 'k'), TypeError);
  t.throws(() => bindSocket(fd, 'localhost', 0), TypeError);
});

t.test('failed system calls are SockoptErrors naming the option and the errno', async (t) => {
  if (!requireAddon(t)) return;
  const file = openSync('/dev/null', 'r');
  t.teardown(() => closeSync(file));
  t.throws(() => setTtl(file, 64), {
    name: 'SockoptError',
    code: 'ENOTSOCK',
    syscall: 'getsockopt SO_DOMAIN',
    message: 'TTL 64: getsockopt SO_DOMAIN failed: ENOTSOCK, the file descriptor is not an open socket',
  });
  // 192.0.2.1 (documentation address) is on no interface here: bind fails, nothing is sent.
  const fd = createTcpSocket(4);
  t.teardown(() => closeSocket(fd));
  const err = t.throws(() => bindSocket(fd, '192.0.2.1', 0)) as SockoptError;
  t.ok(err instanceof SockoptError);
  t.equal(err.code, 'EADDRNOTAVAIL');
  t.equal(
    err.message,
    'binding to 192.0.2.1:0: bind failed: EADDRNOTAVAIL, the address is not on any interface of this host',
  );

  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => squatter.close(() => resolve())));
  const port = (squatter.address() as net.AddressInfo).port;
  const other = createTcpSocket(4);
  t.teardown(() => closeSocket(other));
  t.throws(() => bindSocket(other, '127.0.0.1', port), {
    code: 'EADDRINUSE',
    message: `binding to 127.0.0.1:${port}: bind failed: EADDRINUSE, another socket holds this address and port`,
  });
});
