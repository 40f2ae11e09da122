// The Kubernetes source of the daemon: every instance watches our configuration objects, the
// Services, the EndpointSlices, its own Node and its own BGPNodeState, announces what the plan says
// for this node and reports it in its BGPNodeState; the one instance holding the Lease also runs the
// allocator (addresses, status, finalizers, Events), watches every BGPNodeState to write the Services'
// Announced condition, and writes the Accepted conditions of our objects. Losing the Lease stops the
// allocator at once; the routes of this node are not touched by it.
import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../service/model.js';
import type { ServiceClassOptions } from '../service/service-class.js';
import type { HealthCheckView } from '../health/health-monitor.js';
import type { DaemonContext, RouteSource } from '../daemon/source.js';
import { formatProblem, type AnnouncerConfig } from '../config/types.js';
import { loadConfigFile } from '../config/file.js';
import { rejectedObjectsByKind } from '../config/validate.js';
import { AllocationController, type AllocationStatus } from './allocation-controller.js';
import type { ObjectCache } from './cache.js';
import { KubeConfigSource } from './config-source.js';
import { EventRecorder } from './events.js';
import type { WatchTuning } from './informer.js';
import { LeaderElection } from './lease.js';
import { NodeAnnouncer } from './node-announcer.js';
import { ServiceWriter } from './service-status.js';
import { watchEndpointSlices, watchNamespaces, watchNodeStates, watchNodes, watchServices } from './watches.js';

export interface KubernetesSourceOptions {
  kubeConfig: KubeConfig;
  /**
   * A config file on the node (`daemon --local-config`) whose objects are merged into the cluster's
   * configuration, local objects winning (config/merge.ts); planned from the start, before the API
   * server answers and while it is down. Read once at start: a file with a problem stops the start.
   */
  localConfigPath?: string;
  /** Where our configuration objects, their password Secrets and the Lease live. */
  namespace: string;
  /** spec.loadBalancerClass we handle. Default DEFAULT_LOAD_BALANCER_CLASS ("bgp-announce.io/bgp"). */
  loadBalancerClass?: string;
  /** Also handle LoadBalancer Services with no class (we are the cluster's default). Default false. */
  defaultLoadBalancer?: boolean;
  /** Name of the allocator's Lease. Default "bgp-announce-allocator". */
  leaseName?: string;
  /** This instance in the election. Default the node name. */
  identity?: string;
  /** Lease timing (seconds). Default 15. */
  leaseDurationSeconds?: number;
  /** Run the allocator (when elected). Default true; false for announce-only instances. */
  allocate?: boolean;
  /** Watch tuning (watchdog, back-off); tests shorten it. */
  watch?: WatchTuning;
  /** Least time between two writes of this node's BGPNodeState. Default 1000 ms. */
  nodeStateIntervalMs?: number;
  /** The leader's timing of the Services' Announced condition (allocation-controller.ts); tests shorten it. */
  announced?: { settleMs?: number; maxSettleMs?: number; messageIntervalMs?: number };
}

/** What the admin endpoint shows of the Kubernetes source. */
export interface KubernetesSourceStatus {
  source: 'kubernetes';
  namespace: string;
  loadBalancerClass: string;
  defaultLoadBalancer: boolean;
  leader: { self: boolean; holder?: string };
  config: { accepted: boolean; rejected?: string[] };
  watches: Record<string, ReturnType<ObjectCache<unknown>['health']>>;
  services: ReturnType<NodeAnnouncer['status']>['services'];
  warnings: string[];
  /** The StaticRoutes' health checks (none from Kubernetes objects today). */
  healthChecks: HealthCheckView[];
  allocations?: AllocationStatus[];
}

export function kubernetesSource(options: KubernetesSourceOptions): RouteSource {
  return new KubernetesSource(options);
}

class KubernetesSource implements RouteSource {
  private readonly serviceClass: ServiceClassOptions;
  private parts:
    | {
        caches: Record<string, ObjectCache<unknown>>;
        config: KubeConfigSource;
        lease: LeaderElection;
        announcer: NodeAnnouncer;
        allocation: AllocationController | undefined;
        events: EventRecorder;
      }
    | undefined;

  constructor(private readonly options: KubernetesSourceOptions) {
    this.serviceClass = {
      loadBalancerClass: options.loadBalancerClass ?? DEFAULT_LOAD_BALANCER_CLASS,
      defaultLoadBalancer: options.defaultLoadBalancer ?? false,
    };
  }

