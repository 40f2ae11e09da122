// runPeer in-process against a scripted BGP peer on 127.0.0.1 (built with bgp-wire): --until eor and
// the Cease with our shutdown message before it resolves, SIGTERM, a refused OPEN, a refused
// connection, and a peer that never sends End-of-RIB. --bfd: the options the Speaker gets, and a run
// against a second BFD engine on 127.0.0.1 (BFD Down tears the session down, Up brings it back).
// No root, no namespaces.
import t, { type Test } from 'tap';
import { EventEmitter } from 'node:events';
import net from 'node:net';
import {
  MessageFramer,
  decodeMessage,
  encodeMessage,
  endOfRib,
  type BgpMessage,
  type Capability,
  type NotificationMessage,
} from '@bgp-announce/bgp-wire';
import { bfdSessionOptions, type BfdSessions } from '@bgp-announce/bgp-speaker';
import { BfdEngine, type BfdSessionOptions } from '@bgp-announce/bfd';
import { freePort, pollUntil, requireTtlSocket, startEngine } from '../../bfd/test/engine-helpers.js';
import { parsePeerCommand, type PeerCommandOptions } from '../src/peer.js';
import { peerSpeakerOptions, runPeer } from '../src/peer-run.js';

interface FakePeerScript {
  /** Answer our OPEN with this NOTIFICATION instead of a KEEPALIVE. */
  refuse?: NotificationMessage;
  /** Send End-of-RIB after the route (default true). */
  endOfRib?: boolean;
  /** Advertise graceful restart (default true, so that we expect End-of-RIB). */
  gracefulRestart?: boolean;
  /** Reset the connection (TCP RST) once our UPDATE arrives, on every connection. */
  resetOnUpdate?: boolean;
  /** The AS path of the route it sends (default [64496]). */
  asPath?: number[];
}

