// The lab's Kubernetes: the in-repo test API server in the lab's own process (on the root namespace's
// loopback), carried onto the fabric at 192.0.2.100:6443 (a unix socket bridge here, a forwarder child
// in the API namespace), and the objects a small cluster would hold: our namespace and custom
// resources, one Node per lab node, and a few LoadBalancer Services with their EndpointSlices, one of
// another controller's class.
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { DEFAULT_LOAD_BALANCER_CLASS } from '@bgp-announce/announcer';
import { start as startApiServer, type TestApiServer } from '@bgp-announce/test-apiserver';
import { LAB_BFD, localEndpointNode, VIP_POOL, weightedEndpointNodes, type LabPlan } from './plan.js';
import { pipeConnections } from './pipe.js';
import { startProcess, type LabProcess } from './process.js';
import { GiveUp, waitFor } from './run.js';

/** Where our custom resources and the Lease live. */
export const CONFIG_NAMESPACE = 'bgp-announce';
/** Where the lab's Services live. */
export const APP_NAMESPACE = 'demo';
/** Another controller's class: Services of it must stay untouched. */
export const OTHER_CLASS = 'kube-vip.io/kube-vip-class';
/** Service cluster IPs: a documentation range, never routed. Pod addresses are the upper half of it. */
export const SERVICE_CLUSTER_IP_RANGE = '198.51.100.0/25';
const POD_NETWORK = '198.51.100';
const API_GROUP_VERSION = 'bgp-announce.io/v1alpha1';

/** One Service of the lab and where its endpoints are. */
export interface LabService {
  name: string;
  namespace: string;
  loadBalancerClass: string;
  externalTrafficPolicy: 'Cluster' | 'Local';
  port: { name: string; port: number; protocol: 'TCP' | 'UDP' };
  /** Nodes (names) holding a ready endpoint, a node once per endpoint. */
  endpointNodes: string[];
  /** Ours: of our class. */
  ours: boolean;
}

/**
 * The lab's Services: two Cluster, one Local (its endpoint on one node), one Cluster with no endpoint
 * at all (withdrawn by every node), one of another class; with --weighted also "weighted", Local, with
 * three endpoints on node-1 and one on each other node.
 */
export function labServices(plan: LabPlan): LabService[] {
  const all = plan.nodes.map((n) => n.name);
  const svc = (
    name: string,
    policy: 'Cluster' | 'Local',
    port: LabService['port'],
    endpointNodes: string[],
    loadBalancerClass = DEFAULT_LOAD_BALANCER_CLASS,
  ): LabService => ({
    name,
    namespace: APP_NAMESPACE,
    loadBalancerClass,
    externalTrafficPolicy: policy,
    port,
    endpointNodes,
    ours: loadBalancerClass === DEFAULT_LOAD_BALANCER_CLASS,
  });
  return [
    svc('web', 'Cluster', { name: 'http', port: 80, protocol: 'TCP' }, all),
    svc('dns', 'Cluster', { name: 'dns', port: 53, protocol: 'UDP' }, all.slice(0, 1)),
    svc('ingress', 'Local', { name: 'https', port: 443, protocol: 'TCP' }, [localEndpointNode(plan).name]),
    svc('idle', 'Cluster', { name: 'http', port: 8082, protocol: 'TCP' }, []),
    svc('other-class', 'Cluster', { name: 'http', port: 8080, protocol: 'TCP' }, all, OTHER_CLASS),
    ...(plan.weighted
      ? [svc('weighted', 'Local', { name: 'http', port: 8081, protocol: 'TCP' }, weightedEndpointNodes(plan))]
      : []),
  ];
}

/** A Service object of the lab. */
export function serviceObject(
  s: Pick<LabService, 'name' | 'namespace' | 'loadBalancerClass' | 'externalTrafficPolicy' | 'port'>,
): object {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: s.name, namespace: s.namespace, labels: { app: s.name } },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: s.loadBalancerClass,
      externalTrafficPolicy: s.externalTrafficPolicy,
      selector: { app: s.name },
      ports: [{ ...s.port, targetPort: s.port.port }],
    },
  };
}

/**
 * The EndpointSlice of a lab Service: one ready endpoint (a pod) per node named, a node named twice
 * holding two (none: an empty slice, as for a selector with no pod). A node's first pod has the address
 * 198.51.100.(128 + its index), further ones count down from 198.51.100.254.
 */
export function endpointSliceObject(
  s: Pick<LabService, 'name' | 'namespace' | 'port'>,
  nodes: readonly string[],
  plan: LabPlan,
): object {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: {
      name: `${s.name}-lab`,
      namespace: s.namespace,
      labels: { 'kubernetes.io/service-name': s.name, 'endpointslice.kubernetes.io/managed-by': 'bgp-announce-lab' },
    },
    addressType: 'IPv4',
    ports: [{ name: s.port.name, port: s.port.port, protocol: s.port.protocol }],
    endpoints: nodes.map((name, j) => {
      const i = plan.nodes.findIndex((n) => n.name === name);
      const earlier = nodes.slice(0, j).filter((n) => n === name).length;
      const extra = nodes.slice(0, j).filter((n, k) => nodes.indexOf(n) !== k).length;
      return {
        addresses: [`${POD_NETWORK}.${earlier === 0 ? 128 + (i < 0 ? 127 : i) : 254 - extra}`],
        targetRef: { kind: 'Pod', namespace: s.namespace, name: `${s.name}-${name}-${earlier}` },
        nodeName: name,
        conditions: { ready: true, serving: true, terminating: false },
      };
    }),
  };
}

