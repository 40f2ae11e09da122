// peerOptionsFor (a BGPPeer and the BFD profiles as the Speaker's PeerOptions) checked field by field,
// and applyPeers against a real Speaker: adds, updates (a dropped option is cleared), removals, and
// failures that are reported without stopping the other peers. The peers are passive on 127.0.0.1 with
// documentation peer addresses, so nothing is sent anywhere.
import t from 'tap';
import { BFD_PROFILE_DEFAULTS, type BfdProfile } from '@bgp-announce/bfd';
import { GRACEFUL_RESTART_TIME, applyPeers, peerOptionsFor } from '../src/daemon/peer-options.js';
import { Speaker, type PeerOptions } from '@bgp-announce/bgp-speaker';
import type { BGPPeer } from '../src/config/types.js';
import { peerConfig } from '@bgp-announce/bgp-speaker';
import { validateConfig } from '../src/config/validate.js';

function bgpPeer(fields: Partial<BGPPeer> = {}): BGPPeer {
  return {
    name: 'tor-a',
    myASN: 64500,
    peerASN: 64501,
    peerAddress: '192.0.2.1',
    peerPort: 179,
    holdTime: 90,
    keepaliveTime: 30,
    connectTime: 120,
    connectionMode: 'active',
    ebgpMultiHop: false,
    enableGracefulRestart: false,
    nodeSelectors: [],
    ...fields,
  };
}

const fast: BfdProfile = { ...BFD_PROFILE_DEFAULTS, name: 'fast', receiveInterval: 100, transmitInterval: 100 };
const ctx = { bfdProfiles: [fast], nodeAddresses: ['198.51.100.7', '2001:db8::7'] };

t.test('peerOptionsFor: the plain fields, IPv4 and IPv6 families', async (t) => {
  t.same(peerOptionsFor(bgpPeer(), ctx), {
    peerAddress: '192.0.2.1',
    peerPort: 179,
    peerAs: 64501,
    localAs: 64500,
    holdTime: 90,
    keepaliveTime: 30,
    connectRetryTime: 120,
    mode: 'active',
    families: ['ipv4-unicast'],
  });
  const v6 = peerOptionsFor(bgpPeer({ peerAddress: '2001:db8::1', peerPort: 1179 }), ctx);
  t.same(v6.families, ['ipv6-unicast'], 'an IPv6 session carries IPv6 VIPs');
  t.equal(v6.peerPort, 1179);
  const own = peerOptionsFor(bgpPeer({ routerID: '192.0.2.99', sourceAddress: '198.51.100.7' }), ctx);
  t.equal(own.bgpId, '192.0.2.99', 'routerID is our identifier on this session');
  t.equal(own.localAddress, '198.51.100.7', 'sourceAddress is our address on the session');
  t.notOk('bgpId' in peerOptionsFor(bgpPeer(), ctx), 'no routerID: the Speaker identifier (no bgpId key)');
  t.notOk('listen' in peerOptionsFor(bgpPeer(), ctx), 'active: no listener');
  // Whatever it produces must be what the session layer accepts.
  const o = peerOptionsFor(bgpPeer(), ctx);
  t.doesNotThrow(() => peerConfig({ ...o, localAs: o.localAs ?? 1, bgpId: '192.0.2.9' }));
});

t.test('peerOptionsFor: holdTime 0 (no keepalives) gives options the Speaker accepts', async (t) => {
  // The config validation accepts holdTime 0s and makes keepaliveTime 0; the Speaker must accept that peer.
  const { config, problems } = validateConfig([
    {
      apiVersion: 'bgp-announce.io/v1alpha1',
      kind: 'BGPPeer',
      metadata: { name: 'tor-a' },
      spec: { myASN: 64500, peerASN: 64501, peerAddress: '192.0.2.1', holdTime: '0s' },
    },
  ]);
  t.same(problems, []);
  t.match(config.peers[0], { holdTime: 0, keepaliveTime: 0 });
  const o = peerOptionsFor(config.peers[0]!, ctx);
  t.equal(o.holdTime, 0);
  t.notOk('keepaliveTime' in o, 'no keepalive time: none are sent');
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  t.teardown(() => speaker.stop());
  t.doesNotThrow(() =>
    speaker.addPeer('p', { ...o, peerAddress: '192.0.2.1', mode: 'passive', listen: { host: '127.0.0.1', port: 0 } }),
  );
});

t.test('peerOptionsFor: listen in passive and both mode', async (t) => {
  t.same(peerOptionsFor(bgpPeer({ connectionMode: 'passive' }), ctx).listen, { port: 179 }, 'all addresses, port 179');
  t.same(
    peerOptionsFor(bgpPeer({ connectionMode: 'both', sourceAddress: '198.51.100.7' }), ctx).listen,
    { host: '198.51.100.7', port: 179 },
    'on the source address',
  );
  t.same(
    peerOptionsFor(
      bgpPeer({
        connectionMode: 'passive',
        sourceAddress: '198.51.100.7',
        listenAddress: '198.51.100.8',
        listenPort: 1790,
      }),
      ctx,
    ).listen,
    { host: '198.51.100.8', port: 1790 },
    'listenAddress and listenPort win',
  );
  t.equal(peerOptionsFor(bgpPeer({ connectionMode: 'passive' }), ctx).mode, 'passive');
});

