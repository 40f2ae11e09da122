// The probes of a health check: an HTTP(S) GET whose status must be the expected one, or a TCP
// connect. Each ends within its timeout (a server that accepts and never answers is a failure after
// it), never throws, and says what happened in words.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { ProbeResult } from './health-state.js';

/** What to probe (the config's healthCheck without its timing). */
export type ProbeTarget =
  | { kind: 'http'; url: string; insecureSkipVerify: boolean; expectedStatus: number }
  | { kind: 'tcp'; host: string; port: number };

/** Runs one probe; resolves (never rejects) within about `timeoutMs`. */
export function probe(target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  return target.kind === 'http' ? probeHttp(target, timeoutMs) : probeTcp(target, timeoutMs);
}

function errorText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code !== undefined
    ? `${e.code}${e.message.includes(e.code) ? '' : `: ${e.message}`}`
    : String(e.message ?? err);
}

function probeHttp(target: Extract<ProbeTarget, { kind: 'http' }>, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  const elapsed = (): number => Math.round(performance.now() - started);
  return new Promise((resolve) => {
    let done = false;
    const finish = (ok: boolean, detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      resolve({ ok, detail, durationMs: elapsed() });
    };
    const url = new URL(target.url);
    const options: https.RequestOptions = {
      method: 'GET',
      headers: { 'user-agent': 'bgp-announce health check' },
      agent: false,
    };
    if (url.protocol === 'https:') options.rejectUnauthorized = !target.insecureSkipVerify;
    const req = (url.protocol === 'https:' ? https : http).request(url, options, (res) => {
      const status = res.statusCode ?? 0;
      res.resume(); // the body does not matter; read it away so the socket can close
      finish(
        status === target.expectedStatus,
        status === target.expectedStatus ? `HTTP ${status}` : `HTTP ${status}, expected ${target.expectedStatus}`,
      );
    });
    req.on('error', (err) => finish(false, errorText(err)));
    const timer = setTimeout(() => finish(false, `timed out after ${timeoutMs} ms`), timeoutMs);
    req.end();
  });
}

function probeTcp(target: Extract<ProbeTarget, { kind: 'tcp' }>, timeoutMs: number): Promise<ProbeResult> {
  const started = performance.now();
  return new Promise((resolve) => {
    let done = false;
    const socket = net.connect({ host: target.host, port: target.port });
    const finish = (ok: boolean, detail: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, detail, durationMs: Math.round(performance.now() - started) });
    };
    socket.once('connect', () => finish(true, 'connected'));
    socket.once('error', (err) => finish(false, errorText(err)));
    const timer = setTimeout(() => finish(false, `timed out after ${timeoutMs} ms`), timeoutMs);
  });
}
