// `bgp-announce lab`: a real fabric on this machine (root, Linux): a switch namespace, a router
// namespace running gobgpd, FRR or BIRD, N node namespaces each running `bgp-announce daemon`, and the
// built-in Kubernetes API server with a few Services. It waits until the sessions are up and every VIP
// is routed to the expected next hops, prints that, and tears everything down (with --hold, on Ctrl-C).
// With --prometheus it also runs Prometheus scraping every daemon, with the alert rules loaded. With
// --control-plane each node also runs a stand-in API server health endpoint and announces the API VIP
// while it is healthy (control-plane.ts).
// startLab is also the library the end-to-end tests drive.
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UsageError } from '../options.js';
import { forwarderScript, startCluster, type LabCluster } from './cluster.js';
import {
  apiHealthFile,
  readApiHealth,
  startApiHealth,
  type ApiHealthMode,
  type LabApiHealth,
} from './control-plane.js';
import { builtCli, cliBin, cliCommand, requireBuilt, startDaemons, stopDaemons, type LabDaemon } from './daemons.js';
import { createFabric } from './fabric.js';
import { debianNeeds, ensurePackages } from './packages.js';
import {
  labPlan,
  newRunId,
  parseLabOptions,
  planNamespaces,
  type LabCommandOptions,
  type LabOptions,
  type LabPlan,
} from './plan.js';
import { startPrometheus, stopDebianService, type LabPrometheus } from './prometheus.js';
import { shippedRulesFile } from './prometheus-config.js';
import { prometheusReport } from './prometheus-report.js';
import { formatHold, formatReport } from './report.js';
import { frrRunDir } from './router-frr.js';
import { startRouter, type Router } from './router.js';
import { cleanupStale, newState, removeNamespaces, removeState, writeState, WORK_DIR_PREFIX } from './state.js';
import { takeSnapshot, type LabReport } from './snapshot.js';

/** How long the lab waits for sessions and routes to settle by default. */
export const SETTLE_TIMEOUT_MS = 60_000;

/** Where the lab reports progress; an AbortSignal stops the start (everything made so far is removed). */
export interface LabIo {
  say(line: string): void;
  signal?: AbortSignal;
}

/** A running lab. */
export interface RunningLab {
  plan: LabPlan;
  workDir: string;
  cluster: LabCluster;
  router: Router;
  daemons: LabDaemon[];
  /** With --prometheus. */
  prometheus?: LabPrometheus;
  /** With --control-plane: each node's stand-in API server. */
  apiHealth?: LabApiHealth;
  /**
   * With --control-plane: makes node's stand-in API server answer /readyz with 200 (ok), 503 (fail) or
   * not at all (hang) from its next request on. Rejects without --control-plane or for an unknown node.
   */
  setApiHealth(node: string, mode: ApiHealthMode): Promise<void>;
  /** Asks the router and the API server now (and Prometheus, with --prometheus). */
  snapshot(): Promise<LabReport>;
  /** Snapshots until all is good or `ms` passed; resolves with the last one (ok false when it never settled). */
  settle(ms?: number, signal?: AbortSignal): Promise<LabReport>;
  /** Tears everything down (idempotent); keepWorkDir leaves the logs. Resolves with what could not be removed. */
  stop(options?: { keepWorkDir?: boolean }): Promise<string[]>;
}

/** Why the lab cannot run here, or undefined. */
export function labUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'the lab needs Linux (network namespaces)';
  if (process.getuid?.() !== 0) return 'the lab needs root (it creates network namespaces); run it with sudo';
  return undefined;
}

function checkAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new Error('interrupted');
}

/**
 * Builds the lab: removes leftovers of crashed runs, installs missing Debian packages, creates the
 * fabric, starts the API server, the router and the daemons. Rejects (after removing all it made)
 * when a step fails or io.signal aborts.
 */
