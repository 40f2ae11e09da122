// A tiny renderer for the Helm templates of deploy/helm, because no `helm` binary can be installed
// where this project is developed. It knows only what those templates use, with Go text/template and
// Sprig semantics, and throws TemplateError on anything else, so a template that starts using more
// fails the tests instead of being rendered wrongly:
//   - text, {{ pipeline }}, {{/* comments */}}, whitespace trimming with "{{- " and " -}}";
//   - pipelines of commands joined by "|": fields (.Values.a.b, ., $, $.Release.Name), "strings",
//     integers, and the functions toYaml, nindent, indent, quote, default, required, add, not;
//   - {{ if }} / {{ else }} / {{ end }}, {{ range }} over lists, {{ with }}.
// Not supported (TemplateError): parentheses, variables other than $, else if, range over maps,
// define/include/template/block, and every other function. Printing a map or a list is an error too
// (Go would print "map[...]", which no manifest wants). toYaml writes keys sorted and strings in
// double quotes: the same data as Helm's toYaml, not always the same text.

/** A template the renderer cannot render, or that fails as Helm would (required, nil field access). */
export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Operand =
  | { kind: 'field'; from: 'dot' | 'root'; path: string[] }
  | { kind: 'string'; value: string }
  | { kind: 'number'; value: number }
  | { kind: 'function'; name: string };
type Command = Operand[];
type Pipeline = Command[];
type Node =
  | { type: 'text'; text: string }
  | { type: 'print'; pipeline: Pipeline }
  | { type: 'if' | 'with' | 'range'; pipeline: Pipeline; body: Node[]; otherwise: Node[] };

/** The functions the templates may use. */
export const FUNCTIONS = ['toYaml', 'nindent', 'indent', 'quote', 'default', 'required', 'add', 'not'] as const;

interface Action {
  content: string;
  where: string;
}

/** Splits a template into text and action tokens, applying the trim markers. */
function lex(source: string, name: string): (string | Action)[] {
  const tokens: (string | Action)[] = [];
  let at = 0;
  let trimNext = false;
  const lineOf = (i: number): number => source.slice(0, i).split('\n').length;
  while (at <= source.length) {
    const open = source.indexOf('{{', at);
    let text = source.slice(at, open === -1 ? source.length : open);
    if (trimNext) text = text.replace(/^\s+/, '');
    if (open === -1) {
      tokens.push(text);
      break;
    }
    const close = source.indexOf('}}', open + 2);
    const where = `${name}:${lineOf(open)}`;
    if (close === -1) throw new TemplateError(`${where}: unclosed action`);
    let content = source.slice(open + 2, close);
    if (/^-\s/.test(content)) {
      text = text.replace(/\s+$/, '');
      content = content.slice(1);
    } else if (content.startsWith('-')) throw new TemplateError(`${where}: "{{-" must be followed by a space`);
    trimNext = /\s-$/.test(content);
    if (trimNext) content = content.slice(0, -1);
    else if (content.endsWith('-')) throw new TemplateError(`${where}: "-}}" must follow a space`);
    tokens.push(text, { content: content.trim(), where });
    at = close + 2;
  }
  return tokens;
}

function tokenizeAction(content: string, where: string): string[] {
  const words: string[] = [];
  const re = /\s*("(?:[^"\\]|\\.)*"|[^\s|"()]+|\||\(|\))/gy;
  let m: RegExpExecArray | null;
  let last = 0;
  while ((m = re.exec(content)) !== null) {
    words.push(m[1]!);
    last = re.lastIndex;
  }
  if (content.slice(last).trim() !== '')
    throw new TemplateError(`${where}: cannot read ${JSON.stringify(content.slice(last))}`);
  return words;
}

function parseOperand(word: string, where: string): Operand {
  if (word.startsWith('"')) return { kind: 'string', value: JSON.parse(word) as string };
  if (/^-?\d+$/.test(word)) return { kind: 'number', value: Number(word) };
  if (word === '.') return { kind: 'field', from: 'dot', path: [] };
  if (word === '$') return { kind: 'field', from: 'root', path: [] };
  const field = /^(\$)?((?:\.[A-Za-z_][A-Za-z0-9_]*)+)$/.exec(word);
  if (field) return { kind: 'field', from: field[1] ? 'root' : 'dot', path: field[2]!.slice(1).split('.') };
  if ((FUNCTIONS as readonly string[]).includes(word)) return { kind: 'function', name: word };
  throw new TemplateError(
    `${where}: unsupported ${word.startsWith('$') ? 'variable' : /^[A-Za-z]/.test(word) ? 'function or keyword' : 'syntax'} ${JSON.stringify(word)}`,
  );
}

