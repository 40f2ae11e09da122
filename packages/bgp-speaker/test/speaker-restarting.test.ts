// SpeakerOptions.restarting (RFC 4724 4.1): a Speaker told it has just restarted sets the Restart
// State bit in its first OPEN to each peer it names, and only until that peer's first Established
// session. Two Speakers over loopback TCP; the receiver reads the bit from the negotiated capability.
import t, { type Test } from 'tap';
import { Speaker } from '../src/speaker.js';
import type { SpeakerOptions } from '../src/speaker-types.js';
import { next } from './helpers/events.js';

/** A passive Speaker (AS 64497) with graceful restart, listening on loopback; resolves its port. */
async function receiver(t: Test) {
  const b = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  b.on('error', () => {});
  const listening = next(b, 'listening');
  b.addPeer('a', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
    gracefulRestart: { restartTime: 120 },
    idleHoldTime: 0,
    reconnectTime: 0,
  });
  const [, { port }] = await listening;
  t.teardown(() => b.stop());
  return { b, port: port as number };
}

/** The restarted sender (AS 64496) with peer `b`, and whether `b` saw the R bit on each session. */
async function restartedSender(t: Test, restarting: SpeakerOptions['restarting'], gr = true) {
  const { b, port } = await receiver(t);
  const a = new Speaker({ localAs: 64496, bgpId: '192.0.2.1', ...(restarting === undefined ? {} : { restarting }) });
  a.on('error', () => {});
  t.teardown(() => a.stop());
  const established = next(b, 'established');
  const ours = next(a, 'established');
  a.addPeer('b', {
    peerAddress: '127.0.0.1',
    peerPort: port,
    peerAs: 64497,
    closeTimeoutMs: 500,
    reconnectTime: 0,
    ...(gr ? { gracefulRestart: { restartTime: 90, forwardingState: ['ipv4-unicast' as const] } } : {}),
  });
  const [, first] = await established;
  await ours; // our side Established too: the restart is over for this peer
  return { a, b, first };
}

t.test('restarting: true sets the R bit in the first session to the peer, not in the next', async (t) => {
  const { a, b, first } = await restartedSender(t, true);
  t.equal(first.gracefulRestart?.restarting, true, 'first session: R bit');
  t.equal(first.gracefulRestart?.families[0]?.forwardingState, true, 'F bit for IPv4 unicast');
  // A session setting changed: updatePeer re-creates the session, which is not a restart of ours.
  const again = next(b, 'established');
  await a.updatePeer('b', { holdTime: 60 });
  const [, second] = await again;
  t.equal(second.gracefulRestart?.restarting, false, 'the re-created session: no R bit');
});

t.test('restarting: a list of peer ids sets the R bit to those peers only', async (t) => {
  const named = await restartedSender(t, ['b']);
  t.equal(named.first.gracefulRestart?.restarting, true, 'peer b is named');
  const other = await restartedSender(t, ['c']);
  t.equal(other.first.gracefulRestart?.restarting, false, 'peer b is not named');
  const none = await restartedSender(t, undefined);
  t.equal(none.first.gracefulRestart?.restarting, false, 'no restarting option');
});

t.test('restarting: a peer without graceful restart gets no graceful restart capability', async (t) => {
  const { first } = await restartedSender(t, true, false);
  t.equal(first.gracefulRestart, undefined);
});
