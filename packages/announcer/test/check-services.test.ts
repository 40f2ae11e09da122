// The otherController finding: Services of our class whose status.loadBalancer another field manager
// wrote (metadata.managedFields as the API server records them), or whose status holds addresses
// outside our pools; skip without cluster access.
import t from 'tap';
import type { IPAddressPool } from '../src/config/types.js';
import {
  checkOtherController,
  inPools,
  wroteLoadBalancerStatus,
  type ManagedFieldsEntry,
  type ServiceWithManagedFields,
} from '../src/check/checks-services.js';

const pools: IPAddressPool[] = [
  {
    name: 'vips',
    ranges: [{ family: 4, text: '192.0.2.64/27', first: '192.0.2.64', last: '192.0.2.95' }],
    autoAssign: true,
    avoidBuggyIPs: false,
    labels: {},
  },
  {
    name: 'vips6',
    ranges: [{ family: 6, text: '2001:db8:1::-2001:db8:1::ff', first: '2001:db8:1::', last: '2001:db8:1::ff' }],
    autoAssign: true,
    avoidBuggyIPs: false,
    labels: {},
  },
];
const classOptions = { loadBalancerClass: 'bgp-announce.io/bgp', defaultLoadBalancer: false };

/** A managedFields entry for a status write (PUT/PATCH of /status), as the API server records it. */
function statusWrite(
  manager: string,
  fields: Record<string, unknown> = { 'f:loadBalancer': { 'f:ingress': {} } },
): ManagedFieldsEntry {
  return { manager, operation: 'Update', subresource: 'status', fieldsV1: { 'f:status': fields } };
}
const specWrite: ManagedFieldsEntry = {
  manager: 'kubectl-client-side-apply',
  operation: 'Update',
  fieldsV1: { 'f:spec': { 'f:type': {}, 'f:loadBalancerClass': {} } },
};

function service(
  name: string,
  cls: string | undefined,
  ips: string[],
  managedFields: ManagedFieldsEntry[],
): ServiceWithManagedFields {
  return {
    metadata: { name, namespace: 'web', managedFields },
    spec: { type: 'LoadBalancer', ...(cls !== undefined ? { loadBalancerClass: cls } : {}) },
    status: { loadBalancer: { ingress: ips.map((ip) => ({ ip, ipMode: 'VIP' })) } },
  };
}

t.test('which managedFields entries wrote status.loadBalancer', async (t) => {
  t.ok(wroteLoadBalancerStatus(statusWrite('metallb-controller')));
  t.notOk(wroteLoadBalancerStatus(statusWrite('kube-controller-manager', { 'f:conditions': {} })), 'conditions only');
  t.notOk(wroteLoadBalancerStatus(specWrite));
  t.notOk(wroteLoadBalancerStatus({ manager: 'x', fieldsV1: 'not an object' }));
  t.notOk(wroteLoadBalancerStatus({ manager: 'x' }));
});

t.test("inPools: ranges of the address's family only", async (t) => {
  t.ok(inPools('192.0.2.64', pools));
  t.ok(inPools('192.0.2.95', pools));
  t.notOk(inPools('192.0.2.96', pools));
  t.ok(inPools('2001:db8:1::80', pools));
  t.notOk(inPools('2001:db8:2::1', pools));
  t.notOk(inPools('not-an-ip', pools));
});

t.test('another controller wrote the status of a Service of our class: warn naming both', async (t) => {
  const services = [
    service(
      'shop',
      'bgp-announce.io/bgp',
      ['192.0.2.70'],
      [specWrite, statusWrite('bgp-announce'), statusWrite('metallb-controller')],
    ),
    service('blog', 'bgp-announce.io/bgp', ['192.0.2.71'], [statusWrite('node-fetch')]),
    service('theirs', 'metallb.io/metallb', ['203.0.113.9'], [statusWrite('metallb-controller')]),
  ];
  const findings = checkOtherController({ services, classOptions, pools });
  t.equal(findings.length, 1, 'only shop: blog is ours, theirs is not of our class');
  const f = findings[0]!;
  t.equal(f.status, 'warn');
  t.equal(
    f.message,
    'Service web/shop is of class bgp-announce.io/bgp, but "metallb-controller" wrote its status.loadBalancer: another controller manages it, and the two will flap its address',
  );
  t.match(f.fix, /configure the other one \(metallb-controller\) to ignore it/);
});

t.test('addresses outside our pools: warn with how to find the writer', async (t) => {
  const services = [
    service(
      'api',
      'bgp-announce.io/bgp',
      ['192.0.2.70', '203.0.113.9', '2001:db8:1::5'],
      [statusWrite('bgp-announce')],
    ),
  ];
  const [f] = checkOtherController({ services, classOptions, pools });
  t.equal(f!.status, 'warn');
  t.equal(
    f!.message,
    'Service web/api is of class bgp-announce.io/bgp, but its status.loadBalancer holds 203.0.113.9, in none of our pools (our pools: vips, vips6): another controller assigned it, or a pool lost it',
  );
  t.match(f!.fix, /kubectl get service -n web api -o yaml --show-managed-fields/);
  const noPools = checkOtherController({ services, classOptions, pools: [] })[0]!;
  t.match(
    noPools.message,
    /holds 192\.0\.2\.70, 203\.0\.113\.9, 2001:db8:1::5, in none of our pools \(we have no IPAddressPool\)/,
  );
});

t.test('as the default load balancer, Services with no class are ours too', async (t) => {
  const services = [service('plain', undefined, ['192.0.2.80'], [statusWrite('kube-vip-cloud-provider')])];
  t.equal(
    checkOtherController({ services, classOptions, pools })[0]!.status,
    'ok',
    'not ours without defaultLoadBalancer',
  );
  const [f] = checkOtherController({ services, classOptions: { ...classOptions, defaultLoadBalancer: true }, pools });
  t.equal(f!.status, 'warn');
  t.match(
    f!.message,
    /^Service web\/plain is of class bgp-announce\.io\/bgp \(or no class: we are the default\), but "kube-vip-cloud-provider" wrote/,
  );
});

t.test('all clear, our own managers, and no cluster', async (t) => {
  const services = [
    service('a', 'bgp-announce.io/bgp', ['192.0.2.66'], [statusWrite('bgp-announce-controller')]),
    service('b', 'bgp-announce.io/bgp', [], []),
    {
      metadata: { name: 'c', namespace: 'web' },
      spec: { type: 'ClusterIP', loadBalancerClass: 'bgp-announce.io/bgp' },
    },
  ];
  t.strictSame(checkOtherController({ services, classOptions, pools }), [
    {
      check: 'otherController',
      status: 'ok',
      message:
        '2 Services of class bgp-announce.io/bgp: no other controller wrote their status, every address is in our pools',
    },
  ]);
  const custom = checkOtherController({
    services: [service('d', 'bgp-announce.io/bgp', ['192.0.2.66'], [statusWrite('my-fork')])],
    classOptions,
    pools,
    ourManagers: ['my-fork'],
  });
  t.equal(custom[0]!.status, 'ok', 'ourManagers replaces the default list');
  t.strictSame(checkOtherController({ unavailable: 'no cluster access' }), [
    { check: 'otherController', status: 'skip', message: 'no cluster access' },
  ]);
});
