// The port179 and sourceCollision findings, scenario by scenario, on the sockets of the fixture /proc
// tree (fixtures/proc/node: gobgpd holds 0.0.0.0:179 and a session 192.0.2.10 -> 192.0.2.1:179, the
// router 192.0.2.2 connected in to it, bird holds [2001:db8::10]:179 and a session to 2001:db8::1,
// our daemon (pid 900) is connecting to 198.51.100.1) and on variations of it.
import t from 'tap';
import { fileURLToPath } from 'node:url';
import type { BGPPeer } from '../src/config/types.js';
import {
  checkPort179,
  checkSourceCollision,
  findingsExitStatus,
  listenersOverlap,
  listenEndpoint,
  sameAddress,
} from '../src/check/checks.js';
import { readNodeSockets, type NodeSockets } from '../src/check/node-sockets.js';
import type { TcpSocket } from '../src/check/proc-net.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/proc/node', import.meta.url));
const fixture = await readNodeSockets({ procRoot: FIXTURE, byteOrder: 'LE' });

function peer(name: string, over: Partial<BGPPeer> = {}): BGPPeer {
  return {
    name,
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
    ...over,
  };
}

/** The fixture with only the sockets `keep` selects (owners and unreadable count kept). */
function only(keep: (s: TcpSocket) => boolean, node: NodeSockets = fixture): NodeSockets {
  return { ...node, sockets: node.sockets.filter(keep) };
}

const nothing = only(() => false);

t.test('sameAddress and listenersOverlap', async (t) => {
  t.ok(sameAddress('2001:db8::10', '2001:0DB8:0:0::10'));
  t.notOk(sameAddress('192.0.2.1', '192.0.2.10'));
  t.notOk(sameAddress('192.0.2.1', 'router'));
  const cases: [string, string | undefined, boolean][] = [
    ['0.0.0.0', undefined, true],
    ['0.0.0.0', '192.0.2.10', true],
    ['0.0.0.0', '2001:db8::10', false],
    ['0.0.0.0', '::', true],
    ['::', '192.0.2.10', true],
    ['192.0.2.10', undefined, true],
    ['192.0.2.10', '0.0.0.0', true],
    ['192.0.2.10', '192.0.2.10', true],
    ['192.0.2.10', '192.0.2.11', false],
    ['2001:db8::10', '0.0.0.0', false],
    ['2001:db8::10', '2001:db8::10', true],
  ];
  for (const [held, wanted, overlap] of cases)
    t.equal(listenersOverlap(held, wanted), overlap, `${held} held, ${wanted ?? 'any'} wanted`);
  t.strictSame(listenEndpoint(peer('a', { connectionMode: 'passive', sourceAddress: '192.0.2.10' })), {
    address: '192.0.2.10',
    port: 179,
  });
  t.strictSame(
    listenEndpoint(
      peer('a', { connectionMode: 'both', sourceAddress: '192.0.2.10', listenAddress: '192.0.2.12', listenPort: 1179 }),
    ),
    { address: '192.0.2.12', port: 1179 },
  );
});

t.test('port179, active-only: no conflict, and who listens is named', async (t) => {
  t.strictSame(checkPort179([peer('tor-a')], nothing), [
    {
      check: 'port179',
      status: 'ok',
      message: 'nobody listens on :179; no conflict while active-only (our peers connect out and do not listen)',
    },
  ]);
  const [f] = checkPort179([peer('tor-a'), peer('tor-b', { peerAddress: '192.0.2.2' })], fixture);
  t.equal(f!.status, 'ok');
  t.equal(
    f!.message,
    'gobgpd (pid 4242) on 0.0.0.0:179; bird (pid 6000) on [2001:db8::10]:179 listens on :179; no conflict while active-only (our peers connect out and do not listen)',
  );
  t.equal(checkPort179([], fixture)[0]!.status, 'ok', 'no peers at all');
});

t.test('port179, a passive peer while gobgpd holds 0.0.0.0:179: fail, with the fix', async (t) => {
  const findings = checkPort179([peer('tor-a'), peer('tor-b', { connectionMode: 'passive' })], fixture);
  t.equal(findings.length, 1);
  const f = findings[0]!;
  t.equal(f.status, 'fail');
  t.equal(
    f.message.startsWith(
      'BGPPeer tor-b listens on every address, port 179 (connectionMode passive), but gobgpd (pid 4242) on 0.0.0.0:179; bird (pid 6000) on [2001:db8::10]:179 already holds it',
    ),
    true,
    f.message,
  );
  t.match(f.fix, /set connectionMode: active on BGPPeer tor-b/);
  t.match(f.fix, /listenAddress or listenPort nobody holds/);
  t.match(f.fix, /stop the other speaker from listening on port 179/);
  t.equal(findingsExitStatus(findings), 1);
});

