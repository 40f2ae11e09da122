// StaticRoute spec.healthCheck: what to probe (http: a URL and the status it must answer, tcp: an
// address to connect to), how often, how long a probe may take, how many passes or failures in a row
// change the state, and how long a failing route is announced de-preferred before it is withdrawn.
import {
  type Fields,
  type ObjectContext,
  checkUnknownFields,
  join,
  readBoolean,
  readFields,
  readInteger,
  readString,
  report,
} from './check.js';
import { parseDuration } from './duration.js';
import { STATIC_ROUTE_SPEC_FIELDS } from './fields.js';
import type { HealthCheck } from './types.js';

export const HEALTH_CHECK_DEFAULTS = {
  interval: '2s',
  timeout: '1s',
  rise: 2,
  fall: 3,
  drainTime: '5s',
  expectedStatus: 200,
} as const;

const FIELDS = STATIC_ROUTE_SPEC_FIELDS.healthCheck;

/** A duration field in ms within [minMs, maxMs], or undefined with the problem recorded. */
function readDurationMs(
  ctx: ObjectContext,
  obj: Fields,
  key: string,
  path: string,
  fallback: string,
  minMs: number,
  maxMs: number,
  range: string,
): number | undefined {
  const text = readString(ctx, obj, key, path) ?? (obj[key] === undefined || obj[key] === null ? fallback : undefined);
  if (text === undefined) return undefined;
  const seconds = parseDuration(text);
  if (typeof seconds === 'string') {
    report(ctx, join(path, key), seconds);
    return undefined;
  }
  const ms = Math.round(seconds * 1000);
  if (ms < minMs || ms > maxMs) {
    report(ctx, join(path, key), `must be ${range}, got ${JSON.stringify(text)}`);
    return undefined;
  }
  return ms;
}

/** "127.0.0.1:6443", "[2001:db8::1]:6443", "localhost:6443" to host and port, or a message. */
export function parseHostPort(text: string): { host: string; port: number } | string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]\s]+)):(\d{1,5})$/.exec(text);
  const port = m === null ? Number.NaN : Number(m[3]);
  if (m === null || !(port >= 1 && port <= 65535))
    return `must be "host:port" ("127.0.0.1:6443", "[2001:db8::1]:6443"), port 1-65535, got ${JSON.stringify(text)}`;
  return { host: m[1] ?? m[2]!, port };
}

function readHttp(ctx: ObjectContext, http: Fields, path: string): HealthCheck['http'] | undefined {
  checkUnknownFields(ctx, http, FIELDS.http, path);
  const url = readString(ctx, http, 'url', path, true);
  let ok = url !== undefined;
  if (url !== undefined) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(url);
    } catch {
      parsed = undefined;
    }
    if (parsed === undefined || (parsed.protocol !== 'http:' && parsed.protocol !== 'https:')) {
      report(ctx, join(path, 'url'), `must be an http:// or https:// URL, got ${JSON.stringify(url)}`);
      ok = false;
    } else if (parsed.username !== '' || parsed.password !== '') {
      report(ctx, join(path, 'url'), 'must not carry credentials (user:password@)');
      ok = false;
    }
  }
  const insecureSkipVerify = readBoolean(ctx, http, 'insecureSkipVerify', path) ?? false;
  const expectedStatus =
    readInteger(ctx, http, 'expectedStatus', path, 100, 599, false, ' (an HTTP status)') ??
    HEALTH_CHECK_DEFAULTS.expectedStatus;
  return ok ? { url: url!, insecureSkipVerify, expectedStatus } : undefined;
}

/** spec.healthCheck with defaults filled, undefined when absent or (with problems recorded) bad. */
export function readHealthCheck(ctx: ObjectContext, spec: Fields): HealthCheck | undefined {
  const hc = readFields(ctx, spec, 'healthCheck', 'spec');
  if (hc === undefined) return undefined;
  const path = 'spec.healthCheck';
  const before = ctx.problems.length;
  checkUnknownFields(ctx, hc, FIELDS, path);
  const httpFields = readFields(ctx, hc, 'http', path);
  const tcpFields = readFields(ctx, hc, 'tcp', path);
  let http: HealthCheck['http'];
  let tcp: HealthCheck['tcp'];
  if (httpFields !== undefined && tcpFields !== undefined)
    report(ctx, path, 'has both http and tcp: give one kind of check');
  else if (httpFields === undefined && tcpFields === undefined && hc.http == null && hc.tcp == null)
    report(ctx, path, 'needs a check: http (url, insecureSkipVerify, expectedStatus) or tcp (address)');
  else if (httpFields !== undefined) http = readHttp(ctx, httpFields, join(path, 'http'));
  else if (tcpFields !== undefined) {
    const tpath = join(path, 'tcp');
    checkUnknownFields(ctx, tcpFields, FIELDS.tcp, tpath);
    const address = readString(ctx, tcpFields, 'address', tpath, true);
    if (address !== undefined) {
      const hp = parseHostPort(address);
      if (typeof hp === 'string') report(ctx, join(tpath, 'address'), hp);
      else tcp = hp;
    }
  }
  const intervalMs = readDurationMs(
    ctx,
    hc,
    'interval',
    path,
    HEALTH_CHECK_DEFAULTS.interval,
    100,
    3_600_000,
    'from 100ms to 1h',
  );
  const timeoutMs = readDurationMs(
    ctx,
    hc,
    'timeout',
    path,
    HEALTH_CHECK_DEFAULTS.timeout,
    10,
    3_600_000,
    'from 10ms to 1h',
  );
  if (intervalMs !== undefined && timeoutMs !== undefined && timeoutMs > intervalMs)
    report(ctx, join(path, 'timeout'), `must not be longer than interval (${timeoutMs} ms > ${intervalMs} ms)`);
  const rise = readInteger(ctx, hc, 'rise', path, 1, 100) ?? HEALTH_CHECK_DEFAULTS.rise;
  const fall = readInteger(ctx, hc, 'fall', path, 1, 100) ?? HEALTH_CHECK_DEFAULTS.fall;
  const drainMs = readDurationMs(
    ctx,
    hc,
    'drainTime',
    path,
    HEALTH_CHECK_DEFAULTS.drainTime,
    0,
    600_000,
    'from 0 to 10m',
  );
  if (ctx.problems.length !== before || intervalMs === undefined || timeoutMs === undefined || drainMs === undefined)
    return undefined;
  const check: HealthCheck = { intervalMs, timeoutMs, rise, fall, drainMs };
  if (http !== undefined) check.http = http;
  if (tcp !== undefined) check.tcp = tcp;
  return check;
}
