// A list+watch cache of one resource kind that keeps itself filled, behind the ObjectCache contract
// (cache.ts). client-node's own informer stops for good on any error other than 410 Gone and has no
// watchdog for silent watches, so this runs its own loop on client-node's Watch:
//
//   list (diffed against the cache) -> watch from the list's resourceVersion (with bookmarks)
//   -> the watch ends:  410 Gone          -> re-list at once (back off if it keeps happening)
//                       error / end       -> back off (exponential, jittered, capped), resume the watch
//                       watchdog (silent) -> re-list
//
// A re-list reports only real differences: an object gone since the last list is a 'delete', one
// with a new resourceVersion an 'update', a new one an 'add'; unchanged objects report nothing, so a
// restart never makes a controller withdraw something that is still wanted.
import { Watch, type KubeConfig } from '@kubernetes/client-node';
import { systemClock, type Clock, type TimerHandle } from '@bgp-announce/bgp-speaker';
import { errorText, retryAfterMs, silentLogger, statusCodeOf, withTimeout, type KubeLogger } from './api-errors.js';
import type { CacheChange, CacheHealth, ObjectCache } from './cache.js';

/** What a list call returns (a client-node typed list, or a custom object list). */
export interface ListResult {
  items?: readonly unknown[];
  metadata?: { resourceVersion?: string };
}

/** Selectors handed to the list call (the watch uses the same ones). */
export interface ListSelectors {
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * "0" on the first list: any version the API server's watch cache holds, served from memory (as
   * client-go's reflectors ask), so thousands of daemons starting at once do not each read every
   * Service and EndpointSlice from etcd. Absent on a re-list (after 410 Gone, a silent watch or an
   * error): the newest, so the cache never goes back in time.
   */
  resourceVersion?: string;
  /** Set only by the probe that fetches the server's message for a refused watch (limit 1). */
  limit?: number;
}

/** A refused watch of this status is followed by a 1-item list to learn the server's message (see explainRefusal). */
const PROBED_STATUSES = new Set([401, 403]);
/** Without a Retry-After (client-node's Watch drops the headers), a watch refused with 429 waits at least this. */
const DEFAULT_RETRY_AFTER_MS = 1000;

/** Exponential back-off after failures: initialMs * 2^n, capped at maxMs, each delay jittered down to half. */
export interface BackoffOptions {
  /** Default 250 ms. */
  initialMs?: number;
  /** Default 30 s. */
  maxMs?: number;
  /** Default Math.random (tests pass a fixed value). */
  random?: () => number;
}

/** The tuning every watched kind shares. */
export interface WatchTuning {
  /** No event or bookmark for this long: the watch is presumed dead and the cache re-lists. Default 5 min. */
  watchdogMs?: number;
  backoff?: BackoffOptions;
  logger?: KubeLogger;
  clock?: Clock;
  /**
   * The timeoutSeconds asked of the server per watch; default a random 10-20 minutes. client-go asks
   * 5-10; a daemon on every node holds about eleven watches, and at 5-10 minutes their re-opening alone
   * would be ~1.5 requests a minute per node (kube-apiserver's own default for a watch that names no
   * timeout is 30-60 minutes). Each re-open resumes from the last resourceVersion: no list.
   */
  watchTimeoutSeconds?: number;
  /** A list that has not answered after this long counts as failed. Default 60 s. */
  listTimeoutMs?: number;
}

export interface WatchCacheOptions extends WatchTuning, ListSelectors {
  kubeConfig: KubeConfig;
  /** The collection's API path, e.g. "/api/v1/services" or "/apis/discovery.k8s.io/v1/endpointslices". */
  path: string;
  /** Lists the collection with the given selectors (a client-node list call). */
  list: (selectors: ListSelectors) => Promise<ListResult>;
  /** For logs: "services". Default the path. */
  name?: string;
  /**
   * A resource whose CRD may not be installed (a kind added in a later release: `helm upgrade` does
   * not install new CRDs). A list answered 404 then counts as an empty list, so the cache is synced and
   * nothing waits for it; the list is tried again every 5-10 minutes (no polling), and `missing` says
   * why once.
   */
  missingIsEmpty?: { missing: string };
}

/** The minimum an object needs for the cache: its name, namespace and resourceVersion. */
export interface CachedObject {
  metadata?: { name?: string; namespace?: string; resourceVersion?: string };
}

const DEFAULT_WATCHDOG_MS = 5 * 60_000;
/** How long a resource whose CRD is missing (missingIsEmpty) waits before its next list: 1-2 times this. */
const MISSING_RELIST_MS = 5 * 60_000;
/** The shortest default watch timeout, in seconds; each watch asks a random 1-2 times this. */
export const DEFAULT_WATCH_TIMEOUT_S = 600;

