// What one HTTP endpoint may hold, so that a host that opens thousands of idle connections to it can
// neither use up the daemon's file descriptors (its BGP sockets need them: they are outbound, and a
// connect() fails with EMFILE like an accept() does) nor keep kubelet's /healthz probe out.
//
// Timeouts: Node's defaults let a connection that never sends a byte live 60 s (headersTimeout),
// checked every 30 s, so 60-90 s; here it is closed after headersTimeoutMs, checked every
// checkIntervalMs. Requests are GETs without a body: all of one arrives in one packet or two.
//
// The cap: node's own `server.maxConnections` refuses the newest connection once the server holds that
// many, so a flood that holds every slot with idle connections keeps kubelet's fresh probe connection
// out until the flood's connections time out, and an attacker just opens them again. Instead, a new
// connection over the cap closes the connection that has waited longest without a request in
// progress (never sent one, still sending its headers, or idle between keep-alive requests), then one
// whose answer is already written and only waits for a slow reader. Kubelet (and Prometheus) send
// their request as soon as they are connected, so a fresh connection is served while a flood only
// evicts its own older connections. Only when every held connection has a handler still working (a
// few milliseconds each) is the newcomer answered 503 and closed. Descriptors stay at the cap plus
// the connections accepted in one event-loop turn: an evicted socket's descriptor is closed at once.
import http from 'node:http';
import type net from 'node:net';

/** The bounds of one HTTP endpoint. */
export interface HttpLimits {
  /** Connections held at once; a new one over the cap evicts the one idle longest (see above). */
  maxConnections: number;
  /** A connection must have sent a request's headers this long after it opened (or after its last request). */
  headersTimeoutMs: number;
  /** A request must have arrived whole this long after it started (Node: >= headersTimeoutMs). */
  requestTimeoutMs: number;
  /** A keep-alive connection idle this long after an answer is closed (Node waits 1 s more, for clients late by a little). */
  keepAliveTimeoutMs: number;
  /** A connection on which nothing moves either way this long is closed (a reader that stopped reading). */
  idleTimeoutMs: number;
  /** How often the header and request deadlines are checked (Node's default is 30 s). */
  checkIntervalMs: number;
}

/**
 * The defaults of both endpoints. Their clients are kubelet's probes (a new connection each, every
 * 5-10 s), one or two Prometheus scrapers and a person with curl or `bgp-announce status`: fewer than
 * ten connections at a time, each sending its request at once. 32 leaves room; 5 s for headers is
 * plenty on a LAN and still lets an idle connection go within seconds; 1 s of keep-alive (2 s with
 * Node's own second) is shorter than any scrape interval, so no client loses by it.
 */
export const DEFAULT_HTTP_LIMITS: Readonly<HttpLimits> = Object.freeze({
  maxConnections: 32,
  headersTimeoutMs: 5000,
  requestTimeoutMs: 10_000,
  keepAliveTimeoutMs: 1000,
  idleTimeoutMs: 10_000,
  checkIntervalMs: 1000,
});

/** What the cap did so far. */
export interface ConnectionStats {
  /** Connections held now. */
  open: number;
  /** Connections closed to make room for a new one. */
  evicted: number;
  /** New connections answered 503 because every held one had a request in progress. */
  refused: number;
}

/** The defaults with `over` applied, checked. Throws a RangeError naming the bound at fault. */
export function resolveHttpLimits(over: Partial<HttpLimits> = {}): HttpLimits {
  const l: HttpLimits = { ...DEFAULT_HTTP_LIMITS, ...over };
  const whole = (name: keyof HttpLimits, min: number, max: number): void => {
    const v = l[name];
    if (!Number.isInteger(v) || v < min || v > max)
      throw new RangeError(`HTTP ${name} must be ${min}-${max}, got ${v}`);
  };
  whole('maxConnections', 1, 100_000);
  for (const name of [
    'headersTimeoutMs',
    'requestTimeoutMs',
    'keepAliveTimeoutMs',
    'idleTimeoutMs',
    'checkIntervalMs',
  ] as const)
    whole(name, 1, 3_600_000);
  if (l.requestTimeoutMs < l.headersTimeoutMs)
    throw new RangeError(
      `HTTP requestTimeoutMs (${l.requestTimeoutMs}) must be at least headersTimeoutMs (${l.headersTimeoutMs})`,
    );
  return l;
}

