// LIST: objects of a resource through a filter, in pages (limit/continue) like the real server's
// chunked lists. Pages are cut from the current state; the continue token keeps the first page's
// resourceVersion and expires (410) once history is compacted past it.
import type { ApiContext } from './operations.js';
import { apiVersionOf, resourceKey } from './resources.js';
import { matchesFilter, type ObjectFilter } from './selectors.js';
import { objectKey } from './store.js';
import { badRequest, expired } from './status.js';
import type { KubeObject, ResourceType } from './types.js';

/** Paging of a list request. */
export interface ListPaging {
  limit?: number;
  continue?: string;
}

interface ContinueToken {
  rv: number;
  start: string;
}

function decodeToken(token: string): ContinueToken {
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as Partial<ContinueToken>;
    if (typeof t.rv === 'number' && typeof t.start === 'string') return { rv: t.rv, start: t.start };
  } catch {
    // fall through
  }
  throw badRequest('continue key is not valid: the continue token is not one this server issued');
}

/** The list body (kind XList) for a resource: items, resourceVersion, continue. */
export function listObjects(
  ctx: ApiContext,
  rt: ResourceType,
  filter: ObjectFilter,
  paging: ListPaging = {},
): Record<string, unknown> {
  let rv = ctx.store.currentRevision;
  let start = '';
  if (paging.continue) {
    const token = decodeToken(paging.continue);
    if (token.rv < ctx.store.oldestRevision) {
      throw expired(
        'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
      );
    }
    rv = token.rv;
    start = token.start;
  }
  const all = ctx.store
    .list(resourceKey(rt), rt.namespaced ? filter.namespace : undefined)
    .filter((o) => matchesFilter(filter, o))
    .filter((o) => !start || objectKey(o.metadata.namespace, o.metadata.name ?? '') > start);
  const limit = paging.limit && paging.limit > 0 ? paging.limit : all.length;
  const items = all.slice(0, limit);
  const metadata: Record<string, unknown> = { resourceVersion: String(rv) };
  const last = items[items.length - 1];
  if (all.length > items.length && last) {
    const token: ContinueToken = { rv, start: objectKey(last.metadata.namespace, last.metadata.name ?? '') };
    metadata.continue = Buffer.from(JSON.stringify(token)).toString('base64url');
    metadata.remainingItemCount = all.length - items.length;
  }
  return { kind: rt.listKind, apiVersion: apiVersionOf(rt), metadata, items: items.map((o) => listItem(rt, o)) };
}

/** Items of built-in lists carry no apiVersion/kind on the real server (typed lists); custom ones do. */
export function listItem(rt: ResourceType, o: KubeObject): KubeObject {
  if (rt.custom) return o;
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return rest as KubeObject;
}
