// What a Service asks of the allocator, read from its spec and our annotations, and the rule for two
// Services sharing one address. Pure functions over the Service object.
//
// The annotations are read under our keys and MetalLB's (service/annotations.ts), ours first.
//
// Sharing rule (MetalLB's): two Services may hold the same address only when
// - both carry the bgp-announce.io/allow-shared-ip annotation (or MetalLB's) with the same, non-empty key,
// - no port+protocol is used by both (53/TCP and 53/UDP do not clash; 80/TCP twice does), and
// - both have externalTrafficPolicy Cluster, or both Local and the same non-empty pod selector
//   (spec.selector). With Local, a node announces the address when it has a ready endpoint of the
//   Service; two Local Services on different pods would draw traffic for one to nodes that only run
//   the other's pods, so that is refused.
import { ANNOTATION, serviceKey, type Service } from '../service/model.js';
import { readServiceAnnotation } from '../service/annotations.js';
import { canonicalIP, familyName, parseIP, type IPFamily } from './allocator-ip.js';
import { wantedFamilies, type FamilyWish } from '../service/service-class.js';

/** What decides whether a Service may share an address with another. */
export interface ShareInfo {
  /** The allow-shared-ip key; undefined: the Service shares with nobody. */
  sharingKey?: string;
  /** "port/PROTOCOL" of each Service port ("53/UDP"). */
  ports: string[];
  /** spec.externalTrafficPolicy, "Cluster" when unset. */
  trafficPolicy: string;
  /** spec.selector, for the Local rule. */
  selector?: Record<string, string>;
}

/** An address a Service asks for, canonical. */
export interface RequestedIP {
  family: IPFamily;
  ip: string;
}

/** Everything the allocator reads from one Service. */
export interface ServiceRequest {
  key: string;
  namespace: string;
  labels: Record<string, string>;
  wish: Extract<FamilyWish, { ok: true }>;
  /** At most one per family, in the Service's family order; empty: any address. */
  requestedIPs: RequestedIP[];
  /** The bgp-announce.io/address-pool annotation (or MetalLB's). */
  poolName?: string;
  share: ShareInfo;
}

/** A Service with the fields the sharing rule reads beyond model.ts's Service (spec.selector). */
type ServiceWithSelector = Service & { spec?: { selector?: Record<string, string> } };

/** Read a Service's request; a message for people when it is contradictory or malformed. */
export function readRequest(svc: Service): { ok: true; request: ServiceRequest } | { ok: false; message: string } {
  const wish = wantedFamilies(svc);
  if (!wish.ok) return wish;
  const requested = requestedIPs(svc);
  if (!requested.ok) return requested;
  const ips = requested.ips;
  for (const r of ips) {
    if (!wish.families.includes(r.family)) {
      return {
        ok: false,
        message: `requested address ${r.ip} is ${familyName(r.family)}, but the Service's ipFamilies allow only ${wish.families.map(familyName).join(' and ')}`,
      };
    }
  }
  if (ips.length > 0 && ips.length < wish.atLeast) {
    return {
      ok: false,
      message: `ipFamilyPolicy ${wish.policy} needs one requested address per family (${wish.families.map(familyName).join(' and ')}), got only ${ips.map((r) => r.ip).join(', ')}`,
    };
  }
  if (ips.length > wish.atMost) {
    return {
      ok: false,
      message: `ipFamilyPolicy ${wish.policy} allows one address, but ${ips.length} are requested (${ips.map((r) => r.ip).join(', ')})`,
    };
  }
  ips.sort((a, b) => wish.families.indexOf(a.family) - wish.families.indexOf(b.family));
  const poolName = readServiceAnnotation(svc, 'addressPool')?.value.trim();
  const request: ServiceRequest = {
    key: serviceKey(svc),
    namespace: svc.metadata?.namespace ?? 'default',
    labels: svc.metadata?.labels ?? {},
    wish,
    requestedIPs: ips,
    share: shareInfo(svc),
  };
  if (poolName !== undefined && poolName !== '') request.poolName = poolName;
  return { ok: true, request };
}

