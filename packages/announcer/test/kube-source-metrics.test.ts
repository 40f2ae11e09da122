// What the Kubernetes source hands the daemon's metrics: the configuration objects rejected, by kind
// (cleared once a configuration is accepted), and, once it leads, a reader of how many nodes announce
// each Service of our class that has an address; the pools' usage is taken back when the term ends. One real kubernetesSource against the in-repo API
// server.
import t from 'tap';
import pino from 'pino';
import { Speaker } from '@bgp-announce/bgp-speaker';
import { kubernetesSource } from '../src/kube/source.js';
import type { DaemonContext, ServiceAnnouncers } from '../src/daemon/source.js';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../src/service/model.js';
import { apiServer, daemonContext, until } from './helpers/kube-harness.js';

const NS = 'bgp-announce';
const G = 'bgp-announce.io/v1alpha1';

t.test('rejected objects by kind, and the announcing-nodes reader of the leader', async (t) => {
  const { server, kubeConfig } = await apiServer(t);
  for (const name of [NS, 'demo']) server.create('namespaces', { metadata: { name } });
  server.create('nodes', {
    metadata: { name: 'n1' },
    status: { addresses: [{ type: 'InternalIP', address: '192.0.2.1' }] },
  });
  server.create('ipaddresspools', {
    apiVersion: G,
    kind: 'IPAddressPool',
    metadata: { name: 'blue', namespace: NS },
    spec: { addresses: ['203.0.113.0/28'] },
  });
  // Advertised, to a peer that never answers: the nodes plan the Services and say why they are not announced.
  server.create('bgpadvertisements', {
    apiVersion: G,
    kind: 'BGPAdvertisement',
    metadata: { name: 'all', namespace: NS },
    spec: {},
  });
  server.create('bgppeers', {
    apiVersion: G,
    kind: 'BGPPeer',
    metadata: { name: 'tor', namespace: NS },
    spec: { myASN: 64496, peerASN: 64497, peerAddress: '127.0.0.1', peerPort: 1 },
  });
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  speaker.on('error', () => {});
  t.teardown(() => speaker.stop());
  const rejected: Readonly<Record<string, number>>[] = [];
  let read: (() => readonly ServiceAnnouncers[]) | undefined;
  const harness = daemonContext(speaker, pino({ level: 'silent' }), 'n1');
  const ctx: DaemonContext = {
    ...harness.ctx,
    setRejectedConfigObjects: (byKind) => void rejected.push(byKind),
    readAnnouncingNodes: (r) => void (read = r),
  };
  const source = kubernetesSource({ kubeConfig, namespace: NS, loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS });
  t.teardown(() => source.stop());
  await source.start(ctx);
  t.ok(read, 'the reader is registered at start');
  await until('the first configuration accepted', () => rejected.length > 0);
  t.same(rejected.at(-1), {}, 'accepted: nothing rejected');

  // Two bad BGPPeers and a bad pool: counted by kind, each object once however many problems it has.
  const peer = (name: string, peerASN: number) => ({
    apiVersion: G,
    kind: 'BGPPeer',
    metadata: { name, namespace: NS },
    spec: { myASN: -5, peerASN, peerAddress: '127.0.0.1', peerPort: 1 },
  });
  server.create('bgppeers', peer('bad-1', -1));
  server.create('bgppeers', peer('bad-2', 64497));
  server.create('ipaddresspools', {
    apiVersion: G,
    kind: 'IPAddressPool',
    metadata: { name: 'worse', namespace: NS },
    spec: { addresses: ['not an address'] },
  });
  await until('the rejection', () => (rejected.at(-1)?.BGPPeer ?? 0) > 0);
  t.same(rejected.at(-1), { BGPPeer: 2, IPAddressPool: 1 });
  for (const name of ['bad-1', 'bad-2']) server.delete('bgppeers', name, NS);
  server.delete('ipaddresspools', 'worse', NS);
  await until('accepted again', () => Object.keys(rejected.at(-1) ?? { x: 1 }).length === 0);

  // A Service of our class gets an address from the leader: it shows, with the nodes announcing it.
  server.create('endpointslices', {
    metadata: { name: 'web-1', namespace: 'demo', labels: { 'kubernetes.io/service-name': 'web' } },
    addressType: 'IPv4',
    endpoints: [{ addresses: ['198.51.100.10'], nodeName: 'n1', conditions: { ready: true } }],
  });
  server.create('services', {
    metadata: { name: 'web', namespace: 'demo' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
  const listed = await until('the Service in the reader', () => read?.().find((s) => s.service === 'web'), 15_000);
  t.match(listed, { namespace: 'demo', service: 'web' });
  t.type(listed.nodes, 'number');
  // A Cluster Service with no serving endpoint anywhere: withdrawn on purpose, so left out of the
  // metric (the not-announced alert is for VIPs that should be announced).
  server.create('services', {
    metadata: { name: 'idle', namespace: 'demo' },
    spec: {
      type: 'LoadBalancer',
      loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
      ports: [{ port: 80, protocol: 'TCP' }],
    },
  });
  const reportedIdle = () =>
    (
      server.get('bgpnodestates', 'n1', NS) as
        | { status?: { notAnnounced?: { service: string; reason: string }[] } }
        | undefined
    )?.status?.notAnnounced?.some((n) => n.service === 'demo/idle' && /no ready endpoint on any node/.test(n.reason));
  await until('n1 to report idle withdrawn for want of an endpoint', reportedIdle, 15_000);
  await until(
    'the leader to have read that report',
    () => {
      const idle = (
        server.get('services', 'idle', 'demo') as
          | { status?: { conditions?: { type: string; message?: string }[] } }
          | undefined
      )?.status?.conditions?.find((c) => c.type === 'bgp-announce.io/Announced');
      return idle?.message?.includes('no ready endpoint on any node');
    },
    15_000,
  );
  t.notOk(
    read?.().some((s) => s.service === 'idle'),
    'idle is not in the reader',
  );
  t.ok(
    read?.().some((s) => s.service === 'web'),
    'web still is',
  );
  server.delete('services', 'web', 'demo');
  await until('the Service gone from the reader', () => read?.().every((s) => s.service !== 'web'), 15_000);
  await source.stop();
  t.same(read?.(), [], 'stopped: not leading, nothing listed');
  t.ok(
    harness.poolUsage.some((u) => u.length > 0),
    'the leader published its pools',
  );
  t.same(harness.poolUsage.at(-1), [], 'and takes them back when its term ends');
});
