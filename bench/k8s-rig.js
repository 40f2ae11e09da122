// Building blocks of the Kubernetes benchmarks (bench/k8s.js), used by bench/k8s-experiments.js inside
// the bench's host namespace: the in-repo test API server holding our configuration, Services and the
// node, the daemon as a child process (so its RSS and CPU can be read from /proc/<pid>), and small
// helpers (processes, polling, percentiles, /proc readings). The routers are in bench/k8s-routers.js.
//
// Addresses are documentation addresses only: our node 192.0.2.10 and 2001:db8::10, the routers
// 192.0.2.1-4 and 2001:db8::1-4, VIPs from 198.51.100.0/24, 203.0.113.0/24 and 2001:db8:5::/112. The
// test API server needs a service cluster IP range of more than 5,000 addresses; it gets
// 198.18.0.0/16 (RFC 2544's benchmarking range): cluster IPs are only strings in its in-memory store.
import { execFileSync, spawn } from 'node:child_process';
import { get as httpGet } from 'node:http';
import { readFileSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { start as startTestApiServer } from '@bgp-announce/test-apiserver';
import { NodeStateIndex } from '@bgp-announce/announcer';

export const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'packages', 'cli', 'bin', 'bgp-announce.js');
export const NODE_NAME = 'bench-node';
export const OTHER_NODE = 'other-node';
export const CONFIG_NAMESPACE = 'bgp-announce';
export const LB_CLASS = 'bgp-announce.io/bgp';
export const OUR_AS = 64496;
export const ROUTER_AS = 64497;
export const HOST_V4 = '192.0.2.10';
export const HOST_V6 = '2001:db8::10';
const CRD_VERSION = 'bgp-announce.io/v1alpha1';
const CLEANUP_FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';

/** Wall-clock milliseconds with sub-millisecond resolution (the one clock of every timestamp here). */
export const now = () => performance.timeOrigin + performance.now();

const children = new Set();
/** Directories removed when this process exits. */
export const scratch = [];
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

/** Registers a child process to be killed when this process exits. */
export function track(proc) {
  children.add(proc);
  proc.once('exit', () => children.delete(proc));
  return proc;
}

/** SIGTERM, then SIGKILL after `ms`; resolves once the process has exited. */
export async function stopProcess(proc, ms = 3000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  const timer = setTimeout(() => proc.kill('SIGKILL'), ms);
  await exited;
  clearTimeout(timer);
}

/** Calls each line of a stream's text, whole lines only. */
export function eachLine(stream, fn) {
  let rest = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk) => {
    const lines = (rest + chunk).split('\n');
    rest = lines.pop();
    for (const line of lines) fn(line);
  });
}

/** An error that ends until() at once instead of being retried. */
export class FatalError extends Error {}

/** Polls fn (a value or undefined, maybe async) every `everyMs` until it gives a value; rejects after ms. */
export async function until(what, fn, { ms = 60_000, everyMs = 20 } = {}) {
  const deadline = Date.now() + ms;
  let lastError;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      if (err instanceof FatalError) throw err;
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(
        `timed out after ${ms} ms waiting for ${what}${lastError ? `: ${lastError.message ?? lastError}` : ''}`,
      );
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}

/** The value at percentile p (0-100) of a list, nearest rank. */
export function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
}

// ---------------------------------------------------------------------------------------------
// The cluster: test API server, our configuration, the node, Services

/**
 * Starts the test API server in this process with our namespace, this node (Ready, InternalIP
 * 192.0.2.10), one IPAddressPool per entry of `pools` ({ name, addresses }), one BGPPeer per router
 * address (named rtr-1, rtr-2, ...) and one BGPAdvertisement for every pool and peer. With `bfd`
 * ({ intervalMs, detectMultiplier }), a BFDProfile `bench-bfd` that every BGPPeer names.
 */
export async function startCluster({ pools, peerAddresses, bfd }) {
  const server = await startTestApiServer({ serviceClusterIPRange: '198.18.0.0/16' });
  server.create('namespaces', { metadata: { name: CONFIG_NAMESPACE } });
  server.create('nodes', {
    metadata: { name: NODE_NAME, labels: { 'kubernetes.io/hostname': NODE_NAME } },
    status: {
      addresses: [
        { type: 'InternalIP', address: HOST_V4 },
        { type: 'InternalIP', address: HOST_V6 },
      ],
      conditions: [{ type: 'Ready', status: 'True' }],
    },
  });
  const crd = (kind, name, spec) => ({
    apiVersion: CRD_VERSION,
    kind,
    metadata: { name, namespace: CONFIG_NAMESPACE },
    spec,
  });
  for (const p of pools) server.create('ipaddresspools', crd('IPAddressPool', p.name, { addresses: p.addresses }));
  if (bfd)
    server.create(
      'bfdprofiles',
      crd('BFDProfile', BFD_PROFILE, {
        receiveInterval: bfd.intervalMs,
        transmitInterval: bfd.intervalMs,
        detectMultiplier: bfd.detectMultiplier,
      }),
    );
  const bfdProfile = bfd ? { bfdProfile: BFD_PROFILE } : {};
  for (const [i, address] of peerAddresses.entries()) {
    server.create(
      'bgppeers',
      crd('BGPPeer', peerName(i), { myASN: OUR_AS, peerASN: ROUTER_AS, peerAddress: address, ...bfdProfile }),
    );
  }
  server.create('bgpadvertisements', crd('BGPAdvertisement', 'all', {}));
  return server;
}

