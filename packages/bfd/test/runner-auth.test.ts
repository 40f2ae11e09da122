// Authenticated runners in virtual time: keyed SHA1 comes up, a wrong key or a missing key does not,
// a replayed packet is dropped, and bfd.AuthSeqKnown is reset after twice the Detection Time without
// an authentic packet (RFC 5880 6.8.1), so an old sequence number is accepted again only then.
import t from 'tap';
import type { BfdAuthKey } from '../src/types.js';
import { connect, deliver, testRunner, VirtualWorld } from './runner-helpers.js';

const sha1 = (secret: string, keyId = 1): BfdAuthKey => ({
  type: 'keyed-sha1',
  keyId,
  secret: new TextEncoder().encode(secret),
});

t.test('keyed SHA1 with the same key on both sides comes Up; every packet is signed', async (t) => {
  const world = new VirtualWorld();
  const a = testRunner(world.loop(1), { localDiscr: 1, authKeys: [sha1('correct horse')], initialXmitAuthSeq: 1000 });
  const b = testRunner(world.loop(2), { localDiscr: 2, authKeys: [sha1('correct horse')] });
  connect(a, b);
  a.runner.start();
  b.runner.start();
  world.runUntilTrue(() => a.runner.state === 'Up' && b.runner.state === 'Up', 5000, 'Up');
  t.ok(
    a.sent.every((p) => (p[1]! & 0x04) !== 0 && p[24] === 4),
    'A bit set and Auth Type 4 (keyed SHA1) in every packet',
  );
  t.same(
    [...a.sent.slice(0, 3)].map((p) => Buffer.from(p).readUInt32BE(28)),
    [1000, 1001, 1002],
    'the sequence starts at bfd.XmitAuthSeq and goes up by one',
  );
  t.match(b.runner.status(), { authType: 'keyed-sha1', authSequenceKnown: true, counters: { dropped: { auth: 0 } } });
});

t.test('a wrong key, a wrong key id or no key: the session stays Down and the drops are counted as auth', async (t) => {
  for (const [what, keysB] of [
    ['wrong secret', [sha1('battery staple')]],
    ['wrong key id', [sha1('correct horse', 2)]],
    ['no authentication', undefined],
  ] as const) {
    const world = new VirtualWorld();
    const a = testRunner(world.loop(1), { localDiscr: 1, authKeys: [sha1('correct horse')] });
    const b = testRunner(world.loop(2), { localDiscr: 2, ...(keysB === undefined ? {} : { authKeys: [...keysB] }) });
    connect(a, b);
    a.runner.start();
    b.runner.start();
    world.run(5000);
    t.equal(a.runner.state, 'Down', `${what}: a stays Down`);
    t.equal(b.runner.state, 'Down', `${what}: b stays Down`);
    t.same(a.changes, [], `${what}: no state change at all`);
    t.ok(
      b.runner.status().counters.dropped.auth >= 4,
      `${what}: b dropped ${b.runner.status().counters.dropped.auth} packets for auth`,
    );
    t.ok(
      a.runner.status().counters.dropped.auth >= 4,
      `${what}: a dropped ${a.runner.status().counters.dropped.auth} packets for auth`,
    );
    t.match(b.outcomes[0], {
      accepted: false,
      reason: 'auth',
      detail: keysB === undefined ? /no authentication/ : /does not match|not a configured key/,
    });
  }
});

t.test(
  'replays are dropped; after 2 x Detection Time without an authentic packet the sequence is forgotten',
  async (t) => {
    const world = new VirtualWorld();
    const a = testRunner(world.loop(1), { localDiscr: 1, authKeys: [{ ...sha1('k'), type: 'meticulous-keyed-sha1' }] });
    const b = testRunner(world.loop(2), { localDiscr: 2, authKeys: [{ ...sha1('k'), type: 'meticulous-keyed-sha1' }] });
    connect(a, b);
    a.runner.start();
    b.runner.start();
    world.runUntilTrue(
      () =>
        a.runner.state === 'Up' &&
        b.runner.state === 'Up' &&
        b.runner.status().detectionTimeMs === 150 &&
        !a.runner.status().pollActive,
      5000,
      'Up at 50 ms',
    );
    world.run(1000);
    const old = a.sent.at(-1)!;
    world.run(1000); // some 20 packets later: far outside the window of 3 x Detect Mult
    t.match(
      deliver(b, old, 255),
      { accepted: false, reason: 'auth', detail: /outside the window/ },
      'a replayed packet is dropped',
    );
    t.match(
      deliver(b, a.sent.at(-2)!, 255),
      { accepted: false, reason: 'auth' },
      'meticulous: a sequence number already received is a replay too',
    );

    const received = b.outcomes.length;
    world.runUntilTrue(() => b.outcomes.length > received, 100, 'the next packet from a');
    a.link.up = false; // silence from a from the moment b's last authentic packet arrived
    const silentFrom = world.now;
    world.runUntilTrue(() => b.runner.state === 'Down', 1000, 'b Down');
    world.runUntil(silentFrom + 290);
    t.match(
      deliver(b, old, 255),
      { accepted: false, reason: 'auth' },
      'at 290 ms (< 2 x 150 ms) the sequence is still known',
    );
    t.equal(b.runner.status().authSequenceKnown, true);
    world.runUntil(silentFrom + 310);
    t.equal(b.runner.status().authSequenceKnown, false, 'at 310 ms bfd.AuthSeqKnown is 0 again');
    t.same(deliver(b, old, 255), { accepted: true }, 'and the old packet authenticates (the digest is right)');
    t.equal(b.runner.status().counters.authSequenceResets, 1);
  },
);
