// The real probes on loopback: HTTP with the expected status or not, an HTTPS server with a
// self-signed certificate (refused unless insecureSkipVerify), a server that accepts and never
// answers (a failure at the timeout), a refused port, and TCP connects.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probe } from '../src/health/health-probe.js';

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)),
  );
}

/** A port nothing listens on: one just closed. */
async function closedPort(): Promise<number> {
  const s = net.createServer();
  const port = await listen(s);
  await new Promise((resolve) => s.close(resolve));
  return port;
}

t.test('http: the expected status passes, another fails, a hang fails at the timeout', async (t) => {
  let status = 200;
  const server = http.createServer((req, res) => {
    if (req.url === '/hang') return; // never answers
    res.writeHead(status).end('ok');
  });
  const port = await listen(server);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const url = (path: string) => ({
    kind: 'http' as const,
    url: `http://127.0.0.1:${port}${path}`,
    insecureSkipVerify: false,
    expectedStatus: 200,
  });
  t.match(await probe(url('/readyz'), 1000), { ok: true, detail: 'HTTP 200' });
  status = 503;
  t.match(await probe(url('/readyz'), 1000), { ok: false, detail: 'HTTP 503, expected 200' });
  t.match(await probe({ ...url('/readyz'), expectedStatus: 503 }, 1000), { ok: true }, 'expectedStatus is honoured');
  const hang = await probe(url('/hang'), 300);
  t.match(hang, { ok: false, detail: 'timed out after 300 ms' });
  t.ok(hang.durationMs >= 290, `ended at the timeout (${hang.durationMs} ms), not before`);
  const refused = await probe({ ...url('/'), url: `http://127.0.0.1:${await closedPort()}/` }, 1000);
  t.match(refused, { ok: false, detail: /^ECONNREFUSED/ });
});

t.test('https with a self-signed certificate: refused, unless insecureSkipVerify', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-health-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  try {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=127.0.0.1',
        '-keyout',
        join(dir, 'key.pem'),
        '-out',
        join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
  } catch {
    if (process.env.CI === 'true')
      throw new Error('openssl is needed to make a self-signed certificate (Debian: apt-get install openssl)');
    t.pass('the HTTPS checks', { skip: 'openssl is missing: cannot make a self-signed certificate' });
    return;
  }
  const server = https.createServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (_req, res) => res.writeHead(200).end('ok'),
  );
  const port = await listen(server);
  t.teardown(() => {
    server.closeAllConnections();
    server.close();
  });
  const target = {
    kind: 'http' as const,
    url: `https://127.0.0.1:${port}/readyz`,
    insecureSkipVerify: false,
    expectedStatus: 200,
  };
  t.match(
    await probe(target, 2000),
    { ok: false, detail: /SELF_SIGNED|self.signed/i },
    'the certificate is checked by default',
  );
  t.match(await probe({ ...target, insecureSkipVerify: true }, 2000), { ok: true, detail: 'HTTP 200' });
});

t.test('tcp: a listener passes, a closed port fails', async (t) => {
  const server = net.createServer((s) => s.destroy());
  const port = await listen(server);
  t.teardown(() => server.close());
  t.match(await probe({ kind: 'tcp', host: '127.0.0.1', port }, 1000), { ok: true, detail: 'connected' });
  t.match(await probe({ kind: 'tcp', host: '127.0.0.1', port: await closedPort() }, 1000), {
    ok: false,
    detail: /^ECONNREFUSED/,
  });
});
