// From untrusted objects (Kubernetes API objects of our CRDs, or documents of the config file) to a
// validated AnnouncerConfig with defaults filled, and the decision to run it or keep the previous one.
//
// All or nothing, as MetalLB does: one problem in any object rejects the whole new configuration and
// the previous good one keeps running. Accepting the valid part would silently drop a pool, a peer or
// a BFD profile, and a half-applied config changes routes in ways nobody asked for (a typo in one
// BGPAdvertisement would withdraw its VIPs from every router). Every problem is reported at once.
import { BfdProfileError, bfdProfile, type BfdProfile, type BfdProfileInput } from '@bgp-announce/bfd';
import {
  type Fields,
  type ObjectContext,
  checkUnknownFields,
  describe,
  isFields,
  readFields,
  report,
} from './check.js';
import { type NamesByKind, crossCheck } from './cross-check.js';
import { BFD_PROFILE_SPEC_FIELDS } from './fields.js';
import { objectNameProblem, readLabelMap } from './labels.js';
import { validateAdvertisement, validateStaticRoute } from './validate-advertisement.js';
import { validatePeer } from './validate-peer.js';
import { validatePool } from './validate-pool.js';
import {
  API_GROUP_VERSION,
  type AnnouncerConfig,
  ConfigError,
  type ConfigKind,
  type ConfigProblem,
  type KubeObject,
} from './types.js';

/** Every kind validateConfig reads. */
export const CONFIG_KINDS: readonly ConfigKind[] = [
  'IPAddressPool',
  'BGPPeer',
  'BGPAdvertisement',
  'BFDProfile',
  'StaticRoute',
];

const TOP_LEVEL_FIELDS = { apiVersion: true, kind: true, metadata: true, spec: true, status: true } as const;

export interface ValidateOptions {
  /** What to call object i when it has no metadata.name (the config file passes "config.yaml document 3"). */
  origins?: readonly string[];
}

/** A configuration with nothing in it. */
export function emptyConfig(): AnnouncerConfig {
  return { pools: [], peers: [], advertisements: [], bfdProfiles: [], staticRoutes: [] };
}

/**
 * Validates every object, fills defaults and cross-checks the whole. `config` holds the objects that
 * are valid on their own; it is only meant to be used when `problems` is empty (see acceptConfig).
 * Each problem names the object (kind and metadata.name), the field path and why, with the bad value.
 */
export function validateConfig(
  objects: readonly KubeObject[],
  options: ValidateOptions = {},
): { config: AnnouncerConfig; problems: ConfigProblem[] } {
  const validator = configValidator();
  objects.forEach((object, i) => validator.add(object, options.origins?.[i]));
  return validator.finish();
}

/** validateConfig one object at a time (see configValidator). */
export interface ConfigValidator {
  /** Validates one object now; `origin` names it when it has no metadata.name (default "(object N)"). */
  add(object: unknown, origin?: string): void;
  /** The cross-checks over every object added, and the result as validateConfig returns it. Call it once. */
  finish(): { config: AnnouncerConfig; problems: ConfigProblem[] };
}

/**
 * validateConfig for objects that arrive one at a time (a config file's documents as they are
 * parsed): each is validated when added and only its validated form is kept, so the caller need not
 * hold every raw object at once. Same problems, in the same order, as validateConfig.
 */
export function configValidator(): ConfigValidator {
  const problems: ConfigProblem[] = [];
  const config = emptyConfig();
  const names = Object.fromEntries(CONFIG_KINDS.map((k) => [k, new Set<string>()])) as Record<ConfigKind, Set<string>>;
  let added = 0;
  return {
    add(object, origin) {
      added++;
      validateObject(object, origin ?? `(object ${added})`, config, names, problems);
    },
    finish() {
      crossCheck(config, names as NamesByKind, problems);
      return { config, problems };
    },
  };
}

function validateObject(
  object: unknown,
  origin: string,
  config: AnnouncerConfig,
  names: Record<ConfigKind, Set<string>>,
  problems: ConfigProblem[],
): void {
  if (!isFields(object)) {
    problems.push({
      kind: 'unknown',
      name: origin,
      field: '(object)',
      message: `must be an object with apiVersion, kind, metadata and spec, got ${describe(object)}`,
    });
    return;
  }
  const metadata = isFields(object.metadata) ? object.metadata : undefined;
  const rawName = metadata?.name;
  const kind = CONFIG_KINDS.includes(object.kind as ConfigKind) ? (object.kind as ConfigKind) : undefined;
  const ctx: ObjectContext = {
    kind: kind ?? 'unknown',
    name: typeof rawName === 'string' && rawName !== '' ? rawName : origin,
    problems,
  };
  const before = problems.length;

  checkUnknownFields(ctx, object, TOP_LEVEL_FIELDS, '');
  if (kind === undefined) {
    report(ctx, 'kind', `must be one of ${CONFIG_KINDS.join(', ')}, got ${describe(object.kind)}`);
    return;
  }
  if (object.apiVersion !== API_GROUP_VERSION) {
    const hint =
      typeof object.apiVersion === 'string' && object.apiVersion.startsWith('metallb.io/')
        ? ' (MetalLB objects are not read: convert them with bgp-announce import metallb)'
        : '';
    report(ctx, 'apiVersion', `must be ${API_GROUP_VERSION}, got ${describe(object.apiVersion)}${hint}`);
  }
  if (object.metadata !== undefined && metadata === undefined)
    report(ctx, 'metadata', `must be an object, got ${describe(object.metadata)}`);
  const nameProblem = objectNameProblem(rawName);
  if (nameProblem !== undefined) report(ctx, 'metadata.name', nameProblem);
  const labels = readLabelMap(ctx, metadata?.labels, 'metadata.labels') ?? {};

  if (typeof rawName === 'string' && rawName !== '') {
    if (names[kind].has(rawName))
      report(
        ctx,
        'metadata.name',
        `another ${kind} named ${describe(rawName)} comes earlier: names must be unique per kind`,
      );
    names[kind].add(rawName);
  }
  const spec = object.spec === undefined || object.spec === null ? {} : readFields(ctx, object, 'spec', '');
  if (spec === undefined) return;
  // Looked into even when the envelope is wrong, so that every problem of the object shows at once.
  const valid = validateSpec(kind, ctx, spec, labels);
  if (valid !== undefined && problems.length === before) addToConfig(config, kind, valid);
}

