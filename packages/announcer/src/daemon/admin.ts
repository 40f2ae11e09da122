// The admin endpoint: read-only JSON for people debugging a node without a shell (Talos has no
// tcpdump). Loopback (or a unix socket) only unless asked: it has no authentication, and what it
// shows (peers, routes, messages) is for the node's operator.
//   GET /v1/status                  node, peers (state, capabilities, hold time, uptime, last down,
//                                   prefixes, BFD), the BFD engine, the route source's status
//   GET /v1/peers/{id}/routes       advertised and received routes (?limit=N, default 1000)
//   GET /v1/peers/{id}/messages     the last BGP messages decoded and the BFD state changes
import type http from 'node:http';
import { serve, sendJson, type RunningServer, type ServeOptions } from './http.js';
import { DaemonOptionError, formatListenAddress, isLoopback, type ListenAddress } from './options.js';
import { messagesView, routesView, statusView, type AdminContext } from './admin-views.js';

export const DEFAULT_ROUTE_LIMIT = 1000;
const MAX_ROUTE_LIMIT = 10_000_000;

export interface AdminServerOptions {
  address: ListenAddress;
  /** Listen on an address other than loopback. Default false: such an address is refused. */
  allowRemote?: boolean;
  context: AdminContext;
  /** Connection cap and timeouts, over DEFAULT_HTTP_LIMITS; who hears of shed connections. */
  serve?: ServeOptions;
}

/** Throws DaemonOptionError when `address` is reachable from other hosts and that was not allowed. */
export function checkAdminAddress(address: ListenAddress, allowRemote = false): void {
  if (address.kind === 'unix' || allowRemote || isLoopback(address.host)) return;
  throw new DaemonOptionError(
    `admin endpoint ${formatListenAddress(address)} is not a loopback address: it has no authentication, so it listens on 127.0.0.1, ::1 or a unix socket unless allowed explicitly (--admin-allow-remote)`,
  );
}

/** Starts the admin endpoint. Throws DaemonOptionError for a non-loopback address; rejects when it cannot listen. */
export async function startAdminServer(options: AdminServerOptions): Promise<RunningServer> {
  checkAdminAddress(options.address, options.allowRemote);
  const ctx = options.context;
  const handler: http.RequestListener = (req, res) => {
    handle(ctx, req, res).catch((err: Error) => sendJson(res, 500, { error: `internal error: ${err.message}` }));
  };
  return serve(options.address, 'admin endpoint', handler, options.serve);
}

async function handle(ctx: AdminContext, req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
  if (req.method !== 'GET') return sendJson(res, 405, { error: 'the admin endpoint is read-only: GET only' });
  const url = new URL(req.url ?? '/', 'http://admin');
  const parts = url.pathname.split('/').filter((p) => p !== '');
  if (parts.length === 2 && parts[0] === 'v1' && parts[1] === 'status')
    return sendJson(res, 200, await statusView(ctx));
  if (parts.length === 4 && parts[0] === 'v1' && parts[1] === 'peers') {
    let id: string;
    try {
      id = decodeURIComponent(parts[2]!);
    } catch {
      return sendJson(res, 400, { error: `bad peer id in the path: ${parts[2]}` });
    }
    const unknown = (): void =>
      sendJson(res, 404, { error: `no peer ${JSON.stringify(id)}`, peers: ctx.speaker.peers().map((p) => p.id) });
    if (parts[3] === 'routes') {
      const limitText = url.searchParams.get('limit');
      const limit = limitText === null ? DEFAULT_ROUTE_LIMIT : /^\d{1,8}$/.test(limitText) ? Number(limitText) : NaN;
      if (!(limit >= 0 && limit <= MAX_ROUTE_LIMIT))
        return sendJson(res, 400, {
          error: `limit must be a whole number 0-${MAX_ROUTE_LIMIT}, got ${JSON.stringify(limitText)}`,
        });
      const view = routesView(ctx.speaker, id, limit);
      return view ? sendJson(res, 200, view) : unknown();
    }
    if (parts[3] === 'messages') {
      const view = messagesView(ctx.speaker, ctx.bfdHistory, id);
      return view ? sendJson(res, 200, view) : unknown();
    }
  }
  sendJson(res, 404, {
    error: `not found: ${url.pathname}`,
    endpoints: ['/v1/status', '/v1/peers/{id}/routes', '/v1/peers/{id}/messages'],
  });
}
