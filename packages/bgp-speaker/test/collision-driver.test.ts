// Connection collision (RFC 4271 6.8) in the SessionDriver, over real TCP on loopback. The peer is
// played by the test with raw sockets: it accepts our outbound connection and reads our OPEN, then
// opens a second connection to our listener and sends its OPEN there. Which connection survives
// depends on the BGP identifiers; the loser gets Cease 7 (bytes checked by hand).
import t, { type Test } from 'tap';
import net from 'node:net';
import { MessageFramer, decodeMessage, encodeMessage, type BgpMessage, type OpenMessage } from '@bgp-announce/bgp-wire';
import { SessionDriver } from '../src/session/driver.js';
import { peerConfig } from '../src/session/config.js';

/** A connection seen message by message; next(type) resolves with the next message of that type. */
function messages(socket: net.Socket) {
  const framer = new MessageFramer();
  const got: BgpMessage[] = [];
  const waiters: (() => void)[] = [];
  let closed = false;
  socket.on('data', (chunk) => {
    for (const m of framer.push(chunk).messages) got.push(decodeMessage(m, { fourOctetAs: true }));
    for (const w of waiters.splice(0)) w();
  });
  socket.on('error', () => {});
  socket.on('close', () => {
    closed = true;
    for (const w of waiters.splice(0)) w();
  });
  return {
    got,
    get closed() {
      return closed;
    },
    /** Resolves once pred() holds (checked on every message and on close); rejects after 5 s real time. */
    until(what: string, pred: () => boolean): Promise<void> {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`timed out waiting for ${what}; got ${got.map((m) => m.type).join(', ')}`)),
          5000,
        );
        const check = (): void => {
          if (pred()) {
            clearTimeout(timer);
            resolve();
          } else waiters.push(check);
        };
        check();
      });
    },
  };
}

