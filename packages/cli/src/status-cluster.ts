// `bgp-announce status --cluster`: the whole cluster through the Kubernetes API, with no exec into a
// pod (Talos has no shell): each node's BGPNodeState (its sessions, the Services it announces and why
// it does not announce the others) and each Service's Announced condition, as the leader aggregates
// it. The cluster is reached as `bgp-announce check` reaches it: --kubeconfig, --kube-url, else
// $KUBECONFIG, the pod's service account or ~/.kube/config. Loaded only for --cluster (it brings the
// Kubernetes client).
import {
  DEFAULT_LOAD_BALANCER_CLASS,
  KubeConnectError,
  loadKubeConfig,
  readClusterStatus,
  type ClusterStatus,
  type KubeConnectOptions,
  type NodeStateView,
  type ServiceStatusView,
} from '@bgp-announce/announcer';
import { UsageError } from './options.js';
import { formatDuration, table } from './status-output.js';

/** The options of `status --cluster`. */
export interface ClusterStatusCommandOptions {
  kubeconfig?: string;
  kubeUrl?: string;
  kubeContext?: string;
  /** Where the BGPNodeStates are (default: the pod's namespace in a cluster, else bgp-announce). */
  namespace?: string;
  /** Only this node's table. */
  node?: string;
  json?: boolean;
}

/** Where the BGPNodeStates are read when neither --namespace nor the pod's namespace says. */
export const DEFAULT_NAMESPACE = 'bgp-announce';

/** The cluster and the namespace to read. Throws UsageError. */
export function clusterSource(
  o: ClusterStatusCommandOptions,
  env: Record<string, string | undefined>,
): { kube: ReturnType<typeof loadKubeConfig>; namespace: string } {
  for (const [flag, value] of [
    ['--kubeconfig', o.kubeconfig],
    ['--kube-url', o.kubeUrl],
    ['--kube-context', o.kubeContext],
    ['--namespace', o.namespace],
    ['--node', o.node],
  ] as const) {
    if (value !== undefined && value.trim() === '') throw new UsageError(`${flag} must not be empty`);
  }
  if (o.kubeUrl !== undefined && o.kubeconfig !== undefined)
    throw new UsageError('--kube-url and --kubeconfig exclude each other');
  const connect: KubeConnectOptions = { env, ...(env.HOME ? { homeDir: env.HOME } : {}) };
  if (o.kubeconfig !== undefined) connect.kubeconfig = o.kubeconfig;
  if (o.kubeUrl !== undefined) connect.url = o.kubeUrl;
  if (o.kubeContext !== undefined) connect.context = o.kubeContext;
  let kube: ReturnType<typeof loadKubeConfig>;
  try {
    kube = loadKubeConfig(connect);
  } catch (err) {
    if (err instanceof KubeConnectError)
      throw new UsageError(`no cluster to read: ${err.message} (give --kubeconfig FILE or --kube-url URL)`);
    throw err;
  }
  const inPod = kube.source.startsWith('in-cluster') ? kube.namespace : undefined;
  return { kube, namespace: o.namespace ?? inPod ?? DEFAULT_NAMESPACE };
}

/** Reads the cluster view. */
export function readCluster(source: ReturnType<typeof clusterSource>): Promise<ClusterStatus> {
  return readClusterStatus(source.kube.kubeConfig, source.namespace, {
    serviceClass: { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, defaultLoadBalancer: false },
  });
}

const timeOf = (iso: string): string => iso.replace('T', ' ').replace(/(\.\d+)?Z$/, '');

/** "5m07s" since an RFC 3339 time, or the time itself when `now` is before it. */
function since(iso: string | undefined, now: number): string {
  if (iso === undefined) return '-';
  const ms = now - Date.parse(iso);
  return Number.isFinite(ms) && ms >= 0 ? formatDuration(ms / 1000) : timeOf(iso);
}