t.test('peerOptionsFor: MD5, eBGP multihop, graceful restart', async (t) => {
  const o = peerOptionsFor(bgpPeer({ password: 's3cret', ebgpMultiHop: true, enableGracefulRestart: true }), ctx);
  t.equal(o.md5Password, 's3cret');
  t.equal(o.ebgpMultihop, 255, 'multihop sends with TTL 255');
  t.equal(GRACEFUL_RESTART_TIME, 120);
  t.strictSame(
    o.gracefulRestart,
    { restartTime: 120, notification: true, forwardingState: ['ipv4-unicast'] },
    'F bit for the session family: kube-proxy keeps forwarding while we restart',
  );
  const plain = peerOptionsFor(bgpPeer(), ctx);
  for (const key of ['md5Password', 'ebgpMultihop', 'gracefulRestart', 'bfd'] as const)
    t.notOk(key in plain, `no ${key} unless asked`);
});

t.test('peerOptionsFor: gracefulShutdownWhenUnschedulable adds 65535:0 while the node is cordoned', async (t) => {
  const opted = bgpPeer({ gracefulShutdownWhenUnschedulable: true });
  t.strictSame(peerOptionsFor(opted, { ...ctx, unschedulable: true }).communities, ['graceful-shutdown']);
  t.notOk('communities' in peerOptionsFor(opted, { ...ctx, unschedulable: false }), 'uncordoned: normal routes');
  t.notOk('communities' in peerOptionsFor(opted, ctx), 'no Node seen: normal routes');
  t.notOk(
    'communities' in peerOptionsFor(bgpPeer(), { ...ctx, unschedulable: true }),
    'not opted in: a cordon changes nothing',
  );
  // A route policy change: the Speaker re-sends the routes on the running session, no new session.
  const speaker = new Speaker({ localAs: 64500, bgpId: '192.0.2.9' });
  t.teardown(() => speaker.stop());
  const passive = { connectionMode: 'passive' as const, listenAddress: '127.0.0.1', listenPort: 0 };
  const current = new Map<string, PeerOptions>();
  await applyPeers(
    speaker,
    new Map([['tor-a', peerOptionsFor(bgpPeer({ ...passive, gracefulShutdownWhenUnschedulable: true }), ctx)]]),
    current,
  );
  const states: string[] = [];
  speaker.on('peerState', (_id, to) => states.push(to));
  const cordoned = peerOptionsFor(bgpPeer({ ...passive, gracefulShutdownWhenUnschedulable: true }), {
    ...ctx,
    unschedulable: true,
  });
  const changes = await applyPeers(speaker, new Map([['tor-a', cordoned]]), current);
  t.strictSame(changes.updated, ['tor-a']);
  t.strictSame(states, [], 'the session was not stopped and re-created');
});

t.test('peerOptionsFor: BFD with the profile and a source address of the peer family', async (t) => {
  const withSource = peerOptionsFor(bgpPeer({ bfdProfile: 'fast', sourceAddress: '198.51.100.20' }), ctx);
  t.same(withSource.bfd, { profile: fast, multihop: false, localAddress: '198.51.100.20' }, 'sourceAddress first');
  t.not(withSource.bfd?.profile, fast, 'a copy of the profile, not the shared object');
  t.same(
    peerOptionsFor(bgpPeer({ bfdProfile: 'fast' }), ctx).bfd?.localAddress,
    '198.51.100.7',
    'the node IPv4 address for an IPv4 peer',
  );
  t.same(
    peerOptionsFor(bgpPeer({ bfdProfile: 'fast', peerAddress: '2001:db8::1' }), ctx).bfd?.localAddress,
    '2001:db8::7',
    'the node IPv6 address for an IPv6 peer',
  );
  t.equal(
    peerOptionsFor(bgpPeer({ bfdProfile: 'fast', ebgpMultiHop: true }), ctx).bfd?.multihop,
    true,
    'multihop BFD with eBGP multihop',
  );

  t.throws(() => peerOptionsFor(bgpPeer({ bfdProfile: 'slow' }), ctx), {
    message: 'BGPPeer tor-a: BFD profile "slow" does not exist',
  });
  t.throws(
    () =>
      peerOptionsFor(bgpPeer({ bfdProfile: 'fast', peerAddress: '2001:db8::1' }), {
        bfdProfiles: [fast],
        nodeAddresses: ['198.51.100.7'],
      }),
    {
      message:
        /^BGPPeer tor-a: BFD needs our address of the peer's family; set spec.sourceAddress or give the node an IPv6 address$/,
    },
  );
  t.throws(() => peerOptionsFor(bgpPeer({ bfdProfile: 'fast' }), { bfdProfiles: [fast], nodeAddresses: [] }), {
    message: /an IPv4 address$/,
  });
});

