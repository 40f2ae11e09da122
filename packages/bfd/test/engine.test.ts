// Two engines (each with its own worker) talking over loopback on IPv4 and IPv6: Up, the values both
// sides agree on, AdminDown on stop (the peer goes Down with diag 3), adminDown/adminUp, removal, a
// Poll Sequence from updateSession, and keyed SHA1 authentication (a wrong key never comes up).
import t from 'tap';
import { BFD_DIAG } from '../src/index.js';
import { enginePair, FAST, LOOPBACK, pollUntil, requireTtlSocket, settled } from './engine-helpers.js';

for (const family of [4, 6] as const) {
  t.test(
    `IPv${family} loopback: two engines reach Up; stopping one sends AdminDown and the other goes Down with diag 3`,
    async (t) => {
      if (!requireTtlSocket(t)) return;
      const p = await enginePair(t, family, { profile: FAST }, { profile: FAST });
      const started = Date.now();
      await settled(p, 150, 150);
      const [sa, sb] = await Promise.all([p.a.engine.session(p.idA), p.b.engine.session(p.idB)]);
      if (sa === undefined || sb === undefined) throw new Error('sessions missing');
      t.comment(`IPv${family}: Up and at 50 ms x 3 ${Date.now() - started} ms after adding the sessions`);
      t.equal(sa.remoteDiscr, sb.localDiscr, "a knows b's discriminator");
      t.equal(sb.remoteDiscr, sa.localDiscr, "b knows a's discriminator");
      t.not(sa.localDiscr, 0);
      t.match(sa, {
        state: 'Up',
        remoteState: 'Up',
        transmitIntervalMs: 50,
        receiveIntervalMs: 50,
        detectionTimeMs: 150,
        running: true,
        ttlCheck: 'available',
        peerAddress: LOOPBACK[family],
        multihop: false,
      });
      t.ok(
        sa.sourcePort !== undefined && sa.sourcePort >= 49152 && sa.sourcePort <= 65535,
        `source port ${sa.sourcePort} in 49152-65535 (RFC 5881 4)`,
      );
      t.not(sa.sourcePort, sb.sourcePort);
      t.ok(sa.counters.packetsIn > 0 && sa.counters.packetsOut > 0);
      t.same(sa.counters.dropped, { ttl: 0, auth: 0, rejected: 0 });
      t.equal(p.a.engine.state(p.idA), 'Up', 'the state without a round trip');
      const m = await p.a.engine.metrics();
      t.match(m, { sessions: 1, ttlCheck: 'available', dropped: { ttl: 0, auth: 0, malformed: 0, noSession: 0 } });
      t.ok(m.packetsIn >= sa.counters.packetsIn && m.packetsOut >= sa.counters.packetsOut);

      const before = p.b.changes.length;
      const stopAt = Date.now();
      await p.a.engine.stop();
      const down = await p.b.reached(p.idB, 'Down', 'b Down', before);
      t.match(down, {
        from: 'Up',
        diag: BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN,
        remoteDiag: BFD_DIAG.ADMINISTRATIVELY_DOWN,
      });
      t.ok(down.at - stopAt < 100, `b Down ${(down.at - stopAt).toFixed(1)} ms after a.stop() (diag 3, not a timeout)`);
      t.comment(`IPv${family}: peer Down ${(down.at - stopAt).toFixed(1)} ms after stop()`);
      t.match(p.a.changes.at(-1), { id: p.idA, from: 'Up', to: 'AdminDown', diag: BFD_DIAG.ADMINISTRATIVELY_DOWN });
      await t.rejects(p.a.engine.metrics(), { code: 'stopped' }, 'a stopped engine answers nothing');
      t.throws(() => p.a.engine.addSession({ peerAddress: '127.0.0.1', localAddress: '127.0.0.1' }), {
        code: 'stopped',
      });
    },
  );
}

