// What a router needs to honour GRACEFUL_SHUTDOWN (65535:0, RFC 8326) from the nodes, checked with FRR
// 8.4 (zebra installing the kernel route) and two Speakers announcing one VIP, one of them with 65535:0
// (as a cordoned node does with gracefulShutdownWhenUnschedulable):
//   - over iBGP (nodes in the router's AS, common with MetalLB) FRR does nothing by itself: both next
//     hops stay. The route-map documented in README.md (Draining a node) sets LOCAL_PREF 0 on paths
//     carrying it, and the kernel route drops that node's next hop while its path stays in the table;
//   - over eBGP FRR lowers LOCAL_PREF to 0 by itself (k8s-cordon.test.ts and frr-ecmp.test.ts show it).
// Needs root, ip and FRR: skipped elsewhere, a failure in CI (CI=true).
import t, { type Test } from 'tap';
import { interopUnavailable, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { fabric, startSpeaker } from './fabric.js';
import { frrUnavailable, kernelNextHops, startFrr, type Frr } from './frr.js';

const VIP = '203.0.113.20';
const ROUTER = '192.0.2.1';
const NODES = ['192.0.2.11', '192.0.2.12'] as const;

/** A path of `show bgp ipv4 unicast <prefix> json` (FRR 8.4), the fields read here. */
type Path = { peer?: { peerId?: string }; locPrf?: number; community?: { string?: string }; valid?: boolean };
const pathOf = (frr: Frr, peer: string): Path | undefined =>
  (frr.json<{ paths?: Path[] }>(`show bgp ipv4 unicast ${VIP}/32 json`).paths ?? []).find(
    (p) => p.peer?.peerId === peer,
  );

/** The route-map of README.md, Draining a node (iBGP). */
const HONOUR_GSHUT = [
  'bgp community-list standard GSHUT seq 5 permit graceful-shutdown',
  'route-map FROM-NODES permit 10',
  ' match community GSHUT',
  ' set local-preference 0',
  'exit',
  'route-map FROM-NODES permit 20',
  'exit',
];

async function run(t: Test, honour: boolean) {
  const net = fabric(
    t,
    { rtr: [`${ROUTER}/24`], n1: [`${NODES[0]}/24`], n2: [`${NODES[1]}/24`] },
    honour ? 'bggh' : 'bggx',
  );
  const rtr = net.hosts.rtr!.ns;
  const frr = await startFrr(t, {
    ns: rtr,
    bgpd: [
      ...(honour ? HONOUR_GSHUT : []),
      'router bgp 64496',
      ` bgp router-id ${ROUTER}`,
      ' no bgp default ipv4-unicast',
      ' timers bgp 3 9',
      ' neighbor NODES peer-group',
      ' neighbor NODES remote-as internal',
      ' neighbor NODES passive',
      ...NODES.map((a) => ` neighbor ${a} peer-group NODES`),
      ' address-family ipv4 unicast',
      '  neighbor NODES activate',
      ...(honour ? ['  neighbor NODES route-map FROM-NODES in'] : []),
      '  maximum-paths ibgp 8',
      ' exit-address-family',
    ].join('\n'),
  });
  const speakers = NODES.map((address, i) =>
    startSpeaker(t, net.hosts[`n${i + 1}`]!.ns, {
      localAs: 64496,
      bgpId: address,
      peers: [{ id: 'tor', options: { peerAddress: ROUTER, localAddress: address, peerAs: 64496, holdTime: 9 } }],
      routes: [{ prefix: `${VIP}/32` }],
    }),
  );
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n${speakers.map((s) => s.output()).join('\n')}\n${frr.logs()}`);
  };
  await poll('both next hops', () => (kernelNextHops(rtr, VIP).length === 2 ? true : undefined)).catch(withLogs);
  // node 2 cordoned: its route again, with 65535:0
  speakers[1]!.command({ cmd: 'announce', prefix: `${VIP}/32`, attributes: { communities: ['graceful-shutdown'] } });
  const gshut = await poll("node 2's path with the community", () => {
    const p = pathOf(frr, NODES[1]);
    return p?.community?.string === 'graceful-shutdown' ? p : undefined;
  }).catch(withLogs);
  return { rtr, frr, gshut, withLogs };
}

t.test('iBGP with the route-map: a path with 65535:0 leaves the kernel route, stays in the table', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const { rtr, frr, withLogs } = await run(t, true);
  await poll("node 2's next hop to go", () => (kernelNextHops(rtr, VIP).join() === NODES[0] ? true : undefined)).catch(
    withLogs,
  );
  const path = pathOf(frr, NODES[1]);
  t.equal(path?.locPrf, 0, 'LOCAL_PREF 0 from the route-map');
  t.ok(path?.valid, "node 2's path is still in FRR's table");
});

t.test('iBGP without it: FRR 8.4 keeps both next hops', async (t) => {
  if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable())) return;
  const { rtr, gshut } = await run(t, false);
  t.notOk(gshut.locPrf === 0, `FRR left LOCAL_PREF alone (${gshut.locPrf ?? 'default 100'})`);
  t.strictSame(kernelNextHops(rtr, VIP), [...NODES], 'both next hops, though node 2 asks to be avoided');
});
