// Our Service annotations under MetalLB's keys too (metallb.io/ and the older metallb.universe.tf/):
// which key is read, that ours win when both are set, and that the allocator's request and sharing
// rule use them (messages name the key actually read).
import t from 'tap';
import { readRequest, shareInfo } from '../src/allocation/allocator-request.js';
import { annotationKeys, readServiceAnnotation } from '../src/service/annotations.js';
import type { ANNOTATION, Service } from '../src/service/model.js';

const svc = (annotations: Record<string, string>, spec: Service['spec'] = {}): Service => ({
  metadata: { name: 'web', namespace: 'default', annotations },
  spec: { type: 'LoadBalancer', ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

t.test('which key is read, for each annotation', async (t) => {
  const table: [string, keyof typeof ANNOTATION, Record<string, string>, string | undefined, string | undefined][] = [
    ['ours alone', 'addressPool', { 'bgp-announce.io/address-pool': 'a' }, 'bgp-announce.io/address-pool', 'a'],
    ['metallb.io alone', 'addressPool', { 'metallb.io/address-pool': 'b' }, 'metallb.io/address-pool', 'b'],
    [
      'universe.tf alone',
      'addressPool',
      { 'metallb.universe.tf/address-pool': 'c' },
      'metallb.universe.tf/address-pool',
      'c',
    ],
    [
      'ours win over both of MetalLB',
      'addressPool',
      { 'metallb.universe.tf/address-pool': 'c', 'metallb.io/address-pool': 'b', 'bgp-announce.io/address-pool': 'a' },
      'bgp-announce.io/address-pool',
      'a',
    ],
    [
      'metallb.io wins over universe.tf',
      'loadBalancerIPs',
      { 'metallb.universe.tf/loadBalancerIPs': '192.0.2.1', 'metallb.io/loadBalancerIPs': '192.0.2.2' },
      'metallb.io/loadBalancerIPs',
      '192.0.2.2',
    ],
    [
      'ours set but empty still wins',
      'allowSharedIP',
      { 'bgp-announce.io/allow-shared-ip': '', 'metallb.universe.tf/allow-shared-ip': 'k' },
      'bgp-announce.io/allow-shared-ip',
      '',
    ],
    ['none', 'allowSharedIP', { 'example.com/other': 'x' }, undefined, undefined],
  ];
  for (const [name, which, annotations, key, value] of table) {
    const got = readServiceAnnotation(svc(annotations), which);
    t.same(got === undefined ? [undefined, undefined] : [got.key, got.value], [key, value], name);
  }
  t.same(annotationKeys('loadBalancerIPs'), [
    'bgp-announce.io/loadBalancerIPs',
    'metallb.io/loadBalancerIPs',
    'metallb.universe.tf/loadBalancerIPs',
  ]);
  t.equal(readServiceAnnotation({}, 'addressPool'), undefined, 'no metadata');
});

t.test("the allocator's request reads MetalLB's keys", async (t) => {
  const pool = readRequest(svc({ 'metallb.universe.tf/address-pool': ' public ' }));
  t.ok(pool.ok && pool.request.poolName === 'public', 'pool from metallb.universe.tf, trimmed');
  const ours = readRequest(svc({ 'metallb.io/address-pool': 'public', 'bgp-announce.io/address-pool': 'internal' }));
  t.ok(ours.ok && ours.request.poolName === 'internal', 'ours win');

  const ips = readRequest(svc({ 'metallb.io/loadBalancerIPs': '192.0.2.7' }));
  t.same(ips.ok && ips.request.requestedIPs, [{ family: 4, ip: '192.0.2.7' }], 'address from metallb.io');
  const both = readRequest(
    svc({ 'metallb.universe.tf/loadBalancerIPs': '192.0.2.9', 'bgp-announce.io/loadBalancerIPs': '192.0.2.8' }),
  );
  t.same(both.ok && both.request.requestedIPs, [{ family: 4, ip: '192.0.2.8' }], 'ours win');

  const bad = readRequest(svc({ 'metallb.universe.tf/loadBalancerIPs': 'not-an-ip' }));
  t.notOk(bad.ok);
  t.match(
    !bad.ok && bad.message,
    /^annotation metallb\.universe\.tf\/loadBalancerIPs: "not-an-ip" is not an IP address/,
  );
  const disagree = readRequest(svc({ 'metallb.io/loadBalancerIPs': '192.0.2.1' }, { loadBalancerIP: '192.0.2.2' }));
  t.match(!disagree.ok && disagree.message, /annotation metallb\.io\/loadBalancerIPs \(192\.0\.2\.1\) disagree/);
});

t.test("the sharing key is read from MetalLB's keys", async (t) => {
  t.equal(shareInfo(svc({ 'metallb.universe.tf/allow-shared-ip': ' dns ' })).sharingKey, 'dns');
  t.equal(shareInfo(svc({ 'metallb.io/allow-shared-ip': 'dns' })).sharingKey, 'dns');
  t.equal(
    shareInfo(svc({ 'metallb.io/allow-shared-ip': 'dns', 'bgp-announce.io/allow-shared-ip': 'web' })).sharingKey,
    'web',
    'ours win',
  );
  t.equal(shareInfo(svc({})).sharingKey, undefined);
});
