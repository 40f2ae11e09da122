// The Debian packages the lab needs for each router, how to tell whether they are there (the files
// they install), and installing the missing ones with apt-get, saying so.
import { existsSync } from 'node:fs';
import type { PeerKind } from './plan.js';
import { findCommand, run } from './run.js';

/** A Debian package and the files that show it is installed. */
export interface DebianNeed {
  package: string;
  /** Commands looked up on PATH (and the sbin directories). */
  commands: string[];
  /** Absolute paths that must exist. */
  files: string[];
}

/** Where Debian's FRR keeps its daemons. */
export const FRR_DAEMON_DIR = '/usr/lib/frr';

/** What one router (with or without BFD) needs, and Prometheus when asked; iproute2 always. */
export function debianNeeds(peer: PeerKind, bfd: boolean, prometheus = false): DebianNeed[] {
  const needs: DebianNeed[] = [{ package: 'iproute2', commands: ['ip'], files: [] }];
  if (peer === 'gobgp') needs.push({ package: 'gobgpd', commands: ['gobgpd', 'gobgp'], files: [] });
  if (peer === 'frr') {
    const daemons = ['zebra', 'bgpd', ...(bfd ? ['bfdd'] : [])];
    needs.push({ package: 'frr', commands: ['vtysh'], files: daemons.map((d) => `${FRR_DAEMON_DIR}/${d}`) });
  }
  if (peer === 'bird') needs.push({ package: 'bird2', commands: ['bird', 'birdc'], files: [] });
  if (prometheus) needs.push({ package: 'prometheus', commands: ['prometheus'], files: [] });
  return needs;
}

/** A package found missing, and the first file that shows it. */
export interface MissingPackage {
  package: string;
  missing: string;
}

/** The needs whose files are not all there. */
export function missingPackages(
  needs: readonly DebianNeed[],
  has: { command(name: string): boolean; file(path: string): boolean },
): MissingPackage[] {
  const out: MissingPackage[] = [];
  for (const need of needs) {
    const command = need.commands.find((c) => !has.command(c));
    const file = command === undefined ? need.files.find((f) => !has.file(f)) : undefined;
    if (command !== undefined) out.push({ package: need.package, missing: `command ${command}` });
    else if (file !== undefined) out.push({ package: need.package, missing: file });
  }
  return out;
}

/** The machine as it is. */
export const machine = {
  command: (name: string): boolean => findCommand(name) !== undefined,
  file: (path: string): boolean => existsSync(path),
};

/**
 * Installs the missing packages with apt-get (after `apt-get update` when the first try fails),
 * telling `say` what it does; resolves with the packages installed. Throws an Error a person can act
 * on when that is not possible. `has` and `aptGet` are the machine's unless tests give theirs.
 */
export async function ensurePackages(
  needs: readonly DebianNeed[],
  say: (line: string) => void,
  has = machine,
  aptGet: (args: string[]) => Promise<unknown> = (args) =>
    run('apt-get', args, { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }, timeoutMs: 600_000 }),
): Promise<string[]> {
  const missing = missingPackages(needs, has);
  if (missing.length === 0) return [];
  const names = [...new Set(missing.map((m) => m.package))];
  const why = missing.map((m) => `${m.package} (no ${m.missing})`).join(', ');
  if (!has.command('apt-get'))
    throw new Error(`missing: ${why}; there is no apt-get here: install ${names.join(' ')} yourself`);
  say(`installing Debian packages: ${names.join(' ')} (missing: ${why})`);
  const install = (): Promise<unknown> => aptGet(['install', '-y', '-q', '--no-install-recommends', ...names]);
  try {
    await install();
  } catch {
    say('apt-get install failed; running apt-get update and trying again');
    try {
      await aptGet(['update', '-q']);
      await install();
    } catch (err) {
      throw new Error(`could not install ${names.join(' ')}: ${(err as Error).message}`);
    }
  }
  const still = missingPackages(needs, has);
  if (still.length > 0)
    throw new Error(`installed ${names.join(' ')}, but still missing: ${still.map((m) => m.missing).join(', ')}`);
  return names;
}
