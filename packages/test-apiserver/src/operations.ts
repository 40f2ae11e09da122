// The API verbs' semantics over the store, shared by the HTTP handlers and the test controls:
// create (generateName, uid, timestamps, generation), update (resourceVersion preconditions, status
// subresource rules, generation, no-op writes skipped), delete (finalizers, namespace termination).
import { randomUUID } from 'node:crypto';
import { jsonEqual } from './patch.js';
import { formatTime, normalizeTimes, prepareForCreate, prepareForUpdate } from './prepare.js';
import { apiVersionOf, resourceKey, type ResourceRegistry } from './resources.js';
import { prepareService, type ServiceRange } from './services.js';
import {
  alreadyExists,
  ApiError,
  badRequest,
  conflict,
  forbidden,
  invalid,
  notFound,
  type StatusCause,
} from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject, ResourceType, Validator } from './types.js';
import { cause, validateKind, validateMeta } from './validation.js';

/** What the verbs need: the store, the resources, the service range, a clock and the validation hook. */
export interface ApiContext {
  store: ObjectStore;
  registry: ResourceRegistry;
  serviceRange: ServiceRange;
  now: () => Date;
  validator?: Validator;
}

/** Which parts of an object an update may change: main PUT, status PUT, or everything (test controls). */
export type UpdateMode = 'main' | 'status' | 'all';

/** Options of a write. */
export interface WriteOptions {
  /** dryRun=All: check everything, store nothing. */
  dryRun?: boolean;
}

const NAME_CHARS = 'bcdfghjklmnpqrstvwxz2456789';

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Copies a request body into an object of this resource, checking apiVersion/kind and metadata. */
export function decodeBody(rt: ResourceType, body: unknown): KubeObject {
  if (!isPlainObject(body))
    throw badRequest(
      `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: the body must be a JSON object`,
    );
  const obj = structuredClone(body) as KubeObject;
  const want = apiVersionOf(rt);
  if (obj.apiVersion !== undefined && obj.apiVersion !== want)
    throw badRequest(
      `the API version in the data (${String(obj.apiVersion)}) does not match the expected API version (${want})`,
    );
  if (obj.kind !== undefined && obj.kind !== rt.kind)
    throw badRequest(`the kind in the data (${String(obj.kind)}) does not match the expected kind (${rt.kind})`);
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  if (!isPlainObject(obj.metadata))
    throw badRequest(
      `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: metadata must be an object`,
    );
  const { apiVersion: _a, kind: _k, metadata, ...rest } = obj;
  return { apiVersion: want, kind: rt.kind, metadata, ...rest };
}

function namespaceType(ctx: ApiContext): ResourceType {
  const ns = ctx.registry.find('', 'v1', 'namespaces');
  if (!ns) throw new Error('namespaces are not registered');
  return ns;
}

function checkValid(ctx: ApiContext, rt: ResourceType, obj: KubeObject, extra: StatusCause[]): void {
  const causes = [...validateMeta(rt, obj), ...validateKind(rt, obj), ...extra];
  for (const message of ctx.validator?.(rt.kind, obj) ?? []) causes.push({ reason: 'FieldValueInvalid', message });
  if (causes.length > 0) throw invalid(rt, obj.metadata.name ?? obj.metadata.generateName ?? '', causes);
}

function prepareKind(ctx: ApiContext, rt: ResourceType, obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  if (rt.group !== '' || rt.plural !== 'services') return [];
  const others = ctx.store
    .list(resourceKey(rt))
    .filter((s) => !(s.metadata.namespace === obj.metadata.namespace && s.metadata.name === obj.metadata.name));
  return prepareService(obj, old, others, ctx.serviceRange);
}

