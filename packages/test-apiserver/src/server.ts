// The test API server: an HTTP server over the store, and the TypeScript controls tests use to seed
// objects, inject failures, compact history, drop watches, restart and read the request log.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { handleRequest, type HttpState, type InjectedFailure } from './http.js';
import { kubeconfigOptions, kubeconfigYaml, type KubeConfigOptions } from './kubeconfig.js';
import { createObject, deleteObject, updateObject, type ApiContext } from './operations.js';
import { MERGE_PATCH, patchObject } from './patch-object.js';
import { BGP_ANNOUNCE_CRDS, builtInResources, customResource, resourceKey, ResourceRegistry } from './resources.js';
import { firstServiceIP, parseServiceRange } from './services.js';
import { ObjectStore } from './store.js';
import type { ApiVerb, CustomResourceDefinition, KubeObject, RequestRecord, ResourceType, Validator } from './types.js';
import { WatchHub } from './watch.js';
import { StartupFaults, type StorageInitializing } from './startup-faults.js';

/** Options of start(). */
export interface StartOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** How often watches with allowWatchBookmarks=true get a BOOKMARK; default 60000 (the real server's minute). */
  bookmarkIntervalMs?: number;
  /** How many changes (over all resources) a watch can replay from; default 1000. */
  historySize?: number;
  /** Custom resources served; default our CRDs (bgp-announce.io/v1alpha1). */
  customResources?: readonly CustomResourceDefinition[];
  /** Extra validation of create/update/patch: returned messages make the request 422 Invalid. */
  validate?: Validator;
  /** IPv4 range for Service cluster IPs; default 192.0.2.0/24 (a documentation range: nothing is routed). */
  serviceClusterIPRange?: string;
  /** Create namespaces default, kube-system, kube-public, kube-node-lease and the `kubernetes` Service; default true. */
  seed?: boolean;
  /** Clock for timestamps; default the system clock. */
  now?: () => Date;
  /**
   * For this long after it starts serving (start() and every restart()), every resource request is
   * 403 Forbidden, as a real API server's before its RBAC cache is loaded (~50 ms). Default 0 (off).
   */
  startupForbiddenMs?: number;
  /** The user named in those 403 messages; default system:serviceaccount:bgp-announce:bgp-announce. */
  forbiddenUser?: string;
  /** From start, custom resource watches get 429 "storage is (re)initializing" with Retry-After (see storageInitializing()). */
  storageInitializing?: StorageInitializing;
}

/** A running test API server and its controls. */
export class TestApiServer {
  private server: Server | undefined;
  private readonly state: HttpState;
  private boundPort = 0;
  private readonly faults = new StartupFaults();
  private startupForbiddenMs = 0;
  private shuttingDown: { finish: () => void; done: Promise<void> } | undefined;

  /** @internal use start() */
  constructor(
    private readonly options: Required<Pick<StartOptions, 'host' | 'bookmarkIntervalMs'>> & { port: number },
    ctx: ApiContext,
  ) {
    this.state = {
      ctx,
      watches: new WatchHub(ctx.store, options.bookmarkIntervalMs),
      log: [],
      failures: [],
      serverAddress: () => `${this.options.host}:${this.boundPort}`,
      faults: this.faults,
    };
  }

  /** @internal start-up fault settings from start() */
  configureFaults(options: StartOptions): void {
    this.startupForbiddenMs = options.startupForbiddenMs ?? 0;
    if (options.forbiddenUser !== undefined) this.faults.forbiddenUser = options.forbiddenUser;
    if (options.storageInitializing) this.faults.storageInitializing(options.storageInitializing);
  }

  /** From now, for `ms`, every resource request is 403 Forbidden (RBAC not loaded); 0 ends it. */
  forbidFor(ms: number): void {
    this.faults.forbidFor(ms);
  }

  /**
   * From now, watches of custom resources get 429 TooManyRequests "storage is (re)initializing" with
   * a Retry-After header (default 1 s), for `ms`, for `count` watches, or until called with false.
   */
  storageInitializing(opts: StorageInitializing | false = {}): void {
    this.faults.storageInitializing(opts);
  }

  /**
   * Shuts down as a SIGTERM'd kube-apiserver does: stops listening at once (new connections are
   * refused) but keeps serving the watches already open for `graceMs` (default 60 s, the real
   * server's), then ends them and closes every connection. Resolves once all are closed. restart()
   * or stop() before then ends the grace at once.
   */
  shutdown(opts: { graceMs?: number } = {}): Promise<void> {
    if (this.shuttingDown) return this.shuttingDown.done;
    const server = this.server;
    if (!server) return Promise.resolve();
    this.server = undefined;
    const closed = closing(server);
    server.closeIdleConnections();
    let finish!: () => void;
    const graceOver = new Promise<void>((resolve) => (finish = resolve));
    const timer = setTimeout(finish, opts.graceMs ?? 60_000);
    const done = graceOver.then(async () => {
      clearTimeout(timer);
      await this.drain(server, closed);
      this.shuttingDown = undefined;
    });
    this.shuttingDown = { finish, done };
    return done;
  }

