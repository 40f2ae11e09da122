// `npm run bench`: runs every benchmark file in bench/ and prints one table.
//
// A benchmark file is an ES module exporting `rows` (see README.md) and, optionally, `prepare()`,
// which runs once in this process before the rows (e.g. to install a reference implementation).
// Each row runs in its own child process (`--expose-gc`), so one row's garbage and JIT state do not
// bleed into the next. Helpers for benchmark files (measure, median) are exported from here.
//
// Usage: node bench/run.js [--json] [--check] [--inline] [filter...]
//   filter   only rows whose name contains one of these words
//   --json   print the results as JSON instead of a table
//   --check  exit 1 when a row misses its goal (or fails)
//   --inline run rows in this process (quicker to debug, noisier numbers)
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
const RESULT_MARK = '@@bench-result ';

/** Median of a list of numbers. */
export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Times `pass` (a function doing one whole round of work and returning how many items it handled)
 * after `warmup` untimed rounds, `rounds` times, with a garbage collection before each round when
 * --expose-gc is on. Returns the median rate in items per second and the per-round rates.
 */
export function measure(pass, { warmup = 2, rounds = 7 } = {}) {
  for (let i = 0; i < warmup; i++) pass();
  const rates = [];
  for (let i = 0; i < rounds; i++) {
    globalThis.gc?.();
    const start = process.hrtime.bigint();
    const items = pass();
    const ns = Number(process.hrtime.bigint() - start);
    rates.push(items / (ns / 1e9));
  }
  return { rate: median(rates), rates };
}

function benchFiles() {
  // `<name>-<part>.js` files are helpers or child scripts of bench `<name>.js`, not benches.
  return readdirSync(BENCH_DIR)
    .filter((f) => f.endsWith('.js') && !f.includes('-') && f !== basename(fileURLToPath(import.meta.url)))
    .sort()
    .map((f) => join(BENCH_DIR, f));
}

async function loadRows(file) {
  const mod = await import(pathToFileURL(file).href);
  if (!Array.isArray(mod.rows)) return { mod, rows: [] };
  return { mod, rows: mod.rows };
}

/** Runs one row and returns its plain-data result (never throws). */
async function runRow(row) {
  try {
    const r = await row.run();
    let note = r.note ?? null;
    if (Array.isArray(r.rates) && r.rates.length > 1) {
      const spread = `median of ${r.rates.length} rounds, ${number(Math.min(...r.rates))} to ${number(Math.max(...r.rates))}`;
      note = note ? `${note}; ${spread}` : spread;
    }
    return { ours: r.ours, reference: r.reference ?? null, note, error: null };
  } catch (err) {
    return { ours: null, reference: null, note: null, error: err instanceof Error ? err.message : String(err) };
  }
}

function runRowInChild(file, index, env) {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      ['--expose-gc', fileURLToPath(import.meta.url), '--child', file, String(index)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
        env: { ...process.env, ...env },
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.on('close', (code) => {
      const line = out.split('\n').find((l) => l.startsWith(RESULT_MARK));
      if (line) resolve(JSON.parse(line.slice(RESULT_MARK.length)));
      else resolve({ ours: null, reference: null, note: null, error: `child exited with code ${code} and no result` });
    });
  });
}

function cpuModel() {
  try {
    const line = readFileSync('/proc/cpuinfo', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('model name'));
    if (line) return line.split(':')[1].trim();
  } catch {
    // not Linux
  }
  return cpus()[0]?.model ?? 'unknown CPU';
}

const number = (n) =>
  n === null || n === undefined ? '' : n >= 100 ? Math.round(n).toLocaleString('en-US') : n.toPrecision(3);

/** The figure a row's goal is about: ours, or ours / reference for `goalOf: 'ratio'` (null when unknown). */
function judged(r) {
  if (r.goalOf !== 'ratio') return r.ours;
  return r.ours !== null && r.reference ? r.ours / r.reference : null;
}

/** 'yes', 'NO', or '' when the row has no goal or nothing to judge it by. */
function verdict(r) {
  const value = judged(r);
  if (r.goal === undefined || value === null || value === undefined) return '';
  return (r.lowerIsBetter ? value <= r.goal : value >= r.goal) ? 'yes' : 'NO';
}

