// WATCH: newline-delimited JSON events over a chunked HTTP response. Starts with the current objects
// (no resourceVersion, or "0") or replays history after a resourceVersion; a version older than the
// retained history gets one ERROR event (410 Expired) and the stream ends, as on the real server.
// Bookmarks, timeoutSeconds, and selector transitions (an object leaving the selector is DELETED).
import type { ServerResponse } from 'node:http';
import { apiVersionOf, resourceKey } from './resources.js';
import { matchesFilter, type ObjectFilter } from './selectors.js';
import { statusBody, expired } from './status.js';
import type { ObjectStore } from './store.js';
import type { KubeObject, ResourceType, StoredEvent, WatchEventType } from './types.js';

/** One watch request, parsed. */
export interface WatchRequest {
  rt: ResourceType;
  filter: ObjectFilter;
  /** undefined or "0": start with the current objects as ADDED events. */
  resourceVersion?: string;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
  /**
   * Turns each event's object into what the client asked for (a Table for `kubectl get -w`). A
   * transformation that throws sends the object as it is, as the real server does.
   */
  transform?: (object: KubeObject) => unknown;
}

interface OpenWatch {
  res: ServerResponse;
  /** abrupt: reset the connection; closeConnection: end the stream, then the connection (no keep-alive reuse). */
  close: (abrupt: boolean, closeConnection?: boolean) => void;
}

/** All open watch streams of one server. */
export class WatchHub {
  private readonly open = new Set<OpenWatch>();

  constructor(
    private readonly store: ObjectStore,
    private readonly bookmarkIntervalMs: number,
  ) {}

  /** How many watch streams are open. */
  get size(): number {
    return this.open.size;
  }

  /**
   * Serves a watch on res (the resourceVersion was checked to be numeric by the caller). Calls
   * onErrorEvent with the code of an ERROR event it sends.
   */
  serve(res: ServerResponse, req: WatchRequest, onErrorEvent?: (code: number) => void): void {
    const { rt, filter } = req;
    const key = resourceKey(rt);
    res.writeHead(200, {
      'Content-Type': 'application/json',
      'Cache-Control': 'no-cache, private',
      'Transfer-Encoding': 'chunked',
    });
    res.flushHeaders();
    const send = (type: WatchEventType, object: unknown): void => {
      if (res.writableEnded || res.destroyed) return;
      let out = object;
      if (req.transform && type !== 'ERROR') {
        try {
          out = req.transform(object as KubeObject);
        } catch {
          out = object;
        }
      }
      res.write(`${JSON.stringify({ type, object: out })}\n`);
    };
    const initial =
      req.resourceVersion === undefined ||
      req.resourceVersion === '' ||
      req.resourceVersion === '0' ||
      req.sendInitialEvents === true;
    let replay: StoredEvent[] = [];
    if (initial) {
      for (const o of this.store.list(key, rt.namespaced ? filter.namespace : undefined))
        if (matchesFilter(filter, o)) send('ADDED', o);
      if (req.sendInitialEvents && req.allowWatchBookmarks) {
        send('BOOKMARK', this.bookmark(rt, { 'k8s.io/initial-events-end': 'true' }));
      }
    } else {
      const from = Number(req.resourceVersion);
      const events = this.store.eventsAfter(from);
      if (!events) {
        const err = expired(`too old resource version: ${from} (${this.store.oldestRevision})`);
        send('ERROR', statusBody(err));
        onErrorEvent?.(err.code);
        res.end();
        return;
      }
      replay = events;
    }

    const deliver = (e: StoredEvent): void => {
      if (e.resource !== key) return;
      const out = transition(filter, e);
      if (out) send(out.type, out.object);
    };
    for (const e of replay) deliver(e);
    const unsubscribe = this.store.subscribe(deliver);
    const timers: NodeJS.Timeout[] = [];
    if (req.allowWatchBookmarks)
      timers.push(setInterval(() => send('BOOKMARK', this.bookmark(rt)), this.bookmarkIntervalMs));
    if (req.timeoutSeconds !== undefined && req.timeoutSeconds > 0)
      timers.push(setTimeout(() => entry.close(false), req.timeoutSeconds * 1000));

    const socket = res.socket;
    const entry: OpenWatch = {
      res,
      close: (abrupt, closeConnection = false) => {
        cleanup();
        if (abrupt) res.destroy();
        else if (!res.writableEnded) res.end(() => (closeConnection ? socket?.end() : undefined));
      },
    };
    const cleanup = (): void => {
      unsubscribe();
      for (const t of timers) clearTimeout(t);
      this.open.delete(entry);
    };
    this.open.add(entry);
    res.on('close', cleanup);
  }

  /**
   * Ends every open watch; returns how many. abrupt: reset the connections instead of ending the
   * streams; closeConnection: also close each connection once its stream has ended (server shutdown).
   */
  dropAll(abrupt = false, closeConnection = false): number {
    const n = this.open.size;
    for (const w of [...this.open]) w.close(abrupt, closeConnection);
    return n;
  }

  private bookmark(rt: ResourceType, annotations?: Record<string, string>): KubeObject {
    const metadata: KubeObject['metadata'] = { resourceVersion: String(this.store.currentRevision) };
    if (annotations) metadata.annotations = annotations;
    return { kind: rt.kind, apiVersion: apiVersionOf(rt), metadata };
  }
}

/** What a watcher with this filter sees of a change: nothing, or one event. */
function transition(filter: ObjectFilter, e: StoredEvent): { type: WatchEventType; object: KubeObject } | undefined {
  const now = matchesFilter(filter, e.object);
  if (e.type === 'ADDED') return now ? { type: 'ADDED', object: e.object } : undefined;
  if (e.type === 'DELETED') return now ? { type: 'DELETED', object: e.object } : undefined;
  const before = e.previous ? matchesFilter(filter, e.previous) : false;
  if (now && before) return { type: 'MODIFIED', object: e.object };
  if (now) return { type: 'ADDED', object: e.object };
  if (before && e.previous) {
    const gone = structuredClone(e.previous);
    gone.metadata.resourceVersion = String(e.resourceVersion);
    return { type: 'DELETED', object: gone };
  }
  return undefined;
}
