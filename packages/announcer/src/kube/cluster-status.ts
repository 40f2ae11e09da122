// The cluster view of `bgp-announce status --cluster`, read through the Kubernetes API (no exec into
// pods, which Talos does not have): every node's BGPNodeState in our namespace, and the Services of
// our class with their address and the leader's IPAllocated and Announced conditions. One-shot list
// calls with a deadline, as `bgp-announce check` makes.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION } from '../config/types.js';
import { API_TIMEOUT_MS, withDeadline } from '../check/cluster.js';
import { isOurService, type ServiceClassOptions } from '../service/service-class.js';
import { DEFAULT_LOAD_BALANCER_CLASS, serviceKey, type Service } from '../service/model.js';
import { statusCodeOf } from './api-errors.js';
import { ANNOUNCED_CONDITION, LEGACY_NODE_CONDITION_PREFIX } from './announced-aggregate.js';
import { NODE_STATE_PLURAL, type BGPNodeState, type NodeStateStatus } from './node-state.js';
import { ALLOCATED_CONDITION, ingressIps } from './service-status.js';

/** One node as its BGPNodeState shows it. */
export interface NodeStateView extends NodeStateStatus {
  node: string;
  /** When the object was made (the daemon's first report on this Node). */
  createdAt?: string;
}

/** A condition as the view shows it. */
export interface ConditionView {
  status: string;
  reason?: string;
  message?: string;
  since?: string;
}

/** One Service of our class. */
export interface ServiceStatusView {
  service: string;
  addresses: string[];
  allocated?: ConditionView;
  announced?: ConditionView;
  /** Per-node conditions left by an earlier version (the leader removes them). */
  legacyConditions: number;
}

/** GET-free cluster view: what `status --cluster --json` prints. */
export interface ClusterStatus {
  namespace: string;
  nodes: NodeStateView[];
  services: ServiceStatusView[];
  /** What is wrong with the view itself (the CRD missing, no node reporting). */
  problems: string[];
}

export interface ClusterStatusOptions {
  /** Which Services are ours. Default: class bgp-announce.io/bgp, not the cluster default. */
  serviceClass?: ServiceClassOptions;
  timeoutMs?: number;
}

const iso = (t: unknown): string | undefined =>
  t === undefined || t === null ? undefined : new Date(t as string).toISOString().replace('.000Z', 'Z');

function conditionView(svc: Service, type: string): ConditionView | undefined {
  const c = svc.status?.conditions?.find((x) => x.type === type);
  if (c === undefined) return undefined;
  const view: ConditionView = { status: c.status };
  if (c.reason !== undefined) view.reason = c.reason;
  if (c.message !== undefined) view.message = c.message;
  const since = iso(c.lastTransitionTime);
  if (since !== undefined) view.since = since;
  return view;
}

/** Reads every BGPNodeState of `namespace` and the Services of our class. */
export async function readClusterStatus(
  kc: KubeConfig,
  namespace: string,
  options: ClusterStatusOptions = {},
): Promise<ClusterStatus> {
  const timeoutMs = options.timeoutMs ?? API_TIMEOUT_MS;
  const serviceClass = options.serviceClass ?? {
    loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS,
    defaultLoadBalancer: false,
  };
  const problems: string[] = [];
  let states: BGPNodeState[] = [];
  try {
    const request = kc
      .makeApiClient(CustomObjectsApi)
      .listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural: NODE_STATE_PLURAL });
    states =
      (
        (await withDeadline(
          request,
          timeoutMs,
          `list ${NODE_STATE_PLURAL}.${API_GROUP} in namespace ${namespace}`,
        )) as { items?: BGPNodeState[] }
      ).items ?? [];
  } catch (err) {
    if (statusCodeOf((err as Error).cause) !== 404) throw err;
    problems.push(
      `${NODE_STATE_PLURAL}.${API_GROUP} is not installed in the cluster (apply deploy/crds/bgpnodestate.yaml)`,
    );
  }
  const list = await withDeadline(
    kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces({}),
    timeoutMs,
    'list services',
  );
  const nodes: NodeStateView[] = states
    .map((s) => {
      const status = s.status ?? {
        sessionsEstablished: 0,
        sessionsTotal: 0,
        servicesAnnounced: 0,
        servicesNotAnnounced: 0,
        sessions: [],
        announced: [],
        notAnnounced: [],
        unlisted: 0,
      };
      const view: NodeStateView = { node: s.metadata?.name ?? '', ...status };
      const createdAt = iso(s.metadata?.creationTimestamp);
      if (createdAt !== undefined) view.createdAt = createdAt;
      return view;
    })
    .sort((a, b) => (a.node < b.node ? -1 : a.node > b.node ? 1 : 0));
  if (states.length === 0 && problems.length === 0)
    problems.push(
      `no BGPNodeState in namespace ${namespace}: no daemon reports here (not running, an earlier version, or another namespace: --namespace)`,
    );
  const services: ServiceStatusView[] = [];
  for (const item of list.items ?? []) {
    const svc = JSON.parse(JSON.stringify(item)) as Service;
    const conditions = svc.status?.conditions ?? [];
    const legacy = conditions.filter((c) => c.type.startsWith(LEGACY_NODE_CONDITION_PREFIX)).length;
    if (
      !isOurService(svc, serviceClass) &&
      !conditions.some((c) => c.type === ALLOCATED_CONDITION || c.type === ANNOUNCED_CONDITION) &&
      legacy === 0
    )
      continue;
    const view: ServiceStatusView = { service: serviceKey(svc), addresses: ingressIps(svc), legacyConditions: legacy };
    const allocated = conditionView(svc, ALLOCATED_CONDITION);
    if (allocated) view.allocated = allocated;
    const announced = conditionView(svc, ANNOUNCED_CONDITION);
    if (announced) view.announced = announced;
    services.push(view);
  }
  services.sort((a, b) => (a.service < b.service ? -1 : a.service > b.service ? 1 : 0));
  return { namespace, nodes, services, problems };
}
