// `bgp-announce peer` output: events from UPDATEs, readable and JSON lines, and the failure sentences.
import t from 'tap';
import type { UpdateMessage } from '@bgp-announce/bgp-wire';
import { normalizeAttributes } from '@bgp-announce/bgp-speaker/rib';
import {
  advertisedEvent,
  downEvent,
  failureText,
  formatEvent,
  notificationText,
  socketErrorText,
  updateEvents,
  type PeerEvent,
} from '../src/peer-output.js';

const T = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const P = '192.0.2.1';

t.test('an UPDATE: withdrawals first, then announcements with their attributes', async (t) => {
  const update: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [{ prefix: '198.51.100.0/25' }],
    nlri: [{ prefix: '203.0.113.0/24' }, { prefix: '198.51.100.128/25', pathId: 7 }],
    attributes: {
      origin: 'igp',
      asPath: [
        { type: 'AS_SEQUENCE', asns: [64496, 64511] },
        { type: 'AS_SET', asns: [65536, 65551] },
      ],
      nextHop: '192.0.2.1',
      med: 5,
      communities: ['64496:7', 'no-export'],
      largeCommunities: ['64496:1:2'],
      extendedCommunities: [
        { hex: '0002fbf000000064', type: 0, subtype: 2, name: 'route-target', asn: 64496, value: 100 },
      ],
    },
  };
  const events = updateEvents(T, P, update);
  t.strictSame(events, [
    { time: T, peer: P, type: 'withdrawn', family: 'ipv4-unicast', prefix: '198.51.100.0/25' },
    {
      time: T,
      peer: P,
      type: 'received',
      family: 'ipv4-unicast',
      prefix: '203.0.113.0/24',
      asPath: '64496 64511 {65536,65551}',
      origin: 'igp',
      med: 5,
      communities: ['64496:7', 'no-export'],
      largeCommunities: ['64496:1:2'],
      extendedCommunities: ['rt:64496:100'],
      nextHop: '192.0.2.1',
    },
    {
      time: T,
      peer: P,
      type: 'received',
      family: 'ipv4-unicast',
      prefix: '198.51.100.128/25',
      pathId: 7,
      asPath: '64496 64511 {65536,65551}',
      origin: 'igp',
      med: 5,
      communities: ['64496:7', 'no-export'],
      largeCommunities: ['64496:1:2'],
      extendedCommunities: ['rt:64496:100'],
      nextHop: '192.0.2.1',
    },
  ]);
  t.equal(
    formatEvent(events[1]!, false),
    '03:04:05.678 received 203.0.113.0/24 next-hop 192.0.2.1 as-path 64496 64511 {65536,65551} origin igp med 5 communities 64496:7 no-export large-communities 64496:1:2 extended-communities rt:64496:100',
  );
  t.match(
    formatEvent(events[2]!, false),
    /^03:04:05\.678 received 198\.51\.100\.128\/25 path-id 7 next-hop 192\.0\.2\.1 as-path /,
  );
  const looped = updateEvents(T, P, update, true);
  t.match(looped[1], { type: 'received', prefix: '203.0.113.0/24', asLoop: true }, 'an AS loop is marked');
  t.equal(looped[0]?.type, 'withdrawn', 'withdrawals are not');
  t.match(
    formatEvent(looped[1]!, false),
    / extended-communities rt:64496:100 AS-LOOP \(our AS is in the AS path: not eligible, RFC 4271 9\.1\.2\)$/,
  );
  t.match(formatEvent(looped[1]!, true), /"asLoop":true}$/);
  t.equal(
    formatEvent(events[0]!, true),
    '{"type":"withdrawn","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","family":"ipv4-unicast","prefix":"198.51.100.0/25"}',
  );
});

