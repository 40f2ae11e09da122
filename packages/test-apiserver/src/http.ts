// The HTTP side: reads a request, routes it, turns it into a verb on a resource, applies injected
// failures, runs the verb and answers JSON (metav1.Status for errors). Every request is logged.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { coreVersions, groupInfo, groupList, resourceList, versionInfo } from './discovery.js';
import { listObjects, listItem } from './list.js';
import { negotiate } from './negotiate.js';
import {
  createObject,
  deleteObject,
  getObject,
  updateObject,
  type ApiContext,
  type DeletePreconditions,
} from './operations.js';
import { patchObject } from './patch-object.js';
import { route } from './routes.js';
import { parseFieldSelector, parseLabelSelector, type ObjectFilter } from './selectors.js';
import { apiVersionOf, resourceKey } from './resources.js';
import {
  ApiError,
  badRequest,
  errorForCode,
  expired,
  methodNotAllowed,
  pathNotFound,
  statusBody,
  successStatus,
} from './status.js';
import { transformResponse } from './table.js';
import type { ApiVerb, KubeObject, RequestRecord, ResourceType } from './types.js';
import type { WatchHub } from './watch.js';
import type { StartupFaults } from './startup-faults.js';

const MAX_BODY = 3 * 1024 * 1024;
/** The request log keeps the newest this many requests. */
const MAX_LOG = 100_000;

/** A failure to answer once instead of running a verb. */
export interface InjectedFailure {
  verb: ApiVerb | '*';
  /** "services", "services/status", "leases.coordination.k8s.io" or "*". */
  resource: string;
  status: number;
  message?: string;
}

/** Everything the handler needs from the server. */
export interface HttpState {
  ctx: ApiContext;
  watches: WatchHub;
  log: RequestRecord[];
  failures: InjectedFailure[];
  serverAddress: () => string;
  /** Start-up faults (403 before RBAC is loaded, 429 while CRD storage initializes). */
  faults?: StartupFaults;
}

function sendJson(
  res: ServerResponse,
  record: RequestRecord,
  code: number,
  body: unknown,
  extraHeaders: Record<string, string> = {},
): void {
  record.status = code;
  if (res.headersSent) {
    res.end();
    return;
  }
  const text = JSON.stringify(body);
  res.writeHead(code, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, private',
    ...extraHeaders,
  });
  res.end(text);
}

