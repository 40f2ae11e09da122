// A BGPPeer's password (the TCP MD5 key) of the wrong type or shape is rejected without its value in
// any problem: not as YAML reads it (a number, a timestamp, true), nor inside a list or an object, nor a
// string with a line break or too long. The problems are what the log, `status --json` and `check`
// show (as formatProblem text, or as the ConfigError message), so none of them may hold the value.
import t from 'tap';
import { parseConfigText } from '../src/config/file.js';
import { validateConfig } from '../src/config/validate.js';
import { ConfigError, formatProblem, type ConfigProblem } from '../src/config/types.js';

const peerYaml = (password: string): string => `apiVersion: bgp-announce.io/v1alpha1
kind: BGPPeer
metadata:
  name: tor-a
spec:
  myASN: 64500
  peerASN: 64496
  peerAddress: 192.0.2.1
  password: ${password}
`;

/** Every way a problem reaches people: its fields, its text, the rejection's message. */
const shown = (problems: ConfigProblem[]): string =>
  [JSON.stringify(problems), ...problems.map(formatProblem), new ConfigError(problems).message].join('\n');

const cases: { name: string; yaml: string; secret: string; got: RegExp }[] = [
  { name: 'a number', yaml: '31337421', secret: '31337421', got: /got a number \(quote the value in YAML/ },
  { name: 'a hex number', yaml: '0x7a69', secret: '31337', got: /got a number/ },
  { name: 'a timestamp', yaml: '2024-05-17', secret: '2024-05-17', got: /got a timestamp \(quote the value/ },
  { name: 'a boolean', yaml: 'true', secret: 'true', got: /got a boolean \(quote the value/ },
  { name: 'a list', yaml: '[hunter2, s3cr3t-key]', secret: 's3cr3t-key', got: /got a list/ },
  { name: 'a list of numbers', yaml: '[31337421]', secret: '31337421', got: /got a list/ },
  { name: 'an object', yaml: '{key: s3cr3t-key}', secret: 's3cr3t-key', got: /got an object/ },
];

for (const c of cases) {
  t.test(`password as ${c.name}: rejected, the value never shown`, async (t) => {
    const { problems } = parseConfigText(peerYaml(c.yaml), 'config.yaml');
    t.strictSame(
      problems.map((p) => `${p.kind} ${p.name} ${p.field}`),
      ['BGPPeer tor-a spec.password'],
    );
    t.match(problems[0]?.message, /^must be a non-empty string, got /);
    t.match(problems[0]?.message, c.got);
    t.match(problems[0]?.message, /a secret: its value is not shown/);
    t.notOk(shown(problems).includes(c.secret), `${c.secret} is not in any problem text`);
  });
}

t.test('passwords of the wrong shape: the reason, never the value', async (t) => {
  for (const [password, why] of [
    ['s3cr3t\nkey', /^must not contain line breaks$/],
    ['s3cr3t-key'.repeat(9), /^is 90 bytes long; a TCP MD5 key is at most 80$/],
    ['', /^must be a non-empty string, got an empty string/],
  ] as const) {
    const { problems } = validateConfig([
      {
        apiVersion: 'bgp-announce.io/v1alpha1',
        kind: 'BGPPeer',
        metadata: { name: 'tor-a' },
        spec: { myASN: 64500, peerASN: 64496, peerAddress: '192.0.2.1', password },
      },
    ]);
    t.strictSame(
      problems.map((p) => p.field),
      ['spec.password'],
    );
    t.match(problems[0]?.message, why);
    if (password !== '') t.notOk(shown(problems).includes('s3cr3t'), 'the key is not in any problem text');
  }
});

t.test('a good password is taken as given', async (t) => {
  const { config, problems } = parseConfigText(peerYaml('"31337421"'), 'config.yaml');
  t.strictSame(problems, []);
  t.equal(config.peers[0]?.password, '31337421');
});

t.test('a YAML syntax error on the password line shows its key, never its value', async (t) => {
  for (const yaml of ['s3cr3t: key', '"s3cr3t" key', "'s3cr3t'x"]) {
    const { problems } = parseConfigText(`${peerYaml(yaml)}  holdTime: 9s\n`, 'config.yaml');
    t.equal(problems.length, 1, `${yaml}: one problem`);
    t.match(
      problems[0]?.message,
      /^YAML syntax error: .* \(line reads: "password: \(a secret: its value is not shown\)"\)$/,
      `${yaml}: the line is named by its key`,
    );
    t.notMatch(shown(problems), /s3cr3t/, `${yaml}: the value is not in any problem`);
  }
  // Another line still reads as it is, to find the mistake.
  const other = parseConfigText('kind: BGPPeer\nmetadata: [tor-a\nspec: {}\n', 'config.yaml').problems;
  t.match(other[0]?.message, /line reads: "spec: \{\}"/);
});
