// SessionDriver over real TCP on loopback: two drivers reach Established and exchange an UPDATE; a
// raw-socket peer checks the bytes we send on hold timer expiry (virtual time) and on a header error;
// a taken listen port is diagnosed and the session carries on active-only.
import t from 'tap';
import net from 'node:net';
import { BgpWireError, packUpdates, type NotificationMessage, type UpdateMessage } from '@bgp-announce/bgp-wire';
import { SessionDriver, addressInUseMessage, wireErrorEvent } from '../src/session/driver.js';
import { manualClock } from '../src/session/clock.js';
import { peerConfig } from '../src/session/config.js';
import type { DownReason } from '../src/session/fsm.js';
import { once } from './helpers/events.js';

const M = 'ff'.repeat(16);
const bytes = (h: string): Buffer => Buffer.from(h.replace(/\s+/g, ''), 'hex');

/** A raw TCP peer on 127.0.0.1: collects what the driver sends; `waitFor(n)` resolves once n bytes arrived. */
async function rawPeer(onConnection: (socket: net.Socket) => void = () => {}) {
  let received = Buffer.alloc(0);
  let socket: net.Socket | undefined;
  const waiters: { n: number; resolve: () => void }[] = [];
  const server = net.createServer((s) => {
    socket = s;
    s.on('data', (chunk) => {
      received = Buffer.concat([received, chunk]);
      for (const w of waiters.splice(0))
        if (received.length >= w.n) w.resolve();
        else waiters.push(w);
    });
    s.on('error', () => {});
    onConnection(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    get received() {
      return received;
    },
    get socket() {
      return socket;
    },
    waitFor(n: number, ms = 5000): Promise<void> {
      if (received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`raw peer got ${received.length} bytes, wanted ${n}`)), ms);
        waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
      });
    },
    close: () =>
      new Promise<void>((resolve) => {
        socket?.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Splits a byte stream into [type, message hex] by the header length field (independent of the codec). */
function split(buf: Buffer): { type: number; hex: string }[] {
  const out: { type: number; hex: string }[] = [];
  for (let at = 0; at + 19 <= buf.length; ) {
    const len = buf.readUInt16BE(at + 16);
    out.push({ type: buf[at + 18]!, hex: buf.subarray(at, at + len).toString('hex') });
    at += len;
  }
  return out;
}

// The peer's OPEN, by hand: version 4, My AS 64496 (fbf0), hold time 3, BGP id 192.0.2.1, no parameters.
const PEER_OPEN = bytes(`${M} 001d 01 04 fbf0 0003 c0000201 00`);
const KEEPALIVE = bytes(`${M} 0013 04`);

t.test('two drivers on loopback: Established, an UPDATE, and a shutdown message seen by the other side', async (t) => {
  const passive = new SessionDriver({
    config: peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1', mode: 'passive' }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
  });
  const listening = once(passive, 'listening');
  passive.start();
  const [{ port }] = await listening;
  t.ok(port > 0, 'listening on an ephemeral port');
  const active = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2', holdTime: 30 }),
    peerAddress: '127.0.0.1',
    peerPort: port,
    localAddress: '127.0.0.1',
  });
  t.teardown(async () => {
    await active.stop();
    await passive.stop();
  });
  const states: string[] = [];
  active.on('state', (to) => states.push(to));
  const upA = once(active, 'established');
  const upP = once(passive, 'established');
  active.start();
  const [[negA], [negP]] = await Promise.all([upA, upP]);
  t.strictSame(states, ['Connect', 'OpenSent', 'OpenConfirm', 'Established']);
  t.equal(negA.peerAs, 64496);
  t.equal(negA.peerBgpId, '192.0.2.1');
  t.equal(negP.peerBgpId, '192.0.2.2');
  t.equal(negA.holdTime, 30, 'the smaller hold time wins');
  t.equal(negP.holdTime, 30);
  t.equal(negA.keepaliveTime, 10);
  t.equal(passive.state.state, 'Established');

  const got = once(passive, 'update');
  const updates = packUpdates(
    {
      attributes: {
        origin: 'igp',
        asPath: [{ type: 'AS_SEQUENCE', asns: [64497] }],
        nextHop: '192.0.2.2',
        communities: ['64512:100'],
      },
      nlri: [{ prefix: '203.0.113.0/24' }, { prefix: '198.51.100.0/25' }],
    },
    active.sendContext,
  );
  active.send(updates);
  const [update] = (await got) as [UpdateMessage];
  t.strictSame(
    update.nlri.map((n) => n.prefix),
    ['203.0.113.0/24', '198.51.100.0/25'],
  );
  t.equal(update.attributes.nextHop, '192.0.2.2');
  t.strictSame(update.attributes.communities, ['64512:100']);
  t.strictSame(update.attributes.asPath, [{ type: 'AS_SEQUENCE', asns: [64497] }]);
  t.equal(passive.state.counters.updatesIn, 1);

  const notified = once(passive, 'notificationReceived');
  const down = once(passive, 'down');
  const activeDown = once(active, 'down');
  await active.stop('maintenance: node drain');
  const [n] = (await notified) as [NotificationMessage];
  t.equal(n.code, 6);
  t.equal(n.subcode, 2);
  t.equal(n.shutdownMessage, 'maintenance: node drain');
  const [reason] = (await down) as [DownReason];
  t.equal(reason.kind, 'notification-received');
  t.equal(((await activeDown)[0] as DownReason).kind, 'manual-stop');
  t.equal(active.state.state, 'Idle');
  t.equal(active.state.started, false);
  t.throws(() => active.send(updates), /not Established/);
});

