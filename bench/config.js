// Config file rows: what a big config file costs the daemon. The file holds one BGPPeer and 10,000
// StaticRoutes (CONFIG_BENCH_ROUTES), one YAML document each, each with a /32 from 198.18.0.0/15
// (RFC 2544's benchmarking range), the peer and a community. It is loaded with loadConfigFile, as
// the daemon's file source loads it at start, in fresh processes (bench/config-child.js, median of
// CONFIG_BENCH_RUNS, default 3):
// - peak RSS over the idle baseline, per static route: the process's VmHWM during the load (reset just
//   before it) minus its RSS after importing the announcer, divided by the routes (goal: at most 2 KiB,
//   issue 17: the Helm chart's memory limit is 512 Mi);
// - the load's time (reading, parsing, validating);
// - the same peak for the same routes as one `kind: List` document, for comparison (reported).
// Needs the built packages (`npx tsc -b`).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median } from './run.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), 'config-child.js');
const RESULT_MARK = '@@config '; // as in config-child.js (importing it would run it)
const ROUTES = Number(process.env.CONFIG_BENCH_ROUTES ?? 10_000);
const RUNS = Number(process.env.CONFIG_BENCH_RUNS ?? 3);

const PEER = {
  apiVersion: 'bgp-announce.io/v1alpha1',
  kind: 'BGPPeer',
  name: 'tor-a',
  spec: ['myASN: 64500', 'peerASN: 64496', 'peerAddress: 192.0.2.1'],
};

/** StaticRoute i: 198.18.0.0/15 holds 131,072 addresses. */
function route(i) {
  const name = `static-route-${String(i).padStart(5, '0')}`;
  const prefix = `198.${18 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;
  return {
    apiVersion: 'bgp-announce.io/v1alpha1',
    kind: 'StaticRoute',
    name,
    spec: ['prefixes:', `  - ${prefix}`, 'peers: [tor-a]', 'communities: ["64496:100"]'],
  };
}

/** One object's YAML lines, indented by `indent`, the first one starting with `first`. */
function objectLines(o, indent = '', first = '') {
  return [
    `${first}apiVersion: ${o.apiVersion}`,
    `kind: ${o.kind}`,
    'metadata:',
    `  name: ${o.name}`,
    'spec:',
    ...o.spec.map((l) => `  ${l}`),
  ].map((l, i) => (i === 0 ? indent + l : indent + ' '.repeat(first.length) + l));
}

/** The config file's text: one document per object, or one `kind: List` holding them all. */
export function configText(routes, { list = false } = {}) {
  const objects = [PEER];
  for (let i = 0; i < routes; i++) objects.push(route(i));
  if (list)
    return `${['apiVersion: v1', 'kind: List', 'items:', ...objects.flatMap((o) => objectLines(o, '  ', '- '))].join('\n')}\n`;
  return `${objects.map((o) => ['---', ...objectLines(o)].join('\n')).join('\n')}\n`;
}

function runChild(file) {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['--expose-gc', CHILD, file, String(ROUTES)], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (out += c));
    proc.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      const r = line ? JSON.parse(line.slice(RESULT_MARK.length)) : undefined;
      if (r && !r.error) resolve(r);
      else reject(new Error(r?.error ?? `config-child exited with code ${code}: ${out.trim().slice(-1000)}`));
    });
  });
}

/** RUNS fresh processes loading the file; their results. */
async function loads({ list }) {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-announce-bench-config-'));
  try {
    const file = join(dir, 'config.yaml');
    const text = configText(ROUTES, { list });
    writeFileSync(file, text);
    const results = [];
    for (let i = 0; i < RUNS; i++) results.push(await runChild(file));
    return { results, bytes: Buffer.byteLength(text) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const mb = (bytes) => (bytes / 1e6).toFixed(1);
const perRoute = (r) => (r.peakRss - r.idleRss) / ROUTES;

/** The per-route peak row's note: every run's figures in MB. */
function memoryNote({ results, bytes }) {
  const runs = results.map(
    (r) =>
      `idle ${mb(r.idleRss)}, peak ${mb(r.peakRss)}, held ${mb(r.heldRss)} MB (heap ${mb(r.idleHeap)} -> ${mb(r.heldHeap)}), ${(r.loadMs / 1000).toFixed(2)} s`,
  );
  const held = median(results.map((r) => (r.heldRss - r.idleRss) / ROUTES));
  return `${ROUTES.toLocaleString('en-US')} routes, ${mb(bytes)} MB of YAML; RSS held after the load ${Math.round(held)} B per route; runs: ${runs.join('; ')}`;
}

export const rows = [
  {
    name: `config file: ${ROUTES.toLocaleString('en-US')} StaticRoutes, one document each: peak RSS over idle per route`,
    unit: 'bytes',
    goal: 2048,
    lowerIsBetter: true,
    async run() {
      const loaded = await loads({ list: false });
      return { ours: median(loaded.results.map(perRoute)), note: memoryNote(loaded) };
    },
  },
  {
    name: `config file: load ${ROUTES.toLocaleString('en-US')} StaticRoutes, one document each`,
    unit: 's',
    lowerIsBetter: true,
    async run() {
      const { results } = await loads({ list: false });
      const seconds = results.map((r) => r.loadMs / 1000);
      return { ours: median(seconds), note: `runs: ${seconds.map((s) => s.toFixed(2)).join(', ')} s` };
    },
  },
  {
    name: `config file: the same ${ROUTES.toLocaleString('en-US')} StaticRoutes as one kind: List: peak RSS over idle per route`,
    unit: 'bytes',
    lowerIsBetter: true,
    async run() {
      const loaded = await loads({ list: true });
      return { ours: median(loaded.results.map(perRoute)), note: memoryNote(loaded) };
    },
  },
];