/** The BFDProfile of startCluster's `bfd`. */
export const BFD_PROFILE = 'bench-bfd';

/** Name of the BGPPeer for router i. */
export const peerName = (i) => `rtr-${i + 1}`;

/**
 * A LoadBalancer Service of our class in namespace default. With `ip`, it is as our daemon leaves it
 * (as after a restart): the address in status.loadBalancer.ingress, the cleanup finalizer, the
 * allocator's IPAllocated condition and the leader's Announced condition (this node announcing it to
 * `peers`, worded by the daemon's own code, so that the restarted leader finds nothing to rewrite).
 */
export function serviceObject(name, { policy = 'Cluster', family = 4, ip, pool, peers = [] } = {}) {
  const svc = {
    metadata: { name, namespace: 'default', labels: { app: name } },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: LB_CLASS,
      externalTrafficPolicy: policy,
      allocateLoadBalancerNodePorts: false,
      ipFamilies: [family === 4 ? 'IPv4' : 'IPv6'],
      ipFamilyPolicy: 'SingleStack',
      selector: { app: name },
      ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
    },
  };
  if (ip === undefined) return svc;
  const at = '2026-01-01T00:00:00Z';
  svc.metadata.finalizers = [CLEANUP_FINALIZER];
  svc.status = {
    loadBalancer: { ingress: [{ ip, ipMode: 'VIP' }] },
    conditions: [
      {
        type: 'bgp-announce.io/IPAllocated',
        status: 'True',
        reason: 'Allocated',
        message: `${ip} from pool ${pool}`,
        lastTransitionTime: at,
      },
      { ...announcedCondition(`default/${name}`, ip, peers), lastTransitionTime: at },
    ],
  };
  return svc;
}

/** The Announced condition of a Service that this node alone announces to `peers`. */
function announcedCondition(key, ip, peers) {
  const index = new NodeStateIndex();
  index.set(NODE_NAME, { announced: [{ service: key, addresses: [ip], peers }], notAnnounced: [], unlisted: 0 });
  return index.aggregate(key, [ip]);
}

