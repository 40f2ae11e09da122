// `bgp-announce check`: on a node, is anything in the way of our BGP sessions? Reads our
// configuration (a config file, or our custom resources through the Kubernetes API), the node's TCP
// sockets and their processes (/proc), and the Services of our class; prints each finding with its
// fix. Needs neither root nor any capability (as root it can also name other users' processes).
// Exit status: 0 nothing failed, 1 a check failed, 2 usage error.
import { hostname } from 'node:os';
import {
  DEFAULT_LOAD_BALANCER_CLASS,
  checkOtherController,
  checkPort179,
  checkSourceCollision,
  findingsExitStatus,
  formatProblem,
  kernelSources,
  KubeConnectError,
  listServices,
  loadConfigFile,
  loadKubeConfig,
  peersOfNode,
  readClusterConfig,
  readNodeLabels,
  readNodeSockets,
  type AnnouncerConfig,
  type ConfigProblem,
  type Finding,
  type LoadedKubeConfig,
  type NodeSockets,
} from '@bgp-announce/announcer';
import { UsageError } from './options.js';

type KubeConfig = LoadedKubeConfig['kubeConfig'];

/** The options as commander hands them over. */
export interface CheckCommandOptions {
  config?: string;
  kubeconfig?: string;
  /** Where our resources live (default: the pod's namespace in a cluster, else bgp-announce). */
  namespace?: string;
  nodeName?: string;
  loadBalancerClass?: string;
  defaultLoadBalancer?: boolean;
  json?: boolean;
  /** Hidden, for tests: read this directory instead of /proc (and do not ask the kernel for source addresses). */
  procRoot?: string;
}

/** Where output goes, and the environment (NODE_NAME, KUBECONFIG, HOME, in-cluster variables). */
export interface CheckIo {
  out(line: string): void;
  err(line: string): void;
  env?: Record<string, string | undefined>;
}

const PREFIX = 'bgp-announce check';
/** Where our resources are read from when neither --namespace nor the pod's namespace says. */
export const DEFAULT_NAMESPACE = 'bgp-announce';

/** Where the configuration and the cluster come from. */
interface Sources {
  configFile: string | undefined;
  /** The cluster, or undefined with the reason it is not used. */
  kube: KubeConfig | undefined;
  noKubeReason: string;
  /** Where our resources are read from. */
  namespace: string;
  nodeName: string;
}

function nonEmpty(value: string | undefined, option: string): string | undefined {
  if (value !== undefined && value.trim() === '') throw new UsageError(`${option} must not be empty`);
  return value;
}

/**
 * --config FILE reads the file (and the cluster only with --kubeconfig); otherwise the cluster:
 * --kubeconfig, else $KUBECONFIG, the pod's service account or ~/.kube/config. Throws UsageError
 * when there is no configuration to read or the kubeconfig cannot be loaded.
 */
function resolveSources(options: CheckCommandOptions, env: Record<string, string | undefined>): Sources {
  const configFile = nonEmpty(options.config, '--config');
  const kubeconfig = nonEmpty(options.kubeconfig, '--kubeconfig');
  const namespace = nonEmpty(options.namespace, '--namespace');
  const nodeName = nonEmpty(options.nodeName, '--node-name') ?? (env.NODE_NAME || hostname());
  if (configFile !== undefined && kubeconfig === undefined) {
    const noKubeReason =
      'no cluster access: the configuration comes from a file (give --kubeconfig to check the Services too)';
    return { configFile, kube: undefined, noKubeReason, namespace: namespace ?? DEFAULT_NAMESPACE, nodeName };
  }
  let loaded: LoadedKubeConfig;
  try {
    loaded = loadKubeConfig({
      ...(kubeconfig !== undefined ? { kubeconfig } : {}),
      env,
      ...(env.HOME ? { homeDir: env.HOME } : {}),
    });
  } catch (err) {
    if (!(err instanceof KubeConnectError)) throw err;
    if (kubeconfig !== undefined) throw new UsageError(err.message);
    throw new UsageError(`no configuration to check: give --config FILE, or --kubeconfig FILE (${err.message})`);
  }
  const inPod = loaded.source.startsWith('in-cluster') ? loaded.namespace : undefined;
  return {
    configFile,
    kube: loaded.kubeConfig,
    noKubeReason: '',
    namespace: namespace ?? inPod ?? DEFAULT_NAMESPACE,
    nodeName,
  };
}