/** Delay before retry number `failures` (0-based). */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const initial = options.initialMs ?? 250;
  const max = options.maxMs ?? 30_000;
  const base = Math.min(max, initial * 2 ** Math.min(failures, 30));
  const r = Math.min(Math.max((options.random ?? Math.random)(), 0), 1);
  return Math.round(base * (0.5 + 0.5 * r));
}

/** "namespace/name", or "name" for cluster-scoped objects. */
export function objectKey(obj: CachedObject): string {
  const ns = obj.metadata?.namespace;
  const name = obj.metadata?.name ?? '';
  return ns === undefined || ns === '' ? name : `${ns}/${name}`;
}

/**
 * A cache of one collection that lists, watches and repairs itself until stop(). Objects are kept as
 * the API server sends them (plain JSON: timestamps are strings), whether they came from a list or a
 * watch event.
 */
export function watchCache<T extends CachedObject>(options: WatchCacheOptions): ObjectCache<T> {
  return new WatchCache<T>(options);
}

type WatchEnd = { kind: 'gone' | 'ended' | 'watchdog' | 'stopped' } | { kind: 'error'; error: unknown };
type Listener<T> = (change: CacheChange, obj: T, old: T | undefined) => void;

/** Plain JSON, as the server sent it: client-node's typed list results carry Date objects. */
function plain<T>(value: unknown): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

class WatchCache<T extends CachedObject> implements ObjectCache<T> {
  private readonly objects = new Map<string, T>();
  private readonly listeners = new Set<Listener<T>>();
  private readonly watch: Watch;
  private readonly clock: Clock;
  private readonly logger: KubeLogger;
  private readonly name: string;
  private readonly watchdogMs: number;
  private resourceVersion = '';
  private stopped = false;
  private isSynced = false;
  private missingSaid = false;
  private watching = false;
  private lists = 0;
  private lastError: string | undefined;
  private cancelWatch: (() => void) | undefined;
  private sleepTimer: TimerHandle | undefined;
  private wake: (() => void) | undefined;
  private resolveSynced!: () => void;
  private readonly syncedPromise = new Promise<void>((resolve) => (this.resolveSynced = resolve));

  constructor(private readonly options: WatchCacheOptions) {
    this.watch = new Watch(options.kubeConfig);
    this.clock = options.clock ?? systemClock;
    this.logger = options.logger ?? silentLogger;
    this.name = options.name ?? options.path;
    this.watchdogMs = options.watchdogMs ?? DEFAULT_WATCHDOG_MS;
    void this.run();
  }

  key(obj: T): string {
    return objectKey(obj);
  }

  get(key: string): T | undefined {
    return this.objects.get(key);
  }

  list(): T[] {
    return [...this.objects.values()];
  }

  synced(): Promise<void> {
    return this.syncedPromise;
  }

  health(): CacheHealth {
    const h: CacheHealth = { synced: this.isSynced, watching: this.watching, relists: Math.max(0, this.lists - 1) };
    if (this.lastError !== undefined) h.lastError = this.lastError;
    return h;
  }

  on(_event: 'change', listener: Listener<T>): this {
    this.listeners.add(listener);
    return this;
  }

  off(_event: 'change', listener: Listener<T>): this {
    this.listeners.delete(listener);
    return this;
  }

  stop(): void {
    this.stopped = true;
    this.cancelWatch?.();
    if (this.sleepTimer !== undefined) this.clock.clearTimer(this.sleepTimer);
    this.wake?.();
  }

