// Our OPEN, the checks of the peer's, and negotiation against OPENs captured from FRR, BIRD, GoBGP, ExaBGP.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeMessage, encodeMessage, splitMessages, type OpenMessage } from '@bgp-announce/bgp-wire';
import { peerConfig, type PeerConfigInput } from '../src/session/config.js';
import { buildOpen, checkOpen, type OpenCheck } from '../src/session/open-policy.js';

const M = 'ffffffffffffffffffffffffffffffff';
const clean = (h: string): string => h.replace(/\s+/g, '');
const hex = (buf: Uint8Array): string => Buffer.from(buf).toString('hex');
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/bgp/', import.meta.url));

/** The OPEN (first message) of a captured stream. */
function capturedOpen(file: string): OpenMessage {
  const { messages } = splitMessages(readFileSync(FIXTURES + file), 65535);
  const msg = decodeMessage(messages[0]!);
  if (msg.type !== 'OPEN') throw new Error(`${file} does not start with an OPEN`);
  return msg;
}

const config = (o: Partial<PeerConfigInput> = {}) =>
  peerConfig({ localAs: 64496, peerAs: 64497, bgpId: '192.0.2.1', ...o });
const open = (o: Partial<OpenMessage> = {}): OpenMessage => ({
  type: 'OPEN',
  version: 4,
  myAs: 64497,
  holdTime: 90,
  bgpId: '192.0.2.2',
  capabilities: [
    { code: 1, name: 'multiprotocol', afi: 1, safi: 1 },
    { code: 65, name: 'four-octet-as', asn: 64497 },
  ],
  ...o,
});
const refused = (r: OpenCheck) =>
  r.ok ? undefined : { code: r.notification.code, subcode: r.notification.subcode, data: r.notification.data };
const accepted = (r: OpenCheck) => {
  if (!r.ok) throw new Error(`refused: ${r.reason}`);
  return r.negotiated;
};

t.test('our OPEN, byte for byte', async (t) => {
  // 2-octet AS: see fsm.test.ts for the default capabilities. Here a 4-octet AS 65550 (0x0001000e):
  // My AS is AS_TRANS 23456 (5ba0); hold 30 (001e); 203.0.113.9 (cb007109); IPv4 + IPv6 unicast,
  // no enhanced route refresh, no extended message, ADD-PATH IPv4 receive (45 04 0001 01 01),
  // extended next hop IPv4/IPv6 (05 06 0001 0001 0002), graceful restart 120 s, N bit, IPv4 F=1 and
  // IPv6 F=0 (40 0a 4078 0001 01 80 0002 01 00). Capabilities 6+6+2+6+6+8+12 = 46 (0x2e); param 48 (0x30).
  const cfg = config({
    localAs: 65550,
    holdTime: 30,
    bgpId: '203.0.113.9',
    families: ['ipv4-unicast', 'ipv6-unicast'],
    enhancedRouteRefresh: false,
    extendedMessage: false,
    extendedNextHop: true,
    addPath: { 'ipv4-unicast': 'receive' },
    gracefulRestart: { restartTime: 120, forwardingState: ['ipv4-unicast'] },
  });
  const want = `${M} 004d 01 04 5ba0 001e cb007109 30 02 2e
    01 04 0001 00 01  01 04 0002 00 01  02 00  41 04 0001000e  05 06 0001 0001 0002  45 04 0001 01 01
    40 0a 4078 0001 01 80 0002 01 00`;
  t.equal(hex(encodeMessage(buildOpen(cfg))), clean(want));
});