t.test('adminDown / adminUp, and removeSession tells the peer', async (t) => {
  if (!requireTtlSocket(t)) return;
  const p = await enginePair(t, 4, { profile: FAST }, { profile: FAST });
  await settled(p, 150, 150);
  let mark = p.b.changes.length;
  p.a.engine.adminDown(p.idA, BFD_DIAG.PATH_DOWN);
  t.match(await p.b.reached(p.idB, 'Down', 'b Down', mark), {
    diag: BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN,
    remoteDiag: BFD_DIAG.PATH_DOWN,
  });
  t.match(await p.a.reached(p.idA, 'AdminDown', 'a AdminDown'), { from: 'Up', diag: BFD_DIAG.PATH_DOWN });
  const statusB = await p.b.engine.session(p.idB);
  t.match(statusB, { state: 'Down', remoteState: 'AdminDown' }, 'b stays Down while a is AdminDown');
  mark = p.b.changes.length;
  p.a.engine.adminUp(p.idA);
  await p.b.reached(p.idB, 'Up', 'b Up again', mark);
  await p.a.until(() => p.a.engine.state(p.idA) === 'Up', 'a Up again');

  mark = p.b.changes.length;
  await p.a.engine.removeSession(p.idA);
  t.match(await p.b.reached(p.idB, 'Down', 'b Down after removal', mark), {
    diag: BFD_DIAG.NEIGHBOR_SIGNALED_SESSION_DOWN,
    remoteDiag: BFD_DIAG.ADMINISTRATIVELY_DOWN,
  });
  t.equal(await p.a.engine.session(p.idA), undefined, 'gone');
  t.same(p.a.engine.sessionIds(), []);
  t.equal((await p.a.engine.metrics()).sessions, 0);
  t.throws(() => p.a.engine.adminDown(p.idA), { code: 'config', message: /no BFD session 1/ });
  await p.a.engine.removeSession(p.idA); // unknown ids are ignored
});

t.test('updateSession runs a Poll Sequence: the peer adopts the slower rate and longer detection time', async (t) => {
  if (!requireTtlSocket(t)) return;
  const p = await enginePair(t, 6, { profile: FAST }, { profile: FAST });
  await settled(p, 150, 150);
  const [markA, markB] = [p.a.changes.length, p.b.changes.length];
  p.a.engine.updateSession(p.idA, { transmitInterval: 200, detectMultiplier: 4 });
  await settled(p, 150, 800); // a: b's 3 x 50 ms; b: a's Detect Mult 4 x a's 200 ms
  t.match(await p.a.engine.session(p.idA), {
    transmitIntervalMs: 200,
    detectMult: 4,
    profile: { transmitInterval: 200, detectMultiplier: 4, name: 'fast' },
  });
  t.match(await p.b.engine.session(p.idB), { receiveIntervalMs: 200, remoteDetectMult: 4, detectionTimeMs: 800 });
  t.equal(p.a.changes.length, markA, 'no state change on a');
  t.equal(p.b.changes.length, markB, 'no state change on b');
  t.throws(() => p.a.engine.updateSession(p.idA, { passiveMode: true }), /passiveMode cannot change/);
  t.throws(
    () => p.a.engine.updateSession(p.idA, { transmitInterval: 5 }),
    /transmitInterval must be an integer from 10 to 60000/,
  );
});

t.test(
  'keyed SHA1: the same key comes Up, a wrong key never does and its packets are counted as auth drops',
  async (t) => {
    if (!requireTtlSocket(t)) return;
    const key = { type: 'keyed-sha1', keyId: 7, secret: 'a shared secret' } as const;
    const good = await enginePair(
      t,
      4,
      { profile: FAST, auth: key },
      { profile: FAST, auth: { ...key, secret: new TextEncoder().encode('a shared secret') } },
    );
    await settled(good, 150, 150);
    t.match(await good.a.engine.session(good.idA), {
      authType: 'keyed-sha1',
      authSequenceKnown: true,
      counters: { dropped: { auth: 0 } },
    });

    const bad = await enginePair(
      t,
      4,
      { profile: FAST, auth: key },
      { profile: FAST, auth: { ...key, secret: 'another secret' } },
    );
    const m = await pollUntil('3 auth drops on each side', async () => {
      const [ma, mb] = await Promise.all([bad.a.engine.metrics(), bad.b.engine.metrics()]);
      return ma.dropped.auth >= 3 && mb.dropped.auth >= 3 ? ma : undefined;
    });
    t.match(m.lastDropped, { reason: 'auth', detail: /digest for key 7 does not match/ });
    t.same(bad.a.changes, [], 'a never left Down');
    t.same(bad.b.changes, [], 'b never left Down');
    t.match(await bad.a.engine.session(bad.idA), { state: 'Down', remoteDiscr: 0 });
  },
);
