// /proc/net/tcp{,6} parsing and socket owners: against the hand-written /proc tree in
// fixtures/proc/node (see its README for what each process holds), against injected EACCES/ENOENT
// races, and live: a listener this test opens is found with our own pid in the real /proc.
import t from 'tap';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import {
  decodeProcAddress,
  decodeProcAddressBytes,
  formatEndpoint,
  parseProcNetTcp,
  readTcpSockets,
} from '../src/check/proc-net.js';
import {
  describeProcess,
  findSocketOwners,
  isBgpAnnounce,
  nodeProcFs,
  processName,
  readProcessInfo,
  type ProcFs,
} from '../src/check/proc-owners.js';
import { readNodeSockets, socketOwner } from '../src/check/node-sockets.js';
import { kernelSourceAddress } from '../src/check/kernel-source.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/proc/node', import.meta.url));

t.test('addresses: 32-bit words in host order, IPv4-mapped IPv6 as IPv4', async (t) => {
  t.equal(decodeProcAddress('0100007F', 'LE')?.address, '127.0.0.1');
  t.equal(decodeProcAddress('0A0200C0', 'LE')?.address, '192.0.2.10');
  t.equal(decodeProcAddress('C000020A', 'BE')?.address, '192.0.2.10', 'a big-endian kernel prints network order');
  t.strictSame(decodeProcAddress('B80D0120000000000000000001000000', 'LE'), { family: 6, address: '2001:db8::1' });
  t.strictSame(decodeProcAddress('00000000000000000000000001000000', 'LE'), { family: 6, address: '::1' });
  t.strictSame(decodeProcAddress('00000000000000000000000000000000', 'LE'), { family: 6, address: '::' });
  t.strictSame(decodeProcAddress('0000000000000000FFFF00000100007F', 'LE'), { family: 4, address: '127.0.0.1' });
  t.strictSame([...decodeProcAddressBytes('016433C6', 'LE')!], [198, 51, 100, 1]);
  for (const bad of ['', '0100007', '0100007G', '0100007F00', 'X'.repeat(32)])
    t.equal(decodeProcAddress(bad, 'LE'), undefined, `rejects ${JSON.stringify(bad)}`);
  t.equal(formatEndpoint('2001:db8::1', 179), '[2001:db8::1]:179');
  t.equal(formatEndpoint('192.0.2.1', 179), '192.0.2.1:179');
});

t.test('the fixture tables: every field of every line', async (t) => {
  const table = await readTcpSockets(FIXTURE, 'LE');
  t.strictSame(table.notes, []);
  const brief = table.sockets.map(
    (s) =>
      `${s.table} ${s.family} ${formatEndpoint(s.localAddress, s.localPort)} ${formatEndpoint(s.remoteAddress, s.remotePort)} ${s.state} ${s.uid} ${s.inode}`,
  );
  t.strictSame(brief, [
    'tcp 4 0.0.0.0:179 0.0.0.0:0 LISTEN 0 1001',
    'tcp 4 127.0.0.1:50051 0.0.0.0:0 LISTEN 0 1002',
    'tcp 4 192.0.2.10:41234 192.0.2.1:179 ESTABLISHED 0 1003',
    'tcp 4 192.0.2.10:179 192.0.2.2:53211 ESTABLISHED 0 1004',
    'tcp 4 192.0.2.10:39000 192.0.2.1:179 TIME_WAIT 0 0',
    'tcp 4 192.0.2.11:40000 198.51.100.1:179 SYN_SENT 65534 1005',
    'tcp 4 0.0.0.0:22 0.0.0.0:0 LISTEN 0 1006',
    'tcp6 6 [::]:8080 [::]:0 LISTEN 1000 2001',
    'tcp6 6 [2001:db8::10]:179 [::]:0 LISTEN 0 2002',
    'tcp6 4 192.0.2.10:8080 203.0.113.5:50000 ESTABLISHED 1000 2003',
    'tcp6 6 [2001:db8::10]:45000 [2001:db8::1]:179 ESTABLISHED 0 2004',
  ]);
});

