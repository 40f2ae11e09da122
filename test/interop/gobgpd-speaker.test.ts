// Interop of the Speaker with a real gobgpd (Debian's GoBGP 3.x) in network namespaces: gobgpd at
// 192.0.2.1 (AS 64496, passive), our Speaker at 192.0.2.2 (AS 64497) in a child process built from
// packages/*/dist. Checks: a route with next hop self, its community and MED in gobgpd's RIB; graceful
// shutdown puts 65535:0 on the route before the Cease. (Route refresh is not checked here: gobgp's
// `softresetin` re-applies its own Adj-RIB-In and sends no ROUTE-REFRESH.)
// Needs root, ip, gobgpd and gobgp: skipped elsewhere.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { interopUnavailable, requireOrSkip, vethPair } from './netns.js';
import { poll, startGobgpd, startProcess } from './gobgpd.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const builtSpeaker = join(here, '../../packages/bgp-speaker/dist/speaker.js');

// The child: a Speaker announcing one route; on "stop" on stdin, a graceful shutdown with a 1.5 s drain.
const child = (url: string): string => `
import { Speaker } from ${JSON.stringify(url)};
const s = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
const print = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
s.on('established', (id) => print({ event: 'established', id }));
s.on('down', (id, r) => print({ event: 'down', kind: r.kind }));
s.on('error', (id, e) => print({ event: 'error', message: e.message }));
s.announce('203.0.113.0/24', { communities: ['64497:100'], med: 7 });
s.addPeer('gobgp', { peerAddress: '192.0.2.1', localAddress: '192.0.2.2', peerAs: 64496, holdTime: 30 });
process.stdin.on('data', async () => {
  await s.stop({ gracefulShutdown: { drainMs: 1500 }, message: 'node drain' });
  print({ event: 'stopped' });
  process.exit(0);
});
`;

t.test('Speaker with gobgpd: route in the RIB, graceful shutdown community before the Cease', async (t) => {
  if (!requireOrSkip(t, interopUnavailable(['gobgpd', 'gobgp']))) return;
  if (!existsSync(builtSpeaker)) {
    t.fail(`${builtSpeaker} is missing: build the packages first (npx tsc -b)`);
    return;
  }
  const { a: gobgpSide, b: ourSide } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgps');
  const { neighbor, rib } = await startGobgpd(t, {
    ns: gobgpSide.ns,
    as: 64496,
    address: '192.0.2.1',
    neighborAddress: '192.0.2.2',
    neighborAs: 64497,
  });

  const { proc: ours, output } = startProcess(t, 'ip', [
    'netns',
    'exec',
    ourSide.ns,
    process.execPath,
    '--input-type=module',
    '-e',
    child(pathToFileURL(builtSpeaker).href),
  ]);
  const events = (): Record<string, unknown>[] =>
    output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);

  const paths = await poll('203.0.113.0/24 in gobgpd global rib', () => rib()['203.0.113.0/24']).catch((err: Error) => {
    throw new Error(`${err.message}\nour output:\n${output()}`);
  });
  const attr = (
    attrs: ({ type: number } & Record<string, unknown>)[],
    type: number,
  ): Record<string, unknown> | undefined => attrs.find((a) => a.type === type);
  t.equal(attr(paths[0]!.attrs, 3)?.nexthop, '192.0.2.2', 'next hop self');
  t.strictSame(attr(paths[0]!.attrs, 8)?.communities, [64497 * 65536 + 100], 'COMMUNITIES 64497:100');
  t.equal(attr(paths[0]!.attrs, 4)?.metric, 7, 'MED 7');
  t.strictSame(attr(paths[0]!.attrs, 2)?.as_paths, [{ segment_type: 2, num: 1, asns: [64497] }], 'AS_PATH 64497');

  ours.stdin?.write('stop\n');
  const gshut = await poll('65535:0 on the route in gobgpd', () => {
    const p = rib()['203.0.113.0/24'];
    const c = p ? (attr(p[0]!.attrs, 8)?.communities as number[] | undefined) : undefined;
    return c?.includes(65535 * 65536) ? c : undefined;
  });
  t.ok(gshut.includes(64497 * 65536 + 100), 'the route keeps its own community');
  t.equal(neighbor().state.messages.received.notification ?? 0, 0, 'no Cease yet: draining');
  await poll('our stop to complete', () => events().find((e) => e.event === 'stopped'));
  await poll('gobgpd to count our NOTIFICATION', () =>
    neighbor().state.messages.received.notification === 1 ? true : undefined,
  );
  t.equal(rib()['203.0.113.0/24'], undefined, 'route gone once the session is down');
});