/** A BGP peer (AS 64496, id 192.0.2.1) on 127.0.0.1 that sends one route once Established. */
async function fakePeer(t: Test, script: FakePeerScript = {}) {
  const received: BgpMessage[] = [];
  let sawEnd = false;
  const graceful: Capability = {
    code: 64,
    name: 'graceful-restart',
    restarting: false,
    notification: false,
    restartTime: 120,
    families: [{ afi: 1, safi: 1, forwardingState: false }],
  };
  const server = net.createServer((socket) => {
    const framer = new MessageFramer(65535);
    const send = (m: Parameters<typeof encodeMessage>[0] | Uint8Array): boolean =>
      socket.write(m instanceof Uint8Array ? m : encodeMessage(m));
    socket.on('error', () => {});
    socket.on('end', () => (sawEnd = true));
    send({
      type: 'OPEN',
      version: 4,
      myAs: 64496,
      holdTime: 90,
      bgpId: '192.0.2.1',
      capabilities: [
        { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
        { code: 65, name: 'four-octet-as', asn: 64496 },
        ...(script.gracefulRestart === false ? [] : [graceful]),
      ],
    });
    let keepalives = 0;
    socket.on('data', (chunk: Buffer) => {
      for (const bytes of framer.push(chunk).messages) {
        const msg = decodeMessage(bytes);
        received.push(msg);
        if (msg.type === 'OPEN') {
          if (script.refuse) {
            send(script.refuse);
            socket.end();
          } else send({ type: 'KEEPALIVE' });
        } else if (msg.type === 'UPDATE' && script.resetOnUpdate) {
          socket.resetAndDestroy();
          return;
        } else if (msg.type === 'KEEPALIVE' && ++keepalives === 1) {
          send({
            type: 'UPDATE',
            withdrawn: [],
            nlri: [{ prefix: '198.51.100.0/24' }],
            attributes: {
              origin: 'igp',
              asPath: [{ type: 'AS_SEQUENCE', asns: script.asPath ?? [64496] }],
              nextHop: '192.0.2.1',
              communities: ['64496:7'],
            },
          });
          if (script.endOfRib !== false) send(endOfRib(1, 1));
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { port: (server.address() as net.AddressInfo).port, received, sawEnd: () => sawEnd };
}

/** Output collected by line; `line(re)` resolves once a line matches (rejects after ms). */
function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const waiters: { re: RegExp; resolve: (l: string) => void }[] = [];
  return {
    out,
    err,
    io: {
      out: (l: string) => {
        out.push(l);
        for (const w of waiters.splice(0))
          if (w.re.test(l)) w.resolve(l);
          else waiters.push(w);
      },
      err: (l: string) => void err.push(l),
    },
    line(re: RegExp, ms = 5000, from = 0): Promise<string> {
      const seen = out.slice(from).find((l) => re.test(l));
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no line matching ${re} in ${ms} ms:\n${out.join('\n')}`)), ms);
        waiters.push({ re, resolve: (l) => (clearTimeout(timer), resolve(l)) });
      });
    },
  };
}

const options = (port: number, more: PeerCommandOptions = {}): PeerCommandOptions => ({
  localAs: '64497',
  peerAs: '64496',
  peer: '127.0.0.1',
  localAddress: '127.0.0.1',
  port: String(port),
  announce: ['203.0.113.0/24'],
  community: ['64497:100'],
  med: '7',
  ...more,
});
const json = (lines: string[]): Record<string, unknown>[] => lines.map((l) => JSON.parse(l) as Record<string, unknown>);

t.test('--until eor: routes both ways, then a Cease, resolved once the connection is closed', async (t) => {
  const peer = await fakePeer(t);
  const c = capture();
  const status = await runPeer(parsePeerCommand(options(peer.port, { until: 'eor', json: true })), c.io);
  t.equal(status, 0);
  t.strictSame(c.err, []);
  const events = json(c.out);
  t.strictSame(
    events.filter((e) => e.type === 'state').map((e) => e.to),
    ['Connect', 'OpenSent', 'OpenConfirm', 'Established', 'Idle'],
    'up, then down by our stop',
  );
  t.match(
    events.find((e) => e.type === 'established'),
    { peerAs: 64496, peerBgpId: '192.0.2.1', holdTime: 90, families: ['ipv4-unicast'] },
  );
  t.match(
    events.find((e) => e.type === 'advertised'),
    { prefix: '203.0.113.0/24', nextHop: '127.0.0.1', asPath: '64497', med: 7, communities: ['64497:100'] },
  );
  t.match(
    events.find((e) => e.type === 'received'),
    { prefix: '198.51.100.0/24', nextHop: '192.0.2.1', asPath: '64496', origin: 'igp', communities: ['64496:7'] },
  );
  t.match(
    events.find((e) => e.type === 'end-of-rib'),
    { family: 'ipv4-unicast' },
  );
  t.match(events.at(-1), { type: 'stopped', status: 0, reason: 'End-of-RIB received for every family' });

  const update = peer.received.find((m) => m.type === 'UPDATE' && m.nlri.length > 0);
  t.match(
    update,
    {
      nlri: [{ prefix: '203.0.113.0/24' }],
      attributes: {
        nextHop: '127.0.0.1',
        med: 7,
        communities: ['64497:100'],
        asPath: [{ type: 'AS_SEQUENCE', asns: [64497] }],
      },
    },
    'the peer got our route',
  );
  t.match(
    peer.received.at(-1),
    {
      type: 'NOTIFICATION',
      code: 6,
      subcode: 2,
      shutdownMessage: 'bgp-announce peer: End-of-RIB received for every family',
    },
    'then a Cease with our shutdown message',
  );
  t.ok(peer.sawEnd(), 'the connection was closed before runPeer resolved');
});

t.test('SIGTERM: Cease, exit 0; readable output', async (t) => {
  const peer = await fakePeer(t);
  const c = capture();
  const signals = new EventEmitter();
  const run = runPeer(parsePeerCommand(options(peer.port)), { ...c.io, signals });
  await c.line(/ received 198\.51\.100\.0\/24 next-hop 192\.0\.2\.1 as-path 64496 origin igp communities 64496:7$/);
  await c.line(/ end-of-rib ipv4-unicast$/);
  t.equal(signals.listenerCount('SIGTERM'), 1, 'listening for SIGTERM');
  signals.emit('SIGTERM', 'SIGTERM');
  t.equal(await run, 0);
  t.match(c.out.at(-1), /stopped \(exit 0\): stopped by SIGTERM$/);
  t.match(peer.received.at(-1), {
    type: 'NOTIFICATION',
    code: 6,
    subcode: 2,
    shutdownMessage: 'bgp-announce peer: stopped by SIGTERM',
  });
  t.equal(signals.listenerCount('SIGTERM') + signals.listenerCount('SIGINT'), 0, 'signal handlers removed');
});

t.test(
  'the peer resets the connection: the down line names ECONNRESET, not a close without NOTIFICATION',
  async (t) => {
    const peer = await fakePeer(t, { resetOnUpdate: true });
    const c = capture();
    const signals = new EventEmitter();
    const run = runPeer(parsePeerCommand(options(peer.port)), { ...c.io, signals });
    const down = await c.line(/ 127\.0\.0\.1 down: /);
    t.equal(
      down.slice(down.indexOf(' ') + 1),
      `127.0.0.1 down: connection to 127.0.0.1 port ${peer.port} lost in Established: connection reset by the peer (ECONNRESET)`,
    );
    t.notMatch(c.out.join('\n'), /without a NOTIFICATION/);
    t.match(
      c.out.join('\n'),
      /warning: connection to 127\.0\.0\.1: read ECONNRESET/,
      'the warning says ECONNRESET too',
    );
    signals.emit('SIGTERM', 'SIGTERM');
    t.equal(await run, 0);
  },
);

t.test('a route with our AS in its AS path is printed as an AS loop (RFC 4271 9.1.2)', async (t) => {
  const peer = await fakePeer(t, { asPath: [64496, 64497] });
  for (const json of [false, true]) {
    const c = capture();
    t.equal(await runPeer(parsePeerCommand(options(peer.port, { until: 'eor', json })), c.io), 0);
    const line = c.out.find((l) => l.includes('198.51.100.0/24') && l.includes('received'));
    if (json)
      t.match(JSON.parse(line ?? '{}'), {
        type: 'received',
        prefix: '198.51.100.0/24',
        asPath: '64496 64497',
        asLoop: true,
      });
    else
      t.match(
        line,
        / received 198\.51\.100\.0\/24 next-hop 192\.0\.2\.1 as-path 64496 64497 origin igp communities 64496:7 AS-LOOP \(our AS is in the AS path: not eligible, RFC 4271 9\.1\.2\)$/,
      );
  }
  const normal = await fakePeer(t);
  const c = capture();
  t.equal(await runPeer(parsePeerCommand(options(normal.port, { until: 'eor', json: true })), c.io), 0);
  t.notMatch(c.out.join('\n'), /asLoop/, 'a route without our AS is not marked');
});

t.test('--until SECONDS: exit 0 after that long, Established', async (t) => {
  const peer = await fakePeer(t);
  const c = capture();
  const started = Date.now();
  t.equal(await runPeer(parsePeerCommand(options(peer.port, { until: '0.5' })), c.io), 0);
  t.ok(Date.now() - started >= 500, 'ran at least 0.5 s');
  t.match(c.out.at(-1), /stopped \(exit 0\): 0\.5 s elapsed$/);
});

t.test('the peer refuses our OPEN: exit 1 at once, naming its NOTIFICATION', async (t) => {
  const peer = await fakePeer(t, { refuse: { type: 'NOTIFICATION', code: 2, subcode: 2, data: '0000fbf1' } });
  const c = capture();
  const started = Date.now();
  t.equal(await runPeer(parsePeerCommand(options(peer.port, { connectTimeout: '20' })), c.io), 1);
  t.ok(Date.now() - started < 5000, 'without waiting for the connect timeout');
  t.strictSame(c.err, [
    'bgp-announce peer: peer 127.0.0.1 refused the session: NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS',
  ]);
});

t.test('a wrong --peer-as: we refuse its OPEN, exit 1', async (t) => {
  const peer = await fakePeer(t);
  const c = capture();
  t.equal(await runPeer(parsePeerCommand(options(peer.port, { peerAs: '64499' })), c.io), 1);
  t.strictSame(c.err, [
    "bgp-announce peer: we refused peer 127.0.0.1's OPEN (peer is AS 64496, expected AS 64499): NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS sent",
  ]);
  t.match(peer.received.at(-1), { type: 'NOTIFICATION', code: 2, subcode: 2 }, 'the peer got the NOTIFICATION');
});

t.test('nothing listens: exit 1 after the connect timeout, naming the error', async (t) => {
  const closed = net.createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const c = capture();
  const started = Date.now();
  t.equal(await runPeer(parsePeerCommand(options(port, { connectTimeout: '1' })), c.io), 1);
  const took = Date.now() - started;
  t.ok(took >= 1000 && took < 3000, `gave up after the 1 s connect timeout (${took} ms)`);
  t.strictSame(c.err, [
    `bgp-announce peer: session with 127.0.0.1 not established within 1 s: cannot connect to 127.0.0.1 port ${port}: connection refused (ECONNREFUSED)`,
  ]);
  t.match(
    c.out.join('\n'),
    /127\.0\.0\.1 down: cannot connect to 127\.0\.0\.1 port \d+: connection refused \(ECONNREFUSED\)/,
    'each failed attempt is printed',
  );
});

t.test('--until eor with a peer that never sends End-of-RIB: exit 1 after the timeout, with a hint', async (t) => {
  const peer = await fakePeer(t, { endOfRib: false, gracefulRestart: false });
  const c = capture();
  t.equal(await runPeer(parsePeerCommand(options(peer.port, { until: 'eor', connectTimeout: '1' })), c.io), 1);
  t.match(c.out.join('\n'), /warning: the peer may never send End-of-RIB \(graceful restart was not negotiated/);
  t.match(c.err, [
    /^bgp-announce peer: no End-of-RIB from 127\.0\.0\.1 for ipv4-unicast within 1 s of Established \(graceful restart was not negotiated.*try --graceful-restart\)$/,
  ]);
});

t.test(
  '--bfd: the Speaker gets the engine, the peer its profile and the local address found at run time',
  async (t) => {
    const engine: BfdSessions = {
      addSession: () => 1,
      removeSession: async () => {},
      on: () => engine,
      off: () => engine,
    };
    const plan = parsePeerCommand({
      localAs: '64497',
      peerAs: '64496',
      peer: '192.0.2.1',
      bfd: true,
      bfdInterval: '100',
      bfdMultiplier: '4',
    });
    const profile = {
      name: 'command-line',
      receiveInterval: 100,
      transmitInterval: 100,
      detectMultiplier: 4,
      echoInterval: 50,
      echoMode: false,
      passiveMode: false,
      minimumTtl: 254,
    };
    const { speaker, peer } = peerSpeakerOptions(plan, '192.0.2.2', { engine, localAddress: '192.0.2.2' });
    t.equal(speaker.bfd, engine, 'SpeakerOptions.bfd is the engine');
    t.strictSame({ ...speaker, bfd: undefined }, { localAs: 64497, bgpId: '192.0.2.2', bfd: undefined });
    t.strictSame(peer.bfd, { profile, localAddress: '192.0.2.2' });
    t.strictSame(plan.peer.bfd, { profile }, 'the plan is not changed');
    // What the Speaker then asks of the engine (the announcer's own conversion).
    t.strictSame(bfdSessionOptions(plan.peerId, peer.peerAddress, peer.localAddress, peer.bfd!), {
      peerAddress: '192.0.2.1',
      localAddress: '192.0.2.2',
      profile,
    });

    const withLocal = parsePeerCommand({
      localAs: '64497',
      peerAs: '64496',
      peer: '192.0.2.1',
      localAddress: '192.0.2.3',
      bfd: true,
      bfdMultihop: true,
    });
    const second = peerSpeakerOptions(withLocal, '192.0.2.3', { engine, localAddress: '192.0.2.3' });
    t.equal(second.peer.bfd?.localAddress, undefined, "--local-address given: the Speaker uses the peer's");
    t.match(bfdSessionOptions(withLocal.peerId, second.peer.peerAddress, second.peer.localAddress, second.peer.bfd!), {
      localAddress: '192.0.2.3',
      multihop: true,
    });

    const none = peerSpeakerOptions(
      parsePeerCommand({ localAs: '64497', peerAs: '64496', peer: '192.0.2.1' }),
      '192.0.2.2',
      { engine, localAddress: '192.0.2.2' },
    );
    t.strictSame(
      none,
      {
        speaker: { localAs: 64497, bgpId: '192.0.2.2' },
        peer: { peerAddress: '192.0.2.1', peerAs: 64496, families: ['ipv4-unicast'] },
      },
      'no --bfd: no engine, no bfd',
    );
  },
);

t.test(
  '--bfd against a BFD engine on 127.0.0.1: BFD Down tears the session down, Up brings it back; stop sends AdminDown',
  async (t) => {
    if (!requireTtlSocket(t)) return;
    const bgp = await fakePeer(t);
    const cliPorts = { singleHop: await freePort(4), multihop: await freePort(4) };
    const peerPorts = { singleHop: await freePort(4), multihop: await freePort(4) };
    const bfdPeer = await startEngine(t, { listenPorts: peerPorts });
    const peerBfdId = bfdPeer.engine.addSession({
      peerAddress: '127.0.0.1',
      localAddress: '127.0.0.1',
      port: cliPorts.singleHop,
      profile: { name: 'fast', transmitInterval: 50, receiveInterval: 50, detectMultiplier: 3 },
    });
    let cliEngine: BfdEngine | undefined;
    const startBfdEngine = async (): Promise<BfdEngine> => {
      cliEngine = await BfdEngine.start({ listenPorts: cliPorts });
      // PeerOptions.bfd has no port (3784 in real use): send to the test engine's free port instead.
      const addSession = cliEngine.addSession.bind(cliEngine);
      cliEngine.addSession = (o: BfdSessionOptions) => addSession({ ...o, port: peerPorts.singleHop });
      return cliEngine;
    };
    const c = capture();
    const signals = new EventEmitter();
    const run = runPeer(parsePeerCommand(options(bgp.port, { bfd: true, bfdInterval: '50', json: true })), {
      ...c.io,
      signals,
      startBfdEngine,
    });
    t.teardown(async () => {
      signals.emit('SIGTERM', 'SIGTERM');
      await run;
    });
    await c.line(/"type":"bfd".*"to":"Up"/, 15000);
    await c.line(/"type":"state".*"to":"Established"/, 15000);
    // Our detection time is 3 x the peer's TX: 1 s until its Poll for 50 ms is done.
    await pollUntil(
      'our detection time 3 x 50 ms',
      async () => (await cliEngine!.session(cliEngine!.sessionIds()[0]!))?.detectionTimeMs === 150,
      15000,
    );
    const mark = c.out.length;
    await bfdPeer.engine.stallWorkerForTest(500); // no BFD packets for 500 ms against 3 x 50 ms
    const torn = await c.line(/"type":"bfd".*"to":"Down"/, 15000, mark);
    t.match(JSON.parse(torn), {
      type: 'bfd',
      peer: '127.0.0.1',
      from: 'Up',
      to: 'Down',
      diag: 'Control Detection Time Expired',
      outcome: 'torn-down',
    });
    t.match(
      JSON.parse(await c.line(/"type":"state".*"from":"Established","to":"Idle"/, 15000, mark)),
      { peer: '127.0.0.1' },
      'the BGP session went down',
    );
    t.match(
      JSON.parse(await c.line(/"outcome":"resumed"/, 15000, mark)),
      { type: 'bfd', to: 'Up' },
      'BFD Up again: the BGP session is started again',
    );
    await c.line(/"type":"state".*"to":"Established"/, 15000, mark);
    t.match(
      bgp.received.find((m) => m.type === 'NOTIFICATION'),
      { type: 'NOTIFICATION', code: 6, subcode: 10 },
      'the BGP peer got Cease/BFD Down',
    );
    const before = bfdPeer.changes.length;
    signals.emit('SIGTERM', 'SIGTERM');
    t.equal(await run, 0);
    t.match(
      await bfdPeer.reached(peerBfdId, 'Down', 'the BFD peer Down', before, 15000),
      { diag: 3, remoteDiag: 7 },
      'the BFD peer was told AdminDown',
    );
    await t.rejects(cliEngine!.metrics(), { code: 'stopped' }, 'the engine is stopped after the Speaker');
    t.match(JSON.parse(c.out.at(-1)!), { type: 'stopped', status: 0 });
    t.strictSame(c.err, []);
  },
);