t.test('port179, listening elsewhere is fine; bird on one IPv6 address blocks only that address', async (t) => {
  const elsewhere = checkPort179([peer('tor-b', { connectionMode: 'both', listenPort: 1179 })], fixture);
  t.strictSame(elsewhere, [
    {
      check: 'port179',
      status: 'ok',
      message:
        'BGPPeer tor-b listens on every address, port 1179 (connectionMode both): free, nobody else listens there',
    },
  ]);
  const v6 = only((s) => s.table === 'tcp6');
  const same = checkPort179(
    [peer('v6', { peerAddress: '2001:db8::1', connectionMode: 'passive', sourceAddress: '2001:db8::10' })],
    v6,
  )[0]!;
  t.equal(same.status, 'fail');
  t.match(
    same.message,
    /^BGPPeer v6 listens on \[2001:db8::10\]:179 \(connectionMode passive\), but bird \(pid 6000\) on \[2001:db8::10\]:179 already holds it/,
  );
  const other = checkPort179(
    [peer('v6', { peerAddress: '2001:db8::1', connectionMode: 'passive', sourceAddress: '2001:db8::11' })],
    v6,
  )[0]!;
  t.equal(other.status, 'ok');
  t.equal(findingsExitStatus([other]), 0);
});

t.test('port179, peers grouped by listen endpoint', async (t) => {
  const findings = checkPort179(
    [
      peer('a', { connectionMode: 'passive', listenAddress: '192.0.2.10' }),
      peer('b', { connectionMode: 'both', listenAddress: '192.0.2.10', peerAddress: '192.0.2.2' }),
      peer('c', { connectionMode: 'passive', listenPort: 1179 }),
    ],
    fixture,
  );
  t.strictSame(
    findings.map((f) => [f.status, f.message.split(' (')[0]]),
    [
      ['fail', 'BGPPeer a, b listen on 192.0.2.10:179'],
      ['ok', 'BGPPeer c listens on every address, port 1179'],
    ],
  );
  t.match(findings[0]!.message, /\(connectionMode passive\/both\)/);
});

t.test('port179: a holder we cannot name warns; our own daemon holding it is fine', async (t) => {
  const unreadable: NodeSockets = { ...only((s) => s.inode === 1001), owners: new Map(), unreadable: 3 };
  const [warn] = checkPort179([peer('tor-b', { connectionMode: 'passive' })], unreadable);
  t.equal(warn!.status, 'warn');
  t.match(
    warn!.message,
    /uid 0, owner unknown \(run as root to see the process\) on 0\.0\.0\.0:179 holds it: unless that is bgp-announce's own daemon/,
  );
  t.match(
    warn!.fix,
    /^run the check as root to name the process; if it is another speaker: set connectionMode: active/,
  );
  const ours: NodeSockets = {
    ...only((s) => s.inode === 1001),
    owners: new Map([
      [
        1001,
        [{ pid: 900, comm: 'node', cmdline: ['node', '/opt/bgp-announce/packages/cli/bin/bgp-announce.js', 'daemon'] }],
      ],
    ]),
  };
  t.strictSame(checkPort179([peer('tor-b', { connectionMode: 'passive' })], ours), [
    {
      check: 'port179',
      status: 'ok',
      message:
        'BGPPeer tor-b listens on every address, port 179 (connectionMode passive): held by our own daemon, bgp-announce (pid 900) on 0.0.0.0:179',
    },
  ]);
});

t.test('sourceCollision: gobgpd already peers with 192.0.2.1 from our sourceAddress', async (t) => {
  const [f] = checkSourceCollision([peer('tor-a', { sourceAddress: '192.0.2.10' })], fixture);
  t.equal(f!.status, 'fail');
  t.equal(
    f!.message,
    'BGPPeer tor-a: router 192.0.2.1 sees one neighbor per source address: gobgpd (pid 4242) already has a session from 192.0.2.10, and we would connect from our sourceAddress 192.0.2.10',
  );
  t.match(f!.fix, /set spec\.sourceAddress of BGPPeer tor-a to another address of this node/);
  t.match(f!.fix, /or peer with 192\.0\.2\.1 from one speaker only/);
  const other = checkSourceCollision([peer('tor-a', { sourceAddress: '192.0.2.11' })], fixture)[0]!;
  t.strictSame(other, {
    check: 'sourceCollision',
    status: 'ok',
    message:
      'BGPPeer tor-a: gobgpd (pid 4242) peers with 192.0.2.1 from 192.0.2.10; we use 192.0.2.11: a different neighbor',
  });
});