/** One node: its sessions, then its Services announced (to which peers) and not (why). */
export function formatNode(n: NodeStateView, now: number): string[] {
  const lines = [
    `${n.node}: ${n.sessionsEstablished}/${n.sessionsTotal} sessions Established, ${n.servicesAnnounced} Services announced, ${n.servicesNotAnnounced} not`,
  ];
  if (n.sessions.length === 0) lines.push('  no BGP sessions (no BGPPeer selects this node)');
  else {
    const rows = [['PEER', 'ADDRESS', 'AS', 'STATE', 'FOR', 'SENT', 'RCVD', 'BFD', 'LAST DOWN']];
    for (const s of n.sessions) {
      rows.push([
        s.peer,
        s.peerAddress,
        String(s.peerASN),
        s.state,
        s.state === 'Established' ? since(s.establishedSince, now) : since(s.lastDown?.at, now),
        String(s.prefixesSent),
        String(s.prefixesReceived),
        s.bfd ?? '-',
        s.lastDown ? `${timeOf(s.lastDown.at)}: ${s.lastDown.reason}` : '',
      ]);
    }
    lines.push(...table(rows, '  '));
  }
  const services = [
    ...n.announced.map((a) => [a.service, a.addresses.join(', '), `to ${a.peers.join(', ')}`]),
    ...n.notAnnounced.map((x) => [x.service, x.addresses.join(', ') || '-', `not announced: ${x.reason}`]),
  ];
  services.sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  if (services.length > 0) lines.push('', ...table([['SERVICE', 'ADDRESSES', 'ANNOUNCED'], ...services], '  '));
  if (n.unlisted > 0)
    lines.push(`  (${n.unlisted} more Services counted but not listed: the object lists at most 1000)`);
  return lines;
}

function serviceRow(s: ServiceStatusView): string[] {
  const a = s.announced;
  let what =
    a === undefined
      ? s.addresses.length === 0
        ? `no address${s.allocated?.message ? `: ${s.allocated.message}` : ''}`
        : 'no node has reported yet'
      : (a.message ?? '');
  if (s.legacyConditions > 0)
    what += ` [${s.legacyConditions} per-node conditions of an earlier version, removed by the leader]`;
  return [s.service, s.addresses.join(', ') || '-', a?.status ?? '-', what];
}

/** The cluster view as lines. */
export function formatClusterStatus(c: ClusterStatus, now: number, onlyNode?: string): string[] {
  const up = c.nodes.reduce((n, x) => n + x.sessionsEstablished, 0);
  const total = c.nodes.reduce((n, x) => n + x.sessionsTotal, 0);
  const lines = [
    `BGPNodeStates in namespace ${c.namespace}: ${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}, ${up}/${total} sessions Established`,
  ];
  for (const p of c.problems) lines.push(`  ! ${p}`);
  const nodes = onlyNode === undefined ? c.nodes : c.nodes.filter((n) => n.node === onlyNode);
  if (onlyNode !== undefined && nodes.length === 0)
    lines.push(`  ! no BGPNodeState for node ${onlyNode} (nodes: ${c.nodes.map((n) => n.node).join(', ') || 'none'})`);
  if (onlyNode === undefined && nodes.length > 0) {
    const rows = [['NODE', 'SESSIONS', 'ANNOUNCED', 'NOT ANNOUNCED', 'REPORTING FOR']];
    for (const n of nodes)
      rows.push([
        n.node,
        `${n.sessionsEstablished}/${n.sessionsTotal}`,
        String(n.servicesAnnounced),
        String(n.servicesNotAnnounced),
        since(n.createdAt, now),
      ]);
    lines.push('', ...table(rows));
  }
  for (const n of nodes) lines.push('', ...formatNode(n, now));
  if (onlyNode === undefined) {
    lines.push('', `Services (${c.services.length}):`);
    if (c.services.length > 0)
      lines.push(...table([['SERVICE', 'ADDRESSES', 'ANNOUNCED', 'BY'], ...c.services.map(serviceRow)], '  '));
  }
  return lines;
}

/** What `status --cluster` prints. Throws UsageError for bad options, Error when the API cannot be read. */
export async function clusterStatusLines(
  o: ClusterStatusCommandOptions,
  env: Record<string, string | undefined>,
  now: () => number = Date.now,
): Promise<string[]> {
  const source = clusterSource(o, env);
  const status = await readCluster(source);
  if (o.json) {
    const view = o.node === undefined ? status : { ...status, nodes: status.nodes.filter((n) => n.node === o.node) };
    return [JSON.stringify(view, null, 2)];
  }
  return formatClusterStatus(status, now(), o.node);
}
