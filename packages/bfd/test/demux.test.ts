// RFC 5880 6.8.6 demultiplexing: by Your Discriminator when it is non-zero (and only for the session's
// own path), by source/destination address, kind and interface when it is zero.
import t from 'tap';
import { BfdDemux, bfdPathKey, canonicalAddress, type BfdPath } from '../src/demux.js';

const v4: BfdPath = { multihop: false, peerAddress: '192.0.2.2', localAddress: '192.0.2.1' };
const v6: BfdPath = { multihop: false, peerAddress: '2001:db8::2', localAddress: '2001:db8::1' };
const v4multihop: BfdPath = { multihop: true, peerAddress: '192.0.2.2', localAddress: '192.0.2.1' };
const linkLocalEth0: BfdPath = { multihop: false, peerAddress: 'fe80::2', localAddress: 'fe80::1', interface: 'eth0' };
const linkLocalEth1: BfdPath = { ...linkLocalEth0, interface: 'eth1' };

t.test('canonical addresses', async (t) => {
  t.equal(canonicalAddress('2001:DB8:0:0::1'), '2001:db8::1');
  t.equal(canonicalAddress('2001:db8:0:0:1:0:0:1'), '2001:db8::1:0:0:1', 'RFC 5952: the first longest run of zeros');
  t.equal(canonicalAddress('fe80::1%eth0'), 'fe80::1', 'the zone is not part of the address');
  t.equal(canonicalAddress('192.0.2.1'), '192.0.2.1');
  t.throws(() => canonicalAddress('192.0.2.256'), TypeError);
  t.throws(() => canonicalAddress('example.com'), /not an IPv4 or IPv6 address/);
  t.equal(bfdPathKey({ ...v6, peerAddress: '2001:0DB8::0002' }), bfdPathKey(v6), 'paths compare by canonical address');
  t.not(bfdPathKey(v4), bfdPathKey(v4multihop), 'single hop and multihop are different paths');
});

t.test('Your Discriminator selects the session, but only from its own path', async (t) => {
  const d = new BfdDemux<string>();
  d.add(100, v4, 'v4');
  d.add(200, v6, 'v6');
  d.add(300, v4multihop, 'v4 multihop');
  t.equal(d.size, 3);
  t.same(d.lookup(100, v4), { session: 'v4' });
  t.same(
    d.lookup(200, { ...v6, peerAddress: '2001:DB8::2' }),
    { session: 'v6' },
    'the source address in another spelling',
  );
  t.same(d.lookup(300, v4multihop), { session: 'v4 multihop' });
  t.match(d.lookup(999, v4), { session: undefined, reason: /no session has discriminator 999/ });
  t.match(d.lookup(100, { ...v4, peerAddress: '192.0.2.3' }), {
    session: undefined,
    reason: /discriminator 100 is the session 192\.0\.2\.2 -> 192\.0\.2\.1 .*not 192\.0\.2\.3/,
  });
  t.match(d.lookup(100, v4multihop), { session: undefined }, 'a single-hop discriminator on the multihop port');
  t.match(
    d.lookup(100, { ...v4, localAddress: '192.0.2.9' }),
    { session: undefined },
    'sent to another of our addresses',
  );
});

t.test('Your Discriminator 0: by path, interface included', async (t) => {
  const d = new BfdDemux<string>();
  d.add(1, v4, 'v4');
  d.add(2, v4multihop, 'v4 multihop');
  d.add(3, linkLocalEth0, 'eth0');
  d.add(4, linkLocalEth1, 'eth1');
  t.same(d.lookup(0, v4), { session: 'v4' });
  t.same(d.lookup(0, v4multihop), { session: 'v4 multihop' });
  t.same(
    d.lookup(0, linkLocalEth0),
    { session: 'eth0' },
    'the same link-local pair on two links: told apart by interface',
  );
  t.same(d.lookup(0, linkLocalEth1), { session: 'eth1' });
  t.match(d.lookup(0, { ...linkLocalEth0, interface: undefined }), {
    session: undefined,
    reason: /no session fe80::2 -> fe80::1 \(single hop\)/,
  });
  t.match(d.lookup(0, { ...v4, peerAddress: '198.51.100.1' }), { session: undefined });
  t.match(d.lookup(0, { ...v4, peerAddress: 'garbage' }), { session: undefined, reason: /not an IP address/ });
});

t.test('add and remove', async (t) => {
  const d = new BfdDemux<string>();
  d.add(1, v4, 'first');
  t.throws(() => d.add(1, v6, 'x'), /discriminator 1 is already in use/);
  t.throws(
    () => d.add(2, { ...v4, peerAddress: '192.0.2.2' }, 'x'),
    /a BFD session 192\.0\.2\.2 -> 192\.0\.2\.1 \(single hop\) already exists/,
  );
  t.ok(d.hasPath(v4));
  d.remove(1);
  t.notOk(d.hasPath(v4));
  t.match(d.lookup(1, v4), { session: undefined });
  t.match(d.lookup(0, v4), { session: undefined });
  d.remove(1); // twice is harmless
  d.add(2, v4, 'second');
  t.same(d.lookup(0, v4), { session: 'second' }, 'the path is free again');
});

t.test('allocateDiscriminator: non-zero, 32-bit, not in use', async (t) => {
  const d = new BfdDemux<string>();
  d.add(5, v4, 'x');
  const values = [0, 4 / 0xffffffff, 4.5 / 0xffffffff, 0.999999999999];
  const random = (): number => values.shift() ?? 0.5;
  t.equal(d.allocateDiscriminator(random), 1, 'random() 0 gives 1, never 0');
  t.equal(d.allocateDiscriminator(random), 0xffffffff, '5 is taken (twice drawn), the next draw is the largest value');
  t.equal(values.length, 0, 'every draw was used');
  t.equal(
    d.allocateDiscriminator(() => 1 - Number.EPSILON),
    0xffffffff,
    'random() just below 1 stays within 32 bits',
  );
});
