// Label selectors (equality- and set-based, as labels.Parse takes them) and field selectors.
import { badRequest } from './status.js';
import type { KubeObject, ResourceType } from './types.js';

/** One label requirement: key op values. */
export interface LabelRequirement {
  key: string;
  operator: 'in' | 'notin' | 'exists' | '!' | '=' | '!=' | 'gt' | 'lt';
  values: string[];
}

/** One field requirement: field = value or field != value. */
export interface FieldRequirement {
  field: string;
  operator: '=' | '!=';
  value: string;
}

const KEY_CHAR = /[A-Za-z0-9._/-]/;
const QUALIFIED_NAME =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;

type Token = { kind: 'word'; text: string } | { kind: 'op'; text: string };

function tokenize(input: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < input.length) {
    const c = input[i] as string;
    if (c === ' ' || c === '\t') {
      i++;
    } else if (c === '(' || c === ')' || c === ',') {
      out.push({ kind: 'op', text: c });
      i++;
    } else if (c === '!' || c === '=' || c === '<' || c === '>') {
      const two = input.slice(i, i + 2);
      const op = two === '!=' || two === '==' ? two : c;
      out.push({ kind: 'op', text: op });
      i += op.length;
    } else if (KEY_CHAR.test(c)) {
      let j = i;
      while (j < input.length && KEY_CHAR.test(input[j] as string)) j++;
      out.push({ kind: 'word', text: input.slice(i, j) });
      i = j;
    } else {
      throw badRequest(`unable to parse requirement: unexpected character '${c}' in label selector "${input}"`);
    }
  }
  return out;
}

/** Parses a label selector ("app=x,tier in (a,b),!legacy"); a malformed one is 400 BadRequest. */
export function parseLabelSelector(input: string): LabelRequirement[] {
  const tokens = tokenize(input);
  const reqs: LabelRequirement[] = [];
  let i = 0;
  const fail = (what: string): never => {
    throw badRequest(`unable to parse requirement: ${what} in label selector "${input}"`);
  };
  const next = (): Token | undefined => tokens[i++];
  const peek = (): Token | undefined => tokens[i];
  while (i < tokens.length) {
    let t = next();
    let req: LabelRequirement;
    if (t?.kind === 'op' && t.text === '!') {
      t = next();
      if (t?.kind !== 'word') fail("expected a key after '!'");
      req = { key: (t as Token).text, operator: '!', values: [] };
    } else {
      if (t?.kind !== 'word') fail(`found '${t?.text ?? ''}', expected a key`);
      const key = (t as Token).text;
      const op = peek();
      if (!op || (op.kind === 'op' && op.text === ',')) {
        req = { key, operator: 'exists', values: [] };
      } else if (op.kind === 'word' && (op.text === 'in' || op.text === 'notin')) {
        i++;
        if (next()?.text !== '(') fail(`expected '(' after ${op.text}`);
        const values: string[] = [];
        for (;;) {
          const v = peek();
          if (v?.kind === 'word') {
            values.push(v.text);
            i++;
          } else values.push('');
          const sep = next();
          if (sep?.text === ')') break;
          if (sep?.text !== ',') fail(`found '${sep?.text ?? ''}', expected: ',' or ')'`);
        }
        if (values.length === 1 && values[0] === '') fail("for 'in', 'notin' operators, values set can't be empty");
        req = { key, operator: op.text as 'in' | 'notin', values };
      } else if (op.kind === 'op' && ['=', '==', '!=', '<', '>'].includes(op.text)) {
        i++;
        const v = peek();
        let value = '';
        if (v?.kind === 'word') {
          value = v.text;
          i++;
        }
        if (op.text === '<' || op.text === '>') {
          if (!/^-?\d+$/.test(value)) fail(`for 'Gt', 'Lt' operators, the value must be an integer`);
          req = { key, operator: op.text === '<' ? 'lt' : 'gt', values: [value] };
        } else {
          req = { key, operator: op.text === '!=' ? '!=' : '=', values: [value] };
        }
      } else {
        fail(`found '${op.text}', expected: in, notin, =, ==, !=, gt, lt`);
        continue;
      }
    }
    if (!QUALIFIED_NAME.test(req.key) || req.key.length > 317) fail(`invalid label key "${req.key}"`);
    for (const v of req.values) if (v.length > 63 || !LABEL_VALUE.test(v)) fail(`invalid label value: "${v}"`);
    reqs.push(req);
    const sep = next();
    if (sep && sep.text !== ',') fail(`found '${sep.text}', expected: ','`);
    if (sep && i >= tokens.length) fail("found '', expected: identifier after ','");
  }
  return reqs;
}