/** The sharing-relevant fields of a Service. */
export function shareInfo(svc: Service): ShareInfo {
  const key = readServiceAnnotation(svc, 'allowSharedIP')?.value.trim();
  const share: ShareInfo = {
    ports: (svc.spec?.ports ?? []).map((p) => `${p.port}/${(p.protocol ?? 'TCP').toUpperCase()}`),
    trafficPolicy: svc.spec?.externalTrafficPolicy || 'Cluster',
  };
  if (key !== undefined && key !== '') share.sharingKey = key;
  const selector = (svc as ServiceWithSelector).spec?.selector;
  if (selector !== undefined && selector !== null) share.selector = selector;
  return share;
}

/**
 * Why a Service (`wanted`) may not share an address held by `holderKey` (`held`); undefined when it
 * may. The text completes "203.0.113.7 is held by default/dns-tcp, ...".
 */
export function sharingConflict(wanted: ShareInfo, holderKey: string, held: ShareInfo): string | undefined {
  if (held.sharingKey === undefined) return `held by ${holderKey}, which does not allow sharing`;
  if (wanted.sharingKey === undefined)
    return `held by ${holderKey}, and this Service has no ${ANNOTATION.allowSharedIP} annotation`;
  if (wanted.sharingKey !== held.sharingKey)
    return `held by ${holderKey} with another ${ANNOTATION.allowSharedIP} key (${JSON.stringify(held.sharingKey)})`;
  const clash = wanted.ports.filter((p) => held.ports.includes(p));
  if (clash.length > 0) return `held by ${holderKey}, which also uses port ${[...new Set(clash)].join(', ')}`;
  const bothCluster = wanted.trafficPolicy === 'Cluster' && held.trafficPolicy === 'Cluster';
  const sameLocalPods =
    wanted.trafficPolicy === 'Local' && held.trafficPolicy === 'Local' && sameSelector(wanted.selector, held.selector);
  if (!bothCluster && !sameLocalPods) {
    return `held by ${holderKey} (externalTrafficPolicy ${held.trafficPolicy}); sharing needs both Cluster, or both Local with the same pod selector`;
  }
  return undefined;
}

function sameSelector(a: Record<string, string> | undefined, b: Record<string, string> | undefined): boolean {
  if (a === undefined || b === undefined) return false;
  const keys = Object.keys(a);
  if (keys.length === 0 || keys.length !== Object.keys(b).length) return false;
  return keys.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** The addresses asked for by the annotation or spec.loadBalancerIP, canonical, one per family. */
function requestedIPs(svc: Service): { ok: true; ips: RequestedIP[] } | { ok: false; message: string } {
  const annotation = readServiceAnnotation(svc, 'loadBalancerIPs');
  const key = annotation?.key ?? ANNOTATION.loadBalancerIPs;
  const fromAnnotation: string[] = [];
  if (annotation !== undefined) {
    for (const part of annotation.value
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s !== '')) {
      const ip = canonicalIP(part);
      if (ip === undefined)
        return {
          ok: false,
          message: `annotation ${key}: ${JSON.stringify(part)} is not an IP address`,
        };
      fromAnnotation.push(ip);
    }
  }
  const specText = svc.spec?.loadBalancerIP?.trim();
  let fromSpec: string | undefined;
  if (specText !== undefined && specText !== '') {
    fromSpec = canonicalIP(specText);
    if (fromSpec === undefined)
      return { ok: false, message: `spec.loadBalancerIP: ${JSON.stringify(specText)} is not an IP address` };
  }
  if (
    fromSpec !== undefined &&
    fromAnnotation.length > 0 &&
    (fromAnnotation.length !== 1 || fromAnnotation[0] !== fromSpec)
  ) {
    return {
      ok: false,
      message: `spec.loadBalancerIP (${fromSpec}) and annotation ${key} (${fromAnnotation.join(', ')}) disagree`,
    };
  }
  const texts = fromAnnotation.length > 0 ? fromAnnotation : fromSpec !== undefined ? [fromSpec] : [];
  const ips: RequestedIP[] = [];
  for (const ip of texts) {
    const family = parseIP(ip)!.family;
    const same = ips.find((r) => r.family === family);
    if (same !== undefined) {
      return {
        ok: false,
        message: `annotation ${key}: at most one address per family, got ${same.ip} and ${ip}`,
      };
    }
    ips.push({ family, ip });
  }
  return { ok: true, ips };
}