t.test('every refusal, with the exact NOTIFICATION', async (t) => {
  const cases: [
    string,
    Partial<PeerConfigInput>,
    Partial<OpenMessage>,
    { code: number; subcode: number; data: string | undefined },
  ][] = [
    ['version 3', {}, { version: 3 }, { code: 2, subcode: 1, data: '0004' }],
    ['wrong 2-octet AS', {}, { myAs: 64498, capabilities: [] }, { code: 2, subcode: 2, data: 'fbf2' }],
    [
      'wrong 4-octet AS',
      { peerAs: 65550 },
      { myAs: 23456, capabilities: [{ code: 65, name: 'four-octet-as', asn: 65551 }] },
      { code: 2, subcode: 2, data: '0001000f' },
    ],
    [
      'AS_TRANS without the 4-octet capability',
      { peerAs: 65550 },
      { myAs: 23456, capabilities: [] },
      { code: 2, subcode: 2, data: '5ba0' },
    ],
    [
      '4-octet peer AS configured, old peer',
      { peerAs: 65550 },
      { myAs: 64497, capabilities: [] },
      { code: 2, subcode: 2, data: 'fbf1' },
    ],
    ['hold time 2', {}, { holdTime: 2 }, { code: 2, subcode: 6, data: undefined }],
    ['hold time below our minimum', { minHoldTime: 10 }, { holdTime: 9 }, { code: 2, subcode: 6, data: undefined }],
    ['identifier 0.0.0.0', {}, { bgpId: '0.0.0.0' }, { code: 2, subcode: 3, data: undefined }],
    [
      'iBGP peer with our identifier',
      { peerAs: 64496 },
      { myAs: 64496, bgpId: '192.0.2.1', capabilities: [{ code: 65, name: 'four-octet-as', asn: 64496 }] },
      { code: 2, subcode: 3, data: undefined },
    ],
    [
      'optional parameter type 1',
      {},
      { layout: { groups: [2], extended: false, otherParameters: [{ type: 1, hex: '00' }] } },
      { code: 2, subcode: 4, data: undefined },
    ],
    [
      'required enhanced route refresh missing',
      { requiredCapabilities: [70] },
      {},
      { code: 2, subcode: 7, data: '4600' },
    ],
    [
      'required graceful restart missing: our capability as data',
      { requiredCapabilities: [64], gracefulRestart: { restartTime: 120 } },
      {},
      { code: 2, subcode: 7, data: '40064078000101' + '00' },
    ],
    [
      'required capability we do not send ourselves',
      { requiredCapabilities: [9] },
      {},
      { code: 2, subcode: 7, data: '0900' },
    ],
    ['no family in common', { families: ['ipv6-unicast'] }, {}, { code: 2, subcode: 7, data: '010400020001' }],
    [
      'no multiprotocol capability means IPv4 only',
      { families: ['ipv6-unicast'] },
      { capabilities: [] },
      { code: 2, subcode: 7, data: '010400020001' },
    ],
  ];
  for (const [what, cfg, msg, want] of cases) {
    const r = checkOpen(config(cfg), open(msg));
    t.strictSame(refused(r), want, what);
    if (!r.ok) t.type(r.reason, 'string');
  }
});

t.test('acceptances at the edges', async (t) => {
  t.equal(accepted(checkOpen(config(), open({ holdTime: 3 }))).holdTime, 3, 'hold time 3 is the smallest allowed');
  t.equal(accepted(checkOpen(config(), open({ holdTime: 3 }))).keepaliveTime, 1);
  const zero = accepted(checkOpen(config(), open({ holdTime: 0 })));
  t.strictSame([zero.holdTime, zero.keepaliveTime], [0, 0]);
  t.equal(accepted(checkOpen(config({ holdTime: 0 }), open())).holdTime, 0, 'our 0 wins too');
  t.equal(
    accepted(checkOpen(config({ keepaliveTime: 10 }), open())).keepaliveTime,
    10,
    'configured keepalive below hold/3',
  );
  t.equal(
    accepted(checkOpen(config({ bgpId: '192.0.2.2' }), open())).peerBgpId,
    '192.0.2.2',
    'eBGP may share the identifier (RFC 6286)',
  );
  const old = accepted(checkOpen(config(), open({ capabilities: [] })));
  t.strictSame(
    [old.fourOctetAs, old.families, old.routeRefresh, old.maxMessageLength],
    [false, ['ipv4-unicast'], false, 4096],
  );
  t.strictSame(old.send, { fourOctetAs: false, addPath: [], maxMessageLength: 4096, ibgp: false });
});