t.test("sourceCollision without a sourceAddress: the kernel's choice decides", async (t) => {
  const p = peer('tor-a');
  const same = checkSourceCollision([p], fixture, { kernelSource: new Map([['192.0.2.1', '192.0.2.10']]) })[0]!;
  t.equal(same.status, 'fail');
  t.match(
    same.message,
    /we would connect from 192\.0\.2\.10 \(the kernel's source toward it; no sourceAddress is set\)$/,
  );
  const differs = checkSourceCollision([p], fixture, { kernelSource: new Map([['192.0.2.1', '192.0.2.12']]) })[0]!;
  t.equal(differs.status, 'ok');
  const unknown = checkSourceCollision([p], fixture)[0]!;
  t.equal(unknown.status, 'fail', "source unknown: any other speaker's session to the router collides");
  t.match(unknown.message, /we would connect from the kernel's source toward it \(no sourceAddress is set\)$/);
});

t.test('sourceCollision: the router connected in to the other speaker counts too', async (t) => {
  const [f] = checkSourceCollision([peer('tor-b', { peerAddress: '192.0.2.2', sourceAddress: '192.0.2.10' })], fixture);
  t.equal(f!.status, 'fail');
  t.match(
    f!.message,
    /router 192\.0\.2\.2 sees one neighbor per source address: gobgpd \(pid 4242\) already has a session from 192\.0\.2\.10/,
  );
});

t.test('sourceCollision: our own daemon, closing sockets and other routers are no collision', async (t) => {
  t.strictSame(
    checkSourceCollision([peer('far', { peerAddress: '198.51.100.1', sourceAddress: '192.0.2.11' })], fixture),
    [
      {
        check: 'sourceCollision',
        status: 'ok',
        message: 'BGPPeer far: no other speaker has a session with 198.51.100.1:179',
      },
    ],
  );
  const timeWaitOnly = only((s) => s.state === 'TIME_WAIT');
  t.equal(checkSourceCollision([peer('tor-a', { sourceAddress: '192.0.2.10' })], timeWaitOnly)[0]!.status, 'ok');
  t.equal(
    checkSourceCollision(
      [peer('tor-a', { sourceAddress: '192.0.2.10', peerPort: 1179 })],
      only((s) => s.inode === 1003),
    )[0]!.status,
    'ok',
    'another port of the router',
  );
});

t.test('sourceCollision over IPv6 (any spelling) and IPv4-mapped sessions', async (t) => {
  const [v6] = checkSourceCollision(
    [peer('v6', { peerAddress: '2001:db8::1', sourceAddress: '2001:0db8::10' })],
    fixture,
  );
  t.equal(v6!.status, 'fail');
  t.match(
    v6!.message,
    /router 2001:db8::1 sees one neighbor per source address: bird \(pid 6000\) already has a session from 2001:db8::10/,
  );
  const mapped: TcpSocket = {
    table: 'tcp6',
    family: 4,
    localAddress: '192.0.2.10',
    localPort: 50123,
    remoteAddress: '192.0.2.1',
    remotePort: 179,
    state: 'SYN_SENT',
    uid: 0,
    inode: 3001,
  };
  const node: NodeSockets = {
    sockets: [mapped],
    owners: new Map([[3001, [{ pid: 77, comm: 'cilium-agent', cmdline: ['cilium-agent'] }]]]),
    unreadable: 0,
    notes: [],
  };
  const [f] = checkSourceCollision([peer('tor-a', { sourceAddress: '192.0.2.10' })], node);
  t.equal(
    f!.message.split(', and')[0],
    'BGPPeer tor-a: router 192.0.2.1 sees one neighbor per source address: cilium-agent (pid 77) already has a session from 192.0.2.10',
  );
});

t.test('sourceCollision: a session we cannot attribute warns', async (t) => {
  const node: NodeSockets = { ...only((s) => s.inode === 1003), owners: new Map(), unreadable: 5 };
  const [f] = checkSourceCollision([peer('tor-a', { sourceAddress: '192.0.2.10' })], node);
  t.equal(f!.status, 'warn');
  t.match(
    f!.message,
    /uid 0, owner unknown \(run as root to see the process\) already has a session from 192\.0\.2\.10/,
  );
  t.equal(findingsExitStatus([f!]), 0, 'a warning does not fail the run');
});
