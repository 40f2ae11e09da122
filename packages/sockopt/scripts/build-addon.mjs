// Builds the native addon (build/Release/sockopt.node) from native/sockopt.c with node-gyp, offline:
// node-gyp is told where Node's headers are (--nodedir), so it never tries to download them.
//
// Usage: node scripts/build-addon.mjs [--optional] [--if-missing]
//   --optional    a failed build prints a warning and exits 0 (the package's npm install script: the
//                 addon is needed only for TCP MD5, GTSM, TTL and the BFD UDP TTL check; src/index.ts reports it missing)
//   --if-missing  do nothing when the addon is already built and newer than its sources
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const addon = join(packageDir, 'build', 'Release', 'sockopt.node');
const sources = readdirSync(join(packageDir, 'native'))
  .map((f) => join(packageDir, 'native', f))
  .concat(join(packageDir, 'binding.gyp'));
const optional = process.argv.includes('--optional');
const ifMissing = process.argv.includes('--if-missing');
const HOW = 'needs g++, make and python3 (Debian: apt-get install build-essential python3)';

function fail(message) {
  if (optional) {
    console.warn(`@bgp-announce/sockopt: the native addon was not built: ${message}`);
    console.warn(
      '@bgp-announce/sockopt: TCP MD5 (md5Password), GTSM (ttlSecurity), ebgpMultihop and BFD sessions with the TTL check will be refused until it is; ' +
        'build it with `npm run build:addon -w @bgp-announce/sockopt`',
    );
    process.exit(0);
  }
  console.error(`@bgp-announce/sockopt: cannot build the native addon: ${message}`);
  process.exit(1);
}

/** An install prefix with include/node/node_api.h and common.gypi: this Node's own, else /usr. */
function findNodeDir() {
  const candidates = [process.env.BGP_ANNOUNCE_NODEDIR, resolve(process.execPath, '..', '..'), '/usr', '/usr/local'];
  for (const dir of candidates) {
    if (
      dir &&
      existsSync(join(dir, 'include', 'node', 'node_api.h')) &&
      existsSync(join(dir, 'include', 'node', 'common.gypi'))
    )
      return dir;
  }
  return undefined;
}

function onPath(name) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** node-gyp's entry script: the one npm runs scripts with, else one installed beside npm or by Debian. */
function findNodeGyp() {
  const candidates = [process.env.npm_config_node_gyp];
  try {
    candidates.push(createRequire(join(packageDir, 'package.json')).resolve('node-gyp/bin/node-gyp.js'));
  } catch {
    // not installed as a dependency: look beside npm
  }
  for (const npm of [onPath('npm'), resolve(process.execPath, '..', 'npm')]) {
    if (!npm || !existsSync(npm)) continue;
    const npmDir = resolve(dirname(realpathSync(npm)), '..'); // .../npm/bin/npm-cli.js -> .../npm
    candidates.push(join(npmDir, 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'));
  }
  candidates.push(
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  );
  return candidates.find((c) => c && existsSync(c));
}

if (process.platform !== 'linux')
  fail(`TCP MD5, GTSM, TTL and the UDP TTL check are implemented for Linux only, not ${process.platform}`);
if (ifMissing && existsSync(addon)) {
  const built = statSync(addon).mtimeMs;
  if (sources.every((s) => statSync(s).mtimeMs <= built)) process.exit(0);
}
const missing = ['python3', 'make', 'cc', 'g++'].filter((tool) => !onPath(tool));
if (missing.length > 0) fail(`${missing.join(', ')} not found; it ${HOW}`);
const nodeDir = findNodeDir();
if (!nodeDir)
  fail(
    `no Node headers (include/node/node_api.h) under ${resolve(process.execPath, '..', '..')} or /usr; set BGP_ANNOUNCE_NODEDIR to an install prefix that has them`,
  );
const nodeGyp = findNodeGyp();
if (!nodeGyp)
  fail('node-gyp not found (it comes with npm); run this through npm: npm run build:addon -w @bgp-announce/sockopt');

const run = spawnSync(process.execPath, [nodeGyp, 'rebuild', `--nodedir=${nodeDir}`, '--loglevel=warn'], {
  cwd: packageDir,
  stdio: ['ignore', 'pipe', 'pipe'],
  encoding: 'utf8',
});
if (run.status !== 0 || !existsSync(addon)) {
  process.stderr.write(run.stdout ?? '');
  process.stderr.write(run.stderr ?? '');
  fail(`node-gyp rebuild --nodedir=${nodeDir} failed (${run.error?.message ?? `exit ${run.status}`}); it ${HOW}`);
}
console.log(`@bgp-announce/sockopt: built ${addon} (N-API, Node headers from ${nodeDir})`);
