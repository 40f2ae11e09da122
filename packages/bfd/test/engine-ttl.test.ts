// What the engine drops before a session sees it, counted by reason: TTL 254 on a single-hop session
// (RFC 5881 5) and below the minimum on a multihop one (RFC 5883 5), undecodable packets, packets for
// no session. And the dgram fallback: refused unless allowed, then running without the TTL check.
import t from 'tap';
import { BFD_DIAG, encodeControlPacket, type BfdControlPacket } from '../src/index.js';
import {
  enginePair,
  FAST,
  freePort,
  LOOPBACK,
  pollUntil,
  requireTtlSocket,
  sendWithTtl,
  settled,
  startEngine,
} from './engine-helpers.js';

const DOWN: BfdControlPacket = {
  version: 1,
  diag: 0,
  state: 'Down',
  poll: false,
  final: false,
  controlPlaneIndependent: false,
  demand: false,
  multipoint: false,
  detectMult: 3,
  myDiscriminator: 0x1234,
  yourDiscriminator: 0,
  desiredMinTxInterval: 1_000_000,
  requiredMinRxInterval: 50_000,
  requiredMinEchoRxInterval: 0,
};

for (const family of [4, 6] as const) {
  t.test(`IPv${family} single hop: a packet with TTL 254 is dropped and counted; 255 is taken`, async (t) => {
    if (!requireTtlSocket(t)) return;
    const here = LOOPBACK[family];
    const listenPorts = { singleHop: await freePort(family), multihop: await freePort(family) };
    const e = await startEngine(t, { listenPorts });
    const id = e.engine.addSession({
      peerAddress: here,
      localAddress: here,
      port: await freePort(family),
      profile: FAST,
    });
    await pollUntil('session running', async () => (await e.engine.session(id))?.running);

    await sendWithTtl(family, encodeControlPacket(DOWN), 254, listenPorts.singleHop);
    const m = await pollUntil('a TTL drop', async () => {
      const metrics = await e.engine.metrics();
      return metrics.dropped.ttl > 0 ? metrics : undefined;
    });
    t.match(m, {
      dropped: { ttl: 1, auth: 0, malformed: 0, noSession: 0, rejected: 0 },
      lastDropped: { reason: 'ttl', detail: /TTL 254 is not 255 \(RFC 5881\)/ },
    });
    t.match(
      await e.engine.session(id),
      { state: 'Down', remoteDiscr: 0, counters: { dropped: { ttl: 1 } } },
      'nothing taken from it',
    );
    t.same(e.changes, []);

    await sendWithTtl(family, encodeControlPacket(DOWN), 255, listenPorts.singleHop);
    t.match(await e.reached(id, 'Init', 'Init from the TTL 255 packet'), { from: 'Down', diag: BFD_DIAG.NONE });
    t.match(await e.engine.session(id), { remoteDiscr: 0x1234, counters: { dropped: { ttl: 1 } } });
  });
}

t.test('malformed packets and packets for no session are dropped and counted', async (t) => {
  if (!requireTtlSocket(t)) return;
  const listenPorts = { singleHop: await freePort(4), multihop: await freePort(4) };
  const e = await startEngine(t, { listenPorts });
  const id = e.engine.addSession({
    peerAddress: '127.0.0.1',
    localAddress: '127.0.0.1',
    port: await freePort(4),
    profile: FAST,
  });
  await pollUntil('session running', async () => (await e.engine.session(id))?.running);
  await sendWithTtl(4, new Uint8Array([0x20, 0x40, 3, 24, 1, 2, 3]), 255, listenPorts.singleHop);
  await sendWithTtl(
    4,
    encodeControlPacket({ ...DOWN, state: 'Up', yourDiscriminator: 99 }),
    255,
    listenPorts.singleHop,
  );
  await sendWithTtl(4, encodeControlPacket(DOWN), 255, listenPorts.singleHop, '127.0.0.1', '127.0.0.2'); // from a peer we have no session with
  const m = await pollUntil('3 drops', async () => {
    const metrics = await e.engine.metrics();
    return metrics.dropped.malformed + metrics.dropped.noSession >= 3 ? metrics : undefined;
  });
  t.match(m.dropped, { malformed: 1, noSession: 2, ttl: 0, rejected: 0 });
  t.match(m.lastDropped, {
    reason: 'noSession',
    detail: /no session 127\.0\.0\.2 -> 127\.0\.0\.1 \(single hop\)/,
    from: /^127\.0\.0\.2 port \d+$/,
  });
  t.equal(m.packetsIn, 3);
  t.match(
    await e.engine.session(id),
    { state: 'Down', counters: { packetsIn: 0 } },
    'none of them reached the session',
  );
  t.same(e.changes, []);
});

