// Shared by the test-apiserver tests: a server per test (stopped in teardown), a KubeConfig for the
// real @kubernetes/client-node, and polling with a deadline.
import type { Test } from 'tap';
import { KubeConfig } from '@kubernetes/client-node';
import { start, type StartOptions, type TestApiServer } from '../src/index.js';

/** Starts a server on a free port; t.teardown stops it. */
export async function startServer(t: Test, options: StartOptions = {}): Promise<TestApiServer> {
  const server = await start({ port: 0, ...options });
  t.teardown(() => server.stop());
  return server;
}

/** A client-node KubeConfig pointing at the server. */
export function kubeConfig(server: TestApiServer): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions(server.kubeconfig());
  return kc;
}

/** Polls fn every 20 ms until it returns a value other than undefined/false; rejects after ms. */
export async function poll<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = fn();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The HTTP code of a client-node ApiException (or undefined). */
export function codeOf(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** The metav1.Status body of a client-node ApiException, parsed. */
export function statusOf(err: unknown): {
  code?: number;
  reason?: string;
  message?: string;
  details?: Record<string, unknown>;
} {
  const body = (err as { body?: unknown }).body;
  return (typeof body === 'string' ? JSON.parse(body) : body) as { code?: number; reason?: string; message?: string };
}

/** Runs fn and returns the error it throws (fails if it does not throw). */
export async function rejection(t: Test, fn: () => Promise<unknown>): Promise<unknown> {
  try {
    await fn();
  } catch (err) {
    return err;
  }
  t.fail('expected the call to fail');
  return undefined;
}
