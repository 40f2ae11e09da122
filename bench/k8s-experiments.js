// The experiments behind the Kubernetes rows of bench/k8s.js. This script runs inside the bench's
// host namespace (bench/k8s.js starts it there with `ip netns exec`): the test API server lives in
// this process, the daemon is its child, gobgpd routers run in the router namespace given as the
// second argument. It prints one result line (RESULT_MARK + JSON) and exits.
//
//   node bench/k8s-experiments.js latency|reconcile|idle|idle-bfd <router-namespace>
import { execFileSync } from 'node:child_process';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { startEngine } from './bfd-engine.js';
import {
  alive,
  daemonReady,
  diagnosed,
  followRequests,
  idleWithGc,
  logCounts,
  phaseLoad,
  reconcileMetrics,
  settle,
  settleGc,
  summary,
  warnings,
  writesIn,
} from './k8s-observe.js';
import {
  HOST_V4,
  NODE_NAME,
  OTHER_NODE,
  OUR_AS,
  ROUTER_AS,
  createService,
  endpointSlice,
  memory,
  now,
  peerName,
  preloadServices,
  serviceObject,
  startCluster,
  startDaemon,
  until,
  watchIngress,
} from './k8s-rig.js';
import { neighborState, startRouters, whenRibsHold } from './k8s-routers.js';
import {
  DAEMON_LOG_LEVEL,
  DAEMON_NODE,
  DAEMON_NODE_ARGS,
  LATENCY_SERVICES,
  PACE_MS,
  RECONCILE_PEERS,
  RECONCILE_SERVICES,
  RESULT_MARK,
  SMALL_BFD,
  SMALL_PEERS,
  SMALL_SERVICES,
} from './k8s-settings.js';

const WARMUP_SERVICES = 10;
const SINGLE_SERVICES = 20;
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
const v6Vip = (i) => `2001:db8:5::${(i + 1).toString(16)}`;
const v4Vip = (i) => `198.51.100.${i + 1}`;
const round = (ms) => Math.round(ms * 10) / 10;

// ---------------------------------------------------------------------------------------------
// Latency: Service created -> route at the router; endpoint gone -> route withdrawn