t.test('hold timer expiry in virtual time sends Hold Timer Expired (4/0)', async (t) => {
  const clock = manualClock(1_000_000);
  const peer = await rawPeer((s) => s.write(Buffer.concat([PEER_OPEN, KEEPALIVE])));
  const d = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2' }),
    peerAddress: '127.0.0.1',
    peerPort: peer.port,
    localAddress: '127.0.0.1',
    clock,
    random: () => 0.5,
  });
  t.teardown(async () => {
    await peer.close();
    clock.advance(10_000); // lets the linger timer destroy the socket if the peer did not close
    await d.stop();
  });
  const up = once(d, 'established');
  d.start();
  const [neg] = await up;
  t.equal(neg.holdTime, 3, 'the peer offered 3 s');
  // Our OPEN (length at bytes 16-17) and one KEEPALIVE so far.
  await peer.waitFor(19);
  const openLen = peer.received.readUInt16BE(16);
  await peer.waitFor(openLen + 19);
  t.strictSame(
    split(peer.received).map((m) => m.type),
    [1, 4],
  );
  t.equal(peer.received.readUInt16BE(20), 64497, 'My AS in our OPEN');

  const sent = once(d, 'notificationSent');
  clock.advance(2999);
  t.equal(d.state.state, 'Established', 'not expired at 2999 ms');
  const keepalives = split(peer.received).filter((m) => m.type === 4).length;
  t.ok(keepalives >= 1);
  clock.advance(1);
  const [n] = (await sent) as [NotificationMessage];
  t.equal(n.code, 4);
  t.equal(d.state.state, 'Idle');
  t.equal(d.state.lastDown?.kind, 'notification-sent');
  // Wait until the NOTIFICATION reached the peer: 21 bytes after everything else.
  const before = split(peer.received).reduce((sum, m) => sum + m.hex.length / 2, 0);
  await peer.waitFor(before + 21);
  const last = split(peer.received).at(-1);
  t.equal(last?.hex, `${M}00150304 00`.replace(/ /g, ''), 'NOTIFICATION Hold Timer Expired on the wire');
});

