// `bgp-announce status` formatting: admin endpoint views written here by hand, lines checked whole.
import t from 'tap';
import type { MessagesView, PeerView, RoutesView, StatusView } from '@bgp-announce/announcer';
import {
  formatDuration,
  formatMessages,
  formatPeer,
  formatRoutes,
  formatStatus,
  messageSummary,
  table,
} from '../src/status-output.js';

const counters = {
  opensIn: 1,
  opensOut: 1,
  updatesIn: 2,
  updatesOut: 3,
  keepalivesIn: 4,
  keepalivesOut: 5,
  notificationsIn: 0,
  notificationsOut: 0,
  routeRefreshesIn: 0,
  establishedTransitions: 1,
};

const up: PeerView = {
  id: 'tor-a',
  peerAddress: '192.0.2.254',
  peerAs: 64497,
  localAs: 64496,
  bgpId: '192.0.2.1',
  localAddress: '192.0.2.1',
  state: 'Established',
  establishedAt: '2025-01-02T03:04:05.000Z',
  uptimeSeconds: 3725,
  session: {
    peerBgpId: '192.0.2.254',
    ibgp: false,
    holdTime: 90,
    keepaliveTime: 30,
    families: ['ipv4-unicast'],
    capabilities: ['4-octet-as', 'route-refresh'],
    gracefulRestart: { restartTime: 120, notification: true, families: ['ipv4-unicast'] },
  },
  prefixes: { advertised: 3, received: 1 },
  messages: counters,
  bfd: { state: 'Up', holding: false },
};
const down: PeerView = {
  id: 'tor-b',
  peerAddress: '2001:db8::fe',
  peerAs: 64498,
  localAs: 64496,
  bgpId: '192.0.2.1',
  state: 'Active',
  prefixes: { advertised: 0, received: 0 },
  messages: { ...counters, updatesIn: 0, updatesOut: 0 },
  lastDown: {
    at: '2025-01-02T03:00:00.000Z',
    state: 'OpenSent',
    kind: 'notification-received',
    reason: 'peer refused our OPEN',
    notification: { code: 2, subcode: 2, name: 'OPEN Message Error/Bad Peer AS' },
    failure: 'protocol',
    retryAfterSeconds: 8,
  },
};

t.test('durations and tables', async (t) => {
  t.same([0, 12, 61, 3725, 90061].map(formatDuration), ['0s', '12s', '1m01s', '1h02m', '1d01h']);
  t.same(
    table([
      ['A', 'BB', 'C'],
      ['long', 'x', 'last column not padded'],
    ]),
    ['A     BB  C', 'long  x   last column not padded'],
  );
});

t.test('the peer table', async (t) => {
  const status: StatusView = {
    node: 'node-a',
    routerId: '192.0.2.1',
    localAs: 23456,
    startedAt: '2025-01-02T00:00:00.000Z',
    uptimeSeconds: 7300,
    ready: true,
    stopping: false,
    peers: [up, down],
    bfd: null,
    source: {},
  };
  t.same(formatStatus(status), [
    'node node-a  router id 192.0.2.1  up 2h01m  ready',
    'PEER   ADDRESS       AS     STATE        UPTIME  ADV  RCV  BFD  LAST DOWN',
    'tor-a  192.0.2.254   64497  Established  1h02m   3    1    Up',
    'tor-b  2001:db8::fe  64498  Active       -       0    0    -    2025-01-02 03:00:00 in OpenSent: peer refused our OPEN (NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS received); protocol error: backing off 8 s before the next attempt',
  ]);
  t.same(
    formatStatus({
      ...status,
      ready: false,
      notReadyBecause: 'the route source has not applied its first configuration yet',
      peers: [],
    }),
    [
      'node node-a  router id 192.0.2.1  up 2h01m  not ready (the route source has not applied its first configuration yet)',
      'no peers',
    ],
  );
});

