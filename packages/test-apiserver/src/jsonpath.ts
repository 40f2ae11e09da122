// The JSONPath subset that CRD printer columns use, evaluated as client-go's jsonpath does with
// AllowMissingKeys (what the real server's CRD table convertor runs): `.a.b`, `['a.b']`, `[0]`,
// `[-1]`, `[1:3]`, `[*]`, `.*`, and filters `[?(@.type=="Ready")]` (==, !=, <, >, <=, >=, or
// existence). Recursive descent (`..`) is not supported: compiling such a path throws.

/** One step of a compiled path. */
type Segment =
  | { type: 'field'; name: string }
  | { type: 'wildcard' }
  | { type: 'slice'; start?: number; end?: number; step?: number; index: boolean }
  | { type: 'filter'; left: Segment[]; operator?: string; right?: Segment[] | { literal: unknown } };

/** A compiled JSONPath. */
export interface JsonPath {
  readonly source: string;
  readonly segments: readonly Segment[];
}

/** Evaluation failed where client-go's jsonpath returns an error (the cell becomes null). */
export class JsonPathError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'JsonPathError';
  }
}

const OPERATORS = ['==', '!=', '<=', '>=', '<', '>'];

class Parser {
  private pos = 0;

  constructor(private readonly text: string) {}

  private fail(why: string): never {
    throw new Error(`invalid JSONPath ${JSON.stringify(this.text)} at offset ${this.pos}: ${why}`);
  }

  private peek(n = 0): string | undefined {
    return this.text[this.pos + n];
  }

  private done(stopAt: string): boolean {
    return this.pos >= this.text.length || stopAt.includes(this.text[this.pos] as string);
  }

  /** Segments until the end or a character in stopAt (for filter operands). */
  segments(stopAt = ''): Segment[] {
    const out: Segment[] = [];
    while (!this.done(stopAt)) {
      const c = this.peek();
      if (c === '.') {
        if (this.peek(1) === '.') this.fail('recursive descent (..) is not supported');
        this.pos++;
        if (this.peek() === '*') {
          this.pos++;
          out.push({ type: 'wildcard' });
          continue;
        }
        const start = this.pos;
        while (!this.done(`.[]()=!<> ${stopAt}`)) this.pos++;
        if (this.pos === start) {
          if (this.done(stopAt) && out.length === 0) continue; // "." alone: the object itself
          this.fail('empty field name');
        }
        out.push({ type: 'field', name: this.text.slice(start, this.pos) });
      } else if (c === '[') {
        this.pos++;
        out.push(this.bracket());
      } else {
        this.fail(`unexpected ${JSON.stringify(c)}`);
      }
    }
    return out;
  }

  private quoted(): string {
    const q = this.peek() as string;
    this.pos++;
    let s = '';
    while (this.peek() !== q) {
      if (this.pos >= this.text.length) this.fail('unterminated string');
      if (this.peek() === '\\' && this.pos + 1 < this.text.length) this.pos++;
      s += this.peek();
      this.pos++;
    }
    this.pos++;
    return s;
  }

  private expect(c: string): void {
    if (this.peek() !== c) this.fail(`expected ${JSON.stringify(c)}`);
    this.pos++;
  }

  private bracket(): Segment {
    const c = this.peek();
    if (c === "'" || c === '"') {
      const name = this.quoted();
      this.expect(']');
      return { type: 'field', name };
    }
    if (c === '*') {
      this.pos++;
      this.expect(']');
      return { type: 'wildcard' };
    }
    if (c === '?') {
      this.pos++;
      this.expect('(');
      const seg = this.filter();
      this.expect(')');
      this.expect(']');
      return seg;
    }
    const end = this.text.indexOf(']', this.pos);
    if (end < 0) this.fail('unterminated [');
    const parts = this.text.slice(this.pos, end).split(':');
    this.pos = end + 1;
    if (parts.length > 3) this.fail('too many colons in a slice');
    const nums = parts.map((p) => {
      const t = p.trim();
      if (t === '') return undefined;
      if (!/^-?\d+$/.test(t)) this.fail(`${JSON.stringify(p)} is not an integer`);
      return Number(t);
    });
    const seg: Segment = { type: 'slice', index: parts.length === 1 };
    if (nums[0] !== undefined) seg.start = nums[0];
    if (parts.length === 1) {
      if (nums[0] === undefined) this.fail('empty index');
      seg.end = (nums[0] as number) + 1;
    } else if (nums[1] !== undefined) seg.end = nums[1];
    if (nums[2] !== undefined) seg.step = nums[2];
    return seg;
  }

