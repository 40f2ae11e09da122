// Issue 17: sessions come back as soon as the router can take them. FRR 8.4 (AS 64496) at 192.0.2.1
// and our built Speaker (AS 64497, active only, default timers but a 3 s hold time so a dead link is
// noticed quickly) at 192.0.2.2, on a bridge in a switch namespace:
// - 20 link flaps in a row, each after the previous recovery: the switch port of our node goes down
//   until both sides have dropped the session, then up; the session is Established again within 2 s of
//   link-up every time (before the fix, the back-off doubled per flap: 1, 2, 4 ... 120 s);
// - 5 FRR restarts (bgpd stopped with SIGTERM, so it sends a Cease, then started again): Established
//   within 2 s of bgpd answering again;
// - FRR configured with another AS for us: each attempt ends with FRR's OPEN error (2/2 Bad Peer AS), a
//   protocol failure, and the pause before the next attempt doubles up to the cap (idleHoldTime 0.1 s,
//   maxIdleHoldTime 0.8 s here), shown in the peer's status.
// Needs root, ip, vtysh and FRR's daemons: skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { writeFileSync } from 'node:fs';
import { interopUnavailable, ip, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { fabric, startSpeaker, type SpeakerChild, type SpeakerChildEvent } from './fabric.js';
import { frrNeighbor, frrUnavailable, startFrr, type Frr } from './frr.js';

const FLAPS = 20;
const RESTARTS = 5;
const GOAL_MS = 2000;

function bgpdConfig(ourAs: number): string {
  return [
    'router bgp 64496',
    ' bgp router-id 192.0.2.1',
    ' no bgp ebgp-requires-policy',
    ` neighbor 192.0.2.2 remote-as ${ourAs}`,
    ' neighbor 192.0.2.2 timers 1 3',
  ].join('\n');
}

/** The index of the next event after `from` that matches, waiting for it. */
async function nextEvent(
  s: SpeakerChild,
  from: number,
  what: string,
  match: (e: SpeakerChildEvent) => boolean,
  ms = 15_000,
): Promise<{ index: number; event: SpeakerChildEvent }> {
  return poll(
    what,
    () => {
      const all = s.events();
      for (let i = from; i < all.length; i++) if (match(all[i]!)) return { index: i, event: all[i]! };
      return undefined;
    },
    ms,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nspeaker output:\n${s.output().split('\n').slice(-40).join('\n')}`);
  });
}

const established = (e: SpeakerChildEvent): boolean => e.event === 'established';
const down = (e: SpeakerChildEvent): boolean => e.event === 'down';
const frrEstablished = (frr: Frr): boolean => frrNeighbor(frr, '192.0.2.2')?.bgpState === 'Established';

t.test('link flaps and FRR restarts: back within 2 s every time; a wrong AS backs off to the cap', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const net = fabric(t, { rtr: ['192.0.2.1/24'], n1: ['192.0.2.2/24'] }, 'bgpr');
  const frr = await startFrr(t, { ns: net.hosts.rtr!.ns, bgpd: bgpdConfig(64497), debug: false });
  const speaker = startSpeaker(t, net.hosts.n1!.ns, {
    localAs: 64497,
    bgpId: '192.0.2.2',
    peers: [{ id: 'tor', options: { peerAddress: '192.0.2.1', peerAs: 64496, holdTime: 3 } }],
    routes: [{ prefix: '203.0.113.10/32' }],
  });
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n${frr.logs()}`);
  };
  let seen = (await nextEvent(speaker, 0, 'the first session', established)).index + 1;

  // Link flaps: the switch port of our node, so both ends lose carrier.
  const port = 'p-n1';
  const recoveries: number[] = [];
  for (let i = 0; i < FLAPS; i++) {
    ip('-n', net.switchNs, 'link', 'set', port, 'down');
    seen = (await nextEvent(speaker, seen, `flap ${i + 1}: our session to go down`, down)).index + 1;
    await poll(`flap ${i + 1}: FRR to drop the session`, () => (frrEstablished(frr) ? undefined : true)).catch(
      withLogs,
    );
    ip('-n', net.switchNs, 'link', 'set', port, 'up');
    const upAt = Date.now();
    const back = await nextEvent(speaker, seen, `flap ${i + 1}: the session to come back`, established);
    seen = back.index + 1;
    recoveries.push((back.event.at as number) - upAt);
  }
  t.equal(recoveries.length, FLAPS);
  t.ok(
    recoveries.every((ms) => ms <= GOAL_MS),
    `every recovery within ${GOAL_MS} ms of link-up: ${recoveries.join(', ')} ms`,
  );

  // FRR restarts: bgpd sends a Cease, goes away (connections refused), comes back.
  const restarts: number[] = [];
  const fromStart: number[] = [];
  for (let i = 0; i < RESTARTS; i++) {
    await frr.stopBgpd();
    seen = (await nextEvent(speaker, seen, `restart ${i + 1}: our session to go down`, down)).index + 1;
    const startedAt = Date.now();
    await frr.startBgpd();
    const answeringAt = Date.now();
    const back = await nextEvent(speaker, seen, `restart ${i + 1}: the session to come back`, established);
    seen = back.index + 1;
    restarts.push((back.event.at as number) - answeringAt);
    fromStart.push((back.event.at as number) - startedAt);
  }
  // bgpd may take our connection before vtysh answers it (then the figure is negative).
  t.ok(
    restarts.every((ms) => ms <= GOAL_MS),
    `every restart: Established within ${GOAL_MS} ms of bgpd answering: ${restarts.join(', ')} ms (from bgpd's start: ${fromStart.join(', ')} ms)`,
  );
  // bench/reconnect.js runs this test and reads the figures from here.
  if (process.env.RECONNECT_RESULTS)
    writeFileSync(process.env.RECONNECT_RESULTS, JSON.stringify({ flaps: recoveries, restarts, fromStart }));
  speaker.command({ cmd: 'stop' });
  await speaker.exited;
});

