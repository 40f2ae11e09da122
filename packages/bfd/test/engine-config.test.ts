// Bad input gets a clear BfdEngineError naming what is wrong, synchronously; a socket the kernel
// refuses is an 'error' event and a session that says why it is not running. Never a crash.
import t from 'tap';
import dgram from 'node:dgram';
import { BfdEngine, BfdEngineError, type BfdSessionOptions } from '../src/index.js';
import { freePort, requireTtlSocket, startEngine } from './engine-helpers.js';

t.test('engine options are checked', async (t) => {
  await t.rejects(BfdEngine.start({ listenPorts: { singleHop: 70000 } }), {
    code: 'config',
    message: 'listenPorts.singleHop must be an integer from 1 to 65535, got 70000',
  });
  await t.rejects(BfdEngine.start({ listenPorts: { singleHop: 5000, multihop: 5000 } }), {
    message: /different ports, got 5000 for both/,
  });
  await t.rejects(BfdEngine.start({ transport: 'raw' as 'auto' }), {
    message: /transport must be 'auto' or 'dgram', got "raw"/,
  });
  await t.rejects(BfdEngine.start({ lateTransmissionSlackMs: -1 }), {
    message: /lateTransmissionSlackMs must be a number/,
  });
});

t.test('session options are checked, each error naming the field', async (t) => {
  const e = await startEngine(t, {
    listenPorts: { singleHop: await freePort(4), multihop: await freePort(4) },
    allowUncheckedTtl: true,
  });
  const base = { peerAddress: '192.0.2.2', localAddress: '192.0.2.1' };
  const cases: [string, unknown, RegExp][] = [
    ['not an object', null, /options must be an object/],
    [
      'peer not an address',
      { ...base, peerAddress: 'router.example' },
      /peerAddress "router\.example" is not an IPv4 or IPv6 address/,
    ],
    ['no local address', { peerAddress: '192.0.2.2' }, /localAddress must be an IP address string, got undefined/],
    [
      'mixed families',
      { ...base, localAddress: '2001:db8::1' },
      /localAddress 2001:db8::1 is not of the same address family/,
    ],
    [
      'link-local without interface',
      { peerAddress: 'fe80::2', localAddress: 'fe80::1' },
      /a link-local address needs its interface/,
    ],
    [
      'two interfaces',
      { peerAddress: 'fe80::2%eth0', localAddress: 'fe80::1', interface: 'eth1' },
      /the interface is given differently \(eth1, eth0\)/,
    ],
    [
      'interface name too long',
      { ...base, interface: 'a-very-long-interface-name' },
      /interface must be a network device name of 1-15 characters/,
    ],
    ['multihop not boolean', { ...base, multihop: 'yes' }, /multihop must be true or false/],
    ['bad port', { ...base, port: 0 }, /port must be an integer from 1 to 65535, got 0/],
    [
      'bad profile',
      { ...base, profile: { name: 'p', detectMultiplier: 1 } },
      /BFD profile "p": detectMultiplier must be an integer from 2 to 255, got 1/,
    ],
    [
      'unknown profile field',
      { ...base, profile: { name: 'p', trasmitInterval: 10 } },
      /unknown field "trasmitInterval"/,
    ],
    [
      'bad auth type',
      { ...base, auth: { type: 'sha256', keyId: 1, secret: 'x' } },
      /auth type must be one of simple, keyed-md5/,
    ],
    [
      'secret too long',
      { ...base, auth: { type: 'keyed-md5', keyId: 1, secret: 'seventeen bytes!!' } },
      /keyed-md5 secret of 17 bytes, expected 1 to 16/,
    ],
    [
      'bad key id',
      { ...base, auth: { type: 'keyed-sha1', keyId: 256, secret: 'x' } },
      /key id 256 is not from 0 to 255/,
    ],
  ];
  for (const [what, options, message] of cases) {
    t.throws(
      () => e.engine.addSession(options as BfdSessionOptions),
      { name: 'BfdEngineError', code: 'config', message },
      what,
    );
  }
  t.same(e.engine.sessionIds(), [], 'nothing was added');
  const id = e.engine.addSession({ ...base, port: 9 }); // accepted (nothing will answer)
  t.throws(() => e.engine.addSession({ peerAddress: '192.0.2.2', localAddress: '192.0.2.1' }), {
    message: /a BFD session to 192\.0\.2\.2 from 192\.0\.2\.1 \(single hop\) already exists/,
  });
  t.doesNotThrow(
    () => e.engine.addSession({ ...base, multihop: true }),
    'the multihop session on the same addresses is another path',
  );
  t.throws(() => e.engine.adminDown(id, 32), /diag must be an integer from 0 to 31/);
  t.throws(() => e.engine.updateSession(99, {}), /no BFD session 99/);
  await t.rejects(e.engine.stallWorkerForTest(-1), /stall must be 0-60000 ms/);
});

t.test('a port the kernel refuses: an error event, the session says why, other sessions are unaffected', async (t) => {
  if (!requireTtlSocket(t)) return;
  const taken = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => taken.bind(0, '127.0.0.1', resolve));
  t.teardown(() => taken.close());
  const e = await startEngine(t, { listenPorts: { singleHop: taken.address().port, multihop: await freePort(4) } });
  const id = e.engine.addSession({ peerAddress: '127.0.0.1', localAddress: '127.0.0.1' });
  const error = await e.until(() => e.errors[0], 'an error event');
  t.ok(error instanceof BfdEngineError);
  t.match(error, {
    code: 'socket',
    sessionId: id,
    message: /cannot start: .*EADDRINUSE, another socket holds this address and port/,
  });
  t.match(await e.engine.session(id), { running: false, state: 'Down', sourcePort: undefined, error: /EADDRINUSE/ });
  const other = e.engine.addSession({ peerAddress: '127.0.0.1', localAddress: '127.0.0.1', multihop: true });
  t.match(await e.engine.session(other), { running: true }, 'the multihop session runs');
  const missing = e.engine.addSession({ peerAddress: '192.0.2.2', localAddress: '192.0.2.1' });
  t.match(await e.engine.session(missing), {
    running: false,
    error: /EADDRNOTAVAIL, the address is not on any interface of this host/,
  });
  t.equal(e.errors.length, 2);
  await e.engine.removeSession(id);
  t.equal(await e.engine.session(id), undefined, 'a failed session can be removed');
});
