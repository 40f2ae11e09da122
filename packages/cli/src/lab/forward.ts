// The lab's forwarder, an entry file of its own, run inside the API namespace. Two directions:
// - `node forward.js --listen 192.0.2.100:6443 --unix /tmp/.../api.sock`: pipes every TCP connection
//   on the fabric to the unix socket the lab process serves, which pipes it on to the API server on the
//   root namespace's loopback;
// - `node forward.js --unix-listen /tmp/.../prometheus.sock --connect 192.0.2.100:9090`: pipes every
//   connection to that unix socket (the lab process carries 127.0.0.1:PORT there) to Prometheus on the
//   fabric.
import { createConnection, createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { pipeConnections } from './pipe.js';

const USAGE =
  'usage: node forward.js --listen ADDRESS:PORT --unix PATH\n       node forward.js --unix-listen PATH --connect ADDRESS:PORT';

function fail(message: string): never {
  process.stderr.write(`bgp-announce lab forwarder: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let values: { listen?: string; unix?: string; 'unix-listen'?: string; connect?: string };
try {
  ({ values } = parseArgs({
    options: {
      listen: { type: 'string' },
      unix: { type: 'string' },
      'unix-listen': { type: 'string' },
      connect: { type: 'string' },
    },
    strict: true,
  }));
} catch (err) {
  fail((err as Error).message);
}

function hostPort(text: string | undefined): [string, number] | undefined {
  const m = /^([0-9.]+):(\d{1,5})$/.exec(text ?? '');
  return m ? [m[1]!, Number(m[2])] : undefined;
}

let server: ReturnType<typeof createServer>;
if (values['unix-listen'] !== undefined) {
  const to = hostPort(values.connect);
  if (!to || values.listen !== undefined || values.unix !== undefined)
    fail('--unix-listen PATH goes with --connect ADDRESS:PORT alone');
  const [host, port] = to;
  const path = values['unix-listen'];
  server = pipeConnections(createServer(), () => createConnection({ host, port }));
  server.on('error', (err) => fail(`cannot listen on unix:${path}: ${err.message}`));
  server.listen(path, () => process.stdout.write(`forwarding unix:${path} to ${host}:${port}\n`));
} else {
  const at = hostPort(values.listen);
  if (!at || values.unix === undefined) fail('--listen ADDRESS:PORT and --unix PATH are required');
  const [host, port] = at;
  const path = values.unix;
  server = pipeConnections(createServer(), () => createConnection({ path }));
  server.on('error', (err) => fail(`cannot listen on ${host}:${port}: ${err.message}`));
  server.listen(port, host, () => process.stdout.write(`forwarding ${host}:${port} to unix:${path}\n`));
}
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