export async function startLab(
  options: Pick<LabOptions, 'peer' | 'nodes' | 'bfd'> &
    Partial<Pick<LabOptions, 'prometheus' | 'rules' | 'weighted' | 'controlPlane'>>,
  io: LabIo,
): Promise<RunningLab> {
  const startedAt = Date.now();
  const why = labUnavailable();
  if (why !== undefined) throw new Error(why);
  const stale = await cleanupStale();
  if (stale.removed.length > 0) io.say(`removed the leftovers of crashed lab runs: ${stale.removed.join(', ')}`);
  for (const p of stale.problems) io.say(`warning: ${p}`);
  const installed = await ensurePackages(debianNeeds(options.peer, options.bfd, options.prometheus), io.say);
  if (installed.includes('prometheus')) await stopDebianService(io.say);
  const rulesFile = options.rules ?? shippedRulesFile();
  if (options.prometheus && !existsSync(rulesFile))
    throw new Error(
      `the alert rules ${rulesFile} are missing${options.rules === undefined ? ' (--rules FILE names others)' : ''}`,
    );
  requireBuilt([builtCli(), cliBin(), forwarderScript()]);
  checkAborted(io.signal);

  const plan = labPlan(options, newRunId());
  const workDir = await mkdtemp(join(tmpdir(), `${WORK_DIR_PREFIX}${plan.id}-`));
  const namespaces = planNamespaces(plan);
  const state = newState(plan.id, namespaces, [
    workDir,
    ...(plan.peer === 'frr' ? [frrRunDir(plan.router.namespace)] : []),
  ]);
  await writeState(state);

  let cluster: LabCluster | undefined;
  let router: Router | undefined;
  let daemons: LabDaemon[] = [];
  let prometheus: LabPrometheus | undefined;
  let apiHealth: LabApiHealth | undefined;
  let stopped: Promise<string[]> | undefined;
  const stop = (o: { keepWorkDir?: boolean } = {}): Promise<string[]> =>
    (stopped ??= (async () => {
      const problems: string[] = [];
      const step = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        await fn().catch((err: Error) => problems.push(`${what}: ${err.message}`));
      };
      if (prometheus) await step('stopping Prometheus', () => prometheus!.stop());
      await step('stopping the daemons', () => stopDaemons(daemons));
      if (apiHealth) await step('stopping the stand-in API servers', () => apiHealth!.stop());
      if (router) await step('stopping the router', () => router!.stop());
      if (cluster) await step('stopping the API server', () => cluster!.stop());
      problems.push(...(await removeNamespaces(namespaces)));
      for (const dir of state.directories) {
        if (dir === workDir && o.keepWorkDir) continue;
        await step(`removing ${dir}`, () => rm(dir, { recursive: true, force: true }));
      }
      if (problems.length === 0) await removeState(plan.id);
      return problems;
    })());

  try {
    io.say(`run ${plan.id}: creating namespaces ${namespaces.join(', ')}`);
    await createFabric(plan);
    checkAborted(io.signal);
    cluster = await startCluster(plan, workDir);
    await writeFile(join(workDir, 'kubeconfig'), cluster.server.kubeconfigYaml(), { mode: 0o600 });
    io.say(`Kubernetes API server on ${cluster.server.url}, reachable from the nodes at ${cluster.url}`);
    checkAborted(io.signal);
    router = await startRouter({ plan, workDir });
    io.say(`${router.software} in ${plan.router.namespace}: ${plan.router.address} AS ${plan.router.asn}`);
    checkAborted(io.signal);
    if (plan.controlPlane) {
      apiHealth = await startApiHealth(plan, workDir);
      io.say(
        `stand-in API server on 127.0.0.1:6443 in each node namespace (${plan.controlPlane.healthUrl}); each daemon announces the API VIP ${plan.controlPlane.vip} from ${join(workDir, 'local-<node>.yaml')} while it is healthy`,
      );
      checkAborted(io.signal);
    }
    daemons = startDaemons(plan.nodes, cluster.url, workDir, plan.prometheus !== undefined, apiHealth !== undefined);
    io.say(`bgp-announce daemon in ${plan.nodes.map((n) => `${n.namespace} (${n.name}, ${n.address})`).join(', ')}`);
    if (plan.prometheus) {
      checkAborted(io.signal);
      prometheus = await startPrometheus(plan, workDir, rulesFile);
      io.say(
        `Prometheus in ${plan.prometheus.namespace} at ${prometheus.fabricUrl}, reachable here at ${prometheus.url}; rules from ${prometheus.shippedRules} (${prometheus.shortened} for: shortened, in ${prometheus.rulesFile})`,
      );
    }
  } catch (err) {
    const problems = await stop({ keepWorkDir: true });
    const rest = problems.length > 0 ? `\nteardown problems: ${problems.join('; ')}` : '';
    throw new Error(`${(err as Error).message}${rest}\nlogs kept in ${workDir}`);
  }
  const running = {
    cluster,
    router,
    daemons,
    ...(prometheus ? { prometheus } : {}),
    ...(apiHealth ? { apiHealth } : {}),
  };
  const inspect = [
    ...router.inspect,
    cliCommand(plan.nodes[0]!.namespace, 'status'),
    cliCommand(plan.nodes[0]!.namespace, 'status --peer router'),
    cliCommand(plan.nodes[0]!.namespace, `status --cluster --kube-url ${running.cluster.url}`),
    `kubectl --kubeconfig ${join(workDir, 'kubeconfig')} get services -A`,
  ];
  const routerSnapshot = (): Promise<LabReport> =>
    takeSnapshot({
      plan,
      server: running.cluster.server,
      router: running.router,
      nodes: running.daemons.map((d) => ({
        name: d.node.name,
        namespace: d.node.namespace,
        address: d.node.address,
        asn: d.node.asn,
        daemonRunning: d.process.running(),
        log: d.process.logFile,
      })),
      fabric: {
        switchNamespace: plan.switchNamespace,
        apiNamespace: plan.api.namespace,
        apiUrl: running.cluster.url,
        apiServer: running.cluster.server.url,
      },
      namespaces,
      workDir,
      inspect: prometheus ? [...inspect, `curl -s '${prometheus.url}/api/v1/alerts'`] : inspect,
      startedAt,
      ...(plan.controlPlane
        ? {
            apiVip: {
              vip: plan.controlPlane.vip,
              health: () =>
                plan.nodes.map((n) => ({
                  node: n.name,
                  address: n.address,
                  mode: readApiHealth(workDir, n.name),
                  file: apiHealthFile(workDir, n.name),
                })),
            },
          }
        : {}),
    });
  const snapshot = async (): Promise<LabReport> => {
    const report = await routerSnapshot();
    if (!prometheus) return report;
    const seen = await prometheusReport(prometheus, plan);
    report.prometheus = seen;
    report.problems.push(...seen.problems);
    report.ok = report.problems.length === 0;
    return report;
  };
  const settle = async (ms = SETTLE_TIMEOUT_MS, signal?: AbortSignal): Promise<LabReport> => {
    const deadline = Date.now() + ms;
    for (;;) {
      let report: LabReport | undefined;
      try {
        report = await snapshot();
      } catch (err) {
        if (Date.now() >= deadline || signal?.aborted) throw err;
      }
      // A daemon that exited does not come back: no point waiting for the deadline then.
      const daemonGone = report?.nodes.some((n) => !n.daemonRunning) ?? false;
      if (report && (report.ok || daemonGone || Date.now() >= deadline || signal?.aborted)) return report;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };
  const setApiHealth = async (node: string, mode: ApiHealthMode): Promise<void> => {
    if (!running.apiHealth) throw new Error('setApiHealth needs a lab started with controlPlane (--control-plane)');
    await running.apiHealth.set(node, mode);
  };
  return { plan, workDir, ...running, setApiHealth, snapshot, settle, stop };
}