type Valid = AnnouncerConfig[keyof AnnouncerConfig][number];

function validateSpec(
  kind: ConfigKind,
  ctx: ObjectContext,
  spec: Fields,
  labels: Record<string, string>,
): Valid | undefined {
  switch (kind) {
    case 'IPAddressPool':
      return validatePool(ctx, spec, labels);
    case 'BGPPeer':
      return validatePeer(ctx, spec);
    case 'BGPAdvertisement':
      return validateAdvertisement(ctx, spec);
    case 'BFDProfile':
      return validateBfdProfile(ctx, spec);
    case 'StaticRoute':
      return validateStaticRoute(ctx, spec);
  }
}

function addToConfig(config: AnnouncerConfig, kind: ConfigKind, valid: Valid): void {
  const list = {
    IPAddressPool: config.pools,
    BGPPeer: config.peers,
    BGPAdvertisement: config.advertisements,
    BFDProfile: config.bfdProfiles,
    StaticRoute: config.staticRoutes,
  }[kind] as Valid[];
  list.push(valid);
}

/** BFDProfile through @bgp-announce/bfd's own profile validation, its error mapped to a problem. */
function validateBfdProfile(ctx: ObjectContext, spec: Fields): BfdProfile | undefined {
  const before = ctx.problems.length;
  checkUnknownFields(ctx, spec, BFD_PROFILE_SPEC_FIELDS, 'spec');
  const input: Record<string, unknown> = { name: ctx.name };
  for (const [key, value] of Object.entries(spec))
    if (Object.hasOwn(BFD_PROFILE_SPEC_FIELDS, key) && value !== null) input[key] = value;
  try {
    const profile = bfdProfile(input as BfdProfileInput);
    return ctx.problems.length === before ? profile : undefined;
  } catch (e) {
    if (!(e instanceof BfdProfileError)) throw e;
    const prefix = `BFD profile ${JSON.stringify(ctx.name)}: `;
    let message = e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message;
    if (e.field !== '' && message.startsWith(`${e.field} must `)) message = message.slice(e.field.length + 1);
    report(ctx, e.field === '' ? 'spec' : `spec.${e.field}`, message);
    return undefined;
  }
}

/** What acceptConfig decided. */
export interface ConfigDecision {
  /** True when the new configuration had no problem and replaces the previous one. */
  accepted: boolean;
  /** The configuration to run: the new one if accepted, else `previous` (undefined if there was none). */
  config: AnnouncerConfig | undefined;
  /** Every problem found (empty when accepted). */
  problems: ConfigProblem[];
  /** When rejected: one error carrying every problem, for the log. */
  error?: ConfigError;
}

/**
 * Validates a new set of objects and decides: with no problem the new configuration is accepted;
 * with any problem, in any object, the whole new configuration is rejected and `previous` stays.
 */
export function acceptConfig(
  objects: readonly KubeObject[],
  previous: AnnouncerConfig | undefined,
  options: ValidateOptions = {},
): ConfigDecision {
  return decideConfig(validateConfig(objects, options), previous);
}

/** The same decision for an already validated result (such as loadConfigFile's). */
export function decideConfig(
  result: { config: AnnouncerConfig; problems: ConfigProblem[] },
  previous: AnnouncerConfig | undefined,
): ConfigDecision {
  const { config, problems } = result;
  if (problems.length === 0) return { accepted: true, config, problems };
  return { accepted: false, config: previous, problems, error: new ConfigError(problems) };
}

/** The problems of one object (for its status conditions). */
export function problemsOf(problems: readonly ConfigProblem[], kind: ConfigKind, name: string): ConfigProblem[] {
  return problems.filter((p) => p.kind === kind && p.name === name);
}

/** How many distinct objects (kind and name) have problems, by kind: the rejected-objects metric. */
export function rejectedObjectsByKind(problems: readonly ConfigProblem[]): Record<string, number> {
  const names = new Map<string, Set<string>>();
  for (const p of problems) {
    const set = names.get(p.kind) ?? new Set<string>();
    set.add(p.name);
    names.set(p.kind, set);
  }
  return Object.fromEntries([...names].map(([kind, set]) => [kind, set.size]));
}
