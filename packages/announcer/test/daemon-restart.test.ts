// The daemon's graceful restart record end to end on loopback: a daemon with stateDirectory leaves a
// graceful-restart peer on stop and records it; the next daemon with the same directory sets the
// Restart State bit in its first OPEN to that peer (the receiver reads it from the negotiated
// capability); without graceful restart the record is removed at start.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { RESTART_STATE_FILE, readRestartState } from '../src/daemon/restart-state.js';
import { peeringSource, poll, testDaemon } from './daemon-helpers.js';
import { next } from '../../bgp-speaker/test/helpers/events.js';

/** A passive Speaker (AS 64497) on 127.0.0.1 that does graceful restart with us (peer 'us'). */
async function helper(t: Test): Promise<{ speaker: Speaker; port: number }> {
  const speaker = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  speaker.on('error', () => {});
  const listening = next(speaker, 'listening');
  speaker.addPeer('us', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
    gracefulRestart: { restartTime: 120 },
    idleHoldTime: 0,
    reconnectTime: 0,
  });
  const [, { port }] = (await listening) as [string, { port: number }];
  t.teardown(() => speaker.stop());
  return { speaker, port };
}

t.test('a restarted daemon sets the R bit to the peers its record names', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'bgp-announce-daemon-state-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  const { speaker: router, port } = await helper(t);
  const gr = { gracefulRestart: { restartTime: 120, forwardingState: ['ipv4-unicast' as const] } };

  let established = next(router, 'established');
  const first = await testDaemon(t, peeringSource(port, gr), { stateDirectory: dir });
  t.equal((await established)[1].gracefulRestart?.restarting, false, 'a first start: no R bit');
  t.ok(
    first.log.lines.some((l) => l.event === 'graceful-restart' && /no record/.test(String(l.why))),
    'logged as a fresh start',
  );
  await poll('our side Established too', () =>
    first.daemon.speaker.peers()[0]?.state === 'Established' ? true : undefined,
  );
  const result = await first.daemon.stop();
  t.strictSame([result.mode, result.keptRoutes], ['restart', ['rtr']], 'left rtr keeping our routes');
  t.match(await readRestartState(dir, Date.now()), { restarting: true, peers: ['rtr'] }, 'and recorded it');

  established = next(router, 'established');
  const second = await testDaemon(t, peeringSource(port, gr), { stateDirectory: dir });
  const [, negotiated] = await established;
  t.equal(negotiated.gracefulRestart?.restarting, true, 'the restarted daemon: R bit');
  t.equal(negotiated.gracefulRestart?.families[0]?.forwardingState, true, 'and F bit');
  t.ok(
    second.log.lines.some((l) => /restarting: the first OPEN to rtr sets the Restart State bit/.test(String(l.msg))),
    'logged as a restart',
  );
  await poll('our side Established again', () =>
    second.daemon.speaker.peers()[0]?.state === 'Established' ? true : undefined,
  );
  t.equal((await second.daemon.stop()).mode, 'restart');
  t.ok(existsSync(join(dir, RESTART_STATE_FILE)), 'a record again');

  await testDaemon(t, peeringSource(port, gr), { stateDirectory: dir, gracefulRestart: false });
  t.notOk(existsSync(join(dir, RESTART_STATE_FILE)), 'without graceful restart the record is removed at start');
});
