// MetalLB's configuration objects to ours, with a report: the whole conversion, pure (no I/O). The
// output is checked by our own validation (validateConfig) before it is returned, so what comes out
// is what the daemon accepts; a problem there is reported against the input document it came from.
import { describe, isFields, type Fields } from '../config/check.js';
import { matchesSelector } from '../config/selector.js';
import { API_GROUP_VERSION, type ConfigKind, type KubeObject, type LabelSelector } from '../config/types.js';
import { validateConfig } from '../config/validate.js';
import { type ImportContext, changed, needsUser, present, problem, specOf } from './metallb-context.js';
import {
  type CommunityAliases,
  convertAdvertisement,
  convertBfdProfile,
  convertPool,
  readCommunityAliases,
  readL2Advertisement,
} from './metallb-objects.js';
import { convertPeer } from './metallb-peer.js';
import { hasMetalLBAnnotations, reportServiceAnnotations } from './metallb-service.js';
import {
  type Converted,
  DEFAULT_METALLB_NAMESPACE,
  DEFAULT_TARGET_NAMESPACE,
  type ImportNote,
  type ImportProblem,
  METALLB_GROUP,
  type MetalLBDocument,
  type MetalLBImportOptions,
  type MetalLBImportResult,
} from './metallb-types.js';

/** The MetalLB kinds read, each with the versions accepted (the first is MetalLB's current one). */
export const METALLB_KINDS = {
  BFDProfile: ['v1beta1'],
  BGPPeer: ['v1beta2', 'v1beta1'],
  IPAddressPool: ['v1beta1'],
  Community: ['v1beta1'],
  BGPAdvertisement: ['v1beta1'],
  L2Advertisement: ['v1beta1'],
} as const satisfies Record<string, readonly string[]>;
export type MetalLBKind = keyof typeof METALLB_KINDS;

/** What some of MetalLB's other kinds were, for the note that says they are not carried over. */
const OTHER_KINDS: Readonly<Record<string, string>> = {
  AddressPool: 'the pre-0.13 pool kind, replaced by IPAddressPool in MetalLB itself: convert it to IPAddressPool first',
  ServiceL2Status: "MetalLB's own status: nothing to carry over",
  ServiceBGPStatus: "MetalLB's own status: nothing to carry over",
  ConfigurationState: "MetalLB's own status: nothing to carry over",
};

interface Input {
  kind: MetalLBKind;
  name: string;
  object: Fields;
  ctx: ImportContext;
}

/** Converts MetalLB's objects (and reports on Services' MetalLB annotations). Never throws for bad input. */
export function importMetalLB(
  documents: readonly MetalLBDocument[],
  options: MetalLBImportOptions = {},
): MetalLBImportResult {
  const namespaces = {
    target: options.namespace ?? DEFAULT_TARGET_NAMESPACE,
    metallb: options.metallbNamespace ?? DEFAULT_METALLB_NAMESPACE,
  };
  const notes: ImportNote[] = [];
  const problems: ImportProblem[] = [];
  const read: Record<string, number> = {};
  const inputs: Input[] = [];
  const names = new Set<string>();
  for (const doc of documents) {
    const input = classify(doc, notes, problems, read);
    if (input === undefined) continue;
    const key = `${input.kind}/${input.name}`;
    if (names.has(key))
      problem(input.ctx, 'metadata.name', `another ${input.kind} named ${JSON.stringify(input.name)} comes earlier`);
    names.add(key);
    inputs.push(input);
  }
  const of = (kind: MetalLBKind) => inputs.filter((i) => i.kind === kind);
  if (problems.length === 0 && Object.keys(read).every((k) => k === 'Service'))
    problems.push({
      document: '(input)',
      field: '(documents)',
      message: `holds no MetalLB object (${METALLB_GROUP}/...): nothing to import`,
    });

  const aliases: CommunityAliases = new Map();
  for (const c of of('Community')) {
    readCommunityAliases(c.ctx, c.object, aliases);
    changed(
      c.ctx,
      '(object)',
      'no object written: its aliases are expanded in place in the BGPAdvertisements that use them',
    );
  }
  const converted: Converted[] = [];
  const leftOutPeers = new Set<string>();
  for (const kind of ['BFDProfile', 'BGPPeer', 'IPAddressPool', 'BGPAdvertisement'] as const) {
    for (const input of of(kind)) {
      const spec = specOf(input.ctx, input.object);
      if (spec === undefined) continue;
      const before = problems.length;
      const out =
        kind === 'BFDProfile'
          ? convertBfdProfile(input.ctx, spec)
          : kind === 'BGPPeer'
            ? convertPeer(input.ctx, spec, namespaces)
            : kind === 'IPAddressPool'
              ? convertPool(input.ctx, spec)
              : convertAdvertisement(input.ctx, spec, aliases);
      if (out === undefined) {
        if (kind === 'BGPPeer' && problems.length === before) leftOutPeers.add(input.name);
        continue;
      }
      const item: Converted = { kind, name: input.name, spec: out, from: input.ctx.from };
      const labels = labelsOf(input.object);
      if (labels !== undefined) item.labels = labels;
      converted.push(item);
    }
  }
  const advertisements = dropLeftOutPeers(converted, leftOutPeers, inputs);
  for (const l2 of of('L2Advertisement')) reportL2(l2, converted, advertisements);

  const result = (objects: KubeObject[]): MetalLBImportResult => ({
    objects: problems.length > 0 ? [] : objects,
    notes,
    problems,
    status: problems.length > 0 ? 2 : notes.some((n) => n.severity === 'needs-user') ? 1 : 0,
    read,
  });
  if (problems.length > 0) return result([]);

  // Our validation, as the daemon will run it: what it refuses is reported against the input.
  const objects = converted.map((c) => ourObject(c, namespaces.target));
  const from = new Map(converted.map((c) => [`${c.kind}/${c.name}`, c.from]));
  for (const p of validateConfig(objects).problems) {
    problems.push({
      document: from.get(`${p.kind}/${p.name}`) ?? `${p.kind} ${p.name}`,
      field: p.field,
      message: `${p.message} (bgp-announce's own check)`,
    });
  }
  return result(objects);
}

