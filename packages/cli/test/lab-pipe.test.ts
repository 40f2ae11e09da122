// The lab's API path: TCP on the fabric -> forwarder -> unix socket -> bridge -> API server on the
// loopback. Bytes go both ways over keep-alive connections, and a reset at the API server end reaches
// the client (so the daemons see dropped watches and restarts as they happen).
import t, { type Test } from 'tap';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { createConnection, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeConnections } from '../src/lab/pipe.js';
import { forwarderScript } from '../src/lab/cluster.js';

function listen(server: Server, where: number | string): Promise<void> {
  return new Promise((resolve) =>
    typeof where === 'string' ? server.listen(where, resolve) : server.listen(where, '127.0.0.1', resolve),
  );
}

function get(port: number, path: string, agent: http.Agent): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    http
      .get({ host: '127.0.0.1', port, path, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      })
      .on('error', reject);
  });
}

async function apiServer(t: Test): Promise<{ port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const api = http.createServer((req, res) => {
    if (req.url === '/watch') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"type":"ADDED"}\n');
      return; // a watch stream stays open until the server drops it
    }
    res.end(`you asked for ${req.url}`);
  });
  api.on('connection', (s) => sockets.add(s));
  await listen(api, 0);
  t.teardown(() => {
    api.closeAllConnections();
    api.close();
  });
  return { port: (api.address() as AddressInfo).port, sockets };
}

t.test('TCP -> unix socket -> TCP, both hops in process', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lab-pipe-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const { port, sockets } = await apiServer(t);
  const path = join(dir, 'api.sock');
  const bridge = pipeConnections(createServer(), () => createConnection({ host: '127.0.0.1', port }));
  await listen(bridge, path);
  const forwarder = pipeConnections(createServer(), () => createConnection({ path }));
  await listen(forwarder, 0);
  const front = (forwarder.address() as AddressInfo).port;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  t.teardown(() => {
    agent.destroy();
    forwarder.close();
    bridge.close();
  });

  t.same(await get(front, '/api/v1/nodes', agent), { status: 200, body: 'you asked for /api/v1/nodes' });
  t.same(
    await get(front, '/api/v1/services', agent),
    { status: 200, body: 'you asked for /api/v1/services' },
    'a second request on the same connection',
  );
  t.equal(sockets.size, 1, 'one connection end to end (keep-alive carried through)');

  // A watch, then the API server resets every connection (dropWatches abrupt / restart).
  const ended = new Promise<string>((resolve) => {
    http.get({ host: '127.0.0.1', port: front, path: '/watch', agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => {
        body += c;
        if (body.includes('ADDED')) for (const s of sockets) s.resetAndDestroy();
      });
      res.on('error', () => resolve(`error after ${body.trim()}`));
      res.on('close', () => resolve(`closed after ${body.trim()}`));
    });
  });
  t.match(
    await ended,
    /^(error|closed) after \{"type":"ADDED"\}$/,
    'the client sees its watch end when the server resets it',
  );
});

t.test(
  'the forwarder entry file',
  { skip: existsSync(forwarderScript()) ? false : `${forwarderScript()} is not built (npx tsc -b)` },
  async (t) => {
    const bad = spawnSync(process.execPath, [forwarderScript(), '--listen', 'nowhere'], { encoding: 'utf8' });
    t.equal(bad.status, 2);
    t.equal(
      bad.stderr.split('\n')[0],
      'bgp-announce lab forwarder: --listen ADDRESS:PORT and --unix PATH are required',
    );
    const unknown = spawnSync(process.execPath, [forwarderScript(), '--bogus'], { encoding: 'utf8' });
    t.equal(unknown.status, 2);
    t.match(unknown.stderr, /^bgp-announce lab forwarder: Unknown option '--bogus'/);

    const dir = mkdtempSync(join(tmpdir(), 'lab-forward-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const { port } = await apiServer(t);
    const path = join(dir, 'api.sock');
    const bridge = pipeConnections(createServer(), () => createConnection({ host: '127.0.0.1', port }));
    await listen(bridge, path);
    t.teardown(() => bridge.close());
    // A free port for the child: bind, read, release.
    const probe = createServer();
    await listen(probe, 0);
    const front = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const child = spawn(process.execPath, [forwarderScript(), '--listen', `127.0.0.1:${front}`, '--unix', path], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.teardown(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    const started = await new Promise<string>((resolve) =>
      child.stdout.once('data', (c: Buffer) => resolve(c.toString())),
    );
    t.equal(started, `forwarding 127.0.0.1:${front} to unix:${path}\n`);
    const agent = new http.Agent({ keepAlive: false });
    t.same(await get(front, '/healthz', agent), { status: 200, body: 'you asked for /healthz' });
    child.kill('SIGTERM');
    t.equal(await exited, 0, 'exits 0 on SIGTERM');
  },
);

t.test(
  'the forwarder the other way: a unix socket to a TCP port (the path to the lab Prometheus)',
  { skip: existsSync(forwarderScript()) ? false : `${forwarderScript()} is not built (npx tsc -b)` },
  async (t) => {
    const mixed = spawnSync(
      process.execPath,
      [forwarderScript(), '--unix-listen', '/nowhere.sock', '--connect', '127.0.0.1:1', '--unix', '/x'],
      { encoding: 'utf8' },
    );
    t.equal(mixed.status, 2);
    t.equal(
      mixed.stderr.split('\n')[0],
      'bgp-announce lab forwarder: --unix-listen PATH goes with --connect ADDRESS:PORT alone',
    );
    const dir = mkdtempSync(join(tmpdir(), 'lab-forward-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const { port } = await apiServer(t);
    const path = join(dir, 'prometheus.sock');
    const child = spawn(
      process.execPath,
      [forwarderScript(), '--unix-listen', path, '--connect', `127.0.0.1:${port}`],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    const exited = new Promise((resolve) => child.once('exit', resolve));
    t.teardown(async () => {
      child.kill('SIGTERM');
      await exited;
    });
    const started = await new Promise<string>((resolve) =>
      child.stdout.once('data', (c: Buffer) => resolve(c.toString())),
    );
    t.equal(started, `forwarding unix:${path} to 127.0.0.1:${port}\n`);
    // The lab's side: a TCP port here piped to that unix socket.
    const front = pipeConnections(createServer(), () => createConnection({ path }));
    await listen(front, 0);
    t.teardown(() => front.close());
    const agent = new http.Agent({ keepAlive: false });
    t.same(await get((front.address() as AddressInfo).port, '/-/ready', agent), {
      status: 200,
      body: 'you asked for /-/ready',
    });
    child.kill('SIGTERM');
    t.equal(await exited, 0, 'exits 0 on SIGTERM');
  },
);
