// kube-apiserver's printers (pkg/printers/internalversion) for the other built-in kinds served here
// that have simple ones: Namespaces, Nodes, Secrets, ConfigMaps, Leases and EndpointSlices. Pods and
// Events keep the default convertor here (their real printers are not implemented).
import { ageOf } from './duration.js';
import { column, CREATION_TIMESTAMP_DESCRIPTION, NAME_COLUMN, type TableConvertor } from './printer-common.js';
import type { KubeObject } from './types.js';

const AGE_COLUMN = column('Age', 'string', CREATION_TIMESTAMP_DESCRIPTION);

interface Shape {
  type?: string;
  data?: Record<string, string>;
  binaryData?: Record<string, string>;
  addressType?: string;
  ports?: { port?: number; name?: string }[];
  endpoints?: { addresses?: string[] }[];
  spec?: { holderIdentity?: string; unschedulable?: boolean };
  status?: {
    phase?: string;
    conditions?: { type?: string; status?: string }[];
    addresses?: { type?: string; address?: string }[];
    nodeInfo?: { kubeletVersion?: string; osImage?: string; kernelVersion?: string; containerRuntimeVersion?: string };
  };
}

const shape = (obj: KubeObject): Shape => obj as Shape;

function sizeOf(map: unknown): number {
  return map && typeof map === 'object' ? Object.keys(map).length : 0;
}

export const namespacePrinter: TableConvertor = {
  columns: [NAME_COLUMN, column('Status', 'string', 'The status of the namespace'), AGE_COLUMN],
  cells: (obj, now) => [
    obj.metadata.name ?? '',
    shape(obj).status?.phase ?? '',
    ageOf(obj.metadata.creationTimestamp, now),
  ],
};

export const secretPrinter: TableConvertor = {
  columns: [
    NAME_COLUMN,
    column(
      'Type',
      'string',
      'Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types',
    ),
    column(
      'Data',
      'string',
      "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    AGE_COLUMN,
  ],
  // The Data cell is a number although the column says string, as on the real server.
  cells: (obj, now) => [
    obj.metadata.name ?? '',
    shape(obj).type ?? '',
    sizeOf(shape(obj).data),
    ageOf(obj.metadata.creationTimestamp, now),
  ],
};

export const configMapPrinter: TableConvertor = {
  columns: [
    NAME_COLUMN,
    column(
      'Data',
      'string',
      "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    AGE_COLUMN,
  ],
  cells: (obj, now) => [
    obj.metadata.name ?? '',
    sizeOf(shape(obj).data) + sizeOf(shape(obj).binaryData),
    ageOf(obj.metadata.creationTimestamp, now),
  ],
};

export const leasePrinter: TableConvertor = {
  columns: [
    NAME_COLUMN,
    column(
      'Holder',
      'string',
      'holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.',
    ),
    AGE_COLUMN,
  ],
  cells: (obj, now) => [
    obj.metadata.name ?? '',
    shape(obj).spec?.holderIdentity ?? '',
    ageOf(obj.metadata.creationTimestamp, now),
  ],
};

/** listWithMoreString: the first three, then " + N more...", "<unset>" for none. */
function firstThree(list: string[]): string {
  if (list.length > 3) return `${list.slice(0, 3).join(',')} + ${list.length - 3} more...`;
  return list.length > 0 ? list.join(',') : '<unset>';
}

export const endpointSlicePrinter: TableConvertor = {
  columns: [
    NAME_COLUMN,
    column(
      'AddressType',
      'string',
      'addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type.',
    ),
    column('Ports', 'string', 'ports specifies the list of network ports exposed by each endpoint in this slice.'),
    column('Endpoints', 'string', 'endpoints is a list of unique endpoints in this slice.'),
    AGE_COLUMN,
  ],
  cells: (obj, now) => {
    const o = shape(obj);
    const ports = (o.ports ?? []).map((p) =>
      typeof p.port === 'number' ? String(p.port) : typeof p.name === 'string' ? p.name : '*',
    );
    const addresses = (o.endpoints ?? []).flatMap((e) => e.addresses ?? []);
    return [
      obj.metadata.name ?? '',
      o.addressType ?? '',
      firstThree(ports),
      firstThree(addresses),
      ageOf(obj.metadata.creationTimestamp, now),
    ];
  },
};

const NODE_ROLE_PREFIX = 'node-role.kubernetes.io/';

function nodeStatus(node: Shape): string {
  let ready: { status?: string } | undefined;
  for (const c of node.status?.conditions ?? []) if (c.type === 'Ready') ready = c;
  const status = [ready ? (ready.status === 'True' ? 'Ready' : 'NotReady') : 'Unknown'];
  if (node.spec?.unschedulable) status.push('SchedulingDisabled');
  return status.join(',');
}

function nodeRoles(node: KubeObject): string {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith(NODE_ROLE_PREFIX) && k.length > NODE_ROLE_PREFIX.length)
      roles.add(k.slice(NODE_ROLE_PREFIX.length));
    else if (k === 'kubernetes.io/role' && v !== '') roles.add(v);
  }
  const list = [...roles].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  return list.length > 0 ? list.join(',') : '<none>';
}

function nodeAddress(node: Shape, type: string): string {
  const a = (node.status?.addresses ?? []).find((x) => x.type === type);
  return a?.address ?? '<none>';
}

const ADDRESSES_DESCRIPTION = 'List of addresses reachable to the node. Queried from cloud provider, if available.';

export const nodePrinter: TableConvertor = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'The status of the node'),
    column('Roles', 'string', 'The roles of the node'),
    AGE_COLUMN,
    column('Version', 'string', 'Kubelet Version reported by the node.'),
    column('Internal-IP', 'string', ADDRESSES_DESCRIPTION, { priority: 1 }),
    column('External-IP', 'string', ADDRESSES_DESCRIPTION, { priority: 1 }),
    column(
      'OS-Image',
      'string',
      'OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).',
      { priority: 1 },
    ),
    column(
      'Kernel-Version',
      'string',
      "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
      { priority: 1 },
    ),
    column(
      'Container-Runtime',
      'string',
      'ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).',
      { priority: 1 },
    ),
  ],
  cells: (obj, now) => {
    const node = shape(obj);
    const info = node.status?.nodeInfo ?? {};
    return [
      obj.metadata.name ?? '',
      nodeStatus(node),
      nodeRoles(obj),
      ageOf(obj.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ];
  },
};