/** The document as one of MetalLB's kinds, or undefined (a Service reported, a note, or a problem). */
function classify(
  doc: MetalLBDocument,
  notes: ImportNote[],
  problems: ImportProblem[],
  read: Record<string, number>,
): Input | undefined {
  const { object, origin } = doc;
  const bare: ImportContext = { from: origin, notes, problems };
  if (!isFields(object)) {
    problem(bare, '(document)', `must be an object with apiVersion, kind, metadata and spec, got ${describe(object)}`);
    return undefined;
  }
  const { apiVersion, kind } = object;
  const metadata = isFields(object.metadata) ? object.metadata : {};
  const rawName = metadata.name;
  const name = typeof rawName === 'string' && rawName !== '' ? rawName : undefined;
  const label = `${typeof kind === 'string' ? kind : 'object'} ${name ?? '(no name)'}`;
  const ctx: ImportContext = { from: `${label} (${origin})`, notes, problems };
  if (typeof apiVersion !== 'string' || typeof kind !== 'string' || kind === '') {
    problem(
      bare,
      typeof apiVersion !== 'string' ? 'apiVersion' : 'kind',
      `must be a string naming one of MetalLB's kinds (${METALLB_GROUP}/...), got apiVersion ${describe(apiVersion)}, kind ${describe(kind)}`,
    );
    return undefined;
  }
  if (apiVersion === 'v1' && kind === 'Service') {
    read.Service = (read.Service ?? 0) + 1;
    const namespace = typeof metadata.namespace === 'string' ? `${metadata.namespace}/` : '';
    const service: ImportContext = { from: `Service ${namespace}${name ?? '(no name)'} (${origin})`, notes, problems };
    if (hasMetalLBAnnotations(object)) reportServiceAnnotations(service, object);
    return undefined;
  }
  if (apiVersion === 'v1' && kind === 'ConfigMap') {
    problem(
      ctx,
      'kind',
      "a ConfigMap is MetalLB's configuration before 0.13: convert it to MetalLB's custom resources first (MetalLB's configmaptocrs tool), then import those",
    );
    return undefined;
  }
  const [group, version] = apiVersion.split('/');
  if (group !== METALLB_GROUP || version === undefined) {
    problem(ctx, 'apiVersion', `must be ${METALLB_GROUP}/<version> (or v1 for a Service), got ${describe(apiVersion)}`);
    return undefined;
  }
  if (!Object.hasOwn(METALLB_KINDS, kind)) {
    read[kind] = (read[kind] ?? 0) + 1;
    needsUser(
      ctx,
      '(object)',
      `not carried over: ${OTHER_KINDS[kind] ?? `bgp-announce has no equivalent of MetalLB's ${kind}`}`,
    );
    return undefined;
  }
  const metallbKind = kind as MetalLBKind;
  const versions: readonly string[] = METALLB_KINDS[metallbKind];
  if (!versions.includes(version)) {
    problem(
      ctx,
      'apiVersion',
      `MetalLB's ${kind} is read as ${versions.map((v) => `${METALLB_GROUP}/${v}`).join(' or ')}, got ${describe(apiVersion)}`,
    );
    return undefined;
  }
  read[kind] = (read[kind] ?? 0) + 1;
  if (name === undefined) {
    problem(ctx, 'metadata.name', `must be a non-empty string, got ${describe(rawName)}`);
    return undefined;
  }
  return { kind: metallbKind, name, object, ctx };
}

