// `import metallb --from-cluster`: MetalLB's objects read from a cluster through the Kubernetes API
// (CustomObjectsApi, from MetalLB's namespace), and the Services of every namespace for the report
// on their annotations. The only I/O of the import; the conversion is importMetalLB's.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { errorText, statusCodeOf, withTimeout } from '../kube/api-errors.js';
import { METALLB_KINDS, type MetalLBKind } from './metallb-import.js';
import { DEFAULT_METALLB_NAMESPACE, METALLB_GROUP, type MetalLBDocument } from './metallb-types.js';

const PLURALS: Readonly<Record<MetalLBKind, string>> = {
  BFDProfile: 'bfdprofiles',
  BGPPeer: 'bgppeers',
  IPAddressPool: 'ipaddresspools',
  Community: 'communities',
  BGPAdvertisement: 'bgpadvertisements',
  L2Advertisement: 'l2advertisements',
};

/** A read that failed for a reason the user must fix (no such resource at all, forbidden, unreachable). */
export class MetalLBClusterError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetalLBClusterError';
  }
}

export interface ReadMetalLBOptions {
  /** MetalLB's namespace (default metallb-system): MetalLB reads its objects from there only. */
  namespace?: string;
  /** Per API call (default 10 s). */
  timeoutMs?: number;
}

/**
 * MetalLB's objects of every kind importMetalLB reads, then every Service. A kind whose resource the
 * cluster does not serve (404: that CRD is not installed) is skipped and named in `missing`; when the
 * cluster serves none of them, or a call fails otherwise, a MetalLBClusterError says why.
 */
export async function readMetalLBFromCluster(
  kc: KubeConfig,
  options: ReadMetalLBOptions = {},
): Promise<{ documents: MetalLBDocument[]; missing: string[] }> {
  const namespace = options.namespace ?? DEFAULT_METALLB_NAMESPACE;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const custom = kc.makeApiClient(CustomObjectsApi);
  const documents: MetalLBDocument[] = [];
  const missing: string[] = [];
  const call = async <T>(what: string, request: () => Promise<T>): Promise<T | undefined> => {
    try {
      return await withTimeout(request(), timeoutMs);
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw new MetalLBClusterError(`cannot ${what}: ${errorText(err)}`);
    }
  };
  for (const kind of Object.keys(METALLB_KINDS) as MetalLBKind[]) {
    const plural = PLURALS[kind];
    let found = false;
    for (const version of METALLB_KINDS[kind]) {
      const list = (await call(`list ${plural}.${METALLB_GROUP}/${version} in namespace ${namespace}`, () =>
        custom.listNamespacedCustomObject({ group: METALLB_GROUP, version, namespace, plural }),
      )) as { items?: unknown[] } | undefined;
      if (list === undefined) continue;
      found = true;
      for (const item of list.items ?? [])
        documents.push({
          object: withType(item, `${METALLB_GROUP}/${version}`, kind),
          origin: `cluster, namespace ${namespace}`,
        });
      break;
    }
    if (!found) missing.push(`${plural}.${METALLB_GROUP}`);
  }
  if (missing.length === Object.keys(METALLB_KINDS).length)
    throw new MetalLBClusterError(
      `the cluster serves none of MetalLB's resources (${missing.join(', ')}): is MetalLB installed, with its CRDs?`,
    );
  const services = (await call('list services', () => kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces({}))) as
    | { items?: unknown[] }
    | undefined;
  for (const item of services?.items ?? [])
    documents.push({ object: withType(item, 'v1', 'Service'), origin: 'cluster' });
  return { documents, missing };
}

/** Items of typed lists come without apiVersion and kind: fill them in from the list read. */
function withType(item: unknown, apiVersion: string, kind: string): unknown {
  if (typeof item !== 'object' || item === null) return item;
  const o = item as Record<string, unknown>;
  return { ...o, apiVersion: o.apiVersion ?? apiVersion, kind: o.kind ?? kind };
}
