// The per-peer message log: a ring of the last N messages, decoded for people, recorded by the
// session driver on both directions and shown by Speaker.recentMessages.
import t from 'tap';
import { encodeMessage, type UpdateMessage } from '@bgp-announce/bgp-wire';
import { MessageLog, describeMessage } from '../src/session/message-log.js';
import { Speaker } from '../src/speaker.js';
import { SessionDriver } from '../src/session/driver.js';
import { peerConfig } from '../src/session/config.js';
import { next } from './helpers/events.js';

const keepalive = () => encodeMessage({ type: 'KEEPALIVE' });

t.test('the ring keeps the last N messages, oldest first', async (t) => {
  const log = new MessageLog(3);
  t.strictSame(log.entries(), []);
  for (let i = 1; i <= 5; i++) log.record(i % 2 === 0 ? 'received' : 'sent', keepalive(), undefined, i * 1000);
  t.strictSame(
    log.entries().map((e) => [e.at, e.direction]),
    [
      [3000, 'sent'],
      [4000, 'received'],
      [5000, 'sent'],
    ],
  );
  t.throws(() => new MessageLog(0), RangeError);
  t.throws(() => new MessageLog(1.5), RangeError);
});

t.test('a message that does not decode shows its error and bytes', async (t) => {
  const log = new MessageLog(2);
  const bad = keepalive();
  bad[0] = 0; // marker broken
  log.record('received', bad, undefined, Date.UTC(2026, 10, 23, 12, 0, 0));
  log.record('sent', keepalive(), undefined, Date.UTC(2026, 10, 23, 12, 0, 1));
  const [first, second] = log.entries().map(describeMessage);
  t.equal(first?.at, '2026-11-23T12:00:00.000Z');
  t.equal(first?.message, undefined);
  t.match(first?.error, /marker/i);
  t.equal(first?.hex, '00' + 'ff'.repeat(15) + '001304');
  t.equal(second?.message?.type, 'KEEPALIVE');
  t.equal(second?.length, 19);
});

t.test('Speaker.recentMessages: OPEN, KEEPALIVE and UPDATE both ways, kept across updatePeer', async (t) => {
  const router = new SessionDriver({
    config: peerConfig({ localAs: 64497, peerAs: 64496, bgpId: '192.0.2.2', mode: 'passive' }),
    peerAddress: '127.0.0.1',
    listen: { host: '127.0.0.1', port: 0 },
  });
  router.on('error', () => {});
  const listening = next(router, 'listening');
  router.start();
  const [{ port }] = (await listening) as [{ port: number }];
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1', messageHistory: 8 });
  t.teardown(async () => {
    await speaker.stop();
    await router.stop();
  });
  t.equal(new Speaker({ localAs: 64496, bgpId: '192.0.2.1' }).recentMessages('rtr'), undefined, 'no such peer');
  speaker.announce('192.0.2.0/24');
  const update = next(router, 'update', (u: UpdateMessage) => u.nlri.some((n) => n.prefix === '192.0.2.0/24'));
  speaker.addPeer('rtr', { peerAddress: '127.0.0.1', peerPort: port, peerAs: 64497 });
  await update;
  const seen = speaker.recentMessages('rtr') ?? [];
  const sent = seen.filter((m) => m.direction === 'sent').map((m) => m.message?.type);
  const received = seen.filter((m) => m.direction === 'received').map((m) => m.message?.type);
  t.equal(sent[0], 'OPEN', 'our OPEN first');
  t.ok(sent.includes('UPDATE'), 'our UPDATE recorded');
  t.equal(received[0], 'OPEN', "the router's OPEN");
  t.ok(received.includes('KEEPALIVE'));
  const open = seen.find((m) => m.direction === 'received' && m.message?.type === 'OPEN')?.message;
  t.equal(open?.type === 'OPEN' ? open.myAs : undefined, 64497, 'decoded with its fields');
  const ourUpdate = seen.find((m) => m.direction === 'sent' && m.message?.type === 'UPDATE')?.message;
  t.strictSame(ourUpdate?.type === 'UPDATE' ? ourUpdate.nlri.map((n) => n.prefix) : [], ['192.0.2.0/24']);
  const before = seen.length;
  await speaker.updatePeer('rtr', { holdTime: 30 }); // a session change: the session is re-created
  t.ok((speaker.recentMessages('rtr') ?? []).length >= before, 'the log survives the re-creation');
});
