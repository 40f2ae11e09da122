// The TCP edge of a session with the RFC 2385 TCP MD5 signature, RFC 5082 GTSM and the eBGP multihop
// TTL: outbound connections and listeners whose sockets get these options before connect() or
// listen(), through @bgp-announce/sockopt (Node's `net` cannot set them). Without any of the options
// this is plain net.connect / server.listen.
//
// A session that asks for an option never runs without it: when the option is invalid, the addon is
// not built, or the kernel refuses it, the connection fails with a TransportSetupError (the driver
// reports it and retries after its back-off) and no SYN is sent; a listener emits 'error'.
import net from 'node:net';
import * as sockopt from '@bgp-announce/sockopt';

/** Where to connect and listen. */
export interface TransportOptions {
  /** The peer's address (IPv4 or IPv6 text). */
  peerAddress: string;
  /** The peer's TCP port. Default 179. */
  peerPort?: number;
  /** Our source address for outbound connections (and the listen address unless `listen` says otherwise). */
  localAddress?: string;
  /** Our source port for outbound connections. Default: an ephemeral port. */
  localPort?: number;
  /** Where to listen in passive/both mode. Default localAddress (or all addresses) and port 179. Port 0 picks one. */
  listen?: { host?: string; port?: number };
  /** Linger after our FIN before the socket is destroyed if the peer does not close (ms). Default 3000. */
  closeTimeoutMs?: number;
  /** RFC 2385 TCP MD5 signature key shared with the peer (1-80 bytes). Needs the native socket addon. */
  md5Password?: string;
  /**
   * RFC 5082 GTSM: send with TTL (hop limit) 255 and accept only packets that arrived with a TTL of at
   * least 256 - ttlSecurity, i.e. the peer is at most this many hops away (1: directly connected).
   * Needs the native socket addon. Mutually exclusive with ebgpMultihop.
   */
  ttlSecurity?: number;
  /** TTL (hop limit) of our packets, 1-255, for eBGP multihop. Default: the kernel's default (64). Needs the native socket addon. */
  ebgpMultihop?: number;
}

/** The TransportOptions fields that need socket options. */
export interface TransportSecurity {
  /** RFC 2385 key shared with the peer, 1-80 bytes (UTF-8). */
  md5Password?: string;
  /** RFC 5082 GTSM: the peer is at most this many hops away, 1-254. */
  ttlSecurity?: number;
  /** TTL of our packets, 1-255. */
  ebgpMultihop?: number;
}

/** Where to connect, and the options to set first. */
export interface ConnectTarget extends TransportSecurity {
  peerAddress: string;
  peerPort?: number;
  localAddress?: string;
  localPort?: number;
}

/** What to set on a socket, resolved from TransportSecurity. */
export interface SocketOptionPlan {
  /** The MD5 key bytes. */
  md5Key?: Buffer;
  /** TTL (hop limit) of sent packets. */
  ttl?: number;
  /** Minimum TTL (hop limit) of received packets. */
  minTtl?: number;
}

/** Invalid transport options, or socket options that could not be set: the session does not connect. */
export class TransportSetupError extends Error {
  /** The errno name when a system call failed (e.g. ENOPROTOOPT), else undefined. */
  readonly code: string | undefined;
  constructor(message: string, code?: string) {
    super(message);
    this.name = 'TransportSetupError';
    this.code = code;
  }
}

/** The parts of @bgp-announce/sockopt used here (injectable for tests). */
export type Sockopt = Pick<
  typeof sockopt,
  'sockoptAvailable' | 'createTcpSocket' | 'bindSocket' | 'closeSocket' | 'setTcpMd5Sig' | 'setTtl' | 'setMinTtl'
>;

const isInteger = (v: unknown, min: number, max: number): boolean =>
  typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;

/**
 * Checks md5Password (1-80 bytes), ttlSecurity (1-254 hops) and ebgpMultihop (1-255), which exclude
 * each other's TTL, and returns what to set on the socket, or undefined when nothing is asked for.
 * Throws TransportSetupError with a message naming the option.
 */
export function socketOptionPlan(o: TransportSecurity, peerAddress = 'the peer'): SocketOptionPlan | undefined {
  const plan: SocketOptionPlan = {};
  if (o.md5Password !== undefined) {
    const key = typeof o.md5Password === 'string' ? Buffer.from(o.md5Password, 'utf8') : undefined;
    if (!key || key.length < 1 || key.length > 80) {
      const size = key ? `${key.length} bytes` : `a ${typeof o.md5Password}`;
      throw new TransportSetupError(
        `md5Password for ${peerAddress} is ${size}; RFC 2385 keys here are 1-80 bytes of text`,
      );
    }
    plan.md5Key = key;
  }
  if (o.ttlSecurity !== undefined && o.ebgpMultihop !== undefined) {
    throw new TransportSetupError(
      `ttlSecurity and ebgpMultihop are both set for ${peerAddress}: GTSM (RFC 5082) sends with TTL 255, so choose one ` +
        '(ttlSecurity N accepts a peer up to N hops away)',
    );
  }
  if (o.ttlSecurity !== undefined) {
    if (!isInteger(o.ttlSecurity, 1, 254))
      throw new TransportSetupError(
        `ttlSecurity ${String(o.ttlSecurity)} for ${peerAddress} must be a hop count 1-254 (RFC 5082 GTSM)`,
      );
    plan.ttl = 255;
    plan.minTtl = 256 - o.ttlSecurity;
  }
  if (o.ebgpMultihop !== undefined) {
    if (!isInteger(o.ebgpMultihop, 1, 255))
      throw new TransportSetupError(`ebgpMultihop ${String(o.ebgpMultihop)} for ${peerAddress} must be a TTL 1-255`);
    plan.ttl = o.ebgpMultihop;
  }
  return plan.md5Key || plan.ttl !== undefined ? plan : undefined;
}

