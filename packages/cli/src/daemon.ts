// `bgp-announce daemon`: the command line turned into the daemon's options and the choice of route
// source (--config FILE: the config file; else Kubernetes), then the daemon started. It runs until
// SIGTERM/SIGINT, which drain (or, with graceful restart, leave) every peer before exiting 0.
// The sources (fileSource, kubernetesSource) sit behind the small DaemonSources interface, so tests
// can give theirs.
import { createRequire } from 'node:module';
import { hostname } from 'node:os';
import {
  DaemonOptionError,
  fileSource,
  kubernetesSource,
  loadKubeConfig,
  userAgentOf,
  resolveDaemonOptions,
  startDaemon,
  type DaemonOptions,
  type KubeConnectOptions,
  type KubernetesSourceOptions,
  type RouteSource,
  type RunningDaemon,
} from '@bgp-announce/announcer';
import { UsageError, parseAs, parseInteger } from './options.js';

/** Sent in the User-Agent of every Kubernetes API request: bgp-announce/<version> (<node>). */
const { version: VERSION } = createRequire(import.meta.url)('../package.json') as { version: string };

/** The options as commander hands them over. */
export interface DaemonCommandOptions {
  config?: string;
  localConfig?: string;
  kubeconfig?: string;
  kubeUrl?: string;
  kubeContext?: string;
  namespace?: string;
  lbClass?: string;
  defaultLb?: boolean;
  nodeName?: string;
  routerId?: string;
  localAs?: string;
  metricsAddress?: string;
  adminAddress?: string;
  adminAllowRemote?: boolean;
  logLevel?: string;
  messageHistory?: string;
  drainTime?: string;
  /** --no-graceful-restart makes it false. */
  gracefulRestart?: boolean;
  stateDir?: string;
  /** --no-bfd makes it false. */
  bfd?: boolean;
  bfdAllowUncheckedTtl?: boolean;
}

/** Where peers and routes come from. */
export type SourcePlan =
  | { kind: 'file'; path: string }
  | {
      kind: 'kubernetes';
      kubeconfig?: string;
      url?: string;
      context?: string;
      namespace?: string;
      loadBalancerClass?: string;
      defaultLoadBalancer: boolean;
      /** --local-config: a file merged into the cluster's configuration, applied before the API answers. */
      localConfig?: string;
    };

export interface DaemonPlan {
  daemon: DaemonOptions;
  source: SourcePlan;
}

/** Builds the route source of a plan: the announcer's sources by default. */
export interface DaemonSources {
  file(plan: Extract<SourcePlan, { kind: 'file' }>, nodeName: string): RouteSource;
  kubernetes(plan: Extract<SourcePlan, { kind: 'kubernetes' }>, nodeName: string): RouteSource;
}

const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
/** The namespace of our objects when neither --namespace nor the service account names one. */
export const DEFAULT_NAMESPACE = 'bgp-announce';
const PREFIX = 'bgp-announce daemon';

