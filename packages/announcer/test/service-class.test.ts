// Which Services are ours (never another controller's class) and which families they want.
import t from 'tap';
import { isOurService, wantedFamilies } from '../src/service/service-class.js';
import { DEFAULT_LOAD_BALANCER_CLASS, type Service } from '../src/service/model.js';

const lb = (loadBalancerClass?: string, type = 'LoadBalancer'): Service => ({
  metadata: { name: 'web', namespace: 'default' },
  spec: loadBalancerClass === undefined ? { type } : { type, loadBalancerClass },
});

t.test('class filtering', async (t) => {
  const ours = { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, defaultLoadBalancer: false };
  const ourDefault = { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS, defaultLoadBalancer: true };
  const custom = { loadBalancerClass: 'example.com/edge', defaultLoadBalancer: false };
  const table: [string, Service, boolean, boolean, boolean][] = [
    // name, service, ours, ours as default, custom class
    ['our class', lb('bgp-announce.io/bgp'), true, true, false],
    ['no class', lb(), false, true, false],
    ['empty class', lb(''), false, true, false],
    ['kube-vip', lb('kube-vip.io/kube-vip-class'), false, false, false],
    ['Cilium BGP', lb('io.cilium/bgp-control-plane'), false, false, false],
    ['Cilium L2', lb('io.cilium/l2-announcer'), false, false, false],
    ['MetalLB', lb('metallb.io/metallb'), false, false, false],
    ['custom class', lb('example.com/edge'), false, false, true],
    ['class differing in case', lb('BGP-announce.io/bgp'), false, false, false],
    ['ClusterIP with our class', lb('bgp-announce.io/bgp', 'ClusterIP'), false, false, false],
    ['NodePort, no class', lb(undefined, 'NodePort'), false, false, false],
    ['ExternalName', lb(undefined, 'ExternalName'), false, false, false],
  ];
  for (const [name, svc, a, b, c] of table) {
    t.equal(isOurService(svc, ours), a, `${name}: only our class`);
    t.equal(isOurService(svc, ourDefault), b, `${name}: our class and the default`);
    t.equal(isOurService(svc, custom), c, `${name}: a custom class`);
  }
  t.equal(isOurService({}, ourDefault), false, 'a Service without spec is not a LoadBalancer');
});

const withFamilies = (ipFamilies?: string[], ipFamilyPolicy?: string): Service => ({
  spec: {
    type: 'LoadBalancer',
    ...(ipFamilies === undefined ? {} : { ipFamilies }),
    ...(ipFamilyPolicy === undefined ? {} : { ipFamilyPolicy }),
  },
});

t.test('wanted families', async (t) => {
  t.strictSame(wantedFamilies(withFamilies(['IPv4'], 'SingleStack')), {
    ok: true,
    policy: 'SingleStack',
    families: [4],
    atLeast: 1,
    atMost: 1,
  });
  t.strictSame(
    wantedFamilies(withFamilies(['IPv6'])),
    { ok: true, policy: 'SingleStack', families: [6], atLeast: 1, atMost: 1 },
    'no policy is SingleStack',
  );
  t.strictSame(
    wantedFamilies(withFamilies()),
    { ok: true, policy: 'SingleStack', families: [4, 6], atLeast: 1, atMost: 1 },
    'no families: either, IPv4 first',
  );
  t.strictSame(
    wantedFamilies(withFamilies(['IPv6', 'IPv4'], 'SingleStack')),
    { ok: true, policy: 'SingleStack', families: [6], atLeast: 1, atMost: 1 },
    'SingleStack takes the first',
  );
  t.strictSame(wantedFamilies(withFamilies(['IPv6', 'IPv4'], 'PreferDualStack')), {
    ok: true,
    policy: 'PreferDualStack',
    families: [6, 4],
    atLeast: 1,
    atMost: 2,
  });
  t.strictSame(
    wantedFamilies(withFamilies(['IPv4'], 'PreferDualStack')),
    { ok: true, policy: 'PreferDualStack', families: [4], atLeast: 1, atMost: 1 },
    'single-stack cluster',
  );
  t.strictSame(wantedFamilies(withFamilies(undefined, 'PreferDualStack')), {
    ok: true,
    policy: 'PreferDualStack',
    families: [4, 6],
    atLeast: 1,
    atMost: 2,
  });
  t.strictSame(wantedFamilies(withFamilies(['IPv4', 'IPv6'], 'RequireDualStack')), {
    ok: true,
    policy: 'RequireDualStack',
    families: [4, 6],
    atLeast: 2,
    atMost: 2,
  });
  t.strictSame(wantedFamilies(withFamilies(['IPv6'], 'RequireDualStack')), {
    ok: true,
    policy: 'RequireDualStack',
    families: [6, 4],
    atLeast: 2,
    atMost: 2,
  });
  const bad = [
    [withFamilies(['IPv5']), /unknown family "IPv5"/],
    [withFamilies(['IPv4', 'IPv4']), /IPv4 listed twice/],
    [withFamilies(['IPv4'], 'DualStack'), /unknown policy "DualStack"/],
  ] as const;
  for (const [svc, message] of bad) {
    const w = wantedFamilies(svc);
    t.equal(w.ok, false);
    if (!w.ok) t.match(w.message, message);
  }
});