/** An HTTP server with the limits applied, its cap's counts, and a close that does not wait on idle connections. */
export interface BoundedServer {
  server: http.Server;
  stats(): ConnectionStats;
  /** Stops listening, closes idle connections at once and the others after their answer; resolves when all are gone. */
  close(): Promise<void>;
}

/** What a held connection is doing: the answers it owes (none: it may be evicted). */
interface Held {
  socket: net.Socket;
  pending: Set<http.ServerResponse>;
}

const REFUSED_BODY = 'too many connections: try again\n';
const REFUSED =
  'HTTP/1.1 503 Service Unavailable\r\nconnection: close\r\ncontent-type: text/plain; charset=utf-8\r\n' +
  `retry-after: 1\r\ncontent-length: ${Buffer.byteLength(REFUSED_BODY)}\r\n\r\n${REFUSED_BODY}`;

/**
 * Creates an HTTP server that serves `handler` within `limits` (see the top of this file).
 * `onShed` is called each time a connection is evicted or refused.
 */
export function createBoundedServer(
  limits: HttpLimits,
  handler: http.RequestListener,
  onShed: (action: 'evicted' | 'refused') => void = () => {},
): BoundedServer {
  const server = http.createServer({
    headersTimeout: limits.headersTimeoutMs,
    requestTimeout: limits.requestTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    connectionsCheckingInterval: limits.checkIntervalMs,
  });
  server.timeout = limits.idleTimeoutMs;
  // Oldest first: a connection moves to the end each time it becomes idle again.
  const held = new Map<net.Socket, Held>();
  const refused = new WeakSet<net.Socket>();
  const stats = { evicted: 0, refused: 0 };
  let closing = false;

  const victim = (): Held | undefined => {
    let flushing: Held | undefined;
    for (const h of held.values()) {
      if (h.pending.size === 0) return h;
      if (flushing === undefined && [...h.pending].every((res) => res.writableEnded)) flushing = h;
    }
    return flushing;
  };

  // Registered after http's own 'connection' listener, which has given the socket its parser.
  server.on('connection', (socket: net.Socket) => {
    if (held.size >= limits.maxConnections) {
      const old = victim();
      if (old === undefined) {
        stats.refused++;
        refused.add(socket);
        socket.end(REFUSED, () => socket.destroy());
        onShed('refused');
        return;
      }
      held.delete(old.socket);
      old.socket.destroy();
      stats.evicted++;
      onShed('evicted');
    }
    const h: Held = { socket, pending: new Set() };
    held.set(socket, h);
    socket.once('close', () => {
      if (held.get(socket) === h) held.delete(socket);
    });
  });

  server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    if (refused.has(socket)) return; // its 503 is on the way; the request is not served
    const h = held.get(socket);
    if (h === undefined) {
      // Evicted while its request was being parsed: nobody reads the answer.
      socket.destroy();
      return;
    }
    h.pending.add(res);
    const done = (): void => {
      if (!h.pending.delete(res) || h.pending.size > 0 || held.get(socket) !== h) return;
      if (closing) {
        socket.destroy();
        return;
      }
      held.delete(socket);
      held.set(socket, h);
    };
    res.once('finish', done);
    res.once('close', done);
    handler(req, res);
  });

  return {
    server,
    stats: () => ({ open: held.size, ...stats }),
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        for (const h of [...held.values()]) if (h.pending.size === 0) h.socket.destroy();
      }),
  };
}