/** The command line as a plan. Throws UsageError naming the option at fault. */
export function parseDaemonCommand(
  o: DaemonCommandOptions,
  env: Record<string, string | undefined> = process.env,
): DaemonPlan {
  const nodeName = o.nodeName ?? env.NODE_NAME ?? (o.config !== undefined ? hostname() : undefined);
  if (nodeName === undefined || nodeName.trim() === '')
    throw new UsageError(
      '--node-name is required (or NODE_NAME in the environment, set from spec.nodeName in the DaemonSet)',
    );
  const daemon: DaemonOptions = { nodeName };
  if (o.routerId !== undefined) daemon.routerId = o.routerId;
  if (o.localAs !== undefined) daemon.localAs = parseAs(o.localAs, '--local-as');
  if (o.metricsAddress !== undefined) daemon.metricsAddress = o.metricsAddress;
  if (o.adminAddress !== undefined) daemon.adminAddress = o.adminAddress;
  if (o.adminAllowRemote) daemon.adminAllowRemote = true;
  if (o.logLevel !== undefined) {
    const level = LOG_LEVELS.find((l) => l === o.logLevel);
    if (level === undefined)
      throw new UsageError(`--log-level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(o.logLevel)}`);
    daemon.logLevel = level;
  }
  if (o.messageHistory !== undefined)
    daemon.messageHistory = parseInteger(
      o.messageHistory,
      '--message-history',
      0,
      10000,
      'a number of messages 0-10000',
    );
  if (o.drainTime !== undefined) {
    const seconds = /^\d+(\.\d+)?$/.test(o.drainTime) ? Number(o.drainTime) : NaN;
    if (!(seconds >= 0 && seconds <= 3600))
      throw new UsageError(`--drain-time must be 0-3600 seconds, got ${JSON.stringify(o.drainTime)}`);
    daemon.drainMs = Math.round(seconds * 1000);
  }
  if (o.gracefulRestart === false) daemon.gracefulRestart = false;
  if (o.stateDir !== undefined) {
    if (!o.stateDir.startsWith('/'))
      throw new UsageError(
        `--state-dir must be an absolute path (such as /var/run/bgp-announce), got ${JSON.stringify(o.stateDir)}`,
      );
    daemon.stateDirectory = o.stateDir;
  }
  if (o.bfd === false) daemon.bfd = false;
  else if (o.bfdAllowUncheckedTtl) daemon.bfd = { allowUncheckedTtl: true };

  const kubeOptions: [string, unknown][] = [
    ['--kubeconfig', o.kubeconfig],
    ['--kube-url', o.kubeUrl],
    ['--kube-context', o.kubeContext],
    ['--namespace', o.namespace],
    ['--lb-class', o.lbClass],
    ['--default-lb', o.defaultLb],
  ];
  if (o.config !== undefined && o.localConfig !== undefined)
    throw new UsageError(
      '--local-config goes with the Kubernetes source (it merges into the cluster configuration); with --config, put every object in that file',
    );
  if (o.localConfig === '') throw new UsageError('--local-config needs a file name');
  if (o.config !== undefined) {
    const given = kubeOptions.filter(([, v]) => v !== undefined && v !== false).map(([name]) => name);
    if (given.length > 0)
      throw new UsageError(
        `${given.join(', ')} ${given.length === 1 ? 'is' : 'are'} for the Kubernetes source; --config ${o.config} uses the config file instead`,
      );
    if (o.config === '') throw new UsageError('--config needs a file name');
    return { daemon, source: { kind: 'file', path: o.config } };
  }
  if (o.kubeUrl !== undefined && o.kubeconfig !== undefined)
    throw new UsageError('--kube-url and --kubeconfig exclude each other');
  const source: SourcePlan = { kind: 'kubernetes', defaultLoadBalancer: o.defaultLb === true };
  if (o.kubeconfig !== undefined) source.kubeconfig = o.kubeconfig;
  if (o.kubeUrl !== undefined) source.url = o.kubeUrl;
  if (o.kubeContext !== undefined) source.context = o.kubeContext;
  if (o.namespace !== undefined) source.namespace = o.namespace;
  if (o.lbClass !== undefined) source.loadBalancerClass = o.lbClass;
  if (o.localConfig !== undefined) source.localConfig = o.localConfig;
  return { daemon, source };
}

/** How the daemon reaches the API server; its requests say who they are from (audit logs). */
export function kubeConnectOptions(
  plan: Extract<SourcePlan, { kind: 'kubernetes' }>,
  nodeName: string,
): KubeConnectOptions {
  const connect: KubeConnectOptions = { userAgent: userAgentOf('bgp-announce', VERSION, nodeName) };
  if (plan.kubeconfig !== undefined) connect.kubeconfig = plan.kubeconfig;
  if (plan.url !== undefined) connect.url = plan.url;
  if (plan.context !== undefined) connect.context = plan.context;
  return connect;
}

/** The announcer's sources: fileSource({ path }) and kubernetesSource({ kubeConfig, namespace, ... }). */
export const announcerSources: DaemonSources = {
  file(plan) {
    return fileSource({ path: plan.path });
  },
  kubernetes(plan, nodeName) {
    const loaded = loadKubeConfig(kubeConnectOptions(plan, nodeName));
    const options: KubernetesSourceOptions = {
      kubeConfig: loaded.kubeConfig,
      namespace: plan.namespace ?? loaded.namespace ?? DEFAULT_NAMESPACE,
      defaultLoadBalancer: plan.defaultLoadBalancer,
      identity: nodeName,
    };
    if (plan.loadBalancerClass !== undefined) options.loadBalancerClass = plan.loadBalancerClass;
    if (plan.localConfig !== undefined) options.localConfigPath = plan.localConfig;
    return kubernetesSource(options);
  },
};

/** Where the command reports and what it uses; tests pass their own. */
export interface DaemonRunIo {
  err(line: string): void;
  env?: Record<string, string | undefined>;
  sources?: DaemonSources;
  /** Passed on to the daemon (tests): signal source, exit, log destination. */
  daemon?: Partial<DaemonOptions>;
}

/**
 * The whole command: parses, builds the source and starts the daemon. Resolves with the running
 * daemon (it exits the process itself on SIGTERM/SIGINT), or with the exit status when it could not
 * start: 2 for a usage error, 1 otherwise. Never throws.
 */
export async function daemonCommand(o: DaemonCommandOptions, io: DaemonRunIo): Promise<RunningDaemon | number> {
  let plan: DaemonPlan;
  try {
    plan = parseDaemonCommand(o, io.env ?? process.env);
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return 2;
  }
  try {
    resolveDaemonOptions({ ...plan.daemon, ...io.daemon }); // bad options before any connection to Kubernetes
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return 2;
  }
  let source: RouteSource;
  try {
    const sources = io.sources ?? announcerSources;
    source =
      plan.source.kind === 'file'
        ? sources.file(plan.source, plan.daemon.nodeName)
        : sources.kubernetes(plan.source, plan.daemon.nodeName);
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return 1;
  }
  try {
    return await startDaemon({ ...plan.daemon, ...io.daemon }, source);
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return err instanceof DaemonOptionError ? 2 : 1;
  }
}
