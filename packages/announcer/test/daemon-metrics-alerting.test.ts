// The metrics the shipped alerts need beyond the per-peer ones: the configuration objects rejected by
// kind (every kind shown, 0 when none), the leader's count of nodes announcing each Service (read on
// each scrape, so a Service that goes or a term that ends takes its series away), and the BFD
// engine's shortest detection time next to its lateness figures (0 without sessions).
import t from 'tap';
import type { BfdEngineMetrics } from '@bgp-announce/bfd';
import type { Speaker } from '@bgp-announce/bgp-speaker';
import { createDaemonMetrics } from '../src/daemon/metrics.js';
import type { ServiceAnnouncers } from '../src/daemon/source.js';
import { fakeSource, get, seriesValue, testDaemon } from './daemon-helpers.js';

t.test('rejected configuration objects and announcing nodes, through the DaemonContext', async (t) => {
  const source = fakeSource();
  const { daemon } = await testDaemon(t, source);
  const scrape = async () => (await get(daemon.metricsAddress, '/metrics')).body;

  let text = await scrape();
  for (const kind of ['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'BFDProfile', 'StaticRoute'])
    t.equal(seriesValue(text, `bgp_announce_config_objects_rejected{kind="${kind}"}`), 0, `${kind}: 0 at start`);
  t.match(text, /^# TYPE bgp_announce_service_announcing_nodes gauge$/m);
  t.notMatch(text, /^bgp_announce_service_announcing_nodes\{/m, 'no Services: no series (not leading)');

  source.ctx!.setRejectedConfigObjects!({ BGPPeer: 2, unknown: 1 });
  text = await scrape();
  t.equal(seriesValue(text, 'bgp_announce_config_objects_rejected{kind="BGPPeer"}'), 2);
  t.equal(seriesValue(text, 'bgp_announce_config_objects_rejected{kind="unknown"}'), 1, 'an object of no known kind');
  t.equal(seriesValue(text, 'bgp_announce_config_objects_rejected{kind="IPAddressPool"}'), 0);
  source.ctx!.setRejectedConfigObjects!({});
  text = await scrape();
  t.equal(seriesValue(text, 'bgp_announce_config_objects_rejected{kind="BGPPeer"}'), 0, 'accepted again: 0');
  t.equal(seriesValue(text, 'bgp_announce_config_objects_rejected{kind="unknown"}'), undefined, 'unknown goes');

  let services: ServiceAnnouncers[] = [
    { namespace: 'demo', service: 'web', nodes: 3 },
    { namespace: 'demo', service: 'api', nodes: 0 },
  ];
  source.ctx!.readAnnouncingNodes!(() => services);
  text = await scrape();
  t.equal(seriesValue(text, 'bgp_announce_service_announcing_nodes{namespace="demo",service="web"}'), 3);
  t.equal(seriesValue(text, 'bgp_announce_service_announcing_nodes{namespace="demo",service="api"}'), 0);
  services = [{ namespace: 'demo', service: 'web', nodes: 2 }];
  text = await scrape();
  t.equal(seriesValue(text, 'bgp_announce_service_announcing_nodes{namespace="demo",service="web"}'), 2, 'read anew');
  t.equal(
    seriesValue(text, 'bgp_announce_service_announcing_nodes{namespace="demo",service="api"}'),
    undefined,
    'a Service no longer listed loses its series',
  );
  services = [];
  text = await scrape();
  t.notMatch(text, /^bgp_announce_service_announcing_nodes\{/m, 'leadership lost: no series');
});

t.test("the BFD engine's shortest detection time, 0 without sessions", async (t) => {
  const summary = (ms: number) => ({ samples: 10, p50: ms / 2, p99: ms, max: ms * 2 });
  let shortest: number | undefined = 150;
  const engine = {
    metrics: async (): Promise<BfdEngineMetrics> => ({
      sessions: shortest === undefined ? 0 : 2,
      ttlCheck: 'available',
      eventLoopLagMs: summary(4),
      transmitLatenessMs: summary(6),
      detectionLatenessMs: summary(1),
      lateTransmissions: 0,
      lateTransmissionSlackMs: 5,
      packetsIn: 0,
      packetsOut: 0,
      sendErrors: 0,
      dropped: { ttl: 0, auth: 0, malformed: 0, noSession: 0, rejected: 0 },
      detectionTimeouts: 0,
      detectionsRescued: 0,
      ...(shortest === undefined ? {} : { shortestDetectionMs: shortest }),
    }),
  };
  const metrics = createDaemonMetrics({
    speaker: { peers: () => [] } as unknown as Speaker,
    bfd: engine,
    ready: () => true,
  });
  let text = await metrics.metrics();
  t.equal(seriesValue(text, 'bgp_announce_bfd_shortest_detection_time_seconds'), 0.15);
  t.equal(seriesValue(text, 'bgp_announce_bfd_transmit_lateness_seconds{stat="p99"}'), 0.006);
  shortest = undefined;
  await new Promise((resolve) => setImmediate(resolve)); // the next scrape reads the engine anew
  text = await metrics.metrics();
  t.equal(seriesValue(text, 'bgp_announce_bfd_shortest_detection_time_seconds'), 0, 'no sessions: 0');
});
