// What a new user gets: every public package packed with `npm pack` (after the build), the tarballs
// installed with `npm install` into an empty project in a temporary directory, and then, from that
// project only:
// - the tarballs hold what their package.json points at (main, types, exports, bin, README, and for
//   sockopt the native sources and binding.gyp); no public package depends on a private one;
// - the sockopt addon was built from source by the install script (node-gyp), and whether npm asked
//   for the script's approval (npm 11's allowScripts) is reported;
// - each package's dist imports exactly the packages it declares (none undeclared, none unused);
// - with @bgp-announce/test-apiserver taken out of node_modules: `npx bgp-announce --version`,
//   `bgp-announce import metallb` of a pool on stdin, `bgp-announce decode` of a captured session
//   (the output checked against tshark's dissection and against the repository's decoder) and, as
//   root with gobgpd, `bgp-announce peer` against gobgpd in a network namespace until Established and
//   our route is in gobgpd's RIB; then `lab`'s modules load with it put back;
// - the first ```ts (or ```js) block under `## Example` in the READMEs of bgp-wire, bfd, bgp-speaker and
//   announcer, type-checked against the installed packages, transpiled and run with node: exit 0, and
//   the output the README shows after "prints", when it shows one.
// Third-party dependencies come from the npm cache or the registry (--prefer-offline). The namespaces,
// processes and the temporary directory are removed in teardown, also on failure. The peer part needs
// root, ip, gobgpd and gobgp: skipped without them (failed in CI, as the interop tests are).
import t, { type Test } from 'tap';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isBuiltin } from 'node:module';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { decode } from '../../packages/cli/src/decode.js';
import { poll, startGobgpd } from '../interop/gobgpd.js';
import { interopUnavailable, requireOrSkip, vethPair } from '../interop/netns.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURE = join(ROOT, 'test/fixtures/bgp/gobgp-frr.frr-to-gobgp.bin');
const FIXTURE_TSHARK = join(ROOT, 'test/fixtures/bgp/gobgp-frr.frr-to-gobgp.tshark.json');
/** The packages whose README's `## Example` is run. */
const EXAMPLE_PACKAGES = ['bgp-wire', 'bfd', 'bgp-speaker', 'announcer'];
/** Only for `lab`: every other command must run without it. */
const LAB_ONLY = '@bgp-announce/test-apiserver';

interface PackageJson {
  name: string;
  version: string;
  private?: boolean;
  main?: string;
  types?: string;
  bin?: string | Record<string, string>;
  exports?: unknown;
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}

interface Workspace {
  dir: string;
  pkg: PackageJson;
}

const readJson = <T>(file: string): T => JSON.parse(readFileSync(file, 'utf8')) as T;

const workspaces: Workspace[] = readJson<{ workspaces: string[] }>(join(ROOT, 'package.json')).workspaces.map(
  (dir) => ({
    dir,
    pkg: readJson<PackageJson>(join(ROOT, dir, 'package.json')),
  }),
);
const publicPackages = workspaces.filter((w) => w.pkg.private !== true);

/**
 * The environment for npm and the installed commands: without what tap and an outer npm/npx put there
 * (tap's loaders in NODE_OPTIONS, npm_config_local_prefix pointing at this repository, ...), but with
 * the registry, proxy and cache settings a CI machine may give through the environment, and this
 * test's Node first on PATH, so npm, node-gyp and the commands' `#!/usr/bin/env node` all use it.
 */
function cleanEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|cafile|ca|proxy|https_proxy|noproxy|strict_ssl|userconfig|globalconfig)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|TAP|_TAPJS|TS_NODE)/i.test(key) && !keep.test(key)) continue;
    if (key === 'NODE_OPTIONS') continue;
    env[key] = value;
  }
  env.PATH = `${dirname(process.execPath)}${delimiter}${process.env.PATH ?? ''}`;
  return env;
}
const ENV = cleanEnv();

interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs a command to its end (killed after `timeoutMs`); never rejects. */
function run(
  cmd: string,
  args: string[],
  options: { cwd: string; timeoutMs: number; input?: string },
): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: options.cwd, env: ENV, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err) => (stderr += `\n${cmd}: ${err.message}`));
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${options.timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, options.timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

const describe = (what: string, r: RunResult): string =>
  `${what}: exit ${r.code ?? r.signal}\n--- stdout\n${r.stdout.slice(-4000)}\n--- stderr\n${r.stderr.slice(-4000)}`;

/** Passes when the command exited 0; otherwise fails with its output. */
function exitsZero(t: Test, what: string, r: RunResult): boolean {
  return t.equal(r.code, 0, r.code === 0 ? `${what}: exit 0` : describe(what, r));
}

/** Every string a package.json field points at (exports conditions, bin entries), as paths inside the package. */
function pointedAt(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (value !== null && typeof value === 'object') return Object.values(value).flatMap(pointedAt);
  return [];
}
const normal = (p: string): string => p.replace(/^\.\//, '');

/**
 * The packages (not node: builtins or relative paths) that the .js and .d.ts files under `dir` import:
 * what runs, and what a TypeScript user's compiler reads (type-only imports are gone from the .js).
 * Static and dynamic imports and require() calls, as TypeScript's preprocessor finds them.
 */
function importedPackages(dir: string): Set<string> {
  const found = new Set<string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else if (/\.(m?js|cjs|d\.m?ts)$/.test(name)) {
        for (const { fileName: spec } of ts.preProcessFile(readFileSync(p, 'utf8'), true, true).importedFiles) {
          if (spec.startsWith('.') || spec.startsWith('/') || isBuiltin(spec)) continue;
          found.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
        }
      }
    }
  };
  walk(dir);
  return found;
}

