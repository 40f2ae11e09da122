// Failures a real kube-apiserver shows while it starts: for a moment after it begins serving, its
// RBAC authorizer has not loaded the roles yet and every request is 403 Forbidden (~50 ms on a real
// one); the watch cache of a custom resource is (re)initializing and its watches get 429
// TooManyRequests with Retry-After. The answers have the real server's message and Status form.
import type { ApiVerb, ResourceType } from './types.js';
import { ApiError } from './status.js';

/** The identity in 403 messages: our DaemonSet's ServiceAccount. */
export const DEFAULT_FORBIDDEN_USER = 'system:serviceaccount:bgp-announce:bgp-announce';

/** When custom resource watches get 429 "storage is (re)initializing". */
export interface StorageInitializing {
  /** For this long from now (ms). */
  ms?: number;
  /** For this many watches (with ms: whichever ends first). Neither: until cleared. */
  count?: number;
  /** The Retry-After header (and details.retryAfterSeconds); default 1, as the real server sends. */
  retryAfterSeconds?: number;
}

/** A 403 with the real authorizer's message (RBAC not loaded yet: the ClusterRole is "not found"). */
export function forbidden(
  user: string,
  verb: ApiVerb,
  rt: ResourceType,
  namespace: string | undefined,
  name: string | undefined,
  subresource: string | undefined,
): ApiError {
  const resource = subresource === undefined ? rt.plural : `${rt.plural}/${subresource}`;
  const qualified = rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
  const subject = name === undefined ? qualified : `${qualified} "${name}"`;
  const scope = namespace === undefined ? 'at the cluster scope' : `in the namespace "${namespace}"`;
  const message =
    `${subject} is forbidden: User "${user}" cannot ${verb} resource "${resource}" in API group "${rt.group}" ${scope}: ` +
    'RBAC: clusterrole.rbac.authorization.k8s.io "bgp-announce" not found';
  return new ApiError(403, 'Forbidden', message, {
    ...(name !== undefined ? { name } : {}),
    ...(rt.group ? { group: rt.group } : {}),
    kind: rt.plural,
  });
}

/** A 429 for a watch whose storage is not ready; carries the Retry-After seconds. */
export class TooManyRequests extends ApiError {
  constructor(readonly retryAfterSeconds: number) {
    super(429, 'TooManyRequests', 'storage is (re)initializing', { retryAfterSeconds } as ApiError['details']);
  }
}

/** The start-up fault state the HTTP handler consults for every resource request. */
export class StartupFaults {
  forbiddenUntil = 0;
  forbiddenUser = DEFAULT_FORBIDDEN_USER;
  private storage: { until: number; left: number; retryAfterSeconds: number } | undefined;

  forbidFor(ms: number): void {
    this.forbiddenUntil = ms > 0 ? Date.now() + ms : 0;
  }

  storageInitializing(opts: StorageInitializing | false): void {
    if (opts === false) {
      this.storage = undefined;
      return;
    }
    this.storage = {
      until: opts.ms !== undefined ? Date.now() + opts.ms : Number.POSITIVE_INFINITY,
      left: opts.count ?? Number.POSITIVE_INFINITY,
      retryAfterSeconds: opts.retryAfterSeconds ?? 1,
    };
  }

  /** Throws the fault this request meets, if any. */
  check(
    verb: ApiVerb,
    rt: ResourceType,
    namespace: string | undefined,
    name: string | undefined,
    subresource: string | undefined,
  ): void {
    if (this.forbiddenUntil > 0) {
      if (Date.now() < this.forbiddenUntil) throw forbidden(this.forbiddenUser, verb, rt, namespace, name, subresource);
      this.forbiddenUntil = 0;
    }
    const s = this.storage;
    if (s !== undefined && verb === 'watch' && rt.custom) {
      if (Date.now() >= s.until || s.left <= 0) {
        this.storage = undefined;
        return;
      }
      s.left--;
      throw new TooManyRequests(s.retryAfterSeconds);
    }
  }
}
