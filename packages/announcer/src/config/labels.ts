// Syntax of Kubernetes labels and label selectors (metav1.LabelSelector) in our objects: label keys
// and values, matchLabels, and matchExpressions with their operators and values.
import { LABEL_REQUIREMENT_FIELDS, LABEL_SELECTOR_FIELDS } from './fields.js';
import {
  type Fields,
  type ObjectContext,
  checkUnknownFields,
  describe,
  isFields,
  readFieldsList,
  report,
} from './check.js';
import type { LabelSelector } from './types.js';

const NAME_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)$/;
const DNS_SUBDOMAIN_RE = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
type Operator = (typeof OPERATORS)[number];

/** Why `key` is not a valid label key ("prefix/name" or "name"), or undefined if it is. */
export function labelKeyProblem(key: string): string | undefined {
  const slash = key.lastIndexOf('/');
  const prefix = slash >= 0 ? key.slice(0, slash) : undefined;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN_RE.test(prefix))) {
    return `label key ${JSON.stringify(key)}: the prefix must be a lower-case DNS subdomain of at most 253 characters`;
  }
  if (name.length === 0 || name.length > 63 || !NAME_RE.test(name)) {
    return `label key ${JSON.stringify(key)}: the name must be 1-63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** Why `value` is not a valid label value, or undefined if it is. */
export function labelValueProblem(value: unknown): string | undefined {
  if (typeof value !== 'string') return `label values must be strings (quote them in YAML), got ${describe(value)}`;
  if (value === '') return undefined;
  if (value.length > 63 || !NAME_RE.test(value)) {
    return `label value ${JSON.stringify(value)} must be at most 63 characters of letters, digits, '-', '_' and '.', starting and ending with a letter or digit`;
  }
  return undefined;
}

/** A map of labels (metadata.labels, matchLabels), or undefined with problems recorded. */
export function readLabelMap(ctx: ObjectContext, value: unknown, path: string): Record<string, string> | undefined {
  if (value === undefined || value === null) return {};
  if (!isFields(value)) {
    report(ctx, path, `must be a map of label keys to values, got ${describe(value)}`);
    return undefined;
  }
  let ok = true;
  for (const [k, v] of Object.entries(value)) {
    const why = labelKeyProblem(k) ?? labelValueProblem(v);
    if (why !== undefined) {
      report(ctx, `${path}.${k}`, why);
      ok = false;
    }
  }
  return ok ? (value as Record<string, string>) : undefined;
}

/** One label selector, or undefined with problems recorded. An empty selector matches everything. */
export function readLabelSelector(ctx: ObjectContext, selector: Fields, path: string): LabelSelector | undefined {
  const before = ctx.problems.length;
  checkUnknownFields(ctx, selector, LABEL_SELECTOR_FIELDS, path);
  const out: LabelSelector = {};
  if (selector.matchLabels !== undefined && selector.matchLabels !== null) {
    const labels = readLabelMap(ctx, selector.matchLabels, `${path}.matchLabels`);
    if (labels !== undefined) out.matchLabels = { ...labels };
  }
  const expressions: NonNullable<LabelSelector['matchExpressions']> = [];
  for (const { item, path: at } of readFieldsList(ctx, selector, 'matchExpressions', path)) {
    checkUnknownFields(ctx, item, LABEL_REQUIREMENT_FIELDS, at);
    const { key, operator, values } = item;
    if (typeof key !== 'string') {
      report(ctx, `${at}.key`, `is required (a label key), got ${describe(key)}`);
    } else {
      const why = labelKeyProblem(key);
      if (why !== undefined) report(ctx, `${at}.key`, why);
    }
    if (!OPERATORS.includes(operator as Operator)) {
      report(ctx, `${at}.operator`, `must be one of ${OPERATORS.join(', ')}, got ${describe(operator)}`);
      continue;
    }
    const op = operator as Operator;
    const list = values === undefined || values === null ? [] : values;
    if (!Array.isArray(list)) {
      report(ctx, `${at}.values`, `must be a list of strings, got ${describe(values)}`);
      continue;
    }
    if ((op === 'In' || op === 'NotIn') && list.length === 0) {
      report(ctx, `${at}.values`, `must list at least one value for operator ${op}`);
    } else if ((op === 'Exists' || op === 'DoesNotExist') && list.length > 0) {
      report(
        ctx,
        `${at}.values`,
        `must be empty for operator ${op} (it tests only whether the key exists), got ${list.length} value(s)`,
      );
    }
    list.forEach((v: unknown, i) => {
      const why = labelValueProblem(v);
      if (why !== undefined) report(ctx, `${at}.values[${i}]`, why);
    });
    if (typeof key === 'string') {
      expressions.push(
        list.length > 0 ? { key, operator: op, values: [...(list as string[])] } : { key, operator: op },
      );
    }
  }
  if (expressions.length > 0) out.matchExpressions = expressions;
  return ctx.problems.length === before ? out : undefined;
}

/** A list of label selectors (nodeSelectors, ipAddressPoolSelectors...); bad ones are recorded. */
export function readLabelSelectors(ctx: ObjectContext, obj: Fields, key: string, path: string): LabelSelector[] {
  const out: LabelSelector[] = [];
  const seen = new Set<string>();
  for (const { item, path: at } of readFieldsList(ctx, obj, key, path)) {
    const selector = readLabelSelector(ctx, item, at);
    if (selector === undefined) continue;
    const text = JSON.stringify(selector);
    if (seen.has(text)) report(ctx, at, 'the same selector is listed twice');
    seen.add(text);
    out.push(selector);
  }
  return out;
}

/** Why `name` is not a valid object name (a lower-case DNS subdomain, as Kubernetes requires), or undefined. */
export function objectNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string' || name === '')
    return `is required (a lower-case name such as "tor-a"), got ${describe(name)}`;
  if (name.length > 253 || !DNS_SUBDOMAIN_RE.test(name)) {
    return `must be a lower-case DNS subdomain (letters a-z, digits, '-' and '.', at most 253 characters, starting and ending with a letter or digit), got ${describe(name)}`;
  }
  return undefined;
}
