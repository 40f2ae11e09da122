// The config-file source, for hosts without Kubernetes: a YAML file with our objects (the CRDs'
// shapes) and StaticRoutes. The file is read at start, again when it changes and on SIGHUP; a file
// with any problem is rejected as a whole (every problem logged with its object and field) and the
// last good configuration keeps running.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfigFile } from '../config/file.js';
import type { AnnouncerConfig, ConfigProblem } from '../config/types.js';
import { formatProblem } from '../config/types.js';
import { rejectedObjectsByKind } from '../config/validate.js';
import { NodeReconciler, type ReconcileInput } from './node-reconciler.js';
import type { DaemonContext, RouteSource } from './source.js';
import type { HealthCheckView } from '../health/health-monitor.js';

export interface FileSourceOptions {
  path: string;
  /** Labels this host has, for the nodeSelectors of peers and advertisements. Default none. */
  nodeLabels?: Record<string, string>;
  /** Our addresses (BFD source when a peer has no sourceAddress). Default: the host's non-loopback addresses. */
  nodeAddresses?: string[];
  /** Re-read when the file changes (fs.watch). Default true. */
  watch?: boolean;
}

/** The status the admin endpoint shows for the file source. */
export interface FileSourceStatus {
  source: 'file';
  path: string;
  loadedAt?: string;
  rejected?: { at: string; problems: string[] };
  routes: { prefix: string; peers: string[] }[];
  /** The StaticRoutes' health checks. */
  healthChecks: HealthCheckView[];
}

export function fileSource(options: FileSourceOptions): RouteSource {
  return new FileSource(options);
}

class FileSource implements RouteSource {
  private config: AnnouncerConfig | undefined;
  private ctx: DaemonContext | undefined;
  private reconciler: NodeReconciler | undefined;
  private watcher: fs.FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private loadedAt: Date | undefined;
  private rejected: { at: Date; problems: ConfigProblem[] } | undefined;
  private readonly onHangup = (): void => void this.reload('SIGHUP');

  constructor(private readonly options: FileSourceOptions) {}

  async start(ctx: DaemonContext): Promise<void> {
    this.ctx = ctx;
    this.reconciler = new NodeReconciler(ctx, () => this.input());
    await this.reload('start');
    if (this.config === undefined) {
      throw new Error(
        `${this.options.path}: no valid configuration (${this.rejected?.problems.length ?? 0} problems, logged above)`,
      );
    }
    if (this.options.watch ?? true) {
      // Editors and ConfigMap mounts replace the file (rename), which ends a watch on the file itself:
      // watch its directory and pick the file's events by name.
      const name = path.basename(this.options.path);
      this.watcher = fs.watch(path.dirname(path.resolve(this.options.path)), (_event, filename) => {
        if (filename !== null && filename !== name && !filename.startsWith('..')) return; // ..data: ConfigMap swaps
        clearTimeout(this.debounce);
        this.debounce = setTimeout(() => void this.reload('file changed'), 200);
      });
      this.watcher.on('error', (err) =>
        ctx.logger.warn({ err }, `cannot watch ${this.options.path}; send SIGHUP to reload`),
      );
    }
    process.on('SIGHUP', this.onHangup);
  }

  ready(): boolean {
    return this.config !== undefined && this.reconciler?.plan() !== undefined;
  }

  status(): FileSourceStatus {
    const plan = this.reconciler?.plan();
    return {
      source: 'file',
      path: this.options.path,
      ...(this.loadedAt ? { loadedAt: this.loadedAt.toISOString() } : {}),
      ...(this.rejected
        ? { rejected: { at: this.rejected.at.toISOString(), problems: this.rejected.problems.map(formatProblem) } }
        : {}),
      routes: [...(plan?.routes.values() ?? [])].map((r) => ({ prefix: r.prefix, peers: [...r.perPeer.keys()] })),
      healthChecks: this.reconciler?.healthChecks() ?? [],
    };
  }

  async stop(): Promise<void> {
    this.reconciler?.stop();
    clearTimeout(this.debounce);
    this.watcher?.close();
    process.off('SIGHUP', this.onHangup);
  }

  /** Reads the file; a good configuration replaces the running one, a bad one is logged and dropped. */
  private async reload(why: string): Promise<void> {
    const log = this.ctx!.logger;
    let result: { config: AnnouncerConfig; problems: ConfigProblem[] };
    try {
      result = await loadConfigFile(this.options.path);
    } catch (err) {
      log.error({ err, why }, `cannot read ${this.options.path}; ${this.keeps()}`);
      return;
    }
    if (result.problems.length > 0) {
      this.rejected = { at: new Date(), problems: result.problems };
      this.ctx!.setRejectedConfigObjects?.(rejectedObjectsByKind(result.problems));
      log.error(
        { why, problems: result.problems.map(formatProblem) },
        `${this.options.path} rejected; ${this.keeps()}`,
      );
      return;
    }
    this.config = result.config;
    this.loadedAt = new Date();
    this.rejected = undefined;
    this.ctx!.setRejectedConfigObjects?.({});
    log.info(
      { why, peers: result.config.peers.length, staticRoutes: result.config.staticRoutes.length },
      `configuration loaded from ${this.options.path}`,
    );
    await this.reconciler!.request();
  }

  /** What a failed reload leaves running, in words for the log. */
  private keeps(): string {
    return this.config === undefined ? 'no configuration is running yet' : 'the previous configuration keeps running';
  }

  private input(): ReconcileInput | undefined {
    if (this.config === undefined || this.ctx === undefined) return undefined;
    return {
      nodeName: this.ctx.nodeName,
      node: { metadata: { name: this.ctx.nodeName, labels: this.options.nodeLabels ?? {} } },
      config: this.config,
      services: [],
      endpointSlices: new Map(),
      poolOf: () => undefined,
      nodeAddresses: this.options.nodeAddresses ?? hostAddresses(),
    };
  }
}

/** The host's addresses, loopback and link-local left out. */
export function hostAddresses(): string[] {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => a !== undefined && !a.internal && !a.address.startsWith('fe80:'))
    .map((a) => a.address);
}
