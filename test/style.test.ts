// House style, checked as CI checks it: Biome's formatter (120 columns) and linter (recommended rules,
// import cycles as errors) over the whole tree, through the repository's pinned Biome.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = fileURLToPath(new URL('..', import.meta.url));
const biome = fileURLToPath(new URL('../node_modules/@biomejs/biome/bin/biome', import.meta.url));

t.test('the tree is formatted and lint-clean (npm run lint; npm run format fixes formatting)', async (t) => {
  const r = spawnSync(process.execPath, [biome, 'ci', '--colors=off', '--reporter=summary', '.'], {
    cwd: root,
    encoding: 'utf8',
  });
  t.equal(r.error, undefined, 'biome ran');
  t.equal(r.status, 0, `biome ci found problems (npm run lint shows them):\n${(r.stdout + r.stderr).slice(-4000)}`);
  t.match(r.stdout + r.stderr, /Checked \d+ files?/, 'it checked files');
});

t.test('an import cycle is an error', async (t) => {
  const dir = t.testdir({
    'a.ts': "import { b } from './b.ts';\nexport const a = (): number => b() + 1;\n",
    'b.ts': "import { a } from './a.ts';\nexport const b = (): number => (a.length > 0 ? 1 : 0);\n",
    'biome.json': JSON.stringify({ extends: [`${root}biome.json`], vcs: { enabled: false } }),
  });
  const r = spawnSync(process.execPath, [biome, 'lint', '--colors=off', dir], { cwd: dir, encoding: 'utf8' });
  t.not(r.status, 0, 'biome lint fails');
  t.match(r.stdout + r.stderr, /noImportCycles/);
});
