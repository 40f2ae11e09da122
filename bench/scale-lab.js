// The experiment of bench/scale.js: the lab (packages/cli/src/lab, built) with N nodes, gobgpd as the
// router, each node a network namespace running `bgp-announce daemon` against the lab's in-repo API
// server (in this process, so its request log is read directly). What it measures:
// - idle: every request each node's daemon made in a window with no change, told apart by the
//   User-Agent the daemons send (`bgp-announce/<version> (<node>)`), leader and non-leaders apart;
//   and the watches open per node, which sets the steady rate (each watch is re-opened when its
//   timeoutSeconds, a random 5-10 minutes as client-go, runs out);
// - one Service taken through five changes (created, Cluster -> Local, an endpoint moved to another
//   node, a node excluded with the exclude-from-external-load-balancers label, deleted), each waited
//   for at the router, then until the API server saw no request for QUIET_MS: the writes to each
//   Service object, to the per-node BGPNodeStates (by node) and the others (Events, Leases);
// - Services created one after another: API create call -> the first path at gobgpd (its `monitor
//   global rib` stream, no polling) and -> the route from every node (gobgpd's RIB, read every 50 ms).
// Addresses: the lab's (192.0.2.0/24 fabric, 198.51.100.0/24 pods and cluster IPs, the VIP pool the
// lab configures), all in namespaces the lab creates and removes.
import { spawn } from 'node:child_process';
import { endpointSliceObject, serviceObject, APP_NAMESPACE } from '../packages/cli/dist/lab/cluster.js';
import { startLab, labLogs } from '../packages/cli/dist/lab/lab.js';
import { eachLine, leaseHolder, now, percentile, until } from './k8s-rig.js';

const LB_CLASS = 'bgp-announce.io/bgp';
const EXCLUDE = 'node.kubernetes.io/exclude-from-external-load-balancers';
const ANNOUNCED = 'bgp-announce.io/Announced';
const CONFIG_NAMESPACE = 'bgp-announce';
const POOL_ANNOTATION = 'bgp-announce.io/address-pool';
/** The latency Services' pool (the lab's own is 203.0.113.0/28). */
const LATENCY_POOL = '203.0.113.128/25';
/** A change is over when the API server has seen no request for this long (node states are written at most once a second). */
const QUIET_MS = 3000;
const WRITE_VERBS = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** The node a request came from, read off its User-Agent (`bgp-announce/0.1.0 (node-7)`), or undefined. */
export function nodeOfRequest(r) {
  return /^bgp-announce\/\S+ \(([^)]+)\)/.exec(r.userAgent ?? '')?.[1];
}

const isWrite = (r) => r.verb !== undefined && WRITE_VERBS.has(r.verb);
const keyOf = (r) => `${r.verb} ${r.resource}${r.subresource ? `/${r.subresource}` : ''}`;

function countBy(list, key) {
  const out = {};
  for (const x of list) {
    const k = key(x);
    out[k] = (out[k] ?? 0) + 1;
  }
  return out;
}

/** Resolves once the API server has answered no request for QUIET_MS; with how long that took. */
async function quiet(server, maxMs = 60_000) {
  const started = now();
  let count = server.requests().length;
  let since = now();
  while (now() - since < QUIET_MS) {
    if (now() - started > maxMs) throw new Error(`the API server never went quiet for ${QUIET_MS} ms in ${maxMs} ms`);
    await sleep(100);
    const c = server.requests().length;
    if (c !== count) {
      count = c;
      since = now();
    }
  }
  return now() - started - QUIET_MS;
}

