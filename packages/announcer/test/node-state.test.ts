// The pure parts of the per-node state: buildNodeStatus (sessions Established or Down with since
// when and why, a repeated down reason keeping its time, Services announced only to peers with an
// Established session, reasons without the node's name, the lists cut by count and bytes in name
// order with the rest counted), and the leader's NodeStateIndex (which Services a node's new report
// touches; the aggregate condition: True with nodes and peers, False with the commonest reason and how
// many nodes give it, nothing for stale or missing reports, a note for nodes whose lists are cut).
import t from 'tap';
import type { PeerStatus } from '@bgp-announce/bgp-speaker';
import { buildNodeStatus, nodeFreeReason, sameStatus, type NodeStateStatus } from '../src/kube/node-state.js';
import {
  ANNOUNCED_CONDITION,
  NodeStateIndex,
  messageOnlyChange,
  removeLegacyConditions,
} from '../src/kube/announced-aggregate.js';
import type { ServicePlan } from '../src/plan/announce-plan.js';
import type { Service } from '../src/service/model.js';
import { CONDITION_REASON_RE } from './helpers/kube-harness.js';

const T0 = Date.parse('2026-03-01T12:00:00Z');

function peer(id: string, over: Partial<PeerStatus> = {}): PeerStatus {
  return {
    id,
    peerAddress: `192.0.2.${id.length}`,
    peerAs: 64497,
    state: 'Established',
    advertised: 3,
    received: 0,
    receivedAsLoop: 0,
    localAs: 64496,
    bgpId: '192.0.2.21',
    establishedAt: T0,
    counters: {} as PeerStatus['counters'],
    restartLeave: 'stop' as PeerStatus['restartLeave'],
    ...over,
  };
}

const down = (at: number, message: string) =>
  ({ at, message, kind: 'connection-failed', state: 'Connect' }) as PeerStatus['lastDown'];
const svc = (key: string, ips: string[], announced: boolean, peers: string[] = [], reason?: string): ServicePlan => ({
  key,
  ips,
  announced,
  peers,
  ...(reason ? { reason } : {}),
});

