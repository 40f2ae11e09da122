// What a restarted daemon needs to know to say so in its first OPEN (RFC 4724 4.1): a small file in the
// state directory (a hostPath under /var/run/bgp-announce in the DaemonSet, so it survives both a
// container restart and a new pod) recording when we last had graceful-restart sessions, or left them
// for a restart, and with which peers. On start, a record younger than its Restart Time means the
// peers may still keep our routes: the Speaker sets the Restart State bit to those peers.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import type { Speaker } from '@bgp-announce/bgp-speaker';

/** The file's name in the state directory. */
export const RESTART_STATE_FILE = 'graceful-restart.json';
/** How often the record is refreshed while graceful-restart sessions are Established (ms). */
export const RESTART_STATE_REFRESH_MS = 30_000;

/** The file's content. */
export interface RestartRecord {
  version: 1;
  /** When it was written (ms since the epoch): a session was Established, a refresh, or we left. */
  at: number;
  /** Our Restart Time (seconds): how long after `at` the peers may still keep our routes, at most. */
  restartTime: number;
  /** Peer ids (BGPPeer names) whose sessions negotiated graceful restart with us. */
  peers: string[];
  /** Why it was written: 'established' (or a refresh) or 'restart' (we left the peers for a restart). */
  reason: 'established' | 'restart';
}

/** What the record says at start. */
export type RestartCheck = { restarting: true; peers: string[]; ageMs: number } | { restarting: false; why: string };

/**
 * Reads the record in `dir` and decides whether this start is a graceful restart: the record is
 * well formed, names peers, and is at most its Restart Time old at `now` (ms since the epoch). Never
 * throws: a missing, unreadable or malformed file is a fresh start (with why).
 */
export async function readRestartState(dir: string, now: number): Promise<RestartCheck> {
  let text: string;
  try {
    text = await readFile(join(dir, RESTART_STATE_FILE), 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { restarting: false, why: code === 'ENOENT' ? 'no record of an earlier run' : `cannot read it: ${code}` };
  }
  const record = parseRecord(text);
  if (typeof record === 'string') return { restarting: false, why: record };
  const ageMs = now - record.at;
  if (ageMs < 0) return { restarting: false, why: `it was written ${-ageMs} ms in the future (clock changed?)` };
  if (ageMs > record.restartTime * 1000)
    return {
      restarting: false,
      why: `it is ${Math.round(ageMs / 1000)} s old, more than the ${record.restartTime} s restart time`,
    };
  if (record.peers.length === 0) return { restarting: false, why: 'no peer negotiated graceful restart with us' };
  return { restarting: true, peers: record.peers, ageMs };
}

/** The record in `text`, or why it is not one. */
export function parseRecord(text: string): RestartRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return 'it is not JSON';
  }
  const r = value as Partial<RestartRecord> | null;
  if (r === null || typeof r !== 'object' || r.version !== 1) return 'it is not a version 1 record';
  if (typeof r.at !== 'number' || !Number.isFinite(r.at)) return 'its "at" is not a time';
  if (typeof r.restartTime !== 'number' || !(r.restartTime >= 0 && r.restartTime <= 4095))
    return 'its "restartTime" is not 0-4095 seconds';
  if (!Array.isArray(r.peers) || !r.peers.every((p) => typeof p === 'string'))
    return 'its "peers" is not a list of names';
  return { version: 1, at: r.at, restartTime: r.restartTime, peers: r.peers, reason: r.reason ?? 'established' };
}

/** Writes the record (a temporary file renamed over the old one, so a reader never sees half of it). */
export async function writeRestartState(dir: string, record: RestartRecord): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, RESTART_STATE_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}

/** Removes the record: the next start is not a graceful restart (we drained every peer). */
export async function clearRestartState(dir: string): Promise<void> {
  await rm(join(dir, RESTART_STATE_FILE), { force: true });
}

/** What the recorder needs. */
export interface RestartRecorderOptions {
  dir: string;
  speaker: Pick<Speaker, 'peers' | 'on' | 'off'>;
  logger: Pick<Logger, 'warn'>;
  /** Our Restart Time (seconds). */
  restartTime: number;
  /** ms since the epoch (tests). Default Date.now. */
  now?: () => number;
  /** Refresh period while graceful-restart sessions are up (ms). Default RESTART_STATE_REFRESH_MS. */
  refreshMs?: number;
}

/**
 * Keeps the record current while the daemon runs: on every Established session, and every refreshMs
 * while some session negotiated graceful restart (so a crash, too, finds a recent record); left()
 * writes the last one as we leave (restart mode) or removes it (drain mode). Write errors are logged
 * once each, never thrown: the daemon works without the file, only the next start will not say R.
 */
export class RestartRecorder {
  private timer: NodeJS.Timeout | undefined;
  private lastError = '';
  private writing: Promise<void> = Promise.resolve();
  private readonly now: () => number;
  private readonly onEstablished = (): void => void this.record('established');

  constructor(private readonly o: RestartRecorderOptions) {
    this.now = o.now ?? Date.now;
  }

  /** Starts following the Speaker's sessions. */
  start(): void {
    this.o.speaker.on('established', this.onEstablished);
    this.timer = setInterval(() => {
      if (this.graceful().length > 0) void this.record('established');
    }, this.o.refreshMs ?? RESTART_STATE_REFRESH_MS);
    this.timer.unref();
  }

  /** Stops following (no more writes but left()'s). */
  stop(): void {
    this.o.speaker.off('established', this.onEstablished);
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Resolves once the writes started so far are done (tests). */
  flushed(): Promise<void> {
    return this.writing;
  }

  /** The shutdown's outcome: peers left keeping our routes are recorded; a drain removes the record. */
  async left(mode: 'restart' | 'drain', keptRoutes: readonly string[]): Promise<void> {
    this.stop();
    await this.writing;
    if (mode === 'restart' && keptRoutes.length > 0) {
      await this.write({
        version: 1,
        at: this.now(),
        restartTime: this.o.restartTime,
        peers: [...keptRoutes],
        reason: 'restart',
      });
      return;
    }
    await clearRestartState(this.o.dir).catch((err: Error) => this.failed(err));
  }

  /** Peers Established now whose session negotiated graceful restart with a non-zero Restart Time. */
  private graceful(): string[] {
    return this.o.speaker
      .peers()
      .filter((p) => p.state === 'Established' && p.restartLeave !== 'stop')
      .map((p) => p.id)
      .sort();
  }

  private record(reason: 'established'): Promise<void> {
    const peers = this.graceful();
    if (peers.length === 0) return this.writing;
    this.writing = this.writing.then(() =>
      this.write({ version: 1, at: this.now(), restartTime: this.o.restartTime, peers, reason }),
    );
    return this.writing;
  }

  private async write(record: RestartRecord): Promise<void> {
    try {
      await writeRestartState(this.o.dir, record);
      this.lastError = '';
    } catch (err) {
      this.failed(err as Error);
    }
  }

  private failed(err: Error): void {
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.o.logger.warn(
      { event: 'graceful-restart', err: err.message },
      `cannot write the graceful restart record in ${this.o.dir}; a restart will not be announced as one`,
    );
  }
}
