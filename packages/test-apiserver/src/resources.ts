// The resources the server serves: the built-in ones our controller uses, custom resources
// registered at start, and lookups by group/version/plural or by a short name for test controls.
import { validatePrinterColumns } from './printers.js';
import type { CustomResourceDefinition, ResourceType } from './types.js';

/** The key under which the store keeps a resource's objects: "group/version/plural" ("core" for ''). */
export function resourceKey(rt: ResourceType): string {
  return `${rt.group || 'core'}/${rt.version}/${rt.plural}`;
}

/** "v1" or "group/version". */
export function apiVersionOf(rt: ResourceType): string {
  return rt.group ? `${rt.group}/${rt.version}` : rt.version;
}

type BuiltIn = Pick<ResourceType, 'group' | 'version' | 'plural' | 'kind' | 'namespaced'> & Partial<ResourceType>;

function builtIn(r: BuiltIn): ResourceType {
  return {
    singular: r.kind.toLowerCase(),
    listKind: `${r.kind}List`,
    statusSubresource: false,
    shortNames: [],
    custom: false,
    allowUnconditionalUpdate: true,
    keepStatusOnCreate: false,
    returnDeletedObject: false,
    generation: false,
    fieldSelectors: [],
    ...r,
  };
}

const EVENT_FIELDS = [
  'involvedObject.kind',
  'involvedObject.namespace',
  'involvedObject.name',
  'involvedObject.uid',
  'involvedObject.apiVersion',
  'involvedObject.resourceVersion',
  'involvedObject.fieldPath',
  'reason',
  'reportingComponent',
  'source',
  'type',
];

/** The built-in resources: core v1, discovery.k8s.io/v1, coordination.k8s.io/v1, events.k8s.io/v1. */
export function builtInResources(): ResourceType[] {
  return [
    builtIn({
      group: '',
      version: 'v1',
      plural: 'namespaces',
      kind: 'Namespace',
      namespaced: false,
      statusSubresource: true,
      shortNames: ['ns'],
      fieldSelectors: ['status.phase'],
    }),
    builtIn({
      group: '',
      version: 'v1',
      plural: 'nodes',
      kind: 'Node',
      namespaced: false,
      statusSubresource: true,
      shortNames: ['no'],
      keepStatusOnCreate: true,
      fieldSelectors: ['spec.unschedulable'],
    }),
    builtIn({
      group: '',
      version: 'v1',
      plural: 'services',
      kind: 'Service',
      namespaced: true,
      statusSubresource: true,
      shortNames: ['svc'],
      returnDeletedObject: true,
      fieldSelectors: ['spec.clusterIP', 'spec.type'],
    }),
    builtIn({
      group: '',
      version: 'v1',
      plural: 'secrets',
      kind: 'Secret',
      namespaced: true,
      fieldSelectors: ['type'],
    }),
    builtIn({
      group: '',
      version: 'v1',
      plural: 'events',
      kind: 'Event',
      namespaced: true,
      shortNames: ['ev'],
      fieldSelectors: EVENT_FIELDS,
    }),
    builtIn({
      group: '',
      version: 'v1',
      plural: 'configmaps',
      kind: 'ConfigMap',
      namespaced: true,
      shortNames: ['cm'],
    }),
    builtIn({
      group: '',
      version: 'v1',
      plural: 'pods',
      kind: 'Pod',
      namespaced: true,
      statusSubresource: true,
      shortNames: ['po'],
      returnDeletedObject: true,
      generation: true,
      fieldSelectors: [
        'spec.nodeName',
        'spec.restartPolicy',
        'spec.schedulerName',
        'spec.serviceAccountName',
        'spec.hostNetwork',
        'status.phase',
        'status.podIP',
        'status.nominatedNodeName',
      ],
    }),
    builtIn({
      group: 'discovery.k8s.io',
      version: 'v1',
      plural: 'endpointslices',
      kind: 'EndpointSlice',
      namespaced: true,
      generation: true,
    }),
    builtIn({
      group: 'coordination.k8s.io',
      version: 'v1',
      plural: 'leases',
      kind: 'Lease',
      namespaced: true,
      allowUnconditionalUpdate: false,
    }),
    builtIn({
      group: 'events.k8s.io',
      version: 'v1',
      plural: 'events',
      kind: 'Event',
      namespaced: true,
      shortNames: ['ev'],
      fieldSelectors: ['reason', 'type', 'reportingController'],
    }),
  ];
}

export { BGP_ANNOUNCE_CRDS } from './crds.js';

/** The ResourceType of a custom resource definition; throws if its printer columns are invalid. */
export function customResource(def: CustomResourceDefinition): ResourceType {
  const columns = def.additionalPrinterColumns ?? [];
  validatePrinterColumns(def.kind, columns);
  return {
    group: def.group,
    version: def.version,
    plural: def.plural,
    singular: def.singular ?? def.kind.toLowerCase(),
    kind: def.kind,
    listKind: `${def.kind}List`,
    namespaced: def.namespaced ?? true,
    statusSubresource: def.status ?? true,
    shortNames: def.shortNames ?? [],
    custom: true,
    allowUnconditionalUpdate: false,
    keepStatusOnCreate: false,
    returnDeletedObject: false,
    generation: true,
    fieldSelectors: [],
    ...(columns.length > 0 ? { printerColumns: structuredClone(columns) } : {}),
  };
}

/** The set of resources served, with lookups. */
export class ResourceRegistry {
  private readonly all: ResourceType[] = [];

  /** Adds a resource; a second one with the same group/version/plural is refused. */
  add(rt: ResourceType): void {
    if (this.find(rt.group, rt.version, rt.plural))
      throw new Error(`resource ${resourceKey(rt)} is already registered`);
    if (!rt.group && rt.version !== 'v1') throw new Error('the core group only has version v1');
    this.all.push(rt);
  }

  /** Every resource, in registration order. */
  list(): readonly ResourceType[] {
    return this.all;
  }

  /** The resource at group/version/plural. */
  find(group: string, version: string, plural: string): ResourceType | undefined {
    return this.all.find((r) => r.group === group && r.version === version && r.plural === plural);
  }

  /** Groups (without the core group) in registration order, each with its versions. */
  groups(): { group: string; versions: string[] }[] {
    const out: { group: string; versions: string[] }[] = [];
    for (const r of this.all) {
      if (!r.group) continue;
      let g = out.find((x) => x.group === r.group);
      if (!g) out.push((g = { group: r.group, versions: [] }));
      if (!g.versions.includes(r.version)) g.versions.push(r.version);
    }
    return out;
  }

  /**
   * Resolves a test-control name: "services", "svc", "Service", "leases.coordination.k8s.io" or
   * "events.events.k8s.io". A bare name that two groups share ("events") means the core one.
   */
  resolve(name: string): ResourceType {
    const lower = name.toLowerCase();
    const candidates = this.all.filter((r) => {
      const names = [r.plural, r.singular, r.kind.toLowerCase(), ...r.shortNames];
      if (names.includes(lower)) return true;
      return r.group !== '' && names.some((n) => `${n}.${r.group}` === lower);
    });
    const core = candidates.filter((r) => r.group === '');
    const pick = candidates.length === 1 ? candidates[0] : core.length === 1 ? core[0] : undefined;
    if (!pick) {
      throw new Error(
        candidates.length === 0
          ? `unknown resource "${name}"`
          : `resource name "${name}" is ambiguous: say ${candidates.map((r) => `${r.plural}.${r.group}`).join(' or ')}`,
      );
    }
    return pick;
  }
}
