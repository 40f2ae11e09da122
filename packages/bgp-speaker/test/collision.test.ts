// Connection collision resolution (RFC 4271 6.8, RFC 6286 2.3).
import t from 'tap';
import { detectCollision, resolveCollision } from '../src/session/collision.js';

const ids = (localBgpId: string, peerBgpId: string, localAs = 64496, peerAs = 64497) => ({
  localBgpId,
  peerBgpId,
  localAs,
  peerAs,
});

t.test('the speaker with the higher identifier keeps the connection it opened', async (t) => {
  t.strictSame(
    resolveCollision(ids('192.0.2.1', '192.0.2.2')),
    { close: 'outbound', keep: 'inbound' },
    'ours lower: close ours',
  );
  t.strictSame(
    resolveCollision(ids('192.0.2.2', '192.0.2.1')),
    { close: 'inbound', keep: 'outbound' },
    'ours higher: close theirs',
  );
  // Compared as numbers, not text: "192.0.2.200" < "192.0.2.3" as strings, 200 > 3 as octets.
  t.strictSame(resolveCollision(ids('192.0.2.200', '192.0.2.3')).close, 'inbound');
  // Unsigned: 203.0.113.1 (0xcb007101) is above 198.51.100.1 even though its top bit is set.
  t.strictSame(resolveCollision(ids('203.0.113.1', '198.51.100.1')).close, 'inbound');
  t.strictSame(resolveCollision(ids('198.51.100.1', '203.0.113.1')).close, 'outbound');
});

t.test('equal identifiers (eBGP, RFC 6286): the larger AS keeps the connection it opened', async (t) => {
  t.strictSame(resolveCollision(ids('192.0.2.1', '192.0.2.1', 64496, 64497)).close, 'outbound');
  t.strictSame(resolveCollision(ids('192.0.2.1', '192.0.2.1', 65550, 64497)).close, 'inbound');
  t.throws(() => resolveCollision(ids('192.0.2.1', 'router-1')), TypeError);
});

t.test('when a collision applies, by the state of the other connection', async (t) => {
  const base = { openOn: 'inbound' as const, ...ids('192.0.2.1', '192.0.2.2') };
  for (const state of ['Idle', 'Connect', 'Active'] as const) {
    t.strictSame(detectCollision({ ...base, other: { state } }), { close: undefined }, `${state}: no collision`);
  }
  for (const state of ['OpenSent', 'OpenConfirm'] as const) {
    t.strictSame(
      detectCollision({ ...base, other: { state } }),
      { close: 'outbound' },
      `${state}: resolved by identifiers`,
    );
  }
  t.strictSame(
    detectCollision({ ...base, other: { state: 'Established' } }),
    { close: 'inbound' },
    'Established wins: close the new one',
  );
  t.strictSame(detectCollision({ ...base, openOn: 'outbound', other: { state: 'Established' } }), {
    close: 'outbound',
  });
  t.strictSame(detectCollision({ ...base, other: { state: 'Established' }, collisionDetectEstablished: true }), {
    close: 'outbound',
  });
});
