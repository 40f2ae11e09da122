// The CRDs in deploy/crds against the validator: the same spec fields (a field added to one but not
// the other fails here), the same defaults and required fields, structural schemas, printer columns
// that point at real fields, and a table of bad values that both the OpenAPI schema (checked here by a
// small OpenAPI subset validator) and the daemon's validator reject.
import t from 'tap';
import { readFileSync, readdirSync } from 'node:fs';
import { loadAllYaml } from '@kubernetes/client-node';
import { SPEC_FIELDS, fieldPaths } from '../src/config/fields.js';
import { parseDuration } from '../src/config/duration.js';
import { validateConfig } from '../src/config/validate.js';
import { PEER_DEFAULTS } from '../src/config/validate-peer.js';
import { ADVERTISEMENT_DEFAULTS } from '../src/config/validate-advertisement.js';
import type { KubeObject } from '../src/config/types.js';

const DEPLOY = new URL('../../../deploy/', import.meta.url);
type Schema = {
  type?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  additionalProperties?: Schema | boolean;
  required?: string[];
  enum?: unknown[];
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  pattern?: string;
  default?: unknown;
  anyOf?: Schema[];
};
interface Crd {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: {
    group: string;
    scope: string;
    names: {
      kind: string;
      plural: string;
      singular: string;
      listKind: string;
      shortNames?: string[];
      categories?: string[];
    };
    versions: {
      name: string;
      served: boolean;
      storage: boolean;
      subresources?: { status?: object };
      additionalPrinterColumns?: { name: string; type: string; jsonPath: string }[];
      schema: { openAPIV3Schema: Schema };
    }[];
  };
}

/** The per-node state: a CRD of ours that is not configuration. */
const STATE_KIND = 'BGPNodeState';
const files = readdirSync(new URL('crds/', DEPLOY)).filter((f) => f.endsWith('.yaml'));
const crds = new Map<string, Crd>();
const typed = new Map<string, unknown[]>();
for (const f of files) {
  const text = readFileSync(new URL(`crds/${f}`, DEPLOY), 'utf8');
  typed.set(f, loadAllYaml(text));
  // loadAllYaml turns kinds it knows into client-node's models (default -> _default,
  // x-kubernetes-validations -> xKubernetesValidations); a kind it does not know comes back as written.
  const docs = loadAllYaml(
    text.replace(/^kind: CustomResourceDefinition$/m, 'kind: CustomResourceDefinitionAsWritten'),
  ) as Crd[];
  for (const d of docs) crds.set(d.spec.names.kind, { ...d, kind: d.kind.replace(/AsWritten$/, '') });
}
const CRD_KINDS = ['IPAddressPool', 'BGPPeer', 'BGPAdvertisement', 'BFDProfile', 'StaticRoute'] as const;
const specSchema = (kind: string): Schema => crds.get(kind)!.spec.versions[0]!.schema.openAPIV3Schema.properties!.spec!;

/** Field paths of a schema in the notation of fieldPaths(): "a.b", "a[].b"; free-form maps are leaves. */
function schemaPaths(s: Schema, prefix = ''): string[] {
  const out: string[] = [];
  for (const [name, sub] of Object.entries(s.properties ?? {})) {
    out.push(prefix + name);
    if (sub.type === 'object' && sub.properties) out.push(...schemaPaths(sub, `${prefix}${name}.`));
    if (sub.type === 'array' && sub.items?.properties) out.push(...schemaPaths(sub.items, `${prefix}${name}[].`));
  }
  return out.sort();
}

