// `bgp-announce status`: asks a running daemon's admin endpoint (default 127.0.0.1:7474, or a unix
// socket) and prints its peers, one peer's details and routes (--peer), and the last BGP messages and
// BFD state changes (--messages), or the JSON as the daemon sent it (--json). With --cluster, the
// whole cluster instead, through the Kubernetes API (status-cluster.ts: every node's BGPNodeState and
// the Services' Announced condition). Exit status: 0 shown, 1 no daemon, no such peer or no answer
// from the cluster, 2 usage error.
import http from 'node:http';
import type { MessagesView, RoutesView, StatusView } from '@bgp-announce/announcer';
import {
  DEFAULT_ADMIN_ADDRESS,
  formatListenAddress,
  parseListenAddress,
  type ListenAddress,
} from '@bgp-announce/announcer/daemon-options';
import { UsageError, parseInteger } from './options.js';
import { formatMessages, formatPeer, formatRoutes, formatStatus } from './status-output.js';

export interface StatusCommandOptions {
  admin?: string;
  json?: boolean;
  peer?: string;
  messages?: boolean;
  limit?: string;
  /** The cluster view (status-cluster.ts), with its options. */
  cluster?: boolean;
  kubeconfig?: string;
  kubeUrl?: string;
  kubeContext?: string;
  namespace?: string;
  node?: string;
}

/** The options of each view: mixing them is a usage error. */
const NODE_ONLY = [
  ['admin', '--admin'],
  ['peer', '--peer'],
  ['messages', '--messages'],
  ['limit', '--limit'],
] as const;
const CLUSTER_ONLY = [
  ['kubeconfig', '--kubeconfig'],
  ['kubeUrl', '--kube-url'],
  ['kubeContext', '--kube-context'],
  ['namespace', '--namespace'],
  ['node', '--node'],
] as const;

/** Environment variable read for the admin address when --admin is absent. */
export const ADMIN_ADDRESS_ENV = 'BGP_ANNOUNCE_ADMIN';
const PREFIX = 'bgp-announce status';

/** The daemon could not be asked, or answered with an error; the message is for people. */
export class AdminError extends Error {
  override name = 'AdminError';
}

/** Why a connection failed, in words. */
function connectionProblem(err: NodeJS.ErrnoException, address: ListenAddress): string {
  switch (err.code) {
    case 'ECONNREFUSED':
      return address.kind === 'unix' ? 'nothing listens on the socket' : 'connection refused';
    case 'ENOENT':
      return 'no such socket';
    case 'EACCES':
      return 'permission denied';
    case 'ECONNRESET':
      return 'connection reset';
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'unreachable';
    default:
      return err.message;
  }
}

/** GET `path` from the admin endpoint and parse its JSON. Rejects with AdminError ("no daemon at 127.0.0.1:7474: connection refused"). */
export function adminGet(
  address: ListenAddress,
  path: string,
  timeoutMs = 10_000,
): Promise<{ status: number; json: unknown }> {
  const where = formatListenAddress(address);
  const target = address.kind === 'unix' ? { socketPath: address.path } : { host: address.host, port: address.port };
  return new Promise((resolve, reject) => {
    const req = http.get({ ...target, path, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('error', (err) => reject(new AdminError(`the daemon at ${where} broke off its answer: ${err.message}`)));
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, json: JSON.parse(body) });
        } catch {
          reject(new AdminError(`${where} is not a bgp-announce admin endpoint (its answer to ${path} is not JSON)`));
        }
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error('timeout'), { code: 'ETIMEDOUT' })));
    req.on('error', (err: NodeJS.ErrnoException) => {
      const why = err.code === 'ETIMEDOUT' ? `no answer within ${timeoutMs / 1000} s` : connectionProblem(err, address);
      reject(new AdminError(`no daemon at ${where}: ${why}`));
    });
  });
}

/** The JSON of `path`, or AdminError with the daemon's own error text for a non-200 answer. */
async function fetchView<T>(address: ListenAddress, path: string): Promise<T> {
  const { status, json } = await adminGet(address, path);
  if (status === 200) return json as T;
  const e = json as { error?: string; peers?: string[] };
  const known = e.peers ? ` (peers: ${e.peers.join(', ') || 'none'})` : '';
  throw new AdminError(`${e.error ?? `answer ${status} to ${path}`}${known}`);
}