  private operand(): Segment[] | { literal: unknown } {
    while (this.peek() === ' ') this.pos++;
    const c = this.peek();
    if (c === '@') {
      this.pos++;
      return this.segments(')=!<> ');
    }
    if (c === "'" || c === '"') return { literal: this.quoted() };
    const start = this.pos;
    while (!this.done(')=!<> ')) this.pos++;
    const word = this.text.slice(start, this.pos);
    if (word === 'true' || word === 'false') return { literal: word === 'true' };
    if (word !== '' && !Number.isNaN(Number(word))) return { literal: Number(word) };
    return this.fail(`unsupported filter operand ${JSON.stringify(word)}`);
  }

  private filter(): Segment {
    const left = this.operand();
    if (!Array.isArray(left)) this.fail('a filter must start with @');
    while (this.peek() === ' ') this.pos++;
    if (this.peek() === ')') return { type: 'filter', left };
    const operator = OPERATORS.find((op) => this.text.startsWith(op, this.pos));
    if (!operator) this.fail('unknown filter operator');
    this.pos += operator.length;
    const right = this.operand();
    while (this.peek() === ' ') this.pos++;
    return { type: 'filter', left, operator, right };
  }
}

/** Compiles a printer column's jsonPath (".spec.x", as written in a CRD); throws if it is not supported. */
export function compileJsonPath(source: string): JsonPath {
  if (!source.startsWith('.'))
    throw new Error(`invalid JSONPath ${JSON.stringify(source)}: must be a simple json path starting with .`);
  return { source, segments: new Parser(source).segments() };
}

function isMap(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function evalSlice(values: unknown[], seg: Extract<Segment, { type: 'slice' }>): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    if (v === null || v === undefined) continue;
    if (!Array.isArray(v)) throw new JsonPathError(`${typeof v} is not array or slice`);
    const len = v.length;
    let start = seg.start ?? 0;
    if (start < 0) start += len;
    let end = seg.end ?? len;
    if (seg.end !== undefined && (end < 0 || (seg.index && end === 0))) end += len;
    if (end === start) continue;
    if (start >= len || start < 0) throw new JsonPathError(`array index out of bounds: index ${start}, length ${len}`);
    if (end > len || end < 0) throw new JsonPathError(`array index out of bounds: index ${end - 1}, length ${len}`);
    if (start > end) throw new JsonPathError(`starting index ${start} is greater than ending index ${end}`);
    const step = seg.step ?? 1;
    if (step <= 0) throw new JsonPathError('step must be > 0');
    for (let i = start; i < end; i += step) out.push(v[i]);
  }
  return out;
}

function compare(left: unknown, operator: string, right: unknown): boolean {
  const kind = (x: unknown): string =>
    typeof x === 'number' || typeof x === 'string' || typeof x === 'boolean' ? typeof x : 'other';
  if (kind(left) !== kind(right) || kind(left) === 'other')
    throw new JsonPathError('incompatible types for comparison');
  if (operator === '==') return left === right;
  if (operator === '!=') return left !== right;
  if (typeof left === 'boolean') throw new JsonPathError('invalid type for comparison');
  const [a, b] = [left as number | string, right as number | string];
  switch (operator) {
    case '<':
      return a < b;
    case '>':
      return a > b;
    case '<=':
      return a <= b;
    default:
      return a >= b;
  }
}

function evalFilter(values: unknown[], seg: Extract<Segment, { type: 'filter' }>): unknown[] {
  const out: unknown[] = [];
  for (const v of values) {
    if (!Array.isArray(v)) throw new JsonPathError('not array or slice and cannot be filtered');
    for (const item of v) {
      const lefts = evaluate(seg.left, [item]);
      if (seg.operator === undefined) {
        if (lefts.length > 0) out.push(item);
        continue;
      }
      if (lefts.length === 0) continue;
      if (lefts.length > 1) throw new JsonPathError('can only compare one element at a time');
      const right = seg.right as Segment[] | { literal: unknown };
      const rights = Array.isArray(right) ? evaluate(right, [item]) : [right.literal];
      if (rights.length === 0) continue;
      if (rights.length > 1) throw new JsonPathError('can only compare one element at a time');
      if (compare(lefts[0], seg.operator, rights[0])) out.push(item);
    }
  }
  return out;
}

function evaluate(segments: readonly Segment[], start: unknown[]): unknown[] {
  let values = start;
  for (const seg of segments) {
    const next: unknown[] = [];
    switch (seg.type) {
      case 'field':
        for (const v of values) if (isMap(v) && Object.hasOwn(v, seg.name)) next.push(v[seg.name]);
        break;
      case 'wildcard':
        for (const v of values) {
          if (Array.isArray(v)) next.push(...v);
          else if (isMap(v)) next.push(...Object.values(v));
        }
        break;
      case 'slice':
        next.push(...evalSlice(values, seg));
        break;
      case 'filter':
        next.push(...evalFilter(values, seg));
        break;
    }
    values = next;
  }
  return values;
}

/** Every value the path selects in obj (missing keys select nothing); throws JsonPathError where client-go errs. */
export function findResults(path: JsonPath, obj: unknown): unknown[] {
  return evaluate(path.segments, [obj]);
}
