// The lab's state file: before a run creates anything it writes /run/bgp-announce-lab/<id>.json naming
// its namespaces and directories and its own process (pid and start time, so a reused pid is not taken
// for it). A clean teardown deletes the file. A run that crashed leaves it, and the next run removes
// what it names: the processes inside those namespaces, the namespaces, the directories. Runs that are
// still alive are left alone, so two labs can run side by side.
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { NAMESPACE_PREFIX } from './plan.js';
import { ip, waitFor } from './run.js';

export const STATE_DIR = '/run/bgp-announce-lab';
/** The lab's work directory (logs, configs, sockets) is a temporary directory named so. */
export const WORK_DIR_PREFIX = 'bgp-announce-lab-';

export interface LabState {
  id: string;
  ownerPid: number;
  /** The owner's start time (field 22 of /proc/<pid>/stat, clock ticks since boot). */
  ownerStartTime: string;
  namespaces: string[];
  /** Directories to remove (the work directory, FRR's /var/run/frr/<namespace>). */
  directories: string[];
  createdAt: string;
}

/** A process's start time from /proc/<pid>/stat, or undefined when there is no such process. */
export function processStartTime(pid: number, procRoot = '/proc'): string | undefined {
  let text: string;
  try {
    text = readFileSync(join(procRoot, String(pid), 'stat'), 'utf8');
  } catch {
    return undefined;
  }
  return parseStartTime(text);
}

/** Field 22 (starttime) of a /proc/<pid>/stat line; the command name in parentheses may hold spaces. */
export function parseStartTime(stat: string): string | undefined {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return fields[19];
}

/** True when the state's owner still runs (same pid, same start time). */
export function ownerAlive(
  state: Pick<LabState, 'ownerPid' | 'ownerStartTime'>,
  startTime: (pid: number) => string | undefined = processStartTime,
): boolean {
  return startTime(state.ownerPid) === state.ownerStartTime;
}

/** Reads a state file's JSON; undefined when it is not one of ours. */
export function parseState(text: string): LabState | undefined {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    return undefined;
  }
  const s = v as Partial<LabState>;
  const strings = (a: unknown): a is string[] => Array.isArray(a) && a.every((x) => typeof x === 'string');
  if (
    typeof s.id !== 'string' ||
    typeof s.ownerPid !== 'number' ||
    typeof s.ownerStartTime !== 'string' ||
    !strings(s.namespaces) ||
    !strings(s.directories)
  )
    return undefined;
  // Only ever touch what a lab can have made: its own namespaces and directories.
  if (!s.namespaces.every((n) => n.startsWith(NAMESPACE_PREFIX))) return undefined;
  if (
    !s.directories.every(
      (d) => d.startsWith('/') && (basename(d).startsWith(WORK_DIR_PREFIX) || basename(d).startsWith(NAMESPACE_PREFIX)),
    )
  )
    return undefined;
  return s as LabState;
}

/** The state of a new run owned by this process. */
export function newState(id: string, namespaces: string[], directories: string[]): LabState {
  return {
    id,
    ownerPid: process.pid,
    ownerStartTime: processStartTime(process.pid) ?? '',
    namespaces,
    directories,
    createdAt: new Date().toISOString(),
  };
}

/** Writes (or rewrites) a run's state file. */
export async function writeState(state: LabState, dir = STATE_DIR): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o755 });
  await writeFile(join(dir, `${state.id}.json`), JSON.stringify(state, null, 2) + '\n');
}

/** Deletes a run's state file (its teardown is complete). */
export async function removeState(id: string, dir = STATE_DIR): Promise<void> {
  await rm(join(dir, `${id}.json`), { force: true });
}

/** PIDs of the processes inside a namespace (none when it does not exist). */
async function namespacePids(namespace: string): Promise<number[]> {
  try {
    return (await ip('netns', 'pids', namespace))
      .split('\n')
      .filter((l) => /^\d+$/.test(l.trim()))
      .map(Number);
  } catch {
    return [];
  }
}

function signal(pids: number[], sig: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, sig);
    } catch {
      // gone already
    }
  }
}

/**
 * Ends every process inside the namespaces (SIGTERM, SIGKILL after `graceMs`) and deletes the
 * namespaces. Returns what could not be done, in words (empty when all went).
 */
export async function removeNamespaces(namespaces: readonly string[], graceMs = 2000): Promise<string[]> {
  const problems: string[] = [];
  const pidsOf = async (): Promise<number[]> => (await Promise.all(namespaces.map(namespacePids))).flat();
  const pids = await pidsOf();
  if (pids.length > 0) {
    signal(pids, 'SIGTERM');
    await waitFor(
      'processes to exit',
      async () => ((await pidsOf()).length === 0 ? true : undefined),
      graceMs,
      50,
    ).catch(async () => {
      signal(await pidsOf(), 'SIGKILL');
      await waitFor(
        'killed processes to go',
        async () => ((await pidsOf()).length === 0 ? true : undefined),
        3000,
        50,
      ).catch(async () => {
        problems.push(`processes still running in the lab namespaces: ${(await pidsOf()).join(', ')}`);
      });
    });
  }
  const existing = new Set((await ip('netns', 'list').catch(() => '')).split('\n').map((l) => l.split(' ')[0]!));
  for (const ns of namespaces) {
    if (!existing.has(ns)) continue;
    await ip('netns', 'del', ns).catch((err: Error) => problems.push(err.message));
  }
  return problems;
}

/** What a stale-state sweep removed. */
export interface StaleCleanup {
  /** Run ids whose leftovers were removed. */
  removed: string[];
  problems: string[];
}

/**
 * Removes the leftovers of runs whose owner is gone (crashed or killed): their processes, namespaces,
 * directories and state files. Runs still alive are left alone.
 */
export async function cleanupStale(dir = STATE_DIR): Promise<StaleCleanup> {
  const out: StaleCleanup = { removed: [], problems: [] };
  let files: string[];
  try {
    files = (await readdir(dir)).filter((f) => f.endsWith('.json'));
  } catch {
    return out;
  }
  for (const file of files) {
    const path = join(dir, file);
    const state = parseState(await readFile(path, 'utf8').catch(() => ''));
    if (state === undefined) {
      out.problems.push(`${path} is not a lab state file; left alone`);
      continue;
    }
    if (ownerAlive(state)) continue;
    const problems = await removeNamespaces(state.namespaces);
    for (const d of state.directories)
      await rm(d, { recursive: true, force: true }).catch((err: Error) => problems.push(err.message));
    out.problems.push(...problems);
    if (problems.length === 0) await rm(path, { force: true });
    out.removed.push(state.id);
  }
  return out;
}