  /** True between shutdown() and the end of its grace. */
  isShuttingDown(): boolean {
    return this.shuttingDown !== undefined;
  }

  private async endShutdown(): Promise<void> {
    const s = this.shuttingDown;
    if (!s) return;
    s.finish();
    await s.done;
  }

  /** The server URL, e.g. http://127.0.0.1:34567. */
  get url(): string {
    const host = this.options.host.includes(':') ? `[${this.options.host}]` : this.options.host;
    return `http://${host}:${this.boundPort}`;
  }

  /** The TCP port the server listens on (kept across restart()). */
  get port(): number {
    return this.boundPort;
  }

  /** Options for `new KubeConfig().loadFromOptions(...)`. */
  kubeconfig(): KubeConfigOptions {
    return kubeconfigOptions(this.url);
  }

  /** The kubeconfig as YAML text (for a file, kubectl or KUBECONFIG). */
  kubeconfigYaml(): string {
    return kubeconfigYaml(this.url);
  }

  /** The current global resourceVersion. */
  resourceVersion(): string {
    return String(this.state.ctx.store.currentRevision);
  }

  /** The ResourceType for a name like "services", "svc", "leases.coordination.k8s.io"; throws if unknown. */
  resource(name: string): ResourceType {
    return this.state.ctx.registry.resolve(name);
  }

  /** Serves another custom resource from now on. */
  addCustomResource(def: CustomResourceDefinition): void {
    this.state.ctx.registry.add(customResource(def));
  }

  /** Creates an object (a plain literal or a client-node model) directly (status kept; namespace defaults to "default"); throws ApiError like the API would. */
  create(resource: string, object: object): KubeObject {
    const rt = this.resource(resource);
    const ns = rt.namespaced ? (metaOf(object).namespace ?? 'default') : undefined;
    return createObject(this.state.ctx, rt, ns, object, { keepStatus: true });
  }

  /** Replaces an object directly, status included; a metadata.resourceVersion given must be current (else 409). */
  update(resource: string, object: object): KubeObject {
    const rt = this.resource(resource);
    const meta = metaOf(object);
    const ns = rt.namespaced ? (meta.namespace ?? 'default') : undefined;
    return updateObject(this.state.ctx, rt, ns, meta.name ?? '', object, 'all');
  }

  /** Applies a JSON merge patch (status included) to an object directly. */
  patch(resource: string, name: string, mergePatch: Record<string, unknown>, namespace = 'default'): KubeObject {
    const rt = this.resource(resource);
    return patchObject(this.state.ctx, rt, rt.namespaced ? namespace : undefined, name, MERGE_PATCH, mergePatch, 'all');
  }

  /** Deletes an object as the API would (finalizers keep it, with deletionTimestamp); returns its last state. */
  delete(resource: string, name: string, namespace = 'default'): KubeObject {
    const rt = this.resource(resource);
    return deleteObject(this.state.ctx, rt, rt.namespaced ? namespace : undefined, name);
  }

  /** A copy of a stored object, or undefined. */
  get(resource: string, name: string, namespace = 'default'): KubeObject | undefined {
    const rt = this.resource(resource);
    return this.state.ctx.store.get(resourceKey(rt), rt.namespaced ? namespace : undefined, name);
  }

  /** Copies of the stored objects of a resource (one namespace, or all). */
  list(resource: string, namespace?: string): KubeObject[] {
    return this.state.ctx.store.list(resourceKey(this.resource(resource)), namespace);
  }

  /** Forgets the watch history: the next watch from an older resourceVersion gets 410 Gone (Expired). */
  compactHistory(): void {
    this.state.ctx.store.compact();
  }

  /** Closes every open watch (abrupt: resets the connections); returns how many were open. */
  dropWatches(opts: { abrupt?: boolean } = {}): number {
    return this.state.watches.dropAll(opts.abrupt ?? false);
  }

  /** How many watches are open now. */
  openWatches(): number {
    return this.state.watches.size;
  }

  /**
   * Makes the next request with this verb on this resource ("services", "services/status",
   * "leases.coordination.k8s.io", or "*") fail with an HTTP status and a matching metav1.Status.
   * A watch failed with 410 gets an ERROR event (Expired) in a 200 stream, like the real server.
   */
  failNext(verb: ApiVerb | '*', resource: string, status: number, message?: string): void {
    if (resource !== '*') this.resource(resource.split('/')[0] as string);
    const f: InjectedFailure = { verb, resource, status };
    if (message !== undefined) f.message = message;
    this.state.failures.push(f);
  }

  /** The requests answered so far, oldest first. */
  requests(): RequestRecord[] {
    return this.state.log.map((r) => ({ ...r, query: { ...r.query } }));
  }

  /** Empties the request log. */
  clearRequests(): void {
    this.state.log.length = 0;
  }

