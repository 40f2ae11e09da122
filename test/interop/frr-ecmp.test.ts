// ECMP end to end with FRR (Debian's 8.4): a switch namespace with a bridge, a router namespace running
// zebra + bgpd (AS 64496, 192.0.2.1, maximum-paths 8) and three node namespaces (192.0.2.11-13), each
// running our built Speaker (all nodes in AS 64497, as MetalLB clusters usually are) announcing the VIP
// 203.0.113.10/32. Checks the router's KERNEL route has the three nodes as next hops, then that a
// node's graceful stop leaves exactly the other two: during its drain (GRACEFUL_SHUTDOWN, which FRR
// turns into LOCAL_PREF 0), before its Cease.
// Needs root, ip, vtysh and FRR's daemons: skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { interopUnavailable, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { fabric, startSpeaker, type SpeakerChild } from './fabric.js';
import { frrNeighbor, frrPaths, frrUnavailable, kernelNextHops, startFrr } from './frr.js';

const VIP = '203.0.113.10';
const NODES = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];

t.test('FRR installs one kernel ECMP route over three Speakers; a stopped node leaves it', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const net = fabric(
    t,
    { rtr: ['192.0.2.1/24'], n1: [`${NODES[0]}/24`], n2: [`${NODES[1]}/24`], n3: [`${NODES[2]}/24`] },
    'bgpe',
  );
  const rtr = net.hosts.rtr!.ns;
  const frr = await startFrr(t, {
    ns: rtr,
    bgpd: [
      'router bgp 64496',
      ' bgp router-id 192.0.2.1',
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ' timers bgp 3 9',
      ' neighbor NODES peer-group',
      ' neighbor NODES remote-as 64497',
      ' neighbor NODES timers connect 1',
      ...NODES.map((a) => ` neighbor ${a} peer-group NODES`),
      ' address-family ipv4 unicast',
      '  neighbor NODES activate',
      '  maximum-paths 8',
      ' exit-address-family',
    ].join('\n'),
  });

  const speakers: SpeakerChild[] = NODES.map((address, i) =>
    startSpeaker(t, net.hosts[`n${i + 1}`]!.ns, {
      localAs: 64497,
      bgpId: address,
      peers: [
        {
          id: 'tor',
          options: {
            peerAddress: '192.0.2.1',
            localAddress: address,
            peerAs: 64496,
            holdTime: 9,
            connectRetryTime: 1,
            idleHoldTime: 1,
          },
        },
      ],
      routes: [{ prefix: `${VIP}/32` }],
    }),
  );
  const withLogs = (err: Error): never => {
    throw new Error(
      `${err.message}\n${speakers.map((s, i) => `--- speaker n${i + 1}:\n${s.output()}`).join('\n')}\n${frr.logs()}`,
    );
  };

  const three = await poll('three next hops on the kernel route', () => {
    const hops = kernelNextHops(rtr, VIP);
    return hops.length === 3 ? hops : undefined;
  }).catch(withLogs);
  t.strictSame(three, NODES, 'kernel route: nexthop via .11, .12 and .13');

  const paths = frrPaths(frr, 'ipv4', `${VIP}/32`);
  t.equal(paths.length, 3, 'FRR holds three BGP paths');
  t.ok(
    paths.every((p) => p.valid === true && p.path === '64497'),
    'every path valid, AS_PATH 64497',
  );
  t.strictSame(paths.map((p) => p.nexthops[0]?.ip).sort(), NODES, 'next hop self of each node');
  t.equal(
    paths.filter((p) => p.bestpath === true || p.multipath === true).length,
    3,
    'all three are best or multipath',
  );

  // Graceful stop of n2 (RFC 8326): its path is re-sent with 65535:0, FRR gives it LOCAL_PREF 0 and
  // takes it out of the ECMP set while the session is still up; then the Cease ends the session.
  speakers[1]!.command({ cmd: 'stop', message: 'node drain', drainMs: 5000 });
  const drained = await poll('two next hops left while n2 drains', () => {
    const hops = kernelNextHops(rtr, VIP);
    return hops.length === 2 ? hops : undefined;
  }).catch(withLogs);
  const stoppedEarly = speakers[1]!.events().some((e) => e.event === 'stopped');
  t.strictSame(drained, [NODES[0], NODES[2]], 'kernel route: .11 and .13 remain, .12 is gone');
  t.notOk(stoppedEarly, 'n2 left the ECMP set during the drain, before its Cease');
  t.equal(frrNeighbor(frr, NODES[1]!)?.bgpState, 'Established', 'the session with .12 is still up then');
  const n2path = frrPaths(frr, 'ipv4', `${VIP}/32`).find((p) => p.peerId === NODES[1]);
  t.equal(n2path?.locPrf, 0, 'FRR de-preferred the GRACEFUL_SHUTDOWN path to LOCAL_PREF 0');
  t.notOk(n2path?.multipath === true || n2path?.bestpath === true, 'and took it out of multipath');

  await speakers[1]!.waitFor('n2 to stop', (e) => e.event === 'stopped');
  await poll('FRR to take the session with .12 down', () =>
    frrNeighbor(frr, NODES[1]!)?.bgpState !== 'Established' ? true : undefined,
  ).catch(withLogs);
  const n2 = frrNeighbor(frr, NODES[1]!);
  t.equal(n2?.lastNotificationReason, 'Cease/Administrative Shutdown', 'FRR received our Cease 6/2');
  t.equal(n2?.lastShutdownDescription, 'node drain', 'with the RFC 9003 shutdown communication');
  t.strictSame(
    frrPaths(frr, 'ipv4', `${VIP}/32`)
      .map((p) => p.nexthops[0]?.ip)
      .sort(),
    [NODES[0], NODES[2]],
    'FRR holds the two remaining paths',
  );
  t.strictSame(kernelNextHops(rtr, VIP), [NODES[0], NODES[2]], 'kernel route unchanged by the Cease');
});