/** The `## Example` section's first ts/js code block, and the block after a "prints" line that follows it. */
function readmeExample(readme: string): { code: string; prints: string | undefined } | { problem: string } {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^## Example\s*$/.test(l));
  if (start < 0) return { problem: 'has no "## Example" section' };
  const endRel = lines.slice(start + 1).findIndex((l) => /^## /.test(l));
  const section = lines.slice(start + 1, endRel < 0 ? undefined : start + 1 + endRel);
  const open = section.findIndex((l) => /^```(ts|typescript|js|mjs)\s*$/.test(l));
  if (open < 0) return { problem: 'has a "## Example" section without a ```ts code block' };
  const close = section.findIndex((l, i) => i > open && /^```\s*$/.test(l));
  if (close < 0) return { problem: 'has an unclosed code block under "## Example"' };
  const code = section.slice(open + 1, close).join('\n') + '\n';
  const rest = section.slice(close + 1);
  const firstText = rest.findIndex((l) => l.trim() !== '');
  let prints: string | undefined;
  if (
    firstText >= 0 &&
    /^prints:?$/i.test(rest[firstText]!.trim()) &&
    /^```/.test(rest[firstText + 2] ?? '') &&
    rest[firstText + 1]!.trim() === ''
  ) {
    const from = firstText + 3;
    const to = rest.findIndex((l, i) => i >= from && /^```\s*$/.test(l));
    if (to > 0) prints = rest.slice(from, to).join('\n');
  }
  return { code, prints };
}

// The temporary directory holds the tarballs and the project; removed at the end, whatever happened.
let work = '';
t.teardown(async () => {
  if (work !== '') await rm(work, { recursive: true, force: true });
});

/** Set by the pack step: package name -> tarball path. */
const tarballs = new Map<string, string>();
/** Set by the install step. */
let project = '';

/** Fails the test (and says why) when an earlier step did not get this far. */
function needs(t: Test, what: string, ok: boolean): boolean {
  if (!ok) t.fail(`cannot run: ${what} failed above`);
  return ok;
}

t.test('npm pack: every public package, with what its package.json points at', async (t) => {
  const unbuilt = workspaces.filter((w) => w.pkg.main !== undefined && !existsSync(join(ROOT, w.dir, w.pkg.main)));
  if (unbuilt.length > 0) {
    t.fail(
      `not built: ${unbuilt.map((w) => join(w.dir, w.pkg.main!)).join(', ')}; run npx tsc -b (scripts/test.sh does) first`,
    );
    return;
  }
  const privateNames = new Set(workspaces.filter((w) => w.pkg.private === true).map((w) => w.pkg.name));
  for (const w of publicPackages) {
    const deps = Object.keys({ ...w.pkg.dependencies, ...w.pkg.optionalDependencies, ...w.pkg.peerDependencies });
    t.strictSame(
      deps.filter((d) => privateNames.has(d)),
      [],
      `${w.pkg.name} depends on no private package (npm install would answer 404)`,
    );
  }

  work = await mkdtemp(join(tmpdir(), 'bgp-announce-install-'));
  const dest = join(work, 'tarballs');
  await mkdir(dest);
  const packed = await run(
    'npm',
    ['pack', '--json', '--pack-destination', dest, ...publicPackages.flatMap((w) => ['-w', w.dir])],
    { cwd: ROOT, timeoutMs: 120_000 },
  );
  if (packed.code !== 0) {
    t.fail(describe('npm pack', packed));
    return;
  }
  const results = JSON.parse(packed.stdout) as { name: string; filename: string; files: { path: string }[] }[];
  t.strictSame(
    results.map((r) => r.name).sort(),
    publicPackages.map((w) => w.pkg.name).sort(),
    'one tarball per public package',
  );
  for (const w of publicPackages) {
    const result = results.find((r) => r.name === w.pkg.name);
    if (result === undefined) continue;
    tarballs.set(w.pkg.name, join(dest, result.filename));
    const files = new Set(result.files.map((f) => f.path));
    const wanted = [
      'README.md',
      ...[w.pkg.main, w.pkg.types].filter((p): p is string => p !== undefined),
      ...pointedAt(w.pkg.exports),
      ...pointedAt(w.pkg.bin),
    ].map(normal);
    const install = w.pkg.scripts?.install;
    if (install !== undefined) {
      // What the install script runs, and for node-gyp, binding.gyp and every source it names.
      for (const m of install.matchAll(/\b([\w./-]+\.m?js)\b/g)) wanted.push(normal(m[1]!));
      const gyp = join(ROOT, w.dir, 'binding.gyp');
      if (existsSync(gyp)) {
        wanted.push('binding.gyp');
        const sources = [...readFileSync(gyp, 'utf8').matchAll(/"([\w./-]+\.(?:c|cc|cpp|h))"/g)].map((m) =>
          normal(m[1]!),
        );
        t.ok(sources.length > 0, `${w.pkg.name}: binding.gyp names its sources`);
        wanted.push(...sources);
        // Headers the sources include are not in binding.gyp: every file of native/ goes in.
        for (const f of readdirSync(join(ROOT, w.dir, 'native'))) wanted.push(`native/${f}`);
      }
    }
    const missing = [...new Set(wanted)].filter((f) => !files.has(f));
    t.strictSame(
      missing,
      [],
      `${w.pkg.name}: the tarball holds ${[...new Set(wanted)].length} files its package.json needs`,
    );
    t.notOk(
      [...files].some((f) => /^(src|test)\//.test(f) || f.endsWith('.tsbuildinfo')),
      `${w.pkg.name}: no sources, tests or build info in the tarball`,
    );
  }
});

t.test('npm install of the tarballs into an empty project', async (t) => {
  if (!needs(t, 'npm pack', tarballs.size === publicPackages.length)) return;
  project = join(work, 'project');
  await mkdir(project);
  await writeFile(
    join(project, 'package.json'),
    JSON.stringify({ name: 'bgp-announce-install-test', version: '1.0.0', private: true, type: 'module' }, null, 2) +
      '\n',
  );
  const started = Date.now();
  const installed = await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs.values()], {
    cwd: project,
    timeoutMs: 240_000,
  });
  if (installed.code !== 0) {
    project = '';
    t.fail(describe('npm install', installed));
    return;
  }
  t.pass(`npm install took ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const output = installed.stdout + installed.stderr;
  const approval = output.split('\n').filter((l) => /allowScripts|install-scripts|allow-scripts/.test(l));
  t.comment(
    approval.length > 0
      ? `npm about install scripts:\n${approval.join('\n')}`
      : 'npm said nothing about install-script approval',
  );

  // The addon: built by the install script, loadable from the project.
  const probe = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const s = await import('@bgp-announce/sockopt'); console.log(JSON.stringify([s.sockoptAvailable(), s.udpTtlAvailable()]))",
    ],
    { cwd: project, timeoutMs: 30_000 },
  );
  exitsZero(t, 'importing @bgp-announce/sockopt', probe);
  const loads = t.strictSame(
    probe.code === 0 ? JSON.parse(probe.stdout) : undefined,
    [{ ok: true }, { ok: true }],
    'the sockopt addon was built on install and loads',
  );
  if (!loads) t.comment(`npm install's output:\n${output}`);
  t.ok(
    existsSync(join(project, 'node_modules/@bgp-announce/sockopt/build/Release/sockopt.node')),
    'built in the installed package',
  );
});

t.test('each installed package imports exactly the packages it declares', async (t) => {
  if (!needs(t, 'npm install', project !== '')) return;
  for (const w of publicPackages) {
    const dir = join(project, 'node_modules', w.pkg.name);
    const pkg = readJson<PackageJson>(join(dir, 'package.json'));
    const declared = new Set(
      Object.keys({ ...pkg.dependencies, ...pkg.optionalDependencies, ...pkg.peerDependencies }),
    );
    const used = existsSync(join(dir, 'dist')) ? importedPackages(join(dir, 'dist')) : new Set<string>();
    used.delete(pkg.name);
    t.strictSame(
      [...used].filter((d) => !declared.has(d)).sort(),
      [],
      `${pkg.name}: every package its dist imports is declared`,
    );
    t.strictSame(
      [...declared].filter((d) => !used.has(d)).sort(),
      [],
      `${pkg.name}: every declared dependency is imported`,
    );
  }
});

t.test(`the CLI without ${LAB_ONLY}`, async (t) => {
  if (!needs(t, 'npm install', project !== '')) return;
  const labOnly = join(project, 'node_modules', LAB_ONLY);
  const aside = join(work, 'test-apiserver-aside');
  await rename(labOnly, aside);
  t.teardown(() => rename(aside, labOnly));
  const bin = join(project, 'node_modules/.bin/bgp-announce');
  const cliVersion = readJson<PackageJson>(join(ROOT, 'packages/cli/package.json')).version;

  t.test('npx bgp-announce --version', async (t) => {
    const r = await run('npx', ['--no', '--', 'bgp-announce', '--version'], { cwd: project, timeoutMs: 60_000 });
    exitsZero(t, 'npx bgp-announce --version', r);
    t.equal(r.stdout.trim(), cliVersion, 'prints the CLI package version');
  });

  t.test('bgp-announce --help lists every subcommand', async (t) => {
    const r = await run(bin, ['--help'], { cwd: project, timeoutMs: 60_000 });
    exitsZero(t, 'bgp-announce --help', r);
    for (const command of ['decode', 'peer', 'bfd', 'check', 'daemon', 'status', 'import', 'lab'])
      t.match(r.stdout, new RegExp(`^\\s+${command}\\b`, 'm'), command);
  });

  t.test('bgp-announce import metallb, from stdin', async (t) => {
    const input =
      'apiVersion: metallb.io/v1beta1\nkind: IPAddressPool\nmetadata: {name: public}\nspec: {addresses: [203.0.113.0/28]}\n';
    const r = await run(bin, ['import', 'metallb'], { cwd: project, timeoutMs: 60_000, input });
    exitsZero(t, 'bgp-announce import metallb', r);
    t.match(r.stdout, /^kind: IPAddressPool$/m, 'our IPAddressPool on stdout');
  });

  t.test('bgp-announce decode of a captured FRR session', async (t) => {
    const r = await run(bin, ['decode', FIXTURE], { cwd: project, timeoutMs: 60_000 });
    exitsZero(t, 'bgp-announce decode', r);
    const lines = r.stdout.split('\n').filter((l) => l !== '');
    t.strictSame(lines, decode(readFileSync(FIXTURE)).lines, "the same lines as the repository's decoder");
    // And what tshark dissected in the same bytes (see test/fixtures/README.md).
    const TYPES: Record<number, string> = {
      1: 'OPEN',
      2: 'UPDATE',
      3: 'NOTIFICATION',
      4: 'KEEPALIVE',
      5: 'ROUTE-REFRESH',
    };
    const ATTRIBUTES = ['origin', 'asPath', 'nextHop', 'med', 'localPref', 'communities', 'largeCommunities'];
    const FIELDS: Record<string, string[]> = {
      OPEN: ['version', 'myAs', 'holdTime', 'bgpId'],
      UPDATE: ['withdrawn', 'nlri'],
      NOTIFICATION: ['code', 'subcode', 'shutdownMessage'],
      'ROUTE-REFRESH': ['afi', 'safi', 'subtype'],
    };
    const pick = (o: Record<string, unknown>, keys: string[]): Record<string, unknown> =>
      Object.fromEntries(keys.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]));
    const view = (m: Record<string, unknown>, type: string): Record<string, unknown> => ({
      type,
      length: m.length,
      ...pick(m, FIELDS[type] ?? []),
      ...(type === 'UPDATE' ? { attributes: pick(m.attributes as Record<string, unknown>, ATTRIBUTES) } : {}),
    });
    const ours = lines.map((l) => JSON.parse(l) as Record<string, unknown>).map((m) => view(m, String(m.type)));
    const tshark = readJson<Record<string, unknown>[]>(FIXTURE_TSHARK).map((m) =>
      view(m, TYPES[m.type as number] ?? `type ${String(m.type)}`),
    );
    t.strictSame(
      ours,
      tshark,
      `${tshark.length} messages as tshark dissected them (type, length, OPEN fields, prefixes, attributes, NOTIFICATION, ROUTE-REFRESH)`,
    );
  });

  t.test('bgp-announce peer against gobgpd: Established, our route in its RIB, SIGTERM exits 0', async (t) => {
    if (!requireOrSkip(t, interopUnavailable(['gobgpd', 'gobgp']))) return;
    const { a: router, b: us } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bgpi');
    const { rib, output } = await startGobgpd(t, {
      ns: router.ns,
      as: 64496,
      address: '192.0.2.1',
      neighborAddress: '192.0.2.2',
      neighborAs: 64497,
    });
    const args = [
      'netns',
      'exec',
      us.ns,
      bin,
      'peer',
      '--local-as',
      '64497',
      '--peer-as',
      '64496',
      '--peer',
      '192.0.2.1',
      '--local-address',
      '192.0.2.2',
      '--announce',
      '203.0.113.0/24',
      '--json',
    ];
    const peer: ChildProcess = spawn('ip', args, { cwd: project, env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    peer.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const closed = new Promise<number | null>((resolve) => peer.once('close', (code) => resolve(code)));
    t.teardown(async () => {
      if (peer.exitCode === null && peer.signalCode === null) {
        peer.kill('SIGKILL');
        await closed;
      }
    });
    const context = (): string =>
      `\n--- bgp-announce stdout\n${stdout}\n--- stderr\n${stderr}\n--- gobgpd\n${output().slice(-2000)}`;
    // Established: a JSON line on stdout; the run ending first or 30 s passing is a failure.
    const established = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 30_000);
      peer.stdout!.on('data', (c: Buffer) => {
        stdout += c.toString();
        if (/"to":"Established"/.test(stdout)) {
          clearTimeout(timer);
          resolve(true);
        }
      });
      void closed.then(() => {
        clearTimeout(timer);
        resolve(/"to":"Established"/.test(stdout));
      });
    });
    if (!established) {
      t.fail(`no Established state line${context()}`);
      return;
    }
    t.pass('session Established');
    const paths = await poll('203.0.113.0/24 in gobgpd global rib', () => rib()['203.0.113.0/24'], 20_000).catch(
      (err: Error) => {
        throw new Error(`${err.message}${context()}`);
      },
    );
    const attrs = paths[0]!.attrs;
    t.equal(attrs.find((a) => a.type === 3)?.nexthop, '192.0.2.2', 'gobgpd has our route with next hop 192.0.2.2');
    t.match(
      attrs.find((a) => a.type === 2),
      { as_paths: [{ asns: [64497] }] },
      'and AS path 64497',
    );
    peer.kill('SIGTERM');
    const code = await Promise.race([
      closed,
      new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 15_000).unref()),
    ]);
    t.equal(code, 0, `SIGTERM: exit 0${code === 0 ? '' : context()}`);
  });
});