function parsePipeline(words: string[], where: string): Pipeline {
  if (words.length === 0) throw new TemplateError(`${where}: empty pipeline`);
  if (words.includes('(') || words.includes(')')) throw new TemplateError(`${where}: parentheses are not supported`);
  const pipeline: Pipeline = [[]];
  for (const word of words) {
    if (word === '|') pipeline.push([]);
    else pipeline[pipeline.length - 1]!.push(parseOperand(word, where));
  }
  if (pipeline.some((c) => c.length === 0)) throw new TemplateError(`${where}: empty command in a pipeline`);
  return pipeline;
}

/** Parses a template into nodes; throws TemplateError on unsupported or unbalanced syntax. */
export function parseTemplate(source: string, name: string): Node[] {
  const stack: { node: Node & { type: 'if' | 'with' | 'range' }; inElse: boolean; where: string }[] = [];
  const root: Node[] = [];
  const current = (): Node[] => {
    const top = stack[stack.length - 1];
    return top === undefined ? root : top.inElse ? top.node.otherwise : top.node.body;
  };
  for (const token of lex(source, name)) {
    if (typeof token === 'string') {
      if (token !== '') current().push({ type: 'text', text: token });
      continue;
    }
    const { content, where } = token;
    if (content.startsWith('/*')) {
      if (!content.endsWith('*/')) throw new TemplateError(`${where}: a comment must end with "*/" just before "}}"`);
      continue;
    }
    const words = tokenizeAction(content, where);
    const keyword = words[0];
    if (keyword === 'if' || keyword === 'with' || keyword === 'range') {
      const node = {
        type: keyword,
        pipeline: parsePipeline(words.slice(1), where),
        body: [],
        otherwise: [],
      } as Node & { type: 'if' | 'with' | 'range' };
      current().push(node);
      stack.push({ node, inElse: false, where });
    } else if (keyword === 'else') {
      const top = stack[stack.length - 1];
      if (top === undefined || top.inElse) throw new TemplateError(`${where}: "else" without "if"/"with"`);
      if (words.length > 1) throw new TemplateError(`${where}: "else ${words[1]}" is not supported`);
      if (top.node.type === 'range') throw new TemplateError(`${where}: "range ... else" is not supported`);
      top.inElse = true;
    } else if (keyword === 'end') {
      if (stack.pop() === undefined) throw new TemplateError(`${where}: "end" without a block`);
    } else if (['define', 'template', 'block', 'include', 'break', 'continue'].includes(keyword ?? '')) {
      throw new TemplateError(`${where}: "${keyword}" is not supported`);
    } else {
      current().push({ type: 'print', pipeline: parsePipeline(words, where) });
    }
  }
  const open = stack[stack.length - 1];
  if (open !== undefined) throw new TemplateError(`${open.where}: "${open.node.type}" has no "end"`);
  return root;
}

/** Go template truth: false, 0, nil, "" and empty lists and maps are false. */
export function truthy(v: unknown): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === 'object') return Object.keys(v).length > 0;
  return true;
}

function keyText(key: string): string {
  return /^[A-Za-z0-9_./-]+$/.test(key) && !/^[0-9.-]+$/.test(key) ? key : JSON.stringify(key);
}

function scalarText(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v) && v.length === 0) return '[]';
  if (typeof v === 'object' && Object.keys(v).length === 0) return '{}';
  throw new TemplateError(`toYaml: cannot write ${typeof v}`);
}

const isBlock = (v: unknown): boolean => v !== null && typeof v === 'object' && Object.keys(v).length > 0;

/** Block-style YAML lines of a value (sequences under a key not indented, as go-yaml writes them). */
function yamlLines(v: unknown): string[] {
  if (Array.isArray(v) && v.length > 0) {
    return v.flatMap((item) => {
      if (!isBlock(item)) return [`- ${scalarText(item)}`];
      const [first, ...rest] = yamlLines(item);
      return [`- ${first}`, ...rest.map((l) => `  ${l}`)];
    });
  }
  if (isBlock(v)) {
    const map = v as Record<string, unknown>;
    return Object.keys(map)
      .sort()
      .flatMap((key) => {
        const value = map[key];
        if (!isBlock(value)) return [`${keyText(key)}: ${scalarText(value)}`];
        return [`${keyText(key)}:`, ...yamlLines(value).map((l) => (Array.isArray(value) ? l : `  ${l}`))];
      });
  }
  return [scalarText(v)];
}