/** Whether labels satisfy every requirement. */
export function matchesLabels(reqs: readonly LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const value = l[r.key];
    switch (r.operator) {
      case 'exists':
        return has;
      case '!':
        return !has;
      case '=':
        return has && value === r.values[0];
      case '!=':
        return !has || value !== r.values[0];
      case 'in':
        return has && r.values.includes(value as string);
      case 'notin':
        return !has || !r.values.includes(value as string);
      case 'gt':
      case 'lt': {
        if (!has || !/^-?\d+$/.test(value as string)) return false;
        const n = Number(value);
        const bound = Number(r.values[0]);
        return r.operator === 'gt' ? n > bound : n < bound;
      }
    }
  });
}

/** Splits on an unescaped separator; "\\," "\\=" "\\\\" escape. */
function splitEscaped(s: string, sep: string): string[] {
  const parts: string[] = [];
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i] as string;
    if (c === '\\' && i + 1 < s.length) {
      cur += c + (s[i + 1] as string);
      i++;
    } else if (c === sep) {
      parts.push(cur);
      cur = '';
    } else cur += c;
  }
  parts.push(cur);
  return parts;
}

const unescapeValue = (s: string): string => s.replace(/\\(.)/g, '$1');

/** Parses a field selector for a resource; an unknown field label is 400 BadRequest, as the real server says. */
export function parseFieldSelector(input: string, rt: ResourceType): FieldRequirement[] {
  const allowed = ['metadata.name', 'metadata.namespace', ...rt.fieldSelectors];
  const reqs: FieldRequirement[] = [];
  for (const part of splitEscaped(input, ',')) {
    if (part.trim() === '') continue;
    const m = /^([^!=]+?)\s*(!=|==|=)\s*(.*)$/.exec(part);
    if (!m) throw badRequest(`invalid selector: '${input}'; can't understand '${part}'`);
    const field = (m[1] as string).trim();
    if (!allowed.includes(field)) throw badRequest(`field label not supported: ${field}`);
    reqs.push({ field, operator: m[2] === '!=' ? '!=' : '=', value: unescapeValue(m[3] as string) });
  }
  return reqs;
}

/** The string value of a dotted field path ('' when absent; booleans and numbers as text). */
export function fieldValue(obj: KubeObject, field: string): string {
  let cur: unknown = obj;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object') return '';
    cur = (cur as Record<string, unknown>)[part];
  }
  if (cur === undefined || cur === null) return '';
  return typeof cur === 'object' ? JSON.stringify(cur) : String(cur);
}

/** Whether an object satisfies every field requirement. */
export function matchesFields(reqs: readonly FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => (fieldValue(obj, r.field) === r.value) === (r.operator === '='));
}

/** A parsed list/watch filter: namespace, labels, fields. */
export interface ObjectFilter {
  namespace?: string;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
}

/** Whether an object passes a list/watch filter. */
export function matchesFilter(filter: ObjectFilter, obj: KubeObject): boolean {
  if (filter.namespace !== undefined && obj.metadata.namespace !== filter.namespace) return false;
  return matchesLabels(filter.labels, obj.metadata.labels) && matchesFields(filter.fields, obj);
}
