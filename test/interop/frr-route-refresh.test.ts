// Route refresh with FRR (Debian's 8.4): FRR (AS 64496, 192.0.2.1) and our built Speaker (AS 64497,
// 192.0.2.11, announcing 203.0.113.10/32 with a community). `clear bgp ... soft in` makes FRR send a
// ROUTE-REFRESH (we advertise the capability, and enhanced route refresh, RFC 7313); we must answer
// with BoRR, the route again, EoRR. With enhanced refresh FRR marks our routes stale at BoRR and drops
// those not re-sent at EoRR, so the route surviving (with its attributes) shows we answered; FRR's
// message counters show one refresh sent and one more UPDATE received. Then, with a 3 s hold time,
// our KEEPALIVEs keep the session up beyond it.
// Needs root, ip, vtysh and FRR's daemons: skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { interopUnavailable, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { fabric, startSpeaker } from './fabric.js';
import { frrNeighbor, frrPaths, frrUnavailable, startFrr } from './frr.js';

const NODE = '192.0.2.11';
const PREFIX = '203.0.113.10/32';

t.test('FRR route refresh: we answer with BoRR, the route, EoRR; FRR keeps the route', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const net = fabric(t, { rtr: ['192.0.2.1/24'], n1: [`${NODE}/24`] }, 'bgpr');
  const frr = await startFrr(t, {
    ns: net.hosts.rtr!.ns,
    bgpd: [
      'router bgp 64496',
      ' bgp router-id 192.0.2.1',
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ` neighbor ${NODE} remote-as 64497`,
      ` neighbor ${NODE} timers 3 9`,
      ` neighbor ${NODE} timers connect 1`,
      ' address-family ipv4 unicast',
      `  neighbor ${NODE} activate`,
      ' exit-address-family',
    ].join('\n'),
  });
  const speaker = startSpeaker(t, net.hosts.n1!.ns, {
    localAs: 64497,
    bgpId: NODE,
    peers: [
      {
        id: 'tor',
        options: {
          peerAddress: '192.0.2.1',
          localAddress: NODE,
          peerAs: 64496,
          holdTime: 3,
          connectRetryTime: 1,
          idleHoldTime: 1,
        },
      },
    ],
    routes: [{ prefix: PREFIX, attributes: { communities: ['64497:100'] } }],
  });
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n--- speaker:\n${speaker.output()}\n${frr.logs()}`);
  };

  await poll(`${PREFIX} in FRR`, () => (frrPaths(frr, 'ipv4', PREFIX).length > 0 ? true : undefined)).catch(withLogs);
  // The initial UPDATE and End-of-RIB are in: the counters settle.
  const before = await poll('FRR to count our End-of-RIB', () => {
    const n = frrNeighbor(frr, NODE);
    return n && n.messageStats.updatesRecv >= 2 ? n : undefined;
  }).catch(withLogs);
  t.equal(
    before.neighborCapabilities?.enhancedRouteRefresh,
    'advertisedAndReceived',
    'enhanced route refresh negotiated',
  );
  t.match(String(before.neighborCapabilities?.routeRefresh), /advertisedAndReceived/, 'route refresh negotiated');
  t.equal(before.messageStats.routeRefreshSent, 0, 'no refresh yet');

  frr.vtysh(`clear bgp ipv4 unicast ${NODE} soft in`);
  const after = await poll('FRR to count the refresh and our answer', () => {
    const n = frrNeighbor(frr, NODE);
    return n &&
      n.messageStats.routeRefreshSent === 1 &&
      n.messageStats.routeRefreshRecv === 2 &&
      n.messageStats.updatesRecv > before.messageStats.updatesRecv
      ? n
      : undefined;
  }).catch(withLogs);
  t.equal(
    after.messageStats.updatesRecv,
    before.messageStats.updatesRecv + 1,
    'one UPDATE received after the refresh: the route again',
  );
  t.equal(after.messageStats.routeRefreshRecv, 2, 'two ROUTE-REFRESH received: BoRR and EoRR');
  const log = frr.log('bgpd');
  t.match(log, /marking prefix 203\.0\.113\.10\/32 as stale/, 'FRR marked the route stale for the refresh');
  t.match(log, /rcvd route-refresh \(BoRR\) for IPv4\/unicast/, 'FRR log: BoRR received');
  t.match(log, /rcvd route-refresh \(EoRR\) for IPv4\/unicast/, 'FRR log: EoRR received');
  t.equal(after.bgpState, 'Established', 'session still up');
  const paths = frrPaths(frr, 'ipv4', PREFIX);
  t.equal(paths.length, 1, 'FRR still has the route after EoRR');
  t.equal(paths[0]?.nexthops[0]?.ip, NODE, 'with our next hop');
  t.notOk(JSON.stringify(paths[0]).includes('stale'), 'not stale');
  t.match(frr.vtysh(`show bgp ipv4 unicast ${PREFIX}`), /Community: 64497:100/, 'with its community');

  // Hold time 3 s (ours; FRR offers 9): our KEEPALIVEs every second keep the session up past it.
  t.equal(after.bgpTimerHoldTimeMsecs, 3000, 'negotiated hold time 3 s');
  const kept = await poll('five of our KEEPALIVEs', () => {
    const n = frrNeighbor(frr, NODE);
    return n && n.messageStats.keepalivesRecv >= 5 ? n : undefined;
  }).catch(withLogs);
  t.equal(kept.bgpState, 'Established', 'still Established after more than the hold time');
  t.equal(kept.connectionsEstablished, 1, 'on the first connection');
});