t.test('negotiation against captured OPENs', async (t) => {
  t.test(
    "FRR's OPEN (gobgp-frr): 4-octet AS 65537, hold 9, ADD-PATH receive, extended message, GR restarting",
    async (t) => {
      const frr = capturedOpen('gobgp-frr.frr-to-gobgp.bin');
      const cfg = config({
        localAs: 65536,
        peerAs: 65537,
        addPath: { 'ipv4-unicast': 'both' },
        gracefulRestart: { restartTime: 120 },
      });
      t.strictSame(accepted(checkOpen(cfg, frr)), {
        peerAs: 65537,
        peerBgpId: '192.0.2.2',
        ibgp: false,
        holdTime: 9,
        keepaliveTime: 3,
        fourOctetAs: true,
        families: ['ipv4-unicast'],
        addPath: { receive: [], send: ['ipv4-unicast'] },
        routeRefresh: true,
        enhancedRouteRefresh: true,
        extendedMessage: true,
        maxMessageLength: 65535,
        extendedNextHop: [],
        receive: { fourOctetAs: true, addPath: [], maxMessageLength: 65535, ibgp: false },
        send: { fourOctetAs: true, addPath: ['ipv4-unicast'], maxMessageLength: 65535, ibgp: false },
        gracefulRestart: { restartTime: 120, restarting: true, notification: true, families: [] },
      });
      t.strictSame(
        refused(checkOpen(config({ peerAs: 65538 }), frr)),
        { code: 2, subcode: 2, data: '00010001' },
        'wrong AS: the 4-octet AS as data',
      );
    },
  );

  t.test("BIRD's OPEN (frr-bird-v6): IPv4+IPv6, extended next hop, ADD-PATH both, no extended message", async (t) => {
    const bird = capturedOpen('frr-bird-v6.bird-to-frr.bin');
    const cfg = config({
      peerAs: 64510,
      holdTime: 30,
      keepaliveTime: 1,
      families: ['ipv4-unicast', 'ipv6-unicast'],
      extendedNextHop: true,
      addPath: { 'ipv4-unicast': 'receive' },
    });
    const n = accepted(checkOpen(cfg, bird));
    t.strictSame([n.holdTime, n.keepaliveTime], [9, 1]);
    t.strictSame(n.families, ['ipv4-unicast', 'ipv6-unicast']);
    t.strictSame(n.extendedNextHop, ['ipv4-unicast']);
    t.strictSame(n.addPath, { receive: ['ipv4-unicast'], send: [] });
    t.strictSame([n.extendedMessage, n.maxMessageLength], [false, 4096]);
    t.equal(n.gracefulRestart, undefined, 'we did not advertise graceful restart');
    const withGr = accepted(checkOpen(config({ ...cfg, gracefulRestart: { restartTime: 60 } }), bird));
    t.strictSame(withGr.gracefulRestart, {
      restartTime: 120,
      restarting: false,
      notification: false,
      families: [
        { afi: 1, safi: 1, forwardingState: false },
        { afi: 2, safi: 1, forwardingState: false },
      ],
    });
    t.strictSame(
      accepted(checkOpen(config({ ...cfg, extendedNextHop: false }), bird)).extendedNextHop,
      [],
      'only when both offer it',
    );
  });

  t.test("BIRD's OPEN without the 4-octet AS capability (bird-frr-as2)", async (t) => {
    const bird = capturedOpen('bird-frr-as2.bird-to-frr.bin');
    const n = accepted(checkOpen(config({ peerAs: 64511 }), bird));
    t.strictSame([n.peerAs, n.fourOctetAs, n.send.fourOctetAs, n.receive.fourOctetAs], [64511, false, false, false]);
    t.strictSame(refused(checkOpen(config({ peerAs: 65540 }), bird)), { code: 2, subcode: 2, data: 'fbff' });
  });

  t.test("GoBGP's OPEN (iBGP, no enhanced route refresh, no graceful restart)", async (t) => {
    const gobgp = capturedOpen('bird-gobgp-ibgp.gobgp-to-bird.bin');
    const cfg = config({ localAs: 65541, peerAs: 65541, bgpId: '192.0.2.33', gracefulRestart: { restartTime: 120 } });
    const n = accepted(checkOpen(cfg, gobgp));
    t.strictSame(
      [n.ibgp, n.peerAs, n.enhancedRouteRefresh, n.routeRefresh, n.extendedMessage],
      [true, 65541, false, true, false],
    );
    t.equal(n.gracefulRestart, undefined);
    t.equal(n.receive.ibgp, true);
    t.strictSame(
      refused(checkOpen(config({ ...cfg, bgpId: '192.0.2.35' }), gobgp)),
      { code: 2, subcode: 3, data: undefined },
      'same identifier on iBGP',
    );
    t.strictSame(refused(checkOpen(config({ ...cfg, requiredCapabilities: [64] }), gobgp))?.subcode, 7);
  });

  t.test("ExaBGP's OPEN: graceful restart with forwarding state preserved", async (t) => {
    const exa = capturedOpen('exabgp-bird-ibgp.exabgp-to-bird.bin');
    const n = accepted(
      checkOpen(
        config({ localAs: 65541, peerAs: 65541, bgpId: '192.0.2.33', gracefulRestart: { restartTime: 120 } }),
        exa,
      ),
    );
    t.strictSame(n.gracefulRestart, {
      restartTime: 90,
      restarting: true,
      notification: false,
      families: [{ afi: 1, safi: 1, forwardingState: true }],
    });
    t.equal(n.extendedMessage, true);
  });
});

t.test('config defaults and bad values', async (t) => {
  const c = config();
  t.strictSame(
    [c.holdTime, c.connectRetryTime, c.mode, c.idleHoldTime, c.maxIdleHoldTime, c.reconnectTime, c.maxReconnectTime],
    [90, 2, 'active', 1, 120, 0.25, 1],
  );
  t.strictSame(c.families, ['ipv4-unicast']);
  t.throws(() => config({ reconnectTime: -1 }), /reconnectTime -1 is outside 0-65535/);
  t.throws(() => config({ maxReconnectTime: Number.NaN }), /maxReconnectTime NaN is outside/);
  t.throws(() => config({ holdTime: 2 }), RangeError);
  t.throws(() => config({ bgpId: '0.0.0.0' }), RangeError);
  t.throws(() => config({ bgpId: '192.0.2.300' }), RangeError);
  t.throws(() => config({ localAs: 0 }), RangeError);
});