t.test(`bgp-announce lab's modules load, ${LAB_ONLY} with them`, async (t) => {
  if (!needs(t, 'npm install', project !== '')) return;
  const r = await run(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      "const lab = await import('@bgp-announce/cli/dist/lab/lab.js'); console.log(typeof lab.labCommand)",
    ],
    { cwd: project, timeoutMs: 30_000 },
  );
  exitsZero(t, 'importing the lab', r);
  t.equal(r.stdout.trim(), 'function', 'labCommand is there');
});

t.test('README examples: type-checked against the installed packages, run with node', async (t) => {
  if (!needs(t, 'npm install', project !== '')) return;
  const examples: { name: string; readme: string; source: string; prints: string | undefined }[] = [];
  for (const name of EXAMPLE_PACKAGES) {
    const readme = join(project, 'node_modules/@bgp-announce', name, 'README.md');
    const where = `packages/${name}/README.md`;
    if (!existsSync(readme)) {
      t.fail(`${where} is missing (or not in the @bgp-announce/${name} tarball)`);
      continue;
    }
    const example = readmeExample(await readFile(readme, 'utf8'));
    if ('problem' in example) {
      t.fail(
        `${where} ${example.problem}: its library example (the first \`\`\`ts block under "## Example") is run by this test`,
      );
      continue;
    }
    const source = join(project, `example-${name}.mts`);
    await writeFile(source, example.code);
    examples.push({ name, readme: where, source, prints: example.prints });
  }
  if (examples.length === 0) return;

  // Type-check them together, as a TypeScript user of the installed packages would compile them.
  const program = ts.createProgram(
    examples.map((e) => e.source),
    {
      module: ts.ModuleKind.NodeNext,
      moduleResolution: ts.ModuleResolutionKind.NodeNext,
      target: ts.ScriptTarget.ES2022,
      strict: true,
      noEmit: true,
      skipLibCheck: true,
      types: ['node'],
      typeRoots: [join(ROOT, 'node_modules/@types')],
    },
  );
  const diagnostics = ts.getPreEmitDiagnostics(program);
  for (const e of examples) {
    const own = diagnostics.filter((d) => d.file?.fileName === e.source);
    const text = ts.formatDiagnostics(own, {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => project,
      getNewLine: () => '\n',
    });
    t.equal(own.length, 0, `${e.readme}: the example type-checks${own.length > 0 ? `\n${text}` : ''}`);
  }
  const general = diagnostics.filter(
    (d) => d.file === undefined || !examples.some((e) => e.source === d.file!.fileName),
  );
  t.equal(
    general.length,
    0,
    `no other compiler problems${general.length > 0 ? `\n${ts.formatDiagnostics(general, { getCanonicalFileName: (f) => f, getCurrentDirectory: () => project, getNewLine: () => '\n' })}` : ''}`,
  );

  for (const e of examples) {
    const js = ts.transpileModule(readFileSync(e.source, 'utf8'), {
      fileName: e.source,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
    }).outputText;
    const file = e.source.replace(/\.mts$/, '.mjs');
    await writeFile(file, js);
    const r = await run(process.execPath, [file], { cwd: project, timeoutMs: 60_000 });
    exitsZero(t, `${e.readme}: the example (${relative(project, file)})`, r);
    if (e.prints !== undefined)
      t.equal(r.stdout.trimEnd(), e.prints.trimEnd(), `${e.readme}: prints what the README says`);
  }
});