  /** The loop: list, watch, and on every end of the watch decide how to go on. Never throws. */
  private async run(): Promise<void> {
    let failures = 0;
    let needList = true;
    while (!this.stopped) {
      if (needList) {
        try {
          await this.relist();
          needList = false;
        } catch (err) {
          if (this.options.missingIsEmpty !== undefined && statusCodeOf(err) === 404) {
            // Not a failure to retry soon: a CRD that is not installed. Look again now and then (every
            // 5-10 minutes, like a watch's re-open), so an idle node does not poll for it.
            this.listedMissing();
            await this.sleep(MISSING_RELIST_MS * (1 + Math.random()));
            continue;
          }
          this.failed('list', err);
          await this.sleep(Math.max(backoffDelay(failures++, this.options.backoff), retryAfterMs(err) ?? 0));
          continue;
        }
      }
      const started = this.clock.now();
      const { end, events } = await this.watchOnce();
      if (this.stopped || end.kind === 'stopped') break;
      // A watch that delivered something, or lasted, was healthy: start the back-off over.
      if (events > 0 || this.clock.now() - started >= (this.options.backoff?.maxMs ?? 30_000)) failures = 0;
      let delay = backoffDelay(failures, this.options.backoff);
      switch (end.kind) {
        case 'gone':
          this.logger.info({ resource: this.name }, 'watch: resourceVersion too old (410 Gone), re-listing');
          // The server answered: it is there, only our resourceVersion is too old (after a restart
          // or compaction). Re-list at once, whatever back-off earlier failures built up.
          needList = true;
          delay = 0;
          break;
        case 'watchdog':
          this.logger.warn(
            { resource: this.name, silentMs: this.watchdogMs },
            'watch: no event or bookmark for too long, restarting with a re-list',
          );
          needList = true;
          delay = 0;
          break;
        case 'error': {
          const err = await this.explainRefusal(end.error);
          if (this.stopped) break;
          this.failed('watch', err);
          // The server asked us to come back later (429 "storage is (re)initializing" while a CRD's
          // watch cache fills): honour its Retry-After, or 1 s (what a real server sends) when
          // client-node's Watch has dropped the header.
          const code = statusCodeOf(err);
          const asked = retryAfterMs(err) ?? (code === 429 ? DEFAULT_RETRY_AFTER_MS : 0);
          delay = Math.max(delay, asked);
          break;
        }
        case 'ended':
          this.logger.debug({ resource: this.name }, 'watch: stream ended, resuming');
          break;
      }
      failures++;
      if (delay > 0) await this.sleep(delay);
    }
    this.watching = false;
  }

  private failed(what: 'list' | 'watch', err: unknown): void {
    this.lastError = `${what} ${this.name}: ${errorText(err)}`;
    this.logger.warn({ resource: this.name, err: errorText(err) }, `${what} failed, retrying with back-off`);
  }

