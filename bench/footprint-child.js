// Child script of bench/footprint.js, run in a fresh Node process each time (its path inside the
// repository makes `@bgp-announce/*` resolve to the built workspaces, as they ship):
//
//   node [node options] bench/footprint-child.js import <specifier>   (or 'none': a bare Node)
//     imports the module, then prints one line: RESULT_MARK + { importMs, readyMs, rss, heapUsed,
//     heapTotal, external } (importMs: the import() call alone; readyMs: from the process's start to
//     the import's end; rss and heap after it, in bytes).
//   node bench/footprint-child.js bfd-idle
//     starts a BfdEngine with no session and prints RESULT_MARK + { pid } once it runs; the bench
//     reads this process's CPU from /proc for its idle window and then kills it.
export const RESULT_MARK = '@@footprint ';
const print = (o) => process.stdout.write(`${RESULT_MARK}${JSON.stringify(o)}\n`);

async function importOne(specifier) {
  const t0 = performance.now();
  if (specifier !== 'none') await import(specifier);
  const t1 = performance.now();
  const m = process.memoryUsage();
  print({
    importMs: t1 - t0,
    readyMs: t1,
    rss: m.rss,
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
  });
}

async function bfdIdle() {
  const { BfdEngine } = await import('@bgp-announce/bfd');
  const engine = await BfdEngine.start({ allowUncheckedTtl: true }); // no session: no socket is opened
  print({ pid: process.pid, ttlCheck: engine.ttlCheck });
  process.on('SIGTERM', () => void engine.stop().finally(() => process.exit(0)));
  setInterval(() => {}, 1 << 30); // stays up until killed
}

const [mode, arg] = process.argv.slice(2);
(mode === 'import'
  ? importOne(arg)
  : mode === 'bfd-idle'
    ? bfdIdle()
    : Promise.reject(new Error(`unknown mode ${mode}`))
).catch((err) => {
  print({ error: err instanceof Error ? err.message : String(err) });
  process.exit(1);
});
