// The lab's API forwarder, an entry file of its own: `node forward.js --listen 192.0.2.100:6443 --unix
// /tmp/.../api.sock`, run inside the API namespace. It pipes every TCP connection to the unix socket
// the lab process serves, which pipes it on to the API server on the root namespace's loopback.
import { createConnection, createServer } from 'node:net';
import { parseArgs } from 'node:util';
import { pipeConnections } from './pipe.js';

const USAGE = 'usage: node forward.js --listen ADDRESS:PORT --unix PATH';

function fail(message: string): never {
  process.stderr.write(`bgp-announce lab forwarder: ${message}\n${USAGE}\n`);
  process.exit(2);
}

let values: { listen?: string; unix?: string };
try {
  ({ values } = parseArgs({ options: { listen: { type: 'string' }, unix: { type: 'string' } }, strict: true }));
} catch (err) {
  fail((err as Error).message);
}
const m = /^([0-9.]+):(\d{1,5})$/.exec(values.listen ?? '');
if (!m || values.unix === undefined) fail('--listen ADDRESS:PORT and --unix PATH are required');
const [host, port, path] = [m[1]!, Number(m[2]), values.unix];

const server = pipeConnections(createServer(), () => createConnection({ path }));
server.on('error', (err) => fail(`cannot listen on ${host}:${port}: ${err.message}`));
server.listen(port, host, () => process.stdout.write(`forwarding ${host}:${port} to unix:${path}\n`));
const stop = (): void => {
  server.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
