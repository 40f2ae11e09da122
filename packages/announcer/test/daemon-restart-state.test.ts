// The graceful restart record (restart-state.ts) in a temporary directory: what a start decides from
// it (fresh start or restart, and to which peers), and the recorder that keeps it current from the
// Speaker's sessions and writes the last one as the daemon leaves.
import { EventEmitter } from 'node:events';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import type { PeerStatus } from '@bgp-announce/bgp-speaker';
import {
  RESTART_STATE_FILE,
  RestartRecorder,
  readRestartState,
  writeRestartState,
  type RestartRecord,
} from '../src/daemon/restart-state.js';

async function tempDir(t: Test): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'bgp-announce-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const record = (at: number, peers = ['tor-a', 'tor-b']): RestartRecord => ({
  version: 1,
  at,
  restartTime: 120,
  peers,
  reason: 'restart',
});

t.test('readRestartState: a record within the restart time is a restart to its peers', async (t) => {
  const dir = await tempDir(t);
  t.strictSame(await readRestartState(dir, 1_000_000), { restarting: false, why: 'no record of an earlier run' });
  await writeRestartState(dir, record(1_000_000));
  t.strictSame(await readRestartState(dir, 1_000_000 + 5_000), {
    restarting: true,
    peers: ['tor-a', 'tor-b'],
    ageMs: 5_000,
  });
  t.equal((await readRestartState(dir, 1_000_000 + 120_000)).restarting, true, 'exactly the restart time: still');
  const old = await readRestartState(dir, 1_000_000 + 120_001);
  t.strictSame(old, { restarting: false, why: 'it is 120 s old, more than the 120 s restart time' });
  t.match(await readRestartState(dir, 999_000), { restarting: false, why: /in the future/ });
  await writeRestartState(dir, record(1_000_000, []));
  t.match(await readRestartState(dir, 1_000_001), { restarting: false, why: /no peer/ });
});

t.test('readRestartState: a damaged record is a fresh start, with why', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, RESTART_STATE_FILE);
  const cases: [string, RegExp][] = [
    ['{"version": 1, "at": 5', /not JSON/],
    ['{"version": 2, "at": 5, "restartTime": 120, "peers": []}', /not a version 1 record/],
    ['{"version": 1, "at": "now", "restartTime": 120, "peers": []}', /"at" is not a time/],
    ['{"version": 1, "at": 5, "restartTime": 5000, "peers": []}', /"restartTime" is not 0-4095/],
    ['{"version": 1, "at": 5, "restartTime": 120, "peers": [1]}', /"peers" is not a list of names/],
  ];
  for (const [text, why] of cases) {
    await writeFile(path, text);
    t.match(await readRestartState(dir, 10), { restarting: false, why }, text);
  }
});

/** A Speaker as the recorder sees it: its events and peers(). */
function fakeSpeaker(peers: Partial<PeerStatus>[]) {
  const events = new EventEmitter();
  return {
    on: events.on.bind(events),
    off: events.off.bind(events),
    emit: events.emit.bind(events),
    peers: () => peers as PeerStatus[],
  };
}

t.test('RestartRecorder: Established graceful-restart peers are recorded; leaving writes or clears', async (t) => {
  const dir = await tempDir(t);
  const speaker = fakeSpeaker([
    { id: 'tor-b', state: 'Established', restartLeave: 'cease' },
    { id: 'tor-a', state: 'Established', restartLeave: 'close' },
    { id: 'tor-c', state: 'Established', restartLeave: 'stop' }, // no graceful restart with it
    { id: 'tor-d', state: 'Active', restartLeave: 'cease' },
  ]);
  const warnings: string[] = [];
  let now = 50_000;
  const recorder = new RestartRecorder({
    dir,
    speaker: speaker as never,
    logger: { warn: (_o: unknown, m: string) => warnings.push(m) } as never,
    restartTime: 120,
    now: () => now,
  });
  recorder.start();
  t.teardown(() => recorder.stop());
  const read = async () => JSON.parse(await readFile(join(dir, RESTART_STATE_FILE), 'utf8')) as RestartRecord;
  speaker.emit('established', 'tor-a');
  await recorder.left('restart', ['tor-a', 'tor-b']).then(() => undefined); // waits for the write in flight
  t.strictSame(await read(), {
    version: 1,
    at: 50_000,
    restartTime: 120,
    peers: ['tor-a', 'tor-b'],
    reason: 'restart',
  });

  const again = new RestartRecorder({
    dir,
    speaker: speaker as never,
    logger: { warn() {} } as never,
    restartTime: 120,
    now: () => now,
  });
  again.start();
  now = 60_000;
  speaker.emit('established', 'tor-b');
  await again.left('drain', []);
  t.equal((await readRestartState(dir, now)).restarting, false, 'drained: the record is gone');
  t.strictSame(warnings, []);
});

t.test('RestartRecorder: an Established session is recorded at once (a crash later still finds it)', async (t) => {
  const dir = await tempDir(t);
  const speaker = fakeSpeaker([{ id: 'tor-a', state: 'Established', restartLeave: 'cease' }]);
  const recorder = new RestartRecorder({
    dir,
    speaker: speaker as never,
    logger: { warn() {} } as never,
    restartTime: 90,
    now: () => 7_000,
  });
  recorder.start();
  t.teardown(() => recorder.stop());
  speaker.emit('established', 'tor-a');
  await recorder.flushed();
  t.strictSame(await readRestartState(dir, 9_000), { restarting: true, peers: ['tor-a'], ageMs: 2_000 });
});

t.test('RestartRecorder: a directory it cannot write is logged once, never thrown', async (t) => {
  const dir = await tempDir(t);
  const blocked = join(dir, 'file');
  await writeFile(blocked, 'not a directory');
  const speaker = fakeSpeaker([{ id: 'tor-a', state: 'Established', restartLeave: 'cease' }]);
  const warnings: string[] = [];
  const recorder = new RestartRecorder({
    dir: join(blocked, 'state'),
    speaker: speaker as never,
    logger: { warn: (_o: unknown, m: string) => warnings.push(m) } as never,
    restartTime: 120,
  });
  recorder.start();
  speaker.emit('established', 'tor-a');
  speaker.emit('established', 'tor-a');
  await recorder.left('restart', ['tor-a']);
  t.equal(warnings.length, 1, 'one warning for the same error');
  t.match(warnings[0], /cannot write the graceful restart record/);
});

t.test('RestartRecorder: refreshed while a graceful-restart session is up', async (t) => {
  const dir = await tempDir(t);
  const speaker = fakeSpeaker([{ id: 'tor-a', state: 'Established', restartLeave: 'cease' }]);
  let now = 1_000;
  const recorder = new RestartRecorder({
    dir,
    speaker: speaker as never,
    logger: { warn() {} } as never,
    restartTime: 120,
    now: () => (now += 1_000),
    refreshMs: 5,
  });
  recorder.start();
  // Stopped, then its last write awaited, before the directory is removed (else rmdir meets ENOTEMPTY).
  t.teardown(async () => {
    recorder.stop();
    await recorder.flushed();
  });
  const ages = new Set<number>(); // the record's times seen
  for (const deadline = Date.now() + 5_000; ages.size < 2 && Date.now() < deadline; ) {
    await recorder.flushed();
    try {
      ages.add((JSON.parse(await readFile(join(dir, RESTART_STATE_FILE), 'utf8')) as RestartRecord).at);
    } catch {
      // not written yet
    }
    await new Promise((resolve) => setImmediate(resolve));
  }
  t.ok(ages.size >= 2, `the record was written again with a newer time (${[...ages].join(', ')})`);
});
