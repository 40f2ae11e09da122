// A BFD engine in a child process, for the network-namespace tests (run with `ip netns exec <ns> node
// engine-child.mjs '<json>'`). Uses the built package (dist/). The argument is
// { engine: BfdEngineOptions, sessions: { name: BfdSessionOptions } }. It writes one JSON object per
// line to stdout: { type: 'ready', ids }, { type: 'state', name, from, to, diag, remoteDiag, at },
// { type: 'error', name, code, message }, and the answers to commands read from stdin, one JSON object
// per line: { cmd: 'session', name } -> { type: 'session', value }, { cmd: 'metrics' } ->
// { type: 'metrics', value }, { cmd: 'stop' } -> { type: 'stopped' } and exit.
import { createInterface } from 'node:readline';
import { BfdEngine } from '../dist/index.js';

const write = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
try {
  const config = JSON.parse(process.argv[2] ?? '{}');
  const engine = await BfdEngine.start(config.engine ?? {});
  const ids = {};
  const names = new Map();
  engine.on('state', (id, change) => write({ type: 'state', name: names.get(id), ...change }));
  engine.on('error', (e) => write({ type: 'error', name: names.get(e.sessionId), code: e.code, message: e.message }));
  for (const [name, options] of Object.entries(config.sessions ?? {})) {
    ids[name] = engine.addSession(options);
    names.set(ids[name], name);
  }
  write({ type: 'ready', ids });
  for await (const line of createInterface({ input: process.stdin })) {
    const command = JSON.parse(line);
    if (command.cmd === 'session') write({ type: 'session', value: await engine.session(ids[command.name]) });
    else if (command.cmd === 'metrics') write({ type: 'metrics', value: await engine.metrics() });
    else if (command.cmd === 'stop') {
      await engine.stop();
      write({ type: 'stopped' });
      process.exit(0);
    }
  }
  await engine.stop(); // stdin closed: the test is gone
  process.exit(0);
} catch (err) {
  write({ type: 'fatal', message: err instanceof Error ? err.message : String(err) });
  process.exit(1);
}
