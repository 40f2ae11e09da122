// Service defaulting, allocation and validation as the real API server does it: type and policy
// defaults, a cluster IP from the service range, node ports for NodePort/LoadBalancer, and the rules
// on loadBalancerClass and externalTrafficPolicy.
import type { StatusCause } from './status.js';
import type { KubeObject } from './types.js';
import { cause, invalidValue } from './validation.js';

const NODE_PORT_MIN = 30000;
const NODE_PORT_MAX = 32767;
const TYPES = ['ClusterIP', 'NodePort', 'LoadBalancer', 'ExternalName'];

/** An IPv4 service range (the first usable address is the `kubernetes` Service's). */
export interface ServiceRange {
  network: number;
  size: number;
}

/** Parses "a.b.c.d/n" (IPv4, /8 to /30); throws a plain Error with a clear message. */
export function parseServiceRange(cidr: string): ServiceRange {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : -1;
  if (!m || octets.some((o) => o > 255) || bits < 8 || bits > 30)
    throw new Error(`service cluster IP range must be an IPv4 CIDR from /8 to /30, got "${cidr}"`);
  const ip = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - bits);
  return { network: ip - (ip % size), size };
}

const ipText = (n: number): string => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
function ipNumber(s: string): number | undefined {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m || m.slice(1).some((o) => Number(o) > 255)) return undefined;
  return m.slice(1).reduce((a, o) => a * 256 + Number(o), 0);
}

/** The first usable address of the range (the `kubernetes` Service). */
export function firstServiceIP(range: ServiceRange): string {
  return ipText(range.network + 1);
}

type Spec = Record<string, unknown>;

function unsupported(field: string, value: unknown, allowed: string[]): StatusCause {
  const list = allowed.map((a) => `"${a}"`).join(', ');
  return cause(
    field,
    'FieldValueNotSupported',
    `Unsupported value: ${JSON.stringify(value)}: supported values: ${list}`,
  );
}
type Port = Record<string, unknown>;

const specOf = (o: KubeObject | undefined): Spec => (o?.spec && typeof o.spec === 'object' ? o.spec : {}) as Spec;
const portsOf = (s: Spec): Port[] => (Array.isArray(s.ports) ? (s.ports as Port[]) : []);

/**
 * Defaults, allocates and validates a Service in place (old is the stored one on update; others are
 * every other stored Service, for what is already allocated). Returns the 422 causes, if any.
 */