  async start(ctx: DaemonContext): Promise<void> {
    const { kubeConfig, namespace } = this.options;
    let localConfig: AnnouncerConfig | undefined;
    if (this.options.localConfigPath !== undefined) {
      const loaded = await loadConfigFile(this.options.localConfigPath);
      if (loaded.problems.length > 0)
        throw new Error(
          `--local-config ${this.options.localConfigPath}: ${loaded.problems.length} problem${loaded.problems.length === 1 ? '' : 's'}: ${loaded.problems.map(formatProblem).join('; ')}`,
        );
      localConfig = loaded.config;
      ctx.logger.info(
        {
          path: this.options.localConfigPath,
          peers: localConfig.peers.length,
          staticRoutes: localConfig.staticRoutes.length,
        },
        'local configuration loaded: it applies now, and merges with the cluster configuration once that is read',
      );
    }
    const tuning = { ...this.options.watch, logger: ctx.logger };
    const services = watchServices(kubeConfig, tuning);
    const endpointSlices = watchEndpointSlices(kubeConfig, tuning);
    const nodes = watchNodes(kubeConfig, { ...tuning, nodeName: ctx.nodeName });
    const namespaces = watchNamespaces(kubeConfig, tuning);
    const ownState = watchNodeStates(kubeConfig, namespace, { ...tuning, nodeName: ctx.nodeName });
    const writer = new ServiceWriter(kubeConfig.makeApiClient(CoreV1Api));
    const events = new EventRecorder({ kubeConfig, reportingInstance: ctx.nodeName, logger: ctx.logger });
    const config = new KubeConfigSource({ ...tuning, kubeConfig, namespace });
    const nodeState = {
      kubeConfig,
      namespace,
      own: ownState,
      ...(this.options.nodeStateIntervalMs !== undefined ? { minIntervalMs: this.options.nodeStateIntervalMs } : {}),
    };
    const announcer = new NodeAnnouncer(ctx, {
      services,
      endpointSlices,
      nodes,
      serviceClass: this.serviceClass,
      nodeState,
      ...(localConfig !== undefined ? { localConfig } : {}),
    });
    const allocation =
      this.options.allocate === false
        ? undefined
        : new AllocationController({
            services,
            namespaces,
            writer,
            events,
            serviceClass: this.serviceClass,
            logger: ctx.logger,
            setPoolUsage: (u) => ctx.setPoolUsage(u),
            // Only the leader watches every node's BGPNodeState, for the term it leads.
            nodeStates: () => watchNodeStates(kubeConfig, namespace, tuning),
            ...this.options.announced,
          });
    const lease = new LeaderElection({
      kubeConfig,
      namespace,
      name: this.options.leaseName ?? 'bgp-announce-allocator',
      identity: this.options.identity ?? ctx.nodeName,
      ...(this.options.leaseDurationSeconds !== undefined
        ? { leaseDurationSeconds: this.options.leaseDurationSeconds }
        : {}),
      logger: ctx.logger,
    });
    this.parts = {
      caches: { services, endpointSlices, nodes, namespaces, nodeState: ownState },
      config,
      lease,
      announcer,
      allocation,
      events,
    };

    if (allocation) ctx.readAnnouncingNodes?.(() => allocation.announcingNodes());
    config.on('config', (c) => {
      ctx.setRejectedConfigObjects?.({});
      ctx.logger.info(
        { peers: c.peers.length, pools: c.pools.length, advertisements: c.advertisements.length },
        'configuration accepted',
      );
      announcer.setConfig(c);
      allocation?.setPools(c.pools);
    });
    config.on('rejected', (err) => {
      ctx.setRejectedConfigObjects?.(rejectedObjectsByKind(err.problems));
      ctx.logger.error(
        { problems: err.problems.map(formatProblem) },
        'configuration rejected; the previous one keeps running',
      );
    });
    if (allocation) {
      // Terms run one after the other: a stop still finishing is awaited before the next start.
      let term: Promise<void> = Promise.resolve();
      const next = (what: string, step: () => Promise<void>): void => {
        term = term.then(step).catch((err: unknown) => ctx.logger.error({ err }, `allocator failed to ${what}`));
      };
      lease.on('leading', () => {
        ctx.logger.info('elected: running the allocator');
        config.setWriteStatus(true);
        next('start', () => allocation.start());
      });
      lease.on('lost', (reason) => {
        ctx.logger.warn({ reason }, 'no longer the allocator');
        config.setWriteStatus(false);
        next('stop', () => allocation.stop());
      });
    }
    config.start();
    if (allocation) lease.start();
    await announcer.start();
  }

  ready(): boolean {
    const p = this.parts;
    if (!p) return false;
    // This node's BGPNodeState is a report, not an input: its watch (say, the CRD missing) does not hold readiness.
    return (
      p.announcer.ready() && Object.entries(p.caches).every(([name, c]) => name === 'nodeState' || c.health().synced)
    );
  }

  status(): KubernetesSourceStatus {
    const p = this.parts;
    const rejected = p?.config.lastError();
    const announcer = p?.announcer.status();
    return {
      source: 'kubernetes',
      namespace: this.options.namespace,
      loadBalancerClass: this.serviceClass.loadBalancerClass,
      defaultLoadBalancer: this.serviceClass.defaultLoadBalancer,
      leader: { self: p?.lease.isLeader() ?? false, ...(p?.lease.holder() ? { holder: p.lease.holder()! } : {}) },
      config: {
        accepted: p?.config.current() !== undefined,
        ...(rejected ? { rejected: rejected.problems.map(formatProblem) } : {}),
      },
      watches: Object.fromEntries(Object.entries(p?.caches ?? {}).map(([k, c]) => [k, c.health()])),
      services: announcer?.services ?? [],
      warnings: announcer?.warnings ?? [],
      healthChecks: announcer?.healthChecks ?? [],
      ...(p?.lease.isLeader() && p.allocation ? { allocations: p.allocation.status() } : {}),
    };
  }

  async stop(): Promise<void> {
    const p = this.parts;
    if (!p) return;
    await p.announcer.stop();
    await p.allocation?.stop();
    p.config.stop();
    // release() stops the election and clears the holder so another instance takes over at once
    // (stopping first would leave it nothing to release: the Lease would wait out its duration).
    await p.lease.release().catch(() => undefined);
    await p.events.flush();
    for (const c of Object.values(p.caches)) c.stop();
  }
}
