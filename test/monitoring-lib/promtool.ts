// Prometheus's promtool (Debian's `prometheus` package, which scripts/test.sh installs) for the
// monitoring tests: whether it is there (a missing promtool fails in CI, skips elsewhere) and one run
// of it, with its exit code and output.
import { execFile, execFileSync } from 'node:child_process';
import type { Test } from 'tap';

/** Why promtool cannot run here, or undefined when it can. */
export function promtoolMissing(): string | undefined {
  try {
    execFileSync('promtool', ['--version'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'promtool not found (apt-get install prometheus; scripts/test.sh installs it as root)';
  }
}

/**
 * True when promtool runs; otherwise fails the test in CI (CI=true) and elsewhere records a skipped
 * assertion (the test's checks before this one still count), so the caller returns.
 */
export function requirePromtool(t: Test): boolean {
  const reason = promtoolMissing();
  if (reason === undefined) return true;
  if (process.env.CI === 'true') t.fail(`${reason} (required in CI)`);
  else t.pass('the promtool checks', { skip: reason });
  return false;
}

export interface PromtoolRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `promtool args...` in `cwd`, with `input` on its standard input. */
export function promtool(args: string[], options: { cwd?: string; input?: string } = {}): Promise<PromtoolRun> {
  return new Promise((resolve, reject) => {
    const child = execFile('promtool', args, { cwd: options.cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') reject(err);
      else resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
    child.stdin?.end(options.input ?? '');
  });
}