export function prepareService(
  obj: KubeObject,
  old: KubeObject | undefined,
  others: KubeObject[],
  range: ServiceRange,
): StatusCause[] {
  const out: StatusCause[] = [];
  if (obj.spec !== undefined && (typeof obj.spec !== 'object' || obj.spec === null || Array.isArray(obj.spec))) {
    return [cause('spec', 'FieldValueInvalid', 'Invalid value: must be an object')];
  }
  const spec = (obj.spec = { ...specOf(obj) });
  const oldSpec = specOf(old);
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  const type = spec.type as string;
  if (!TYPES.includes(type)) return [unsupported('spec.type', type, TYPES)];
  const external = type === 'NodePort' || type === 'LoadBalancer';

  const ports = portsOf(spec).map((p) => ({ ...p }));
  if (spec.ports !== undefined) spec.ports = ports;
  for (const [i, p] of ports.entries()) {
    p.protocol ??= 'TCP';
    const port = p.port as number;
    if (!Number.isInteger(port) || port < 1 || port > 65535)
      out.push(invalidValue(`spec.ports[${i}].port`, p.port, 'must be between 1 and 65535, inclusive'));
    p.targetPort ??= p.port;
    if (ports.length > 1 && !p.name) out.push(cause(`spec.ports[${i}].name`, 'FieldValueRequired', 'Required value'));
  }

  if (type === 'ExternalName') {
    if (!spec.externalName) out.push(cause('spec.externalName', 'FieldValueRequired', 'Required value'));
    delete spec.clusterIP;
    delete spec.clusterIPs;
  } else {
    if (ports.length === 0 && spec.clusterIP !== 'None')
      out.push(cause('spec.ports', 'FieldValueRequired', 'Required value'));
    allocateClusterIP(spec, oldSpec, others, range, out);
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
    spec.internalTrafficPolicy ??= 'Cluster';
  }

  // loadBalancerClass: only on LoadBalancer Services, and fixed once set (dropped when the type changes).
  const wasLoadBalancer = oldSpec.type === 'LoadBalancer';
  if (wasLoadBalancer && type !== 'LoadBalancer' && spec.loadBalancerClass === oldSpec.loadBalancerClass)
    delete spec.loadBalancerClass;
  const lbClass = spec.loadBalancerClass ?? null;
  if (lbClass !== null && type !== 'LoadBalancer') {
    out.push(invalidValue('spec.loadBalancerClass', lbClass, "may only be used when `type` is 'LoadBalancer'"));
  } else if (old && wasLoadBalancer && type === 'LoadBalancer' && lbClass !== (oldSpec.loadBalancerClass ?? null)) {
    out.push(invalidValue('spec.loadBalancerClass', lbClass, 'may not change once set'));
  }

  if (external) {
    spec.externalTrafficPolicy ??= 'Cluster';
    const policy = spec.externalTrafficPolicy;
    if (policy !== 'Cluster' && policy !== 'Local')
      out.push(unsupported('spec.externalTrafficPolicy', policy, ['Cluster', 'Local']));
    if (type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
    allocateNodePorts(spec, oldSpec, others, type === 'NodePort' || spec.allocateLoadBalancerNodePorts !== false);
  } else {
    if ((spec.externalTrafficPolicy ?? null) !== null && type !== 'ExternalName') {
      out.push(
        invalidValue(
          'spec.externalTrafficPolicy',
          spec.externalTrafficPolicy,
          'may only be set for externally-accessible services',
        ),
      );
    }
    for (const p of ports) delete p.nodePort;
    delete spec.healthCheckNodePort;
    delete spec.allocateLoadBalancerNodePorts;
  }
  if (!old) obj.status = { loadBalancer: {} };
  return out;
}

function allocateClusterIP(
  spec: Spec,
  oldSpec: Spec,
  others: KubeObject[],
  range: ServiceRange,
  out: StatusCause[],
): void {
  const requested = spec.clusterIP;
  if (oldSpec.clusterIP && oldSpec.type !== 'ExternalName') {
    if (requested === undefined || requested === '' || requested === null) spec.clusterIP = oldSpec.clusterIP;
    else if (requested !== oldSpec.clusterIP)
      out.push(invalidValue('spec.clusterIPs[0]', requested, `may not change once set`));
  } else if (requested === 'None') {
    // headless: nothing to allocate
  } else {
    const used = new Set(others.map((s) => specOf(s).clusterIP).filter((ip): ip is string => typeof ip === 'string'));
    if (typeof requested === 'string' && requested !== '') {
      const n = ipNumber(requested);
      if (n === undefined || n <= range.network || n >= range.network + range.size - 1) {
        out.push(
          invalidValue(
            'spec.clusterIPs[0]',
            requested,
            `failed to allocate IP ${requested}: the provided IP (${requested}) is not in the valid range`,
          ),
        );
      } else if (used.has(requested)) {
        out.push(
          invalidValue(
            'spec.clusterIPs[0]',
            requested,
            `failed to allocate IP ${requested}: provided IP is already allocated`,
          ),
        );
      }
    } else {
      let pick: string | undefined;
      for (let n = range.network + 1; n < range.network + range.size - 1 && !pick; n++)
        if (!used.has(ipText(n))) pick = ipText(n);
      if (!pick)
        out.push(cause('spec.clusterIPs', 'FieldValueInvalid', 'Invalid value: failed to allocate IP: range is full'));
      else spec.clusterIP = pick;
    }
  }
  if (typeof spec.clusterIP === 'string') spec.clusterIPs = [spec.clusterIP];
}

function allocateNodePorts(spec: Spec, oldSpec: Spec, others: KubeObject[], wantNodePorts: boolean): void {
  const used = new Set<number>();
  for (const s of others) {
    for (const p of portsOf(specOf(s))) if (typeof p.nodePort === 'number') used.add(p.nodePort);
    const hc = specOf(s).healthCheckNodePort;
    if (typeof hc === 'number') used.add(hc);
  }
  const next = (): number => {
    for (let n = NODE_PORT_MIN; n <= NODE_PORT_MAX; n++) if (!used.has(n)) return (used.add(n), n);
    return 0;
  };
  const oldPorts = portsOf(oldSpec);
  for (const p of portsOf(spec)) if (typeof p.nodePort === 'number' && p.nodePort !== 0) used.add(p.nodePort);
  for (const p of portsOf(spec)) {
    if (typeof p.nodePort === 'number' && p.nodePort !== 0) continue;
    const same = oldPorts.find(
      (o) => o.port === p.port && (o.protocol ?? 'TCP') === p.protocol && typeof o.nodePort === 'number',
    );
    if (same) p.nodePort = same.nodePort;
    else if (wantNodePorts) p.nodePort = next();
  }
  if (spec.type === 'LoadBalancer' && spec.externalTrafficPolicy === 'Local') {
    spec.healthCheckNodePort ??= typeof oldSpec.healthCheckNodePort === 'number' ? oldSpec.healthCheckNodePort : next();
  } else delete spec.healthCheckNodePort;
}
