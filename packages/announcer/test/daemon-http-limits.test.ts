// The HTTP endpoints' bounds (http-limits.ts) on 127.0.0.1 with small numbers: a new connection over
// the cap evicts the one idle longest, never one whose request is being handled; when every held
// connection is busy the newcomer gets a 503; a connection that sends nothing, or only drips its
// headers, is closed after the header timeout with a 408; a keep-alive connection after its timeout;
// close() does not wait for idle connections; the metrics and admin endpoints of a daemon keep
// answering over a flood of idle connections and count what they shed. The full-size flood with the
// default limits is daemon-http-flood.test.ts.
import t, { type Test } from 'tap';
import net from 'node:net';
import { once } from 'node:events';
import {
  DEFAULT_HTTP_LIMITS,
  createBoundedServer,
  resolveHttpLimits,
  type BoundedServer,
  type HttpLimits,
} from '../src/daemon/http-limits.js';
import { startMetricsServer } from '../src/daemon/http.js';
import { resolveDaemonOptions } from '../src/daemon/daemon.js';
import { DaemonOptionError, parseListenAddress } from '../src/daemon/options.js';
import { fakeSource, get, poll, seriesValue, testDaemon, within } from './daemon-helpers.js';

/** A raw client connection that records what it receives and when it closed. */
interface Client {
  socket: net.Socket;
  received: () => string;
  closed: Promise<number>;
}

async function connect(port: number): Promise<Client> {
  const socket = net.connect({ host: '127.0.0.1', port });
  let text = '';
  socket.on('data', (d: Buffer) => (text += d.toString('latin1')));
  socket.on('error', () => {});
  const start = performance.now();
  const closed = once(socket, 'close').then(() => performance.now() - start);
  await once(socket, 'connect');
  return { socket, received: () => text, closed };
}

/**
 * A bounded server on 127.0.0.1, closed in `t`'s teardown: `/hang` answers when release() is called,
 * `/big` with 64 MB, anything else at once; `handled` lists the paths that reached the handler.
 */
async function serverOn(
  t: Test,
  limits: Partial<HttpLimits>,
): Promise<{
  bounded: BoundedServer;
  port: number;
  handled: string[];
  hanging: () => number;
  release: () => void;
  shed: string[];
}> {
  let waiting: (() => void)[] = [];
  const shed: string[] = [];
  const handled: string[] = [];
  const bounded = createBoundedServer(
    resolveHttpLimits(limits),
    (req, res) => {
      handled.push(req.url ?? '');
      if (req.url === '/hang') waiting.push(() => res.end('late\n'));
      else if (req.url === '/big') res.end(Buffer.alloc(64 * 1024 * 1024, 'x'));
      else res.end('ok\n');
    },
    (action) => shed.push(action),
  );
  bounded.server.listen(0, '127.0.0.1');
  await once(bounded.server, 'listening');
  const port = (bounded.server.address() as net.AddressInfo).port;
  t.teardown(() => bounded.close());
  const release = (): void => {
    for (const w of waiting) w();
    waiting = [];
  };
  return { bounded, port, handled, hanging: () => waiting.length, release, shed };
}

const openHeld = (b: BoundedServer, n: number) =>
  poll(`the server to hold ${n} connections`, () => (b.stats().open === n ? true : undefined), 5000);

t.test('resolveHttpLimits: defaults, overrides, and bounds in words', async (t) => {
  t.strictSame(resolveHttpLimits(), { ...DEFAULT_HTTP_LIMITS });
  t.equal(resolveHttpLimits({ maxConnections: 4 }).maxConnections, 4);
  t.ok(DEFAULT_HTTP_LIMITS.headersTimeoutMs <= 5000, 'idle connections go within seconds');
  t.throws(() => resolveHttpLimits({ maxConnections: 0 }), /HTTP maxConnections must be 1-100000, got 0/);
  t.throws(() => resolveHttpLimits({ headersTimeoutMs: 1.5 }), /headersTimeoutMs must be 1-3600000/);
  t.throws(
    () => resolveHttpLimits({ headersTimeoutMs: 5000, requestTimeoutMs: 1000 }),
    /requestTimeoutMs \(1000\) must be at least headersTimeoutMs \(5000\)/,
  );
  t.throws(
    () => resolveDaemonOptions({ nodeName: 'a', routerId: '192.0.2.1', httpLimits: { keepAliveTimeoutMs: -1 } }),
    DaemonOptionError,
    'a bad limit is a DaemonOptionError',
  );
});