/** The options a plan holds, in words, for error messages. */
function planWords(plan: SocketOptionPlan): string {
  const words: string[] = [];
  if (plan.md5Key) words.push('TCP MD5 (md5Password)');
  if (plan.minTtl !== undefined) words.push('GTSM (ttlSecurity)');
  else if (plan.ttl !== undefined) words.push('a TTL (ebgpMultihop)');
  return words.join(' and ');
}

/** An IPv4-mapped IPv6 address as IPv4 text; other addresses unchanged. */
function unmapped(address: string): string {
  return address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
}

/**
 * A new TCP socket of `family` with the plan's options set, not yet bound or connected. Closes it and
 * throws TransportSetupError if the addon is missing or an option cannot be set.
 */
function prepareSocket(family: 4 | 6, peerAddress: string, plan: SocketOptionPlan, so: Sockopt): number {
  const status = so.sockoptAvailable();
  if (!status.ok) {
    throw new TransportSetupError(
      `${planWords(plan)} for ${peerAddress} needs the native socket addon @bgp-announce/sockopt, which is unavailable, so the session will not connect: ${status.reason}`,
    );
  }
  let fd: number | undefined;
  try {
    fd = so.createTcpSocket(family);
    if (plan.md5Key) so.setTcpMd5Sig(fd, peerAddress, plan.md5Key);
    if (plan.ttl !== undefined) so.setTtl(fd, plan.ttl);
    if (plan.minTtl !== undefined) so.setMinTtl(fd, plan.minTtl);
    return fd;
  } catch (err) {
    if (fd !== undefined) so.closeSocket(fd);
    const e = err as Error & { code?: string };
    throw new TransportSetupError(
      `${e.message} (session with ${peerAddress} not started)`,
      typeof e.code === 'string' ? e.code : undefined,
    );
  }
}

/**
 * Opens the session's outbound TCP connection like net.connect (it emits 'connect', 'error', 'close'),
 * with the MD5 key, TTL and minimum TTL set on the socket before the SYN. When they cannot be set, the
 * socket emits a TransportSetupError as 'error' and closes without having sent anything.
 */
export function connectTransport(target: ConnectTarget, so: Sockopt = sockopt): net.Socket {
  const opts: net.TcpNetConnectOpts = { host: target.peerAddress, port: target.peerPort ?? 179, noDelay: true };
  if (target.localAddress !== undefined) opts.localAddress = target.localAddress;
  if (target.localPort !== undefined) opts.localPort = target.localPort;
  let socket: net.Socket;
  try {
    const plan = socketOptionPlan(target, target.peerAddress);
    if (!plan) return net.connect(opts);
    const peer = unmapped(target.peerAddress);
    const family = net.isIP(peer);
    if (family === 0)
      throw new TransportSetupError(
        `peerAddress ${JSON.stringify(target.peerAddress)} must be an IP address for ${planWords(plan)}`,
      );
    const fd = prepareSocket(family as 4 | 6, peer, plan, so);
    try {
      socket = new net.Socket({ fd });
    } catch (err) {
      so.closeSocket(fd);
      throw new TransportSetupError(`cannot use the socket for ${peer}: ${(err as Error).message}`);
    }
    opts.host = peer;
  } catch (err) {
    const failed = new net.Socket();
    failed.destroy(err as Error); // 'error' then 'close', after the caller has attached its listeners
    return failed;
  }
  socket.setNoDelay(true);
  // Node binds (localAddress/localPort) and connects this handle itself, before any I/O.
  return socket.connect(opts);
}

/**
 * Makes `server` listen on host:port like server.listen({ host, port }, onListening), with the MD5 key
 * for `target.peerAddress`, the TTL and the minimum TTL set on the listening socket before listen();
 * accepted connections inherit them. Without host, it listens on all addresses of the peer's family.
 * Failures are emitted as the server's 'error' (a bind error keeps its code, e.g. EADDRINUSE).
 */
export function listenTransport(
  server: net.Server,
  where: { host?: string | undefined; port: number },
  target: ConnectTarget,
  onListening: () => void,
  so: Sockopt = sockopt,
): void {
  let plan: SocketOptionPlan | undefined;
  let fd: number | undefined;
  try {
    plan = socketOptionPlan(target, target.peerAddress);
    if (!plan) {
      server.listen({ host: where.host, port: where.port }, onListening);
      return;
    }
    const peer = unmapped(target.peerAddress);
    const peerFamily = net.isIP(peer);
    if (peerFamily === 0)
      throw new TransportSetupError(
        `peerAddress ${JSON.stringify(target.peerAddress)} must be an IP address for ${planWords(plan)}`,
      );
    const host = where.host ?? (peerFamily === 6 ? '::' : '0.0.0.0');
    const family = net.isIP(host);
    if (family === 0)
      throw new TransportSetupError(`listen host ${JSON.stringify(host)} must be an IP address for ${planWords(plan)}`);
    if (family === 4 && peerFamily === 6)
      throw new TransportSetupError(`cannot listen on IPv4 ${host} for IPv6 peer ${peer} with ${planWords(plan)}`);
    fd = prepareSocket(family as 4 | 6, peer, plan, so);
    so.bindSocket(fd, host, where.port);
  } catch (err) {
    if (fd !== undefined) so.closeSocket(fd);
    const e = err as Error & { code?: string };
    const error =
      e instanceof TransportSetupError || e.code === 'EADDRINUSE' ? e : new TransportSetupError(e.message, e.code);
    process.nextTick(() => server.emit('error', error));
    return;
  }
  server.listen({ fd }, onListening);
}
