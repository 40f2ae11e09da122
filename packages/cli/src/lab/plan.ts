// The lab's plan: every name, address and AS number of one run, decided up front from the options and
// a run id, as plain data. Documentation ranges only: the fabric is 192.0.2.0/24 (RFC 5737), the VIP
// pool 203.0.113.0/28, the AS numbers 64496-64511 (RFC 5398).
import { UsageError } from '../options.js';

/** The routers the lab can run. */
export const PEER_KINDS = ['gobgp', 'frr', 'bird'] as const;
export type PeerKind = (typeof PEER_KINDS)[number];

/** Every lab namespace starts with this, so a person (and the next run) can tell them apart. */
export const NAMESPACE_PREFIX = 'bgplab-';
export const MAX_NODES = 32;
export const DEFAULT_NODES = 3;

export const ROUTER_ADDRESS = '192.0.2.1';
export const ROUTER_ASN = 64496;
export const NODE_ASN = 64497;
export const API_ADDRESS = '192.0.2.100';
export const API_PORT = 6443;
export const FABRIC_PREFIX_LENGTH = 24;
/** With --prometheus: Prometheus in the API namespace, and each daemon's metrics on its node address. */
export const PROMETHEUS_PORT = 9090;
export const METRICS_PORT = 7475;
export const VIP_POOL = '203.0.113.0/28';
/** With --control-plane: the Kubernetes API's VIP, announced by each node whose stand-in API server is healthy (outside VIP_POOL). */
export const API_VIP = '203.0.113.100';
/** Where each node's stand-in API server answers /readyz, inside the node's namespace (the real API server's place). */
export const API_HEALTH_URL = 'http://127.0.0.1:6443/readyz';
/** Cluster IPs of the test API server: another documentation range, never routed anywhere. */
export const SERVICE_CLUSTER_IP_RANGE = '198.51.100.0/24';

/** The BFD timers of the lab with --bfd (ms, and the detect multiplier), the same on both ends. */
export const LAB_BFD = { receiveInterval: 100, transmitInterval: 100, detectMultiplier: 3 } as const;

/** The lab command's options once checked. */
export interface LabOptions {
  peer: PeerKind;
  nodes: number;
  bfd: boolean;
  hold: boolean;
  json: boolean;
  /** Run Prometheus (scraping every daemon, with the alert rules loaded). */
  prometheus: boolean;
  /** With prometheus: the rule file the lab's rules are made from (the shipped one when undefined). */
  rules?: string;
  /** Weighted ECMP (frr only): link bandwidth on, and a Local Service with endpoints 3/1/1/... */
  weighted: boolean;
  /** Each node announces the API VIP from a local file while its stand-in API server is healthy. */
  controlPlane: boolean;
}

/** The options as commander hands them over. */
export interface LabCommandOptions {
  peer?: string;
  nodes?: string;
  bfd?: boolean;
  hold?: boolean;
  json?: boolean;
  prometheus?: boolean;
  rules?: string;
  weighted?: boolean;
  controlPlane?: boolean;
}

/** One node of the lab: a Kubernetes Node, a namespace, a daemon. */
export interface LabNode {
  /** The Kubernetes Node name (node-1 ...). */
  name: string;
  /** Short name of its fabric port (n1 ...). */
  short: string;
  namespace: string;
  address: string;
  asn: number;
}

export interface LabPlan {
  /** The run id, part of every namespace name. */
  id: string;
  peer: PeerKind;
  bfd: boolean;
  /** The lab's BGPAdvertisement sets weightedECMP, and the Service "weighted" exists. */
  weighted: boolean;
  /** With --control-plane: the API VIP each node announces while its /readyz (at healthUrl) passes. */
  controlPlane?: { vip: string; healthUrl: string };
  switchNamespace: string;
  router: { namespace: string; address: string; asn: number };
  api: { namespace: string; address: string; port: number };
  nodes: LabNode[];
  /** With --prometheus: where Prometheus listens (in the API namespace, on the fabric). */
  prometheus?: { namespace: string; address: string; port: number };
}

