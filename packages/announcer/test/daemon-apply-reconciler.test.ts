// NodeReconciler with a real Speaker: requests made while a reconcile runs are folded into one more
// run that reads the newest state (also a request that lands just as a run ends), a failing reconcile
// is logged and observed as 'error' and the next one works, and peer problems are logged once.
import t, { type Test } from 'tap';
import { NodeReconciler, type ReconcileInput } from '../src/daemon/node-reconciler.js';
import { Speaker } from '@bgp-announce/bgp-speaker';
import type { AnnouncerConfig, BGPPeer, StaticRoute } from '../src/config/types.js';
import type { Service } from '../src/service/model.js';
import { LEVEL, daemonContext, recordingLogger } from './helpers/kube-harness.js';

/** A passive peer (a listener on 127.0.0.1, an ephemeral port): nothing is sent anywhere. */
function quietPeer(name: string, fields: Partial<BGPPeer> = {}): BGPPeer {
  return {
    name,
    myASN: 64496,
    peerASN: 64497,
    peerAddress: '192.0.2.10',
    peerPort: 179,
    holdTime: 90,
    keepaliveTime: 30,
    connectTime: 120,
    connectionMode: 'passive',
    listenAddress: '127.0.0.1',
    listenPort: 0,
    ebgpMultiHop: false,
    enableGracefulRestart: false,
    nodeSelectors: [],
    ...fields,
  };
}

const staticRoute = (prefixes: string[]): StaticRoute => ({
  name: 'vips',
  prefixes,
  peers: [],
  communities: [],
  largeCommunities: [],
});

function config(fields: Partial<AnnouncerConfig> = {}): AnnouncerConfig {
  return { pools: [], peers: [quietPeer('tor')], advertisements: [], bfdProfiles: [], staticRoutes: [], ...fields };
}

function input(cfg: AnnouncerConfig, fields: Partial<ReconcileInput> = {}): ReconcileInput {
  return {
    nodeName: 'n1',
    node: { metadata: { name: 'n1', labels: {} } },
    config: cfg,
    services: [],
    endpointSlices: new Map(),
    poolOf: () => undefined,
    nodeAddresses: [],
    ...fields,
  };
}

function setup(t: Test) {
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  t.teardown(() => speaker.stop());
  const { logger, lines } = recordingLogger();
  const { ctx, reconciles } = daemonContext(speaker, logger);
  return { speaker, lines, ctx, reconciles };
}

t.test('a burst of requests during a run gives one more run, which reads the newest state', async (t) => {
  const { speaker, ctx, reconciles } = setup(t);
  let state = input(config({ staticRoutes: [staticRoute(['203.0.113.1/32'])] }));
  let reads = 0;
  const reconciler = new NodeReconciler(ctx, () => {
    reads++;
    return state;
  });
  t.equal(reconciler.plan(), undefined, 'no plan before the first run');
  const waits = [reconciler.request()];
  t.equal(reads, 1, 'the first request starts a run at once');
  state = input(config({ staticRoutes: [staticRoute(['203.0.113.2/32'])] }));
  for (let i = 0; i < 20; i++) waits.push(reconciler.request());
  await Promise.all(waits);
  t.equal(reads, 2, 'twenty requests during the run: one more run');
  t.same(
    reconciles.map(([r]) => r),
    ['ok', 'ok'],
  );
  t.ok(
    reconciles.every(([, s]) => s >= 0 && s < 5),
    'durations in seconds',
  );
  t.same([...speaker.announced().keys()], ['203.0.113.2/32'], 'the second run applied the newest state');
  t.same([...(reconciler.plan()?.routes.keys() ?? [])], ['203.0.113.2/32']);
  t.same(
    speaker.peers().map((p) => p.id),
    ['tor'],
  );

  await reconciler.request();
  t.equal(reads, 3, 'a request after the runs ended starts a new one');
});