t.test('Keepalive and Hold timers of 8 s or more fire on whole seconds: KEEPALIVE early, expiry late', async (t) => {
  const clock = manualClock(1_000_300);
  const open30 = bytes(`${M} 001d 01 04 fbf0 001e c0000201 00`); // hold time 30 s
  const peer = await rawPeer((s) => s.write(Buffer.concat([open30, KEEPALIVE])));
  const d = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2' }),
    peerAddress: '127.0.0.1',
    peerPort: peer.port,
    localAddress: '127.0.0.1',
    clock,
    random: () => 0.5, // Keepalive timer 75 % + 0.5 x 25 % of 10 s: 8,750 ms
  });
  t.teardown(async () => {
    await peer.close();
    clock.advance(10_000);
    await d.stop();
  });
  const up = once(d, 'established');
  d.start();
  const [neg] = await up;
  t.equal(neg.holdTime, 30);
  await peer.waitFor(19);
  const openLen = peer.received.readUInt16BE(16);
  await peer.waitFor(openLen + 19);
  const keepalives = (): number => split(peer.received).filter((m) => m.type === 4).length;
  t.equal(keepalives(), 1, 'the KEEPALIVE that answers the OPEN');
  // Due at 1,009,050: sent at the whole second before it.
  clock.advance(8_699);
  t.equal(keepalives(), 1, 'none before 1,009,000');
  clock.advance(1);
  await peer.waitFor(openLen + 2 * 19);
  t.equal(keepalives(), 2, 'the next one at 1,009,000, 50 ms before its due time');
  // Hold due at 1,030,300 (nothing received since): expires at the whole second after it.
  const sent = once(d, 'notificationSent');
  clock.advance(1_030_300 - clock.now());
  t.equal(d.state.state, 'Established', 'not expired at its due time');
  clock.advance(699);
  t.equal(d.state.state, 'Established', 'nor 699 ms later');
  clock.advance(1);
  const [n] = (await sent) as [NotificationMessage];
  t.equal(n.code, 4, 'Hold Timer Expired at 1,031,000');
});

t.test('a bad marker from the peer is answered with 1/1 Connection Not Synchronized', async (t) => {
  const bad = bytes(`${'ff'.repeat(15)}fe 0013 04`);
  const peer = await rawPeer((s) => s.write(Buffer.concat([PEER_OPEN, bad])));
  const d = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2' }),
    peerAddress: '127.0.0.1',
    peerPort: peer.port,
  });
  t.teardown(async () => {
    await peer.close();
    await d.stop();
  });
  const sent = once(d, 'notificationSent');
  d.start();
  const [n] = (await sent) as [NotificationMessage];
  t.equal(n.code, 1);
  t.equal(n.subcode, 1);
  await peer.waitFor(19);
  const openLen = peer.received.readUInt16BE(16);
  // our OPEN, our KEEPALIVE (the peer's OPEN was fine), then the NOTIFICATION 1/1
  await peer.waitFor(openLen + 19 + 21);
  t.strictSame(
    split(peer.received).map((m) => m.type),
    [1, 4, 3],
  );
  t.equal(split(peer.received)[2]?.hex, `${M}0015030101`);
});

t.test('a taken listen port is diagnosed and the session carries on active-only', async (t) => {
  const squatter = net.createServer();
  await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
  const taken = (squatter.address() as net.AddressInfo).port;
  const peer = await rawPeer();
  const d = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2', mode: 'passive' }),
    peerAddress: '127.0.0.1',
    peerPort: peer.port,
    listen: { host: '127.0.0.1', port: taken },
  });
  t.teardown(async () => {
    await d.stop();
    await peer.close();
    await new Promise<void>((resolve) => squatter.close(() => resolve()));
  });
  const err = once(d, 'error');
  d.start();
  const [e] = await err;
  t.match(e.message, `127.0.0.1:${taken}`);
  t.match(e.message, /address in use/);
  t.match(e.message, /kube-vip/);
  t.match(e.message, /MetalLB/);
  t.match(e.message, /active-only/);
  // It now connects out: the raw peer receives our OPEN (type 1, version 4, My AS 64497).
  await peer.waitFor(29);
  t.equal(peer.received[18], 1);
  t.equal(peer.received[19], 4);
  t.equal(peer.received.readUInt16BE(20), 64497);
  t.equal(d.state.config.mode, 'active');
});