/** Checks the command line. Throws UsageError naming the option at fault. */
export function parseLabOptions(o: LabCommandOptions): LabOptions {
  const peer = o.peer ?? 'gobgp';
  if (!(PEER_KINDS as readonly string[]).includes(peer))
    throw new UsageError(`--peer must be one of ${PEER_KINDS.join(', ')}, got ${JSON.stringify(peer)}`);
  let nodes = DEFAULT_NODES;
  if (o.nodes !== undefined) {
    nodes = /^\d{1,3}$/.test(o.nodes) ? Number(o.nodes) : NaN;
    if (!(nodes >= 1 && nodes <= MAX_NODES))
      throw new UsageError(`--nodes must be a whole number 1-${MAX_NODES}, got ${JSON.stringify(o.nodes)}`);
  }
  const bfd = o.bfd === true;
  if (bfd && peer === 'gobgp')
    throw new UsageError('--bfd needs a router with BFD: gobgpd has none; use --peer frr or --peer bird');
  const prometheus = o.prometheus === true;
  if (o.rules !== undefined && !prometheus) throw new UsageError('--rules needs --prometheus');
  if (o.rules === '') throw new UsageError('--rules needs a file');
  const weighted = o.weighted === true;
  if (weighted && peer !== 'frr')
    throw new UsageError(
      '--weighted needs --peer frr: FRR turns the link bandwidth into kernel next-hop weights (gobgpd installs no route, BIRD does not weight by it)',
    );
  return {
    peer: peer as PeerKind,
    nodes,
    bfd,
    hold: o.hold === true,
    json: o.json === true,
    prometheus,
    weighted,
    controlPlane: o.controlPlane === true,
    ...(o.rules !== undefined ? { rules: o.rules } : {}),
  };
}

/** A fresh run id: 6 lower-case letters or digits. */
export function newRunId(random: () => number = Math.random): string {
  let id = '';
  for (let i = 0; i < 6; i++) id += '0123456789abcdefghijklmnopqrstuvwxyz'[Math.floor(random() * 36)];
  return id;
}

/** The plan of one run. Node i (from 1) is node-i at 192.0.2.(10+i). */
export function labPlan(
  options: Pick<LabOptions, 'peer' | 'nodes' | 'bfd'> &
    Partial<Pick<LabOptions, 'prometheus' | 'weighted' | 'controlPlane'>>,
  id: string,
): LabPlan {
  const ns = (what: string): string => `${NAMESPACE_PREFIX}${id}-${what}`;
  const nodes: LabNode[] = [];
  for (let i = 1; i <= options.nodes; i++) {
    nodes.push({
      name: `node-${i}`,
      short: `n${i}`,
      namespace: ns(`n${i}`),
      address: `192.0.2.${10 + i}`,
      asn: NODE_ASN,
    });
  }
  return {
    id,
    peer: options.peer,
    bfd: options.bfd,
    weighted: options.weighted === true,
    ...(options.controlPlane ? { controlPlane: { vip: API_VIP, healthUrl: API_HEALTH_URL } } : {}),
    switchNamespace: ns('sw'),
    router: { namespace: ns('rtr'), address: ROUTER_ADDRESS, asn: ROUTER_ASN },
    api: { namespace: ns('api'), address: API_ADDRESS, port: API_PORT },
    nodes,
    ...(options.prometheus
      ? { prometheus: { namespace: ns('api'), address: API_ADDRESS, port: PROMETHEUS_PORT } }
      : {}),
  };
}

/** Every namespace of the plan, the switch first. */
export function planNamespaces(plan: LabPlan): string[] {
  return [plan.switchNamespace, plan.router.namespace, plan.api.namespace, ...plan.nodes.map((n) => n.namespace)];
}

/** The node that holds the endpoint of the Local Service: node-2 when there is one, else node-1. */
export function localEndpointNode(plan: LabPlan): LabNode {
  return plan.nodes[Math.min(1, plan.nodes.length - 1)]!;
}

/**
 * With --weighted: the endpoints of the Service "weighted", as node names (a node once per
 * endpoint): three on node-1 and one on each other node, so the router's weights are 3:1:1 on three.
 */
export function weightedEndpointNodes(plan: LabPlan): string[] {
  return plan.nodes.flatMap((n, i) => (i === 0 ? [n.name, n.name, n.name] : [n.name]));
}
