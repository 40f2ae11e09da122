// Writes this node's BGPNodeState (node-state.ts), and only this node's: at most one write a second,
// coalesced (a change asks for a write; when it is due, the status is computed afresh, so the latest
// state wins), and no write when the status is what the API server already holds. A missing object is
// created (owned by the Node; 409 AlreadyExists: read it and update); the status is updated with the
// resourceVersion (409 Conflict: read it again and retry, a few times). A watch of this one object
// (fieldSelector metadata.name) says what the server holds after a restart, so a restarted daemon does
// not rewrite an unchanged status, and brings the object back if someone deletes it.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock, type TimerHandle } from '@bgp-announce/bgp-speaker';
import { API_GROUP, API_VERSION } from '../config/types.js';
import { errorText, silentLogger, statusCodeOf, withTimeout, type KubeLogger } from './api-errors.js';
import type { CacheChange, ObjectCache } from './cache.js';
import { FIELD_MANAGER } from './service-status.js';
import {
  NODE_STATE_PLURAL,
  nodeStateObject,
  sameStatus,
  type BGPNodeState,
  type NodeStateStatus,
} from './node-state.js';

export interface NodeStateWriterOptions {
  kubeConfig: KubeConfig;
  /** Where the BGPNodeStates live (the daemon's namespace). */
  namespace: string;
  nodeName: string;
  /** The Node's uid (the owner); undefined until the Node has been seen, and nothing is written before. */
  nodeUid(): string | undefined;
  /** The status as of now (`previous`: the one the server holds); undefined while there is nothing to say yet. */
  compute(previous: NodeStateStatus | undefined): NodeStateStatus | undefined;
  /** This node's BGPNodeState, watched (watches.ts watchNodeStates with nodeName). */
  own?: ObjectCache<BGPNodeState>;
  /** Least time between two writes. Default 1000 ms. */
  minIntervalMs?: number;
  /** A second look this long after a change asked for a write, for counters that settle after the event (routes sent after the advertisement interval). Default 2000 ms; 0: none. */
  secondLookMs?: number;
  /** Tries of one write (409 Conflict, 404) before it counts as failed. Default 5. */
  attempts?: number;
  clock?: Clock;
  logger?: KubeLogger;
}