/** `gobgp monitor global rib -j` in the router's namespace: when each prefix was first seen, and by which peers. */
function startMonitor(namespace) {
  const proc = spawn('ip', ['netns', 'exec', namespace, 'gobgp', 'monitor', 'global', 'rib', '-j'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const firstAt = new Map();
  let errors = '';
  proc.stderr.setEncoding('utf8');
  proc.stderr.on('data', (c) => (errors += c));
  eachLine(proc.stdout, (line) => {
    const at = now();
    if (!line.startsWith('[')) return;
    for (const path of JSON.parse(line)) {
      const prefix = path.nlri?.prefix;
      if (prefix !== undefined && !path.withdrawal && !firstAt.has(prefix)) firstAt.set(prefix, at);
    }
  });
  return {
    firstAt,
    errors: () => errors,
    running: () => proc.exitCode === null && proc.signalCode === null,
    stop: () => proc.kill('SIGTERM'),
  };
}

/**
 * Runs the experiment with `nodes` nodes. idleMs: the idle window; latencyServices: Services created
 * one after another for the latency figures. Resolves with plain data (see bench/scale.js).
 */
export async function runScale({ nodes, idleMs, latencyServices, say = () => {} }) {
  const started = now();
  const lab = await startLab({ peer: 'gobgp', nodes, bfd: false }, { say });
  let monitor;
  // Interrupted (Ctrl-C, or the runner killed): the lab's namespaces and daemons go too.
  const interrupted = (signal) => {
    monitor?.stop();
    lab.stop().finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);
  try {
    const api = lab.cluster.server;
    const names = lab.plan.nodes.map((n) => n.name);
    const addressOf = Object.fromEntries(lab.plan.nodes.map((n) => [n.name, n.address]));
    const rtr = lab.plan.router.namespace;
    const report = await lab.settle(180_000);
    if (!report.ok) throw new Error(`the lab did not settle with ${nodes} nodes:\n${labLogs(lab)}`);
    const settledMs = now() - started;
    const firstQuietMs = await quiet(api);

    // --- idle
    const leader = leaseHolder(api);
    // The watches each node holds: the distinct collections (with selectors) it has watched so far.
    const watched = new Map(names.map((n) => [n, new Set()]));
    for (const r of api.requests())
      if (r.verb === 'watch')
        watched
          .get(nodeOfRequest(r))
          ?.add(`${r.resource} ${r.namespace ?? ''} ${r.query.fieldSelector ?? ''} ${r.query.labelSelector ?? ''}`);
    const watchesPerNonLeader = Math.max(0, ...names.filter((n) => n !== leader).map((n) => watched.get(n).size));
    const idleFrom = api.requests().length;
    const idleStart = now();
    await sleep(idleMs);
    const idleSeconds = (now() - idleStart) / 1000;
    const idleRequests = api.requests().slice(idleFrom);
    const perNode = Object.fromEntries(names.map((n) => [n, 0]));
    for (const r of idleRequests) {
      const n = nodeOfRequest(r);
      if (n !== undefined) perNode[n] = (perNode[n] ?? 0) + 1;
    }
    const perMinute = (count) => (count * 60) / idleSeconds;
    const nonLeaders = names.filter((n) => n !== leader).map((n) => perMinute(perNode[n]));
    const idle = {
      seconds: idleSeconds,
      leader,
      leaderPerMinute: perMinute(perNode[leader] ?? 0),
      nonLeaderMean: nonLeaders.reduce((a, b) => a + b, 0) / Math.max(1, nonLeaders.length),
      nonLeaderMax: Math.max(0, ...nonLeaders),
      watchesPerNonLeader,
      byKind: countBy(idleRequests, keyOf),
      unattributed: idleRequests.filter((r) => nodeOfRequest(r) === undefined).length,
    };

    // --- one Service through five changes
    monitor = startMonitor(rtr);
    const hops = async (prefix) => (await lab.router.route(prefix)).nextHops;
    const sameHops = (want) => async (prefix) => {
      const got = await hops(prefix);
      return got.length === want.length && want.every((a) => got.includes(a)) ? got : undefined;
    };
    const vipOf = (name) => api.get('services', name, APP_NAMESPACE)?.status?.loadBalancer?.ingress?.[0]?.ip;
    const announcedOf = (name) =>
      api.get('services', name, APP_NAMESPACE)?.status?.conditions?.find((c) => c.type === ANNOUNCED)?.message;
    const port = { name: 'http', port: 80, protocol: 'TCP' };
    const svc = (name, policy = 'Cluster') => ({
      name,
      namespace: APP_NAMESPACE,
      loadBalancerClass: LB_CLASS,
      externalTrafficPolicy: policy,
      port,
    });
    const slice = (name, on) => endpointSliceObject(svc(name), on, lab.plan);
    const changes = [];
    /** Does `change`, waits for `done`, then for quiet; records the writes made meanwhile. */
    const measure = async (what, change, done) => {
      const from = api.requests().length;
      const t0 = now();
      await change();
      await until(what, done, { ms: 60_000, everyMs: 50 });
      const ms = now() - t0;
      await quiet(api);
      const writes = api.requests().slice(from).filter(isWrite);
      const serviceWrites = writes.filter((r) => r.resource === 'services' && r.verb !== 'create');
      const perService = countBy(serviceWrites, (r) => `${r.namespace}/${r.name}`);
      const stateWrites = writes.filter((r) => r.resource === 'bgpnodestates');
      const stateByNode = countBy(stateWrites, (r) => r.name);
      changes.push({
        what,
        ms,
        serviceWrites: perService,
        serviceWriteKinds: countBy(serviceWrites, keyOf),
        maxPerService: Math.max(0, ...Object.values(perService)),
        nodeStateWrites: stateWrites.length,
        nodeStateNodes: Object.keys(stateByNode).length,
        maxPerNodeState: Math.max(0, ...Object.values(stateByNode)),
        other: countBy(
          writes.filter((r) => r.resource !== 'services' && r.resource !== 'bgpnodestates'),
          keyOf,
        ),
      });
    };
    const two = names.slice(0, Math.min(2, nodes));
    const moved = nodes >= 3 ? [names[0], names[2]] : two;
    let vip;
    await measure(
      'created (Cluster, endpoints on two nodes)',
      () => {
        api.create('endpointslices.discovery.k8s.io', slice('probe', two));
        api.create('services', serviceObject(svc('probe')));
      },
      async () => {
        vip = vipOf('probe');
        return (
          vip &&
          (await sameHops(names.map((n) => addressOf[n]))(`${vip}/32`)) &&
          announcedOf('probe')?.includes(`by ${nodes} node`)
        );
      },
    );
    await measure(
      'externalTrafficPolicy Cluster -> Local',
      () => api.patch('services', 'probe', { spec: { externalTrafficPolicy: 'Local' } }, APP_NAMESPACE),
      () => sameHops(two.map((n) => addressOf[n]))(`${vip}/32`),
    );
    await measure(
      'an endpoint moved to another node',
      () =>
        api.patch(
          'endpointslices.discovery.k8s.io',
          'probe-lab',
          { endpoints: slice('probe', moved).endpoints },
          APP_NAMESPACE,
        ),
      () => sameHops(moved.map((n) => addressOf[n]))(`${vip}/32`),
    );
    const excluded = moved[0];
    const left = moved.filter((n) => n !== excluded);
    await measure(
      `a node excluded (${EXCLUDE})`,
      () => api.patch('nodes', excluded, { metadata: { labels: { [EXCLUDE]: '' } } }),
      () => sameHops(left.map((n) => addressOf[n]))(`${vip}/32`),
    );
    await measure(
      'deleted',
      () => api.delete('services', 'probe', APP_NAMESPACE),
      async () => api.get('services', 'probe', APP_NAMESPACE) === undefined && (await hops(`${vip}/32`)).length === 0,
    );
    api.patch('nodes', excluded, { metadata: { labels: { [EXCLUDE]: null } } });
    api.delete('endpointslices.discovery.k8s.io', 'probe-lab', APP_NAMESPACE);
    await quiet(api);

    // --- Service created -> route at the router, one after another, from a pool of their own (the
    // lab's holds 16 addresses)
    if (latencyServices > 120)
      throw new Error(`at most 120 latency Services (the bench's pool is a /25), got ${latencyServices}`);
    api.create('ipaddresspools.bgp-announce.io', {
      apiVersion: 'bgp-announce.io/v1alpha1',
      kind: 'IPAddressPool',
      metadata: { name: 'scale-bench', namespace: CONFIG_NAMESPACE },
      spec: { addresses: [LATENCY_POOL], avoidBuggyIPs: true },
    });
    await quiet(api);
    const all = names.map((n) => addressOf[n]).sort();
    const first = [];
    const every = [];
    for (let i = 0; i < latencyServices; i++) {
      const name = `lat-${i}`;
      api.create('endpointslices.discovery.k8s.io', slice(name, names));
      const t0 = now();
      const object = serviceObject(svc(name));
      object.metadata.annotations = { [POOL_ANNOTATION]: 'scale-bench' };
      api.create('services', object);
      const ip = await until(`${name}'s address`, () => vipOf(name), { ms: 30_000, everyMs: 5 });
      const prefix = `${ip}/32`;
      const complete = await until(`${name}'s route from every node`, () => sameHops(all)(prefix), {
        ms: 60_000,
        everyMs: 50,
      }).then(() => now());
      const seen = await until(`${name} in the monitor stream`, () => monitor.firstAt.get(prefix), { ms: 10_000 });
      first.push(seen - t0);
      every.push(complete - t0);
    }
    const spread = (v) => ({ n: v.length, p50: percentile(v, 50), p99: percentile(v, 99), max: Math.max(...v) });

    return {
      nodes,
      settledMs,
      firstQuietMs,
      idle,
      changes,
      latency: { first: spread(first), every: spread(every) },
      daemonsRunning: lab.daemons.filter((d) => d.process.running()).length,
    };
  } catch (err) {
    err.message = `${err.message}\n${labLogs(lab, 8)}`;
    throw err;
  } finally {
    process.off('SIGINT', interrupted);
    process.off('SIGTERM', interrupted);
    monitor?.stop();
    const problems = await lab.stop();
    if (problems.length > 0) say(`teardown problems: ${problems.join('; ')}`);
  }
}