/** Sprig's toYaml (without the final newline). */
export function toYaml(v: unknown): string {
  return yamlLines(v).join('\n');
}

function indentText(spaces: number, text: string): string {
  const pad = ' '.repeat(spaces);
  return pad + text.replace(/\n/g, `\n${pad}`);
}

function printText(v: unknown, where: string): string {
  if (v === undefined || v === null) return ''; // Helm renders "<no value>" as nothing
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new TemplateError(`${where}: cannot print a ${Array.isArray(v) ? 'list' : 'map'} (use toYaml)`);
}

function callFunction(name: string, args: unknown[], where: string): unknown {
  const want = (n: number): void => {
    if (args.length !== n) throw new TemplateError(`${where}: ${name} takes ${n} arguments, got ${args.length}`);
  };
  const integer = (v: unknown): number => {
    if (typeof v === 'number') return Math.trunc(v);
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
    throw new TemplateError(`${where}: ${name}: ${JSON.stringify(v)} is not a number`);
  };
  switch (name) {
    case 'toYaml':
      want(1);
      return toYaml(args[0]);
    case 'nindent':
    case 'indent':
      want(2);
      return (name === 'nindent' ? '\n' : '') + indentText(integer(args[0]), printText(args[1], where));
    case 'quote':
      return args
        .filter((a) => a !== undefined && a !== null)
        .map((a) => JSON.stringify(printText(a, where)))
        .join(' ');
    case 'default':
      want(2);
      return truthy(args[1]) ? args[1] : args[0];
    case 'required':
      want(2);
      if (args[1] === undefined || args[1] === null || args[1] === '')
        throw new TemplateError(`${where}: ${printText(args[0], where)}`);
      return args[1];
    case 'add':
      return args.reduce<number>((sum, a) => sum + integer(a), 0);
    case 'not':
      want(1);
      return !truthy(args[0]);
  }
  throw new TemplateError(`${where}: unknown function ${name}`);
}

function fieldValue(start: unknown, path: string[], where: string): unknown {
  let v = start;
  for (const [i, key] of path.entries()) {
    if (v === undefined || v === null)
      throw new TemplateError(`${where}: nil pointer evaluating .${path.slice(0, i + 1).join('.')}`);
    if (typeof v !== 'object' || Array.isArray(v))
      throw new TemplateError(`${where}: can't evaluate field ${key} in a ${Array.isArray(v) ? 'list' : typeof v}`);
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}

function runPipeline(pipeline: Pipeline, dot: unknown, root: unknown, where: string): unknown {
  let piped: unknown[] = [];
  for (const command of pipeline) {
    const value = (o: Operand): unknown =>
      o.kind === 'field'
        ? fieldValue(o.from === 'root' ? root : dot, o.path, where)
        : o.kind === 'function'
          ? callFunction(o.name, [], where)
          : o.value;
    const [head, ...rest] = command;
    let result: unknown;
    if (head!.kind === 'function') result = callFunction(head!.name, [...rest.map(value), ...piped], where);
    else if (rest.length > 0 || piped.length > 0)
      throw new TemplateError(`${where}: only a function can take arguments`);
    else result = value(head!);
    piped = [result];
  }
  return piped[0];
}

function renderNodes(nodes: Node[], dot: unknown, root: unknown, name: string): string {
  let out = '';
  for (const node of nodes) {
    if (node.type === 'text') {
      out += node.text;
      continue;
    }
    const value = runPipeline(node.pipeline, dot, root, name);
    if (node.type === 'print') out += printText(value, name);
    else if (node.type === 'if') out += renderNodes(truthy(value) ? node.body : node.otherwise, dot, root, name);
    else if (node.type === 'with')
      out += truthy(value) ? renderNodes(node.body, value, root, name) : renderNodes(node.otherwise, dot, root, name);
    else {
      if (value === undefined || value === null) continue;
      if (!Array.isArray(value))
        throw new TemplateError(`${name}: range over a ${typeof value} is not supported (lists only)`);
      for (const item of value) out += renderNodes(node.body, item, root, name);
    }
  }
  return out;
}

/** Renders a template with `root` as both "." and "$" (Helm's top-level object: Values, Release, Chart). */
export function renderTemplate(source: string, root: unknown, name: string): string {
  return renderNodes(parseTemplate(source, name), root, root, name);
}