/** Our configuration with its problems, or why it cannot be read at all. */
async function readConfig(
  sources: Sources,
): Promise<{ config: AnnouncerConfig; problems: ConfigProblem[]; from: string } | { error: string }> {
  if (sources.configFile !== undefined) {
    const { config, problems } = await loadConfigFile(sources.configFile);
    const unreadable = problems.find((p) => p.field === 'file' && p.name === sources.configFile);
    if (unreadable) return { error: `${sources.configFile}: ${unreadable.message}` };
    return { config, problems, from: sources.configFile };
  }
  try {
    const { config, problems } = await readClusterConfig(sources.kube!, sources.namespace);
    return { config, problems, from: `the cluster's bgp-announce.io resources in namespace ${sources.namespace}` };
  } catch (err) {
    return { error: `cannot read our resources from the cluster: ${(err as Error).message}` };
  }
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Runs every check and returns the findings (the I/O part: files, /proc, the kernel, the API). */
async function runChecks(options: CheckCommandOptions, sources: Sources): Promise<Finding[]> {
  const findings: Finding[] = [];
  const read = await readConfig(sources);
  let config: AnnouncerConfig | undefined;
  let labels: Record<string, string> | undefined = sources.kube === undefined ? {} : undefined;
  if ('error' in read) {
    findings.push({
      check: 'config',
      status: 'fail',
      message: read.error,
      fix: 'fix the access or the file; nothing can be checked against our peers until then',
    });
  } else {
    config = read.config;
    for (const p of read.problems) {
      findings.push({
        check: 'config',
        status: 'fail',
        message: formatProblem(p),
        fix: 'correct it: the daemon rejects the whole configuration while any problem remains (the checks below use the objects that are valid)',
      });
    }
    let labelNote = '';
    if (sources.kube !== undefined) {
      try {
        labels = await readNodeLabels(sources.kube, sources.nodeName);
      } catch (err) {
        labelNote = `; node labels unknown (${(err as Error).message}), so every BGPPeer is checked`;
      }
    }
    const mine = labels === undefined ? config.peers : peersOfNode(config, labels);
    const skipped = config.peers.filter((p) => !mine.includes(p)).map((p) => p.name);
    const active = mine.filter((p) => p.connectionMode === 'active').length;
    findings.push({
      check: 'config',
      status: 'ok',
      message:
        `configuration from ${read.from}: ${plural(mine.length, 'BGPPeer')} on node ${sources.nodeName} (${active === mine.length ? 'all active-only' : `${mine.length - active} listening`})` +
        `${skipped.length > 0 ? `; not on this node (nodeSelectors): ${skipped.join(', ')}` : ''}${labelNote}`,
    });
    config = { ...config, peers: mine };
  }

  const node: NodeSockets = await readNodeSockets(options.procRoot === undefined ? {} : { procRoot: options.procRoot });
  const tablesRead = node.notes.length < 2;
  // One table missing is normal (tcp6 with IPv6 disabled): a note. Neither readable fails.
  for (const note of node.notes)
    findings.push({ check: 'sockets', status: tablesRead ? 'skip' : 'fail', message: note });
  if (config === undefined || !tablesRead) {
    const why = config === undefined ? 'no configuration to check against' : 'the TCP tables could not be read';
    findings.push(
      { check: 'port179', status: 'skip', message: why },
      { check: 'sourceCollision', status: 'skip', message: why },
    );
  } else {
    findings.push(...checkPort179(config.peers, node));
    // The kernel's choice of source is only meaningful for the real /proc of this network namespace.
    const lookup = config.peers
      .filter((p) => p.sourceAddress === undefined)
      .map((p) => ({ address: p.peerAddress, port: p.peerPort }));
    const kernelSource = options.procRoot === undefined ? await kernelSources(lookup) : new Map<string, string>();
    findings.push(...checkSourceCollision(config.peers, node, { kernelSource }));
  }

  const classOptions = {
    loadBalancerClass: options.loadBalancerClass ?? DEFAULT_LOAD_BALANCER_CLASS,
    defaultLoadBalancer: options.defaultLoadBalancer === true,
  };
  if (sources.kube === undefined) {
    findings.push(...checkOtherController({ unavailable: sources.noKubeReason }));
  } else {
    try {
      const services = await listServices(sources.kube);
      findings.push(...checkOtherController({ services, classOptions, pools: config?.pools ?? [] }));
    } catch (err) {
      findings.push(...checkOtherController({ unavailable: `cannot list Services: ${(err as Error).message}` }));
    }
  }
  return findings;
}

const LABEL: Record<Finding['status'], string> = { ok: 'ok', warn: 'WARN', fail: 'FAIL', skip: 'skip' };

/** A finding as text lines: "FAIL port179: message" and an indented "fix: ..." line. */
export function formatFinding(f: Finding): string[] {
  const lines = [`${LABEL[f.status].padEnd(4)}  ${f.check}: ${f.message}`];
  if (f.fix !== undefined) lines.push(`      fix: ${f.fix}`);
  return lines;
}

/** "3 ok, 1 warn, 1 fail, 1 skip". */
export function summary(findings: readonly Finding[]): string {
  const count = (s: Finding['status']) => findings.filter((f) => f.status === s).length;
  return `${count('ok')} ok, ${count('warn')} warn, ${count('fail')} fail, ${count('skip')} skip`;
}

/** The whole command: prints the findings and resolves with the exit status (0, 1, or 2 for usage errors). */
export async function checkCommand(options: CheckCommandOptions, io: CheckIo): Promise<number> {
  let sources: Sources;
  try {
    nonEmpty(options.loadBalancerClass, '--load-balancer-class');
    nonEmpty(options.procRoot, '--proc-root');
    sources = resolveSources(options, io.env ?? process.env);
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
  let findings: Finding[];
  try {
    findings = await runChecks(options, sources);
  } catch (err) {
    io.err(`${PREFIX}: unexpected error: ${(err as Error).message}`);
    return 1;
  }
  if (options.json === true) {
    for (const f of findings) io.out(JSON.stringify(f));
  } else {
    for (const f of findings) for (const line of formatFinding(f)) io.out(line);
    io.out(summary(findings));
  }
  return findingsExitStatus(findings);
}
