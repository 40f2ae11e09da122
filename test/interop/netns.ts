// Network namespaces for interop tests: two namespaces joined by a veth pair, documentation addresses
// only, unique names per run, always removed in t.teardown (also when the test fails).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import type { Test } from 'tap';

/** Runs `ip` with the arguments; throws with ip's stderr on failure. */
export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Why interop tests cannot run here (not root, a command missing), or undefined when they can. */
export function interopUnavailable(commands: string[]): string | undefined {
  if (process.platform !== 'linux') return 'interop tests need Linux network namespaces';
  if (process.getuid?.() !== 0) return 'interop tests need root (ip netns)';
  for (const c of ['ip', ...commands]) {
    try {
      execFileSync('sh', ['-c', `command -v ${c}`], { stdio: 'ignore' });
    } catch {
      return `interop tests need \`${c}\` on PATH (Debian: apt-get install ${c === 'ip' ? 'iproute2' : c})`;
    }
  }
  return undefined;
}

/**
 * Skips the test with `reason` outside CI; in CI (CI=true) fails it instead, so a CI machine that
 * cannot run the interop tests is noticed.
 */
export function requireOrSkip(t: Test, reason: string | undefined): boolean {
  if (reason === undefined) return true;
  if (process.env.CI === 'true') t.fail(`${reason} (required in CI)`);
  else t.plan(0, reason);
  return false;
}

/** One end of the link: a namespace holding a veth with an address. */
export interface NetnsEnd {
  ns: string;
  dev: string;
  address: string;
}

/**
 * Creates namespaces `<prefix>a-<id>` and `<prefix>b-<id>` with loopback up, joined by a veth pair
 * with addresses a and b (CIDR text such as '192.0.2.1/24'). Registers the removal with t.teardown
 * before creating anything, so a failure halfway still cleans up.
 */
export function vethPair(t: Test, a: string, b: string, prefix = 'bgpa'): { a: NetnsEnd; b: NetnsEnd } {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const nsA = `${prefix}a-${id}`;
  const nsB = `${prefix}b-${id}`;
  const devA = `va${id}`.slice(0, 15);
  const devB = `vb${id}`.slice(0, 15);
  t.teardown(() => {
    for (const ns of [nsA, nsB]) {
      try {
        ip('netns', 'del', ns);
      } catch {
        // not created (or already gone)
      }
    }
  });
  ip('netns', 'add', nsA);
  ip('netns', 'add', nsB);
  ip('link', 'add', devA, 'netns', nsA, 'type', 'veth', 'peer', 'name', devB, 'netns', nsB);
  for (const [ns, dev, addr] of [
    [nsA, devA, a],
    [nsB, devB, b],
  ] as const) {
    ip('-n', ns, 'link', 'set', 'lo', 'up');
    ip('-n', ns, 'addr', 'add', addr, 'dev', dev);
    ip('-n', ns, 'link', 'set', dev, 'up');
  }
  const bare = (cidr: string): string => cidr.split('/')[0]!;
  return { a: { ns: nsA, dev: devA, address: bare(a) }, b: { ns: nsB, dev: devB, address: bare(b) } };
}
