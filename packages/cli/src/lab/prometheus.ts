// The lab's Prometheus (--prometheus): Debian's /usr/bin/prometheus inside the API namespace,
// listening on the fabric at 192.0.2.100:9090 and scraping every node's daemon at 192.0.2.1x:7475,
// with the lab's rule file (prometheus-config.ts) loaded. A person and the lab reach it at
// http://127.0.0.1:9090 (another free port when that one is taken): a TCP listener in the lab process
// piped to a unix socket, which a forwarder in the API namespace pipes on to Prometheus. Its config,
// rules, data and log live in the lab's work directory; stop() ends it (a crashed run's leftovers go
// with the API namespace, state.ts).
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { forwarderScript } from './cluster.js';
import type { LabPlan } from './plan.js';
import { pipeConnections } from './pipe.js';
import { labRules, prometheusConfig, shippedRulesFile } from './prometheus-config.js';
import { startProcess, type LabProcess } from './process.js';
import { findCommand, GiveUp, run, waitFor } from './run.js';

/** The port the lab tries first on 127.0.0.1. */
export const LOCAL_PORT = 9090;

/** One sample of an instant query. */
export interface Sample {
  metric: Record<string, string>;
  value: number;
}

/** One alert as /api/v1/alerts lists it. */
export interface Alert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: 'pending' | 'firing' | string;
  activeAt?: string;
}

/** The lab's Prometheus, running. */
export interface LabPrometheus {
  /** Where a person (and the lab) reaches it. */
  url: string;
  /** Where it listens on the fabric (inside the API namespace). */
  fabricUrl: string;
  /** The rule file it loaded (in the work directory) and the one it was made from. */
  rulesFile: string;
  shippedRules: string;
  /** How many `for:` the lab's rule file shortened. */
  shortened: number;
  process: LabProcess;
  query(expr: string): Promise<Sample[]>;
  alerts(): Promise<Alert[]>;
  /** The names of the alerting rules it loaded. */
  alertRules(): Promise<string[]>;
  stop(): Promise<void>;
}

/** GET a Prometheus API path; resolves with `data`, rejects with Prometheus's error. */
export async function apiGet(url: string, path: string): Promise<unknown> {
  const res = await fetch(`${url}${path}`, { signal: AbortSignal.timeout(5000) });
  const body = (await res.json().catch(() => undefined)) as
    | { status?: string; data?: unknown; error?: string }
    | undefined;
  if (!res.ok || body?.status !== 'success')
    throw new Error(`Prometheus ${path}: ${body?.error ?? `HTTP ${res.status}`}`);
  return body.data;
}

/** An instant query's vector as plain samples. */
export async function query(url: string, expr: string): Promise<Sample[]> {
  const data = (await apiGet(url, `/api/v1/query?query=${encodeURIComponent(expr)}`)) as {
    resultType: string;
    result: { metric: Record<string, string>; value: [number, string] }[];
  };
  if (data.resultType !== 'vector') throw new Error(`Prometheus: ${expr} gave a ${data.resultType}, not a vector`);
  return data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

/** Stops Debian's own prometheus service if installing the package started it (systemd, or its init script). */
export async function stopDebianService(say: (line: string) => void): Promise<void> {
  if (existsSync('/run/systemd/system') && findCommand('systemctl') !== undefined) {
    const active = await run('systemctl', ['is-active', 'prometheus']).then(
      (out) => out.trim() === 'active',
      () => false,
    );
    if (!active) return;
    say("stopping Debian's prometheus service, which installing the package started (systemctl disable --now)");
    await run('systemctl', ['disable', '--now', 'prometheus']).catch((err: Error) => say(`warning: ${err.message}`));
    return;
  }
  const script = '/etc/init.d/prometheus';
  if (!existsSync(script)) return;
  const running = await run(script, ['status']).then(
    () => true,
    () => false,
  );
  if (!running) return;
  say(`stopping Debian's prometheus service, which installing the package started (${script} stop)`);
  await run(script, ['stop']).catch((err: Error) => say(`warning: ${err.message}`));
}

/**
 * Writes the config and the lab's rules into `workDir`, starts Prometheus in the API namespace and the
 * path to it from 127.0.0.1; resolves once it is ready and has loaded the rules.
 */
export async function startPrometheus(
  plan: LabPlan,
  workDir: string,
  shippedRules = shippedRulesFile(),
): Promise<LabPrometheus> {
  const at = plan.prometheus;
  if (at === undefined) throw new Error('the plan has no Prometheus');
  let shipped: string;
  try {
    shipped = await readFile(shippedRules, 'utf8');
  } catch (err) {
    throw new Error(
      `cannot read the alert rules ${shippedRules}: ${(err as Error).message} (--rules FILE names another)`,
    );
  }
  const rules = labRules(shipped);
  const rulesFile = join(workDir, 'lab.rules.yaml');
  const configFile = join(workDir, 'prometheus.yml');
  const dataDir = join(workDir, 'prometheus-data');
  const socketPath = join(workDir, 'prometheus.sock');
  await writeFile(rulesFile, rules.text);
  await writeFile(configFile, prometheusConfig(plan, rulesFile));
  await mkdir(dataDir);

  const fabric = `${at.address}:${at.port}`;
  const processes: LabProcess[] = [];
  const open = new Set<Socket>();
  const local = pipeConnections(createServer(), () => createConnection({ path: socketPath }));
  local.on('connection', (socket) => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  });
  let listening = false;
  const stop = async (): Promise<void> => {
    for (const p of processes.reverse()) await p.stop(5000);
    for (const socket of open) socket.destroy();
    if (listening) await new Promise<void>((resolve) => local.close(() => resolve()));
  };
  try {
    const prometheus = startProcess(
      'prometheus',
      at.namespace,
      findCommand('prometheus') ?? 'prometheus',
      [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${dataDir}`,
        `--web.listen-address=${fabric}`,
        `--web.external-url=http://${fabric}/`,
        '--storage.tsdb.retention.time=1d',
      ],
      join(workDir, 'prometheus.log'),
    );
    processes.push(prometheus);
    const forwarder = startProcess(
      'prometheus forwarder',
      at.namespace,
      process.execPath,
      [forwarderScript(), '--unix-listen', socketPath, '--connect', fabric],
      join(workDir, 'prometheus-forwarder.log'),
    );
    processes.push(forwarder);
    const port = await listen(local, LOCAL_PORT, '127.0.0.1').catch(() => listen(local, 0, '127.0.0.1'));
    listening = true;
    const url = `http://127.0.0.1:${port}`;
    await waitFor(
      'Prometheus to be ready',
      async () => {
        if (!prometheus.running()) throw new GiveUp(`prometheus exited: ${prometheus.tail(10)}`);
        if (!forwarder.running()) throw new GiveUp(`the Prometheus forwarder exited: ${forwarder.tail()}`);
        const res = await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2000) });
        return res.ok ? true : undefined;
      },
      30_000,
      100,
    );
    const alertRules = async (): Promise<string[]> => {
      const data = (await apiGet(url, '/api/v1/rules?type=alert')) as { groups: { rules: { name: string }[] }[] };
      return data.groups.flatMap((g) => g.rules.map((r) => r.name));
    };
    return {
      url,
      fabricUrl: `http://${fabric}`,
      rulesFile,
      shippedRules,
      shortened: rules.shortened.length,
      process: prometheus,
      query: (expr) => query(url, expr),
      alerts: async () => ((await apiGet(url, '/api/v1/alerts')) as { alerts: Alert[] }).alerts,
      alertRules,
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
