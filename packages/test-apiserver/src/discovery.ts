// Discovery documents: /api, /apis, /apis/<group>, /api/v1 and /apis/<group>/<version>, and /version.
import type { ResourceRegistry } from './resources.js';

const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];

/** The server's version document (a Kubernetes 1.33 look-alike). */
export function versionInfo(): Record<string, unknown> {
  return {
    major: '1',
    minor: '33',
    gitVersion: 'v1.33.0-bgp-announce-test',
    gitCommit: '0000000000000000000000000000000000000000',
    gitTreeState: 'clean',
    buildDate: '2025-01-01T00:00:00Z',
    goVersion: 'go1.24.0',
    compiler: 'gc',
    platform: 'linux/amd64',
  };
}

/** /api: the core group's versions. */
export function coreVersions(serverAddress: string): Record<string, unknown> {
  return {
    kind: 'APIVersions',
    versions: ['v1'],
    serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
  };
}

function groupDoc(group: string, versions: string[]): Record<string, unknown> {
  const list = versions.map((version) => ({ groupVersion: `${group}/${version}`, version }));
  return { name: group, versions: list, preferredVersion: list[0] };
}

/** /apis: every named group. */
export function groupList(registry: ResourceRegistry): Record<string, unknown> {
  return {
    kind: 'APIGroupList',
    apiVersion: 'v1',
    groups: registry.groups().map((g) => groupDoc(g.group, g.versions)),
  };
}

/** /apis/<group>. */
export function groupInfo(registry: ResourceRegistry, group: string): Record<string, unknown> {
  const g = registry.groups().find((x) => x.group === group);
  return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(group, g?.versions ?? []) };
}

/** /api/v1 or /apis/<group>/<version>: the resources and their subresources. */
export function resourceList(registry: ResourceRegistry, group: string, version: string): Record<string, unknown> {
  const resources: Record<string, unknown>[] = [];
  for (const r of registry.list()) {
    if (r.group !== group || r.version !== version) continue;
    const entry: Record<string, unknown> = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: VERBS,
    };
    if (r.shortNames.length > 0) entry.shortNames = r.shortNames;
    if (r.custom) entry.categories = ['all'];
    resources.push(entry);
    if (r.statusSubresource)
      resources.push({
        name: `${r.plural}/status`,
        singularName: '',
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: ['get', 'patch', 'update'],
      });
  }
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources,
  };
}