function labelsOf(object: Fields): Record<string, string> | undefined {
  const labels = isFields(object.metadata) ? present(object.metadata, 'labels') : undefined;
  return isFields(labels) ? (labels as Record<string, string>) : undefined;
}

/**
 * Advertisements that name peers which were left out: those names go (noted); an advertisement left
 * with none goes too, as an empty `peers` would announce to every peer. Returns the advertisements kept.
 */
function dropLeftOutPeers(converted: Converted[], leftOut: ReadonlySet<string>, inputs: readonly Input[]): Converted[] {
  const kept: Converted[] = [];
  for (let i = 0; i < converted.length; i++) {
    const c = converted[i]!;
    if (c.kind !== 'BGPAdvertisement') continue;
    const peers = Array.isArray(c.spec.peers) ? (c.spec.peers as unknown[]) : [];
    const gone = peers.filter((p) => typeof p === 'string' && leftOut.has(p));
    const ctx = inputs.find((x) => x.kind === 'BGPAdvertisement' && x.name === c.name)!.ctx;
    if (gone.length > 0 && gone.length === peers.length) {
      needsUser(
        ctx,
        'spec.peers',
        `not carried over: every peer it names (${gone.join(', ')}) was left out (see above)`,
      );
      converted.splice(i--, 1);
      continue;
    }
    if (gone.length > 0) {
      c.spec.peers = peers.filter((p) => !gone.includes(p));
      needsUser(ctx, 'spec.peers', `${gone.join(', ')} left out (the peer was not carried over, see above)`);
    }
    kept.push(c);
  }
  return kept;
}

/** An L2Advertisement is not carried over: say so, and which of its pools no BGPAdvertisement announces. */
function reportL2(l2: Input, converted: readonly Converted[], advertisements: readonly Converted[]): void {
  const spec = specOf(l2.ctx, l2.object);
  if (spec === undefined) return;
  readL2Advertisement(l2.ctx, spec);
  const pools = converted.filter((c) => c.kind === 'IPAddressPool');
  const covered = pools.filter((p) => selectsPool(spec, p)).map((p) => p.name);
  const viaBgp = new Set(pools.filter((p) => advertisements.some((a) => selectsPool(a.spec, p))).map((p) => p.name));
  const orphans = covered.filter((p) => !viaBgp.has(p));
  const why = 'layer-2 mode (ARP/NDP) is not ours: not carried over';
  needsUser(
    l2.ctx,
    '(object)',
    orphans.length === 0
      ? `${why}; ${covered.length === 0 ? 'it covers none of the pools read' : `its pools (${covered.join(', ')}) are announced over BGP by a BGPAdvertisement`}`
      : `${why}; pool${orphans.length > 1 ? 's' : ''} ${orphans.join(', ')} would give Services addresses that no router learns: add a BGPAdvertisement for ${orphans.length > 1 ? 'them' : 'it'}, or leave ${orphans.length > 1 ? 'them' : 'it'} to MetalLB`,
  );
}

/** MetalLB's (and our) rule: named pools, pools matching a selector, or every pool when neither is given. */
function selectsPool(spec: Fields, pool: Converted): boolean {
  const names = Array.isArray(spec.ipAddressPools) ? spec.ipAddressPools : [];
  const selectors = Array.isArray(spec.ipAddressPoolSelectors) ? spec.ipAddressPoolSelectors : [];
  if (names.length === 0 && selectors.length === 0) return true;
  return (
    names.includes(pool.name) ||
    selectors.some((s) => isFields(s) && safelyMatches(s as LabelSelector, pool.labels ?? {}))
  );
}

/** A selector of the input is not validated yet (our validation comes last): a malformed one matches nothing. */
function safelyMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  try {
    return matchesSelector(selector, labels);
  } catch {
    return false;
  }
}

function ourObject(c: Converted, namespace: string): KubeObject {
  const metadata: NonNullable<KubeObject['metadata']> = { name: c.name, namespace };
  if (c.labels !== undefined) metadata.labels = c.labels;
  return { apiVersion: API_GROUP_VERSION, kind: c.kind satisfies ConfigKind, metadata, spec: c.spec };
}