t.test("lines that are not the kernel's shape are skipped, never thrown on", async (t) => {
  const good =
    '   0: 0100007F:00B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 77 1 0000000000000000 100 0 0 10 0';
  const text = [
    '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
    good,
    '   1: 0100007F:00B3 00000000:0000 0A',
    '   2: 0100007Z:00B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 78',
    '   3: 0100007F:B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 79',
    '   4: 0100007F:00B3 00000000:0000 0A 00000000:00000000 00:00000000 00000000     x        0 80',
    'garbage',
    '',
  ].join('\n');
  const sockets = parseProcNetTcp(text, 'tcp', 'LE');
  t.equal(sockets.length, 1);
  t.equal(sockets[0]!.inode, 77);
  t.equal(parseProcNetTcp(good.replace(' 0A ', ' 0F '), 'tcp', 'LE')[0]!.state, 'UNKNOWN', 'an unknown state number');
});

t.test('a missing tcp6 (IPv6 disabled) is a note', async (t) => {
  const table = await readTcpSockets(`${FIXTURE}/sys`, 'LE');
  t.strictSame(table.sockets, []);
  t.match(table.notes, [/net\/tcp: no such file$/, /net\/tcp6: no such file \(IPv6 disabled\?\)$/]);
});

t.test('owners from the fixture fd symlinks, named as people know them', async (t) => {
  const owners = await findSocketOwners([1001, 1002, 1003, 1004, 1005, 1006, 2001, 2002, 2003, 2004, 0], FIXTURE);
  t.equal(owners.unreadable, 0);
  const pidOf = (inode: number) => owners.byInode.get(inode)?.map((p) => p.pid);
  t.strictSame([1001, 1002, 1003, 1004].map(pidOf), [[4242], [4242], [4242], [4242]]);
  t.strictSame(pidOf(1005), [900]);
  t.strictSame(pidOf(2001), [5000]);
  t.strictSame(pidOf(2003), [5000]);
  t.strictSame(pidOf(2002), [6000]);
  t.equal(pidOf(1006), undefined, 'nobody in the tree holds it');
  t.equal(owners.byInode.has(9999), false, 'only inodes asked for');
  const gobgpd = owners.byInode.get(1001)![0]!;
  t.strictSame(gobgpd, { pid: 4242, comm: 'gobgpd', cmdline: ['/usr/bin/gobgpd', '-f', '/etc/gobgpd/gobgpd.toml'] });
  t.equal(describeProcess(gobgpd), 'gobgpd (pid 4242)');
  const daemon = owners.byInode.get(1005)![0]!;
  t.equal(daemon.comm, 'node');
  t.ok(isBgpAnnounce(daemon), 'node running bin/bgp-announce.js is us');
  t.equal(processName(daemon), 'bgp-announce');
  t.notOk(isBgpAnnounce(owners.byInode.get(2001)![0]!), 'another node program is not');
  t.equal(processName(owners.byInode.get(2001)![0]!), 'node');
  t.equal(processName(owners.byInode.get(2002)![0]!), 'bird');
});

t.test('process names of the speakers met beside us', async (t) => {
  const p = (comm: string, ...cmdline: string[]) => ({ pid: 1, comm, cmdline });
  t.equal(processName(p('bgpd', '/usr/lib/frr/bgpd', '-d')), 'bgpd (FRR)');
  t.equal(processName(p('bgpd', '/usr/sbin/bgpd')), 'bgpd');
  t.equal(processName(p('speaker', '/speaker', '--port=7472')), 'speaker (MetalLB)');
  t.equal(processName(p('kube-vip', '/kube-vip', 'manager')), 'kube-vip');
  t.equal(processName(p('cilium-agent', 'cilium-agent', '--config-dir=/tmp/cilium')), 'cilium-agent');
  t.equal(processName(p('python3', '/usr/bin/python3', '/usr/sbin/exabgp', 'conf.ini')), 'exabgp');
  t.equal(processName(p('bgp-announce', '/bgp-announce', 'daemon')), 'bgp-announce');
  t.equal(processName(p('node', 'node', '/app/not-bgp-announce.js')), 'node');
  t.equal(
    processName(p('node', 'node', '/app/node_modules/@bgp-announce/cli/dist/main.js', 'daemon')),
    'bgp-announce',
    'the built entry point',
  );
  t.equal(processName(p('node', 'node', '/src/packages/cli/dist/main.js', 'daemon')), 'bgp-announce');
  t.equal(processName(p('node', 'node', '/src/packages/other/dist/main.js')), 'node');
});