t.test('metrics addresses: loopback by default, the node address from the DaemonSet', async (t) => {
  const o = resolveDaemonOptions({ nodeName: 'a', routerId: '192.0.2.1' });
  t.same(o.metricsAddress, { kind: 'tcp', host: '127.0.0.1', port: 7475 }, 'loopback unless asked');
  // Kubernetes expands [$(HOST_IP)]:7475 to either family.
  t.same(parseListenAddress('[192.0.2.10]:7475', 'metrics address'), { kind: 'tcp', host: '192.0.2.10', port: 7475 });
  t.same(parseListenAddress('[2001:db8::10]:7475', 'metrics address'), {
    kind: 'tcp',
    host: '2001:db8::10',
    port: 7475,
  });
  t.throws(
    () => parseListenAddress('[$(HOST_IP)]:7475', 'metrics address'),
    /got "\[\$\(HOST_IP\)\]:7475" \(Kubernetes leaves \$\(HOST_IP\) as it is when the container has no env HOST_IP/,
    'an unexpanded variable is named',
  );
});

t.test('over the cap, the connection idle longest makes room; busy ones never do', async (t) => {
  const { bounded, port, hanging, release, shed } = await serverOn(t, { maxConnections: 3 });
  const a = await connect(port);
  const b = await connect(port);
  const c = await connect(port);
  await openHeld(bounded, 3);
  const d = await connect(port);
  await within(a.closed, 2000, 'the oldest idle connection to be closed');
  t.pass('the oldest idle connection was closed for the new one');
  t.strictSame(bounded.stats(), { open: 3, evicted: 1, refused: 0 });
  t.strictSame(shed, ['evicted']);

  // b, c and d wait for their answers: none may be evicted, so a newcomer gets a 503.
  for (const x of [b, c, d]) x.socket.write('GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
  await poll('three requests in progress', () => (hanging() === 3 ? true : undefined));
  const e = await connect(port);
  await within(e.closed, 2000, 'the newcomer to be answered and closed');
  t.match(e.received(), /^HTTP\/1\.1 503 Service Unavailable\r\n[\s\S]*\r\n\r\ntoo many connections: try again\n$/);
  t.strictSame(bounded.stats(), { open: 3, evicted: 1, refused: 1 });
  t.notOk(b.socket.destroyed || c.socket.destroyed || d.socket.destroyed, 'the busy connections are kept');

  // Answered, they are idle again (keep-alive) and may make room.
  release();
  for (const x of [b, c, d]) await poll('the late answer', () => (/late\n$/.test(x.received()) ? true : undefined));
  const f = await connect(port);
  const first = await within(
    Promise.race([b.closed.then(() => 'b'), c.closed.then(() => 'c'), d.closed.then(() => 'd')]),
    2000,
    'one of the answered connections to make room',
  );
  t.ok(first, `${first}, idle after its answer, made room`);
  t.equal(bounded.stats().evicted, 2);
  f.socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  await f.closed;
  t.match(f.received(), /^HTTP\/1\.1 200 OK[\s\S]*ok\n$/, 'the new connection is served');
});

t.test('an answer already written to a reader that stopped reading may make room', async (t) => {
  const { bounded, port, handled } = await serverOn(t, { maxConnections: 2 });
  const slow = await connect(port);
  slow.socket.pause(); // reads nothing: 64 MB cannot all leave the server
  slow.socket.write('GET /big HTTP/1.1\r\nhost: x\r\n\r\n');
  const busy = await connect(port);
  busy.socket.write('GET /hang HTTP/1.1\r\nhost: x\r\n\r\n');
  await poll('both requests handled', () => (handled.length === 2 ? true : undefined));
  const next = await connect(port);
  // The paused client cannot see its connection close (the FIN waits behind the data it does not
  // read): the server's counts tell.
  await poll('an eviction', () => (bounded.stats().evicted === 1 ? true : undefined), 5000);
  t.strictSame(bounded.stats(), { open: 2, evicted: 1, refused: 0 }, 'evicted, not refused');
  next.socket.write('GET / HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n');
  await within(next.closed, 5000, 'the answer to the new connection');
  t.match(next.received(), /^HTTP\/1\.1 200 OK[\s\S]*ok\n$/, 'the new connection is served');
  t.notOk(busy.socket.destroyed, 'the connection whose handler still works is kept');
  slow.socket.destroy();
  busy.socket.destroy();
});

t.test('idle, dripping and keep-alive connections are closed after their timeouts', async (t) => {
  const limits = {
    headersTimeoutMs: 300,
    requestTimeoutMs: 600,
    keepAliveTimeoutMs: 200,
    idleTimeoutMs: 2000,
    checkIntervalMs: 50,
  };
  const { port } = await serverOn(t, limits);
  const idle = await connect(port);
  const drip = await connect(port);
  drip.socket.write('GET / HTTP/1.1\r\n');
  // A header line every 50 ms: the socket is never idle, only the header deadline ends it.
  const dripper = setInterval(() => drip.socket.write('x-drip: 1\r\n'), 50);
  drip.closed.then(() => clearInterval(dripper));
  const idleMs = await within(idle.closed, 5000, 'the idle connection to be closed');
  const dripMs = await within(drip.closed, 5000, 'the dripping connection to be closed');
  const late = limits.headersTimeoutMs + limits.checkIntervalMs + 400;
  t.ok(
    idleMs >= limits.headersTimeoutMs - 50 && idleMs <= late,
    `a connection that sent nothing: closed after ${Math.round(idleMs)} ms`,
  );
  t.match(idle.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/, 'with a 408');
  t.ok(dripMs <= late, `one that drips its headers: closed after ${Math.round(dripMs)} ms`);

  const ka = await connect(port);
  ka.socket.write('GET / HTTP/1.1\r\nhost: x\r\n\r\n');
  await poll('the answer', () => (/ok\n$/.test(ka.received()) ? true : undefined));
  const answeredAt = performance.now();
  await within(ka.closed, 5000, 'the keep-alive connection to be closed');
  const kaMs = performance.now() - answeredAt;
  // Node closes a keep-alive connection 1 s after the timeout it advertises.
  t.ok(
    kaMs <= limits.keepAliveTimeoutMs + 1000 + 400,
    `a keep-alive connection: closed ${Math.round(kaMs)} ms after its answer`,
  );
});

t.test('close() does not wait for idle connections', async (t) => {
  const { bounded, port } = await serverOn(t, {}); // default limits: 5 s for headers
  const clients = await Promise.all([1, 2, 3].map(() => connect(port)));
  await openHeld(bounded, 3);
  const start = performance.now();
  await within(bounded.close(), 3000, 'close()');
  const ms = performance.now() - start;
  t.ok(ms < 1000, `closed in ${Math.round(ms)} ms with 3 idle connections held`);
  await Promise.all(clients.map((c) => c.closed));
});

t.test("a daemon's metrics and admin endpoints answer over a flood of idle connections", async (t) => {
  const { daemon, log } = await testDaemon(t, fakeSource(), { httpLimits: { maxConnections: 4 } });
  const flood: Client[] = [];
  for (const address of [daemon.metricsAddress, daemon.adminAddress])
    for (let i = 0; i < 20; i++) flood.push(await connect(address?.kind === 'tcp' ? address.port : 0));
  t.teardown(() => {
    for (const c of flood) c.socket.destroy();
  });
  t.equal((await get(daemon.metricsAddress, '/healthz')).status, 200, '/healthz');
  t.equal((await get(daemon.adminAddress, '/v1/status')).status, 200, 'the admin status');
  const text = (await get(daemon.metricsAddress, '/metrics')).body;
  for (const endpoint of ['metrics', 'admin']) {
    const open = seriesValue(text, `bgp_announce_http_connections{endpoint="${endpoint}"}`);
    t.ok(open !== undefined && open <= 4, `${endpoint}: ${open} connections held, cap 4`);
    const evicted = seriesValue(
      text,
      `bgp_announce_http_connections_shed_total{endpoint="${endpoint}",action="evicted"}`,
    );
    t.ok(evicted !== undefined && evicted >= 16, `${endpoint}: ${evicted} evicted`);
    t.equal(seriesValue(text, `bgp_announce_http_connections_shed_total{endpoint="${endpoint}",action="refused"}`), 0);
  }
  t.strictSame(
    log.lines.filter((l) => l.event === 'http-shed').map((l) => l.endpoint),
    ['metrics', 'admin'],
    'one warning per endpoint, not one per connection',
  );
});

t.test('startMetricsServer takes its limits', async (t) => {
  const server = await startMetricsServer({
    address: { kind: 'tcp', host: '127.0.0.1', port: 0 },
    metrics: { metrics: async () => '', contentType: 'text/plain' },
    readiness: () => ({ ready: true }),
    serve: { limits: { maxConnections: 2 } },
  });
  t.teardown(() => server.close());
  const port = server.address.kind === 'tcp' ? server.address.port : 0;
  const clients = [await connect(port), await connect(port), await connect(port)];
  t.equal((await get(server.address, '/healthz')).status, 200);
  t.ok(server.connections().open <= 2 && server.connections().evicted >= 2, JSON.stringify(server.connections()));
  for (const c of clients) c.socket.destroy();
});
