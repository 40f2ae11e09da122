// The BFD engine's main-thread API: validates what the caller asks for, runs every session in one
// worker_thread (worker.ts: sockets, timers, state machines) and turns the worker's messages into
// typed events. RFC 5881 single hop (UDP 3784, TTL 255 sent and required) and RFC 5883 multihop
// (UDP 4784, a minimum TTL), IPv4 and IPv6.
import { EventEmitter } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { BfdTtlCheck } from './bfd-transport.js';
import { bfdPathKey } from './demux.js';
import {
  BfdEngineError,
  fail,
  sessionSpec,
  workerDataFor,
  type BfdEngineOptions,
  type BfdSessionId,
  type BfdSessionOptions,
} from './engine-options.js';
import type { BfdEngineMetrics, BfdSessionStatus, BfdStateChangeEvent } from './engine-types.js';
import { bfdProfile, type BfdProfile, type BfdProfileInput } from './profile.js';
import type { BfdState } from './types.js';
import type { BfdFromWorker, BfdToWorker, BfdWorkerRequest } from './worker-protocol.js';

export {
  BfdEngineError,
  type BfdAuthOptions,
  type BfdEngineErrorCode,
  type BfdEngineOptions,
  type BfdSessionId,
  type BfdSessionOptions,
} from './engine-options.js';
export type { BfdEngineMetrics, BfdLatencySummary, BfdSessionStatus, BfdStateChangeEvent } from './engine-types.js';

export interface BfdEngineEvents {
  state: [id: BfdSessionId, change: BfdStateChangeEvent];
  error: [error: BfdEngineError];
}

interface KnownSession {
  key: string;
  profile: BfdProfile;
  state: BfdState;
}

/** The worker's compiled file; when this module runs from sources (a TypeScript loader), the built one in dist/. */
function workerUrl(): URL {
  return import.meta.url.endsWith('.ts')
    ? new URL('../dist/worker.js', import.meta.url)
    : new URL('./worker.js', import.meta.url);
}

/** Runs BFD sessions in a worker_thread. Create with `await BfdEngine.start()`, end with `await engine.stop()`. */
export class BfdEngine extends EventEmitter<BfdEngineEvents> {
  /** Whether received TTLs are checked ('unavailable': the addon is missing, or transport 'dgram'). */
  readonly ttlCheck: BfdTtlCheck;
  /** Why the TTL check is unavailable. */
  readonly ttlCheckReason: string | undefined;
  readonly listenPorts: { singleHop: number; multihop: number };
  readonly #worker: Worker;
  readonly #allowUncheckedTtl: boolean;
  readonly #sessions = new Map<BfdSessionId, KnownSession>();
  readonly #pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #nextRequest = 1;
  #closed: BfdEngineError | undefined;

