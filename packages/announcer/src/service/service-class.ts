// Which Services are ours, and which address families a Service wants. Two controllers claiming the
// same Service flap its address, so we take only Services of type LoadBalancer whose
// spec.loadBalancerClass is ours, and (when configured as the cluster's default load balancer)
// those with no class. Another controller's class (kube-vip, Cilium's io.cilium/bgp-control-plane,
// MetalLB's metallb.io/metallb) is never ours.
import type { Service } from './model.js';
import type { IPFamily } from '../allocation/allocator-ip.js';

export interface ServiceClassOptions {
  /** Our class, DEFAULT_LOAD_BALANCER_CLASS unless configured otherwise. */
  loadBalancerClass: string;
  /** Also take LoadBalancer Services with no spec.loadBalancerClass. */
  defaultLoadBalancer: boolean;
}

/** True when the Service is a LoadBalancer we are responsible for. */
export function isOurService(svc: Service, opts: ServiceClassOptions): boolean {
  if (svc.spec?.type !== 'LoadBalancer') return false;
  const cls = svc.spec.loadBalancerClass;
  if (cls === undefined || cls === null || cls === '') return opts.defaultLoadBalancer;
  return cls === opts.loadBalancerClass;
}

/**
 * The address families a Service wants: candidates in order of preference, and how many of them the
 * allocator must (atLeast) and may (atMost) give. From spec.ipFamilies and spec.ipFamilyPolicy:
 * - SingleStack (or no policy): one address, of ipFamilies[0]; of either family (IPv4 first) when
 *   ipFamilies is empty.
 * - PreferDualStack: one per listed family if the pools allow, else one. A single listed family (a
 *   single-stack cluster) gives one address of that family.
 * - RequireDualStack: one IPv4 and one IPv6 address, or nothing.
 */
export type FamilyWish =
  | {
      ok: true;
      policy: 'SingleStack' | 'PreferDualStack' | 'RequireDualStack';
      families: IPFamily[];
      atLeast: number;
      atMost: number;
    }
  | { ok: false; message: string };

/** Read spec.ipFamilies and spec.ipFamilyPolicy; a message for values Kubernetes would not accept. */
export function wantedFamilies(svc: Service): FamilyWish {
  const declared: IPFamily[] = [];
  for (const f of svc.spec?.ipFamilies ?? []) {
    const family = f === 'IPv4' ? 4 : f === 'IPv6' ? 6 : undefined;
    if (family === undefined)
      return { ok: false, message: `spec.ipFamilies: unknown family ${JSON.stringify(f)} (IPv4 or IPv6)` };
    if (declared.includes(family)) return { ok: false, message: `spec.ipFamilies: ${f} listed twice` };
    declared.push(family);
  }
  const policy = svc.spec?.ipFamilyPolicy ?? 'SingleStack';
  const both: IPFamily[] =
    declared.length === 0 ? [4, 6] : declared.length === 1 ? [declared[0]!, declared[0] === 4 ? 6 : 4] : declared;
  switch (policy) {
    case 'SingleStack':
      return { ok: true, policy, families: declared.length === 0 ? [4, 6] : [declared[0]!], atLeast: 1, atMost: 1 };
    case 'PreferDualStack': {
      const families = declared.length === 0 ? both : declared;
      return { ok: true, policy, families, atLeast: 1, atMost: families.length };
    }
    case 'RequireDualStack':
      return { ok: true, policy, families: both, atLeast: 2, atMost: 2 };
    default:
      return {
        ok: false,
        message: `spec.ipFamilyPolicy: unknown policy ${JSON.stringify(policy)} (SingleStack, PreferDualStack or RequireDualStack)`,
      };
  }
}
