// Our BFD engine against BIRD 2's `protocol bfd` (Debian's 2.0.12), which has RFC 5880 authentication
// (FRR 8.4's bfdd has none). Two namespaces joined by three veth pairs, one per BIRD interface block:
// `plain` (no authentication), `sha1` (keyed SHA1, key id 7) and `bad` (keyed SHA1 on BIRD's side, our
// key with the same id and another secret). Single-hop sessions over IPv4 and IPv6 on plain and sha1,
// IPv4 on bad. BIRD sends single-hop packets from the kernel's ephemeral ports, which we accept.
// Checked: plain and SHA1 sessions Up on both sides, each side seeing the other's intervals and Detect
// Mult; the wrong key never leaves Down on either side, our engine counts the packets it drops as
// authentication failures and BIRD logs ours as failing. Needs root, ip, bird2 and the built TTL socket
// addon (packages/sockopt): skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { interopUnavailable, ip, requireOrSkip, vethPair } from './netns.js';
import { poll } from './gobgpd.js';
import { birdBfdSessions, birdUnavailable, startBird } from './bird.js';
import { bfdEngineUnavailable, pollAsync, startBfdChild } from './bfd-child.js';

const SECRET = 'bfd-interop-key';
const KEY = { type: 'keyed-sha1', keyId: 7, secret: SECRET } as const;
// Ours: 150 ms Required Min RX (so BIRD's transmit interval shows it), 100 ms Desired Min TX, Detect Mult 4.
const PROFILE = { name: 'bird', receiveInterval: 150, transmitInterval: 100, detectMultiplier: 4 };

/** Our sessions: our address, BIRD's address, the link, whether we sign. */
const SESSIONS = {
  plain4: { ours: '192.0.2.1', bird: '192.0.2.2', link: 'plain', auth: undefined },
  plain6: { ours: '2001:db8:0:1::1', bird: '2001:db8:0:1::2', link: 'plain', auth: undefined },
  sha4: { ours: '192.0.2.17', bird: '192.0.2.18', link: 'sha1', auth: KEY },
  sha6: { ours: '2001:db8:0:2::1', bird: '2001:db8:0:2::2', link: 'sha1', auth: KEY },
  bad4: { ours: '192.0.2.33', bird: '192.0.2.34', link: 'bad', auth: { ...KEY, secret: 'not-the-bfd-key' } },
} as const;
type Name = keyof typeof SESSIONS;
const GOOD: Name[] = ['plain4', 'plain6', 'sha4', 'sha6'];

