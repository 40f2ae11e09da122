// A config file of many documents (issue 17: 10,000 StaticRoutes, one document each): every document
// is loaded; a problem in document N names its object, field and file line as in a small file; the
// documents are parsed one at a time (the next only once the previous one has been used); and the
// streaming path gives exactly what validating every object at once gives.
import t from 'tap';
import { configObjects } from '../src/config/file-documents.js';
import { parseConfigText, readConfigDocuments } from '../src/config/file.js';
import { validateConfig } from '../src/config/validate.js';
import type { ConfigProblem } from '../src/config/types.js';

const DOCUMENTS = 2000;
const LINES_PER_DOCUMENT = 7;

const name = (i: number): string => `static-route-${String(i).padStart(5, '0')}`;
const prefix = (i: number): string => `198.18.${i >> 8}.${i & 255}/32`;

/** Document i's lines (7, the "---" first); `edit` may replace some, never add or remove one. */
function documentLines(i: number): string[] {
  return [
    '---',
    'apiVersion: bgp-announce.io/v1alpha1',
    'kind: StaticRoute',
    'metadata:',
    `  name: ${name(i)}`,
    'spec:',
    `  prefixes: [${prefix(i)}]`,
  ];
}

/** The file's text: document i starts on line 7i + 1 ("---"), its content on line 7i + 2. */
function bigFile(edit: (i: number, lines: string[]) => void = () => {}, newline = '\n'): string {
  const lines: string[] = [];
  for (let i = 0; i < DOCUMENTS; i++) {
    const doc = documentLines(i);
    edit(i, doc);
    if (doc.length !== LINES_PER_DOCUMENT) throw new Error('an edit must keep the line count');
    lines.push(...doc);
  }
  return lines.join(newline) + newline;
}

t.test('every document of a big file is loaded, in file order', async (t) => {
  const { config, problems } = parseConfigText(bigFile(), 'big.yaml');
  t.strictSame(problems, []);
  t.equal(config.staticRoutes.length, DOCUMENTS);
  const wrong = config.staticRoutes.filter((r, i) => r.name !== name(i) || r.prefixes.join() !== prefix(i));
  t.strictSame(wrong, [], 'route i is document i, with its own prefix');
  t.match(config.staticRoutes[DOCUMENTS - 1], { name: name(DOCUMENTS - 1), prefixes: ['198.18.7.207/32'] });

  const { origins } = readConfigDocuments(bigFile(), 'big.yaml');
  t.equal(origins.length, DOCUMENTS);
  t.equal(origins[0], 'big.yaml:2');
  t.equal(origins[1234], `big.yaml:${1234 * LINES_PER_DOCUMENT + 2}`, 'origins count the lines of the whole file');
});

t.test('problems in document N name its object, field and file line, and every document is checked', async (t) => {
  const text = bigFile((i, lines) => {
    if (i === 700) lines[6] = '  prefixes: [198.18.2.188/33]'; // a bad prefix
    if (i === 800) lines[4] = '  labels: {}'; // no name: named by file and line
    if (i === 900) lines[2] = 'apiVersion: again'; // a YAML error (duplicated key)
    if (i === DOCUMENTS - 1) lines[6] = '  prefixes: [198.18.7.207/32, 198.18.7.207/32]';
  });
  const { config, problems } = parseConfigText(text, 'big.yaml');
  const brief = (p: ConfigProblem): string[] => [p.kind, p.name, p.field];
  t.strictSame(problems.map(brief), [
    ['unknown', 'big.yaml', `line ${900 * LINES_PER_DOCUMENT + 3}, column 1`],
    ['StaticRoute', name(700), 'spec.prefixes[0]'],
    ['StaticRoute', `big.yaml:${800 * LINES_PER_DOCUMENT + 2}`, 'metadata.name'],
    ['StaticRoute', name(DOCUMENTS - 1), 'spec.prefixes[1]'],
  ]);
  t.match(problems[0]?.message, /^YAML syntax error: duplicated mapping key \(line reads: "apiVersion: again"\)$/);
  t.match(problems[1]?.message, /198\.18\.2\.188\/33/);
  t.match(problems[3]?.message, /"198\.18\.7\.207\/32" is listed twice/);
  t.equal(config.staticRoutes.length, DOCUMENTS - 4, 'the other documents are read and valid');
});

t.test('the same with Windows line ends (CRLF)', async (t) => {
  const text = bigFile((i, lines) => {
    if (i === 5) lines[0] = '---   # a separator with a comment';
    if (i === 6) lines[4] = '  name: [a list]';
    if (i === 7) lines[2] = 'apiVersion: again';
  }, '\r\n');
  const { config, problems } = parseConfigText(text, 'crlf.yaml');
  t.strictSame(
    problems.map((p) => [p.name, p.field]),
    [
      ['crlf.yaml', `line ${7 * LINES_PER_DOCUMENT + 3}, column 1`],
      [`crlf.yaml:${6 * LINES_PER_DOCUMENT + 2}`, 'metadata.name'],
    ],
  );
  t.match(problems[0]?.message, /\(line reads: "apiVersion: again"\)$/, 'the line is shown without its "\\r"');
  t.equal(config.staticRoutes.length, DOCUMENTS - 2);
  t.equal(config.staticRoutes[5]?.name, name(5));
});

t.test('documents are parsed one at a time, as they are used', async (t) => {
  const problems: ConfigProblem[] = [];
  const text = bigFile((i, lines) => {
    if (i === 1) lines[6] = '  prefixes: [198.18.0.1/32'; // never closed
  });
  const objects = configObjects(text, 'lazy.yaml', problems);
  const first = objects.next();
  t.match(first.value, { object: { metadata: { name: name(0) } }, origin: 'lazy.yaml:2' });
  t.strictSame(problems, [], 'the second document is not parsed before the first is used');
  const second = objects.next();
  t.match(second.value, { object: { metadata: { name: name(2) } } }, 'the broken second document is skipped');
  t.equal(problems.length, 1);
  t.strictSame(problems[0], {
    kind: 'unknown',
    name: 'lazy.yaml',
    field: 'line 15, column 1', // where js-yaml noticed: the next document's "---"
    message: 'YAML syntax error: unexpected end of the stream within a flow collection (line reads: "---")',
  });
  let rest = 0;
  for (const _ of objects) rest++;
  t.equal(rest, DOCUMENTS - 3);
});

t.test('validating while parsing gives what validating every object at once gives', async (t) => {
  const text = bigFile((i, lines) => {
    if (i % 250 === 3) lines[6] = '  prefixes: [not-a-prefix]';
    if (i === 1001) lines[1] = 'apiVersion: metallb.io/v1beta1';
    if (i === 1002) lines[4] = `  name: ${name(1)}`; // a duplicate name
  });
  const documents = readConfigDocuments(text, 'same.yaml');
  const whole = validateConfig(documents.objects, { origins: documents.origins });
  const streamed = parseConfigText(text, 'same.yaml');
  t.ok(whole.problems.length >= 10, 'there are problems to compare');
  t.strictSame(streamed, { config: whole.config, problems: [...documents.problems, ...whole.problems] });
});
