// `bgp-announce bfd` output: diagnostic names (RFC 5880 4.1), readable and JSON lines, and the
// sentence saying why a session is not Up, from the session's counters.
import t from 'tap';
import type { BfdSessionStatus } from '@bgp-announce/bfd';
import { diagName, formatBfdEvent, notUpText, sameTimers, ttlUncheckedText, type BfdEvent } from '../src/bfd-output.js';

const T = Date.UTC(2025, 0, 2, 3, 4, 5, 678);
const P = '192.0.2.1';

t.test('diagnostic names from RFC 5880 4.1', async (t) => {
  t.equal(diagName(0), 'No Diagnostic');
  t.equal(diagName(1), 'Control Detection Time Expired');
  t.equal(diagName(3), 'Neighbor Signaled Session Down');
  t.equal(diagName(7), 'Administratively Down');
  t.equal(diagName(8), 'Reverse Concatenated Path Down');
  t.equal(diagName(9), 'Reserved (9)');
  t.equal(diagName(31), 'Reserved (31)');
});

t.test('JSON lines: type, time, peer first; diag names', async (t) => {
  const down: BfdEvent = {
    time: T,
    peer: P,
    type: 'state',
    from: 'Up',
    to: 'Down',
    diag: diagName(3),
    remoteDiag: diagName(7),
    transmitIntervalMs: 1000,
    receiveIntervalMs: 1000,
    detectionTimeMs: 3000,
  };
  t.equal(
    formatBfdEvent(down, true),
    '{"type":"state","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","from":"Up","to":"Down","diag":"Neighbor Signaled Session Down","remoteDiag":"Administratively Down","transmitIntervalMs":1000,"receiveIntervalMs":1000,"detectionTimeMs":3000}',
  );
  t.equal(
    formatBfdEvent({ time: T, peer: P, type: 'stopped', status: 0, reason: 'stopped by SIGTERM' }, true),
    '{"type":"stopped","time":"2025-01-02T03:04:05.678Z","peer":"192.0.2.1","status":0,"reason":"stopped by SIGTERM"}',
  );
});

t.test('readable lines', async (t) => {
  const started: BfdEvent = {
    time: T,
    peer: P,
    type: 'started',
    localAddress: '192.0.2.2',
    interface: 'eth0',
    multihop: true,
    minimumTtl: 250,
    transmitInterval: 50,
    receiveInterval: 100,
    detectMultiplier: 5,
    passive: true,
    auth: 'keyed-sha1',
    ttlCheck: 'available',
  };
  t.equal(
    formatBfdEvent(started, false),
    '03:04:05.678 BFD 192.0.2.2 on eth0 -> 192.0.2.1, multihop (minimum TTL 250), transmit 50 ms, receive 100 ms, multiplier 5, passive, auth keyed-sha1',
  );
  t.equal(
    formatBfdEvent(
      {
        time: T,
        peer: P,
        type: 'started',
        localAddress: '192.0.2.2',
        multihop: false,
        transmitInterval: 300,
        receiveInterval: 300,
        detectMultiplier: 3,
        passive: false,
        ttlCheck: 'unavailable',
      },
      false,
    ),
    '03:04:05.678 BFD 192.0.2.2 -> 192.0.2.1, single hop, transmit 300 ms, receive 300 ms, multiplier 3, received TTL NOT checked',
  );
  t.equal(
    formatBfdEvent(
      {
        time: T,
        peer: P,
        type: 'state',
        from: 'Init',
        to: 'Up',
        diag: diagName(0),
        remoteDiag: diagName(0),
        transmitIntervalMs: 50,
        receiveIntervalMs: 100,
        detectionTimeMs: 300,
      },
      false,
    ),
    '03:04:05.678 192.0.2.1 Init -> Up (diag: No Diagnostic; remote diag: No Diagnostic) transmit 50 ms, receive 100 ms, detection time 300 ms',
  );
  t.equal(
    formatBfdEvent(
      {
        time: T,
        peer: P,
        type: 'state',
        from: 'Down',
        to: 'Init',
        diag: diagName(0),
        remoteDiag: diagName(0),
        transmitIntervalMs: 1000,
        receiveIntervalMs: 0,
        detectionTimeMs: 0,
      },
      false,
    ),
    '03:04:05.678 192.0.2.1 Down -> Init (diag: No Diagnostic; remote diag: No Diagnostic) transmit 1000 ms, nothing received yet',
  );
  t.equal(
    formatBfdEvent(
      { time: T, peer: P, type: 'state', from: 'Up', to: 'AdminDown', diag: diagName(7), remoteDiag: diagName(0) },
      false,
    ),
    '03:04:05.678 192.0.2.1 Up -> AdminDown (diag: Administratively Down; remote diag: No Diagnostic)',
    'no timers: none printed',
  );
  t.equal(
    formatBfdEvent(
      { time: T, peer: P, type: 'timers', transmitIntervalMs: 300, receiveIntervalMs: 300, detectionTimeMs: 900 },
      false,
    ),
    '03:04:05.678 192.0.2.1 timers: transmit 300 ms, receive 300 ms, detection time 900 ms',
  );
  t.equal(formatBfdEvent({ time: T, peer: P, type: 'warning', message: 'x' }, false), '03:04:05.678 warning: x');
  t.equal(
    formatBfdEvent({ time: T, peer: P, type: 'stopped', status: 1, reason: 'not up' }, false),
    '03:04:05.678 stopped (exit 1): not up',
  );
});