/** An EndpointSlice of Service `name` with one ready endpoint on each of `nodes`. */
export function endpointSlice(name, nodes) {
  return {
    metadata: { name: `${name}-bench`, namespace: 'default', labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    endpoints: nodes.map((nodeName, i) => ({
      addresses: [`192.0.2.${100 + i}`],
      nodeName,
      conditions: { ready: true, serving: true, terminating: false },
    })),
  };
}

/**
 * Creates a Service of our class with its EndpointSlice first (one ready endpoint on OTHER_NODE): a
 * Cluster Service with no serving endpoint anywhere is withdrawn, as MetalLB does, so every Service
 * the benches time needs one. Returns once both are stored (the Service last, so a timer started
 * just before this call measures the Service's path).
 */
export function createService(server, name, options = {}) {
  server.create('endpointslices', endpointSlice(name, [OTHER_NODE]));
  return server.create('services', serviceObject(name, options));
}

/**
 * Creates many Services at once with their status (and, for Cluster ones, an EndpointSlice with a ready
 * endpoint on OTHER_NODE), untimed (the state a restarted daemon finds). The test API server
 * checks every Service write against a copy of every other stored Service (cluster IPs, node ports),
 * which makes loading 5,000 of them quadratic (minutes); while loading, the check is given no other
 * Services, and each Service brings its own distinct cluster IP and no node ports instead.
 */
export function preloadServices(server, objects) {
  const store = server.state?.ctx?.store;
  if (!store || typeof store.list !== 'function')
    throw new Error('preloadServices: this build of the test API server has no state.ctx.store');
  const list = store.list;
  store.list = function (resource, namespace) {
    return resource === 'core/v1/services' ? [] : list.call(this, resource, namespace);
  };
  try {
    objects.forEach((o, i) => {
      // Cluster Services need a serving endpoint somewhere to be announced.
      if (o.spec.externalTrafficPolicy !== 'Local')
        server.create('endpointslices', endpointSlice(o.metadata.name, [OTHER_NODE]));
      server.create('services', { ...o, spec: { ...o.spec, clusterIP: `198.18.${(i + 2) >> 8}.${(i + 2) & 255}` } });
      // create() resets a Service's status (as the real API server does on create), so it is set after.
      if (o.status) server.patch('services', o.metadata.name, { status: o.status }, o.metadata.namespace);
    });
  } finally {
    store.list = list;
  }
}

/** The holder of the allocator's Lease, if any. */
export function leaseHolder(server) {
  return server.get('leases.coordination.k8s.io', 'bgp-announce-allocator', CONFIG_NAMESPACE)?.spec?.holderIdentity;
}

/**
 * Follows the Services of namespace default through a watch on the API server (as any client would):
 * each one's first ingress address and when it first showed one (the moment the allocator's status
 * write was served). Polling the server's get() instead would copy objects on every look.
 */
export function watchIngress(server) {
  const firstIngressAt = new Map();
  const ipOf = new Map();
  const req = httpGet(
    `${server.url}/api/v1/namespaces/default/services?watch=true&resourceVersion=${server.resourceVersion()}`,
    (res) =>
      eachLine(res, (line) => {
        const at = now();
        const o = JSON.parse(line).object;
        const name = o?.metadata?.name;
        const ip = o?.status?.loadBalancer?.ingress?.[0]?.ip;
        if (name === undefined || ip === undefined) return;
        ipOf.set(name, ip);
        if (!firstIngressAt.has(name)) firstIngressAt.set(name, at);
      }),
  );
  req.on('error', () => undefined);
  return { firstIngressAt, ipOf, stop: () => req.destroy() };
}

// ---------------------------------------------------------------------------------------------
// The daemon

/**
 * Starts `bgp-announce daemon` against the test API server as a child process of this one (so in this
 * namespace), with default addresses (metrics 0.0.0.0:7475, admin 127.0.0.1:7474) and the BFD engine
 * as in production. Every JSON log line is kept with the time this process read it.
 */
export function startDaemon(url, { node = process.execPath, nodeArgs = [], logLevel = 'info' } = {}) {
  const spawnedAt = now();
  const proc = track(
    spawn(
      node,
      [
        ...nodeArgs,
        CLI,
        'daemon',
        '--kube-url',
        url,
        '--node-name',
        NODE_NAME,
        '--namespace',
        CONFIG_NAMESPACE,
        '--router-id',
        HOST_V4,
        '--log-level',
        logLevel,
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    ),
  );
  const logs = [];
  let stderr = '';
  proc.stderr.on('data', (c) => (stderr += c));
  eachLine(proc.stdout, (line) => {
    if (!line.startsWith('{')) return;
    try {
      logs.push({ ...JSON.parse(line), readAt: now() });
    } catch {
      // a partial or foreign line
    }
  });
  return {
    proc,
    pid: proc.pid,
    spawnedAt,
    logs,
    stderr: () => stderr,
    /** The first log line matching, or undefined. */
    log: (test) => logs.find(test),
    /** Milliseconds of a log line's own `time` (ISO, ms resolution). */
    logTime: (line) => (line ? Date.parse(line.time) : undefined),
    alive: () => proc.exitCode === null && proc.signalCode === null,
    stop: () => stopProcess(proc, 10_000),
  };
}

// ---------------------------------------------------------------------------------------------
// /proc

const TICKS_PER_SECOND = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;

/** CPU time (user + system, all threads) of a process in ms, from /proc/<pid>/stat. */
export function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_SECOND; // utime, stime (fields 14 and 15)
}

/** VmRSS and VmHWM of a process in bytes, from /proc/<pid>/status. */
export function memory(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { rss: kb('VmRSS'), hwm: kb('VmHWM') };
}

/**
 * CPU time (ms) of each thread of a process by thread name, from /proc/<pid>/task/<tid>/schedstat (the
 * scheduler's own nanosecond count; /proc/<pid>/stat counts in clock ticks, which a thread that wakes
 * briefly many times a second is charged for unevenly).
 */
export function threadCpuMs(pid) {
  const out = {};
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const name = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const ns = Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      out[name] = (out[name] ?? 0) + ns / 1e6;
    } catch {
      // the thread ended meanwhile
    }
  }
  return out;
}

/**
 * Watches a process for `ms` with nothing changing: CPU % of one core over the window (from
 * /proc/<pid>/stat in clock ticks, and per thread from schedstat), RSS sampled every second (last,
 * highest) and VmHWM at the end.
 */
export async function idleWindow(pid, ms) {
  const startCpu = cpuMs(pid);
  const startThreads = threadCpuMs(pid);
  const start = now();
  const samples = [];
  while (now() - start < ms) {
    await new Promise((resolve) => setTimeout(resolve, Math.min(1000, ms - (now() - start))));
    samples.push(memory(pid).rss);
  }
  const elapsed = now() - start;
  const end = memory(pid);
  const threads = Object.fromEntries(
    Object.entries(threadCpuMs(pid))
      .map(([name, ms]) => [name, ms - (startThreads[name] ?? 0)])
      .filter(([, ms]) => ms > 0.05),
  );
  const schedMs = Object.values(threads).reduce((a, b) => a + b, 0);
  return {
    threads,
    schedMs,
    schedPercent: (schedMs / elapsed) * 100,
    windowMs: elapsed,
    cpuPercent: ((cpuMs(pid) - startCpu) / elapsed) * 100,
    cpuMs: cpuMs(pid) - startCpu,
    rss: end.rss,
    maxRss: Math.max(...samples, end.rss),
    hwm: end.hwm,
  };
}