/** Creates an object. keepStatus (test controls) keeps a status the status subresource would drop. */
export function createObject(
  ctx: ApiContext,
  rt: ResourceType,
  namespace: string | undefined,
  body: unknown,
  opts: WriteOptions & { keepStatus?: boolean } = {},
): KubeObject {
  const obj = decodeBody(rt, body);
  const meta = obj.metadata;
  if (rt.namespaced) {
    const ns = namespace ?? meta.namespace;
    if (!ns) throw badRequest('an empty namespace may not be set during creation');
    if (namespace !== undefined && meta.namespace && meta.namespace !== namespace)
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    meta.namespace = ns;
    const nsObject = ctx.store.get(resourceKey(namespaceType(ctx)), undefined, ns);
    if (!nsObject) throw notFound(namespaceType(ctx), ns);
    if (nsObject.metadata.deletionTimestamp)
      throw forbidden(
        rt,
        meta.name ?? '',
        `unable to create new content in namespace ${ns} because it is being terminated`,
      );
  } else {
    delete meta.namespace;
  }
  if (meta.resourceVersion && !opts.keepStatus)
    throw new ApiError(500, 'InternalError', 'resourceVersion should not be set on objects to be created');
  if (!meta.name && typeof meta.generateName === 'string' && meta.generateName) {
    do {
      let suffix = '';
      for (let i = 0; i < 5; i++) suffix += NAME_CHARS[Math.floor(Math.random() * NAME_CHARS.length)];
      meta.name = meta.generateName + suffix;
    } while (ctx.store.get(resourceKey(rt), meta.namespace, meta.name));
  }
  meta.uid = randomUUID();
  meta.creationTimestamp = formatTime(ctx.now());
  if (rt.generation) meta.generation = 1;
  else delete meta.generation;
  delete meta.resourceVersion;
  delete meta.deletionTimestamp;
  delete meta.deletionGracePeriodSeconds;
  if (rt.statusSubresource && !rt.keepStatusOnCreate && !opts.keepStatus) delete obj.status;
  normalizeTimes(rt, obj);
  prepareForCreate(rt, obj);
  checkValid(ctx, rt, obj, prepareKind(ctx, rt, obj, undefined));
  if (ctx.store.get(resourceKey(rt), meta.namespace, meta.name as string)) throw alreadyExists(rt, meta.name as string);
  if (opts.dryRun) return obj;
  return ctx.store.put(resourceKey(rt), obj);
}

/** The stored object, or 404. */
export function getObject(ctx: ApiContext, rt: ResourceType, namespace: string | undefined, name: string): KubeObject {
  const obj = ctx.store.get(resourceKey(rt), rt.namespaced ? namespace : undefined, name);
  if (!obj) throw notFound(rt, name);
  return obj;
}

/** PUT: replaces an object (mode decides which parts may change). */
export function updateObject(
  ctx: ApiContext,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  body: unknown,
  mode: UpdateMode,
  opts: WriteOptions & { requireResourceVersion?: boolean } = {},
): KubeObject {
  const candidate = decodeBody(rt, body);
  if (candidate.metadata.name !== undefined && candidate.metadata.name !== name) {
    throw badRequest(
      `the name of the object (${String(candidate.metadata.name)}) does not match the name on the URL (${name})`,
    );
  }
  if (
    rt.namespaced &&
    namespace !== undefined &&
    candidate.metadata.namespace &&
    candidate.metadata.namespace !== namespace
  ) {
    throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
  }
  const old = getObject(ctx, rt, namespace, name);
  return commitUpdate(ctx, rt, old, candidate, mode, opts);
}

const specPart = (rt: ResourceType, o: KubeObject): Record<string, unknown> => {
  const { metadata: _m, status: _s, ...rest } = o;
  return rt.statusSubresource ? rest : { ...rest, status: o.status };
};

/**
 * Writes candidate over old: resourceVersion precondition, server-owned metadata restored, status
 * rules, generation, validation; a write that changes nothing is skipped; an object being deleted
 * whose last finalizer goes is removed.
 */
export function commitUpdate(
  ctx: ApiContext,
  rt: ResourceType,
  old: KubeObject,
  candidate: KubeObject,
  mode: UpdateMode,
  opts: WriteOptions & { requireResourceVersion?: boolean } = {},
): KubeObject {
  const name = old.metadata.name as string;
  const rv = candidate.metadata.resourceVersion;
  if (rv !== undefined && rv !== null && rv !== '') {
    if (String(rv) !== old.metadata.resourceVersion) throw conflict(rt, name);
  } else if (opts.requireResourceVersion && !rt.allowUnconditionalUpdate) {
    throw invalid(rt, name, [
      cause('metadata.resourceVersion', 'FieldValueInvalid', 'Invalid value: 0x0: must be specified for an update'),
    ]);
  }
  if (candidate.metadata.uid && candidate.metadata.uid !== old.metadata.uid) {
    throw conflict(
      rt,
      name,
      `Precondition failed: UID in precondition: ${candidate.metadata.uid}, UID in object meta: ${old.metadata.uid}`,
    );
  }
  let next: KubeObject;
  if (mode === 'status') {
    next = structuredClone(old);
    if (candidate.status === undefined) delete next.status;
    else next.status = candidate.status;
  } else {
    next = candidate;
    if (mode === 'main' && rt.statusSubresource) {
      if (old.status === undefined) delete next.status;
      else next.status = structuredClone(old.status);
    }
    const m = next.metadata;
    for (const k of [
      'uid',
      'creationTimestamp',
      'deletionTimestamp',
      'deletionGracePeriodSeconds',
      'generation',
      'name',
      'namespace',
    ] as const) {
      if (old.metadata[k] === undefined) delete m[k];
      else m[k] = old.metadata[k] as never;
    }
  }
  next.metadata.resourceVersion = old.metadata.resourceVersion as string;
  if (old.metadata.deletionTimestamp) {
    const added = (next.metadata.finalizers ?? []).filter((f) => !(old.metadata.finalizers ?? []).includes(f));
    if (added.length > 0) {
      const why = `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`;
      throw invalid(rt, name, [cause('metadata.finalizers', 'FieldValueForbidden', why)]);
    }
  }
  normalizeTimes(rt, next);
  prepareForUpdate(rt, next);
  checkValid(ctx, rt, next, mode === 'status' ? [] : prepareKind(ctx, rt, next, old));
  if (rt.generation && !jsonEqual(specPart(rt, next), specPart(rt, old)))
    next.metadata.generation = (old.metadata.generation ?? 0) + 1;
  if (jsonEqual(next, old)) return old;
  if (opts.dryRun) return next;
  const key = resourceKey(rt);
  if (
    next.metadata.deletionTimestamp &&
    (next.metadata.finalizers ?? []).length === 0 &&
    readyToRemove(ctx, rt, next)
  ) {
    const gone = ctx.store.remove(key, next.metadata.namespace, name) as KubeObject;
    afterRemove(ctx, rt, gone);
    return { ...next, metadata: { ...next.metadata, resourceVersion: gone.metadata.resourceVersion as string } };
  }
  return ctx.store.put(key, next);
}

