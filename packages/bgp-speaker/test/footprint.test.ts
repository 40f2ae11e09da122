// The Speaker library stays Kubernetes-free: importing the built @bgp-announce/bgp-speaker (its root
// and its ./session and ./rib subpaths) in a fresh Node process loads no module of
// @kubernetes/client-node, pino or prom-client (the announcer's dependencies). A resolve hook
// (module.register) records every module the child's ES module loader resolves, and the CommonJS
// cache is read at the end for what came in through require(). A control child that imports those
// packages shows the same method sees them, so this test cannot pass by seeing nothing. No timings
// here: the import's time and memory are benchmarks (bench/footprint.js).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SPEAKER = ['@bgp-announce/bgp-speaker', '@bgp-announce/bgp-speaker/session', '@bgp-announce/bgp-speaker/rib'];
const FORBIDDEN = ['@kubernetes/client-node', 'pino', 'prom-client'];
/** A file of a forbidden package (or of one of pino's own packages, pino-*), by its path. */
const FORBIDDEN_PATH = /[/\\]node_modules[/\\](@kubernetes[/\\]client-node|pino(-[^/\\]*)?|prom-client)[/\\]/;

// Runs in the module loader's hooks thread: appends every resolved URL to the log file.
const HOOKS = `
import { appendFileSync } from 'node:fs';
let log;
export function initialize(data) { log = data.log; }
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  appendFileSync(log, result.url + '\\n');
  return result;
}`;

/** What a fresh Node process loads when it imports `specifiers` (from the repository's root): ES module URLs and CommonJS files. */
function loadedBy(specifiers: string[], { tolerateMissing = false } = {}): { files: string[]; missing: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'footprint-test-'));
  try {
    const log = join(dir, 'resolved.txt');
    const register = `import { register } from 'node:module'; register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(HOOKS)}`)}, { data: { log: ${JSON.stringify(log)} } });`;
    const main = `
      import { createRequire } from 'node:module';
      const missing = [];
      for (const s of ${JSON.stringify(specifiers)}) {
        try { await import(s); } catch (err) {
          if (!${tolerateMissing} || err?.code !== 'ERR_MODULE_NOT_FOUND') throw err;
          missing.push(s);
        }
      }
      process.stdout.write(JSON.stringify({ cjs: Object.keys(createRequire(process.cwd() + '/').cache), missing }));`;
    const out = execFileSync(
      process.execPath,
      ['--import', `data:text/javascript,${encodeURIComponent(register)}`, '--input-type=module', '-e', main],
      {
        cwd: ROOT,
        encoding: 'utf8',
        env: { ...process.env, NODE_OPTIONS: '' }, // not tap's loaders: a plain Node, as the library's users run it
      },
    );
    const { cjs, missing } = JSON.parse(out) as { cjs: string[]; missing: string[] };
    const esm = readFileSync(log, 'utf8')
      .split('\n')
      .filter((u) => u.startsWith('file:'))
      .map((u) => fileURLToPath(u));
    return { files: [...new Set([...esm, ...cjs])], missing };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

t.test('importing the built Speaker loads no Kubernetes client, pino or prom-client', async (t) => {
  const { files } = loadedBy(SPEAKER);
  // The hook saw the loads: the Speaker's built entry and its workspace dependencies are there.
  t.ok(
    files.some((f) => f.endsWith(join('packages', 'bgp-speaker', 'dist', 'index.js'))),
    'the Speaker was loaded from its dist/ (build first: npx tsc -b)',
  );
  for (const pkg of ['bgp-wire', 'sockopt'])
    t.ok(
      files.some((f) => f.includes(join('packages', pkg, 'dist'))),
      `@bgp-announce/${pkg} was loaded too`,
    );
  t.same(
    files.filter((f) => FORBIDDEN_PATH.test(f)),
    [],
    `no file of ${FORBIDDEN.join(', ')}`,
  );
  t.notOk(
    files.some((f) => f.includes(join('packages', 'announcer'))),
    'nothing of @bgp-announce/announcer',
  );
  t.comment(
    `${files.length} modules loaded, ${files.filter((f) => f.includes(`${sep}node_modules${sep}`)).length} of them from node_modules`,
  );
});

t.test('control: the same method sees those packages when they are imported', async (t) => {
  const { files, missing } = loadedBy(FORBIDDEN, { tolerateMissing: true });
  if (missing.length > 0) t.comment(`not installed, not checked: ${missing.join(', ')}`);
  for (const pkg of FORBIDDEN.filter((p) => !missing.includes(p))) {
    const inPackage = `${sep}node_modules${sep}${pkg.split('/').join(sep)}${sep}`;
    t.ok(
      files.some((f) => f.includes(inPackage) && FORBIDDEN_PATH.test(f)),
      `${pkg} is seen`,
    );
  }
  t.ok(FORBIDDEN.length > missing.length, 'at least one of them was there to check the method with');
});