/** The daemons' and the router's last log lines, for a run that did not settle. */
export function labLogs(lab: RunningLab, lines = 15): string {
  return [
    lab.router.logs(),
    ...(lab.prometheus
      ? [`--- prometheus (${lab.prometheus.process.logFile}):\n${lab.prometheus.process.tail(lines)}`]
      : []),
    ...lab.daemons.map((d) => `--- ${d.process.name} (${d.process.logFile}):\n${d.process.tail(lines)}`),
  ].join('\n');
}

/** Output of the command. */
export interface LabCommandIo {
  out(line: string): void;
  err(line: string): void;
}

const PREFIX = 'bgp-announce lab';

/**
 * The whole command. Exit status: 0 all settled, 1 not settled or a failure, 2 usage error, 130 when
 * interrupted. SIGINT, SIGTERM and SIGHUP stop it at any point and tear down.
 */
export async function labCommand(o: LabCommandOptions, io: LabCommandIo): Promise<number> {
  let options: LabOptions;
  try {
    options = parseLabOptions(o);
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
  const why = labUnavailable();
  if (why !== undefined) {
    io.err(`${PREFIX}: ${why}`);
    return 1;
  }
  const say = options.json ? io.err : io.out;
  const abort = new AbortController();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (!abort.signal.aborted) say(`${sig}: tearing down`);
    abort.abort();
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const sig of signals) process.on(sig, onSignal);
  try {
    let lab: RunningLab;
    try {
      lab = await startLab(options, { say, signal: abort.signal });
    } catch (err) {
      io.err(`${PREFIX}: ${(err as Error).message}`);
      return abort.signal.aborted ? 130 : 1;
    }
    let status = 1;
    let keepWorkDir = false;
    try {
      say('waiting for the sessions and routes ...');
      const report = await lab.settle(SETTLE_TIMEOUT_MS, abort.signal);
      if (options.json) io.out(JSON.stringify(report, null, 2));
      else for (const line of ['', ...formatReport(report)]) io.out(line);
      if (!report.ok && !abort.signal.aborted) {
        io.err(labLogs(lab));
        keepWorkDir = true;
      }
      status = abort.signal.aborted ? 130 : report.ok ? 0 : 1;
      if (options.hold && !abort.signal.aborted) {
        for (const line of formatHold(report)) say(line);
        await new Promise<void>((resolve) => abort.signal.addEventListener('abort', () => resolve(), { once: true }));
        status = report.ok ? 0 : 1;
      }
    } catch (err) {
      io.err(`${PREFIX}: ${(err as Error).message}`);
      keepWorkDir = true;
    } finally {
      say('tearing down ...');
      const problems = await lab.stop({ keepWorkDir });
      for (const p of problems) io.err(`${PREFIX}: teardown: ${p}`);
      if (keepWorkDir) io.err(`${PREFIX}: logs kept in ${lab.workDir}`);
      say(problems.length === 0 ? 'torn down' : 'torn down, with problems (the next run removes the leftovers)');
      if (problems.length > 0) status = 1;
    }
    return status;
  } finally {
    for (const sig of signals) process.off(sig, onSignal);
  }
}
