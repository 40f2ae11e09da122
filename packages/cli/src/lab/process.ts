// A long-running child of the lab (a router daemon, a node's bgp-announce daemon, the API forwarder)
// started inside a namespace with `ip netns exec`, its output appended to a log file in the work
// directory. Children get their own process group, so a Ctrl-C in the terminal reaches the lab only,
// which then stops them in order.
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface LabProcess {
  name: string;
  pid: number;
  logFile: string;
  /** Resolves once the process has exited. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  running(): boolean;
  /** The last lines of its log. */
  tail(lines?: number): string;
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
  stop(graceMs?: number): Promise<void>;
}

/** The last `lines` lines of a file ('' when unreadable). */
export function tailFile(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

/** Starts `command args` inside `namespace` (or the root namespace when undefined), output to `logFile`. */
export function startProcess(
  name: string,
  namespace: string | undefined,
  command: string,
  args: readonly string[],
  logFile: string,
  env?: NodeJS.ProcessEnv,
): LabProcess {
  const fd = openSync(logFile, 'a');
  const [cmd, argv] =
    namespace === undefined ? [command, [...args]] : ['ip', ['netns', 'exec', namespace, command, ...args]];
  let child: ReturnType<typeof spawn>;
  try {
    child = spawn(cmd, argv, { stdio: ['ignore', fd, fd], detached: true, ...(env ? { env } : {}) });
  } finally {
    closeSync(fd);
  }
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    child.once('error', () => {
      done = true;
      resolve({ code: null, signal: null });
    });
  });
  const pid = child.pid ?? -1;
  return {
    name,
    pid,
    logFile,
    exited,
    running: () => !done,
    tail: (lines) => tailFile(logFile, lines),
    stop: async (graceMs = 3000) => {
      if (done) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}