/** The admin address from --admin, $BGP_ANNOUNCE_ADMIN or the default. Throws UsageError. */
export function statusAddress(
  o: StatusCommandOptions,
  env: Record<string, string | undefined> = process.env,
): ListenAddress {
  const text = o.admin ?? env[ADMIN_ADDRESS_ENV] ?? DEFAULT_ADMIN_ADDRESS;
  try {
    return parseListenAddress(
      text,
      o.admin !== undefined
        ? '--admin'
        : env[ADMIN_ADDRESS_ENV] !== undefined
          ? ADMIN_ADDRESS_ENV
          : 'the admin address',
      true,
    );
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** What status prints, as lines (or one JSON text with --json). */
export async function statusLines(o: StatusCommandOptions, address: ListenAddress): Promise<string[]> {
  const limit =
    o.limit === undefined
      ? undefined
      : parseInteger(o.limit, '--limit', 0, 10_000_000, 'a number of routes 0-10000000');
  const status = await fetchView<StatusView>(address, '/v1/status');
  const enc = (id: string): string => encodeURIComponent(id);
  if (o.peer === undefined) {
    const messages = o.messages
      ? await Promise.all(status.peers.map((p) => fetchView<MessagesView>(address, `/v1/peers/${enc(p.id)}/messages`)))
      : [];
    if (o.json) return [JSON.stringify(o.messages ? { status, messages } : status, null, 2)];
    return [...formatStatus(status), ...messages.flatMap((m) => ['', ...formatMessages(m)])];
  }
  const peer = status.peers.find((p) => p.id === o.peer);
  if (!peer)
    throw new AdminError(
      `no peer ${JSON.stringify(o.peer)} (peers: ${status.peers.map((p) => p.id).join(', ') || 'none'})`,
    );
  const routes = await fetchView<RoutesView>(
    address,
    `/v1/peers/${enc(peer.id)}/routes${limit === undefined ? '' : `?limit=${limit}`}`,
  );
  const messages = o.messages
    ? await fetchView<MessagesView>(address, `/v1/peers/${enc(peer.id)}/messages`)
    : undefined;
  if (o.json) return [JSON.stringify({ peer, routes, ...(messages ? { messages } : {}) }, null, 2)];
  return [...formatPeer(peer), '', ...formatRoutes(routes), ...(messages ? ['', ...formatMessages(messages)] : [])];
}

/** The whole command: options in, lines written, exit status out. Never throws. */
export async function statusCommand(
  o: StatusCommandOptions,
  io: { out(line: string): void; err(line: string): void; env?: Record<string, string | undefined> },
): Promise<number> {
  const misplaced = o.cluster
    ? NODE_ONLY.filter(([k]) => o[k] !== undefined && o[k] !== false)
    : CLUSTER_ONLY.filter(([k]) => o[k] !== undefined);
  if (misplaced.length > 0) {
    io.err(
      `${PREFIX}: ${misplaced.map(([, flag]) => flag).join(', ')} ${o.cluster ? 'asks a node, not --cluster' : 'needs --cluster'}`,
    );
    return 2;
  }
  if (o.cluster) return clusterCommand(o, io);
  let address: ListenAddress;
  try {
    address = statusAddress(o, io.env);
    if (o.limit !== undefined) parseInteger(o.limit, '--limit', 0, 10_000_000, 'a number of routes 0-10000000');
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return 2;
  }
  try {
    for (const line of await statusLines(o, address)) io.out(line);
    return 0;
  } catch (err) {
    io.err(`${PREFIX}: ${err instanceof AdminError ? err.message : `unexpected error: ${(err as Error).message}`}`);
    return 1;
  }
}

/** `status --cluster`: loads the Kubernetes client only now. */
async function clusterCommand(
  o: StatusCommandOptions,
  io: { out(line: string): void; err(line: string): void; env?: Record<string, string | undefined> },
): Promise<number> {
  const { clusterStatusLines } = await import('./status-cluster.js');
  try {
    for (const line of await clusterStatusLines(o, io.env ?? process.env)) io.out(line);
    return 0;
  } catch (err) {
    io.err(`${PREFIX} --cluster: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
}
