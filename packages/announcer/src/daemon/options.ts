// The daemon's options with their defaults, and the listen addresses of its two HTTP endpoints:
// "HOST:PORT", "[IPv6]:PORT", or a unix socket ("unix:/path" or an absolute path) for the admin one.
import { networkInterfaces } from 'node:os';
import { isIP } from 'node:net';
import type { BfdEngineOptions } from '@bgp-announce/bfd';
import { isIpv4 } from '@bgp-announce/bgp-wire';
import type { DestinationStream, LevelWithSilent } from 'pino';
import type { HttpLimits } from './http-limits.js';

/**
 * Metrics, /healthz and /readyz, on loopback unless asked (anyone who can reach an address can open
 * connections to it): a port that MetalLB (7472 metrics, 7473 FRR metrics, 7946 memberlist), FRR-k8s
 * (7572, 7573), Cilium (9962-9965) and kube-vip (2112) do not use. The DaemonSet asks for the node's
 * own address ([$(HOST_IP)]:7475, HOST_IP from status.hostIP), where kubelet probes and Prometheus scrape.
 */
export const DEFAULT_METRICS_ADDRESS = '127.0.0.1:7475';
/** The admin endpoint: loopback only unless asked. */
export const DEFAULT_ADMIN_ADDRESS = '127.0.0.1:7474';
export const DEFAULT_MESSAGE_HISTORY = 50;
/** RFC 8326 drain before the Cease on SIGTERM; must fit in the pod's terminationGracePeriodSeconds. */
export const DEFAULT_DRAIN_MS = 5000;
/**
 * Our AS for peers whose options carry no localAs. The sources always give one (BGPPeer.myASN), so
 * this is a placeholder: AS_TRANS (RFC 6793), which no router accepts as a real neighbor AS.
 */
export const PLACEHOLDER_LOCAL_AS = 23456;

export interface DaemonOptions {
  /** This node's name (Kubernetes Node, or the host name for the config file source). */
  nodeName: string;
  /** Our BGP identifier for peers without their own (PeerOptions.bgpId). Default: the host's first IPv4 address. */
  routerId?: string;
  /** Our AS for peers without their own (PeerOptions.localAs). Default PLACEHOLDER_LOCAL_AS. */
  localAs?: number;
  /** Metrics/health endpoint (DEFAULT_METRICS_ADDRESS); 'off' for none. */
  metricsAddress?: string;
  /** Admin endpoint (DEFAULT_ADMIN_ADDRESS), "unix:/path" for a unix socket; 'off' for none. */
  adminAddress?: string;
  /** Allow the admin endpoint on an address other than loopback (it has no authentication). Default false. */
  adminAllowRemote?: boolean;
  /** pino level: trace, debug, info (default), warn, error, fatal, silent. */
  logLevel?: LevelWithSilent;
  /** Where log lines go (default stdout): tests. */
  logDestination?: DestinationStream;
  /** BGP messages (and BFD state changes) kept per peer for the admin endpoint. Default 50. */
  messageHistory?: number;
  /** Graceful shutdown drain on SIGTERM, ms (default 5000). */
  drainMs?: number;
  /**
   * On SIGTERM, leave peers that negotiated graceful restart so they keep our routes for the restart
   * time (a rolling upgrade); the others are drained. Default true. false: drain every peer.
   */
  gracefulRestart?: boolean;
  /**
   * Where the graceful restart record is kept (restart-state.ts): a directory that outlives the
   * process, such as a hostPath under /var/run/bgp-announce. A start that finds a record younger than
   * the Restart Time sets the Restart State bit in its first OPEN to the peers it names. Default: no
   * record (the R bit is never set).
   */
  stateDirectory?: string;
  /** Run the BFD engine (peers may require BFD); or the engine's options. Default true. */
  bfd?: boolean | BfdEngineOptions;
  /** Install the SIGTERM/SIGINT handlers (default true); or an emitter of them (tests). */
  signals?: boolean | NodeJS.EventEmitter;
  /** Called with the exit status once a signal's shutdown is over. Default process.exit. */
  exit?: (status: number) => void;
  /** /healthz fails when the event loop was blocked longer than this within the last minute. Default 10000 ms. */
  maxEventLoopBlockMs?: number;
  /** Connection cap and timeouts of both HTTP endpoints, over DEFAULT_HTTP_LIMITS (tests and embedding). */
  httpLimits?: Partial<HttpLimits>;
}

/** Where an endpoint listens: a TCP host and port, or a unix socket path. */
export type ListenAddress = { kind: 'tcp'; host: string; port: number } | { kind: 'unix'; path: string };

/** An error in the daemon's options; the message names the option. */
export class DaemonOptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DaemonOptionError';
  }
}

/**
 * "HOST:PORT", "[IPv6]:PORT", ":PORT" (every address), and with `unix` allowed "unix:/path" or
 * "/path". An IPv4 address in brackets is accepted too ("[192.0.2.1]:7475"): the DaemonSet writes
 * "[$(HOST_IP)]:7475", which holds either family. Throws DaemonOptionError naming `what`.
 */
export function parseListenAddress(text: string, what: string, unix = false): ListenAddress {
  if (unix && (text.startsWith('unix:') || text.startsWith('/'))) {
    const path = text.startsWith('unix:') ? text.slice(5) : text;
    if (!path.startsWith('/'))
      throw new DaemonOptionError(
        `${what}: a unix socket needs an absolute path (unix:/run/bgp-announce/admin.sock), got ${JSON.stringify(text)}`,
      );
    return { kind: 'unix', path };
  }
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]*):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[2]) : NaN;
  const host = m?.[1] === '' ? '0.0.0.0' : m?.[1];
  if (!m || host === undefined || isIP(host) === 0 || !(port >= 0 && port <= 65535)) {
    const forms = unix ? 'HOST:PORT, [IPv6]:PORT or unix:/path' : 'HOST:PORT or [IPv6]:PORT';
    const unexpanded = /\$\(([A-Za-z_][A-Za-z0-9_]*)\)/.exec(text);
    const hint = unexpanded
      ? ` (Kubernetes leaves $(${unexpanded[1]}) as it is when the container has no env ${unexpanded[1]}: add it, such as from fieldRef status.hostIP)`
      : '';
    throw new DaemonOptionError(
      `${what} must be ${forms} with an IP address (such as 127.0.0.1:7474), got ${JSON.stringify(text)}${hint}`,
    );
  }
  return { kind: 'tcp', host, port };
}

/** True for 127.0.0.0/8, ::1 and ::ffff:127.x: addresses no other host can reach. */
export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === '::1' || /^(::ffff:)?127\.\d+\.\d+\.\d+$/.test(h);
}

/** "127.0.0.1:7474", "[::1]:7474" or "unix:/path", as people write it. */
export function formatListenAddress(a: ListenAddress): string {
  if (a.kind === 'unix') return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/**
 * The host's first IPv4 address that is not loopback (interfaces in name order), for the router id
 * when none is given; undefined when there is none.
 */
export function defaultRouterId(interfaces = networkInterfaces()): string | undefined {
  for (const name of Object.keys(interfaces).sort()) {
    for (const a of interfaces[name] ?? []) {
      if (a.family === 'IPv4' && !a.internal && isIpv4(a.address) && a.address !== '0.0.0.0') return a.address;
    }
  }
  return undefined;
}
