// Responses transformed as a client asked with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
// (kubectl get) or `as=PartialObjectMetadata[List]`: the meta.k8s.io Table of a list or an object,
// with `includeObject` (Metadata by default, None or Object) deciding what each row carries.
import type { MetaTarget } from './negotiate.js';
import { convertorFor } from './printers.js';
import { apiVersionOf } from './resources.js';
import { ApiError, badRequest } from './status.js';
import type { KubeObject, ResourceType } from './types.js';

/** A list body as list.ts builds it. */
interface ListBody {
  kind: string;
  metadata: { resourceVersion?: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

/** Options of one transformation. */
export interface TransformOptions {
  /** The `includeObject` query parameter (TableOptions). */
  includeObject?: string;
  /** Leave out the column definitions (every Table of a watch but the first). */
  noHeaders?: boolean;
  /** The time ages are computed at. */
  now: Date;
}

function isList(rt: ResourceType, body: Record<string, unknown>): body is Record<string, unknown> & ListBody {
  return body.kind === rt.listKind && Array.isArray(body.items);
}

/** How Go's %T names the stored type in NotAcceptable messages. */
function goType(rt: ResourceType, list: boolean): string {
  if (rt.custom) return list ? '*unstructured.UnstructuredList' : '*unstructured.Unstructured';
  const pkg = rt.group === '' || rt.group === 'events.k8s.io' ? 'core' : (rt.group.split('.')[0] as string);
  return `*${pkg}.${rt.kind}${list ? 'List' : ''}`;
}

function notAcceptable(message: string): ApiError {
  return new ApiError(406, 'NotAcceptable', message);
}

/** An item as the real server encodes it on its own: built-in kinds get kind and apiVersion back. */
function fullObject(rt: ResourceType, o: KubeObject): KubeObject {
  if (rt.custom) return o;
  const { apiVersion: _a, kind: _k, ...rest } = o;
  return { kind: rt.kind, apiVersion: apiVersionOf(rt), ...rest } as KubeObject;
}

function partial(target: MetaTarget, o: KubeObject): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: target.apiVersion, metadata: o.metadata };
}

function rowObject(rt: ResourceType, target: MetaTarget, o: KubeObject, includeObject: string | undefined): unknown {
  switch (includeObject ?? '') {
    case 'Object':
      return fullObject(rt, o);
    case 'Metadata':
    case '':
      return partial(target, o);
    case 'None':
      return null;
    default:
      throw badRequest(`unrecognized includeObject value: ${JSON.stringify(includeObject)}`);
  }
}

function table(
  rt: ResourceType,
  target: MetaTarget,
  body: Record<string, unknown>,
  opts: TransformOptions,
): Record<string, unknown> {
  const convertor = convertorFor(rt);
  const list = isList(rt, body);
  const objects = list ? body.items : [body as KubeObject];
  const metadata: Record<string, unknown> = {};
  if (list) {
    if (body.metadata.resourceVersion) metadata.resourceVersion = body.metadata.resourceVersion;
    if (body.metadata.continue) metadata.continue = body.metadata.continue;
    if (body.metadata.remainingItemCount) metadata.remainingItemCount = body.metadata.remainingItemCount;
  } else {
    const rv = (body as KubeObject).metadata?.resourceVersion;
    if (rv) metadata.resourceVersion = rv;
  }
  const rows = objects.map((o) => ({
    cells: convertor.cells(o, opts.now),
    object: rowObject(rt, target, o, opts.includeObject),
  }));
  return {
    kind: 'Table',
    apiVersion: target.apiVersion,
    metadata,
    columnDefinitions: opts.noHeaders ? null : convertor.columns,
    rows: rows.length === 0 && convertor.nullRowsWhenEmpty ? null : rows,
  };
}

/**
 * The response body for `target` (a Table, PartialObjectMetadata or PartialObjectMetadataList) made
 * from an object or a list body of `rt`; a metav1.Status passes unchanged, as on the real server.
 */
export function transformResponse(
  rt: ResourceType,
  target: MetaTarget,
  body: Record<string, unknown>,
  opts: TransformOptions,
): Record<string, unknown> {
  if (body.kind === 'Status') return body;
  const list = isList(rt, body);
  switch (target.kind) {
    case 'Table':
      return table(rt, target, body, opts);
    case 'PartialObjectMetadata':
      if (list)
        throw notAcceptable(
          `you requested PartialObjectMetadata, but the requested object is a list (${goType(rt, true)})`,
        );
      return partial(target, body as KubeObject);
    case 'PartialObjectMetadataList': {
      if (!list)
        throw notAcceptable(
          `you requested PartialObjectMetadataList, but the requested object is not a list (${goType(rt, false)})`,
        );
      const metadata: Record<string, unknown> = {};
      if (body.metadata.resourceVersion) metadata.resourceVersion = body.metadata.resourceVersion;
      if (body.metadata.continue) metadata.continue = body.metadata.continue;
      if (body.metadata.remainingItemCount) metadata.remainingItemCount = body.metadata.remainingItemCount;
      const items = body.items.map((o) => partial(target, o));
      return {
        kind: 'PartialObjectMetadataList',
        apiVersion: target.apiVersion,
        metadata,
        items: items.length > 0 ? items : null,
      };
    }
  }
}
