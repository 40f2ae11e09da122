// Weighted ECMP with FRR (Debian's 8.4) from the RFC 10005 link bandwidth extended community: three
// node namespaces run our built Speaker (AS 64497, eBGP to the router in AS 64496, as in the lab) and
// announce the VIP 203.0.113.10/32 with link bandwidths in the ratio 3:1:1. FRR's zebra installs one
// kernel route whose next-hop weights follow that ratio (60/20/20); a change to 1:1:1 follows, so does
// 2:1:1 sent in the non-transitive form, and a withdrawn node leaves the route. gobgpd and BIRD, n1's
// other peers, show the community intact. FRR also originates routes with `set extcommunity
// bandwidth` (both forms, to an iBGP speaker n4) and our decoder reads the bandwidth back. FRR needs
// no configuration for it: weighted multipath is on once every multipath carries a bandwidth.
// Needs root, ip, vtysh, FRR's daemons, gobgpd and BIRD: skipped elsewhere, a failure in CI (CI=true).
import t from 'tap';
import { interopUnavailable, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { fabric, startSpeaker, type SpeakerChild } from './fabric.js';
import { frrPaths, frrUnavailable, kernelNextHopWeights, startFrr } from './frr.js';
import { startGobgpd } from './gobgpd.js';
import { birdUnavailable, parseBirdRoutes, startBird } from './bird.js';

const VIP = '203.0.113.10';
const NODES = ['192.0.2.11', '192.0.2.12', '192.0.2.13'];
const MBPS = 125_000; // bytes per second

t.test(
  'link bandwidth: FRR weights its kernel next hops 3:1:1, 1:1:1, 2:1:1, then one withdrawn; gobgpd and BIRD get it intact; FRR sends both forms',
  async (t) => {
    if (!requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable() ?? birdUnavailable())) return;
    const net = fabric(
      t,
      {
        rtr: ['192.0.2.1/24'],
        n1: [`${NODES[0]}/24`],
        n2: [`${NODES[1]}/24`],
        n3: [`${NODES[2]}/24`],
        n4: ['192.0.2.14/24'],
        gob: ['192.0.2.21/24'],
        brd: ['192.0.2.22/24'],
      },
      'bgpw',
    );
    const rtr = net.hosts.rtr!.ns;
    const frr = await startFrr(t, {
      ns: rtr,
      bgpd: [
        // Route maps first: a `network ... route-map` naming one not defined yet is not originated.
        'route-map BW-TRANSITIVE permit 10',
        ' set extcommunity bandwidth 100',
        'exit',
        'route-map BW-NON-TRANSITIVE permit 10',
        ' set extcommunity bandwidth 200 non-transitive',
        'exit',
        'router bgp 64496',
        ' bgp router-id 192.0.2.1',
        ' no bgp ebgp-requires-policy',
        ' no bgp network import-check',
        ' no bgp default ipv4-unicast',
        ' timers bgp 3 9',
        ' neighbor NODES peer-group',
        ' neighbor NODES remote-as 64497',
        ' neighbor NODES timers connect 1',
        ...NODES.map((a) => ` neighbor ${a} peer-group NODES`),
        ' neighbor 192.0.2.14 remote-as 64496',
        ' neighbor 192.0.2.14 timers connect 1',
        ' address-family ipv4 unicast',
        '  network 198.51.100.0/25 route-map BW-TRANSITIVE',
        '  network 198.51.100.128/25 route-map BW-NON-TRANSITIVE',
        '  neighbor NODES activate',
        '  neighbor 192.0.2.14 activate',
        '  maximum-paths 8',
        ' exit-address-family',
      ].join('\n'),
    });

    const gob = await startGobgpd(t, {
      ns: net.hosts.gob!.ns,
      as: 64498,
      address: '192.0.2.21',
      neighborAddress: NODES[0]!,
      neighborAs: 64497,
    });
    const bird = await startBird(t, {
      ns: net.hosts.brd!.ns,
      routerId: '192.0.2.22',
      config: [
        'protocol bgp n1 {',
        `  local 192.0.2.22 as 64499;`,
        `  neighbor ${NODES[0]} as 64497;`,
        '  hold time 9;',
        '  connect retry time 1;',
        '  ipv4 { import all; export none; };',
        '}',
      ].join('\n'),
    });
    const n4 = startSpeaker(t, net.hosts.n4!.ns, {
      localAs: 64496,
      bgpId: '192.0.2.14',
      peers: [
        {
          id: 'tor',
          options: {
            peerAddress: '192.0.2.1',
            localAddress: '192.0.2.14',
            peerAs: 64496,
            holdTime: 9,
            connectRetryTime: 1,
          },
        },
      ],
      routes: [],
    });
    const weights = [3, 1, 1];
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
          ...(i === 0
            ? [
                {
                  id: 'gobgp',
                  options: {
                    peerAddress: '192.0.2.21',
                    localAddress: address,
                    peerAs: 64498,
                    holdTime: 9,
                    connectRetryTime: 1,
                  },
                },
                {
                  id: 'bird',
                  options: {
                    peerAddress: '192.0.2.22',
                    localAddress: address,
                    peerAs: 64499,
                    holdTime: 9,
                    connectRetryTime: 1,
                  },
                },
              ]
            : []),
        ],
        routes: [{ prefix: `${VIP}/32`, attributes: { linkBandwidth: weights[i]! * MBPS } }],
      }),
    );
    const withLogs = (err: Error): never => {
      throw new Error(
        `${err.message}\n${speakers.map((s, i) => `--- speaker n${i + 1}:\n${s.output()}`).join('\n')}\n${frr.logs()}`,
      );
    };
    const ratio = (hops: { via: string; weight: number }[]): string => {
      const min = Math.min(...hops.map((h) => h.weight));
      return hops.map((h) => Math.round(h.weight / min)).join(':');
    };
    const weighted = (want: string, count: number) => {
      let seen: { via: string; weight: number }[] = [];
      return poll(`kernel route with ${count} next hops weighted ${want}`, () => {
        seen = kernelNextHopWeights(rtr, VIP);
        return seen.length === count && ratio(seen) === want ? seen : undefined;
      }).catch((err: Error) => withLogs(new Error(`${err.message}; last seen: ${JSON.stringify(seen)}`)));
    };

    const first = await weighted('3:1:1', 3);
    t.strictSame(
      first.map((h) => h.via),
      NODES,
      'next hops .11, .12, .13',
    );
    t.comment(`kernel weights: ${first.map((h) => `${h.via} weight ${h.weight}`).join(', ')}`);
    const paths = frrPaths(frr, 'ipv4', `${VIP}/32`);
    t.ok(
      paths.length === 3 && paths.every((p) => p.bestpath === true || p.multipath === true),
      'FRR holds three paths, all best or multipath',
    );
    const detail = (prefix: string) =>
      frr.json<{ paths?: { extendedCommunity?: { string?: string }; peer?: { peerId?: string } }[] }>(
        `show bgp ipv4 unicast ${prefix} json`,
      );
    const shown = new Map((detail(`${VIP}/32`).paths ?? []).map((p) => [p.peer?.peerId, p.extendedCommunity?.string]));
    t.strictSame(
      NODES.map((a) => shown.get(a)),
      ['LB:64497:375000 (3.000 Mbps)', 'LB:64497:125000 (1.000 Mbps)', 'LB:64497:125000 (1.000 Mbps)'],
      'show bgp ipv4 unicast <vip>: each path carries its bandwidth',
    );

    // gobgpd and BIRD (n1's other peers) receive the community intact.
    type GobgpExt = { type: number; subtype: number; asn?: number; bandwidth?: number };
    const gobExt = await poll('the VIP in gobgpd with its extended communities', () => {
      const attrs = gob.rib()[`${VIP}/32`]?.[0]?.attrs;
      return attrs?.find((a) => a.type === 16)?.value as GobgpExt[] | undefined;
    }).catch(withLogs);
    // GoBGP models link bandwidth as one kind and reports it with type 0x40 whichever form arrived.
    t.strictSame(
      gobExt.map((e) => ({ subtype: e.subtype, asn: e.asn, bandwidth: e.bandwidth })),
      [{ subtype: 4, asn: 64497, bandwidth: 375_000 }],
      'gobgpd: link bandwidth 375,000 bytes/s from AS 64497',
    );
    const birdRoute = await poll('the VIP in BIRD', () =>
      parseBirdRoutes(bird.birdc('show route all')).find((r) => r.prefix === `${VIP}/32`),
    ).catch(withLogs);
    // BIRD prints an extended community it has no name for as (unknown <type and subtype>, AS, value).
    t.equal(
      birdRoute.attributes['BGP.ext_community'],
      `(unknown 0x4, 64497, ${Buffer.from([0x48, 0xb7, 0x1b, 0x00]).readUInt32BE(0)})`,
      'BIRD: type 0x00 subtype 0x04, AS 64497, the float32 of 375,000 (0x48b71b00)',
    );

    // FRR originates both forms (set extcommunity bandwidth 100 / 200 non-transitive) to n4 over iBGP,
    // and our decoder gives the bandwidth back. Over eBGP FRR strips the non-transitive one (RFC 4360).
    type Received = { prefix: string; attributes: { extendedCommunities?: Record<string, unknown>[] } };
    let seq = 0;
    const adjRibIn = async (speaker: SpeakerChild): Promise<Received[]> => {
      const mine = ++seq;
      speaker.command({ cmd: 'adjRibIn', id: 'tor', seq: mine });
      const answer = await speaker.waitFor('its Adj-RIB-In', (e) => e.event === 'adjRibIn' && e.seq === mine);
      return (answer.routes as Received[] | null) ?? [];
    };
    const bandwidthOf = (routes: Received[], prefix: string) =>
      routes
        .find((r) => r.prefix === prefix)
        ?.attributes.extendedCommunities?.filter((e) => e.name === 'link-bandwidth')
        .map(({ type, asn, bandwidth, hex }) => ({ type, asn, bandwidth, hex })) ?? [];
    const fromFrr = await poll("both of FRR's routes at n4", async () => {
      const routes = await adjRibIn(n4);
      return routes.length >= 2 ? routes : undefined;
    }).catch(withLogs);
    t.strictSame(
      bandwidthOf(fromFrr, '198.51.100.0/25'),
      [{ type: 0, asn: 64496, bandwidth: 12_500_000, hex: '0004fbf04b3ebc20' }],
      "FRR's transitive form: 100 Mbps = 12,500,000 bytes/s",
    );
    t.strictSame(
      bandwidthOf(fromFrr, '198.51.100.128/25'),
      [{ type: 0x40, asn: 64496, bandwidth: 25_000_000, hex: '4004fbf04bbebc20' }],
      "FRR's non-transitive form: 200 Mbps",
    );
    const atN1 = await poll("FRR's routes at n1", async () => {
      const routes = await adjRibIn(speakers[0]!);
      return routes.some((r) => r.prefix === '198.51.100.128/25') ? routes : undefined;
    }).catch(withLogs);
    t.equal(bandwidthOf(atN1, '198.51.100.0/25')[0]?.bandwidth, 12_500_000, 'the transitive one reaches eBGP n1');
    t.strictSame(bandwidthOf(atN1, '198.51.100.128/25'), [], 'the non-transitive one does not');

    // Scale change: n1 down to one; then the non-transitive form, which FRR honours as well.
    speakers[0]!.command({ cmd: 'announce', prefix: `${VIP}/32`, attributes: { linkBandwidth: MBPS } });
    const even = await weighted('1:1:1', 3);
    t.comment(`kernel weights: ${even.map((h) => `${h.via} weight ${h.weight}`).join(', ')}`);
    for (const [i, w] of [2, 1, 1].entries())
      speakers[i]!.command({
        cmd: 'announce',
        prefix: `${VIP}/32`,
        attributes: { linkBandwidth: { bytesPerSecond: w * MBPS, transitive: false } },
      });
    await weighted('2:1:1', 3);

    // A node whose weight drops to nothing withdraws: the route keeps the other two, still weighted.
    speakers[1]!.command({ cmd: 'withdraw', prefix: `${VIP}/32` });
    const two = await weighted('2:1', 2);
    t.strictSame(
      two.map((h) => h.via),
      [NODES[0], NODES[2]],
      'after n2 withdrew: .11 (2) and .13 (1)',
    );

    // A path without link bandwidth (a node not yet moved to weighted ECMP, or MetalLB's during a
    // migration): FRR's default (no `bgp bestpath bandwidth`) falls back to plain ECMP for the prefix.
    speakers[1]!.command({ cmd: 'announce', prefix: `${VIP}/32`, attributes: {} });
    await weighted('1:1:1', 3);
    t.pass('one path without the community: FRR weights all three equally');
  },
);
