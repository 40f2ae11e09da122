// What went wrong in a call to the Kubernetes API, in a form fit for a log line and a decision:
// the HTTP status (409 Conflict, 410 Gone, 404 Not Found) and the API server's own message, instead
// of client-node's multi-line "HTTP-Code: ... Headers: ..." text; and a time limit for calls, since
// client-node sets none.
import type { Logger } from 'pino';

/** The logging calls the Kubernetes layer makes (a pino Logger fits). */
export type KubeLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

const noop = (): void => {};
/** A logger that drops everything (the default when none is given). */
export const silentLogger: KubeLogger = { debug: noop, info: noop, warn: noop, error: noop } as unknown as KubeLogger;

/**
 * The HTTP status of a failed API call: client-node's ApiException (`code`), a watch that was refused
 * (`statusCode`), or a metav1.Status object (`code`). Undefined for network errors.
 */
export function statusCodeOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e.statusCode === 'number') return e.statusCode;
  if (typeof e.code === 'number') return e.code;
  return undefined;
}

/** The API server's message from a metav1.Status body (an object or its JSON text), if there is one. */
function statusMessage(body: unknown): string | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.length > 0 && body.length < 300 ? body : undefined;
    }
  }
  if (typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string') {
    return (value as { message: string }).message;
  }
  return undefined;
}

/** One line describing a failed API call: "409: Operation cannot be fulfilled on leases ...". */
export function errorText(err: unknown): string {
  if (typeof err !== 'object' || err === null) return String(err);
  const code = statusCodeOf(err);
  const e = err as { body?: unknown; message?: unknown };
  const fromBody = statusMessage(e.body);
  if (code !== undefined) return `${code}: ${fromBody ?? firstLine(e.message) ?? 'error'}`;
  return firstLine(e.message) ?? String(err);
}

function firstLine(message: unknown): string | undefined {
  if (typeof message !== 'string' || message === '') return undefined;
  const lines = message.split('\n');
  if (!lines[0]!.startsWith('HTTP-Code: ')) return lines[0];
  // client-node's ApiException: "HTTP-Code: 409\nMessage: Conflict\nBody: ...".
  return lines.find((l) => l.startsWith('Message: '))?.slice('Message: '.length);
}

/**
 * How long the server asked us to wait before trying again, in ms: the Retry-After header of a
 * client-node ApiException (seconds), else details.retryAfterSeconds of its metav1.Status body.
 * Undefined when the error carries neither (client-node's Watch keeps no headers and no body).
 */
export function retryAfterMs(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as { headers?: unknown; body?: unknown };
  if (typeof e.headers === 'object' && e.headers !== null) {
    for (const [k, v] of Object.entries(e.headers as Record<string, unknown>)) {
      if (k.toLowerCase() !== 'retry-after') continue;
      const seconds = Number(Array.isArray(v) ? v[0] : v);
      if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    }
  }
  let body: unknown = e.body;
  if (typeof body === 'string') {
    try {
      body = JSON.parse(body);
    } catch {
      return undefined;
    }
  }
  const seconds = (body as { details?: { retryAfterSeconds?: unknown } } | null)?.details?.retryAfterSeconds;
  return typeof seconds === 'number' && seconds >= 0 ? seconds * 1000 : undefined;
}

/** A call to the API server that did not answer in time (client-node sets no timeout of its own). */
export class ApiTimeoutError extends Error {
  constructor(ms: number) {
    super(`no answer from the API server within ${ms} ms`);
    this.name = 'ApiTimeoutError';
  }
}

/**
 * The promise's outcome, or an ApiTimeoutError after `ms` (the request itself is left to finish or
 * fail on its own: the generated client offers no way to abort it).
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ApiTimeoutError(ms)), ms);
    timer.unref();
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
