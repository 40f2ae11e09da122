// What the real API server does to an object between decoding and storing, for built-in kinds:
// metav1.Time fields are re-encoded in UTC with whole seconds, metav1.MicroTime fields must carry six
// fractional digits (else 400, as a Lease with a JS Date gets), Secret stringData folds into data,
// new Namespaces and Pods get their initial status.
import { badRequest } from './status.js';
import type { KubeObject, ResourceType } from './types.js';

const TIME_FIELDS = new Set([
  'creationTimestamp',
  'deletionTimestamp',
  'lastTransitionTime',
  'lastHeartbeatTime',
  'lastProbeTime',
  'lastUpdateTime',
  'firstTimestamp',
  'lastTimestamp',
  'startTime',
  'startedAt',
  'finishedAt',
  'time',
]);
const MICRO_TIME_FIELDS = new Set(['acquireTime', 'renewTime', 'eventTime', 'lastObservedTime']);

const RFC3339 = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/i;
const RFC3339_MICRO = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)\.(\d{6})(Z|[+-]\d\d:\d\d)$/;

/** A metav1.Time value as the server writes it: UTC, whole seconds ("2024-05-01T12:00:00Z"). */
export function formatTime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function cannotParse(rt: ResourceType, value: unknown, layout: string): Error {
  return badRequest(
    `${rt.kind} in version "${rt.version}" cannot be handled as a ${rt.kind}: parsing time ${JSON.stringify(value)} as "${layout}": cannot parse`,
  );
}

function normalizeTime(rt: ResourceType, value: unknown): string {
  const m = typeof value === 'string' ? RFC3339.exec(value) : null;
  const d = m ? new Date(value as string) : undefined;
  if (!m || !d || Number.isNaN(d.getTime())) throw cannotParse(rt, value, '2006-01-02T15:04:05Z07:00');
  return formatTime(d);
}

function normalizeMicroTime(rt: ResourceType, value: unknown): string {
  const m = typeof value === 'string' ? RFC3339_MICRO.exec(value) : null;
  if (!m) throw cannotParse(rt, value, '2006-01-02T15:04:05.000000Z07:00');
  const d = new Date(`${m[1]}${m[3]}`);
  if (Number.isNaN(d.getTime())) throw cannotParse(rt, value, '2006-01-02T15:04:05.000000Z07:00');
  return `${formatTime(d).slice(0, -1)}.${m[2]}Z`;
}

function walkTimes(rt: ResourceType, node: unknown, micro: boolean): void {
  if (Array.isArray(node)) {
    for (const x of node) walkTimes(rt, x, micro);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  const obj = node as Record<string, unknown>;
  for (const [k, v] of Object.entries(obj)) {
    if (v === null || v === undefined) continue;
    if (TIME_FIELDS.has(k) && typeof v !== 'object') obj[k] = normalizeTime(rt, v);
    else if (micro && MICRO_TIME_FIELDS.has(k) && typeof v !== 'object') obj[k] = normalizeMicroTime(rt, v);
    else walkTimes(rt, v, micro);
  }
}

/**
 * Re-encodes time fields as the real server would after decoding into Go types; throws 400 for a
 * time that does not parse. Custom resources keep their own fields as sent (only metadata is typed).
 */
export function normalizeTimes(rt: ResourceType, obj: KubeObject): void {
  if (rt.custom) walkTimes(rt, obj.metadata, false);
  else walkTimes(rt, obj, true);
}

/** Secret: stringData is written into data (base64) and dropped; type defaults to Opaque. */
function prepareSecret(obj: KubeObject): void {
  const stringData = obj.stringData;
  if (stringData !== undefined && stringData !== null) {
    if (typeof stringData !== 'object')
      throw badRequest('Secret in version "v1" cannot be handled as a Secret: stringData must be a map');
    const data = { ...((obj.data as Record<string, string> | undefined) ?? {}) };
    for (const [k, v] of Object.entries(stringData as Record<string, unknown>))
      data[k] = Buffer.from(String(v)).toString('base64');
    obj.data = data;
  }
  delete obj.stringData;
  if (obj.type === undefined || obj.type === '') obj.type = 'Opaque';
}

/** Defaults applied on create for built-in kinds (Services are handled in services.ts). */
export function prepareForCreate(rt: ResourceType, obj: KubeObject): void {
  if (rt.group !== '') return;
  switch (rt.plural) {
    case 'secrets':
      prepareSecret(obj);
      break;
    case 'namespaces':
      obj.spec = { finalizers: ['kubernetes'], ...((obj.spec as object | undefined) ?? {}) };
      obj.status = { phase: 'Active' };
      break;
    case 'pods':
      if (!obj.status || typeof obj.status !== 'object' || !(obj.status as { phase?: string }).phase) {
        obj.status = { ...((obj.status as object | undefined) ?? {}), phase: 'Pending' };
      }
      break;
  }
}

/** Defaults applied on update for built-in kinds. */
export function prepareForUpdate(rt: ResourceType, obj: KubeObject): void {
  if (rt.group === '' && rt.plural === 'secrets') prepareSecret(obj);
}
