// kube-apiserver's Service printer (pkg/printers/internalversion): NAME, TYPE, CLUSTER-IP,
// EXTERNAL-IP, PORT(S), AGE and, with priority 1 (kubectl -o wide), SELECTOR. The server always
// prints "wide" (kubectl hides priority columns itself), so load balancer addresses are not clipped.
import { ageOf } from './duration.js';
import { column, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN, type TableConvertor } from './printer-common.js';
import type { KubeObject } from './types.js';

// The ServiceSpec field descriptions of the OpenAPI document, which the real columns carry.
const TYPE_DESCRIPTION =
  'type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. "ClusterIP" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is "None", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. "NodePort" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. "LoadBalancer" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. "ExternalName" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types';
const CLUSTER_IP_DESCRIPTION =
  'clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are "None", empty string (""), or a valid IP address. Setting this to "None" makes a "headless service" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies';
const EXTERNAL_IPS_DESCRIPTION =
  'externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.';
const PORTS_DESCRIPTION =
  'The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies';
const SELECTOR_DESCRIPTION =
  'Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/';

interface ServiceShape {
  spec?: {
    type?: string;
    clusterIPs?: string[];
    externalIPs?: string[];
    externalName?: string;
    ports?: { port?: number; nodePort?: number; protocol?: string }[];
    selector?: Record<string, string>;
  };
  status?: { loadBalancer?: { ingress?: { ip?: string; hostname?: string }[] } };
}

/** Go's sort.Strings order (byte-wise for ASCII, as the addresses and label keys are). */
function sorted(list: Iterable<string>): string[] {
  return [...list].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** loadBalancerStatusStringer: ingress IPs (else hostnames), de-duplicated and sorted, joined with ",". */
function ingressAddresses(svc: ServiceShape): string {
  const set = new Set<string>();
  for (const i of svc.status?.loadBalancer?.ingress ?? []) {
    if (i.ip) set.add(i.ip);
    else if (i.hostname) set.add(i.hostname);
  }
  return sorted(set).join(',');
}

/** getServiceExternalIP: what the EXTERNAL-IP column shows for each Service type. */
export function serviceExternalIP(svc: ServiceShape): string {
  const spec = svc.spec ?? {};
  const externalIPs = spec.externalIPs ?? [];
  switch (spec.type) {
    case 'ClusterIP':
    case 'NodePort':
      return externalIPs.length > 0 ? externalIPs.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = ingressAddresses(svc);
      if (externalIPs.length > 0) return [...(lb ? lb.split(',') : []), ...externalIPs].join(',');
      return lb || '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
  }
  return '<unknown>';
}

/** makePortString: "80:31234/TCP,443/TCP" ("<none>" when there are no ports). */
export function servicePorts(svc: ServiceShape): string {
  const pieces = (svc.spec?.ports ?? []).map((p) =>
    p.nodePort && p.nodePort > 0
      ? `${p.port ?? 0}:${p.nodePort}/${p.protocol ?? ''}`
      : `${p.port ?? 0}/${p.protocol ?? ''}`,
  );
  return pieces.length > 0 ? pieces.join(',') : '<none>';
}

/** labels.FormatLabels: "app=web,tier=front" sorted by key, "<none>" when empty. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = sorted(Object.keys(labels ?? {}));
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${(labels as Record<string, string>)[k]}`).join(',');
}

/** The Service printer. */
export const servicePrinter: TableConvertor = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', TYPE_DESCRIPTION),
    column('Cluster-IP', 'string', CLUSTER_IP_DESCRIPTION),
    column('External-IP', 'string', EXTERNAL_IPS_DESCRIPTION),
    column('Port(s)', 'string', PORTS_DESCRIPTION),
    column('Age', 'string', CREATION_TIMESTAMP_DESCRIPTION),
    column('Selector', 'string', SELECTOR_DESCRIPTION, { priority: 1 }),
  ],
  cells(obj: KubeObject, now: Date): unknown[] {
    const svc = obj as ServiceShape;
    const clusterIPs = svc.spec?.clusterIPs ?? [];
    return [
      obj.metadata.name ?? '',
      svc.spec?.type ?? '',
      clusterIPs.length > 0 ? clusterIPs[0] : '<none>',
      serviceExternalIP(svc),
      servicePorts(svc),
      ageOf(obj.metadata.creationTimestamp, now),
      formatLabels(svc.spec?.selector),
    ];
  },
};
