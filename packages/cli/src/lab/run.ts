// Running the lab's helper commands (ip, gobgp, vtysh, birdc, apt-get) without blocking the event
// loop: the lab process also serves the Kubernetes API to the daemons, which must not stall while a
// router is being asked something.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** A command that failed: its message is the command and what it said on stderr. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly stderr: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}

/** Runs a command; resolves with its stdout, rejects with CommandError (command line and stderr). */
export function run(
  command: string,
  args: readonly string[],
  options: { timeoutMs?: number; env?: NodeJS.ProcessEnv } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      command,
      args,
      {
        encoding: 'utf8',
        timeout: options.timeoutMs ?? 15_000,
        maxBuffer: 64 * 1024 * 1024,
        ...(options.env ? { env: options.env } : {}),
      },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const code = (err as NodeJS.ErrnoException).code;
        const why = code === 'ENOENT' ? 'not found' : stderr.trim().split('\n').slice(-3).join(' / ') || err.message;
        reject(new CommandError(`${command} ${args.join(' ')}: ${why}`, stderr));
      },
    );
  });
}

/** `ip ARGS...` */
export function ip(...args: string[]): Promise<string> {
  return run('ip', args);
}

/** Directories searched for commands: $PATH plus the sbin ones (ip, bird live there, often off a user's PATH). */
export function commandDirectories(path = process.env.PATH ?? ''): string[] {
  const dirs = path.split(delimiter).filter((d) => d !== '');
  for (const d of ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin'])
    if (!dirs.includes(d)) dirs.push(d);
  return dirs;
}

/** The full path of an executable command, or undefined. */
export function findCommand(name: string, dirs = commandDirectories()): string | undefined {
  for (const dir of dirs) {
    const file = join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** Thrown inside waitFor's function: stop waiting now (the process being waited for has exited). */
export class GiveUp extends Error {
  override name = 'GiveUp';
}

/**
 * Resolves with fn's value once it is not undefined (fn is called every `everyMs`); rejects after
 * `ms` with the last error, or at once when fn throws GiveUp.
 */
export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined> | T | undefined,
  ms: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await fn();
      if (value !== undefined) return value;
    } catch (err) {
      if (err instanceof GiveUp) throw err;
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const last =
        lastError instanceof Error ? `: ${lastError.message}` : lastError !== undefined ? `: ${String(lastError)}` : '';
      throw new Error(`timed out after ${(ms / 1000).toFixed(0)} s waiting for ${what}${last}`);
    }
    await new Promise((resolve) => setTimeout(resolve, everyMs));
  }
}
