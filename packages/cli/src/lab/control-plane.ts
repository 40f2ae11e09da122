// `bgp-announce lab --control-plane`: each node namespace gets a stand-in Kubernetes API server that
// answers /readyz on 127.0.0.1:6443 (where a control-plane node's real one listens), and each daemon a
// local config file (--local-config) with a StaticRoute for the API VIP whose healthCheck asks it. The
// stand-in reads its mode from a file in the work directory on every request, so a person (or a test)
// fails and heals a node's API server with `echo fail > <workdir>/api-health-node-2`:
//   ok   -> 200 "ok"
//   fail -> 503 "not ready" (anything else in the file too)
//   hang -> accepts the connection and never answers (the check fails at its timeout)
// A missing file counts as ok.
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { LabNode, LabPlan } from './plan.js';
import { startProcess, tailFile, type LabProcess } from './process.js';
import { GiveUp, waitFor } from './run.js';

export const API_HEALTH_MODES = ['ok', 'fail', 'hang'] as const;
export type ApiHealthMode = (typeof API_HEALTH_MODES)[number];

/** The StaticRoute's check: short, so the lab settles fast (a failing node leaves in about 2 s + drain). */
export const LAB_API_CHECK = { interval: '1s', timeout: '500ms', rise: 2, fall: 2, drainTime: '2s' } as const;
export const API_VIP_ROUTE_NAME = 'kube-apiserver';

/** The file a node's stand-in reads its mode from. */
export function apiHealthFile(workDir: string, node: string): string {
  return join(workDir, `api-health-${node}`);
}

/** The local config file of a node's daemon. */
export function localConfigFile(workDir: string, node: string): string {
  return join(workDir, `local-${node}.yaml`);
}

/** What a mode file's text means ('' or missing: ok; anything unknown: fail, as the stand-in answers 503). */
export function parseApiHealthMode(text: string | undefined): ApiHealthMode {
  const mode = (text ?? '').trim();
  if (mode === '' || mode === 'ok') return 'ok';
  return mode === 'hang' ? 'hang' : 'fail';
}

/** A node's stand-in mode as its file says now. */
export function readApiHealth(workDir: string, node: string): ApiHealthMode {
  try {
    return parseApiHealthMode(readFileSync(apiHealthFile(workDir, node), 'utf8'));
  } catch {
    return 'ok';
  }
}

/**
 * The local config of every node: the API VIP's StaticRoute with the health check, and no BGPPeer (the
 * lab's BGPPeer comes from the cluster; a StaticRoute without peers goes to every peer).
 */
export function localConfigYaml(plan: Pick<LabPlan, 'controlPlane'>): string {
  const cp = plan.controlPlane;
  if (cp === undefined) throw new Error('the plan has no control plane');
  const c = LAB_API_CHECK;
  return [
    '# bgp-announce lab --control-plane: the Kubernetes API VIP, announced while the local API server is ready',
    'apiVersion: bgp-announce.io/v1alpha1',
    'kind: StaticRoute',
    `metadata: { name: ${API_VIP_ROUTE_NAME} }`,
    'spec:',
    `  prefixes: [${cp.vip}/32]`,
    '  healthCheck:',
    `    http: { url: "${cp.healthUrl}" }`,
    `    interval: ${c.interval}`,
    `    timeout: ${c.timeout}`,
    `    rise: ${c.rise}`,
    `    fall: ${c.fall}`,
    `    drainTime: ${c.drainTime}`,
    '',
  ].join('\n');
}

/** The stand-in API server (node -e): argv[1] is its mode file, argv[2] the port (0: any, printed). */
export const API_HEALTH_SERVER = `
const fs = require('node:fs');
const file = process.argv[1];
const mode = () => { try { return fs.readFileSync(file, 'utf8').trim() || 'ok'; } catch { return 'ok'; } };
const server = require('node:http').createServer((req, res) => {
  const m = mode();
  if (m === 'hang') return;
  if (m === 'ok') res.writeHead(200).end('ok'); else res.writeHead(503).end('not ready');
});
server.listen(Number(process.argv[2]), '127.0.0.1', () => console.log('listening on 127.0.0.1:' + server.address().port));
`;

/** The stand-in API servers of a running lab. */
export interface LabApiHealth {
  processes: LabProcess[];
  /** Sets a node's mode (its next /readyz answers so). */
  set(node: string, mode: ApiHealthMode): Promise<void>;
  stop(): Promise<void>;
}

/** Writes the local configs and mode files, starts a stand-in in each node's namespace and waits until each listens. */
export async function startApiHealth(plan: LabPlan, workDir: string): Promise<LabApiHealth> {
  const cp = plan.controlPlane;
  if (cp === undefined) throw new Error('the plan has no control plane');
  const port = new URL(cp.healthUrl).port;
  const yaml = localConfigYaml(plan);
  const processes: LabProcess[] = [];
  const stop = async (): Promise<void> => {
    await Promise.all(processes.map((p) => p.stop()));
  };
  try {
    for (const node of plan.nodes) {
      await writeFile(localConfigFile(workDir, node.name), yaml);
      await writeFile(apiHealthFile(workDir, node.name), 'ok\n');
      processes.push(
        startProcess(
          `api-health ${node.name}`,
          node.namespace,
          process.execPath,
          ['-e', API_HEALTH_SERVER, apiHealthFile(workDir, node.name), port],
          join(workDir, `api-health-${node.name}.log`),
        ),
      );
    }
    for (const p of processes)
      await waitFor(
        `${p.name} to listen`,
        () => {
          if (!p.running()) throw new GiveUp(`${p.name} exited: ${tailFile(p.logFile, 5)}`);
          return tailFile(p.logFile, 5).includes('listening') ? true : undefined;
        },
        10_000,
        50,
      );
  } catch (err) {
    await stop();
    throw err;
  }
  const names = new Set(plan.nodes.map((n: LabNode) => n.name));
  return {
    processes,
    set: async (node, mode) => {
      if (!names.has(node)) throw new Error(`no lab node ${JSON.stringify(node)}: ${[...names].join(', ')}`);
      if (!(API_HEALTH_MODES as readonly string[]).includes(mode))
        throw new Error(
          `the API health mode must be one of ${API_HEALTH_MODES.join(', ')}, got ${JSON.stringify(mode)}`,
        );
      await writeFile(apiHealthFile(workDir, node), `${mode}\n`);
    },
    stop,
  };
}
