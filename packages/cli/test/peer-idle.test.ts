// The built `bgp-announce peer` with --connect-timeout 0 (no limit) against a closed port on 127.0.0.1:
// while the session waits in Idle between attempts no timer of the Speaker keeps Node running (they are
// unref'd), so the command must hold the process itself. It keeps running after the refused connect and
// a retry, and exits 0 on SIGTERM (not 13, Node's unsettled top-level await). No root, no namespaces.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';

const cli = fileURLToPath(new URL('../bin/bgp-announce.js', import.meta.url));
const built = existsSync(fileURLToPath(new URL('../dist/main.js', import.meta.url)));

/** A port on 127.0.0.1 that nothing listens on (bound once, then closed). */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

t.test(
  '--connect-timeout 0: keeps running while Idle between refused connects, exits 0 on SIGTERM',
  { skip: built ? false : 'not built (npx tsc -b)' },
  async (t) => {
    const port = await closedPort();
    const proc = spawn(
      process.execPath,
      [
        cli,
        'peer',
        '--local-as',
        '64497',
        '--peer-as',
        '64496',
        '--peer',
        '127.0.0.1',
        '--local-address',
        '127.0.0.1',
        '--port',
        String(port),
        '--connect-timeout',
        '0',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    const waiters: (() => void)[] = [];
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString();
      for (const w of waiters.splice(0)) w();
    });
    proc.stderr.on('data', (c: Buffer) => (err += c.toString()));
    // 'close', not 'exit': only then has all of its output been read.
    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      proc.once('close', (code, signal) => resolve({ code, signal })),
    );
    let exited = false;
    void closed.then(() => {
      exited = true;
      for (const w of waiters.splice(0)) w();
    });
    t.teardown(async () => {
      if (!exited) {
        proc.kill('SIGKILL');
        await closed;
      }
    });

    const refused = /down: cannot connect to 127\.0\.0\.1 port \d+: connection refused \(ECONNREFUSED\)/g;
    /** Resolves once stdout holds `count` refused attempts; rejects if the command exits first or after ms. */
    const refusedTimes = (count: number, ms: number): Promise<void> =>
      new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`not ${count} refused attempts in ${ms} ms:\n${out}`)), ms);
        const check = (): void => {
          if ((out.match(refused) ?? []).length >= count) {
            clearTimeout(timer);
            resolve();
          } else if (exited) {
            clearTimeout(timer);
            reject(new Error(`exited after ${(out.match(refused) ?? []).length} refused attempts:\n${out}${err}`));
          } else waiters.push(check);
        };
        check();
      });

    await refusedTimes(1, 15000);
    await refusedTimes(2, 15000); // the retry: the command sat through Idle in between
    await t.resolves(refusedTimes(3, 15000), 'still running after Idle again: a third attempt');
    t.notOk(exited, 'still running');
    proc.kill('SIGTERM');
    const status = await closed;
    t.strictSame(status, { code: 0, signal: null }, 'exit 0 on SIGTERM');
    t.match(out, /stopped \(exit 0\): stopped by SIGTERM\n$/);
    t.equal(err, '');
  },
);
