// The contract between the Kubernetes watch layer (informer.ts) and the controllers that read it: a
// local cache of one resource kind that stays filled across watch errors, 410 Gone, API server
// restarts and silent watches. The controllers only ever read the cache and react to its events;
// they never see a watch break. A re-list that finds an object gone reports 'delete' for it, and
// nothing is reported for objects that did not change.

/** What happened to one object in the cache. */
export type CacheChange = 'add' | 'update' | 'delete';

/** The state of the watch behind a cache, for /readyz, metrics and logs. */
export interface CacheHealth {
  /** The first full list has been loaded. */
  synced: boolean;
  /** The watch is currently connected. */
  watching: boolean;
  /** Re-lists since start (after 410 Gone, errors, or the watchdog). */
  relists: number;
  /** The last error, if the watch is currently failing. */
  lastError?: string;
}

export interface ObjectCache<T> {
  /** "namespace/name", or "name" for cluster-scoped kinds. */
  key(obj: T): string;
  get(key: string): T | undefined;
  list(): T[];
  /** Resolves once the first list is in the cache. */
  synced(): Promise<void>;
  health(): CacheHealth;
  on(event: 'change', listener: (change: CacheChange, obj: T, old: T | undefined) => void): this;
  off(event: 'change', listener: (change: CacheChange, obj: T, old: T | undefined) => void): this;
  stop(): void;
}