/** Every object the lab creates, in creation order, as (resource, object) for the API server's create(). */
export function labObjects(plan: LabPlan): { resource: string; object: object }[] {
  const ours = (kind: string, plural: string, name: string, spec: object): { resource: string; object: object } => ({
    resource: `${plural}.bgp-announce.io`,
    object: { apiVersion: API_GROUP_VERSION, kind, metadata: { name, namespace: CONFIG_NAMESPACE }, spec },
  });
  const objects: { resource: string; object: object }[] = [
    { resource: 'namespaces', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: CONFIG_NAMESPACE } } },
    { resource: 'namespaces', object: { apiVersion: 'v1', kind: 'Namespace', metadata: { name: APP_NAMESPACE } } },
    ...plan.nodes.map((n) => ({
      resource: 'nodes',
      object: {
        apiVersion: 'v1',
        kind: 'Node',
        metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name, 'kubernetes.io/os': 'linux' } },
        status: {
          addresses: [
            { type: 'InternalIP', address: n.address },
            { type: 'Hostname', address: n.name },
          ],
          conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'bgp-announce lab node' }],
        },
      },
    })),
  ];
  if (plan.bfd) objects.push(ours('BFDProfile', 'bfdprofiles', 'lab', { ...LAB_BFD }));
  objects.push(
    ours('IPAddressPool', 'ipaddresspools', 'lab', { addresses: [VIP_POOL], avoidBuggyIPs: true }),
    ours('BGPPeer', 'bgppeers', 'router', {
      myASN: plan.nodes[0]?.asn,
      peerASN: plan.router.asn,
      peerAddress: plan.router.address,
      holdTime: '9s',
      connectTime: '1s',
      ...(plan.bfd ? { bfdProfile: 'lab' } : {}),
    }),
    ours('BGPAdvertisement', 'bgpadvertisements', 'all', plan.weighted ? { weightedECMP: {} } : {}),
  );
  for (const s of labServices(plan)) {
    objects.push({ resource: 'services', object: serviceObject(s) });
    objects.push({
      resource: 'endpointslices.discovery.k8s.io',
      object: endpointSliceObject(s, s.endpointNodes, plan),
    });
  }
  return objects;
}

/** The lab's Kubernetes API, running. */
export interface LabCluster {
  server: TestApiServer;
  /** The URL the daemons use (the forwarder on the fabric). */
  url: string;
  processes: LabProcess[];
  stop(): Promise<void>;
}

/** The built forwarder (npx tsc -b makes it). */
export function forwarderScript(): string {
  return fileURLToPath(new URL('../../dist/lab/forward.js', import.meta.url));
}

function listenUnix(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/**
 * Starts the API server on 127.0.0.1, the unix socket bridge to it in `workDir`, and the forwarder in
 * the API namespace; creates the lab's objects. Resolves once the API answers through the forwarder.
 */
export async function startCluster(plan: LabPlan, workDir: string): Promise<LabCluster> {
  const server = await startApiServer({ host: '127.0.0.1', serviceClusterIPRange: SERVICE_CLUSTER_IP_RANGE });
  const socketPath = join(workDir, 'api.sock');
  const bridge = pipeConnections(createServer(), () => createConnection({ host: '127.0.0.1', port: server.port }));
  const open = new Set<Socket>();
  bridge.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  const processes: LabProcess[] = [];
  const stop = async (): Promise<void> => {
    for (const p of processes) await p.stop();
    for (const socket of open) socket.destroy();
    await new Promise<void>((resolve) => bridge.close(() => resolve()));
    await server.stop();
  };
  try {
    await listenUnix(bridge, socketPath);
    const forwarder = startProcess(
      'forwarder',
      plan.api.namespace,
      process.execPath,
      [forwarderScript(), '--listen', `${plan.api.address}:${plan.api.port}`, '--unix', socketPath],
      join(workDir, 'forwarder.log'),
    );
    processes.push(forwarder);
    for (const { resource, object } of labObjects(plan)) server.create(resource, object);
    await waitFor(
      'the API forwarder to listen',
      async () => {
        if (!forwarder.running()) throw new GiveUp(`the API forwarder exited: ${forwarder.tail()}`);
        return forwarder.tail().includes('forwarding') ? true : undefined;
      },
      10_000,
      50,
    );
  } catch (err) {
    await stop();
    throw err;
  }
  return { server, url: `http://${plan.api.address}:${plan.api.port}`, processes, stop };
}
