// The collections the announcer watches, each as a self-repairing cache (informer.ts): Services,
// EndpointSlices, Nodes, Namespaces, Secrets of one namespace, and our custom resources.
import { CoreV1Api, CustomObjectsApi, DiscoveryV1Api, type KubeConfig } from '@kubernetes/client-node';
import { API_GROUP, API_VERSION, type KubeObject } from '../config/types.js';
import type { EndpointSlice, Namespace, Node, ObjectMeta, Service } from '../service/model.js';
import type { ObjectCache } from './cache.js';
import { NODE_STATE_PLURAL, type BGPNodeState } from './node-state.js';
import { watchCache, type ListResult, type ListSelectors, type WatchTuning } from './informer.js';

/** A Secret, as far as we read it (data values are base64). */
export interface Secret {
  metadata?: ObjectMeta;
  type?: string;
  data?: Record<string, string>;
}

/** One of our custom resources as the API holds it (with the status we write). */
export interface CustomObject extends KubeObject {
  metadata?: KubeObject['metadata'] & { resourceVersion?: string; uid?: string };
  status?: { conditions?: StatusCondition[] } & Record<string, unknown>;
}

/** metav1.Condition. */
export interface StatusCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

/** The plural resource name of each of our kinds that lives in the cluster. */
export const CONFIG_PLURALS = {
  IPAddressPool: 'ipaddresspools',
  BGPPeer: 'bgppeers',
  BGPAdvertisement: 'bgpadvertisements',
  BFDProfile: 'bfdprofiles',
  StaticRoute: 'staticroutes',
} as const;

/** Kinds added after the first release: their CRD may be missing from a cluster (see missingIsEmpty). */
const NEWER_KINDS: ReadonlySet<ClusterConfigKind> = new Set(['StaticRoute']);

/** The kinds the config source watches. */
export type ClusterConfigKind = keyof typeof CONFIG_PLURALS;

/** Options of the watch factories that accept a label selector. */
export interface SelectorTuning extends WatchTuning {
  labelSelector?: string;
}

const ALL = '';

/** Services of every namespace (the controller filters by loadBalancerClass itself). */
export function watchServices(kubeConfig: KubeConfig, tuning: SelectorTuning = {}): ObjectCache<Service> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return watchCache<Service>({
    ...tuning,
    kubeConfig,
    name: 'services',
    path: '/api/v1/services',
    list: (s) => core.listServiceForAllNamespaces(s),
  });
}

/** EndpointSlices (discovery.k8s.io/v1) of every namespace, optionally only those matching a label selector. */
export function watchEndpointSlices(kubeConfig: KubeConfig, tuning: SelectorTuning = {}): ObjectCache<EndpointSlice> {
  const discovery = kubeConfig.makeApiClient(DiscoveryV1Api);
  return watchCache<EndpointSlice>({
    ...tuning,
    kubeConfig,
    name: 'endpointslices',
    path: '/apis/discovery.k8s.io/v1/endpointslices',
    list: (s) => discovery.listEndpointSliceForAllNamespaces(s),
  });
}

/** Nodes; with `nodeName`, only that one (fieldSelector metadata.name=...). */
export function watchNodes(
  kubeConfig: KubeConfig,
  tuning: SelectorTuning & { nodeName?: string } = {},
): ObjectCache<Node> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const { nodeName, ...rest } = tuning;
  return watchCache<Node>({
    ...rest,
    ...(nodeName === undefined ? {} : { fieldSelector: `metadata.name=${nodeName}` }),
    kubeConfig,
    name: nodeName === undefined ? 'nodes' : `node ${nodeName}`,
    path: '/api/v1/nodes',
    list: (s) => core.listNode(s),
  });
}

/** Namespaces (their labels feed the pools' namespace selectors). */
export function watchNamespaces(kubeConfig: KubeConfig, tuning: SelectorTuning = {}): ObjectCache<Namespace> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return watchCache<Namespace>({
    ...tuning,
    kubeConfig,
    name: 'namespaces',
    path: '/api/v1/namespaces',
    list: (s) => core.listNamespace(s),
  });
}

/** The only Secrets the daemon reads: BGPPeer passwords (as MetalLB, key "password"). */
export const PASSWORD_SECRET_TYPE = 'kubernetes.io/basic-auth';

/**
 * The Secrets of one namespace that may hold BGP passwords: those of type kubernetes.io/basic-auth
 * only (fieldSelector type=..., which the API server supports for Secrets), so the daemon never
 * lists or holds the namespace's other Secrets (Helm release Secrets, tokens, certificates).
 */
export function watchSecrets(
  kubeConfig: KubeConfig,
  namespace: string,
  tuning: SelectorTuning = {},
): ObjectCache<Secret> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  return watchCache<Secret>({
    ...tuning,
    kubeConfig,
    name: `secrets of type ${PASSWORD_SECRET_TYPE} in ${namespace}`,
    path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets`,
    fieldSelector: `type=${PASSWORD_SECRET_TYPE}`,
    list: (s) => core.listNamespacedSecret({ namespace, ...s }),
  });
}

/** The objects of one of our kinds (bgp-announce.io/v1alpha1) in a namespace. */
export function watchConfigObjects(
  kubeConfig: KubeConfig,
  kind: ClusterConfigKind,
  namespace: string,
  tuning: SelectorTuning = {},
): ObjectCache<CustomObject> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const plural = CONFIG_PLURALS[kind];
  return watchCache<CustomObject>({
    ...tuning,
    kubeConfig,
    name: `${plural} in ${namespace}`,
    ...(NEWER_KINDS.has(kind)
      ? {
          missingIsEmpty: {
            missing: `the ${plural}.${API_GROUP} CRD is not installed: no ${kind} objects (install deploy/crds/${kind.toLowerCase()}.yaml; helm upgrade does not install new CRDs)`,
          },
        }
      : {}),
    path: `/apis/${API_GROUP}/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${plural}`,
    list: (s: ListSelectors) =>
      custom.listNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural,
        ...s,
      }) as Promise<ListResult>,
  });
}

/** The BGPNodeStates in our namespace; with `nodeName`, only that node's (fieldSelector metadata.name=...). */
export function watchNodeStates(
  kubeConfig: KubeConfig,
  namespace: string,
  tuning: SelectorTuning & { nodeName?: string } = {},
): ObjectCache<BGPNodeState> {
  const custom = kubeConfig.makeApiClient(CustomObjectsApi);
  const { nodeName, ...rest } = tuning;
  const fieldSelector = nodeName === undefined ? undefined : `metadata.name=${nodeName}`;
  return watchCache<BGPNodeState>({
    ...rest,
    ...(fieldSelector === undefined ? {} : { fieldSelector }),
    kubeConfig,
    name:
      nodeName === undefined ? `${NODE_STATE_PLURAL} in ${namespace}` : `${NODE_STATE_PLURAL} ${namespace}/${nodeName}`,
    path: `/apis/${API_GROUP}/${API_VERSION}/namespaces/${encodeURIComponent(namespace)}/${NODE_STATE_PLURAL}`,
    list: (s: ListSelectors) =>
      custom.listNamespacedCustomObject({
        group: API_GROUP,
        version: API_VERSION,
        namespace,
        plural: NODE_STATE_PLURAL,
        ...s,
      }) as Promise<ListResult>,
  });
}