  /** Sets (or removes) the validation hook. */
  setValidator(validate: Validator | undefined): void {
    this.state.ctx.validator = validate;
  }

  /** @internal */
  async listen(): Promise<void> {
    const server = createServer((req, res) => void handleRequest(this.state, req, res));
    for (let attempt = 0; ; attempt++) {
      try {
        await new Promise<void>((resolve, reject) => {
          server.once('error', reject);
          server.listen(this.boundPort || this.options.port, this.options.host, () => {
            server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (err) {
        // On restart the old listening socket may take a moment to let go of the port.
        if ((err as { code?: string }).code !== 'EADDRINUSE' || this.boundPort === 0 || attempt >= 50) throw err;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    }
    this.boundPort = (server.address() as AddressInfo).port;
    this.server = server;
    if (this.startupForbiddenMs > 0) this.faults.forbidFor(this.startupForbiddenMs);
  }

  /** Stops listening and closes every connection (watch streams end). The store is kept; restart() listens again. */
  async stop(): Promise<void> {
    await this.endShutdown();
    const server = this.server;
    this.server = undefined;
    if (server) await this.drain(server, closing(server));
  }

  /**
   * Restarts as a kube-apiserver restart looks to clients: every connection closes (watch streams end)
   * and the same port answers again at once, with the objects kept (they live in etcd) but the watch
   * history lost (the new server's watch cache starts empty): a watch resumed from an older
   * resourceVersion gets 410 Gone. `keepHistory` keeps the history, as when a load balancer in front
   * of several API servers moves the client to another, warm one. After stop(), listens again.
   */
  async restart(opts: { keepHistory?: boolean } = {}): Promise<void> {
    await this.endShutdown();
    const old = this.server;
    this.server = undefined;
    const closed = old ? closing(old) : undefined;
    if (!opts.keepHistory) this.state.ctx.store.restartWatchCache();
    await this.listen();
    if (old && closed) await this.drain(old, closed);
  }

  /** Ends watch streams and their connections, closes idle ones; resets stragglers after 1 s. */
  private async drain(server: Server, closed: Promise<void>): Promise<void> {
    this.state.watches.dropAll(false, true);
    server.closeIdleConnections();
    const straggler = setTimeout(() => server.closeAllConnections(), 1000);
    await closed;
    clearTimeout(straggler);
  }
}

/** Stops accepting connections; resolves once every connection has closed. */
function closing(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.once('close', () => resolve()));
  server.close();
  return closed;
}

/** The name and namespace of an object given to a control (strings only). */
function metaOf(object: object): { name?: string; namespace?: string } {
  const m = (object as { metadata?: unknown }).metadata;
  if (typeof m !== 'object' || m === null) return {};
  const { name, namespace } = m as { name?: unknown; namespace?: unknown };
  return { ...(typeof name === 'string' ? { name } : {}), ...(typeof namespace === 'string' ? { namespace } : {}) };
}

function seed(ctx: ApiContext): void {
  const nsType = ctx.registry.find('', 'v1', 'namespaces') as ResourceType;
  for (const name of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) {
    createObject(ctx, nsType, undefined, { metadata: { name, labels: { 'kubernetes.io/metadata.name': name } } });
  }
  const svc = ctx.registry.find('', 'v1', 'services') as ResourceType;
  createObject(ctx, svc, 'default', {
    metadata: { name: 'kubernetes', labels: { component: 'apiserver', provider: 'kubernetes' } },
    spec: {
      clusterIP: firstServiceIP(ctx.serviceRange),
      ports: [{ name: 'https', port: 443, protocol: 'TCP', targetPort: 6443 }],
    },
  });
}

/** Starts a test API server; stop() it in teardown. */
export async function start(options: StartOptions = {}): Promise<TestApiServer> {
  const port = options.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`port must be an integer from 0 to 65535, got ${port}`);
  const bookmarkIntervalMs = options.bookmarkIntervalMs ?? 60_000;
  if (!(bookmarkIntervalMs > 0)) throw new Error(`bookmarkIntervalMs must be positive, got ${bookmarkIntervalMs}`);
  const registry = new ResourceRegistry();
  for (const rt of builtInResources()) registry.add(rt);
  for (const def of options.customResources ?? BGP_ANNOUNCE_CRDS) registry.add(customResource(def));
  const ctx: ApiContext = {
    store: new ObjectStore(options.historySize ?? 1000),
    registry,
    serviceRange: parseServiceRange(options.serviceClusterIPRange ?? '192.0.2.0/24'),
    now: options.now ?? (() => new Date()),
  };
  if (options.validate) ctx.validator = options.validate;
  if (options.seed ?? true) seed(ctx);
  else
    createObject(ctx, registry.find('', 'v1', 'namespaces') as ResourceType, undefined, {
      metadata: { name: 'default' },
    });
  const server = new TestApiServer({ host: options.host ?? '127.0.0.1', bookmarkIntervalMs, port }, ctx);
  server.configureFaults(options);
  await server.listen();
  return server;
}
