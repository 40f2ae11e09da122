// Our BFD engine against FRR's bfdd (Debian's 8.4, no authentication: see bfd-bird.test.ts for that).
// Three namespaces: `us` (our engine in a child process), `frr` (zebra + bfdd + bgpd) and `rtr` (a
// plain router with forwarding on). `us` and `frr` share one link (192.0.2.0/24, 2001:db8::/64) for
// the single-hop sessions; the multihop session runs between loopback addresses 203.0.113.1 and
// 203.0.113.2 over us -> rtr -> frr (198.51.100.0/30 and 198.51.100.4/30), so it crosses two hops and
// arrives with TTL 254, which FRR's default minimum-ttl 254 and our profile's minimumTtl 254 accept.
// Checked: all three sessions Up on both sides with each side's discriminators and intervals as the
// other sees them; a faster interval set on our side (a Poll Sequence) reaches FRR, is applied on our
// side after FRR's Final, and nothing goes Down; stopping our engine takes all three Down in FRR with
// the AdminDown diagnostic. Needs root, ip, vtysh, FRR's bfdd and the built TTL socket addon (packages/
// sockopt): skipped elsewhere, a failure in CI (CI=true).
import t, { type Test } from 'tap';
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { interopUnavailable, ip, requireOrSkip } from './netns.js';
import { poll } from './gobgpd.js';
import { bfddUnavailable, frrUnavailable, startFrr, type Frr } from './frr.js';
import { bfdEngineUnavailable, pollAsync, startBfdChild } from './bfd-child.js';

/** One peer of `show bfd peers json` (FRR 8.4 field names; intervals in ms). */
interface FrrBfdPeer {
  multihop: boolean;
  peer: string;
  local: string;
  interface?: string;
  id: number;
  'remote-id': number;
  status: string;
  diagnostic: string;
  'remote-diagnostic': string;
  'receive-interval': number;
  'transmit-interval': number;
  'detect-multiplier': number;
  'remote-receive-interval': number;
  'remote-transmit-interval': number;
  'remote-detect-multiplier': number;
}

/** One peer of `show bfd peers counters json`. */
interface FrrBfdCounters {
  peer: string;
  'control-packet-input': number;
  'control-packet-output': number;
  'session-up': number;
  'session-down': number;
}

/**
 * Namespaces us, rtr and frr with the links and routes described at the top; removed in t.teardown
 * (registered before anything is created).
 */
function topology(t: Test): { us: string; rtr: string; frr: string } {
  const id = `${process.pid.toString(36)}${randomBytes(2).toString('hex')}`;
  const ns = { us: `bfdfus-${id}`, rtr: `bfdfrtr-${id}`, frr: `bfdffrr-${id}` };
  t.teardown(() => {
    for (const n of Object.values(ns)) {
      try {
        ip('netns', 'del', n);
      } catch {
        // not created (or already gone)
      }
    }
  });
  for (const n of Object.values(ns)) {
    ip('netns', 'add', n);
    ip('-n', n, 'link', 'set', 'lo', 'up');
  }
  const link = (a: string, devA: string, b: string, devB: string): void => {
    ip('link', 'add', devA, 'netns', a, 'type', 'veth', 'peer', 'name', devB, 'netns', b);
    ip('-n', a, 'link', 'set', devA, 'up');
    ip('-n', b, 'link', 'set', devB, 'up');
  };
  link(ns.us, 'to-frr', ns.frr, 'to-us');
  link(ns.us, 'to-rtr', ns.rtr, 'to-us');
  link(ns.rtr, 'to-frr', ns.frr, 'to-rtr');
  const addr = (n: string, dev: string, cidr: string): string =>
    ip('-n', n, 'addr', 'add', cidr, 'dev', dev, ...(cidr.includes(':') ? ['nodad'] : []));
  addr(ns.us, 'to-frr', '192.0.2.1/24');
  addr(ns.us, 'to-frr', '2001:db8::1/64');
  addr(ns.frr, 'to-us', '192.0.2.2/24');
  addr(ns.frr, 'to-us', '2001:db8::2/64');
  addr(ns.us, 'to-rtr', '198.51.100.1/30');
  addr(ns.rtr, 'to-us', '198.51.100.2/30');
  addr(ns.rtr, 'to-frr', '198.51.100.5/30');
  addr(ns.frr, 'to-rtr', '198.51.100.6/30');
  addr(ns.us, 'lo', '203.0.113.1/32');
  addr(ns.frr, 'lo', '203.0.113.2/32');
  ip('-n', ns.us, 'route', 'add', '203.0.113.2/32', 'via', '198.51.100.2', 'src', '203.0.113.1');
  ip('-n', ns.frr, 'route', 'add', '203.0.113.1/32', 'via', '198.51.100.5', 'src', '203.0.113.2');
  ip('-n', ns.rtr, 'route', 'add', '203.0.113.1/32', 'via', '198.51.100.1');
  ip('-n', ns.rtr, 'route', 'add', '203.0.113.2/32', 'via', '198.51.100.6');
  execFileSync('ip', ['netns', 'exec', ns.rtr, 'sysctl', '-q', '-w', 'net.ipv4.ip_forward=1']);
  return ns;
}