/** Options of a passive peer at a documentation address: a listener on 127.0.0.1, no connection out. */
function passive(peerAddress: string, extra: Partial<PeerOptions> = {}): PeerOptions {
  return { peerAddress, peerAs: 64501, mode: 'passive', listen: { host: '127.0.0.1', port: 0 }, ...extra };
}

const ids = (speaker: Speaker): string[] =>
  speaker
    .peers()
    .map((p) => p.id)
    .sort();

t.test('applyPeers: add, no-op, update (a dropped option is cleared), remove', async (t) => {
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' });
  t.teardown(() => speaker.stop());
  const current = new Map<string, PeerOptions>();

  let changes = await applyPeers(
    speaker,
    new Map([
      ['a', passive('192.0.2.10')],
      ['b', passive('192.0.2.11')],
    ]),
    current,
  );
  t.same(changes, { added: ['a', 'b'], updated: [], removed: [], failed: [] });
  t.same(ids(speaker), ['a', 'b']);
  t.same([...current.keys()].sort(), ['a', 'b']);

  changes = await applyPeers(
    speaker,
    new Map([
      ['a', passive('192.0.2.10')],
      ['b', passive('192.0.2.11')],
    ]),
    current,
  );
  t.same(changes, { added: [], updated: [], removed: [], failed: [] }, 'equal options (new objects): nothing to do');

  changes = await applyPeers(
    speaker,
    new Map([
      ['a', passive('192.0.2.10', { localAs: 64510, bgpId: '192.0.2.77' })],
      ['b', passive('192.0.2.11')],
    ]),
    current,
  );
  t.same(changes, { added: [], updated: ['a'], removed: [], failed: [] });
  let a = speaker.peers().find((p) => p.id === 'a');
  t.equal(a?.localAs, 64510);
  t.equal(a?.bgpId, '192.0.2.77');

  changes = await applyPeers(
    speaker,
    new Map([
      ['a', passive('192.0.2.10')],
      ['b', passive('192.0.2.11')],
    ]),
    current,
  );
  t.same(changes.updated, ['a'], 'dropping options is a change');
  a = speaker.peers().find((p) => p.id === 'a');
  t.equal(a?.localAs, 64496, 'localAs cleared: the Speaker AS again');
  t.equal(a?.bgpId, '192.0.2.1', 'bgpId cleared: the Speaker identifier again');
  t.same(current.get('a'), passive('192.0.2.10'), 'current holds what was applied');

  changes = await applyPeers(speaker, new Map([['a', passive('192.0.2.10')]]), current);
  t.same(changes, { added: [], updated: [], removed: ['b'], failed: [] });
  t.same(ids(speaker), ['a']);
  t.same([...current.keys()], ['a']);
});

t.test('applyPeers: a peer that cannot be added or changed is reported; the others still are', async (t) => {
  const speaker = new Speaker({ localAs: 64496, bgpId: '192.0.2.1' }); // no BFD engine
  t.teardown(() => speaker.stop());
  const current = new Map<string, PeerOptions>();
  const bfdPeer = passive('192.0.2.12', { bfd: { profile: { name: 'fast' }, localAddress: '198.51.100.7' } });
  let changes = await applyPeers(
    speaker,
    new Map([
      ['a', passive('192.0.2.10')],
      ['c', bfdPeer],
      ['d', passive('192.0.2.13')],
    ]),
    current,
  );
  t.same(changes.added, ['a', 'd']);
  t.equal(changes.failed.length, 1);
  t.equal(changes.failed[0]?.id, 'c');
  t.match(changes.failed[0]?.error, /requires BFD, but the Speaker has no BFD engine/);
  t.same(ids(speaker), ['a', 'd']);
  t.notOk(current.has('c'), 'a failed add is not remembered, so the next apply tries again');

  // An update that fails half way (the session is re-created with a hold time the RFC forbids).
  changes = await applyPeers(
    speaker,
    new Map([
      ['a', passive('192.0.2.10', { holdTime: 2 })],
      ['c', passive('192.0.2.12')],
      ['d', passive('192.0.2.13', { localAs: 64520 })],
    ]),
    current,
  );
  t.same(changes.added, ['c'], 'c fixed: added');
  t.same(changes.updated, ['d'], 'd still updated');
  t.same(
    changes.failed.map((f) => f.id),
    ['a'],
  );
  t.match(changes.failed[0]?.error, /holdTime 2/);
  t.same(ids(speaker), ['c', 'd'], 'a is gone from the Speaker');
  t.notOk(current.has('a'), 'and forgotten, so the next apply adds it');

  changes = await applyPeers(
    speaker,
    new Map([
      ['a', passive('192.0.2.10')],
      ['c', passive('192.0.2.12')],
      ['d', passive('192.0.2.13', { localAs: 64520 })],
    ]),
    current,
  );
  t.same(changes, { added: ['a'], updated: [], removed: [], failed: [] });
  t.same(ids(speaker), ['a', 'c', 'd']);
});