t.test('IPv6 in MP_REACH/MP_UNREACH, a 2-octet AS path, treat-as-withdraw, End-of-RIB', async (t) => {
  const v6: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    nlri: [],
    attributes: {
      origin: 'incomplete',
      // A 2-octet peer: AS_TRANS in AS_PATH, the real path in AS4_PATH.
      asPath: [{ type: 'AS_SEQUENCE', asns: [64496, 23456] }],
      as4Path: [{ type: 'AS_SEQUENCE', asns: [65536] }],
      mpReach: { afi: 2, safi: 1, nextHops: ['2001:db8::1', 'fe80::1'], nlri: [{ prefix: '2001:db8:1::/48' }] },
      mpUnreach: { afi: 2, safi: 1, withdrawn: [{ prefix: '2001:db8:2::/48' }] },
    },
  };
  const events = updateEvents(T, P, v6);
  t.strictSame(
    events.map((e) => [e.type, 'prefix' in e ? e.prefix : '']),
    [
      ['withdrawn', '2001:db8:2::/48'],
      ['received', '2001:db8:1::/48'],
    ],
  );
  t.match(events[1], {
    family: 'ipv6-unicast',
    nextHop: '2001:db8::1',
    linkLocalNextHop: 'fe80::1',
    asPath: '64496 65536',
  });
  t.match(
    formatEvent(events[1]!, false),
    / received 2001:db8:1::\/48 next-hop 2001:db8::1 \(fe80::1\) as-path 64496 65536 origin incomplete$/,
  );

  const bad: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    nlri: [{ prefix: '203.0.113.0/24' }],
    attributes: { nextHop: '192.0.2.1' },
    errors: [{ action: 'treat-as-withdraw', code: 3, subcode: 3, data: '', message: 'missing ORIGIN', offset: 0 }],
  };
  const tw = updateEvents(T, P, bad);
  t.strictSame(tw, [
    { time: T, peer: P, type: 'withdrawn', family: 'ipv4-unicast', prefix: '203.0.113.0/24', treatAsWithdraw: true },
  ]);
  t.match(
    formatEvent(tw[0]!, false),
    /withdrawn 203\.0\.113\.0\/24 \(malformed UPDATE treated as withdraw, RFC 7606\)$/,
  );

  const eor = updateEvents(T, P, {
    type: 'UPDATE',
    withdrawn: [],
    nlri: [],
    attributes: { mpUnreach: { afi: 2, safi: 1, withdrawn: [] } },
    endOfRib: { afi: 2, safi: 1 },
  });
  t.strictSame(eor, [{ time: T, peer: P, type: 'end-of-rib', family: 'ipv6-unicast' }]);
  t.equal(formatEvent(eor[0]!, false), '03:04:05.678 end-of-rib ipv6-unicast');
});

t.test('routes in the JSON lines: the printable form the admin endpoint shows too, family included', async (t) => {
  const attributes = normalizeAttributes({
    nextHop: '192.0.2.2',
    asPath: [{ type: 'AS_SEQUENCE', asns: [64496] }],
    communities: ['64496:100'],
    med: 5,
  });
  t.equal(
    formatEvent(advertisedEvent(T, P, { prefix: '203.0.113.0/24', attributes }), true),
    '{"type":"advertised","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","family":"ipv4-unicast","prefix":"203.0.113.0/24","nextHop":"192.0.2.2","asPath":"64496","origin":"igp","med":5,"communities":["64496:100"]}',
  );
  // IPv4 both in the NLRI field (NEXT_HOP) and in MP_REACH_NLRI (an IPv6 next hop, RFC 8950); route reflection.
  const update: UpdateMessage = {
    type: 'UPDATE',
    withdrawn: [],
    nlri: [{ prefix: '198.51.100.0/24' }],
    attributes: {
      origin: 'igp',
      asPath: [],
      nextHop: '192.0.2.1',
      localPref: 100,
      originatorId: '192.0.2.9',
      clusterList: ['192.0.2.10'],
      mpReach: { afi: 1, safi: 1, nextHops: ['2001:db8::1'], nlri: [{ prefix: '203.0.113.0/24', pathId: 2 }] },
    },
  };
  t.strictSame(
    updateEvents(T, P, update).map((e) => formatEvent(e, true)),
    [
      '{"type":"received","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","family":"ipv4-unicast","prefix":"198.51.100.0/24","nextHop":"192.0.2.1","asPath":"","origin":"igp","localPref":100,"originatorId":"192.0.2.9","clusterList":["192.0.2.10"]}',
      '{"type":"received","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","family":"ipv4-unicast","prefix":"203.0.113.0/24","pathId":2,"nextHop":"2001:db8::1","asPath":"","origin":"igp","localPref":100,"originatorId":"192.0.2.9","clusterList":["192.0.2.10"]}',
    ],
  );
});