t.test('multihop: the minimum TTL from the profile, on the multihop port; two engines come Up', async (t) => {
  if (!requireTtlSocket(t)) return;
  const listenPorts = { singleHop: await freePort(4), multihop: await freePort(4) };
  const e = await startEngine(t, { listenPorts });
  const id = e.engine.addSession({
    peerAddress: '127.0.0.1',
    localAddress: '127.0.0.1',
    multihop: true,
    port: await freePort(4),
    profile: { ...FAST, minimumTtl: 250 },
  });
  await pollUntil('session running', async () => (await e.engine.session(id))?.running);
  await sendWithTtl(4, encodeControlPacket(DOWN), 255, listenPorts.singleHop); // nobody listens there: no single-hop session
  await sendWithTtl(4, encodeControlPacket(DOWN), 249, listenPorts.multihop);
  const m = await pollUntil('a TTL drop', async () => {
    const metrics = await e.engine.metrics();
    return metrics.dropped.ttl >= 1 ? metrics : undefined;
  });
  t.match(m, {
    dropped: { ttl: 1, noSession: 0 },
    lastDropped: { detail: /TTL 249 below the minimum 250 \(RFC 5883\)/ },
  });
  t.equal(m.packetsIn, 1, 'the single-hop port is not open');
  await sendWithTtl(4, encodeControlPacket(DOWN), 250, listenPorts.multihop);
  await e.reached(id, 'Init', 'Init from TTL 250');

  const p = await enginePair(t, 6, { multihop: true, profile: FAST }, { multihop: true, profile: FAST });
  await settled(p, 150, 150);
  t.match(await p.a.engine.session(p.idA), {
    multihop: true,
    listenPort: p.a.engine.listenPorts.multihop,
    port: p.b.engine.listenPorts.multihop,
  });
});

t.test('without the TTL check: refused by default, dgram when allowed', async (t) => {
  const listenPorts = { singleHop: await freePort(4), multihop: await freePort(4) };
  const refusing = await startEngine(t, { listenPorts, transport: 'dgram' });
  t.equal(refusing.engine.ttlCheck, 'unavailable');
  t.match(refusing.engine.ttlCheckReason, /transport: 'dgram'/);
  t.throws(() => refusing.engine.addSession({ peerAddress: '127.0.0.1', localAddress: '127.0.0.1' }), {
    name: 'BfdEngineError',
    code: 'ttl-check-unavailable',
    message: /BFD session to 127\.0\.0\.1 refused: received TTLs cannot be checked.*allowUncheckedTtl: true/,
  });
  t.same(refusing.engine.sessionIds(), []);

  const p = await enginePair(
    t,
    4,
    { profile: FAST },
    { profile: FAST },
    { transport: 'dgram', allowUncheckedTtl: true },
  );
  await settled(p, 150, 150);
  const status = await p.a.engine.session(p.idA);
  t.match(status, { state: 'Up', ttlCheck: 'unavailable' });
  t.ok(status!.sourcePort! >= 49152, 'dgram also sends from 49152-65535');
  const before = p.b.changes.length;
  await p.a.engine.stop();
  t.match(
    await p.b.reached(p.idB, 'Down', 'b Down', before),
    { diag: BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN },
    'the AdminDown left before the dgram socket closed',
  );

  const e = await startEngine(t, {
    listenPorts: { singleHop: await freePort(4), multihop: await freePort(4) },
    transport: 'dgram',
    allowUncheckedTtl: true,
  });
  const id = e.engine.addSession({ peerAddress: '127.0.0.1', localAddress: '127.0.0.1', interface: 'lo' });
  const error = await e.until(() => e.errors.find((x) => x.sessionId === id), 'the socket error');
  t.match(error, { code: 'socket', message: /binding a BFD session to interface lo needs the native socket addon/ });
  t.match(await e.engine.session(id), { running: false, error: /needs the native socket addon/ });
});
