// The README's example runs against the built package and prints what the README says it prints.
import t from 'tap';
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkg = join(dirname(fileURLToPath(import.meta.url)), '..');
const readme = readFileSync(join(pkg, 'README.md'), 'utf8');

t.test('README example prints what the README says', async (t) => {
  const example = /## Example\n\n```js\n([\s\S]*?)```\n\nprints\n\n```\n([\s\S]*?)```/.exec(readme);
  t.ok(example, 'the README has an example and its output');
  if (!example) return;
  // Run it from inside the package folder so '@bgp-announce/bgp-wire' resolves as for a user.
  const dir = mkdtempSync(join(pkg, '.readme-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'example.mjs');
  writeFileSync(file, example[1]!);
  const out = execFileSync(process.execPath, [file], { encoding: 'utf8' });
  t.equal(out, example[2]);
});