t.test('readable lines of the other events', async (t) => {
  const lines = (
    [
      { type: 'state', from: 'OpenConfirm', to: 'Established' },
      { type: 'listening', address: '2001:db8::2', port: 1179 },
      {
        type: 'established',
        peerAs: 64496,
        peerBgpId: '192.0.2.1',
        holdTime: 9,
        families: ['ipv4-unicast'],
        capabilities: ['4-octet-as', 'route-refresh'],
      },
      { type: 'advertised', prefix: '203.0.113.0/24', nextHop: '192.0.2.2', asPath: '', origin: 'igp', localPref: 200 },
      { type: 'warning', message: 'careful' },
      { type: 'stopped', status: 0, reason: 'stopped by SIGTERM' },
    ] as const
  ).map((e) => formatEvent({ time: T, peer: P, ...e } as PeerEvent, false));
  t.strictSame(lines, [
    '03:04:05.678 192.0.2.1 OpenConfirm -> Established',
    '03:04:05.678 listening on [2001:db8::2]:1179',
    '03:04:05.678 192.0.2.1 established: AS 64496, router id 192.0.2.1, hold time 9 s, families ipv4-unicast, 4-octet-as route-refresh',
    '03:04:05.678 advertised 203.0.113.0/24 next-hop 192.0.2.2 as-path (empty) origin igp local-pref 200',
    '03:04:05.678 warning: careful',
    '03:04:05.678 stopped (exit 0): stopped by SIGTERM',
  ]);
  const down = downEvent(T, P, {
    kind: 'notification-received',
    message: 'peer sent NOTIFICATION 6/2',
    notification: { type: 'NOTIFICATION', code: 6, subcode: 2, shutdownMessage: 'maintenance' },
  });
  t.equal(
    formatEvent(down, false),
    '03:04:05.678 192.0.2.1 down: peer sent NOTIFICATION 6/2 (NOTIFICATION 6/2 Cease/Administrative Shutdown ("maintenance") received)',
  );
  t.equal(
    formatEvent(down, true),
    '{"type":"down","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","reason":"peer sent NOTIFICATION 6/2","notification":"NOTIFICATION 6/2 Cease/Administrative Shutdown (\\"maintenance\\") received"}',
  );
});