t.test('a request made just as a run ends is not lost', async (t) => {
  const { speaker, ctx } = setup(t);
  let state = input(config({ staticRoutes: [staticRoute(['203.0.113.1/32'])] }));
  let reads = 0;
  let late: Promise<void> | undefined;
  ctx.observeReconcile = () => {
    // A watch event handled in a promise continuation right after this run: after the run's last
    // look at its queue, before its promise has settled.
    if (late === undefined) {
      queueMicrotask(() => {
        state = input(config({ staticRoutes: [staticRoute(['203.0.113.9/32'])] }));
        late = reconciler.request();
      });
    }
  };
  const reconciler = new NodeReconciler(ctx, () => {
    reads++;
    return state;
  });
  await reconciler.request();
  t.ok(late, 'the late request was made');
  await late;
  t.equal(reads, 2, 'the late request got its run');
  t.same([...speaker.announced().keys()], ['203.0.113.9/32']);
});

t.test('nothing to read: no run, no plan', async (t) => {
  const { ctx, reconciles } = setup(t);
  const reconciler = new NodeReconciler(ctx, () => undefined);
  await reconciler.request();
  t.same(reconciles, []);
  t.equal(reconciler.plan(), undefined);
});

t.test(
  'a failing reconcile is logged and observed as error; the previous routes stay; the next run works',
  async (t) => {
    const { speaker, ctx, reconciles, lines } = setup(t);
    const svc: Service = {
      metadata: { namespace: 'shop', name: 'web' },
      spec: { type: 'LoadBalancer' },
      status: { loadBalancer: { ingress: [{ ip: '203.0.113.20', ipMode: 'VIP' }] } },
    };
    let broken = false;
    const good = input(config({ staticRoutes: [staticRoute(['198.51.100.0/24'])] }));
    const reconciler = new NodeReconciler(ctx, () =>
      broken
        ? {
            ...good,
            services: [svc],
            poolOf: () => {
              throw new Error('allocator exploded');
            },
          }
        : good,
    );
    await reconciler.request();
    const firstPlan = reconciler.plan();
    broken = true;
    await reconciler.request();
    t.same(
      reconciles.map(([r]) => r),
      ['ok', 'error'],
    );
    const error = lines.find((l) => l.level === LEVEL.error);
    t.equal(error?.msg, 'reconcile failed; the previous routes stay announced');
    t.match(error?.err, { message: 'allocator exploded' });
    t.equal(reconciler.plan(), firstPlan, 'the plan of the failed run is not kept');
    t.same([...speaker.announced().keys()], ['198.51.100.0/24'], 'the routes of the last good run stay');

    broken = false;
    await reconciler.request();
    t.same(
      reconciles.map(([r]) => r),
      ['ok', 'error', 'ok'],
    );
  },
);

t.test('peers that cannot be started are logged once, with why; the others run', async (t) => {
  const { speaker, ctx, lines } = setup(t);
  const cfg = config({
    peers: [quietPeer('tor'), quietPeer('tor-bfd', { peerAddress: '192.0.2.11', bfdProfile: 'missing' })],
  });
  const reconciler = new NodeReconciler(ctx, () => input(cfg));
  await reconciler.request();
  const errors = () => lines.filter((l) => l.level === LEVEL.error);
  t.equal(errors().length, 1);
  t.equal(errors()[0]?.msg, 'some BGP peers could not be started');
  t.same(errors()[0]?.errors, ['BGPPeer tor-bfd: BFD profile "missing" does not exist']);
  t.same(
    speaker.peers().map((p) => p.id),
    ['tor'],
  );
  t.match(
    lines.find((l) => l.msg === 'BGP peers changed'),
    { level: LEVEL.info, added: ['tor'], updated: [], removed: [] },
  );

  lines.length = 0;
  await reconciler.request();
  t.same(errors(), [], 'the same problem is not logged again');
  t.notOk(
    lines.some((l) => l.msg === 'BGP peers changed'),
    'and no peer changed',
  );
});