const PEERS = { v4: '192.0.2.1', v6: '2001:db8::1', multihop: '203.0.113.1' } as const;
type Name = keyof typeof PEERS;
const NAMES = Object.keys(PEERS) as Name[];
const SLOW = { name: 'interop', receiveInterval: 300, transmitInterval: 300, detectMultiplier: 3 };

/** FRR's peers by our session names (undefined for the ones FRR does not show). */
function frrPeers(frr: Frr): Partial<Record<Name, FrrBfdPeer>> {
  const list = frr.json<FrrBfdPeer[]>('show bfd peers json');
  return Object.fromEntries(NAMES.map((n) => [n, list.find((p) => p.peer === PEERS[n])])) as Partial<
    Record<Name, FrrBfdPeer>
  >;
}

function frrCounters(frr: Frr, name: Name): FrrBfdCounters | undefined {
  return frr.json<FrrBfdCounters[]>('show bfd peers counters json').find((p) => p.peer === PEERS[name]);
}

t.test('our BFD engine and FRR bfdd: single hop IPv4 and IPv6, multihop IPv4, Poll Sequence, AdminDown', async (t) => {
  if (
    !requireOrSkip(t, interopUnavailable([]) ?? frrUnavailable() ?? bfddUnavailable() ?? (await bfdEngineUnavailable()))
  )
    return;
  const ns = topology(t);
  const frr = await startFrr(t, {
    ns: ns.frr,
    bfdd: [
      'bfd',
      // FRR asks for 100 ms both ways: the rate in force follows whatever our side advertises.
      ...[
        `peer ${PEERS.v4} local-address 192.0.2.2 interface to-us`,
        `peer ${PEERS.v6} local-address 2001:db8::2 interface to-us`,
        `peer ${PEERS.multihop} multihop local-address 203.0.113.2`,
      ].flatMap((p) => [
        ` ${p}`,
        '  receive-interval 100',
        '  transmit-interval 100',
        '  detect-multiplier 3',
        ' exit',
      ]),
      'exit',
    ].join('\n'),
    bgpd: '',
  });
  const child = await startBfdChild(t, ns.us, {
    sessions: {
      v4: { peerAddress: '192.0.2.2', localAddress: PEERS.v4, profile: SLOW },
      v6: { peerAddress: '2001:db8::2', localAddress: PEERS.v6, profile: SLOW },
      multihop: { peerAddress: '203.0.113.2', localAddress: PEERS.multihop, multihop: true, profile: SLOW },
    },
  });
  const withLogs = (err: Error): never => {
    throw new Error(`${err.message}\n--- our engine:\n${child.output()}\n${frr.logs()}`);
  };
  t.match(
    ip('-n', ns.us, 'route', 'get', '203.0.113.2', 'from', PEERS.multihop),
    /via 198\.51\.100\.2 /,
    'the multihop path goes through rtr',
  );

  await t.test('all three sessions come Up', async (t) => {
    for (const name of NAMES) await child.waitState(name, 'Up').catch(withLogs);
    const peers = await poll('FRR to show all three peers up', () => {
      const p = frrPeers(frr);
      return NAMES.every((n) => p[n]?.status === 'up') ? p : undefined;
    }).catch(withLogs);
    for (const name of NAMES) {
      const ours = await child.session(name);
      const theirs = peers[name]!;
      t.equal(ours.state, 'Up', `${name}: Up on our side`);
      t.equal(
        theirs.multihop,
        name === 'multihop',
        `${name}: FRR's session is ${name === 'multihop' ? '' : 'not '}multihop`,
      );
      t.equal(theirs['remote-id'], ours.localDiscr, `${name}: FRR knows our discriminator`);
      t.equal(ours.remoteDiscr, theirs.id, `${name}: we know FRR's discriminator`);
      t.equal(theirs['remote-receive-interval'], 300, `${name}: FRR sees our Required Min RX 300 ms`);
      t.equal(theirs['remote-transmit-interval'], 300, `${name}: FRR sees our Desired Min TX 300 ms`);
      t.equal(theirs['remote-detect-multiplier'], 3, `${name}: FRR sees our Detect Mult 3`);
      t.equal(ours.remoteMinRxIntervalMs, 100, `${name}: we see FRR's Required Min RX 100 ms`);
      t.equal(ours.remoteDetectMult, 3, `${name}: we see FRR's Detect Mult 3`);
      t.match(ours.counters, { dropped: { ttl: 0 } }, `${name}: no packet of FRR's dropped for its TTL`);
    }
  });

  await t.test('a faster interval on our side (Poll Sequence) is accepted and nothing goes Down', async (t) => {
    const statesBefore = child.states('v4').length;
    const downsBefore = frrCounters(frr, 'v4')?.['session-down'];
    t.type(downsBefore, 'number', "FRR's counters list the IPv4 peer");
    t.equal(
      (await child.session('v4')).detectionTimeMs,
      900,
      'before: FRR sends to us at 300 ms (our Required Min RX), detection 3 x 300 ms',
    );
    await child.update('v4', { receiveInterval: 100, transmitInterval: 100 });
    const seen = await poll('FRR to see our 100 ms intervals', () => {
      const p = frrPeers(frr).v4;
      return p?.['remote-receive-interval'] === 100 && p['remote-transmit-interval'] === 100 ? p : undefined;
    }).catch(withLogs);
    t.equal(seen.status, 'up', 'FRR: still up');
    // Our faster Required Min RX takes effect only once FRR's Final has arrived (RFC 5880 6.8.3).
    const settled = await pollAsync(
      'our Poll Sequence to end with 3 x 100 ms in force',
      async () => {
        const s = await child.session('v4');
        return !s.pollActive && s.detectionTimeMs === 300 ? s : undefined;
      },
      5000,
    ).catch(withLogs);
    t.equal(settled.state, 'Up', 'our side: still Up');
    t.equal(settled.transmitIntervalMs, 100, "we send at 100 ms (max of our 100 and FRR's Required Min RX 100)");
    t.equal(settled.receiveIntervalMs, 100, "FRR's Final applied: we expect FRR's packets every 100 ms");
    t.equal(settled.detectionTimeMs, 300, 'detection time 3 x 100 ms');
    t.equal(child.states('v4').length, statesBefore, 'no state change on our side');
    t.equal(frrCounters(frr, 'v4')?.['session-down'], downsBefore, 'no session-down in FRR');
    const others = frrPeers(frr);
    t.equal(others.v6?.['remote-receive-interval'], 300, 'the IPv6 session keeps 300 ms');
    t.equal(others.multihop?.['remote-receive-interval'], 300, 'the multihop session keeps 300 ms');
  });

  await t.test('stopping our engine sends AdminDown: FRR takes every session down', async (t) => {
    await child.stop();
    const peers = await poll(
      'FRR to show all three peers down',
      () => {
        const p = frrPeers(frr);
        return NAMES.every((n) => p[n]?.status === 'down') ? p : undefined;
      },
      5000,
    ).catch(withLogs);
    for (const name of NAMES) {
      t.equal(
        peers[name]?.['remote-diagnostic'],
        'administratively down',
        `${name}: FRR received diagnostic 7 (Administratively Down)`,
      );
      t.equal(
        peers[name]?.diagnostic,
        'neighbor signaled session down',
        `${name}: FRR went down with diagnostic 3 (Neighbor Signaled Session Down)`,
      );
    }
  });
});