t.test('why a session could not be established', async (t) => {
  const f = { peer: P, port: 179, passive: false };
  t.equal(
    notificationText({ type: 'NOTIFICATION', code: 2, subcode: 2 }),
    'NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS',
  );
  t.equal(
    failureText({
      ...f,
      lastDown: {
        kind: 'notification-received',
        message: 'x',
        state: 'OpenConfirm',
        notification: { type: 'NOTIFICATION', code: 2, subcode: 2 },
      },
    }),
    'peer 192.0.2.1 refused the session: NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS',
  );
  t.equal(
    failureText({
      ...f,
      lastDown: {
        kind: 'notification-received',
        message: 'x',
        state: 'Established',
        notification: { type: 'NOTIFICATION', code: 6, subcode: 3 },
      },
    }),
    'peer 192.0.2.1 ended the session: NOTIFICATION 6/3 Cease/Peer De-configured',
  );
  t.equal(
    failureText({
      ...f,
      lastDown: {
        kind: 'notification-sent',
        message: 'peer is AS 64496, expected AS 64499',
        state: 'OpenSent',
        notification: { type: 'NOTIFICATION', code: 2, subcode: 2 },
      },
    }),
    "we refused peer 192.0.2.1's OPEN (peer is AS 64496, expected AS 64499): NOTIFICATION 2/2 OPEN Message Error/Bad Peer AS sent",
  );
  t.equal(
    failureText({
      ...f,
      lastDown: {
        kind: 'notification-sent',
        message: 'hold timer expired in OpenSent',
        state: 'OpenSent',
        notification: { type: 'NOTIFICATION', code: 4, subcode: 0 },
      },
    }),
    'hold timer expired in OpenSent, the peer stopped talking: NOTIFICATION 4/0 Hold Timer Expired sent',
  );
  t.match(
    failureText({
      ...f,
      lastDown: { kind: 'connection-failed', message: 'TCP connection failed in OpenSent', state: 'OpenSent' },
    }),
    /^peer 192\.0\.2\.1 closed the connection in OpenSent without a NOTIFICATION/,
  );
  t.equal(
    failureText({
      ...f,
      lastDown: {
        kind: 'connection-failed',
        message: 'TCP connection failed in Established: read ECONNRESET',
        state: 'Established',
        socketError: { code: 'ECONNRESET', message: 'read ECONNRESET' },
      },
    }),
    'connection to 192.0.2.1 port 179 lost in Established: connection reset by the peer (ECONNRESET)',
    'a reset connection: the socket error, not a guess about a clean close',
  );
  t.equal(
    failureText({
      ...f,
      lastDown: {
        kind: 'connection-failed',
        message: 'TCP connection failed in OpenSent: read ECONNRESET',
        state: 'OpenSent',
        socketError: { code: 'ECONNRESET', message: 'read ECONNRESET' },
      },
    }),
    'connection to 192.0.2.1 port 179 lost in OpenSent: connection reset by the peer (ECONNRESET) (is this address configured as its neighbor?)',
  );
  t.equal(
    failureText({
      ...f,
      lastDown: { kind: 'connection-failed', message: 'TCP connection failed in Connect', state: 'Connect' },
      socketError: { code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 192.0.2.1:179' },
    }),
    'cannot connect to 192.0.2.1 port 179: connection refused (ECONNREFUSED)',
  );
  t.equal(
    failureText({
      ...f,
      lastDown: { kind: 'connection-failed', message: 'TCP connection failed in Connect', state: 'Connect' },
    }),
    'cannot connect to 192.0.2.1 port 179: TCP connection failed in Connect',
  );
  t.match(failureText(f), /^no TCP connection to 192\.0\.2\.1 port 179: no answer/);
  t.match(
    failureText({ ...f, md5: true }),
    /no answer \(is the address right\? a peer without the same TCP MD5 key drops our SYNs\)$/,
  );
  t.match(failureText({ ...f, passive: true }), /^no connection from 192\.0\.2\.1 \(passive/);
  t.equal(
    socketErrorText({ code: 'EWHATEVER', message: 'connect EWHATEVER' }),
    'connect EWHATEVER',
    'unknown codes: the message',
  );
});

t.test('BFD events: the change, its diagnostic by name, and what it did to the BGP session', async (t) => {
  const down: PeerEvent = {
    time: T,
    peer: P,
    type: 'bfd',
    from: 'Up',
    to: 'Down',
    diag: 'Control Detection Time Expired',
    outcome: 'torn-down',
  };
  t.equal(
    formatEvent(down, false),
    '03:04:05.678 192.0.2.1 BFD Up -> Down (diag: Control Detection Time Expired): BGP session torn down until BFD is Up again',
  );
  t.equal(
    formatEvent(down, true),
    '{"type":"bfd","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","from":"Up","to":"Down","diag":"Control Detection Time Expired","outcome":"torn-down"}',
  );
  t.equal(
    formatEvent(
      { time: T, peer: P, type: 'bfd', from: 'Init', to: 'Up', diag: 'No Diagnostic', outcome: 'resumed' },
      false,
    ),
    '03:04:05.678 192.0.2.1 BFD Init -> Up (diag: No Diagnostic): BGP session started again',
  );
  t.equal(
    formatEvent({ time: T, peer: P, type: 'bfd', from: 'Down', to: 'Init', diag: 'No Diagnostic' }, false),
    '03:04:05.678 192.0.2.1 BFD Down -> Init (diag: No Diagnostic)',
  );
});