/** Errors of `value` against a schema: the OpenAPI subset the CRDs use (formats and CEL rules aside). */
function openApiErrors(s: Schema, value: unknown, path = 'spec'): string[] {
  const errors: string[] = [];
  const typeOf = (v: unknown): string =>
    Array.isArray(v) ? 'array' : Number.isInteger(v) ? 'integer' : typeof v === 'number' ? 'number' : typeof v;
  if (s.type && !(typeOf(value) === s.type || (s.type === 'number' && typeOf(value) === 'integer')))
    return [`${path}: type ${typeOf(value)}, want ${s.type}`];
  if (s.enum && !s.enum.includes(value)) errors.push(`${path}: not in enum`);
  if (typeof value === 'number') {
    if (s.minimum !== undefined && value < s.minimum) errors.push(`${path}: below minimum`);
    if (s.maximum !== undefined && value > s.maximum) errors.push(`${path}: above maximum`);
  }
  if (typeof value === 'string') {
    if (s.minLength !== undefined && value.length < s.minLength) errors.push(`${path}: shorter than minLength`);
    if (s.maxLength !== undefined && value.length > s.maxLength) errors.push(`${path}: longer than maxLength`);
    if (s.pattern !== undefined && !new RegExp(s.pattern, 'u').test(value))
      errors.push(`${path}: does not match pattern`);
  }
  if (Array.isArray(value)) {
    if (s.minItems !== undefined && value.length < s.minItems) errors.push(`${path}: fewer than minItems`);
    value.forEach((v, i) => s.items && errors.push(...openApiErrors(s.items, v, `${path}[${i}]`)));
  }
  if (s.type === 'object' && typeof value === 'object' && value !== null) {
    const o = value as Record<string, unknown>;
    for (const r of s.required ?? []) if (!(r in o)) errors.push(`${path}.${r}: required`);
    for (const [k, v] of Object.entries(o)) {
      const sub =
        s.properties?.[k] ?? (typeof s.additionalProperties === 'object' ? s.additionalProperties : undefined);
      if (sub === undefined) errors.push(`${path}.${k}: unknown field`);
      else errors.push(...openApiErrors(sub, v, `${path}.${k}`));
    }
  }
  return errors;
}

/** Structural schema rules (apiextensions.k8s.io/v1): a type everywhere, properties xor additionalProperties. */
function structuralErrors(s: Schema, path: string): string[] {
  const errors: string[] = [];
  if (s.type === undefined) errors.push(`${path}: no type`);
  if (s.properties && s.additionalProperties !== undefined)
    errors.push(`${path}: properties and additionalProperties together`);
  if (s.type === 'array' && !s.items) errors.push(`${path}: array without items`);
  for (const branch of s.anyOf ?? [])
    if (branch.type || branch.properties || branch.items)
      errors.push(`${path}: anyOf branch with type/properties/items`);
  for (const [k, sub] of Object.entries(s.properties ?? {})) errors.push(...structuralErrors(sub, `${path}.${k}`));
  if (s.items) errors.push(...structuralErrors(s.items, `${path}[]`));
  if (typeof s.additionalProperties === 'object') errors.push(...structuralErrors(s.additionalProperties, `${path}{}`));
  return errors;
}

