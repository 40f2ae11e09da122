// The daemon with its BFD engine: a peer that requires BFD, against a BGP Speaker and a second BFD
// engine on 127.0.0.1 (free ports; the peer's BFD port is forced on our engine's sessions, as
// PeerOptions.bfd has none). BFD state in the metrics and the admin endpoint, the engine's worker
// figures, and the BFD state changes kept per peer (Up, then torn down when the other engine stalls).
import t from 'tap';
import type { BfdSessionOptions } from '@bgp-announce/bfd';
import { freePort, requireTtlSocket, startEngine } from '../../bfd/test/engine-helpers.js';
import { fakeSource, getJson, get, poll, receiverSpeaker, seriesValue, testDaemon, ourPeer } from './daemon-helpers.js';

t.test('BFD state per peer in metrics, status and messages', async (t) => {
  if (!requireTtlSocket(t)) return;
  const r = await receiverSpeaker(t);
  const ourPorts = { singleHop: await freePort(4), multihop: await freePort(4) };
  const peerPorts = { singleHop: await freePort(4), multihop: await freePort(4) };
  const fast = { name: 'fast', transmitInterval: 50, receiveInterval: 50, detectMultiplier: 3 };
  const bfdPeer = await startEngine(t, { listenPorts: peerPorts });
  bfdPeer.engine.addSession({
    peerAddress: '127.0.0.1',
    localAddress: '127.0.0.1',
    port: ourPorts.singleHop,
    profile: fast,
  });

  const source = fakeSource();
  const { daemon, log } = await testDaemon(t, source, { bfd: { listenPorts: ourPorts } });
  const engine = daemon.bfd!;
  t.ok(engine, 'the engine runs');
  const addSession = engine.addSession.bind(engine);
  engine.addSession = (o: BfdSessionOptions) => addSession({ ...o, port: peerPorts.singleHop });
  source.ctx!.speaker.addPeer('rtr', ourPeer(r.port, { localAddress: '127.0.0.1', bfd: { profile: fast } }));

  await poll(
    'BFD Up and BGP Established',
    () => {
      const p = daemon.speaker.peers()[0];
      return p?.bfd?.state === 'Up' && p.state === 'Established' ? true : undefined;
    },
    15_000,
  );

  const text = (await get(daemon.metricsAddress, '/metrics')).body;
  t.equal(seriesValue(text, 'bgp_announce_bfd_session_state{peer="rtr"}'), 3, 'Up is 3');
  t.equal(seriesValue(text, 'bgp_announce_bfd_sessions'), 1);
  t.ok((seriesValue(text, 'bgp_announce_bfd_packets_sent_total') ?? 0) > 0, 'packets sent');
  t.ok((seriesValue(text, 'bgp_announce_bfd_packets_received_total') ?? 0) > 0, 'packets received');
  t.equal(seriesValue(text, 'bgp_announce_bfd_packets_dropped_total{reason="ttl"}'), 0);
  t.type(seriesValue(text, 'bgp_announce_bfd_late_transmissions_total'), 'number');
  const lag = seriesValue(text, 'bgp_announce_bfd_worker_event_loop_lag_seconds{stat="p99"}');
  t.ok(lag !== undefined && lag >= 0 && lag < 1, `worker lag p99 ${lag} s`);

  const status = (await getJson(daemon.adminAddress, '/v1/status')).json;
  t.match(status.peers[0].bfd, {
    state: 'Up',
    holding: false,
    session: {
      state: 'Up',
      peerAddress: '127.0.0.1',
      localAddress: '127.0.0.1',
      port: peerPorts.singleHop,
      multihop: false,
      ttlCheck: 'available',
    },
  });
  t.match(status.bfd, { sessions: 1, ttlCheck: 'available' });

  let history = (await getJson(daemon.adminAddress, '/v1/peers/rtr/messages')).json.bfd as {
    from: string;
    to: string;
    at: string;
    outcome?: string;
  }[];
  t.equal(history.at(-1)?.to, 'Up', 'the BFD history ends Up');
  t.type(history.at(-1)?.at, 'string');

  // The other engine goes silent for 500 ms against 3 x 50 ms: Down, the BGP session torn down.
  await bfdPeer.engine.stallWorkerForTest(500);
  history = await poll(
    'a torn-down entry',
    async () => {
      const h = (await getJson(daemon.adminAddress, '/v1/peers/rtr/messages')).json.bfd as typeof history;
      return h.some((e) => e.outcome === 'torn-down') ? h : undefined;
    },
    15_000,
  );
  t.match(
    history.find((e) => e.outcome === 'torn-down'),
    { from: 'Up', to: 'Down', diag: 1 },
    'Control Detection Time Expired',
  );
  t.ok(
    log.lines.some((l) => l.event === 'bfd' && l.level === 'warn' && l.outcome === 'torn-down' && l.peer === 'rtr'),
    'logged as a warning',
  );

  await daemon.stop();
  await t.rejects(engine.metrics(), { code: 'stopped' }, 'the engine stops with the daemon');
});