t.test('one peer in detail, and its routes', async (t) => {
  t.same(formatPeer(up), [
    'peer tor-a: 192.0.2.254 AS 64497; we are AS 64496, router id 192.0.2.1, from 192.0.2.1',
    '  state Established for 1h02m (since 2025-01-02T03:04:05.000Z)',
    '  peer router id 192.0.2.254, eBGP, hold time 90 s, keepalive 30 s',
    '  families ipv4-unicast',
    '  capabilities 4-octet-as route-refresh',
    "  peer's graceful restart: restart time 120 s, N bit on, families ipv4-unicast",
    '  prefixes advertised 3, received 1',
    '  messages in/out: UPDATE 2/3, NOTIFICATION 0/0, KEEPALIVE 4/5, OPEN 1/1; established 1 times',
    '  BFD Up',
  ]);
  const routes: RoutesView = {
    peer: 'tor-a',
    advertised: [
      {
        family: 'ipv4-unicast',
        prefix: '203.0.113.10/32',
        nextHop: '192.0.2.1',
        asPath: '64496',
        origin: 'igp',
        communities: ['64496:100', '65535:0'],
      },
      { family: 'ipv4-unicast', prefix: '203.0.113.11/32', nextHop: '192.0.2.1', asPath: '64496', origin: 'igp' },
    ],
    received: [
      {
        family: 'ipv4-unicast',
        prefix: '0.0.0.0/0',
        nextHop: '192.0.2.254',
        asPath: '64497 64511',
        origin: 'igp',
        med: 5,
        stale: true,
      },
    ],
    counts: { advertised: 3, received: 1 },
    limit: 2,
  };
  t.same(formatRoutes(routes), [
    'advertised (3, first 2 shown):',
    '  PREFIX           NEXT HOP   AS PATH  ATTRIBUTES',
    '  203.0.113.10/32  192.0.2.1  64496    origin igp, communities 64496:100 65535:0',
    '  203.0.113.11/32  192.0.2.1  64496    origin igp',
    'received (1):',
    '  PREFIX     NEXT HOP     AS PATH      ATTRIBUTES',
    '  0.0.0.0/0  192.0.2.254  64497 64511  origin igp, med 5, STALE (peer restarting)',
  ]);
});

t.test('AS loops (our AS in the AS path, RFC 4271 9.1.2): counted on the peer, marked on the route', async (t) => {
  t.equal(
    formatPeer({ ...up, prefixes: { advertised: 3, received: 2, receivedAsLoop: 1 } }).find((l) =>
      l.includes('prefixes'),
    ),
    '  prefixes advertised 3, received 2 (1 with our AS in the AS path: not eligible, RFC 4271 9.1.2)',
  );
  const routes: RoutesView = {
    peer: 'tor-a',
    advertised: [],
    received: [
      {
        family: 'ipv4-unicast',
        prefix: '203.0.113.10/32',
        nextHop: '192.0.2.254',
        asPath: '64497 64496',
        origin: 'igp',
        asLoop: true,
      },
    ],
    counts: { advertised: 0, received: 1 },
    limit: 10,
  };
  t.same(formatRoutes(routes), [
    'advertised (0):',
    'received (1):',
    '  PREFIX           NEXT HOP     AS PATH      ATTRIBUTES',
    '  203.0.113.10/32  192.0.2.254  64497 64496  origin igp, AS-LOOP (our AS is in the AS path: not eligible)',
  ]);
});

t.test('routes with a link-local next hop and route reflection attributes', async (t) => {
  const routes: RoutesView = {
    peer: 'rr',
    advertised: [],
    received: [
      {
        family: 'ipv6-unicast',
        prefix: '2001:db8:1::/48',
        pathId: 4,
        nextHop: '2001:db8::fe',
        linkLocalNextHop: 'fe80::fe',
        asPath: '',
        origin: 'igp',
        localPref: 100,
        originatorId: '192.0.2.9',
        clusterList: ['192.0.2.10', '192.0.2.11'],
      },
    ],
    counts: { advertised: 0, received: 1 },
    limit: 1000,
  };
  t.same(formatRoutes(routes), [
    'advertised (0):',
    'received (1):',
    '  PREFIX                     NEXT HOP                 AS PATH  ATTRIBUTES',
    '  2001:db8:1::/48 path-id 4  2001:db8::fe (fe80::fe)  (empty)  origin igp, local-pref 100, originator-id 192.0.2.9, cluster-list 192.0.2.10 192.0.2.11',
  ]);
});

