// The otherController check: two controllers handling the same Service flap its address. A Service of
// our class whose status.loadBalancer another field manager wrote (metadata.managedFields), or whose
// status holds addresses none of our pools contain, has (or had) another controller on it.
import { parseIP, type IPValue } from '../allocation/allocator-ip.js';
import type { AddressRange, IPAddressPool } from '../config/types.js';
import { serviceKey, type ObjectMeta, type Service } from '../service/model.js';
import { isOurService, type ServiceClassOptions } from '../service/service-class.js';
import type { Finding } from './checks.js';

/** One metadata.managedFields entry (server-side apply field ownership). */
export interface ManagedFieldsEntry {
  manager?: string;
  operation?: string;
  subresource?: string;
  fieldsV1?: unknown;
}

/** A Service as listed from the API, with its field ownership. */
export type ServiceWithManagedFields = Service & { metadata?: ObjectMeta & { managedFields?: ManagedFieldsEntry[] } };

/**
 * Field managers that are us. "node-fetch" is the name the API server derives from the user agent of
 * @kubernetes/client-node's HTTP client, which our controller's writes carry unless it names a field
 * manager of its own.
 */
export const OUR_FIELD_MANAGERS: readonly string[] = ['bgp-announce', 'node-fetch'];

/** What the check reads: the Services and what "ours" means; or why the cluster cannot be read. */
export type OtherControllerInput =
  | {
      services: readonly ServiceWithManagedFields[];
      classOptions: ServiceClassOptions;
      pools: readonly IPAddressPool[];
      /** Default OUR_FIELD_MANAGERS; any name starting with "bgp-announce" counts as ours too. */
      ourManagers?: readonly string[];
    }
  | { unavailable: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** True when the managedFields entry owns status.loadBalancer (or a field under it). */
export function wroteLoadBalancerStatus(entry: ManagedFieldsEntry): boolean {
  const status = isRecord(entry.fieldsV1) ? entry.fieldsV1['f:status'] : undefined;
  return isRecord(status) && status['f:loadBalancer'] !== undefined;
}

/** True when some range of some pool contains the address. */
export function inPools(ip: string, pools: readonly IPAddressPool[]): boolean {
  // Once per address of every Service: the allocator's parser (measured many times faster than
  // ip-num's, bench/address.js), and each range's bounds parsed once.
  const a = parseIP(ip);
  if (a === undefined) return false;
  return pools.some((pool) =>
    pool.ranges.some((r) => {
      const b = boundsOf(r);
      return b !== undefined && b.first.family === a.family && b.first.value <= a.value && a.value <= b.last.value;
    }),
  );
}

const bounds = new WeakMap<AddressRange, { first: IPValue; last: IPValue } | null>();

function boundsOf(r: AddressRange): { first: IPValue; last: IPValue } | undefined {
  let b = bounds.get(r);
  if (b === undefined) {
    const first = parseIP(r.first);
    const last = parseIP(r.last);
    b = first !== undefined && last !== undefined ? { first, last } : null;
    bounds.set(r, b);
  }
  return b ?? undefined;
}

/**
 * Warns for each Service of our class whose status.loadBalancer a manager other than ours wrote, and
 * for each whose status holds addresses outside our pools; skip when the cluster cannot be read.
 */
export function checkOtherController(input: OtherControllerInput): Finding[] {
  if ('unavailable' in input) return [{ check: 'otherController', status: 'skip', message: input.unavailable }];
  const ourManagers = input.ourManagers ?? OUR_FIELD_MANAGERS;
  const isOurs = (manager: string) => ourManagers.includes(manager) || manager.startsWith('bgp-announce');
  const cls = input.classOptions.loadBalancerClass;
  const classText = input.classOptions.defaultLoadBalancer
    ? `class ${cls} (or no class: we are the default)`
    : `class ${cls}`;
  const services = input.services.filter((s) => isOurService(s, input.classOptions));
  const findings: Finding[] = [];
  for (const svc of services) {
    const key = serviceKey(svc);
    const managers = [
      ...new Set(
        (svc.metadata?.managedFields ?? [])
          .filter((e) => wroteLoadBalancerStatus(e) && e.manager !== undefined && !isOurs(e.manager))
          .map((e) => e.manager!),
      ),
    ];
    if (managers.length > 0) {
      findings.push({
        check: 'otherController',
        status: 'warn',
        message: `Service ${key} is of ${classText}, but ${managers.map((m) => JSON.stringify(m)).join(', ')} wrote its status.loadBalancer: another controller manages it, and the two will flap its address`,
        fix: `let one controller handle ${classText}: configure the other one (${managers.join(', ')}) to ignore it (MetalLB: --lb-class; other controllers: their load balancer class setting), then check the Service's address`,
      });
    }
    const ips = (svc.status?.loadBalancer?.ingress ?? []).flatMap((i) => (i.ip ? [i.ip] : []));
    const outside = ips.filter((ip) => !inPools(ip, input.pools));
    if (outside.length > 0) {
      const poolNames =
        input.pools.length === 0
          ? 'we have no IPAddressPool'
          : `our pools: ${input.pools.map((p) => p.name).join(', ')}`;
      findings.push({
        check: 'otherController',
        status: 'warn',
        message: `Service ${key} is of ${classText}, but its status.loadBalancer holds ${outside.join(', ')}, in none of our pools (${poolNames}): another controller assigned it, or a pool lost it`,
        fix: `find who wrote it (kubectl get service -n ${svc.metadata?.namespace ?? 'default'} ${svc.metadata?.name ?? ''} -o yaml --show-managed-fields) and let one controller handle ${classText}; if the address is meant to be ours, add it to an IPAddressPool`,
      });
    }
  }
  if (findings.length === 0) {
    findings.push({
      check: 'otherController',
      status: 'ok',
      message: `${services.length} Service${services.length === 1 ? '' : 's'} of ${classText}: no other controller wrote their status, every address is in our pools`,
    });
  }
  return findings;
}
