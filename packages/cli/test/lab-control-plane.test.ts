// `bgp-announce lab --control-plane`: the local config each daemon reads (the API VIP's StaticRoute
// with its health check, no BGPPeer), the daemon's command line, the mode files and the stand-in API
// server that reads them on every request (run here on a loopback port of its own).
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseConfigText } from '@bgp-announce/announcer';
import {
  API_HEALTH_SERVER,
  apiHealthFile,
  localConfigFile,
  localConfigYaml,
  parseApiHealthMode,
  readApiHealth,
} from '../src/lab/control-plane.js';
import { daemonArgs } from '../src/lab/daemons.js';
import { labPlan } from '../src/lab/plan.js';
import { waitFor } from '../src/lab/run.js';

const plan = labPlan({ peer: 'frr', nodes: 3, bfd: false, controlPlane: true }, 'cp');

t.test('the local config: the API VIP StaticRoute with its health check, to every peer, no BGPPeer', async (t) => {
  const { config, problems } = parseConfigText(localConfigYaml(plan), 'local-node-1.yaml');
  t.same(problems, [], 'valid');
  t.same(config.peers, [], 'no BGPPeer: the lab cluster has it');
  t.equal(config.staticRoutes.length, 1);
  const route = config.staticRoutes[0]!;
  t.equal(route.name, 'kube-apiserver');
  t.same(route.prefixes, ['203.0.113.100/32']);
  t.same(route.peers, [], 'no peers list: announced to every peer');
  t.match(route.healthCheck, {
    http: { url: 'http://127.0.0.1:6443/readyz' },
    intervalMs: 1000,
    timeoutMs: 500,
    rise: 2,
    fall: 2,
    drainMs: 2000,
  });
  t.throws(() => localConfigYaml(labPlan({ peer: 'frr', nodes: 1, bfd: false }, 'x')), /no control plane/);
});

t.test('each daemon gets --local-config with its node file', async (t) => {
  const node = plan.nodes[1]!;
  const file = localConfigFile('/tmp/w', node.name);
  t.equal(file, '/tmp/w/local-node-2.yaml');
  t.same(daemonArgs(node, 'http://192.0.2.100:6443', 'bin', false, file).slice(-2), ['--local-config', file]);
  t.notOk(daemonArgs(node, 'http://192.0.2.100:6443', 'bin').includes('--local-config'), 'only with --control-plane');
});

t.test('mode files: ok, fail, hang; missing or empty is ok, anything else fails', async (t) => {
  t.equal(parseApiHealthMode(undefined), 'ok');
  t.equal(parseApiHealthMode(''), 'ok');
  t.equal(parseApiHealthMode('ok\n'), 'ok');
  t.equal(parseApiHealthMode(' hang\n'), 'hang');
  t.equal(parseApiHealthMode('fail\n'), 'fail');
  t.equal(parseApiHealthMode('broken'), 'fail', 'the stand-in answers 503 to anything else');
  const dir = mkdtempSync(join(tmpdir(), 'lab-cp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  t.equal(apiHealthFile(dir, 'node-2'), join(dir, 'api-health-node-2'));
  t.equal(readApiHealth(dir, 'node-2'), 'ok', 'no file yet');
  writeFileSync(apiHealthFile(dir, 'node-2'), 'hang\n');
  t.equal(readApiHealth(dir, 'node-2'), 'hang');
});

/** GET /readyz: the status code, or 'no answer' after timeoutMs. */
function readyz(port: number, timeoutMs = 300): Promise<number | 'no answer'> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/readyz', timeout: timeoutMs }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('timeout', () => {
      req.destroy();
      resolve('no answer');
    });
    req.on('error', reject);
    req.end();
  });
}

t.test('the stand-in API server answers as its mode file says, read on every request', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-cp-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = apiHealthFile(dir, 'node-1');
  writeFileSync(file, 'ok\n');
  const child = spawn(process.execPath, ['-e', API_HEALTH_SERVER, file, '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => {
    child.kill();
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const port = await waitFor(
    'the stand-in to listen',
    () => {
      const m = /listening on 127\.0\.0\.1:(\d+)/.exec(out);
      return m ? Number(m[1]) : undefined;
    },
    10_000,
    20,
  );
  t.equal(await readyz(port), 200, 'ok: 200');
  writeFileSync(file, 'fail\n');
  t.equal(await readyz(port), 503, 'fail: 503');
  writeFileSync(file, 'hang\n');
  t.equal(await readyz(port), 'no answer', 'hang: accepted, never answered');
  rmSync(file);
  t.equal(await readyz(port), 200, 'no file: ok');
});