t.test('messages: one line each, BGP and BFD merged by time', async (t) => {
  const view: MessagesView = {
    peer: 'tor-a',
    note: '',
    bgp: [
      {
        at: '2025-01-02T03:04:05.100Z',
        direction: 'sent',
        length: 60,
        message: {
          type: 'OPEN',
          version: 4,
          myAs: 64496,
          holdTime: 90,
          bgpId: '192.0.2.1',
          capabilities: [
            { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
            { code: 2, name: 'route-refresh' },
            { code: 65, name: 'four-octet-as', asn: 64496 },
            {
              code: 64,
              name: 'graceful-restart',
              restarting: false,
              notification: true,
              restartTime: 120,
              families: [],
            },
          ],
        },
      },
      {
        at: '2025-01-02T03:04:05.300Z',
        direction: 'sent',
        length: 70,
        message: {
          type: 'UPDATE',
          withdrawn: [{ prefix: '198.51.100.0/24' }],
          attributes: {
            origin: 'igp',
            asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }],
            nextHop: '192.0.2.1',
            communities: ['65535:0'],
          },
          nlri: [{ prefix: '203.0.113.10/32' }],
        },
      },
      {
        at: '2025-01-02T03:04:05.400Z',
        direction: 'received',
        length: 30,
        message: {
          type: 'UPDATE',
          withdrawn: [],
          attributes: { mpUnreach: { afi: 1, safi: 1, withdrawn: [] } },
          nlri: [],
          endOfRib: { afi: 1, safi: 1 },
        },
      },
      {
        at: '2025-01-02T03:04:09.000Z',
        direction: 'received',
        length: 50,
        message: { type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'maintenance' },
      },
      { at: '2025-01-02T03:04:10.000Z', direction: 'received', length: 19, error: 'bad marker', hex: 'ff'.repeat(19) },
    ],
    bfd: [
      { at: '2025-01-02T03:04:05.200Z', from: 'Init', to: 'Up', diag: 0 },
      { at: '2025-01-02T03:04:08.000Z', from: 'Up', to: 'Down', diag: 1, outcome: 'torn-down' },
    ],
  };
  t.same(formatMessages(view), [
    'peer tor-a: last 5 BGP messages and 2 BFD state changes (UTC)',
    '  03:04:05.100 sent     OPEN AS 64496 id 192.0.2.1 hold 90 s: ipv4-unicast route-refresh 4-octet-as 64496 graceful-restart 120s N',
    '  03:04:05.200 bfd      BFD Init -> Up (diag: No Diagnostic)',
    '  03:04:05.300 sent     UPDATE withdraw 198.51.100.0/24 announce 203.0.113.10/32 next-hop 192.0.2.1 as-path 64496 origin igp communities 65535:0',
    '  03:04:05.400 received UPDATE End-of-RIB ipv4-unicast',
    '  03:04:08.000 bfd      BFD Up -> Down (diag: Control Detection Time Expired): BGP session torn down until BFD is Up again',
    '  03:04:09.000 received NOTIFICATION 6/2 Cease/Administrative Shutdown ("maintenance")',
    `  03:04:10.000 received undecodable message of 19 bytes: bad marker (${'ff'.repeat(19)})`,
  ]);
  t.same(formatMessages({ peer: 'x', note: '', bgp: [], bfd: [] }), [
    'peer x: no messages recorded (the daemon keeps the last --message-history of each peer; 0 keeps none)',
  ]);
  const many = Array.from({ length: 10 }, (_, i) => ({ prefix: `203.0.113.${i}/32` }));
  t.equal(
    messageSummary({ type: 'UPDATE', withdrawn: many, attributes: {}, nlri: [] }),
    'UPDATE withdraw 203.0.113.0/32 203.0.113.1/32 203.0.113.2/32 203.0.113.3/32 203.0.113.4/32 203.0.113.5/32 203.0.113.6/32 203.0.113.7/32 (+2 more)',
  );
  t.equal(messageSummary({ type: 'ROUTE-REFRESH', afi: 2, safi: 1, subtype: 1 }), 'ROUTE-REFRESH ipv6-unicast BoRR');
  t.equal(messageSummary({ type: 'KEEPALIVE' }), 'KEEPALIVE');
});