/** The fixture tree as seen without root: other users' fd directories refuse, one process exits while read. */
function unprivileged(denied: Set<number>, vanishing: Set<number>): ProcFs {
  const error = (code: string) => Object.assign(new Error(code), { code });
  return {
    readdir: async (path) => {
      const m = /\/(\d+)\/fd$/.exec(path);
      if (m && denied.has(Number(m[1]))) throw error('EACCES');
      if (m && vanishing.has(Number(m[1]))) throw error('ENOENT');
      return nodeProcFs.readdir(path);
    },
    readlink: async (path) => {
      if (path.endsWith('/fd/4')) throw error('ENOENT'); // the fd was closed between readdir and readlink
      return nodeProcFs.readlink(path);
    },
    readFile: nodeProcFs.readFile,
  };
}

t.test(
  'without root: unreadable fds and races are counted, and the owner is "unknown (run as root ...)"',
  async (t) => {
    const fs = unprivileged(new Set([4242, 6000]), new Set([5000]));
    const node = await readNodeSockets({ procRoot: FIXTURE, fs, byteOrder: 'LE' });
    t.equal(node.unreadable, 2);
    t.strictSame([...node.owners.keys()].sort(), [1005], 'only our own (same-user) process is seen');
    const listen179 = node.sockets.find((s) => s.localPort === 179 && s.state === 'LISTEN' && s.table === 'tcp')!;
    const owner = socketOwner(listen179, node);
    t.equal(owner.kind, 'unknown');
    t.equal(owner.text, 'uid 0, owner unknown (run as root to see the process)');
    t.equal(socketOwner(node.sockets.find((s) => s.inode === 1005)!, node).kind, 'ours');
    const gone = await findSocketOwners([1001], `${FIXTURE}/no-such-dir`);
    t.strictSame(
      gone,
      { byInode: new Map(), unreadable: 0, vanished: 0 },
      'an unreadable /proc gives no owners, no crash',
    );
  },
);

t.test('as root, a socket nobody in our PID namespace holds, and a closing one', async (t) => {
  const node = await readNodeSockets({ procRoot: FIXTURE, byteOrder: 'LE' });
  const ssh = node.sockets.find((s) => s.inode === 1006)!;
  t.match(
    socketOwner(ssh, node).text,
    /^uid 0, owner unknown \(no process of this PID namespace holds it: .*hostPID\)$/,
  );
  const timeWait = node.sockets.find((s) => s.state === 'TIME_WAIT')!;
  t.match(socketOwner(timeWait, node).text, /socket is closing/);
  t.strictSame(socketOwner(node.sockets.find((s) => s.inode === 1003)!, node).text, 'gobgpd (pid 4242)');
});

t.test('readProcessInfo of a process that is gone', async (t) => {
  t.strictSame(await readProcessInfo(123456, FIXTURE), { pid: 123456, comm: '?', cmdline: [] });
});

t.test(
  'live: a listener and a connection of this process are found in the real /proc with our pid',
  { skip: process.platform !== 'linux' && 'needs Linux /proc' },
  async (t) => {
    const server = net.createServer((c) => c.on('error', () => {}));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.teardown(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as net.AddressInfo).port;
    const client = net.connect(port, '127.0.0.1');
    t.teardown(() => void client.destroy());
    await new Promise<void>((resolve) => client.once('connect', () => resolve()));
    const node = await readNodeSockets();
    const listener = node.sockets.find(
      (s) => s.state === 'LISTEN' && s.localPort === port && s.localAddress === '127.0.0.1',
    );
    t.ok(listener, `LISTEN 127.0.0.1:${port} is in /proc/net/tcp`);
    t.equal(listener!.uid, process.getuid!());
    const owners = node.owners.get(listener!.inode) ?? [];
    t.strictSame(
      owners.map((p) => p.pid),
      [process.pid],
      'held by this very process',
    );
    t.equal(owners[0]!.comm, (await nodeProcFs.readFile('/proc/self/comm')).trim());
    const outgoing = node.sockets.find(
      (s) => s.state === 'ESTABLISHED' && s.remotePort === port && s.localPort === client.localPort,
    );
    t.ok(outgoing, 'the client side, ESTABLISHED to the listener');
    t.strictSame(
      node.owners.get(outgoing!.inode)?.map((p) => p.pid),
      [process.pid],
    );
  },
);

t.test("live: the kernel's source address toward an address, without sending", async (t) => {
  t.equal(await kernelSourceAddress('127.0.0.1'), '127.0.0.1');
  t.equal(await kernelSourceAddress('not an address'), undefined);
});
