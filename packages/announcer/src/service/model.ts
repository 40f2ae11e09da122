// The few fields of Kubernetes objects the controller's pure parts read, as structural types: the
// objects @kubernetes/client-node returns fit them, and tests write them as plain literals.

/** Our annotations (MetalLB's, under our group). */
export const ANNOTATION = {
  /** Comma-separated addresses the Service asks for (one per family at most). */
  loadBalancerIPs: 'bgp-announce.io/loadBalancerIPs',
  /** The pool to allocate from, by name. */
  addressPool: 'bgp-announce.io/address-pool',
  /** Services with the same key may share an address when their ports do not clash. */
  allowSharedIP: 'bgp-announce.io/allow-shared-ip',
} as const;

/** Nodes with this label (any value) never announce. */
export const EXCLUDE_LABEL = 'node.kubernetes.io/exclude-from-external-load-balancers';
/** The finalizer Kubernetes advises load balancer implementations to put on Services they allocate for. */
export const CLEANUP_FINALIZER = 'service.kubernetes.io/load-balancer-cleanup';
/** The default spec.loadBalancerClass we handle. */
export const DEFAULT_LOAD_BALANCER_CLASS = 'bgp-announce.io/bgp';

export interface ObjectMeta {
  name?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: Date | string;
  finalizers?: string[];
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

export interface Service {
  metadata?: ObjectMeta;
  spec?: {
    type?: string;
    loadBalancerClass?: string;
    loadBalancerIP?: string;
    ipFamilies?: string[];
    ipFamilyPolicy?: string;
    externalTrafficPolicy?: string;
    ports?: ServicePort[];
    selector?: Record<string, string>;
  };
  status?: {
    loadBalancer?: { ingress?: { ip?: string; hostname?: string; ipMode?: string }[] };
    conditions?: {
      type: string;
      status: string;
      reason?: string;
      message?: string;
      lastTransitionTime?: Date | string;
      observedGeneration?: number;
    }[];
  };
}

export interface EndpointSlice {
  metadata?: ObjectMeta;
  addressType?: string;
  endpoints?: {
    addresses?: string[];
    nodeName?: string;
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
    /** The pod behind the endpoint: one pod in a dual-stack Service's IPv4 and IPv6 slices. */
    targetRef?: { kind?: string; namespace?: string; name?: string; uid?: string };
  }[];
}

export interface Node {
  metadata?: ObjectMeta;
  /** unschedulable: cordoned (kubectl cordon/drain). */
  spec?: { unschedulable?: boolean };
  status?: { conditions?: { type: string; status: string }[]; addresses?: { type: string; address: string }[] };
}

export interface Namespace {
  metadata?: ObjectMeta;
}

/** "namespace/name" */
export function serviceKey(s: { metadata?: ObjectMeta }): string {
  return `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name ?? ''}`;
}

/** The Service an EndpointSlice belongs to ("namespace/name"), from its kubernetes.io/service-name label. */
export function sliceServiceKey(slice: EndpointSlice): string | undefined {
  const name = slice.metadata?.labels?.['kubernetes.io/service-name'];
  return name === undefined ? undefined : `${slice.metadata?.namespace ?? 'default'}/${name}`;
}
