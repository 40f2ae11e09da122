// BFD as the BGP session's guard (RFC 5882), with a scripted BFD engine: the test says when BFD is Up
// or Down. Two Speakers over loopback TCP; A requires BFD with B. BFD Down tears A's session down with
// Cease 10 at once and keeps it down (in virtual time, however long) until BFD is Up again.
import t from 'tap';
import { EventEmitter } from 'node:events';
import type { BfdSessionOptions } from '@bgp-announce/bfd';
import { Speaker } from '../src/speaker.js';
import { manualClock } from '../src/session/clock.js';
import type { BfdChange, BfdSessions } from '../src/speaker-bfd.js';
import { next } from './helpers/events.js';

/** A BFD engine the test drives: it records sessions and emits the state changes it is told to. */
class ScriptedBfd extends EventEmitter<{ state: [id: number, change: BfdChange] }> implements BfdSessions {
  readonly sessions = new Map<number, BfdSessionOptions>();
  readonly removed: number[] = [];
  private nextId = 1;
  addSession(options: BfdSessionOptions): number {
    const id = this.nextId++;
    this.sessions.set(id, options);
    return id;
  }
  async removeSession(id: number): Promise<void> {
    this.sessions.delete(id);
    this.removed.push(id);
  }
  change(id: number, from: BfdChange['from'], to: BfdChange['to'], diag = 0): void {
    this.emit('state', id, { from, to, diag });
  }
}

t.test('BFD Down tears the BGP session down with Cease 10 and holds it until BFD is Up', async (t) => {
  const b = new Speaker({ localAs: 64497, bgpId: '192.0.2.2' });
  b.on('error', () => {});
  const listening = next(b, 'listening');
  b.addPeer('a', {
    peerAddress: '127.0.0.1',
    peerAs: 64496,
    mode: 'passive',
    listen: { host: '127.0.0.1', port: 0 },
    idleHoldTime: 0,
    reconnectTime: 0,
  });
  const [, { port }] = await listening;
  t.teardown(() => b.stop());

  const bfd = new ScriptedBfd();
  const clock = manualClock(1_000_000);
  const a = new Speaker({ localAs: 64496, bgpId: '192.0.2.1', bfd, clock });
  a.on('error', () => {});
  a.announce('203.0.113.10/32');
  const up = next(b, 'routesReceived', (_id, r) => r.announced === 1);
  a.addPeer('b', {
    peerAddress: '127.0.0.1',
    peerPort: port,
    localAddress: '127.0.0.1',
    peerAs: 64497,
    bfd: { profile: { name: 'fast', receiveInterval: 50, transmitInterval: 50 } },
  });
  t.teardown(() => a.stop());
  t.strictSame(
    [...bfd.sessions.values()],
    [
      {
        peerAddress: '127.0.0.1',
        localAddress: '127.0.0.1',
        profile: { name: 'fast', receiveInterval: 50, transmitInterval: 50 },
      },
    ],
    'one BFD session for the peer',
  );
  await up;
  t.equal(b.adjRibIn('a')?.length, 1, 'the VIP is announced');

  bfd.change(1, 'Down', 'Init');
  bfd.change(1, 'Init', 'Up');
  t.match(
    a.peers()[0],
    { state: 'Established', bfd: { state: 'Up', holding: false } },
    'BFD coming Up does nothing to an Established session',
  );

  const bDown = next(b, 'down');
  const event = next(a, 'bfd', (_id, change) => change.to === 'Down');
  bfd.change(1, 'Up', 'Down', 1);
  t.strictSame((await event).slice(1), [{ from: 'Up', to: 'Down', diag: 1 }, 'torn-down']);
  const [, reason] = await bDown;
  t.equal(reason.notification?.code, 6);
  t.equal(reason.notification?.subcode, 10, 'Cease 10, BFD Down');
  t.equal(b.adjRibIn('a')?.length, 0, "the router side dropped A's route");
  t.match(a.peers()[0], { state: 'Idle', bfd: { state: 'Down', holding: true } });

  clock.advance(3_600_000); // an hour of back-off and retry timers: nothing restarts the session
  t.equal(a.peers()[0]?.state, 'Idle', 'held down while BFD is Down');

  bfd.change(1, 'Down', 'AdminDown');
  t.equal(a.peers()[0]?.state, 'Idle', 'AdminDown is not Up');
  const back = next(b, 'routesReceived', (_id, r) => r.announced === 1);
  bfd.change(1, 'AdminDown', 'Up');
  await back;
  t.match(a.peers()[0], { state: 'Established', bfd: { state: 'Up', holding: false } }, 'back once BFD is Up');

  // The peer's AdminDown is not a failure (RFC 5882 3.2): the session stays.
  bfd.change(1, 'Up', 'AdminDown');
  t.equal(a.peers()[0]?.state, 'Established');

  await a.removePeer('b');
  t.strictSame(bfd.removed, [1], 'removing the peer removes its BFD session');
});

t.test('a peer requiring BFD needs an engine and a local address', async (t) => {
  const plain = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  t.throws(
    () => plain.addPeer('x', { peerAddress: '192.0.2.2', peerAs: 64497, bfd: {} }),
    /requires BFD, but the Speaker has no BFD engine/,
  );
  const withBfd = new Speaker({ localAs: 64496, bgpId: '192.0.2.1', bfd: new ScriptedBfd() });
  t.throws(
    () => withBfd.addPeer('x', { peerAddress: '192.0.2.2', peerAs: 64497, bfd: {} }),
    /BFD needs a local address/,
  );
  t.same(withBfd.peers(), [], 'nothing half made');
  await Promise.all([plain.stop(), withBfd.stop()]);
});

t.test('bfdSessionOptions: the peer BFD options as the engine takes them, port included', async (t) => {
  const { bfdSessionOptions } = await import('../src/speaker-bfd.js');
  t.strictSame(bfdSessionOptions('rtr', '192.0.2.1', '192.0.2.10', { multihop: true, port: 14784 }), {
    peerAddress: '192.0.2.1',
    localAddress: '192.0.2.10',
    multihop: true,
    port: 14784,
  });
  t.strictSame(
    bfdSessionOptions('rtr', '192.0.2.1', undefined, { localAddress: '192.0.2.11' }),
    { peerAddress: '192.0.2.1', localAddress: '192.0.2.11' },
    'bfd.localAddress when the peer has none',
  );
  t.throws(() => bfdSessionOptions('rtr', '192.0.2.1', undefined, {}), /BFD needs a local address/);
});