function formatTable(results) {
  const header = ['benchmark', 'ours', 'reference', 'ratio', 'goal', 'ok'];
  const lines = results.map((r) => {
    const ratio = r.ours !== null && r.reference ? `${(r.ours / r.reference).toFixed(2)}x` : '';
    const ok = r.error ? 'ERROR' : verdict(r);
    const goal =
      r.goal === undefined
        ? ''
        : `${r.goalOf === 'ratio' ? 'ratio ' : ''}${r.lowerIsBetter ? '<=' : '>='} ${r.goalOf === 'ratio' ? r.goal.toFixed(2) : number(r.goal)}`;
    return [`${r.name} (${r.unit})`, r.error ? 'error' : number(r.ours), number(r.reference), ratio, goal, ok];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (cells) =>
    `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  return [
    fmt(header),
    `|${widths.map((w, i) => (i === 0 ? ':' : '-') + '-'.repeat(w) + (i === 0 ? '-' : ':')).join('|')}|`,
    ...lines.map(fmt),
  ].join('\n');
}

async function main(argv) {
  const json = argv.includes('--json');
  const check = argv.includes('--check');
  const inline = argv.includes('--inline');
  const filters = argv.filter((a) => !a.startsWith('--'));

  const results = [];
  const notes = [];
  for (const file of benchFiles()) {
    const { mod, rows } = await loadRows(file);
    const selected = rows
      .map((row, index) => ({ row, index }))
      .filter(
        ({ row }) => filters.length === 0 || filters.some((f) => row.name.toLowerCase().includes(f.toLowerCase())),
      );
    if (selected.length === 0) continue;
    let env = {};
    if (typeof mod.prepare === 'function') {
      const prepared = (await mod.prepare()) ?? {};
      env = prepared.env ?? {};
      for (const n of prepared.notes ?? []) notes.push(`${basename(file)}: ${n}`);
    }
    for (const { row, index } of selected) {
      if (!json) process.stderr.write(`running ${basename(file)}: ${row.name} ...\n`);
      const result = inline ? await runRow(row) : await runRowInChild(file, index, env);
      results.push({
        file: basename(file),
        name: row.name,
        unit: row.unit,
        goal: row.goal,
        goalOf: row.goalOf ?? 'ours',
        lowerIsBetter: row.lowerIsBetter ?? false,
        ...result,
      });
      if (result.note) notes.push(`${row.name}: ${result.note}`);
      if (result.error) notes.push(`${row.name}: ERROR ${result.error}`);
    }
  }

  if (results.length === 0) {
    process.stderr.write(`no benchmark row matches ${filters.map((f) => JSON.stringify(f)).join(' or ')}\n`);
    process.exitCode = 2;
    return;
  }
  const machine = {
    node: process.version,
    v8: process.versions.v8,
    cpu: cpuModel(),
    cores: cpus().length,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    platform: `${process.platform}-${process.arch}`,
  };
  if (json) {
    process.stdout.write(`${JSON.stringify({ machine, date: new Date().toISOString(), results, notes }, null, 2)}\n`);
  } else {
    const out = [
      `bgp-announce benchmarks, ${new Date().toISOString()}`,
      `Node ${machine.node} (V8 ${machine.v8}), ${machine.cpu}, ${machine.cores} cores, ${machine.memoryGiB} GiB, ${machine.platform}`,
      'Each row: its own process, warm-up rounds, then the median of several timed rounds.',
      '',
      formatTable(results),
    ];
    if (notes.length > 0) out.push('', ...notes.map((n) => `- ${n}`));
    process.stdout.write(`${out.join('\n')}\n`);
  }
  const missed = results.some((r) => r.error || verdict(r) === 'NO');
  if (check && missed) process.exitCode = 1;
}

async function child(file, index) {
  const { rows } = await loadRows(file);
  const row = rows[Number(index)];
  const result = row
    ? await runRow(row)
    : { ours: null, reference: null, note: null, error: `no row ${index} in ${file}` };
  process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
}

// No top-level await: bench files import this module, and awaiting here would deadlock that cycle.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const argv = process.argv.slice(2);
  (argv[0] === '--child' ? child(argv[1], argv[2]) : main(argv)).catch((err) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exitCode = 1;
  });
}
