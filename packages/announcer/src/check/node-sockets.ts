// The node's TCP sockets with the processes holding them, as the checks read them: read once from
// /proc (readNodeSockets), then looked at by pure functions (socketOwner).
import { endianness } from 'node:os';
import { readTcpSockets, type TcpSocket } from './proc-net.js';
import {
  describeProcess,
  findSocketOwners,
  isBgpAnnounce,
  nodeProcFs,
  type ProcFs,
  type ProcessInfo,
} from './proc-owners.js';

/** Every TCP socket of the network namespace, and who holds which. */
export interface NodeSockets {
  sockets: TcpSocket[];
  /** Socket inode -> processes holding it. */
  owners: ReadonlyMap<number, readonly ProcessInfo[]>;
  /** Processes whose fds could not be read (not root): their sockets show no owner. */
  unreadable: number;
  /** Tables that could not be read. */
  notes: string[];
}

/** Where to read from; the defaults are the real /proc. */
export interface ReadNodeSocketsOptions {
  procRoot?: string;
  fs?: ProcFs;
  byteOrder?: 'LE' | 'BE';
}

/** Reads the TCP tables and finds the owner of every socket that has an inode. */
export async function readNodeSockets(options: ReadNodeSocketsOptions = {}): Promise<NodeSockets> {
  const procRoot = options.procRoot ?? '/proc';
  const table = await readTcpSockets(procRoot, options.byteOrder ?? endianness());
  const found = await findSocketOwners(
    table.sockets.map((s) => s.inode),
    procRoot,
    options.fs ?? nodeProcFs,
  );
  return { sockets: table.sockets, owners: found.byInode, unreadable: found.unreadable, notes: table.notes };
}

/** Who holds a socket, as far as we can tell. */
export type SocketOwner =
  /** bgp-announce itself (its daemon). */
  | { kind: 'ours'; processes: readonly ProcessInfo[]; text: string }
  /** Another program. */
  | { kind: 'other'; processes: readonly ProcessInfo[]; text: string }
  /** No process found: its fds were unreadable, it is outside our PID namespace, or the socket is closing. */
  | { kind: 'unknown'; processes: readonly []; text: string };

/**
 * The owner of a socket, with a text naming it: "gobgpd (pid 123)", or why it is unknown: "uid 0,
 * owner unknown (run as root to see the process)" when some processes' fds were unreadable.
 */
export function socketOwner(socket: TcpSocket, node: Pick<NodeSockets, 'owners' | 'unreadable'>): SocketOwner {
  const processes = socket.inode === 0 ? undefined : node.owners.get(socket.inode);
  if (processes !== undefined && processes.length > 0) {
    const text = processes.map(describeProcess).join(', ');
    return processes.every(isBgpAnnounce) ? { kind: 'ours', processes, text } : { kind: 'other', processes, text };
  }
  let why: string;
  if (socket.inode === 0) why = 'no process holds it any more: the socket is closing';
  else if (node.unreadable > 0) why = 'run as root to see the process';
  else why = 'no process of this PID namespace holds it: run on the node itself, or in a pod with hostPID';
  return { kind: 'unknown', processes: [], text: `uid ${socket.uid}, owner unknown (${why})` };
}