/** Preconditions a DELETE may carry (DeleteOptions.preconditions). */
export interface DeletePreconditions {
  uid?: string;
  resourceVersion?: string;
}

/**
 * DELETE: an object with finalizers gets deletionTimestamp and stays until an update removes the
 * last one; otherwise it is removed. A namespace deletes its content first. Returns the object.
 */
export function deleteObject(
  ctx: ApiContext,
  rt: ResourceType,
  namespace: string | undefined,
  name: string,
  opts: WriteOptions & { preconditions?: DeletePreconditions } = {},
): KubeObject {
  const old = getObject(ctx, rt, namespace, name);
  const pre = opts.preconditions;
  if (pre?.uid && pre.uid !== old.metadata.uid)
    throw conflict(
      rt,
      name,
      `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
    );
  if (pre?.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
    throw conflict(
      rt,
      name,
      `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
    );
  }
  if (opts.dryRun) return old;
  const key = resourceKey(rt);
  const isNamespace = rt.group === '' && rt.plural === 'namespaces';
  if ((old.metadata.finalizers ?? []).length > 0 || isNamespace) {
    if (old.metadata.deletionTimestamp) return old;
    const next = structuredClone(old);
    next.metadata.deletionTimestamp = formatTime(ctx.now());
    next.metadata.deletionGracePeriodSeconds = 0;
    if (isNamespace) next.status = { ...((next.status as object | undefined) ?? {}), phase: 'Terminating' };
    const marked = ctx.store.put(key, next);
    if (!isNamespace) return marked;
    for (const r of ctx.registry.list()) {
      if (!r.namespaced) continue;
      for (const o of ctx.store.list(resourceKey(r), name)) deleteObject(ctx, r, name, o.metadata.name as string);
    }
    return ctx.store.get(key, undefined, name) ?? finishNamespace(ctx, name) ?? marked;
  }
  const gone = ctx.store.remove(key, old.metadata.namespace, name) as KubeObject;
  afterRemove(ctx, rt, gone);
  return gone;
}

/** A namespace being deleted goes only once it holds nothing. */
function readyToRemove(ctx: ApiContext, rt: ResourceType, obj: KubeObject): boolean {
  if (rt.group !== '' || rt.plural !== 'namespaces') return true;
  return ctx.registry.list().every((r) => !r.namespaced || ctx.store.count(resourceKey(r), obj.metadata.name) === 0);
}

function afterRemove(ctx: ApiContext, rt: ResourceType, gone: KubeObject): void {
  if (rt.namespaced && gone.metadata.namespace) finishNamespace(ctx, gone.metadata.namespace);
}

/** Removes a terminating namespace once it is empty and has no finalizers; returns it if removed. */
function finishNamespace(ctx: ApiContext, name: string): KubeObject | undefined {
  const nsType = namespaceType(ctx);
  const ns = ctx.store.get(resourceKey(nsType), undefined, name);
  if (!ns?.metadata.deletionTimestamp || (ns.metadata.finalizers ?? []).length > 0 || !readyToRemove(ctx, nsType, ns))
    return undefined;
  return ctx.store.remove(resourceKey(nsType), undefined, name);
}