t.test(
  'buildNodeStatus: sessions, Services announced to Established peers only, reasons without the node name',
  async (t) => {
    const peers = [
      peer('tor-b', {
        state: 'Active',
        establishedAt: undefined,
        lastDown: down(T0 + 1500, 'connect ECONNREFUSED 192.0.2.5:179'),
        advertised: 0,
      }),
      peer('tor-a', { bfd: { state: 'Up', holding: false }, received: 2 }),
    ];
    const plan = {
      services: [
        svc('demo/api', ['203.0.113.6'], true, ['tor-b']),
        svc('demo/local', ['203.0.113.7'], false, [], 'no ready local endpoint (externalTrafficPolicy Local)'),
        svc('demo/web', ['203.0.113.5', '2001:db8::5'], true, ['tor-a', 'tor-b']),
        svc(
          'kube/x',
          [],
          false,
          [],
          'node node-a has the label node.kubernetes.io/exclude-from-external-load-balancers',
        ),
        svc(
          'kube/y',
          ['203.0.113.8'],
          false,
          [],
          'node node-a has the label node.kubernetes.io/exclude-from-external-load-balancers',
        ),
      ],
    };
    const s = buildNodeStatus({ nodeName: 'node-a', plan, peers });
    t.strictSame(s.sessions, [
      {
        peer: 'tor-a',
        peerAddress: '192.0.2.5',
        peerASN: 64497,
        state: 'Established',
        prefixesSent: 3,
        prefixesReceived: 2,
        establishedSince: '2026-03-01T12:00:00Z',
        bfd: 'Up',
      },
      {
        peer: 'tor-b',
        peerAddress: '192.0.2.5',
        peerASN: 64497,
        state: 'Down',
        prefixesSent: 0,
        prefixesReceived: 0,
        lastDown: { at: '2026-03-01T12:00:01Z', reason: 'connect ECONNREFUSED 192.0.2.5:179' },
      },
    ]);
    t.strictSame(
      [s.sessionsEstablished, s.sessionsTotal, s.servicesAnnounced, s.servicesNotAnnounced, s.unlisted],
      [1, 2, 1, 3, 0],
    );
    t.strictSame(
      s.announced,
      [{ service: 'demo/web', addresses: ['203.0.113.5', '2001:db8::5'], peers: ['tor-a'] }],
      'web goes to tor-a only: tor-b is down',
    );
    t.strictSame(
      s.notAnnounced,
      [
        { service: 'demo/api', addresses: ['203.0.113.6'], reason: 'no Established BGP session to its peers (tor-b)' },
        {
          service: 'demo/local',
          addresses: ['203.0.113.7'],
          reason: 'no ready local endpoint (externalTrafficPolicy Local)',
        },
        {
          service: 'kube/y',
          addresses: ['203.0.113.8'],
          reason: 'the node has the label node.kubernetes.io/exclude-from-external-load-balancers',
        },
      ],
      'kube/x, without an address, is not listed',
    );

    // The next attempt fails the same way a little later: the entry keeps its time, the status is the same.
    const again = buildNodeStatus({
      nodeName: 'node-a',
      plan,
      peers: [{ ...peers[0]!, lastDown: down(T0 + 31_000, 'connect ECONNREFUSED 192.0.2.5:179') }, peers[1]!],
      previous: s,
    });
    t.ok(sameStatus(again, s), 'a repeated down reason keeps its first time: nothing to write');
    const other = buildNodeStatus({
      nodeName: 'node-a',
      plan,
      peers: [{ ...peers[0]!, lastDown: down(T0 + 61_000, 'hold timer expired') }, peers[1]!],
      previous: s,
    });
    t.equal(other.sessions[1]!.lastDown?.at, '2026-03-01T12:01:01Z', 'another reason: a new time');
    t.notOk(sameStatus(other, s));
    // A protocol failure says it backs off; its growing pause is left out, so repeats write nothing.
    const refused = (at: number, pauseMs: number) =>
      ({
        at,
        message: 'peer sent NOTIFICATION 2/2',
        kind: 'notification-received',
        state: 'OpenSent',
        failure: 'protocol',
        pauseMs,
      }) as PeerStatus['lastDown'];
    const bad = buildNodeStatus({
      nodeName: 'node-a',
      plan,
      peers: [{ ...peers[0]!, lastDown: refused(T0 + 70_000, 1000) }, peers[1]!],
      previous: s,
    });
    t.equal(bad.sessions[1]!.lastDown?.reason, 'peer sent NOTIFICATION 2/2 (protocol error: backing off)');
    const worse = buildNodeStatus({
      nodeName: 'node-a',
      plan,
      peers: [{ ...peers[0]!, lastDown: refused(T0 + 90_000, 16_000) }, peers[1]!],
      previous: bad,
    });
    t.ok(sameStatus(worse, bad), 'a longer back-off of the same failure: nothing to write');
    t.ok(
      sameStatus(
        JSON.parse(
          JSON.stringify({ ...s, sessions: s.sessions.map((x) => Object.fromEntries(Object.entries(x).reverse())) }),
        ) as NodeStateStatus,
        s,
      ),
      'key order does not matter',
    );

    t.equal(
      nodeFreeReason('node n1 has the condition NetworkUnavailable=True', 'n1'),
      'the node has the condition NetworkUnavailable=True',
    );
    t.equal(
      nodeFreeReason('node n10 has the label x', 'n1'),
      'node n10 has the label x',
      'another node name is left alone',
    );
    t.strictSame(buildNodeStatus({ nodeName: 'n', plan: undefined, peers: [] }), {
      sessionsEstablished: 0,
      sessionsTotal: 0,
      servicesAnnounced: 0,
      servicesNotAnnounced: 0,
      sessions: [],
      announced: [],
      notAnnounced: [],
      unlisted: 0,
    });
  },
);

t.test(
  'buildNodeStatus: the lists are cut in name order across both, by count and by bytes, the rest counted',
  async (t) => {
    const services = Array.from({ length: 50 }, (_, i) =>
      svc(
        `ns/s${String(i).padStart(2, '0')}`,
        [`203.0.113.${i}`],
        i % 2 === 0,
        ['tor'],
        i % 2 === 0 ? undefined : 'no ready local endpoint (externalTrafficPolicy Local)',
      ),
    );
    const s = buildNodeStatus({ nodeName: 'n', plan: { services }, peers: [peer('tor')], maxListed: 10 });
    t.equal(s.announced.length + s.notAnnounced.length, 10);
    t.strictSame(
      [...s.announced, ...s.notAnnounced].map((e) => e.service).sort(),
      services.slice(0, 10).map((x) => x.key),
      'the first ten names',
    );
    t.strictSame([s.servicesAnnounced, s.servicesNotAnnounced, s.unlisted], [25, 25, 40]);
    const small = buildNodeStatus({ nodeName: 'n', plan: { services }, peers: [peer('tor')], maxBytes: 1000 });
    const listed = JSON.stringify(small.announced).length + JSON.stringify(small.notAnnounced).length;
    t.ok(listed <= 1000 && small.unlisted > 0, `${listed} bytes listed, ${small.unlisted} unlisted`);
  },
);

/** A node's status with these entries. */
function report(
  announced: [string, string[], string[]][],
  notAnnounced: [string, string[], string][] = [],
  unlisted = 0,
): NodeStateStatus {
  return {
    sessionsEstablished: 1,
    sessionsTotal: 1,
    servicesAnnounced: announced.length,
    servicesNotAnnounced: notAnnounced.length + unlisted,
    sessions: [],
    announced: announced.map(([service, addresses, peers]) => ({ service, addresses, peers })),
    notAnnounced: notAnnounced.map(([service, addresses, reason]) => ({ service, addresses, reason })),
    unlisted,
  };
}