  /**
   * The server's own message for a watch it refused. client-node 1.4's Watch turns a refused watch
   * into `new Error(statusText)` with `statusCode` and drops the response body, so a 403 would read
   * "403: Forbidden" without the "User ... cannot watch ..., RBAC: ..." that says what to fix.
   *
   * We ask again as a list with limit=1 through the cache's own list function and, if that fails
   * with the same status, take its metav1.Status (client-node's ApiException keeps the body). This
   * is the least fragile way: it uses only public client-node calls the cache already makes, so
   * authentication (tokens, exec plugins, client certificates), TLS and proxies stay client-node's
   * business. Replacing client-node's Watch with our own request would re-implement its streaming,
   * abort and keep-alive handling and rely on node-fetch, a dependency of client-node, not ours.
   * The price: one small extra request, made only for 401/403 (already backed off, and where the
   * message is what the operator needs); an overloaded server answering 429/5xx is not asked
   * again. The probe's message names the list verb ("cannot list resource"): RBAC refuses list and
   * watch for the same missing role, and the text says so. If the probe succeeds (the refusal was
   * transient), the watch's own error is kept.
   */
  private async explainRefusal(err: unknown): Promise<unknown> {
    const code = statusCodeOf(err);
    if (code === undefined || !PROBED_STATUSES.has(code)) return err;
    if ((err as { body?: unknown }).body !== undefined) return err;
    try {
      await withTimeout(this.options.list({ ...this.selectors(), limit: 1 }), 10_000);
      return err;
    } catch (probeErr) {
      if (statusCodeOf(probeErr) !== code) return err;
      const body = (probeErr as { body?: unknown }).body;
      if (body === undefined) return err;
      return { statusCode: code, message: (err as { message?: unknown }).message, body };
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      this.wake = resolve;
      this.sleepTimer = this.clock.setTimer(ms, () => {
        this.sleepTimer = undefined;
        this.wake = undefined;
        resolve();
      });
    });
  }

  /** A list answered 404 for a resource that may be missing: an empty collection, synced, said once. */
  private listedMissing(): void {
    for (const [key, old] of [...this.objects]) {
      this.objects.delete(key);
      this.emit('delete', old, old);
    }
    if (!this.missingSaid) this.logger.warn({ resource: this.name }, this.options.missingIsEmpty!.missing);
    this.missingSaid = true;
    if (!this.isSynced) {
      this.isSynced = true;
      this.resolveSynced();
    }
  }

  /** Lists the collection and brings the cache to it, reporting only what differs. */
  private async relist(): Promise<void> {
    const selectors: ListSelectors =
      this.lists === 0 ? { ...this.selectors(), resourceVersion: '0' } : this.selectors();
    const result = await withTimeout(this.options.list(selectors), this.options.listTimeoutMs ?? 60_000);
    if (this.stopped) return;
    const listed = new Map<string, T>();
    for (const item of result.items ?? []) {
      const obj = plain<T>(item);
      listed.set(objectKey(obj), obj);
    }
    for (const [key, old] of [...this.objects]) {
      if (listed.has(key)) continue;
      this.objects.delete(key);
      this.emit('delete', old, old);
    }
    for (const [key, obj] of listed) {
      const old = this.objects.get(key);
      this.objects.set(key, obj);
      if (old === undefined) this.emit('add', obj, undefined);
      else if (changed(old, obj)) this.emit('update', obj, old);
    }
    this.resourceVersion = result.metadata?.resourceVersion ?? '';
    this.lists++;
    this.lastError = undefined;
    if (this.lists > 1) this.logger.info({ resource: this.name, objects: listed.size }, 're-listed');
    if (!this.isSynced) {
      this.isSynced = true;
      this.resolveSynced();
    }
  }

  private selectors(): ListSelectors {
    const s: ListSelectors = {};
    if (this.options.labelSelector !== undefined) s.labelSelector = this.options.labelSelector;
    if (this.options.fieldSelector !== undefined) s.fieldSelector = this.options.fieldSelector;
    return s;
  }

  /** One watch, from the cache's resourceVersion, until it ends for any reason. */
  private watchOnce(): Promise<{ end: WatchEnd; events: number }> {
    return new Promise((resolve) => {
      let done = false;
      let events = 0;
      let abort: AbortController | undefined;
      let watchdog: TimerHandle | undefined;
      let lastActivity = this.clock.now();
      const finish = (end: WatchEnd): void => {
        if (done) return;
        done = true;
        if (watchdog !== undefined) this.clock.clearTimer(watchdog);
        abort?.abort();
        this.watching = false;
        this.cancelWatch = undefined;
        resolve({ end, events });
      };
      // The watchdog: one timer, moved on only when it fires (not on every event). When it fires,
      // data may be waiting unread after a stall (libuv runs due timers before it polls sockets):
      // look again after the poll phase (setImmediate) before calling the watch silent.
      const check = (): void => {
        if (done) return;
        const idle = this.clock.now() - lastActivity;
        if (idle < this.watchdogMs) watchdog = this.clock.setTimer(this.watchdogMs - idle, fired);
        else finish({ kind: 'watchdog' });
      };
      const fired = (): void => {
        watchdog = undefined;
        setImmediate(check);
      };
      watchdog = this.clock.setTimer(this.watchdogMs, fired);
      this.cancelWatch = () => finish({ kind: 'stopped' });
      const params = {
        ...this.selectors(),
        resourceVersion: this.resourceVersion,
        allowWatchBookmarks: true,
        timeoutSeconds: this.options.watchTimeoutSeconds ?? Math.round(DEFAULT_WATCH_TIMEOUT_S * (1 + Math.random())),
      };
      const onEvent = (type: string, obj: unknown): void => {
        if (done) return;
        if (type === 'ERROR') {
          finish(statusCodeOf(obj) === 410 ? { kind: 'gone' } : { kind: 'error', error: obj });
          return;
        }
        lastActivity = this.clock.now();
        events++;
        this.apply(type, obj);
      };
      const onDone = (err: unknown): void => {
        if (err === null || err === undefined) finish({ kind: 'ended' });
        else finish(statusCodeOf(err) === 410 ? { kind: 'gone' } : { kind: 'error', error: err });
      };
      this.watch.watch(this.options.path, params, onEvent, onDone).then(
        (controller) => {
          abort = controller;
          if (done) {
            controller.abort();
            return;
          }
          this.watching = true;
          this.lastError = undefined;
        },
        (err: unknown) => finish({ kind: 'error', error: err }),
      );
    });
  }

  /** One watch event into the cache. */
  private apply(type: string, raw: unknown): void {
    if (typeof raw !== 'object' || raw === null) return;
    const obj = raw as T;
    const rv = obj.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '') this.resourceVersion = rv;
    if (type === 'BOOKMARK') return;
    const key = objectKey(obj);
    const old = this.objects.get(key);
    if (type === 'DELETED') {
      if (old === undefined) return;
      this.objects.delete(key);
      this.emit('delete', obj, old);
      return;
    }
    if (type !== 'ADDED' && type !== 'MODIFIED') return;
    if (old !== undefined && !changed(old, obj)) return;
    this.objects.set(key, obj);
    this.emit(old === undefined ? 'add' : 'update', obj, old);
  }

  private emit(change: CacheChange, obj: T, old: T | undefined): void {
    for (const listener of [...this.listeners]) {
      try {
        listener(change, obj, old);
      } catch (err) {
        this.logger.error({ resource: this.name, err: errorText(err) }, 'a cache listener threw');
      }
    }
  }
}

/** Different resourceVersions mean a change; without them, compare the content. */
function changed(a: CachedObject, b: CachedObject): boolean {
  const ra = a.metadata?.resourceVersion;
  const rb = b.metadata?.resourceVersion;
  if (ra !== undefined && rb !== undefined) return ra !== rb;
  return JSON.stringify(a) !== JSON.stringify(b);
}
