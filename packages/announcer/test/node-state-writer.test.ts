// NodeStateWriter against the in-repo test API server through the real @kubernetes/client-node, on a
// manual clock (its timers move only when the test says): nothing before the Node is known; the first
// look creates the object owned by the Node and writes its status; changes within a second are
// coalesced into one write of the latest status; no write when nothing changed; a 409 on the status
// is read again and retried; an object that already exists (409 AlreadyExists) is read and updated;
// an object deleted under it comes back; a restarted writer does not rewrite an unchanged status.
import t, { type Test } from 'tap';
import type { KubeConfig } from '@kubernetes/client-node';
import { manualClock, type ManualClock } from '@bgp-announce/bgp-speaker';
import type { TestApiServer } from '@bgp-announce/test-apiserver';
import { NodeStateWriter } from '../src/kube/node-state-writer.js';
import { watchNodeStates } from '../src/kube/watches.js';
import type { BGPNodeState, NodeStateStatus } from '../src/kube/node-state.js';
import type { ObjectCache } from '../src/kube/cache.js';
import { apiServer } from './helpers/kube-harness.js';

const NS = 'bgp-announce';

function status(announced: number): NodeStateStatus {
  return {
    sessionsEstablished: 1,
    sessionsTotal: 1,
    servicesAnnounced: announced,
    servicesNotAnnounced: 0,
    sessions: [
      {
        peer: 'tor',
        peerAddress: '192.0.2.1',
        peerASN: 64497,
        state: 'Established',
        establishedSince: '2026-01-01T00:00:00Z',
        prefixesSent: announced,
        prefixesReceived: 0,
      },
    ],
    announced: Array.from({ length: announced }, (_, i) => ({
      service: `demo/s${i}`,
      addresses: [`203.0.113.${i}`],
      peers: ['tor'],
    })),
    notAnnounced: [],
    unlisted: 0,
  };
}

/** The writes the writer sent (creates and status updates of bgpnodestates). */
const writes = (server: TestApiServer) =>
  server.requests().filter((r) => r.resource === 'bgpnodestates' && (r.verb === 'create' || r.verb === 'update'));
const stored = (server: TestApiServer) => server.get('bgpnodestates', 'n1', NS) as BGPNodeState | undefined;

/** Resolves at the next change of `kind` in the cache. */
function nextChange<T>(cache: ObjectCache<T>, kind: 'add' | 'update' | 'delete'): Promise<void> {
  return new Promise((resolve) => {
    const on = (change: string): void => {
      if (change !== kind) return;
      cache.off('change', on);
      resolve();
    };
    cache.on('change', on);
  });
}

async function setup(t: Test, opts: { own?: boolean } = {}) {
  const { server, kubeConfig } = await apiServer(t);
  server.create('namespaces', { metadata: { name: NS } });
  const clock = manualClock(Date.parse('2026-01-01T00:00:00Z'));
  let current: NodeStateStatus | undefined = status(1);
  let uid: string | undefined;
  const own = opts.own ? watchNodeStates(kubeConfig, NS, { nodeName: 'n1' }) : undefined;
  if (own) t.teardown(() => own.stop());
  const make = (kc: KubeConfig, c: ManualClock, cache?: ObjectCache<BGPNodeState>) => {
    const w = new NodeStateWriter({
      kubeConfig: kc,
      namespace: NS,
      nodeName: 'n1',
      nodeUid: () => uid,
      compute: () => current,
      clock: c,
      secondLookMs: 0,
      ...(cache ? { own: cache } : {}),
    });
    t.teardown(() => w.stop());
    return w;
  };
  const writer = make(kubeConfig, clock, own);
  return {
    server,
    kubeConfig,
    clock,
    writer,
    own,
    make,
    setStatus: (s: NodeStateStatus | undefined) => void (current = s),
    setUid: (u: string | undefined) => void (uid = u),
  };
}