async function latency(ns) {
  const rig = await startRouters(ns, [4]);
  const router = rig.routers[0];
  const monitor = router.monitor;
  const server = await startCluster({
    pools: [{ name: 'bench', addresses: ['198.51.100.0/24', '203.0.113.0/24'] }],
    peerAddresses: [router.address],
  });
  const daemon = startDaemon(server.url, { node: DAEMON_NODE, nodeArgs: DAEMON_NODE_ARGS, logLevel: DAEMON_LOG_LEVEL });
  let ingress;
  const ipOf = (name) => ingress.ipOf.get(name);
  const routeOf = (name) => {
    const ip = ipOf(name);
    return ip && monitor.announcedAt.get(`${ip}/32`);
  };
  try {
    await daemonReady(server, daemon, [router]);
    ingress = watchIngress(server);
    // Warm-up (untimed): a few Services through the whole path first, as in a daemon that has run a while.
    for (let i = 0; i < WARMUP_SERVICES; i++) createService(server, `warm-${i}`);
    await until(
      'the warm-up routes',
      () => Array.from({ length: WARMUP_SERVICES }, (_, i) => routeOf(`warm-${i}`)).every(Boolean),
      { ms: 60_000 },
    );

    // Unloaded: a few Services one after the other, each waiting for its route (untimed in the rows, in the notes).
    const single = [];
    for (let i = 0; i < SINGLE_SERVICES; i++) {
      const t0 = now();
      createService(server, `one-${i}`);
      single.push((await until(`the route of one-${i}`, () => routeOf(`one-${i}`), { ms: 30_000, everyMs: 1 })) - t0);
    }

    const settled = [await settle(server, daemon)];

    // Phase 1: create Services, one every PACE_MS (or one after the other's route).
    const phase1 = phaseLoad(daemon);
    const created = [];
    const phaseStart = now();
    for (let i = 0; i < LATENCY_SERVICES; i++) {
      const name = `lat-${i}`;
      if (PACE_MS > 0) await sleep(phaseStart + i * PACE_MS - now());
      const t0 = now();
      createService(server, name);
      created.push({ name, t0 });
      if (PACE_MS === 0) await until(`the route of ${name}`, () => routeOf(name), { ms: 30_000, everyMs: 1 });
    }
    await until('every created Service at the router', () => created.every((c) => routeOf(c.name)), { ms: 120_000 });
    const createLoad = phase1.end();
    const create = created.map((c) => {
      const at = routeOf(c.name);
      const statusAt = ingress.firstIngressAt.get(c.name);
      return {
        total: at - c.t0,
        allocator: statusAt === undefined ? undefined : statusAt - c.t0,
        node: statusAt === undefined ? undefined : at - statusAt,
      };
    });
    const createMetrics = await reconcileMetrics();

    // Phase 2: Local Services with a ready endpoint here and on another node; then this node's endpoint goes.
    for (let i = 0; i < LATENCY_SERVICES; i++) {
      server.create('services', serviceObject(`loc-${i}`, { policy: 'Local' }));
      server.create('endpointslices', endpointSlice(`loc-${i}`, [NODE_NAME, OTHER_NODE]));
    }
    const locals = Array.from({ length: LATENCY_SERVICES }, (_, i) => `loc-${i}`);
    await until('every Local Service at the router', () => locals.every((n) => routeOf(n)), { ms: 120_000 });
    settled.push(await settle(server, daemon));
    const prefixes = new Map(locals.map((n) => [n, `${ipOf(n)}/32`]));
    const removed = [];
    const phase2 = phaseLoad(daemon);
    const withdrawStart = now();
    for (const [i, name] of locals.entries()) {
      if (PACE_MS > 0) await sleep(withdrawStart + i * PACE_MS - now());
      const t0 = now();
      server.patch('endpointslices', `${name}-bench`, { endpoints: endpointSlice(name, [OTHER_NODE]).endpoints });
      removed.push({ name, t0 });
      if (PACE_MS === 0)
        await until(`the withdrawal of ${name}`, () => (monitor.withdrawnAt.get(prefixes.get(name)) ?? 0) > t0, {
          ms: 30_000,
          everyMs: 1,
        });
    }
    await until(
      'every withdrawal at the router',
      () => removed.every((r) => (monitor.withdrawnAt.get(prefixes.get(r.name)) ?? 0) > r.t0),
      { ms: 120_000 },
    );
    const withdrawLoad = phase2.end();
    const withdraw = removed.map((r) => monitor.withdrawnAt.get(prefixes.get(r.name)) - r.t0);
    // With debug logs: when the daemon applied the k-th withdrawal ('routes changed' lines, in order).
    const applied = [];
    for (const l of daemon.logs) {
      if (l.msg !== 'routes changed' || !(l.withdrawn > 0) || Date.parse(l.time) < withdrawStart - 1) continue;
      for (let k = 0; k < l.withdrawn; k++) applied.push(Date.parse(l.time));
    }
    const appliedAfter = applied.length === removed.length ? removed.map((r, k) => applied[k] - r.t0) : undefined;
    const endMetrics = await reconcileMetrics();
    const defined = (list) => list.filter((v) => v !== undefined);
    return {
      services: LATENCY_SERVICES,
      paceMs: PACE_MS,
      single: summary(single),
      create: {
        ...summary(create.map((c) => c.total)),
        allocator: summary(defined(create.map((c) => c.allocator))),
        node: summary(defined(create.map((c) => c.node))),
      },
      withdraw: { ...summary(withdraw), ...(appliedAfter ? { applied: summary(appliedAfter) } : {}) },
      series: {
        create: create.map((c) => round(c.total)),
        withdraw: withdraw.map(round),
        applied: appliedAfter?.map(round),
        appliedCount: applied.length,
      },
      load: { create: createLoad, withdraw: withdrawLoad },
      settled,
      reconciles: { create: createMetrics, all: endMetrics },
      requests: writesIn(server.requests(), true),
      logs: logCounts(daemon),
      warnings: warnings(daemon),
      rssAfter: memory(daemon.pid).rss,
    };
  } finally {
    ingress?.stop();
    await daemon.stop();
    await rig.stop();
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Full reconcile after a restart, then idle

/** The same routes from a bare Speaker (no Kubernetes, process already running) to the same routers. */
async function bareSpeakerFloor(routers, count) {
  const speaker = new Speaker({ localAs: OUR_AS, bgpId: HOST_V4 });
  for (let i = 0; i < count; i++) speaker.announce(`${v6Vip(i)}/128`, {});
  const t0 = now();
  routers.forEach((r, i) =>
    speaker.addPeer(peerName(i), { peerAddress: r.address, peerAs: ROUTER_AS, families: ['ipv6-unicast'] }),
  );
  const { full } = await whenRibsHold(routers, count);
  const ms = Math.max(...full) - t0;
  await speaker.stop();
  for (const r of routers)
    await until(`router ${r.address} to drop the bare Speaker's routes`, async () => (await r.api.prefixes(6)) === 0, {
      ms: 60_000,
      everyMs: 50,
    });
  // gobgpd refuses connections while its neighbor is Idle; the daemon must find it waiting (Active).
  for (const r of routers)
    await until(`router ${r.address} to wait for a session again`, () => neighborState(r) === 'active', {
      ms: 60_000,
      everyMs: 100,
    });
  return ms;
}

async function reconcile(ns) {
  const count = RECONCILE_SERVICES;
  const rig = await startRouters(ns, Array(RECONCILE_PEERS).fill(6), { monitor: false });
  const routers = rig.routers;
  const server = await startCluster({
    pools: [{ name: 'bench-v6', addresses: ['2001:db8:5::/112'] }],
    peerAddresses: routers.map((r) => r.address),
  });
  const peers = routers.map((_, i) => peerName(i));
  let daemon;
  try {
    const loadStart = now();
    preloadServices(
      server,
      Array.from({ length: count }, (_, i) =>
        serviceObject(`svc-${i}`, { family: 6, ip: v6Vip(i), pool: 'bench-v6', peers }),
      ),
    );
    const loadMs = now() - loadStart;
    const floorMs = process.env.BENCH_REFERENCE === 'skip' ? undefined : await bareSpeakerFloor(routers, count);

    server.clearRequests();
    const requests = followRequests(server);
    daemon = startDaemon(server.url, { node: DAEMON_NODE, nodeArgs: DAEMON_NODE_ARGS, logLevel: DAEMON_LOG_LEVEL });
    const t0 = daemon.spawnedAt;
    const { first, full: done } = await diagnosed(
      whenRibsHold(routers, count, { check: () => alive(daemon) }),
      daemon,
      routers,
    );
    requests.stop();
    const doneAt = Math.max(...done);
    const log = (msg) =>
      daemon.logTime(daemon.log((l) => l.msg === msg || (typeof l.msg === 'string' && l.msg.startsWith(msg))));
    const established = daemon.logs.filter((l) => l.event === 'established').map((l) => Date.parse(l.time));
    const firstRequest = requests.seen[0]?.at;
    const servicesList = requests.seen.find((r) => r.resource === 'services' && r.verb === 'list')?.at;
    const writesDuring = writesIn(requests.seen.filter((r) => r.at <= doneAt));
    const breakdown = {
      firstRequestMs: firstRequest && firstRequest - t0,
      servicesListedMs: servicesList && servicesList - t0,
      configAcceptedMs: log('configuration accepted') - t0,
      peersAddedMs: log('BGP peers changed') - t0,
      establishedMs: established.length ? Math.max(...established) - t0 : undefined,
      firstRouteMs: Math.min(...first) - t0,
      lastRouteMs: doneAt - t0,
      perRouterMs: done.map((d) => round(d - t0)),
    };
    const reconciles = await reconcileMetrics();
    const settleMs = await settle(server, daemon);
    const allWrites = writesIn(server.requests());
    server.clearRequests();
    const idle = await idleWithGc(daemon.pid);
    const idleRequests = writesIn(server.requests());
    return {
      logs: logCounts(daemon),
      warnings: warnings(daemon),
      services: count,
      peers: routers.length,
      loadMs,
      floorMs,
      totalMs: doneAt - t0,
      breakdown,
      writesDuring,
      allWrites,
      reconciles,
      settleMs,
      idle,
      idleRequests,
      idleRequestCount: server.requests().length,
    };
  } finally {
    await daemon?.stop();
    await rig.stop();
    await server.stop();
  }
}

// ---------------------------------------------------------------------------------------------
// Idle small cluster: 20 Services, 2 peers; with `bfd`, every peer runs BFD (SMALL_BFD) too

/**
 * The routers' side of BFD: gobgpd has none, so our own engine (bench/bfd-engine.js, another process
 * in the router namespace, its CPU not counted) runs one session from each router's address to our node.
 */
async function bfdPeers(ns, routers) {
  const profile = {
    name: 'bench',
    transmitInterval: SMALL_BFD.intervalMs,
    receiveInterval: SMALL_BFD.intervalMs,
    detectMultiplier: SMALL_BFD.detectMultiplier,
  };
  return startEngine(ns, {
    sessions: routers.map((r) => ({ peerAddress: HOST_V4, localAddress: r.address, profile })),
  });
}

async function idle(ns, { bfd = false } = {}) {
  const rig = await startRouters(ns, Array(SMALL_PEERS).fill(4), { monitor: false });
  const routers = rig.routers;
  const server = await startCluster({
    pools: [{ name: 'bench', addresses: ['198.51.100.0/24'] }],
    peerAddresses: routers.map((r) => r.address),
    bfd: bfd ? SMALL_BFD : undefined,
  });
  const peers = routers.map((_, i) => peerName(i));
  let daemon;
  let bfdPeer;
  try {
    if (bfd) bfdPeer = await bfdPeers(ns, routers);
    preloadServices(
      server,
      Array.from({ length: SMALL_SERVICES }, (_, i) =>
        serviceObject(`svc-${i}`, { ip: v4Vip(i), pool: 'bench', peers }),
      ),
    );
    daemon = startDaemon(server.url, { node: DAEMON_NODE, nodeArgs: DAEMON_NODE_ARGS, logLevel: DAEMON_LOG_LEVEL });
    await diagnosed(
      whenRibsHold(routers, SMALL_SERVICES, { everyMs: 100, check: () => alive(daemon) }),
      daemon,
      routers,
    );
    if (bfdPeer)
      await until(
        'BFD Up with every router',
        () => (alive(daemon), bfdPeer.failure() === undefined && bfdPeer.upCount() === routers.length),
        { ms: 30_000, everyMs: 50 },
      );
    const settleMs = await settle(server, daemon);
    const gcSettleMs = await settleGc();
    server.clearRequests();
    const changesBefore = bfdPeer?.changes.length ?? 0;
    const window = await idleWithGc(daemon.pid);
    const bfdResult = bfdPeer && {
      ...SMALL_BFD,
      sessions: routers.length,
      upAtEnd: bfdPeer.upCount(),
      changesInWindow: bfdPeer.changes.length - changesBefore,
      packetsIn: (await bfdPeer.request('metrics')).packetsIn,
    };
    if (bfdResult && (bfdResult.upAtEnd !== routers.length || bfdResult.changesInWindow !== 0))
      throw new Error(`BFD did not stay Up through the idle window: ${JSON.stringify(bfdResult)}`);
    return {
      logs: logCounts(daemon),
      warnings: warnings(daemon),
      services: SMALL_SERVICES,
      peers: routers.length,
      bfd: bfdResult,
      settleMs,
      gcSettleMs,
      idle: window,
      idleRequestCount: server.requests().length,
      idleRequests: writesIn(server.requests()),
    };
  } finally {
    await daemon?.stop();
    await bfdPeer?.exit();
    await rig.stop();
    await server.stop();
  }
}

const EXPERIMENTS = { latency, reconcile, idle, 'idle-bfd': (ns) => idle(ns, { bfd: true }) };
const daemonNodeVersion = () => execFileSync(DAEMON_NODE, ['--version'], { encoding: 'utf8' }).trim();

async function main([name, ns]) {
  const run = EXPERIMENTS[name];
  if (!run || !ns)
    throw new Error(`usage: node bench/k8s-experiments.js ${Object.keys(EXPERIMENTS).join('|')} <router-namespace>`);
  const result = { ...(await run(ns)), daemonNode: daemonNodeVersion() };
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
}

// On SIGTERM or SIGINT, exit through process.exit so that the children (daemon, routers) are killed.
for (const [signal, n] of [
  ['SIGTERM', 15],
  ['SIGINT', 2],
])
  process.on(signal, () => process.exit(128 + n));

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    process.stdout.write(
      `${RESULT_MARK}${JSON.stringify({ error: err instanceof Error ? err.message : String(err) })}\n`,
    );
    process.exit(1);
  },
);