const peerOpen = (bgpId: string): OpenMessage => ({
  type: 'OPEN',
  version: 4,
  myAs: 64497,
  holdTime: 90,
  bgpId,
  capabilities: [
    { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
    { code: 65, name: 'four-octet-as', asn: 64497 },
  ],
});

/** Our driver (192.0.2.1, AS 64496, mode both) connected to the test's server; resolves once our OPEN is there. */
async function setUp(t: Test) {
  let accept: (s: net.Socket) => void = () => {};
  const accepted = new Promise<net.Socket>((resolve) => (accept = resolve));
  const server = net.createServer((s) => accept(s));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const driver = new SessionDriver({
    config: peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1', mode: 'both' }),
    peerAddress: '127.0.0.1',
    peerPort: (server.address() as net.AddressInfo).port,
    listen: { host: '127.0.0.1', port: 0 },
    closeTimeoutMs: 200,
  });
  driver.on('error', () => {});
  const listening = new Promise<number>((resolve) => driver.once('listening', (a) => resolve(a.port)));
  driver.start();
  const listenPort = await listening;
  const outSocket = await accepted;
  const ours = messages(outSocket);
  await ours.until('our OPEN on our connection', () => ours.got.some((m) => m.type === 'OPEN'));
  t.teardown(async () => {
    await driver.stop();
    outSocket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });
  /** The peer's own connection to our listener, with its OPEN sent. */
  const connectIn = async (bgpId: string) => {
    const socket = net.connect({ host: '127.0.0.1', port: listenPort });
    await new Promise((resolve) => socket.once('connect', resolve));
    t.teardown(() => socket.destroy());
    const inbound = messages(socket);
    socket.write(encodeMessage(peerOpen(bgpId)));
    return { socket, inbound };
  };
  return { driver, outSocket, ours, connectIn, listenPort };
}

const isCease7 = (m: BgpMessage | undefined): boolean => m?.type === 'NOTIFICATION' && m.code === 6 && m.subcode === 7;

t.test(
  'the peer has the higher identifier: our connection gets Cease 7, the session goes on over the inbound one',
  async (t) => {
    const { driver, ours, connectIn } = await setUp(t);
    const collision = new Promise((resolve) => driver.once('collision', (...args) => resolve(args)));
    const { socket, inbound } = await connectIn('192.0.2.2');
    t.strictSame(await collision, ['inbound', '192.0.2.2'], 'kept the inbound connection');
    await ours.until('Cease 7 on our connection', () => isCease7(ours.got.at(-1)));
    await ours.until('our connection closed', () => ours.closed);
    await inbound.until('our OPEN and KEEPALIVE on the inbound connection', () =>
      inbound.got.some((m) => m.type === 'KEEPALIVE'),
    );
    t.strictSame(
      inbound.got.map((m) => m.type),
      ['OPEN', 'KEEPALIVE'],
      'OPEN, then KEEPALIVE for the peer OPEN',
    );
    t.equal(driver.state.state, 'OpenConfirm');
    const established = new Promise((resolve) => driver.once('established', resolve));
    socket.write(encodeMessage({ type: 'KEEPALIVE' }));
    await established;
    t.equal(driver.state.state, 'Established', 'Established over the inbound connection');
    t.equal(driver.state.counters.establishedTransitions, 1);
  },
);

t.test('the peer has the lower identifier: the inbound connection gets Cease 7, ours goes on', async (t) => {
  const { driver, outSocket, ours, connectIn } = await setUp(t);
  const collision = new Promise((resolve) => driver.once('collision', (...args) => resolve(args)));
  const { inbound } = await connectIn('192.0.2.0');
  t.strictSame(await collision, ['outbound', '192.0.2.0'], 'kept our connection');
  await inbound.until('Cease 7 on the inbound connection', () => inbound.closed && inbound.got.length > 0);
  t.strictSame(
    inbound.got.map((m) => m.type),
    ['NOTIFICATION'],
    'nothing but the NOTIFICATION (no OPEN) on the loser',
  );
  t.ok(isCease7(inbound.got[0]), 'Cease 7, Connection Collision Resolution');
  t.equal(driver.state.state, 'OpenSent', 'our connection still waits for the OPEN');
  outSocket.write(encodeMessage(peerOpen('192.0.2.0')));
  outSocket.write(encodeMessage({ type: 'KEEPALIVE' }));
  await ours.until('our KEEPALIVE', () => ours.got.some((m) => m.type === 'KEEPALIVE'));
  await new Promise((resolve) =>
    driver.state.state === 'Established' ? resolve(undefined) : driver.once('established', resolve),
  );
  t.equal(driver.state.state, 'Established', 'Established over our connection');
});

t.test('a second connection while Established is closed at once', async (t) => {
  const { driver, outSocket, ours, connectIn } = await setUp(t);
  outSocket.write(encodeMessage(peerOpen('192.0.2.2')));
  outSocket.write(encodeMessage({ type: 'KEEPALIVE' }));
  await new Promise((resolve) => driver.once('established', resolve));
  const { inbound } = await connectIn('192.0.2.2');
  await inbound.until('the inbound connection closed', () => inbound.closed);
  t.strictSame(inbound.got, [], 'closed without a message');
  t.equal(driver.state.state, 'Established', 'the session is untouched');
  t.notOk(
    ours.got.some((m) => m.type === 'NOTIFICATION'),
    'no NOTIFICATION on the session',
  );
});

t.test('an inbound connection that sends a KEEPALIVE instead of an OPEN is dropped; ours goes on', async (t) => {
  const { driver, listenPort } = await setUp(t);
  const bad = net.connect({ host: '127.0.0.1', port: listenPort });
  t.teardown(() => bad.destroy());
  const badMessages = messages(bad);
  await new Promise((resolve) => bad.once('connect', resolve));
  bad.write(encodeMessage({ type: 'KEEPALIVE' }));
  await badMessages.until('closed', () => badMessages.closed);
  t.strictSame(badMessages.got, [], 'dropped without a message');
  t.equal(driver.state.state, 'OpenSent', 'our connection is untouched');
});