/** What the writer has done, for the bench, metrics and tests. */
export interface NodeStateWriterStats {
  /** Writes of a new status (a create and the status update that follows count as one). */
  writes: number;
  /** API requests that changed something (creates and status updates). */
  requests: number;
  conflicts: number;
  failures: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class NodeStateWriter {
  private readonly api: CustomObjectsApi;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;
  private readonly minIntervalMs: number;
  private readonly secondLookMs: number;
  /** The object as the server last showed it (our write's answer, a read, or the watch). */
  private object: BGPNodeState | undefined;
  private dirty = false;
  private stopped = true;
  private lastWriteAt: number | undefined;
  private failuresInRow = 0;
  private timer: TimerHandle | undefined;
  private secondLook: TimerHandle | undefined;
  private running: Promise<void> | undefined;
  private readonly waiters: (() => void)[] = [];
  readonly stats: NodeStateWriterStats = { writes: 0, requests: 0, conflicts: 0, failures: 0 };
  /** The watch of our object: deleted, it is made again; changed by someone else, it is put right. Our own writes coming back change nothing. */
  private readonly onOwn = (change: CacheChange, obj: BGPNodeState): void => {
    if (change === 'delete') {
      this.object = undefined;
      this.request(false);
      return;
    }
    if (this.running !== undefined) return; // our write in flight: its answer is newer than this
    const differs = !sameStatus(obj.status, this.object?.status);
    this.object = obj;
    if (differs) this.request(false);
  };

  constructor(private readonly options: NodeStateWriterOptions) {
    this.api = options.kubeConfig.makeApiClient(CustomObjectsApi);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.minIntervalMs = options.minIntervalMs ?? 1000;
    this.secondLookMs = options.secondLookMs ?? 2000;
  }

  /** Starts from what the server holds (once the watch of our object has listed), then writes what differs. */
  async start(): Promise<void> {
    this.stopped = false;
    const own = this.options.own;
    if (own) {
      await own.synced();
      if (this.stopped) return;
      this.object = own.get(`${this.options.namespace}/${this.options.nodeName}`);
      own.on('change', this.onOwn);
    }
    this.request();
  }

  /** Stops writing (a write in flight finishes). */
  async stop(): Promise<void> {
    this.stopped = true;
    this.options.own?.off('change', this.onOwn);
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    if (this.secondLook !== undefined) this.clock.clearTimer(this.secondLook);
    this.timer = this.secondLook = undefined;
    await this.running;
    this.wakeWaiters();
  }

  /** Something changed: the status is looked at when a write is next allowed (and once more a little later). */
  request(withSecondLook = true): void {
    if (this.stopped) return;
    this.dirty = true;
    if (withSecondLook && this.secondLookMs > 0) {
      if (this.secondLook !== undefined) this.clock.clearTimer(this.secondLook);
      this.secondLook = this.clock.setTimer(this.secondLookMs, () => {
        this.secondLook = undefined;
        this.request(false);
      });
    }
    this.schedule();
  }

  /** The object as the server last showed it. */
  current(): BGPNodeState | undefined {
    return this.object;
  }

  /** Resolves once no look is pending or running (second looks aside): tests and the bench. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private isIdle(): boolean {
    return this.stopped || (!this.dirty && this.timer === undefined && this.running === undefined);
  }

  private wakeWaiters(): void {
    if (!this.isIdle()) return;
    for (const w of this.waiters.splice(0)) w();
  }

  private schedule(): void {
    if (this.stopped || this.timer !== undefined || this.running !== undefined) return;
    const now = this.clock.now();
    let due = this.lastWriteAt === undefined ? now : this.lastWriteAt + this.minIntervalMs;
    if (this.failuresInRow > 0)
      due = Math.max(due, now + Math.min(30_000, this.minIntervalMs * 2 ** this.failuresInRow));
    this.timer = this.clock.setTimer(Math.max(0, due - now), () => {
      this.timer = undefined;
      this.run();
    });
  }

  private run(): void {
    if (this.stopped || !this.dirty) {
      this.wakeWaiters();
      return;
    }
    this.dirty = false;
    this.running = this.look()
      .then(
        () => {
          this.failuresInRow = 0;
        },
        (err: unknown) => {
          this.stats.failures++;
          this.failuresInRow++;
          this.dirty = true;
          this.logger.warn(
            { node: this.options.nodeName, err: errorText(err) },
            "cannot write this node's BGPNodeState; retrying",
          );
        },
      )
      .finally(() => {
        this.running = undefined;
        if (this.dirty) this.schedule();
        this.wakeWaiters();
      });
  }

  /** Computes the status and writes it when it differs from the server's. */
  private async look(): Promise<void> {
    const uid = this.options.nodeUid();
    if (uid === undefined) return;
    const status = this.options.compute(this.object?.status);
    if (status === undefined || (this.object !== undefined && sameStatus(this.object.status, status))) return;
    this.lastWriteAt = this.clock.now();
    this.stats.writes++;
    await this.write(uid, status);
  }

  private async write(uid: string, status: NodeStateStatus): Promise<void> {
    const { namespace, nodeName } = this.options;
    const where = { group: API_GROUP, version: API_VERSION, namespace, plural: NODE_STATE_PLURAL };
    const attempts = this.options.attempts ?? 5;
    let current = this.object;
    for (let attempt = 1; ; attempt++) {
      if (current === undefined) {
        try {
          this.stats.requests++;
          current = (await withTimeout(
            this.api.createNamespacedCustomObject({
              ...where,
              body: nodeStateObject(namespace, { name: nodeName, uid }, status),
              fieldManager: FIELD_MANAGER,
            }),
            REQUEST_TIMEOUT_MS,
          )) as BGPNodeState;
        } catch (err) {
          if (statusCodeOf(err) !== 409)
            throw new Error(`creating BGPNodeState ${namespace}/${nodeName}: ${errorText(err)}`);
          this.stats.conflicts++;
          current = await this.read(); // AlreadyExists: someone (our previous run) made it; update it
        }
        if (current !== undefined && sameStatus(current.status, status)) {
          this.object = current;
          return;
        }
      }
      if (current !== undefined) {
        try {
          this.stats.requests++;
          const body = { ...current, status };
          this.object = (await withTimeout(
            this.api.replaceNamespacedCustomObjectStatus({
              ...where,
              name: nodeName,
              body,
              fieldManager: FIELD_MANAGER,
            }),
            REQUEST_TIMEOUT_MS,
          )) as BGPNodeState;
          return;
        } catch (err) {
          const code = statusCodeOf(err);
          if ((code !== 409 && code !== 404) || attempt >= attempts)
            throw new Error(`writing the status of BGPNodeState ${namespace}/${nodeName}: ${errorText(err)}`);
          if (code === 409) this.stats.conflicts++;
          current = code === 404 ? undefined : await this.read();
          if (current !== undefined && sameStatus(current.status, status)) {
            this.object = current;
            return;
          }
          continue;
        }
      }
      if (attempt >= attempts) throw new Error(`BGPNodeState ${namespace}/${nodeName} could not be created`);
    }
  }

  /** The object from the server; undefined when there is none. */
  private async read(): Promise<BGPNodeState | undefined> {
    const { namespace, nodeName } = this.options;
    try {
      return (await withTimeout(
        this.api.getNamespacedCustomObject({
          group: API_GROUP,
          version: API_VERSION,
          namespace,
          plural: NODE_STATE_PLURAL,
          name: nodeName,
        }),
        REQUEST_TIMEOUT_MS,
      )) as BGPNodeState;
    } catch (err) {
      if (statusCodeOf(err) === 404) return undefined;
      throw new Error(`reading BGPNodeState ${namespace}/${nodeName}: ${errorText(err)}`);
    }
  }
}