function sendText(res: ServerResponse, record: RequestRecord, code: number, text: string): void {
  record.status = code;
  res.writeHead(code, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

function flag(v: string | undefined): boolean {
  return v === 'true' || v === '1';
}

function dryRun(query: Record<string, string>): boolean {
  const v = query.dryRun;
  if (v === undefined || v === '') return false;
  if (v !== 'All') throw badRequest(`Invalid dry run value: ${JSON.stringify(v)}; supported values: "All"`);
  return true;
}

function failureMatches(f: InjectedFailure, verb: ApiVerb, rt: ResourceType, subresource: string | undefined): boolean {
  if (f.verb !== '*' && f.verb !== verb) return false;
  if (f.resource === '*') return true;
  const [name, sub] = f.resource.split('/');
  return (name === rt.plural || name === `${rt.plural}.${rt.group}`) && sub === subresource;
}

/** Answers one request. */
export async function handleRequest(state: HttpState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://localhost');
  const query = Object.fromEntries(url.searchParams);
  const method = (req.method ?? 'GET').toUpperCase();
  const record: RequestRecord = { method, path: url.pathname, query, status: 0 };
  const userAgent = req.headers['user-agent'];
  if (userAgent !== undefined) record.userAgent = userAgent;
  const accept = req.headers.accept;
  if (accept !== undefined) record.accept = accept;
  state.log.push(record);
  if (state.log.length > MAX_LOG) state.log.splice(0, MAX_LOG / 10);
  try {
    const r = route(state.ctx.registry, url.pathname);
    if (r.type !== 'resource' && method !== 'GET') throw methodNotAllowed();
    switch (r.type) {
      case 'info':
        if (r.what === 'version') return sendJson(res, record, 200, versionInfo());
        return sendText(res, record, 200, 'ok');
      case 'coreVersions':
        return sendJson(res, record, 200, coreVersions(state.serverAddress()));
      case 'groups':
        return sendJson(res, record, 200, groupList(state.ctx.registry));
      case 'group':
        return sendJson(res, record, 200, groupInfo(state.ctx.registry, r.group));
      case 'resourceList':
        return sendJson(res, record, 200, resourceList(state.ctx.registry, r.group, r.version));
      case 'notFound':
        throw pathNotFound();
      case 'resource':
        return await handleResource(state, req, res, record, r);
    }
  } catch (err) {
    const e =
      err instanceof ApiError
        ? err
        : new ApiError(500, 'InternalError', `Internal error occurred: ${(err as Error).message}`);
    const retryAfter = e.details?.retryAfterSeconds;
    sendJson(res, record, e.code, statusBody(e), retryAfter !== undefined ? { 'Retry-After': String(retryAfter) } : {});
  }
}

type ResourceRoute = {
  rt: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
  legacyWatch: boolean;
};

function verbOf(method: string, r: ResourceRoute, watch: boolean): ApiVerb {
  const named = r.name !== undefined;
  switch (method) {
    case 'GET':
      return watch ? 'watch' : named ? 'get' : 'list';
    case 'POST':
      if (!named) return 'create';
      break;
    case 'PUT':
      if (named) return 'update';
      break;
    case 'PATCH':
      if (named) return 'patch';
      break;
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
  }
  throw methodNotAllowed();
}

async function handleResource(
  state: HttpState,
  req: IncomingMessage,
  res: ServerResponse,
  record: RequestRecord,
  r: ResourceRoute,
): Promise<void> {
  const { rt, namespace, name, subresource } = r;
  const query = record.query;
  Object.assign(record, { group: rt.group, version: rt.version, resource: rt.plural });
  if (namespace !== undefined) record.namespace = namespace;
  if (name !== undefined) record.name = name;
  if (subresource !== undefined) record.subresource = subresource;
  if (rt.namespaced && name !== undefined && namespace === undefined) throw pathNotFound();
  if (subresource !== undefined && (subresource !== 'status' || !rt.statusSubresource || name === undefined))
    throw pathNotFound();
  const watch = r.legacyWatch || flag(query.watch);
  if (subresource !== undefined && watch) throw methodNotAllowed();
  const verb = verbOf(req.method?.toUpperCase() ?? 'GET', r, watch);
  record.verb = verb;
  if (rt.namespaced && namespace === undefined && (verb === 'create' || verb === 'deletecollection'))
    throw methodNotAllowed();

  state.faults?.check(verb, rt, namespace, name, subresource);
  const failureAt = state.failures.findIndex((f) => failureMatches(f, verb, rt, subresource));
  if (failureAt >= 0) {
    const [f] = state.failures.splice(failureAt, 1);
    if (f && verb === 'watch' && f.status === 410) {
      record.status = 200;
      record.watchError = 410;
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(
        `${JSON.stringify({ type: 'ERROR', object: statusBody(expired(f.message ?? 'too old resource version: injected')) })}\n`,
      );
      return;
    }
    if (f) throw errorForCode(f.status, f.message);
  }

  const ctx = state.ctx;
  // As the real server: the Accept header decides the response's form (a Table for kubectl get).
  const { target } = negotiate(req.headers.accept);
  const includeObject = query.includeObject;
  const send = (code: number, body: object): void =>
    sendJson(
      res,
      record,
      code,
      target ? transformResponse(rt, target, body as Record<string, unknown>, { includeObject, now: ctx.now() }) : body,
    );
  const filter = (): ObjectFilter => {
    const fields = query.fieldSelector ? parseFieldSelector(query.fieldSelector, rt) : [];
    if (r.legacyWatch && name !== undefined) fields.push({ field: 'metadata.name', operator: '=', value: name });
    const f: ObjectFilter = { labels: query.labelSelector ? parseLabelSelector(query.labelSelector) : [], fields };
    if (rt.namespaced && namespace !== undefined) f.namespace = namespace;
    return f;
  };
  const mode = subresource === 'status' ? 'status' : 'main';
  switch (verb) {
    case 'get':
      return send(200, getObject(ctx, rt, namespace, name as string));
    case 'list': {
      const limit = query.limit === undefined || query.limit === '' ? undefined : Number(query.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 0))
        throw badRequest(`invalid limit: ${query.limit}`);
      const paging = {
        ...(limit !== undefined ? { limit } : {}),
        ...(query.continue ? { continue: query.continue } : {}),
      };
      return send(200, listObjects(ctx, rt, filter(), paging));
    }
    case 'watch': {
      const rv = query.resourceVersion;
      if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv))
        throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
      const timeout = query.timeoutSeconds === undefined ? undefined : Number(query.timeoutSeconds);
      if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 0))
        throw badRequest(`invalid timeoutSeconds: ${query.timeoutSeconds}`);
      const f = filter();
      if (r.legacyWatch && name !== undefined && namespace === undefined && rt.namespaced) throw pathNotFound();
      record.status = 200;
      let headers = true;
      const transform = target
        ? (object: KubeObject): unknown => {
            const out = transformResponse(rt, target, object as unknown as Record<string, unknown>, {
              includeObject,
              noHeaders: !headers,
              now: ctx.now(),
            });
            headers = false;
            return out;
          }
        : undefined;
      state.watches.serve(
        res,
        {
          rt,
          filter: f,
          ...(rv !== undefined ? { resourceVersion: rv } : {}),
          allowWatchBookmarks: flag(query.allowWatchBookmarks),
          ...(query.sendInitialEvents !== undefined ? { sendInitialEvents: flag(query.sendInitialEvents) } : {}),
          ...(timeout !== undefined ? { timeoutSeconds: timeout } : {}),
          ...(transform ? { transform } : {}),
        },
        (code) => (record.watchError = code),
      );
      return;
    }
    case 'create': {
      const body = await readBody(req);
      return send(201, createObject(ctx, rt, namespace, body, { dryRun: dryRun(query) }));
    }
    case 'update': {
      const body = await readBody(req);
      return send(
        200,
        updateObject(ctx, rt, namespace, name as string, body, mode, {
          dryRun: dryRun(query),
          requireResourceVersion: true,
        }),
      );
    }
    case 'patch': {
      const body = await readBody(req);
      const type = req.headers['content-type'] ?? '';
      return send(200, patchObject(ctx, rt, namespace, name as string, type, body, mode, { dryRun: dryRun(query) }));
    }
    case 'delete': {
      const body = (await readBody(req)) as { preconditions?: DeletePreconditions; dryRun?: string[] } | undefined;
      const preconditions = body && typeof body === 'object' && body.preconditions ? body.preconditions : undefined;
      const dry = dryRun(query) || (Array.isArray(body?.dryRun) && body.dryRun.includes('All'));
      const last = deleteObject(ctx, rt, namespace, name as string, {
        dryRun: dry,
        ...(preconditions ? { preconditions } : {}),
      });
      const removed = !dry && !ctx.store.get(resourceKey(rt), last.metadata.namespace, name as string);
      return send(
        200,
        removed && !rt.returnDeletedObject ? successStatus(rt, name as string, last.metadata.uid) : last,
      );
    }
    case 'deletecollection': {
      await readBody(req);
      const dry = dryRun(query);
      const listed = listObjects(ctx, rt, filter()).items as { metadata: { namespace?: string; name: string } }[];
      const items = listed.map((o) =>
        listItem(rt, deleteObject(ctx, rt, o.metadata.namespace, o.metadata.name, { dryRun: dry })),
      );
      const metadata = { resourceVersion: String(ctx.store.currentRevision) };
      return send(200, { kind: rt.listKind, apiVersion: apiVersionOf(rt), metadata, items });
    }
  }
}
