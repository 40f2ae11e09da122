#!/usr/bin/env node
// `node packages/test-apiserver/dist/main.js [--port N] [--host H] [--kubeconfig FILE] ...`: runs the
// test API server until SIGINT/SIGTERM and prints its URL. A test fixture, not a production server.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { start, type StartOptions } from './server.js';

const USAGE = `usage: test-apiserver [--port N] [--host ADDRESS] [--kubeconfig FILE] [--bookmark-interval-ms N]
                      [--history-size N] [--service-cidr CIDR] [--no-seed]
Runs an in-memory Kubernetes API server (plain HTTP) for tests and the lab; prints its URL.`;

function integer(name: string, value: string | undefined, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < min || n > max)
    throw new Error(`--${name} must be an integer from ${min} to ${max}, got "${value}"`);
  return n;
}

async function main(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      host: { type: 'string' },
      kubeconfig: { type: 'string' },
      'bookmark-interval-ms': { type: 'string' },
      'history-size': { type: 'string' },
      'service-cidr': { type: 'string' },
      'no-seed': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const options: StartOptions = {};
  const port = integer('port', values.port, 0, 65535);
  if (port !== undefined) options.port = port;
  if (values.host !== undefined) options.host = values.host;
  const bookmark = integer('bookmark-interval-ms', values['bookmark-interval-ms'], 1, 86_400_000);
  if (bookmark !== undefined) options.bookmarkIntervalMs = bookmark;
  const history = integer('history-size', values['history-size'], 1, 10_000_000);
  if (history !== undefined) options.historySize = history;
  if (values['service-cidr'] !== undefined) options.serviceClusterIPRange = values['service-cidr'];
  if (values['no-seed']) options.seed = false;
  const server = await start(options);
  if (values.kubeconfig) writeFileSync(values.kubeconfig, server.kubeconfigYaml(), { mode: 0o600 });
  console.log(server.url);
  const shutdown = (): void => {
    void server.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const e = err as { code?: string; message?: string };
  console.error(
    `test-apiserver: ${e.code === 'EADDRINUSE' ? `address in use: ${e.message ?? ''}` : (e.message ?? String(err))}`,
  );
  console.error(USAGE);
  process.exit(2);
});
