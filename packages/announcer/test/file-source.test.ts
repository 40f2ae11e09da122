// The config-file source end to end: a YAML file in a temporary directory with a BGPPeer pointing at a
// receiving router on 127.0.0.1 and a StaticRoute. The route arrives on the wire; an edit that breaks
// the file is logged with its problems and the routes stay; a good edit (in place, or replaced by a
// rename as editors and ConfigMap mounts do) changes them; SIGHUP reloads a file that is not watched.
// SIGHUP is emitted on `process` (listeners only): tap runs each test file in its own process.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import t, { type Test } from 'tap';
import { fileSource, type FileSourceStatus } from '../src/daemon/file-source.js';
import type { DaemonContext } from '../src/daemon/source.js';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { startReceiver, type Receiver } from './helpers/kube-bgp-receiver.js';
import { LEVEL, daemonContext, recordingLogger, until } from './helpers/kube-harness.js';

function configText(port: number, prefixes: string[], communities: string[] = ['64496:10']): string {
  return `# a host without Kubernetes
apiVersion: bgp-announce.io/v1alpha1
kind: BGPPeer
metadata:
  name: rtr
spec:
  myASN: 64496
  peerASN: 64497
  peerAddress: 127.0.0.1
  peerPort: ${port}
---
apiVersion: bgp-announce.io/v1alpha1
kind: StaticRoute
metadata:
  name: vips
spec:
  prefixes: [${prefixes.join(', ')}]
  communities: [${communities.map((c) => `"${c}"`).join(', ')}]
`;
}

async function setup(t: Test) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bgp-announce-file-source-'));
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'config.yaml');
  const receiver = await startReceiver(t);
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  t.teardown(() => speaker.stop());
  const { logger, lines } = recordingLogger();
  const rejected: Readonly<Record<string, number>>[] = [];
  const ctx: DaemonContext = {
    ...daemonContext(speaker, logger, 'host-1').ctx,
    setRejectedConfigObjects: (byKind) => void rejected.push(byKind),
  };
  return { dir, file, receiver, speaker, ctx, lines, rejected };
}

const routesOf = (r: Receiver): string[] => [...r.routes.keys()].sort();

t.test('the route arrives; a bad edit is logged and keeps the routes; good edits change them', async (t) => {
  const { dir, file, receiver, speaker, ctx, lines, rejected: rejectedObjects } = await setup(t);
  fs.writeFileSync(file, configText(receiver.port, ['203.0.113.0/24']));
  const source = fileSource({ path: file, nodeAddresses: [] });
  t.teardown(() => source.stop());
  t.equal(source.ready(), false, 'not ready before start');
  await source.start(ctx);
  t.equal(source.ready(), true);
  await until('the static route on the wire', () => receiver.routes.has('203.0.113.0/24'));
  t.same(receiver.routes.get('203.0.113.0/24')?.communities, ['64496:10']);
  t.same(receiver.routes.get('203.0.113.0/24')?.asPath, [{ type: 'AS_SEQUENCE', asns: [64496] }]);
  t.match(
    lines.find((l) => l.msg === `configuration loaded from ${file}`),
    { level: LEVEL.info, why: 'start', peers: 1, staticRoutes: 1 },
  );
  let status = source.status() as FileSourceStatus;
  t.match(status, { source: 'file', path: file, routes: [{ prefix: '203.0.113.0/24', peers: ['rtr'] }] });
  t.ok(status.loadedAt && Date.parse(status.loadedAt) <= Date.now(), 'loadedAt is a time');
  t.notOk('rejected' in status);

  // A bad edit: a negative AS and a prefix with a bad length.
  const rejected = `${file} rejected; the previous configuration keeps running`;
  fs.writeFileSync(
    file,
    configText(receiver.port, ['203.0.113.0/24', '198.51.100.0/33']).replace('peerASN: 64497', 'peerASN: -1'),
  );
  const bad = await until('the rejection logged', () => lines.find((l) => l.msg === rejected));
  t.equal(bad.level, LEVEL.error);
  t.equal(bad.why, 'file changed');
  const problems = bad.problems as string[];
  t.ok(
    problems.some((p) => p.startsWith('BGPPeer rtr: spec.peerASN: ')),
    'names the object and field of the bad AS',
  );
  t.ok(
    problems.some((p) => p.startsWith('StaticRoute vips: spec.prefixes[1]: ')),
    'and of the bad prefix',
  );
  t.same([...speaker.announced().keys()], ['203.0.113.0/24'], 'the announced routes stay');
  t.same(
    speaker.peers().map((p) => [p.id, p.peerAs]),
    [['rtr', 64497]],
    'the peer stays',
  );
  t.same(routesOf(receiver), ['203.0.113.0/24']);
  status = source.status() as FileSourceStatus;
  t.same(status.rejected?.problems, problems);
  t.same(rejectedObjects.at(-1), { BGPPeer: 1, StaticRoute: 1 }, 'the metric: one object of each kind rejected');
  t.equal(source.ready(), true, 'still ready: the last good configuration runs');

  // A good edit in place: a new prefix, the old one withdrawn, another community.
  fs.writeFileSync(file, configText(receiver.port, ['198.51.100.0/24'], ['64496:20']));
  await until('the new route', () => receiver.routes.has('198.51.100.0/24') && !receiver.routes.has('203.0.113.0/24'));
  t.same(receiver.routes.get('198.51.100.0/24')?.communities, ['64496:20']);
  t.notOk('rejected' in (source.status() as object), 'a good load clears the rejection');
  t.same(rejectedObjects.at(-1), {}, 'and the metric');

  // Replaced by a rename (an editor's save, a ConfigMap update).
  const tmp = path.join(dir, '.config.yaml.swp');
  fs.writeFileSync(tmp, configText(receiver.port, ['198.51.100.0/24', '203.0.113.128/25'], ['64496:20']));
  fs.renameSync(tmp, file);
  await until('the route added by the renamed file', () => receiver.routes.has('203.0.113.128/25'));
  t.same(routesOf(receiver), ['198.51.100.0/24', '203.0.113.128/25']);

  // A file that disappears is a problem too, and the routes stay.
  const before = lines.length;
  fs.rmSync(file);
  await until('the missing file logged', () => lines.slice(before).find((l) => l.msg === rejected));
  t.same([...speaker.announced().keys()].sort(), ['198.51.100.0/24', '203.0.113.128/25']);
});