  private constructor(
    worker: Worker,
    ready: Extract<BfdFromWorker, { type: 'ready' }>,
    options: BfdEngineOptions,
    listenPorts: { singleHop: number; multihop: number },
  ) {
    super();
    this.#worker = worker;
    this.ttlCheck = ready.ttlCheck;
    this.ttlCheckReason = ready.reason;
    this.#allowUncheckedTtl = options.allowUncheckedTtl === true;
    this.listenPorts = listenPorts;
    worker.on('message', (m: BfdFromWorker) => this.#onMessage(m));
    worker.on('error', (err) => this.#onWorkerGone(`the BFD worker failed: ${err.message}`));
    worker.on('exit', (code) => this.#onWorkerGone(`the BFD worker exited (code ${code})`));
  }

  /** Spawns the worker and resolves once it runs. Throws BfdEngineError for bad options or a worker that does not start. */
  static async start(options: BfdEngineOptions = {}): Promise<BfdEngine> {
    const workerData = workerDataFor(options);
    const { listenPorts } = workerData;
    const worker = new Worker(workerUrl(), { workerData, execArgv: [] });
    let onMessage: (m: BfdFromWorker) => void = () => {};
    let onError: (err: Error) => void = () => {};
    let onExit: (code: number) => void = () => {};
    try {
      const ready = await new Promise<Extract<BfdFromWorker, { type: 'ready' }>>((resolve, reject) => {
        const failed = (why: string): void =>
          reject(new BfdEngineError('worker', `the BFD worker did not start: ${why}`));
        onMessage = (m) => (m.type === 'ready' ? resolve(m) : failed(`unexpected message ${m.type}`));
        onError = (err) => failed(err.message);
        onExit = (code) => failed(`it exited with code ${code}`);
        worker.on('message', onMessage).on('error', onError).on('exit', onExit);
      });
      return new BfdEngine(worker, ready, options, listenPorts);
    } catch (err) {
      await worker.terminate();
      throw err;
    } finally {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
  }

  /**
   * Adds and starts a session; returns its id at once (sockets open in the worker: a failure there is
   * an 'error' event and `running: false` in session()). Throws BfdEngineError: 'config' for bad
   * options or a second session on the same path, 'ttl-check-unavailable' when the TTL cannot be
   * checked and allowUncheckedTtl is not set.
   */
  addSession(options: BfdSessionOptions): BfdSessionId {
    this.#usable();
    const id = this.#nextId;
    const spec = sessionSpec(id, options);
    if (this.ttlCheck === 'unavailable' && !this.#allowUncheckedTtl) {
      throw new BfdEngineError(
        'ttl-check-unavailable',
        `BFD session to ${spec.peerAddress} refused: received TTLs cannot be checked here (RFC 5881 drops packets below TTL 255, RFC 5883 below the minimum), ` +
          `${this.ttlCheckReason ?? 'reason unknown'}. Build the addon, or start the engine with allowUncheckedTtl: true to run without the check.`,
      );
    }
    const key = bfdPathKey(spec);
    for (const s of this.#sessions.values())
      if (s.key === key)
        fail(
          `a BFD session to ${spec.peerAddress} from ${spec.localAddress}${spec.interface ? ` on ${spec.interface}` : ''} (${spec.multihop ? 'multihop' : 'single hop'}) already exists`,
        );
    this.#nextId++;
    this.#sessions.set(id, { key, profile: spec.profile, state: 'Down' });
    this.#post({ type: 'add', session: spec });
    return id;
  }

  /** Changes a session's profile fields (intervals, Detect Mult: a Poll Sequence tells the peer; minimumTtl). passiveMode cannot change. */
  updateSession(id: BfdSessionId, changes: Partial<Omit<BfdProfileInput, 'name'>>): void {
    const known = this.#known(id);
    let profile: BfdProfile;
    try {
      profile = bfdProfile({ ...known.profile, ...changes, name: known.profile.name });
    } catch (err) {
      fail(`BFD session ${id}: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (profile.passiveMode !== known.profile.passiveMode)
      fail(`BFD session ${id}: passiveMode cannot change on a running session; remove it and add it again`);
    known.profile = profile;
    this.#post({ type: 'update', id, profile });
  }

  /** RFC 5880 6.8.16: takes the session AdminDown (diag 7 unless given) and tells the peer. */
  adminDown(id: BfdSessionId, diag?: number): void {
    this.#known(id);
    if (diag !== undefined && (!Number.isInteger(diag) || diag < 0 || diag > 31))
      fail(`BFD diag must be an integer from 0 to 31, got ${JSON.stringify(diag)}`);
    this.#post(diag === undefined ? { type: 'adminDown', id } : { type: 'adminDown', id, diag });
  }

  /** Ends AdminDown: the session goes Down and comes up again with the peer. */
  adminUp(id: BfdSessionId): void {
    this.#known(id);
    this.#post({ type: 'adminUp', id });
  }

  /** Sends AdminDown to the peer, then stops the session and closes its socket. Unknown ids are ignored. */
  async removeSession(id: BfdSessionId): Promise<void> {
    if (!this.#sessions.delete(id)) return;
    await this.#request({ op: 'remove', id });
  }

  /** The session's state, negotiated intervals, detection time and counters, from the worker; undefined for unknown ids. */
  async session(id: BfdSessionId): Promise<BfdSessionStatus | undefined> {
    return (await this.#request({ op: 'session', id })) as BfdSessionStatus | undefined;
  }

  /** The last state the worker reported for the session (no round trip); undefined for unknown ids. */
  state(id: BfdSessionId): BfdState | undefined {
    return this.#sessions.get(id)?.state;
  }

  /** The ids of the sessions added and not removed. */
  sessionIds(): BfdSessionId[] {
    return [...this.#sessions.keys()];
  }

  /** Worker event-loop lag, transmission lateness, packet and drop counters. */
  async metrics(): Promise<BfdEngineMetrics> {
    return (await this.#request({ op: 'metrics' })) as BfdEngineMetrics;
  }

  /** Blocks the worker's event loop for `ms` (a busy loop), to show what a stall does. For tests and diagnostics. */
  async stallWorkerForTest(ms: number): Promise<void> {
    if (typeof ms !== 'number' || !(ms >= 0) || ms > 60_000)
      fail(`stall must be 0-60000 ms, got ${JSON.stringify(ms)}`);
    await this.#request({ op: 'stall', ms });
  }

  /** Sends AdminDown on every session, closes the sockets and ends the worker. Idempotent. */
  async stop(): Promise<void> {
    if (this.#closed !== undefined) return;
    this.#closed = new BfdEngineError('stopped', 'the BFD engine is stopped');
    this.#sessions.clear();
    try {
      await this.#request({ op: 'stop' }, true);
    } finally {
      await this.#worker.terminate();
    }
  }

  #usable(): void {
    if (this.#closed !== undefined) throw this.#closed;
  }

  #known(id: BfdSessionId): KnownSession {
    this.#usable();
    const known = this.#sessions.get(id);
    if (known === undefined) fail(`no BFD session ${JSON.stringify(id)}`);
    return known;
  }

  #post(m: BfdToWorker): void {
    this.#worker.postMessage(m);
  }

  #request(request: BfdWorkerRequest, evenIfClosed = false): Promise<unknown> {
    if (!evenIfClosed && this.#closed !== undefined) return Promise.reject(this.#closed);
    const requestId = this.#nextRequest++;
    return new Promise((resolve, reject) => {
      this.#pending.set(requestId, { resolve, reject });
      this.#post({ type: 'request', requestId, request });
    });
  }

  #onMessage(m: BfdFromWorker): void {
    switch (m.type) {
      case 'state': {
        const known = this.#sessions.get(m.id);
        if (known !== undefined) known.state = m.change.to;
        this.emit('state', m.id, m.change);
        break;
      }
      case 'error':
        this.#emitError(new BfdEngineError(m.code, m.message, m.id));
        break;
      case 'reply': {
        const pending = this.#pending.get(m.requestId);
        this.#pending.delete(m.requestId);
        if (m.ok) pending?.resolve(m.value);
        else pending?.reject(new BfdEngineError('worker', m.message));
        break;
      }
      case 'ready':
        break;
    }
  }

  /** 'error' events go to listeners; with none they become process warnings, never an uncaught exception. */
  #emitError(error: BfdEngineError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
    else process.emitWarning(error.message, 'BfdEngineWarning');
  }

  #onWorkerGone(why: string): void {
    const stopping = this.#closed?.code === 'stopped';
    const error = new BfdEngineError(stopping ? 'stopped' : 'worker', why);
    for (const p of this.#pending.values()) p.reject(error);
    this.#pending.clear();
    if (stopping) return;
    this.#closed = error;
    this.#emitError(error);
  }
}
