// The daemon's metrics endpoint after two Speakers peer on 127.0.0.1: a fake route source adds the
// peer and announces one route, the other Speaker announces one back. Values are checked against
// what that exchange must give (1 route each way, 1 route UPDATE + 1 End-of-RIB each way). Also
// /healthz and /readyz, and the log lines of the session.
import t from 'tap';
import { get, peeringSource, poll, receiverSpeaker, seriesValue, testDaemon } from './daemon-helpers.js';

t.test('metrics, health and readiness of a daemon with one Established peer', async (t) => {
  const r = await receiverSpeaker(t);
  const source = peeringSource(r.port);
  const { daemon, log } = await testDaemon(t, source);

  // Not ready until the source says so; healthy all along.
  let res = await get(daemon.metricsAddress, '/readyz');
  t.equal(res.status, 503, 'not ready before the source is');
  t.match(res.body, /route source/);
  t.equal((await get(daemon.metricsAddress, '/healthz')).status, 200);
  let text = (await get(daemon.metricsAddress, '/metrics')).body;
  t.equal(seriesValue(text, 'bgp_announce_ready'), 0);
  source.setReady(true);
  res = await get(daemon.metricsAddress, '/readyz');
  t.equal(res.status, 200, 'ready once the source is');
  t.equal(res.body, 'ready\n');

  // The receiver got our route and End-of-RIB; we got its route and End-of-RIB.
  await poll('both routes and End-of-RIBs', () => {
    const ours = daemon.speaker.peers()[0];
    const theirs = r.speaker.peers()[0];
    return ours?.received === 1 &&
      ours.counters.updatesIn === 2 &&
      theirs?.received === 1 &&
      theirs.counters.updatesIn === 2
      ? true
      : undefined;
  });
  source.ctx!.observeReconcile(0.02, 'ok');
  source.ctx!.observeReconcile(3, 'error');
  source.ctx!.setPoolUsage([
    { pool: 'default', family: 4, used: 3, total: 16 },
    { pool: 'v6', family: 6, used: 1, total: Number.MAX_SAFE_INTEGER },
  ]);

  res = await get(daemon.metricsAddress, '/metrics');
  t.equal(res.status, 200);
  t.match(res.type, /^text\/plain; version=0\.0\.4/);
  text = res.body;
  const expect: [string, number][] = [
    ['bgp_announce_session_state{peer="rtr"}', 6],
    ['bgp_announce_session_state_info{peer="rtr",state="Established"}', 1],
    ['bgp_announce_session_state_info{peer="rtr",state="Idle"}', 0],
    ['bgp_announce_session_established_total{peer="rtr"}', 1],
    ['bgp_announce_updates_sent_total{peer="rtr"}', 2],
    ['bgp_announce_updates_received_total{peer="rtr"}', 2],
    ['bgp_announce_notifications_sent_total{peer="rtr"}', 0],
    ['bgp_announce_prefixes_advertised{peer="rtr"}', 1],
    ['bgp_announce_prefixes_received{peer="rtr"}', 1],
    ['bgp_announce_reconcile_duration_seconds_bucket{le="0.01",result="ok"}', 0],
    ['bgp_announce_reconcile_duration_seconds_bucket{le="0.025",result="ok"}', 1],
    ['bgp_announce_reconcile_duration_seconds_count{result="ok"}', 1],
    ['bgp_announce_reconcile_duration_seconds_bucket{le="2.5",result="error"}', 0],
    ['bgp_announce_reconcile_duration_seconds_bucket{le="5",result="error"}', 1],
    ['bgp_announce_pool_addresses_used{pool="default",family="ipv4"}', 3],
    ['bgp_announce_pool_addresses_capacity{pool="default",family="ipv4"}', 16],
    ['bgp_announce_pool_addresses_capacity{pool="v6",family="ipv6"}', Number.MAX_SAFE_INTEGER],
    ['bgp_announce_ready', 1],
  ];
  for (const [series, value] of expect) t.equal(seriesValue(text, series), value, series);
  const uptime = seriesValue(text, 'bgp_announce_session_uptime_seconds{peer="rtr"}');
  t.ok(uptime !== undefined && uptime >= 0 && uptime < 60, `uptime ${uptime} s`);
  t.match(text, /^# TYPE bgp_announce_nodejs_eventloop_lag_seconds gauge$/m, 'Node default metrics, prefixed');
  t.match(text, /^bgp_announce_process_cpu_user_seconds_total \d/m);
  t.notMatch(text, /bgp_announce_bfd_session_state\{/, 'no BFD series without BFD peers');
  t.notMatch(text, /^bgp_announce_bfd_sessions /m, 'no BFD engine series without the engine');

  // Counters add only what is new: one more route each way is one more UPDATE each way.
  daemon.speaker.announce('203.0.113.0/24');
  r.speaker.announce('198.51.100.128/25');
  await poll('the second routes', () =>
    daemon.speaker.peers()[0]?.received === 2 && r.speaker.peers()[0]?.received === 2 ? true : undefined,
  );
  text = (await get(daemon.metricsAddress, '/metrics')).body;
  t.equal(seriesValue(text, 'bgp_announce_updates_sent_total{peer="rtr"}'), 3);
  t.equal(seriesValue(text, 'bgp_announce_updates_received_total{peer="rtr"}'), 3);
  t.equal(seriesValue(text, 'bgp_announce_prefixes_advertised{peer="rtr"}'), 2);

  // A removed peer leaves the per-peer series.
  await daemon.speaker.removePeer('rtr');
  text = (await get(daemon.metricsAddress, '/metrics')).body;
  t.equal(seriesValue(text, 'bgp_announce_session_state{peer="rtr"}'), undefined);
  t.equal(seriesValue(text, 'bgp_announce_updates_sent_total{peer="rtr"}'), undefined);

  // Log lines: JSON with level names and the peer's id on per-peer lines.
  const established = log.lines.find((l) => l.event === 'established');
  t.match(established, {
    level: 'info',
    peer: 'rtr',
    node: 'node-a',
    peerAs: 64497,
    holdTime: 90,
    families: ['ipv4-unicast'],
  });
  t.ok(
    log.lines.some((l) => l.event === 'state' && l.peer === 'rtr' && l.to === 'OpenSent' && l.level === 'info'),
    'state changes at info',
  );
  t.ok(log.lines.some((l) => l.event === 'started' && l.level === 'info'));
  t.type(established?.time, 'string');

  // After stop, /readyz goes away with the endpoint.
  await daemon.stop();
  await t.rejects(get(daemon.metricsAddress, '/healthz'), /ECONNREFUSED/);
});

t.test('/healthz fails after the event loop was blocked longer than allowed', async (t) => {
  const { daemon } = await testDaemon(t, peeringSource(1), { maxEventLoopBlockMs: 150, adminAddress: 'off' });
  t.equal((await get(daemon.metricsAddress, '/healthz')).status, 200);
  const end = Date.now() + 700;
  while (Date.now() < end); // block the event loop on purpose
  const res = await get(daemon.metricsAddress, '/healthz');
  t.equal(res.status, 503);
  t.match(res.body, /event loop blocked for \d+ ms within the last minute \(limit 150 ms\)/);
  t.equal(daemon.adminAddress, undefined, 'admin endpoint off');
});