t.test('our BFD engine and BIRD 2: IPv4 and IPv6, without and with keyed SHA1; a wrong key stays Down', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? birdUnavailable() ?? (await bfdEngineUnavailable()))) return;
  const { a: us, b: bird } = vethPair(t, '192.0.2.1/28', '192.0.2.2/28', 'bfdb');
  const dev = {
    plain: { us: us.dev, bird: bird.dev },
    sha1: { us: 'sha-us', bird: 'sha-bird' },
    bad: { us: 'bad-us', bird: 'bad-bird' },
  };
  for (const link of ['sha1', 'bad'] as const) {
    ip('link', 'add', dev[link].us, 'netns', us.ns, 'type', 'veth', 'peer', 'name', dev[link].bird, 'netns', bird.ns);
    ip('-n', us.ns, 'link', 'set', dev[link].us, 'up');
    ip('-n', bird.ns, 'link', 'set', dev[link].bird, 'up');
  }
  for (const s of Object.values(SESSIONS)) {
    if (s.link === 'plain' && !s.ours.includes(':')) continue; // vethPair gave these
    const len = s.ours.includes(':') ? 64 : 28;
    ip('-n', us.ns, 'addr', 'add', `${s.ours}/${len}`, 'dev', dev[s.link].us, 'nodad');
    ip('-n', bird.ns, 'addr', 'add', `${s.bird}/${len}`, 'dev', dev[s.link].bird, 'nodad');
  }

  const options = (link: 'plain' | 'sha1' | 'bad'): string =>
    `interval 100 ms; multiplier 3; idle tx interval 200 ms;${link === 'plain' ? '' : ` authentication keyed sha1; password "${SECRET}" { id 7; };`}`;
  const b = await startBird(t, {
    ns: bird.ns,
    routerId: '192.0.2.2',
    config: [
      'protocol bfd {',
      ...(['plain', 'sha1', 'bad'] as const).map((link) => `  interface "${dev[link].bird}" { ${options(link)} };`),
      ...Object.values(SESSIONS).map((s) => `  neighbor ${s.ours} dev "${dev[s.link].bird}" local ${s.bird};`),
      '}',
    ].join('\n'),
  });
  const child = await startBfdChild(t, us.ns, {
    sessions: Object.fromEntries(
      Object.entries(SESSIONS).map(([name, s]) => [
        name,
        { peerAddress: s.bird, localAddress: s.ours, profile: PROFILE, ...(s.auth ? { auth: s.auth } : {}) },
      ]),
    ),
  });
  const withLogs = (err: Error): never => {
    throw new Error(
      `${err.message}\n--- our engine:\n${child.output()}\n${b.logs()}\n${b.birdc('show', 'bfd', 'sessions')}`,
    );
  };

  await t.test('sessions without and with keyed SHA1 come Up on both sides', async (t) => {
    for (const name of GOOD) await child.waitState(name, 'Up').catch(withLogs);
    const theirs = await poll('BIRD to show the four sessions Up', () => {
      const list = birdBfdSessions(b);
      return GOOD.every((n) => list.find((s) => s.address === SESSIONS[n].ours)?.state === 'Up') ? list : undefined;
    }).catch(withLogs);
    for (const name of GOOD) {
      const ours = await child.session(name);
      const bs = theirs.find((s) => s.address === SESSIONS[name].ours)!;
      t.equal(ours.state, 'Up', `${name}: Up on our side`);
      t.equal(
        ours.authType,
        SESSIONS[name].auth?.type,
        `${name}: ${SESSIONS[name].auth ? 'keyed SHA1' : 'no authentication'}`,
      );
      t.equal(
        bs.interface,
        dev[SESSIONS[name].link].bird,
        `${name}: BIRD runs it on its ${SESSIONS[name].link} interface`,
      );
      t.equal(bs.interval, 0.15, `${name}: BIRD transmits at our Required Min RX, 150 ms`);
      t.equal(bs.timeout, 0.4, `${name}: BIRD's detection time is our Detect Mult 4 x our 100 ms`);
      t.equal(ours.remoteDetectMult, 3, `${name}: we see BIRD's Detect Mult 3`);
      t.equal(ours.remoteMinRxIntervalMs, 100, `${name}: we see BIRD's Required Min RX 100 ms`);
      t.equal(ours.detectionTimeMs, 3 * 150, `${name}: our detection time is 3 x 150 ms`);
      t.match(
        ours.counters,
        { dropped: { ttl: 0, auth: 0 } },
        `${name}: nothing of BIRD's dropped (TTL, authentication)`,
      );
      if (SESSIONS[name].auth) t.equal(ours.authSequenceKnown, true, `${name}: BIRD's sequence number is known`);
    }
  });

  await t.test('a wrong key never comes Up and our drops are counted', async (t) => {
    const dropped = await pollAsync("our engine to drop five of BIRD's packets on the bad session", async () => {
      const s = await child.session('bad4');
      return s.counters.dropped.auth >= 5 ? s : undefined;
    }).catch(withLogs);
    t.equal(dropped.state, 'Down', 'our side: Down');
    t.equal(dropped.remoteDiscr, 0, "our side never learnt BIRD's discriminator");
    t.equal(dropped.counters.upTransitions, 0, 'our side: never Up');
    t.strictSame(child.states('bad4'), [], 'our side: no state change at all (no Init, no Up)');
    const metrics = await child.metrics();
    t.ok(
      metrics.dropped.auth >= dropped.counters.dropped.auth,
      `engine metrics count ${metrics.dropped.auth} authentication drops`,
    );
    t.equal(
      metrics.lastDropped?.reason,
      'auth',
      `the last drop was an authentication failure: ${metrics.lastDropped?.detail ?? ''}`,
    );
    t.match(metrics.lastDropped?.from, SESSIONS.bad4.bird, "from BIRD's address on the bad link");
    const theirs = birdBfdSessions(b).find((s) => s.address === SESSIONS.bad4.ours);
    t.equal(theirs?.state, 'Down', 'BIRD: Down');
    const log = b.logs();
    t.match(
      log,
      new RegExp(`Authentication failed for ${SESSIONS.bad4.ours.replaceAll('.', '\\.')}`),
      'BIRD logs our packets as failing authentication',
    );
    t.equal(
      birdBfdSessions(b).filter((s) => s.state === 'Up').length,
      GOOD.length,
      'the four good sessions are still Up',
    );
  });
});