t.test('SIGHUP reloads a file that is not watched; stop() removes the handler', async (t) => {
  const { file, receiver, ctx, lines } = await setup(t);
  fs.writeFileSync(file, configText(receiver.port, ['203.0.113.0/24']));
  const handlers = process.listenerCount('SIGHUP');
  const source = fileSource({ path: file, nodeAddresses: [], watch: false });
  await source.start(ctx);
  t.equal(process.listenerCount('SIGHUP'), handlers + 1);
  await until('the first route', () => receiver.routes.has('203.0.113.0/24'));

  fs.writeFileSync(file, configText(receiver.port, ['198.51.100.64/26']));
  process.emit('SIGHUP', 'SIGHUP');
  await until(
    'the reloaded route',
    () => receiver.routes.has('198.51.100.64/26') && !receiver.routes.has('203.0.113.0/24'),
  );
  t.match(
    lines.filter((l) => l.msg === `configuration loaded from ${file}`).map((l) => l.why),
    ['start', 'SIGHUP'],
  );

  await source.stop();
  t.equal(process.listenerCount('SIGHUP'), handlers, 'the handler is gone after stop()');
});

t.test('a file without a valid configuration at start is a clear error', async (t) => {
  const { file, ctx, speaker, lines } = await setup(t);
  fs.writeFileSync(file, 'kind: BGPPeer\nmetadata: {name: x}\nspec: {myASN: 1\n');
  const source = fileSource({ path: file, nodeAddresses: [], watch: false });
  t.teardown(() => source.stop());
  await t.rejects(source.start(ctx), { message: `${file}: no valid configuration (1 problems, logged above)` });
  const logged = lines.find((l) => l.level === LEVEL.error);
  t.match((logged?.problems as string[] | undefined)?.[0], /YAML syntax error/);
  t.same(speaker.peers(), []);
  t.equal(source.ready(), false);

  const missing = fileSource({ path: `${file}.absent`, nodeAddresses: [], watch: false });
  await t.rejects(missing.start(ctx), { message: /config\.yaml\.absent: no valid configuration \(1 problems/ });
  t.ok(
    lines.some((l) =>
      (l.problems as string[] | undefined)?.some((p) => p.includes('cannot read the config file: no such file')),
    ),
  );
});
