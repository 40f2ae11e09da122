// metav1.Status errors with the codes, reasons and messages the real API server uses.
import type { ResourceType } from './types.js';

/** One field problem in an Invalid status (details.causes). */
export interface StatusCause {
  reason: string;
  message: string;
  field?: string;
}

/** An error answered as a metav1.Status body with its HTTP code. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: {
      name?: string;
      group?: string;
      kind?: string;
      causes?: StatusCause[];
      retryAfterSeconds?: number;
    },
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** The metav1.Status JSON for an error. */
export function statusBody(err: ApiError): Record<string, unknown> {
  const body: Record<string, unknown> = {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: err.message,
    reason: err.reason,
    code: err.code,
  };
  if (err.details) body.details = err.details;
  return body;
}

/** The metav1.Status JSON for a successful deletion that returns no object. */
export function successStatus(rt: ResourceType, name: string, uid?: string): Record<string, unknown> {
  return {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Success',
    details: { name, group: rt.group, kind: rt.plural, ...(uid ? { uid } : {}) },
  };
}

/** "services" or "leases.coordination.k8s.io": how messages name a resource. */
export function qualifiedResource(rt: ResourceType): string {
  return rt.group ? `${rt.plural}.${rt.group}` : rt.plural;
}

/** An error with the usual reason for an HTTP code (for failNext and generic cases). */
export function errorForCode(code: number, message?: string): ApiError {
  const reason = REASONS[code] ?? (code >= 500 ? 'InternalError' : 'Unknown');
  return new ApiError(code, reason, message ?? `injected failure (${code} ${reason})`);
}

/** 404 NotFound for a named object. */
export function notFound(rt: ResourceType, name: string): ApiError {
  return new ApiError(404, 'NotFound', `${qualifiedResource(rt)} "${name}" not found`, {
    name,
    group: rt.group,
    kind: rt.plural,
  });
}

/** 404 NotFound for a path the server does not serve. */
export function pathNotFound(): ApiError {
  return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
}

/** 409 AlreadyExists. */
export function alreadyExists(rt: ResourceType, name: string): ApiError {
  return new ApiError(409, 'AlreadyExists', `${qualifiedResource(rt)} "${name}" already exists`, {
    name,
    group: rt.group,
    kind: rt.plural,
  });
}

/** 409 Conflict (stale resourceVersion or a failed precondition). */
export function conflict(rt: ResourceType, name: string, why?: string): ApiError {
  const reason = why ?? 'the object has been modified; please apply your changes to the latest version and try again';
  return new ApiError(
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${qualifiedResource(rt)} "${name}": ${reason}`,
    {
      name,
      group: rt.group,
      kind: rt.plural,
    },
  );
}

/** 422 Invalid with one cause per field problem. */
export function invalid(rt: ResourceType, name: string, causes: StatusCause[]): ApiError {
  const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
  const summary = list.length === 1 ? list[0] : `[${list.join(', ')}]`;
  const kind = rt.group ? `${rt.kind}.${rt.group}` : rt.kind;
  return new ApiError(422, 'Invalid', `${kind} "${name}" is invalid: ${summary}`, {
    name,
    group: rt.group,
    kind: rt.kind,
    causes,
  });
}

/** 400 BadRequest. */
export function badRequest(message: string): ApiError {
  return new ApiError(400, 'BadRequest', message);
}

/** 405 MethodNotAllowed. */
export function methodNotAllowed(): ApiError {
  return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
}

/** 410 Gone with reason Expired, as a watch or continue from a compacted resourceVersion gets. */
export function expired(message: string): ApiError {
  return new ApiError(410, 'Expired', message);
}

/** 403 Forbidden. */
export function forbidden(rt: ResourceType, name: string, why: string): ApiError {
  return new ApiError(403, 'Forbidden', `${qualifiedResource(rt)} "${name}" is forbidden: ${why}`, {
    name,
    group: rt.group,
    kind: rt.plural,
  });
}

/** 415 UnsupportedMediaType for a patch type the resource does not take. */
export function unsupportedMediaType(contentType: string, accepted: string[]): ApiError {
  return new ApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format (${contentType || 'no content type'}) - accepted media types include: ${accepted.join(', ')}`,
  );
}
