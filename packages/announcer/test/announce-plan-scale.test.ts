// The announce plan at scale: 5,000 Services (dual-stack, half with externalTrafficPolicy Local) on a
// node with 4 peers must plan in well under 100 ms, with attribute objects shared between routes.
import t from 'tap';
import { performance } from 'node:perf_hooks';
import { planAnnouncements, type PlanInput } from '../src/plan/announce-plan.js';
import type { EndpointSlice } from '../src/service/model.js';
import { advertisement, config, node, peer, pool, service, slice } from './announce-plan-fixtures.js';

const SERVICES = 5000;
const peers = [peer('tor-a'), peer('tor-b'), peer('tor-c'), peer('tor-d')];
const pools = [pool('v4', '198.51.100.0/24'), pool('v6', '2001:db8:1::/64')];
const cfg = config({
  peers,
  pools,
  advertisements: [
    advertisement('all', { communities: ['64496:100'], localPref: 100 }),
    advertisement('edge', { communities: ['no-export'], largeCommunities: ['64496:1:1'], peers: ['tor-a', 'tor-b'] }),
    advertisement('v4-agg', { ipAddressPools: ['v4'], aggregationLength: 24, peers: ['tor-c'] }),
  ],
});
const poolByIp = new Map<string, string>();
const services = [];
const endpointSlices = new Map<string, EndpointSlice[]>();
for (let i = 0; i < SERVICES; i++) {
  const key = `ns${i % 50}/svc${i}`;
  const v6 = `2001:db8:1::${(i + 1).toString(16)}`;
  const ips = [v6];
  poolByIp.set(v6, 'v6');
  if (i < 250) {
    const v4 = `198.51.100.${i + 1}`;
    ips.unshift(v4);
    poolByIp.set(v4, 'v4');
  }
  const local = i % 2 === 1;
  services.push(service(key, ips, local ? 'Local' : 'Cluster'));
  // Local Services: every other one has its serving endpoint here, the rest only on another node.
  const here = i % 4 === 1;
  endpointSlices.set(key, [
    slice(key, [
      [here ? 'n1' : 'n2', { ready: true, serving: true, terminating: false }],
      ['n3', { ready: true }],
    ]),
  ]);
}
const input: PlanInput = {
  nodeName: 'n1',
  node: node('n1', {}),
  config: cfg,
  services,
  endpointSlices,
  poolOf: (ip) => poolByIp.get(ip),
};

t.test('5,000 Services x 4 peers', async (t) => {
  const plan = planAnnouncements(input);
  const announced = plan.services.filter((s) => s.announced).length;
  t.equal(plan.services.length, SERVICES);
  t.equal(announced, SERVICES * 0.75, 'Cluster ones and half of the Local ones');
  // v4: 250 addresses; announced are i % 4 !== 3 among i < 250 → 188 host routes, plus the one /24.
  let v4Hosts = 0;
  for (let i = 0; i < 250; i++) if (i % 4 !== 3) v4Hosts++;
  t.equal(plan.routes.size, SERVICES * 0.75 + v4Hosts + 1, 'one v6 /128 per announced Service, v4 /32s, one v4 /24');
  const agg = plan.routes.get('198.51.100.0/24')!;
  t.strictSame([...agg.perPeer.keys()], ['tor-c']);
  t.equal(agg.services.length, v4Hosts);
  const host = plan.routes.get('2001:db8:1::1/128')!;
  t.strictSame(Object.fromEntries(host.perPeer), {
    'tor-a': { communities: ['64496:100', '65535:65281'], largeCommunities: ['64496:1:1'], localPref: 100 },
    'tor-b': { communities: ['64496:100', '65535:65281'], largeCommunities: ['64496:1:1'], localPref: 100 },
    'tor-c': { communities: ['64496:100'], largeCommunities: [], localPref: 100 },
    'tor-d': { communities: ['64496:100'], largeCommunities: [], localPref: 100 },
  });
  const maps = new Set([...plan.routes.values()].map((r) => r.perPeer));
  const objects = new Set([...plan.routes.values()].flatMap((r) => [...r.perPeer.values()]));
  t.equal(maps.size, 2, 'host routes share one per-peer map, the /24 has its own');
  t.equal(objects.size, 3, 'three distinct attribute sets in all');

  const times: number[] = [];
  for (let run = 0; run < 15; run++) {
    const start = performance.now();
    planAnnouncements(input);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)]!;
  t.comment(
    `planAnnouncements, ${SERVICES} Services x 4 peers: min ${times[0]!.toFixed(1)} ms, median ${median.toFixed(1)} ms, max ${times[times.length - 1]!.toFixed(1)} ms`,
  );
  t.ok(times[0]! < 100, `fastest run under 100 ms (${times[0]!.toFixed(1)} ms)`);
});