t.test('sameTimers', async (t) => {
  const a = { transmitIntervalMs: 300, receiveIntervalMs: 300, detectionTimeMs: 900 };
  t.ok(sameTimers(a, { ...a }));
  t.notOk(sameTimers(a, { ...a, detectionTimeMs: 3000 }));
  t.notOk(sameTimers(undefined, a));
});

/** A status with the fields notUpText reads; the rest as a fresh session has them. */
function status(over: {
  state?: BfdSessionStatus['state'];
  remoteState?: BfdSessionStatus['state'];
  remoteDiag?: number;
  packetsIn?: number;
  ttl?: number;
  auth?: number;
  rejected?: number;
  multihop?: boolean;
  passive?: boolean;
  error?: string;
}): BfdSessionStatus {
  const s = {
    id: 1,
    peerAddress: P,
    localAddress: '192.0.2.2',
    interface: undefined,
    multihop: over.multihop ?? false,
    listenPort: 3784,
    state: over.state ?? 'Down',
    remoteState: over.remoteState ?? 'Down',
    remoteDiag: over.remoteDiag ?? 0,
    profile: { passiveMode: over.passive ?? false },
    counters: {
      packetsIn: over.packetsIn ?? 0,
      dropped: { ttl: over.ttl ?? 0, auth: over.auth ?? 0, rejected: over.rejected ?? 0 },
    },
    ...(over.error === undefined ? {} : { error: over.error }),
  };
  return s as unknown as BfdSessionStatus;
}

t.test('why the session is not Up', async (t) => {
  t.equal(
    notUpText(status({})),
    'no BFD packets from 192.0.2.1 (to 192.0.2.2, UDP 3784) (is BFD enabled on the peer for our address, and is the UDP port open?)',
  );
  t.match(notUpText(status({ passive: true })), /; we are passive: the peer must be active\)$/);
  t.equal(
    notUpText(status({ packetsIn: 9, ttl: 9 })),
    '9 packets from 192.0.2.1 were dropped for their TTL (not directly connected, or not sending with TTL 255: try --multihop if it is routed)',
  );
  t.match(
    notUpText(status({ packetsIn: 2, ttl: 2, multihop: true })),
    /dropped for their TTL \(more hops away than --minimum-ttl allows\)$/,
  );
  t.equal(
    notUpText(status({ packetsIn: 4, auth: 4 })),
    "4 packets from 192.0.2.1 failed authentication (--auth, --key-id and the key must match the peer's)",
  );
  t.equal(
    notUpText(status({ packetsIn: 3, rejected: 3 })),
    '3 packets from 192.0.2.1 were rejected by the state machine',
  );
  t.equal(
    notUpText(status({ packetsIn: 5, remoteState: 'AdminDown', remoteDiag: 7 })),
    'the session is Down, the peer says AdminDown (remote diag: Administratively Down)',
  );
  t.equal(
    notUpText(status({ error: 'opening a UDP socket on 192.0.2.2:3784: bind failed' })),
    'opening a UDP socket on 192.0.2.2:3784: bind failed',
    'a socket error first',
  );
});

t.test('the TTL-check message says what to do', async (t) => {
  t.equal(
    ttlUncheckedText(
      'no UDP TTL check: the native socket addon is not built',
      'give --allow-unchecked-ttl to run without the check',
    ),
    'the received TTL cannot be checked here (no UDP TTL check: the native socket addon is not built). RFC 5881 requires dropping single-hop packets that arrive with a TTL below 255, ' +
      'so that packets from farther away cannot keep a session Up. Build the addon, or give --allow-unchecked-ttl to run without the check',
  );
});
