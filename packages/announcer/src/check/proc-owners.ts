// Which process holds a socket: every /proc/<pid>/fd/N that is a socket reads as the symlink
// "socket:[<inode>]", matched against the inodes of /proc/net/tcp. Without root the fd directories
// of other users' processes are unreadable (EACCES), and processes come and go while we read
// (ENOENT, ESRCH): both are counted, never thrown. /proc/<pid>/comm and cmdline are readable by all
// (unless /proc is mounted with hidepid).
import { readFile, readdir, readlink } from 'node:fs/promises';

/** One process, as /proc shows it. */
export interface ProcessInfo {
  pid: number;
  /** /proc/<pid>/comm: the executable's name, cut to 15 characters by the kernel. */
  comm: string;
  /** /proc/<pid>/cmdline split at NUL; empty for kernel threads or when unreadable. */
  cmdline: string[];
}

/** The filesystem calls used, injectable so tests can give EACCES and races. */
export interface ProcFs {
  readdir(path: string): Promise<string[]>;
  readlink(path: string): Promise<string>;
  readFile(path: string): Promise<string>;
}

/** The real filesystem. */
export const nodeProcFs: ProcFs = {
  readdir: (path) => readdir(path),
  readlink: (path) => readlink(path),
  readFile: (path) => readFile(path, 'utf8'),
};

/** The owners found, and how many processes could not be looked into. */
export interface SocketOwners {
  /** Socket inode -> the processes holding it (more than one when a child inherited the socket). */
  byInode: Map<number, ProcessInfo[]>;
  /** Processes whose fd table was unreadable (other users' processes when not root). */
  unreadable: number;
  /** Processes that went away while being read. */
  vanished: number;
}

const SOCKET_LINK = /^socket:\[(\d+)\]$/;

function isErrno(err: unknown, ...codes: string[]): boolean {
  return codes.includes((err as NodeJS.ErrnoException).code ?? '');
}

/** comm and cmdline of one process; comm '?' when it cannot be read (the process left). */
export async function readProcessInfo(pid: number, procRoot = '/proc', fs: ProcFs = nodeProcFs): Promise<ProcessInfo> {
  let comm = '?';
  let cmdline: string[] = [];
  try {
    comm = (await fs.readFile(`${procRoot}/${pid}/comm`)).replace(/\n$/, '');
  } catch {
    // gone, or hidden by hidepid
  }
  try {
    cmdline = (await fs.readFile(`${procRoot}/${pid}/cmdline`)).split('\0');
    while (cmdline.length > 0 && cmdline[cmdline.length - 1] === '') cmdline.pop();
  } catch {
    // as above
  }
  return { pid, comm, cmdline };
}

/**
 * Finds the processes holding the given socket inodes by reading every /proc/<pid>/fd. Inode 0
 * (no file refers to the socket) is never looked for.
 */
export async function findSocketOwners(
  inodes: Iterable<number>,
  procRoot = '/proc',
  fs: ProcFs = nodeProcFs,
): Promise<SocketOwners> {
  const wanted = new Set([...inodes].filter((i) => i !== 0));
  const result: SocketOwners = { byInode: new Map(), unreadable: 0, vanished: 0 };
  if (wanted.size === 0) return result;
  let entries: string[];
  try {
    entries = await fs.readdir(procRoot);
  } catch {
    return result;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    let fds: string[];
    try {
      fds = await fs.readdir(`${procRoot}/${pid}/fd`);
    } catch (err) {
      if (isErrno(err, 'EACCES', 'EPERM')) result.unreadable++;
      else result.vanished++;
      continue;
    }
    const links = await Promise.all(
      fds.map((fd) =>
        fs.readlink(`${procRoot}/${pid}/fd/${fd}`).then(
          (target) => target,
          () => undefined, // closed meanwhile, or not permitted
        ),
      ),
    );
    const held = new Set<number>();
    for (const link of links) {
      const m = link === undefined ? null : SOCKET_LINK.exec(link);
      if (m && wanted.has(Number(m[1]))) held.add(Number(m[1]));
    }
    if (held.size === 0) continue;
    const info = await readProcessInfo(pid, procRoot, fs);
    for (const inode of held) {
      const list = result.byInode.get(inode) ?? [];
      list.push(info);
      result.byInode.set(inode, list);
    }
  }
  return result;
}

/** Names of BGP speakers people run beside us, by /proc/<pid>/comm. */
const KNOWN_SPEAKERS: Record<string, string> = {
  'kube-vip': 'kube-vip',
  'cilium-agent': 'cilium-agent',
  bird: 'bird',
  bird6: 'bird',
  gobgpd: 'gobgpd',
  speaker: 'speaker (MetalLB)',
  bgpd: 'bgpd',
  exabgp: 'exabgp',
  'bgp-announce': 'bgp-announce',
};

/** Our command as node runs it: the bin script, or the CLI package's built entry point. */
const OUR_SCRIPT =
  /(^|\/)bgp-announce(\.js)?$|(^|\/)(@bgp-announce\/cli|packages\/cli)\/(dist\/main|bin\/bgp-announce)\.js$/;

/** True for a bgp-announce process: our command in the first arguments of its command line, or as its process name. */
export function isBgpAnnounce(p: ProcessInfo): boolean {
  if (p.comm === 'bgp-announce') return true;
  return p.cmdline.slice(0, 3).some((arg) => OUR_SCRIPT.test(arg));
}

/** What to call the process: "gobgpd", "bgpd (FRR)", "speaker (MetalLB)", "exabgp", or its comm. */
export function processName(p: ProcessInfo): string {
  if (isBgpAnnounce(p)) return 'bgp-announce';
  if (p.comm === 'bgpd' && p.cmdline[0]?.includes('/frr/')) return 'bgpd (FRR)';
  const known = KNOWN_SPEAKERS[p.comm];
  if (known !== undefined) return known;
  // Interpreted speakers run as python3/perl: name them by their script.
  if (p.cmdline.slice(0, 3).some((arg) => /(^|\/)exabgp$/.test(arg))) return 'exabgp';
  return p.comm;
}

/** "gobgpd (pid 123)". */
export function describeProcess(p: ProcessInfo): string {
  return `${processName(p)} (pid ${p.pid})`;
}