t.test('addressInUseMessage and wireErrorEvent', async (t) => {
  t.match(addressInUseMessage('2001:db8::1', 179), /^cannot listen on \[2001:db8::1\]:179: address in use/);
  t.match(addressInUseMessage('192.0.2.7', 1179), /^cannot listen on 192\.0\.2\.7:1179/);
  const err = (code: number): BgpWireError => new BgpWireError('x', { code, subcode: 1 });
  t.equal(wireErrorEvent(err(1)).type, 'BGPHeaderErr');
  t.equal(wireErrorEvent(err(2)).type, 'BGPOpenMsgErr');
  t.equal(wireErrorEvent(err(3)).type, 'UpdateMsgErr');
  t.equal(wireErrorEvent(err(7)).type, 'BGPHeaderErr');
});

t.test('manualClock fires due timers in order, and only those', async (t) => {
  const c = manualClock(100);
  const fired: string[] = [];
  c.setTimer(50, () => fired.push('b'));
  const h = c.setTimer(10, () => fired.push('x'));
  c.setTimer(20, () => {
    fired.push('a');
    c.setTimer(5, () => fired.push('a2'));
  });
  c.clearTimer(h);
  c.advance(30);
  t.strictSame(fired, ['a', 'a2']);
  t.equal(c.now(), 130);
  c.advance(20);
  t.strictSame(fired, ['a', 'a2', 'b']);
  t.equal(c.pending(), 0);
});

t.test('a refused connection attempt is recorded with the socket error in lastDown', async (t) => {
  // A port that was just free: listen on an ephemeral port, note it, close the listener.
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise((resolve) => probe.close(resolve));
  const d = new SessionDriver({
    config: peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1', idleHoldTime: 60 }),
    peerAddress: '127.0.0.1',
    peerPort: port,
  });
  d.on('error', () => {});
  const idle = new Promise<void>((resolve) => d.on('state', (to) => to === 'Idle' && resolve()));
  d.start();
  await idle;
  t.match(d.state.lastDown, { kind: 'connection-failed', state: 'Connect' });
  t.match(d.state.lastDown?.message, /^TCP connection failed in Connect: connect ECONNREFUSED 127\.0\.0\.1:\d+$/);
  t.equal(d.state.lastDown?.socketError?.code, 'ECONNREFUSED', 'the errno code kept');
  await d.stop();
});

t.test('the hold timer runs from the last message received, however it is re-armed', async (t) => {
  const clock = manualClock(1_000_000);
  const peer = await rawPeer((s) => s.write(Buffer.concat([PEER_OPEN, KEEPALIVE])));
  const d = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2' }),
    peerAddress: '127.0.0.1',
    peerPort: peer.port,
    clock,
    random: () => 0.5,
  });
  d.on('error', () => {});
  t.teardown(async () => {
    await peer.close();
    clock.advance(10_000);
    await d.stop();
  });
  const up = once(d, 'established');
  d.start();
  await up; // hold time 3 s, from clock 1,000,000
  clock.advance(2000);
  const got = once(d, 'update');
  peer.socket?.write(bytes(`${M} 0017 02 0000 0000`)); // End-of-RIB (IPv4): restarts the hold timer at 1,002,000
  await got;
  clock.advance(1000);
  t.equal(d.state.state, 'Established', 'still up when the first deadline (3 s after Established) passes');
  clock.advance(1999);
  t.equal(d.state.state, 'Established', 'still up 2999 ms after the UPDATE');
  const sent = once(d, 'notificationSent');
  clock.advance(1);
  t.equal(((await sent) as [NotificationMessage])[0].code, 4, 'Hold Timer Expired 3 s after the UPDATE');
});
