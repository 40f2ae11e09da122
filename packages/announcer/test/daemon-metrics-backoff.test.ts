// bgp_announce_session_backoff_seconds: the pause before the next attempt while a session waits after
// a protocol failure, 0 after a transport failure (which retries within a second) and while up.
import t from 'tap';
import type { PeerStatus, Speaker } from '@bgp-announce/bgp-speaker';
import { initialSession, peerConfig } from '@bgp-announce/bgp-speaker/session';
import { createDaemonMetrics } from '../src/daemon/metrics.js';
import { seriesValue } from './daemon-helpers.js';

function peer(id: string, over: Partial<PeerStatus>): PeerStatus {
  return {
    id,
    peerAddress: '192.0.2.1',
    peerAs: 64497,
    state: 'Idle',
    advertised: 0,
    received: 0,
    receivedAsLoop: 0,
    localAs: 64496,
    bgpId: '192.0.2.2',
    counters: {
      ...initialSession(peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.2' })).counters,
      updatesOut: 0,
    },
    restartLeave: 'stop',
    ...over,
  } as PeerStatus;
}

t.test('the back-off gauge shows a protocol failure only', async (t) => {
  const down = (failure: 'transport' | 'protocol', pauseMs: number): PeerStatus['lastDown'] => ({
    at: 0,
    state: 'OpenSent',
    kind: 'notification-received',
    message: 'peer sent NOTIFICATION 2/2',
    failure,
    pauseMs,
  });
  const peers = [
    peer('refused', { lastDown: down('protocol', 16_000) }),
    peer('flapped', { lastDown: down('transport', 437) }),
    peer('up', { state: 'Established', lastDown: down('protocol', 8000) }),
  ];
  const metrics = createDaemonMetrics({ speaker: { peers: () => peers } as unknown as Speaker, ready: () => true });
  const text = await metrics.metrics();
  t.equal(seriesValue(text, 'bgp_announce_session_backoff_seconds{peer="refused"}'), 16);
  t.equal(seriesValue(text, 'bgp_announce_session_backoff_seconds{peer="flapped"}'), 0);
  t.equal(seriesValue(text, 'bgp_announce_session_backoff_seconds{peer="up"}'), 0, 'Established: none pending');
});