t.test('created owned by the Node, then one coalesced write a second at most, none when nothing changed', async (t) => {
  const { server, clock, writer, setStatus, setUid } = await setup(t);
  await writer.start();
  clock.advance(0);
  await writer.idle();
  t.strictSame(writes(server), [], 'nothing while the Node is unknown (no owner to name)');

  const node = server.create('nodes', { metadata: { name: 'n1' } }) as { metadata: { uid: string } };
  setUid(node.metadata.uid);
  writer.request();
  clock.advance(0);
  await writer.idle();
  t.strictSame(
    writes(server).map((r) => [r.verb, r.subresource ?? '']),
    [
      ['create', ''],
      ['update', 'status'],
    ],
    'created (the server drops status on create), then its status written',
  );
  t.match(stored(server), {
    metadata: {
      name: 'n1',
      namespace: NS,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: 'n1', uid: node.metadata.uid }],
    },
    status: status(1),
  });
  t.equal(writer.stats.writes, 1);

  // Three changes within the second: one write, of the last one, when the second is up.
  server.clearRequests();
  for (const n of [2, 3, 4]) {
    setStatus(status(n));
    writer.request();
    clock.advance(100);
  }
  await Promise.resolve();
  t.strictSame(writes(server), [], 'nothing before a second has passed since the last write');
  clock.advance(700);
  await writer.idle();
  t.equal(writes(server).length, 1, 'one write');
  t.equal(stored(server)?.status?.servicesAnnounced, 4, 'of the latest status');

  // Asked again with nothing new: no write.
  server.clearRequests();
  writer.request();
  clock.advance(5000);
  await writer.idle();
  t.strictSame(writes(server), [], 'no write when the status is what the server holds');
  t.equal(writer.stats.writes, 2);
});

t.test('409 Conflict on the status is read again and retried; AlreadyExists is read and updated', async (t) => {
  const { server, clock, writer, setStatus, setUid, make, kubeConfig } = await setup(t);
  const node = server.create('nodes', { metadata: { name: 'n1' } }) as { metadata: { uid: string } };
  setUid(node.metadata.uid);
  await writer.start();
  clock.advance(0);
  await writer.idle();

  server.clearRequests();
  server.failNext('update', 'bgpnodestates/status', 409, 'the object has been modified');
  setStatus(status(2));
  writer.request();
  clock.advance(1000);
  await writer.idle();
  t.strictSame(
    server
      .requests()
      .filter((r) => r.resource === 'bgpnodestates')
      .map((r) => [r.verb, r.status]),
    [
      ['update', 409],
      ['get', 200],
      ['update', 200],
    ],
  );
  t.equal(stored(server)?.status?.servicesAnnounced, 2);
  t.equal(writer.stats.conflicts, 1);

  // A second writer that does not know the object (no watch of its own): create answers AlreadyExists.
  const clock2 = manualClock(clock.now());
  const second = make(kubeConfig, clock2);
  setStatus(status(3));
  server.clearRequests();
  await second.start();
  clock2.advance(0);
  await second.idle();
  t.strictSame(
    server
      .requests()
      .filter((r) => r.resource === 'bgpnodestates')
      .map((r) => [r.verb, r.status]),
    [
      ['create', 409],
      ['get', 200],
      ['update', 200],
    ],
  );
  t.equal(stored(server)?.status?.servicesAnnounced, 3);
});

t.test('with its watch: a restart writes nothing unchanged, a deleted object comes back', async (t) => {
  const { server, clock, writer, own, make, kubeConfig, setUid } = await setup(t, { own: true });
  const node = server.create('nodes', { metadata: { name: 'n1' } }) as { metadata: { uid: string } };
  setUid(node.metadata.uid);
  await writer.start();
  clock.advance(0);
  await writer.idle();
  t.equal(stored(server)?.status?.servicesAnnounced, 1);
  await writer.stop();

  // The daemon restarts: its watch lists the object; the same status is not written again.
  const own2 = watchNodeStates(kubeConfig, NS, { nodeName: 'n1' });
  t.teardown(() => own2.stop());
  const clock2 = manualClock(clock.now());
  const restarted = make(kubeConfig, clock2, own2);
  server.clearRequests();
  await restarted.start();
  clock2.advance(0);
  await restarted.idle();
  t.strictSame(writes(server), [], 'nothing written after the restart');

  // Someone deletes it: the watch says so and it is created again.
  const deleted = nextChange(own2, 'delete');
  server.delete('bgpnodestates', 'n1', NS);
  await deleted;
  clock2.advance(1000);
  await restarted.idle();
  t.equal(stored(server)?.status?.servicesAnnounced, 1, 'back, with its status');
  t.strictSame(
    writes(server).map((r) => r.verb),
    ['create', 'update'],
  );
  t.ok(own, 'the first writer had its watch too');
});
