// The metrics endpoint: GET /metrics (Prometheus text), /healthz (the process runs and its event loop
// is not stuck) and /readyz (the route source is ready and the speaker runs). Also the listen helper
// both HTTP endpoints use (TCP or unix socket, with errors in words). Both endpoints serve within
// HttpLimits (http-limits.ts): a connection cap and short timeouts.
import type http from 'node:http';
import net from 'node:net';
import { lstat, unlink } from 'node:fs/promises';
import { formatListenAddress, type ListenAddress } from './options.js';
import { createBoundedServer, resolveHttpLimits, type ConnectionStats, type HttpLimits } from './http-limits.js';

/** A running HTTP endpoint. */
export interface RunningServer {
  /** Where it listens (the real port when 0 was asked). */
  address: ListenAddress;
  /** The connections it holds now, and those its cap closed or refused so far. */
  connections(): ConnectionStats;
  close(): Promise<void>;
}

/** How an endpoint serves: its bounds, and who hears when the cap closes or refuses a connection. */
export interface ServeOptions {
  /** Over DEFAULT_HTTP_LIMITS. */
  limits?: Partial<HttpLimits>;
  onShed?: (action: 'evicted' | 'refused') => void;
}

/**
 * Serves `handler` on `address` within the limits (`what` names the endpoint in errors). Rejects
 * with a RangeError for bad limits, or as listenOn does.
 */
export async function serve(
  address: ListenAddress,
  what: string,
  handler: http.RequestListener,
  options: ServeOptions = {},
): Promise<RunningServer> {
  const bounded = createBoundedServer(resolveHttpLimits(options.limits), handler, options.onShed);
  const bound = await listenOn(bounded.server, address, what);
  return { address: bound, connections: bounded.stats, close: bounded.close };
}

/** True when something accepts connections on the unix socket at `path`. */
function socketAnswers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(path);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/**
 * Listens on `address`. A unix socket left over by a previous run (nothing answers on it) is removed
 * first. Rejects with an Error naming `what` and the address ("metrics endpoint 0.0.0.0:7475: address in use").
 */
export async function listenOn(server: http.Server, address: ListenAddress, what: string): Promise<ListenAddress> {
  if (address.kind === 'unix') {
    const old = await lstat(address.path).catch(() => undefined);
    if (old?.isSocket() && !(await socketAnswers(address.path))) await unlink(address.path).catch(() => undefined);
  }
  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why =
        err.code === 'EADDRINUSE'
          ? 'address in use (another bgp-announce, or something else, listens there)'
          : err.code === 'EADDRNOTAVAIL'
            ? 'address not on this host'
            : err.code === 'EACCES'
              ? 'permission denied'
              : err.code === 'ENOENT'
                ? 'no such directory'
                : err.message;
      reject(new Error(`${what} ${formatListenAddress(address)}: ${why}`));
    };
    server.once('error', onError);
    const done = (): void => {
      server.off('error', onError);
      resolve();
    };
    if (address.kind === 'unix') server.listen(address.path, done);
    else server.listen(address.port, address.host, done);
  });
  const bound = server.address();
  if (address.kind === 'tcp' && bound !== null && typeof bound === 'object')
    return { kind: 'tcp', host: address.host, port: bound.port };
  return address;
}

/** Writes a JSON answer. */
export function sendJson(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body, jsonReplacer, 2) + '\n';
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(text);
}

/** JSON for bytes (hex) and big integers (decimal text). */
export function jsonReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Uint8Array) return Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex');
  if (typeof value === 'bigint') return value.toString();
  return value;
}

/**
 * Watches the event loop: a timer every `intervalMs` measures how late it ran, which is how long the
 * loop was blocked. blockedMs() is the longest lateness within the last `windowMs`.
 */
export class EventLoopWatchdog {
  private readonly timer: NodeJS.Timeout;
  private expected: number;
  private blocks: { at: number; ms: number }[] = [];

  constructor(
    private readonly intervalMs = 100,
    private readonly windowMs = 60_000,
  ) {
    this.expected = Date.now() + intervalMs;
    this.timer = setInterval(() => this.tick(), intervalMs);
    this.timer.unref();
  }

  private tick(): void {
    const now = Date.now();
    const late = now - this.expected;
    this.expected = now + this.intervalMs;
    if (late > 0) this.blocks.push({ at: now, ms: late });
    this.blocks = this.blocks.filter((b) => now - b.at <= this.windowMs && b.ms > 0);
    if (this.blocks.length > 100) this.blocks = this.blocks.sort((a, b) => b.ms - a.ms).slice(0, 10);
  }

  /** The longest time the event loop was blocked within the window, including an overdue tick now. */
  blockedMs(): number {
    const now = Date.now();
    let max = Math.max(0, now - this.expected);
    for (const b of this.blocks) if (now - b.at <= this.windowMs) max = Math.max(max, b.ms);
    return max;
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/** What the metrics endpoint serves. */
export interface MetricsServerOptions {
  address: ListenAddress;
  metrics: { metrics(): Promise<string>; contentType: string };
  /** /readyz: the source is ready and the speaker runs; `why` says what is missing. */
  readiness: () => { ready: boolean; why?: string };
  /** /healthz fails when the event loop was blocked longer than this within the last minute. Default 10000 ms. */
  maxEventLoopBlockMs?: number;
  /** Connection cap and timeouts, over DEFAULT_HTTP_LIMITS; who hears of shed connections. */
  serve?: ServeOptions;
}

/** Starts the metrics endpoint. Rejects when it cannot listen. */
export async function startMetricsServer(options: MetricsServerOptions): Promise<RunningServer> {
  const maxBlockMs = options.maxEventLoopBlockMs ?? 10_000;
  // A tick every tenth of the limit (at most every second) sees a block to within 10 % of it, and
  // costs next to nothing at idle (every 100 ms was a visible part of an idle daemon's CPU).
  const watchdog = new EventLoopWatchdog(Math.max(10, Math.min(1000, Math.floor(maxBlockMs / 10))));
  const text = (res: http.ServerResponse, status: number, body: string): void => {
    res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
    res.end(body + '\n');
  };
  const handler: http.RequestListener = (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(res, 405, 'only GET');
    if (path === '/metrics') {
      options.metrics.metrics().then(
        (body) => {
          res.writeHead(200, { 'content-type': options.metrics.contentType });
          res.end(body);
        },
        (err: Error) => text(res, 500, `metrics failed: ${err.message}`),
      );
      return;
    }
    if (path === '/healthz') {
      const blocked = watchdog.blockedMs();
      if (blocked > maxBlockMs)
        return text(
          res,
          503,
          `event loop blocked for ${Math.round(blocked)} ms within the last minute (limit ${maxBlockMs} ms)`,
        );
      return text(res, 200, 'ok');
    }
    if (path === '/readyz') {
      const r = options.readiness();
      return r.ready ? text(res, 200, 'ready') : text(res, 503, `not ready: ${r.why ?? 'starting'}`);
    }
    text(res, 404, 'not found: try /metrics, /healthz or /readyz');
  };
  let running: RunningServer;
  try {
    running = await serve(options.address, 'metrics endpoint', handler, options.serve);
  } catch (err) {
    watchdog.stop();
    throw err;
  }
  return {
    ...running,
    close: async () => {
      watchdog.stop();
      await running.close();
    },
  };
}
