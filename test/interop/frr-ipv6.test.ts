// An IPv6 session with FRR (Debian's 8.4): FRR (AS 64496) at 2001:db8::1 with zebra, our built Speaker
// (AS 64497, families ['ipv6-unicast'] only) at 2001:db8::2 announcing the IPv6 VIP
// 2001:db8:ffff::10/128. Checks the route with our address as next hop in FRR's BGP table and in the
// router's kernel table, and its withdraw (MP_UNREACH_NLRI) taking both away. Addresses are added with `nodad`, so the session does not wait for DAD.
// Needs root, ip, vtysh and FRR's daemons: skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { interopUnavailable, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { fabric, startSpeaker } from './fabric.js';
import { frrNeighbor, frrPaths, frrUnavailable, kernelNextHops, startFrr } from './frr.js';

const VIP6 = '2001:db8:ffff::10';

t.test('FRR over IPv6: the IPv6 VIP with our next hop in FRR and in the kernel', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const net = fabric(t, { rtr: ['2001:db8::1/64'], n1: ['2001:db8::2/64'] }, 'bgp6');
  const rtr = net.hosts.rtr!.ns;
  const frr = await startFrr(t, {
    ns: rtr,
    bgpd: [
      'router bgp 64496',
      ' bgp router-id 192.0.2.1',
      ' no bgp ebgp-requires-policy',
      ' no bgp default ipv4-unicast',
      ' neighbor 2001:db8::2 remote-as 64497',
      ' neighbor 2001:db8::2 timers 3 9',
      ' neighbor 2001:db8::2 timers connect 1',
      ' address-family ipv6 unicast',
      '  neighbor 2001:db8::2 activate',
      ' exit-address-family',
    ].join('\n'),
  });
  const speaker = startSpeaker(t, net.hosts.n1!.ns, {
    localAs: 64497,
    bgpId: '192.0.2.2',
    peers: [
      {
        id: 'tor',
        options: {
          peerAddress: '2001:db8::1',
          localAddress: '2001:db8::2',
          peerAs: 64496,
          families: ['ipv6-unicast'],
          holdTime: 9,
          connectRetryTime: 1,
          idleHoldTime: 1,
        },
      },
    ],
    routes: [{ prefix: `${VIP6}/128` }],
  });
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n--- speaker:\n${speaker.output()}\n${frr.logs()}`);
  };

  const established = await speaker.waitFor('the session to come up', (e) => e.event === 'established');
  t.strictSame(established.families, ['ipv6-unicast'], 'negotiated IPv6 unicast only');
  const paths = await poll(`${VIP6}/128 in FRR's IPv6 table`, () => {
    const p = frrPaths(frr, 'ipv6', `${VIP6}/128`);
    return p.length > 0 ? p : undefined;
  }).catch(withLogs);
  t.equal(paths.length, 1, 'one path');
  t.equal(paths[0]!.valid, true, 'valid');
  t.equal(paths[0]!.path, '64497', 'AS_PATH 64497');
  t.strictSame(
    paths[0]!.nexthops.map((h) => [h.ip, h.scope]),
    [['2001:db8::2', 'global']],
    'next hop: our global address, no link-local one',
  );
  const neighbor = frrNeighbor(frr, '2001:db8::2');
  t.equal(neighbor?.bgpState, 'Established', 'FRR: Established');
  t.strictSame(
    neighbor?.neighborCapabilities?.multiprotocolExtensions,
    { ipv6Unicast: { advertisedAndReceived: true } },
    'FRR: only IPv6 unicast negotiated',
  );
  t.equal(
    (neighbor?.addressFamilyInfo?.ipv6Unicast as { acceptedPrefixCounter?: number } | undefined)?.acceptedPrefixCounter,
    1,
    'FRR accepted one prefix',
  );

  const hops = await poll('the kernel IPv6 route', () => {
    const h = kernelNextHops(rtr, VIP6);
    return h.length > 0 ? h : undefined;
  }).catch(withLogs);
  t.strictSame(hops, ['2001:db8::2'], 'kernel: via 2001:db8::2');

  // The withdraw goes in MP_UNREACH_NLRI: FRR drops the route, zebra the kernel route.
  speaker.command({ cmd: 'withdraw', prefix: `${VIP6}/128` });
  await poll(`${VIP6}/128 to leave FRR's table`, () =>
    frrPaths(frr, 'ipv6', `${VIP6}/128`).length === 0 ? true : undefined,
  ).catch(withLogs);
  await poll('the kernel route to go', () => (kernelNextHops(rtr, VIP6).length === 0 ? true : undefined)).catch(
    withLogs,
  );
  t.equal(frrNeighbor(frr, '2001:db8::2')?.bgpState, 'Established', 'withdrawn; the session stays up');
});
