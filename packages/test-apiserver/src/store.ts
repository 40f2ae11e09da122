// The in-memory object store: one global resourceVersion counter (as etcd's revision), objects per
// resource, a bounded history of changes for watches, and synchronous change listeners.
import type { KubeObject, StoredEvent } from './types.js';

/** A change listener; called synchronously after every write. */
export type StoreListener = (event: StoredEvent) => void;

/** Object key inside a resource: "namespace/name" or "/name" for cluster-scoped objects. */
export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

/** Orders keys as etcd does (by code unit, not by locale). */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** In-memory objects with etcd-like revisions and a compactable change history. */
export class ObjectStore {
  private revision: number;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private history: StoredEvent[] = [];
  /** Every event with resourceVersion > historyStart is still in history. */
  private historyStart: number;
  private readonly listeners = new Set<StoreListener>();

  /**
   * @param historySize how many changes (over all resources) watches can replay
   * @param initialRevision the resourceVersion of an empty store
   */
  constructor(
    private readonly historySize: number,
    initialRevision = 1,
  ) {
    if (!Number.isInteger(historySize) || historySize < 1)
      throw new Error(`historySize must be a positive integer, got ${historySize}`);
    this.revision = initialRevision;
    this.historyStart = initialRevision;
  }

  /** The current global revision. */
  get currentRevision(): number {
    return this.revision;
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestRevision(): number {
    return this.historyStart;
  }

  /** A copy of a stored object. */
  get(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(resource)?.get(objectKey(namespace, name));
    return o ? structuredClone(o) : undefined;
  }

  /** Copies of a resource's objects (one namespace, or all), sorted by namespace then name. */
  list(resource: string, namespace?: string): KubeObject[] {
    const all = [...(this.objects.get(resource)?.values() ?? [])];
    return all
      .filter((o) => namespace === undefined || o.metadata.namespace === namespace)
      .sort((a, b) =>
        compareKeys(
          objectKey(a.metadata.namespace, a.metadata.name ?? ''),
          objectKey(b.metadata.namespace, b.metadata.name ?? ''),
        ),
      )
      .map((o) => structuredClone(o));
  }

  /** How many objects a resource holds in a namespace (or in all). */
  count(resource: string, namespace?: string): number {
    let n = 0;
    for (const o of this.objects.get(resource)?.values() ?? [])
      if (namespace === undefined || o.metadata.namespace === namespace) n++;
    return n;
  }

  /**
   * Writes an object (ADDED when new, MODIFIED otherwise) at the next revision, which it gets as
   * metadata.resourceVersion; returns a copy of what was stored.
   */
  put(resource: string, object: KubeObject): KubeObject {
    const name = object.metadata.name;
    if (!name) throw new Error('store.put: object has no metadata.name');
    let byKey = this.objects.get(resource);
    if (!byKey) this.objects.set(resource, (byKey = new Map()));
    const key = objectKey(object.metadata.namespace, name);
    const previous = byKey.get(key);
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.revision);
    byKey.set(key, stored);
    const event: StoredEvent = {
      resourceVersion: this.revision,
      resource,
      type: previous ? 'MODIFIED' : 'ADDED',
      object: stored,
    };
    if (previous) event.previous = previous;
    this.record(event);
    return structuredClone(stored);
  }

  /** Removes an object at the next revision (the DELETED event carries it at that revision). */
  remove(resource: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const byKey = this.objects.get(resource);
    const key = objectKey(namespace, name);
    const previous = byKey?.get(key);
    if (!byKey || !previous) return undefined;
    byKey.delete(key);
    const last = structuredClone(previous);
    last.metadata.resourceVersion = String(++this.revision);
    this.record({ resourceVersion: this.revision, resource, type: 'DELETED', object: last, previous });
    return structuredClone(last);
  }

  /**
   * The recorded changes after a resourceVersion, oldest first; undefined when some of them were
   * compacted away (the caller answers 410 Gone).
   */
  eventsAfter(resourceVersion: number): StoredEvent[] | undefined {
    if (resourceVersion < this.historyStart) return undefined;
    return this.history.filter((e) => e.resourceVersion > resourceVersion);
  }

  /** Forgets all history: a watch from any older resourceVersion now gets 410 Gone. */
  compact(): void {
    this.history = [];
    this.historyStart = this.revision;
  }

  /**
   * As a restarted API server sees it: its watch cache starts empty at etcd's current revision, which
   * has moved on meanwhile (leases and events are written all the time), so a watch resumed from any
   * resourceVersion a client holds is too old.
   */
  restartWatchCache(): void {
    this.revision += 1;
    this.compact();
  }

  /** Registers a change listener; returns the function that removes it. */
  subscribe(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private record(event: StoredEvent): void {
    this.history.push(event);
    while (this.history.length > this.historySize) {
      const dropped = this.history.shift();
      if (dropped) this.historyStart = dropped.resourceVersion;
    }
    for (const l of [...this.listeners]) l(event);
  }
}
