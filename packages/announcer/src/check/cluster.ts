// What `bgp-announce check` reads from the Kubernetes API: our custom resources (from the namespace
// the daemon reads, validated as the daemon does), the node's labels (for the peers' nodeSelectors),
// and the Services with their managedFields. One-shot calls with a deadline: the check must not hang
// on an unreachable API.
import { CoreV1Api, CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import {
  API_GROUP,
  API_VERSION,
  type AnnouncerConfig,
  type ConfigKind,
  type ConfigProblem,
  type KubeObject,
} from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import { errorText, statusCodeOf } from '../kube/api-errors.js';
import { CONFIG_PLURALS } from '../kube/watches.js';
import type { ServiceWithManagedFields } from './checks-services.js';

/** How long one API call may take before the check gives up on it. */
export const API_TIMEOUT_MS = 15_000;

/** Rejects with "KIND: no answer from the Kubernetes API in N s" when `promise` takes longer than `ms`. */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${what}: no answer from the Kubernetes API in ${ms / 1000} s`)),
      ms,
    );
    timer.unref();
    promise.then(
      (value) => (clearTimeout(timer), resolve(value)),
      (err: unknown) => (clearTimeout(timer), reject(new Error(`${what}: ${errorText(err)}`, { cause: err }))),
    );
  });
}

/**
 * Lists every object of our custom resources in `namespace` (where the daemon reads them) and
 * validates them together, as the daemon does. A resource the cluster does not know (CRD not
 * installed: 404) is a problem; any other API error rejects with a message naming the resource.
 */
export async function readClusterConfig(
  kc: KubeConfig,
  namespace: string,
  timeoutMs = API_TIMEOUT_MS,
): Promise<{ config: AnnouncerConfig; problems: ConfigProblem[] }> {
  const api = kc.makeApiClient(CustomObjectsApi);
  const objects: KubeObject[] = [];
  const missing: ConfigProblem[] = [];
  for (const [kind, plural] of Object.entries(CONFIG_PLURALS) as [ConfigKind, string][]) {
    let list: { items?: KubeObject[] };
    try {
      const request = api.listNamespacedCustomObject({ group: API_GROUP, version: API_VERSION, namespace, plural });
      list = (await withDeadline(request, timeoutMs, `list ${plural}.${API_GROUP} in namespace ${namespace}`)) as {
        items?: KubeObject[];
      };
    } catch (err) {
      if (statusCodeOf((err as Error).cause) === 404) {
        // A StaticRoute CRD missing (an upgraded cluster: helm upgrade does not install new CRDs)
        // only means there are no StaticRoute objects; the daemon runs without them.
        if (kind === 'StaticRoute') continue;
        missing.push({
          kind,
          name: `${plural}.${API_GROUP}`,
          field: 'CustomResourceDefinition',
          message: 'not installed in the cluster (apply the CRDs from deploy/)',
        });
        continue;
      }
      throw err;
    }
    // A list's items carry no apiVersion/kind of their own.
    for (const item of list.items ?? []) objects.push({ apiVersion: `${API_GROUP}/${API_VERSION}`, kind, ...item });
  }
  const result = validateConfig(objects);
  return { config: result.config, problems: [...missing, ...result.problems] };
}

/** The labels of Node `name`. */
export async function readNodeLabels(
  kc: KubeConfig,
  name: string,
  timeoutMs = API_TIMEOUT_MS,
): Promise<Record<string, string>> {
  const node = await withDeadline(kc.makeApiClient(CoreV1Api).readNode({ name }), timeoutMs, `get node ${name}`);
  return node.metadata?.labels ?? {};
}

/** Every Service of the cluster, with metadata.managedFields. */
export async function listServices(kc: KubeConfig, timeoutMs = API_TIMEOUT_MS): Promise<ServiceWithManagedFields[]> {
  const list = await withDeadline(
    kc.makeApiClient(CoreV1Api).listServiceForAllNamespaces(),
    timeoutMs,
    'list services',
  );
  return list.items as ServiceWithManagedFields[];
}