t.test('a peer that refuses our AS: the protocol back-off doubles to its cap, and status says why', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const net = fabric(t, { rtr: ['192.0.2.1/24'], n1: ['192.0.2.2/24'] }, 'bgpr');
  await startFrr(t, { ns: net.hosts.rtr!.ns, bgpd: bgpdConfig(64499), debug: false });
  const speaker = startSpeaker(t, net.hosts.n1!.ns, {
    localAs: 64497,
    bgpId: '192.0.2.2',
    peers: [
      {
        id: 'tor',
        options: { peerAddress: '192.0.2.1', peerAs: 64496, holdTime: 3, idleHoldTime: 0.1, maxIdleHoldTime: 0.8 },
      },
    ],
    routes: [],
  });
  // Each attempt: Idle -> Connect ... -> Idle (FRR's OPEN error). The pause is from entering Idle to
  // leaving it again.
  const pauses: number[] = [];
  let from = 0;
  while (pauses.length < 6) {
    const idle = await nextEvent(
      speaker,
      from,
      'the attempt to fail',
      (e) => e.event === 'peerState' && e.to === 'Idle',
    );
    const next = await nextEvent(
      speaker,
      idle.index + 1,
      'the next attempt',
      (e) => e.event === 'peerState' && e.from === 'Idle',
    );
    pauses.push((next.event.at as number) - (idle.event.at as number));
    from = next.index + 1;
  }
  t.notOk(speaker.events().some(established), 'never Established');
  // 100, 200, 400, 800, 800, 800 ms, give or take the timers and the child's event loop.
  const [a, b, c, d, e, f] = pauses as [number, number, number, number, number, number];
  t.ok(a >= 90 && a < 400, `first pause about 0.1 s: ${a} ms`);
  t.ok(b > a && c > b && d > c, `then growing: ${pauses.join(', ')} ms`);
  t.ok(
    [d, e, f].every((p) => p >= 790 && p < 1300),
    `capped at 0.8 s: ${d}, ${e}, ${f} ms`,
  );
  speaker.command({ cmd: 'peers' });
  const status = await nextEvent(speaker, 0, 'the status', (x) => x.event === 'peers');
  const tor = (status.event.peers as { id: string; lastDown?: Record<string, unknown> }[]).find((p) => p.id === 'tor');
  t.match(
    tor?.lastDown,
    { kind: 'notification-received', failure: 'protocol', pauseMs: 800 },
    'status: a protocol failure, backing off 0.8 s',
  );
  t.match(String(tor?.lastDown?.message), /NOTIFICATION 2\/2/, 'FRR refused our AS (Bad Peer AS)');
});