t.test('NodeStateIndex: the Services a report touches, and the aggregate condition', async (t) => {
  const index = new NodeStateIndex();
  const web = ['203.0.113.5'];
  const LOCAL = 'no ready local endpoint (externalTrafficPolicy Local)';
  t.strictSame(index.set('n1', report([['demo/web', web, ['tor-a']]], [['demo/db', ['203.0.113.9'], LOCAL]])), {
    services: new Set(['demo/web', 'demo/db']),
    all: false,
  });
  t.strictSame(
    index.set('n1', report([['demo/web', web, ['tor-a']]], [['demo/db', ['203.0.113.9'], LOCAL]])),
    { services: new Set(), all: false },
    'the same report touches nothing',
  );
  index.set('n2', report([['demo/web', web, ['tor-a', 'tor-b']]], [['demo/db', ['203.0.113.9'], LOCAL]]));
  index.set(
    'n3',
    report(
      [],
      [
        ['demo/web', web, 'the node has the label x'],
        ['demo/db', ['203.0.113.9'], 'the node has the label x'],
      ],
    ),
  );

  const webCondition = index.aggregate('demo/web', web);
  t.strictSame(webCondition, {
    type: ANNOUNCED_CONDITION,
    status: 'True',
    reason: 'Announced',
    message: 'announced by 2 nodes (n1, n2) to 2 peers (tor-a, tor-b)',
  });
  t.strictSame(index.aggregate('demo/db', ['203.0.113.9']), {
    type: ANNOUNCED_CONDITION,
    status: 'False',
    reason: 'NotAnnounced',
    message: `announced by no node: ${LOCAL} (2 of 3 nodes; 1 other reason)`,
  });
  t.match(index.aggregate('demo/db', ['203.0.113.9'])!.reason, CONDITION_REASON_RE);
  t.equal(index.aggregate('demo/web', []), undefined, 'no address: nothing to say (IPAllocated says why)');
  t.equal(
    index.aggregate('demo/web', ['203.0.113.77']),
    undefined,
    'reports about other addresses are stale: nothing to say yet',
  );
  t.equal(index.aggregate('demo/new', ['203.0.113.8']), undefined, 'no node reports it yet');
  t.same(index.aggregate('demo/web', ['203.0.113.005'.replace('005', '5')])?.status, 'True');

  t.strictSame(
    index.set(
      'n2',
      report(
        [],
        [
          ['demo/web', web, LOCAL],
          ['demo/db', ['203.0.113.9'], LOCAL],
        ],
      ),
    ),
    { services: new Set(['demo/web']), all: false },
  );
  t.equal(index.aggregate('demo/web', web)?.message, 'announced by 1 node (n1) to 1 peer (tor-a)');
  t.strictSame(
    index.delete('n1'),
    { services: new Set(['demo/web', 'demo/db']), all: false },
    'a node gone touches what it reported',
  );
  t.equal(index.aggregate('demo/web', web)?.message, `announced by no node: ${LOCAL} (1 of 2 nodes; 1 other reason)`);

  // A node whose lists are cut, and does not list the Service: said so.
  t.strictSame(
    index.set('n4', report([['a/a', ['192.0.2.1'], ['t']]], [], 5)).all,
    true,
    'lists becoming cut touch every Service',
  );
  t.match(index.aggregate('demo/web', web)?.message, /; 1 node list too many Services to include it$/);

  // Beyond NAMES_IN_MESSAGE nodes, only counts.
  const many = new NodeStateIndex();
  for (let i = 1; i <= 7; i++) many.set(`n${i}`, report([['demo/web', web, ['tor-a']]]));
  t.equal(many.aggregate('demo/web', web)?.message, 'announced by 7 nodes to 1 peer (tor-a)');

  t.ok(messageOnlyChange({ status: 'True', reason: 'Announced', message: 'x' }, webCondition!));
  t.notOk(messageOnlyChange({ status: 'False', reason: 'NotAnnounced', message: 'x' }, webCondition!));
  t.notOk(messageOnlyChange(undefined, webCondition!));
});

t.test('removeLegacyConditions: the per-node conditions of earlier versions go, the others stay', async (t) => {
  const s: Service = {
    metadata: { name: 'web', namespace: 'demo' },
    status: {
      conditions: [
        { type: 'announced.bgp-announce.io/n1', status: 'True' },
        { type: 'bgp-announce.io/IPAllocated', status: 'True' },
        { type: 'announced.bgp-announce.io/n2', status: 'False' },
        { type: 'example.com/Other', status: 'True' },
      ],
    },
  };
  t.equal(removeLegacyConditions(s), true);
  t.strictSame(
    s.status?.conditions?.map((c) => c.type),
    ['bgp-announce.io/IPAllocated', 'example.com/Other'],
  );
  t.equal(removeLegacyConditions(s), false, 'none left');
});
