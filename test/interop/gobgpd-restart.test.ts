// Graceful restart (RFC 4724) with a real gobgpd as the helper: our Speaker leaves for a restart, gobgpd
// keeps our routes (stale) while we are away, the restarted Speaker (R bit) re-sends some of them and
// its End-of-RIB makes gobgpd drop the rest; a normal stop then withdraws everything at once.
// gobgpd at 192.0.2.1 (AS 64496, passive), our Speaker at 192.0.2.2 (AS 64497) in a child process
// built from packages/*/dist. Needs root, ip, gobgpd and gobgp: skipped elsewhere.
import t from 'tap';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { interopUnavailable, requireOrSkip, vethPair } from './netns.js';
import { GOBGP_ESTABLISHED, poll, startGobgpd, startProcess } from './gobgpd.js';

const here = fileURLToPath(new URL('.', import.meta.url));
const builtSpeaker = join(here, '../../packages/bgp-speaker/dist/speaker.js');

// The child: a Speaker with graceful restart announcing the prefixes in argv; on a line on stdin it
// stops, for a restart ("restart") or for good ("stop"), prints "stopped" and exits.
const child = (url: string): string => `
import { Speaker } from ${JSON.stringify(url)};
const [restarting, ...prefixes] = process.argv.slice(1);
const s = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
const print = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
s.on('established', (id, n) => print({ event: 'established', restarting: n.gracefulRestart?.restarting }));
s.on('error', (id, e) => print({ event: 'error', message: e.message }));
for (const p of prefixes) s.announce(p);
s.addPeer('gobgp', {
  peerAddress: '192.0.2.1', localAddress: '192.0.2.2', peerAs: 64496, holdTime: 30,
  gracefulRestart: { restartTime: 60, restarting: restarting === 'true', forwardingState: ['ipv4-unicast'] },
});
process.stdin.once('data', async (line) => {
  await s.stop({ restart: String(line).trim() === 'restart', message: 'interop test' });
  print({ event: 'stopped' });
  process.exit(0);
});
`;

t.test('graceful restart with gobgpd: routes kept while we restart, stale ones swept by our End-of-RIB', async (t) => {
  if (!requireOrSkip(t, interopUnavailable(['gobgpd', 'gobgp']))) return;
  if (!existsSync(builtSpeaker)) {
    t.fail(`${builtSpeaker} is missing: build the packages first (npx tsc -b)`);
    return;
  }
  const { a: gobgpSide, b: ourSide } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgpr');
  const { neighbor, rib } = await startGobgpd(t, {
    ns: gobgpSide.ns,
    as: 64496,
    address: '192.0.2.1',
    neighborAddress: '192.0.2.2',
    neighborAs: 64497,
    gracefulRestart: { restartTime: 120 },
  });
  const run = (restarting: boolean, prefixes: string[]) => {
    const { proc, output } = startProcess(t, 'ip', [
      'netns',
      'exec',
      ourSide.ns,
      process.execPath,
      '--input-type=module',
      '-e',
      child(pathToFileURL(builtSpeaker).href),
      String(restarting),
      ...prefixes,
    ]);
    const events = (): Record<string, unknown>[] =>
      output()
        .split('\n')
        .filter((l) => l.startsWith('{'))
        .map((l) => JSON.parse(l) as Record<string, unknown>);
    return { proc, output, events };
  };
  const prefixes = (): string[] => Object.keys(rib()).sort();

  const first = run(false, ['198.51.100.0/24', '203.0.113.0/24']);
  await poll('both routes in gobgpd', () => (prefixes().length === 2 ? true : undefined)).catch((err: Error) => {
    throw new Error(`${err.message}\nour output:\n${first.output()}`);
  });
  t.strictSame(prefixes(), ['198.51.100.0/24', '203.0.113.0/24']);

  first.proc.stdin?.write('restart\n');
  await poll('our restart leave', () => first.events().find((e) => e.event === 'stopped'));
  await poll('gobgpd to see the session down', () =>
    neighbor().state.session_state !== GOBGP_ESTABLISHED ? true : undefined,
  );
  t.strictSame(prefixes(), ['198.51.100.0/24', '203.0.113.0/24'], 'session down, routes kept by gobgpd');
  t.equal(neighbor().state.messages.received.notification ?? 0, 0, 'we left without a NOTIFICATION (no N bit)');

  // Back after the "restart": R bit set, only one of the two routes this time.
  const second = run(true, ['203.0.113.0/24']);
  const up = await poll('the restarted session', () => second.events().find((e) => e.event === 'established'));
  t.equal(up.restarting, false, 'gobgpd advertises graceful restart (as a helper) and is not restarting itself');
  await poll('gobgpd to drop the route we did not re-send', () => (prefixes().length === 1 ? true : undefined)).catch(
    (err: Error) => {
      throw new Error(`${err.message}\nrib: ${JSON.stringify(prefixes())}\nour output:\n${second.output()}`);
    },
  );
  t.strictSame(prefixes(), ['203.0.113.0/24'], 'the re-sent route stays, the other went with our End-of-RIB');

  second.proc.stdin?.write('stop\n');
  await poll('our stop', () => second.events().find((e) => e.event === 'stopped'));
  await poll('gobgpd to withdraw everything after a normal stop', () => (prefixes().length === 0 ? true : undefined));
  t.pass('normal stop: routes gone at once');
});
