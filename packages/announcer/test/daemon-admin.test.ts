// The admin endpoint's JSON after two Speakers peer on 127.0.0.1 (a fake route source adds the peer
// and announces 192.0.2.0/24 with community 64496:100; the other side announces 198.51.100.0/24):
// status (state, capabilities, hold time, prefixes, last down reason), routes both ways, the last
// messages decoded (OPEN, UPDATE), errors, a unix socket, and the refusal of non-loopback addresses.
import t from 'tap';
import net from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDaemon } from '../src/daemon/daemon.js';
import { checkAdminAddress } from '../src/daemon/admin.js';
import { DaemonOptionError, parseListenAddress } from '../src/daemon/options.js';
import { fakeSource, get, getJson, peeringSource, poll, receiverSpeaker, testDaemon } from './daemon-helpers.js';

/** A TCP port on 127.0.0.1 that nothing listens on (taken, then released). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test('status, routes and messages of an Established peer', async (t) => {
  const r = await receiverSpeaker(t);
  const source = peeringSource(r.port);
  const { daemon } = await testDaemon(t, source);
  await poll('routes both ways', () =>
    daemon.speaker.peers()[0]?.received === 1 && r.speaker.peers()[0]?.received === 1 ? true : undefined,
  );

  const { status, json } = await getJson(daemon.adminAddress, '/v1/status');
  t.equal(status, 200);
  t.match(json, {
    node: 'node-a',
    routerId: '192.0.2.1',
    ready: false,
    stopping: false,
    bfd: null,
    source: { kind: 'fake', services: [{ name: 'default/web' }] },
  });
  t.match(json.notReadyBecause, /route source/);
  t.equal(json.peers.length, 1);
  const peer = json.peers[0];
  t.match(peer, {
    id: 'rtr',
    peerAddress: '127.0.0.1',
    peerAs: 64497,
    localAs: 64496,
    bgpId: '192.0.2.1',
    localAddress: '127.0.0.1',
    state: 'Established',
    session: { peerBgpId: '192.0.2.2', ibgp: false, holdTime: 90, keepaliveTime: 30, families: ['ipv4-unicast'] },
    prefixes: { advertised: 1, received: 1 },
    messages: { opensIn: 1, opensOut: 1, updatesIn: 2, updatesOut: 2, establishedTransitions: 1 },
  });
  t.same([...peer.session.capabilities].sort(), [
    '4-octet-as',
    'enhanced-route-refresh',
    'extended-message',
    'route-refresh',
  ]);
  t.type(peer.establishedAt, 'string');
  t.ok(peer.uptimeSeconds >= 0 && peer.uptimeSeconds < 60);
  t.equal(peer.bfd, undefined, 'no BFD on this peer');
  source.setReady(true);
  t.equal((await getJson(daemon.adminAddress, '/v1/status')).json.ready, true);

  const routes = await getJson(daemon.adminAddress, '/v1/peers/rtr/routes');
  t.equal(routes.status, 200);
  t.same(routes.json.advertised, [
    {
      family: 'ipv4-unicast',
      prefix: '192.0.2.0/24',
      nextHop: '127.0.0.1',
      asPath: '64496',
      origin: 'igp',
      communities: ['64496:100'],
    },
  ]);
  t.same(routes.json.received, [
    { family: 'ipv4-unicast', prefix: '198.51.100.0/24', asPath: '64497', nextHop: '127.0.0.1', origin: 'igp' },
  ]);
  t.same(
    [routes.json.advertised[0], routes.json.received[0]].map(Object.keys),
    [
      ['family', 'prefix', 'nextHop', 'asPath', 'origin', 'communities'],
      ['family', 'prefix', 'nextHop', 'asPath', 'origin'],
    ],
    'one key order both ways',
  );
  t.same(routes.json.counts, { advertised: 1, received: 1 });
  const none = await getJson(daemon.adminAddress, '/v1/peers/rtr/routes?limit=0');
  t.same(
    [none.json.advertised, none.json.received, none.json.counts],
    [[], [], { advertised: 1, received: 1 }],
    'limit cuts the lists, counts stay',
  );
  t.equal((await getJson(daemon.adminAddress, '/v1/peers/rtr/routes?limit=x')).status, 400);

  const messages = await getJson(daemon.adminAddress, '/v1/peers/rtr/messages');
  t.equal(messages.status, 200);
  const bgp = messages.json.bgp as { direction: string; message: { type: string; [k: string]: unknown } }[];
  t.match(
    bgp[0],
    { direction: 'sent', message: { type: 'OPEN', myAs: 64496, bgpId: '192.0.2.1', holdTime: 90 } },
    'our OPEN first',
  );
  t.ok(
    bgp.some(
      (m) =>
        m.direction === 'received' &&
        m.message.type === 'OPEN' &&
        m.message.myAs === 64497 &&
        m.message.bgpId === '192.0.2.2',
    ),
    'their OPEN',
  );
  const sentUpdate = bgp.find(
    (m) => m.direction === 'sent' && m.message.type === 'UPDATE' && (m.message.nlri as unknown[]).length > 0,
  );
  t.match(
    sentUpdate?.message,
    { nlri: [{ prefix: '192.0.2.0/24' }], attributes: { communities: ['64496:100'], nextHop: '127.0.0.1' } },
    'our UPDATE decoded',
  );
  t.ok(
    bgp.some(
      (m) =>
        m.direction === 'received' &&
        m.message.type === 'UPDATE' &&
        JSON.stringify(m.message.nlri) === '[{"prefix":"198.51.100.0/24"}]',
    ),
    'their UPDATE',
  );
  t.ok(bgp.every((m) => typeof (m as unknown as { at: string }).at === 'string'));
  t.same(messages.json.bfd, []);
  t.match(messages.json.note, /BFD control packets/);

  const unknown = await getJson(daemon.adminAddress, '/v1/peers/nope/messages');
  t.equal(unknown.status, 404);
  t.same(unknown.json, { error: 'no peer "nope"', peers: ['rtr'] });
  t.equal((await getJson(daemon.adminAddress, '/v2/whatever')).status, 404);
  t.equal((await get(daemon.adminAddress, '/v1/status')).type, 'application/json; charset=utf-8');
});

t.test('a peer that cannot connect shows why', async (t) => {
  const port = await closedPort();
  const { daemon } = await testDaemon(
    t,
    fakeSource((ctx) => ctx.speaker.addPeer('dead', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497 })),
  );
  const peer = await poll('a last down reason', async () => {
    const p = (await getJson(daemon.adminAddress, '/v1/status')).json.peers[0];
    return p?.lastDown ? p : undefined;
  });
  t.match(
    peer,
    { id: 'dead', localAs: 23456, lastDown: { kind: 'connection-failed', socketError: 'ECONNREFUSED' } },
    'the placeholder AS without a per-peer one',
  );
  t.not(peer.state, 'Established');
  t.equal(peer.session, undefined);
});

t.test('the admin endpoint on a unix socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-announce-admin-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'admin.sock');
  const { daemon } = await testDaemon(t, fakeSource(), { adminAddress: `unix:${path}`, metricsAddress: 'off' });
  t.same(daemon.adminAddress, { kind: 'unix', path });
  const { status, json } = await getJson(daemon.adminAddress, '/v1/status');
  t.equal(status, 200);
  t.same(json.peers, []);
  t.equal(daemon.metricsAddress, undefined);
});

t.test('the admin endpoint refuses addresses other hosts can reach unless allowed', async (t) => {
  const source = fakeSource();
  await t.rejects(
    startDaemon(
      {
        nodeName: 'node-a',
        routerId: '192.0.2.1',
        adminAddress: '0.0.0.0:0',
        metricsAddress: 'off',
        bfd: false,
        signals: false,
      },
      source,
    ),
    {
      name: 'DaemonOptionError',
      message: /admin endpoint 0\.0\.0\.0:0 is not a loopback address/,
    },
  );
  t.same(source.calls, [], 'nothing started');
  for (const text of ['192.0.2.1:7474', '[2001:db8::1]:7474', ':7474', '[::]:7474']) {
    t.throws(
      () => checkAdminAddress(parseListenAddress(text, 'admin address', true)),
      DaemonOptionError,
      `${text} refused`,
    );
    t.doesNotThrow(
      () => checkAdminAddress(parseListenAddress(text, 'admin address', true), true),
      `${text} allowed when asked`,
    );
  }
  for (const text of ['127.0.0.1:7474', '127.1.2.3:1', '[::1]:7474', 'unix:/run/bgp-announce.sock', '/run/x.sock']) {
    t.doesNotThrow(() => checkAdminAddress(parseListenAddress(text, 'admin address', true)), `${text} accepted`);
  }
  t.throws(
    () => parseListenAddress('localhost:7474', 'admin address', true),
    /admin address must be HOST:PORT, \[IPv6\]:PORT or unix:\/path with an IP address/,
  );
  t.throws(() => parseListenAddress('unix:relative.sock', 'admin address', true), /absolute path/);
  t.throws(() => parseListenAddress('127.0.0.1:70000', 'metrics address'), /metrics address must be HOST:PORT/);
});

t.test('bad options are refused with the option named, before anything starts', async (t) => {
  const base = {
    nodeName: 'node-a',
    routerId: '192.0.2.1',
    adminAddress: 'off',
    metricsAddress: 'off',
    bfd: false,
    signals: false,
  } as const;
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ nodeName: '' }, /node name is required/],
    [{ routerId: '0.0.0.0' }, /router id must be a dotted quad/],
    [{ routerId: '2001:db8::1' }, /router id must be a dotted quad/],
    [{ localAs: 0 }, /local AS must be 1-4294967295/],
    [{ messageHistory: -1 }, /message history must be 0-10000/],
    [{ drainMs: -5 }, /drain time must be 0-3600 s/],
    [{ metricsAddress: 'nowhere' }, /metrics address must be/],
  ];
  for (const [change, message] of cases) {
    await t.rejects(
      startDaemon({ ...base, ...change } as never, fakeSource()),
      { name: 'DaemonOptionError', message },
      JSON.stringify(change),
    );
  }
  // A port in use is named with the endpoint.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const { port } = server.address() as net.AddressInfo;
  const source = fakeSource();
  await t.rejects(startDaemon({ ...base, metricsAddress: `127.0.0.1:${port}` }, source), {
    message: `metrics endpoint 127.0.0.1:${port}: address in use (another bgp-announce, or something else, listens there)`,
  });
  t.same(source.calls, [], 'the source was not started');
});
