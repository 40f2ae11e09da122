// One `bgp-announce daemon` per lab node, inside the node's namespace (`ip netns exec`), talking to the
// lab's API server through the forwarder on the fabric. Each keeps the defaults a real node would
// (admin endpoint on its own loopback 127.0.0.1:7474, so `bgp-announce status` inside the namespace
// just works), except a drain time of 0 so the lab tears down at once, and with --prometheus metrics on
// the node's fabric address (192.0.2.1x:7475) so Prometheus can scrape them. Logs go to the work
// directory. With --control-plane each also reads its node's local config (the API VIP's StaticRoute).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONFIG_NAMESPACE } from './cluster.js';
import { localConfigFile } from './control-plane.js';
import { METRICS_PORT, type LabNode } from './plan.js';
import { startProcess, type LabProcess } from './process.js';
import { findCommand } from './run.js';

/** A node's running daemon. */
export interface LabDaemon {
  node: LabNode;
  process: LabProcess;
}

/** The installed command's entry file (it runs the built CLI). */
export function cliBin(): string {
  return fileURLToPath(new URL('../../bin/bgp-announce.js', import.meta.url));
}

/** The built CLI the entry file loads; the lab needs it for the daemons and the forwarder. */
export function builtCli(): string {
  return fileURLToPath(new URL('../../dist/main.js', import.meta.url));
}

/** Throws when the CLI is not built (the daemons and the forwarder run from dist/). */
export function requireBuilt(files: readonly string[]): void {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length > 0)
    throw new Error(`${missing.join(', ')} missing: build first (npx tsc -b at the repository root)`);
}

/** Where a node's daemon serves its metrics when Prometheus scrapes them: its fabric address. */
export function metricsAddress(node: Pick<LabNode, 'address'>): string {
  return `${node.address}:${METRICS_PORT}`;
}

/**
 * The daemon's command line (after `node`) for one node; `metrics`: serve them on the fabric;
 * `localConfig`: the file merged into the cluster's configuration.
 */
export function daemonArgs(
  node: LabNode,
  kubeUrl: string,
  bin = cliBin(),
  metrics = false,
  localConfig?: string,
): string[] {
  return [
    bin,
    'daemon',
    '--kube-url',
    kubeUrl,
    '--namespace',
    CONFIG_NAMESPACE,
    '--node-name',
    node.name,
    '--router-id',
    node.address,
    '--drain-time',
    '0',
    ...(metrics ? ['--metrics-address', metricsAddress(node)] : []),
    ...(localConfig !== undefined ? ['--local-config', localConfig] : []),
  ];
}

/** How a person runs `bgp-announce ARGS` inside a node namespace. */
export function cliCommand(namespace: string, args: string): string {
  const onPath = findCommand('bgp-announce');
  return `ip netns exec ${namespace} ${onPath !== undefined ? 'bgp-announce' : `${process.execPath} ${cliBin()}`} ${args}`;
}

/**
 * Starts a daemon in each node's namespace; `metrics`: serve them on the node's fabric address;
 * `localConfigs`: each reads its node's local config from the work directory (--control-plane).
 */
export function startDaemons(
  nodes: readonly LabNode[],
  kubeUrl: string,
  workDir: string,
  metrics = false,
  localConfigs = false,
): LabDaemon[] {
  return nodes.map((node) => ({
    node,
    process: startProcess(
      `daemon ${node.name}`,
      node.namespace,
      process.execPath,
      daemonArgs(node, kubeUrl, cliBin(), metrics, localConfigs ? localConfigFile(workDir, node.name) : undefined),
      join(workDir, `daemon-${node.name}.log`),
    ),
  }));
}

/** Stops every daemon (SIGTERM; SIGKILL after `graceMs`). */
export async function stopDaemons(daemons: readonly LabDaemon[], graceMs = 5000): Promise<void> {
  await Promise.all(daemons.map((d) => d.process.stop(graceMs)));
}