t.test('one CRD per kind, each well formed', async (t) => {
  t.strictSame(
    [...crds.keys()].sort(),
    [...CRD_KINDS, STATE_KIND].sort(),
    'the five configuration kinds and the per-node state',
  );
  t.equal(files.length, CRD_KINDS.length + 1, 'one file per kind');
  for (const [f, docs] of typed)
    t.match(
      docs,
      [{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition' }],
      `${f}: one CRD, read by client-node as one`,
    );
  for (const kind of CRD_KINDS) {
    const crd = crds.get(kind)!;
    t.equal(crd.apiVersion, 'apiextensions.k8s.io/v1');
    t.equal(crd.kind, 'CustomResourceDefinition');
    t.equal(crd.spec.group, 'bgp-announce.io');
    t.equal(crd.metadata.name, `${crd.spec.names.plural}.bgp-announce.io`);
    t.equal(crd.spec.names.plural, `${kind.toLowerCase()}s`);
    t.equal(crd.spec.names.singular, kind.toLowerCase());
    t.equal(crd.spec.names.listKind, `${kind}List`);
    t.equal(crd.spec.scope, 'Namespaced');
    t.ok((crd.spec.names.shortNames ?? []).length > 0, `${kind} has a short name`);
    t.ok(crd.spec.names.categories?.includes('bgp-announce'), `${kind} is in the bgp-announce category`);
    t.equal(crd.spec.versions.length, 1);
    const v = crd.spec.versions[0]!;
    t.match(v, { name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
    t.strictSame(structuralErrors(v.schema.openAPIV3Schema, kind), [], `${kind} schema is structural`);
    const conditions = v.schema.openAPIV3Schema.properties?.status?.properties?.conditions;
    t.strictSame(
      conditions?.items?.required,
      ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
      `${kind} status.conditions are metav1.Conditions`,
    );
  }
  // The per-node state is not configuration: written by each node's daemon, status only, structural.
  const state = crds.get(STATE_KIND)!;
  t.equal(state.spec.scope, 'Namespaced');
  t.equal(state.metadata.name, 'bgpnodestates.bgp-announce.io');
  t.match(state.spec.versions[0], { name: 'v1alpha1', served: true, storage: true, subresources: { status: {} } });
  t.strictSame(
    structuralErrors(state.spec.versions[0]!.schema.openAPIV3Schema, STATE_KIND),
    [],
    'BGPNodeState schema is structural',
  );
  t.ok(state.spec.versions[0]!.schema.openAPIV3Schema.properties?.status, 'BGPNodeState has a status');
  const shortNames = [...CRD_KINDS, STATE_KIND].flatMap((k) => crds.get(k)!.spec.names.shortNames ?? []);
  t.equal(new Set(shortNames).size, shortNames.length, 'short names are unique');
});

t.test('the CRD schemas and the validator accept the same spec fields', async (t) => {
  for (const kind of CRD_KINDS) {
    t.strictSame(schemaPaths(specSchema(kind)), fieldPaths(SPEC_FIELDS[kind]), kind);
  }
});

t.test('printer columns point at fields that exist; the Accepted column at the condition', async (t) => {
  for (const kind of CRD_KINDS) {
    const v = crds.get(kind)!.spec.versions[0]!;
    const columns = v.additionalPrinterColumns ?? [];
    t.ok(columns.length >= 4, `${kind} has columns`);
    for (const c of columns) {
      if (c.jsonPath === '.metadata.creationTimestamp') continue;
      if (c.jsonPath.startsWith('.status.conditions[?(@.type=="Accepted")].')) continue;
      const path = c.jsonPath.replace(/^\.spec\./, '');
      t.ok(fieldPaths(SPEC_FIELDS[kind]).includes(path), `${kind} column ${c.name}: ${c.jsonPath} is a spec field`);
    }
    t.ok(
      columns.some((c) => c.name === 'Accepted'),
      `${kind} shows whether the daemon accepted it`,
    );
  }
  const peerColumns = crds.get('BGPPeer')!.spec.versions[0]!.additionalPrinterColumns!.map((c) => c.jsonPath);
  for (const want of ['.spec.peerAddress', '.spec.peerASN', '.spec.myASN', '.spec.bfdProfile'])
    t.ok(peerColumns.includes(want), `BGPPeer shows ${want}`);
  const poolColumns = crds.get('IPAddressPool')!.spec.versions[0]!.additionalPrinterColumns!.map((c) => c.jsonPath);
  for (const want of ['.spec.addresses', '.spec.autoAssign'])
    t.ok(poolColumns.includes(want), `IPAddressPool shows ${want}`);
});

t.test('defaults and required fields agree', async (t) => {
  const peer = specSchema('BGPPeer');
  t.equal(peer.properties?.peerPort?.default, PEER_DEFAULTS.peerPort);
  t.equal(peer.properties?.connectionMode?.default, PEER_DEFAULTS.connectionMode);
  t.strictSame(peer.properties?.connectionMode?.enum, ['active', 'passive', 'both']);
  t.strictSame(peer.required, ['myASN', 'peerASN', 'peerAddress']);
  t.equal(
    peer.properties?.holdTime?.default,
    undefined,
    'no holdTime default: keepaliveTime alone must still set hold = 3 x keepalive',
  );
  const pool = specSchema('IPAddressPool');
  t.equal(pool.properties?.autoAssign?.default, true);
  t.equal(pool.properties?.avoidBuggyIPs?.default, false);
  t.strictSame(pool.required, ['addresses']);
  const adv = specSchema('BGPAdvertisement');
  t.equal(adv.properties?.aggregationLength?.default, ADVERTISEMENT_DEFAULTS.aggregationLength);
  t.equal(adv.properties?.aggregationLengthV6?.default, ADVERTISEMENT_DEFAULTS.aggregationLengthV6);
  // What the CRD requires, the validator requires too.
  for (const [kind, required] of [
    ['BGPPeer', peer.required ?? []],
    ['IPAddressPool', pool.required ?? []],
  ] as const) {
    const { problems } = validateConfig([
      { apiVersion: 'bgp-announce.io/v1alpha1', kind, metadata: { name: 'x' }, spec: {} },
    ]);
    t.strictSame(
      problems.filter((p) => p.message.startsWith('is required')).map((p) => p.field),
      required.map((r) => `spec.${r}`),
      `${kind} required fields`,
    );
  }
});

t.test('the example custom resources pass the CRD schemas', async (t) => {
  const objects = loadAllYaml(readFileSync(new URL('examples/kubernetes.yaml', DEPLOY), 'utf8')) as KubeObject[];
  t.ok(objects.length >= 4);
  for (const o of objects)
    t.strictSame(openApiErrors(specSchema(o.kind!), o.spec), [], `${o.kind} ${o.metadata?.name}`);
});

t.test('bad values: rejected by the CRD schema where OpenAPI can say so, and by the validator', async (t) => {
  const base: Record<string, Record<string, unknown>> = {
    BGPPeer: { myASN: 64500, peerASN: 64496, peerAddress: '192.0.2.1' },
    IPAddressPool: { addresses: ['192.0.2.0/24'] },
    BGPAdvertisement: {},
    BFDProfile: {},
  };
  const bad: [string, Record<string, unknown>][] = [
    ['BGPPeer', { peerASN: 0 }],
    ['BGPPeer', { myASN: 4294967296 }],
    ['BGPPeer', { peerPort: 70000 }],
    ['BGPPeer', { holdTime: '90' }],
    ['BGPPeer', { holdTime: 90 }],
    ['BGPPeer', { keepaliveTime: '30 s' }],
    ['BGPPeer', { connectionMode: 'listen' }],
    ['BGPPeer', { password: 'x'.repeat(81) }],
    ['BGPPeer', { password: 'a\nb' }],
    ['BGPPeer', { passwordSecret: {} }],
    ['BGPPeer', { nodeSelectors: [{ matchExpressions: [{ key: 'a', operator: 'Equals' }] }] }],
    ['BGPPeer', { nodeSelectors: [{ matchLabels: { a: 1 } }] }],
    ['BGPPeer', { ebgpMultihop: true }],
    ['IPAddressPool', { addresses: [] }],
    ['IPAddressPool', { addresses: ['192.0.2.0/24'], autoAssign: 'yes' }],
    ['IPAddressPool', { addresses: ['192.0.2.0/24'], serviceAllocation: { priority: -1 } }],
    ['IPAddressPool', { addresses: ['pool-a'] }],
    ['BGPAdvertisement', { aggregationLength: 33 }],
    ['BGPAdvertisement', { aggregationLengthV6: -1 }],
    ['BGPAdvertisement', { localPref: 4294967296 }],
    ['BGPAdvertisement', { communities: ['64500;100'] }],
    ['BGPAdvertisement', { communities: ['large:1:2:3:4'] }],
    ['BFDProfile', { receiveInterval: 9 }],
    ['BFDProfile', { detectMultiplier: 256 }],
    ['BFDProfile', { minimumTtl: 0 }],
    ['BFDProfile', { echoMode: true }],
  ];
  for (const [kind, change] of bad) {
    const spec = { ...base[kind], ...change };
    const label = `${kind} ${JSON.stringify(change)}`;
    t.not(openApiErrors(specSchema(kind), spec).length, 0, `CRD rejects ${label}`);
    const { problems } = validateConfig([
      { apiVersion: 'bgp-announce.io/v1alpha1', kind, metadata: { name: 'x' }, spec },
    ]);
    t.not(problems.length, 0, `validator rejects ${label}`);
  }
});

t.test('the CRD duration pattern accepts exactly what parseDuration accepts', async (t) => {
  const pattern = new RegExp(specSchema('BGPPeer').properties!.holdTime!.pattern!, 'u');
  for (const p of ['keepaliveTime', 'connectTime'])
    t.equal(specSchema('BGPPeer').properties![p]!.pattern, pattern.source, `${p} uses the same pattern`);
  const samples = [
    '0',
    '90s',
    '1m30s',
    '500ms',
    '1.5h',
    '.5s',
    '1.s',
    '2h45m',
    '10us',
    '10µs',
    '10μs',
    '3ns',
    '',
    '90',
    '0s',
    '-1s',
    '+1s',
    '1d',
    '1 s',
    's',
    '1m 30s',
    '1.5',
    '1h1h',
  ];
  for (const s of samples) t.equal(pattern.test(s), typeof parseDuration(s) === 'number', JSON.stringify(s));
});
