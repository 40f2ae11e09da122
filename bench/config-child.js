// Child script of bench/config.js, run in a fresh Node process (started with --expose-gc) for each
// measurement; its path inside the repository makes `@bgp-announce/announcer` resolve to the built
// workspace, as it ships:
//
//   node --expose-gc bench/config-child.js <config file> <expected static routes> [module]
//
// Imports the announcer (or `module`, a path or specifier exporting loadConfigFile: to measure
// another build), collects garbage, takes the idle RSS, resets the process's peak RSS (VmHWM, through
// /proc/self/clear_refs), loads the file once with loadConfigFile (as the daemon's file source does,
// cold, at start) and prints one line: RESULT_MARK + { loadMs, idleRss, peakRss, heldRss, idleHeap,
// heldHeap, routes } (bytes; held*: after a garbage collection, with the loaded config still alive).
import { readFileSync, writeFileSync } from 'node:fs';
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';

export const RESULT_MARK = '@@config ';
const print = (o) => process.stdout.write(`${RESULT_MARK}${JSON.stringify(o)}\n`);

/** A field of /proc/self/status in bytes ("VmHWM", "VmRSS"). */
function procStatus(field) {
  const line = readFileSync('/proc/self/status', 'utf8')
    .split('\n')
    .find((l) => l.startsWith(`${field}:`));
  if (!line) throw new Error(`no ${field} in /proc/self/status`);
  return Number(line.split(/\s+/)[1]) * 1024;
}

function collect() {
  if (typeof globalThis.gc !== 'function') throw new Error('run with --expose-gc');
  globalThis.gc();
  globalThis.gc();
}

async function main(file, expected, specifier = '@bgp-announce/announcer') {
  const { loadConfigFile } = await import(isAbsolute(specifier) ? pathToFileURL(specifier).href : specifier);
  collect();
  const idleRss = procStatus('VmRSS');
  const idleHeap = process.memoryUsage().heapUsed;
  writeFileSync('/proc/self/clear_refs', '5'); // VmHWM := VmRSS (Linux 4.0+)

  const t0 = performance.now();
  const result = await loadConfigFile(file);
  const loadMs = performance.now() - t0;
  const peakRss = procStatus('VmHWM');

  if (result.problems.length > 0)
    throw new Error(`${result.problems.length} problems, the first: ${JSON.stringify(result.problems[0])}`);
  if (result.config.staticRoutes.length !== Number(expected))
    throw new Error(`${result.config.staticRoutes.length} static routes loaded, expected ${expected}`);
  collect();
  const heldRss = procStatus('VmRSS');
  const heldHeap = process.memoryUsage().heapUsed;
  // `result` is used after the measurement, so the config counts as held.
  print({ loadMs, idleRss, peakRss, heldRss, idleHeap, heldHeap, routes: result.config.staticRoutes.length });
}

const [file, expected, specifier] = process.argv.slice(2);
main(file, expected, specifier).catch((err) => {
  print({ error: err instanceof Error ? err.message : String(err) });
  process.exitCode = 1;
});
