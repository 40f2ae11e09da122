// A huge metadata.name (only a config file can hold one: Kubernetes refuses names over 253 characters)
// must not make huge problems: the name is cut as describe() cuts values, wherever a problem names the
// object or refers to it. Valid names, up to 253 characters, are shown whole (problemsOf finds an
// object's problems by its name).
import t from 'tap';
import { parseConfigText } from '../src/config/file.js';
import { problemsOf, validateConfig } from '../src/config/validate.js';
import { ConfigError, formatProblem, type ConfigProblem, type KubeObject } from '../src/config/types.js';

const V = 'bgp-announce.io/v1alpha1';
const HUGE = 'a'.repeat(10 * 1024 * 1024);
const peer = (name: string, address = '192.0.2.1'): KubeObject => ({
  apiVersion: V,
  kind: 'BGPPeer',
  metadata: { name },
  spec: { myASN: 64500, peerASN: 64496, peerAddress: address },
});
/** The longest line any problem makes, as formatProblem and the rejection's message show it. */
const longest = (problems: ConfigProblem[]): number =>
  Math.max(
    ...problems.map((p) => formatProblem(p).length),
    ...new ConfigError(problems).message.split('\n').map((l) => l.length),
  );

t.test('a 10 MB metadata.name: problems stay short and name the object by its first characters', async (t) => {
  const { problems } = validateConfig([peer(HUGE)]);
  t.strictSame(
    problems.map((p) => [p.kind, p.name, p.field]),
    [['BGPPeer', `${'a'.repeat(77)}...`, 'metadata.name']],
  );
  t.ok(longest(problems) < 500, `the longest problem line is ${longest(problems)} characters`);
});

t.test('the same huge name twice, and references to it, stay short too', async (t) => {
  const { problems } = validateConfig([
    peer(HUGE),
    peer(HUGE, '192.0.2.2'),
    {
      apiVersion: V,
      kind: 'StaticRoute',
      metadata: { name: 'r' },
      spec: { prefixes: ['203.0.113.0/24'], peers: [`${HUGE}b`] },
    },
  ]);
  t.strictSame(
    problems.map((p) => `${p.kind} ${p.name.length} ${p.field}`),
    ['BGPPeer 80 metadata.name', 'BGPPeer 80 metadata.name', 'BGPPeer 80 metadata.name', 'StaticRoute 1 spec.peers[0]'],
  );
  t.match(problems[2]?.message, /^another BGPPeer named "a{77}\.\.\." comes earlier/);
  t.match(problems[3]?.message, /^refers to BGPPeer "a{77}\.\.\.", which does not exist \(known: a{77}\.\.\.\)$/);
  t.ok(longest(problems) < 500, `the longest problem line is ${longest(problems)} characters`);
});

t.test('a long list of known names is cut', async (t) => {
  const peers = Array.from({ length: 30 }, (_, i) => peer(`tor-${i}`, `192.0.2.${i + 1}`));
  const route: KubeObject = {
    apiVersion: V,
    kind: 'StaticRoute',
    metadata: { name: 'r' },
    spec: { prefixes: ['203.0.113.0/24'], peers: ['tor-x'] },
  };
  const { problems } = validateConfig([...peers, route]);
  t.equal(problems.length, 1);
  t.match(problems[0]?.message, /known: tor-0, tor-1, .*, tor-19 and 10 more\)$/);
});

t.test('through the config file: a 1 MB name gives a short problem', async (t) => {
  const name = 'b'.repeat(1024 * 1024);
  const { problems } = parseConfigText(
    `apiVersion: ${V}\nkind: BGPPeer\nmetadata:\n  name: ${name}\nspec: {myASN: 64500, peerASN: 64496, peerAddress: 192.0.2.1}\n`,
    'config.yaml',
  );
  t.strictSame(
    problems.map((p) => [p.name, p.field]),
    [[`${'b'.repeat(77)}...`, 'metadata.name']],
  );
  t.ok(longest(problems) < 500, `the longest problem line is ${longest(problems)} characters`);
});

t.test('valid names, even 253 characters long, are shown whole and find their problems', async (t) => {
  const name = `${'c'.repeat(63)}.${'d'.repeat(63)}.${'e'.repeat(63)}.${'f'.repeat(61)}`;
  t.equal(name.length, 253);
  const bad = peer(name);
  (bad.spec as Record<string, unknown>).peerASN = 0;
  const { problems } = validateConfig([bad]);
  t.strictSame(
    problems.map((p) => [p.name, p.field]),
    [[name, 'spec.peerASN']],
  );
  t.equal(problemsOf(problems, 'BGPPeer', name).length, 1);
});
