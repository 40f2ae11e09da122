// Shared by the daemon and controller tests: polling with a deadline, a logger that records what it
// was told, a DaemonContext around a real Speaker, an EventSink that records Events, and the in-repo
// test API server with a client-node KubeConfig pointing at it.
import type { Test } from 'tap';
import pino, { type Logger } from 'pino';
import type { KubeConfig } from '@kubernetes/client-node';
import { start, type StartOptions, type TestApiServer } from '@bgp-announce/test-apiserver';
import { loadKubeConfig } from '../../src/kube/client.js';
import type { Speaker } from '@bgp-announce/bgp-speaker';
import type { DaemonContext, PoolUsage } from '../../src/daemon/source.js';
import type { EventSink } from '../../src/kube/allocation-controller.js';
import type { Service } from '../../src/service/model.js';

/** Resolves with fn()'s value once it is neither undefined nor false; rejects after `ms` of real time. */
export async function until<T>(what: string, fn: () => T | undefined | false, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  let lastError: unknown;
  for (;;) {
    try {
      const v = fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 15));
  }
}

/** One line a pino logger wrote, parsed. */
export interface LogLine {
  level: number;
  msg?: string;
  [field: string]: unknown;
}

/** pino's numeric levels. */
export const LEVEL = { debug: 20, info: 30, warn: 40, error: 50 } as const;

/** A real pino logger (level debug) whose lines are kept, parsed, in `lines`. */
export function recordingLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (text: string) => void lines.push(JSON.parse(text) as LogLine) });
  return { logger, lines };
}

/** A DaemonContext around `speaker`, recording every observeReconcile and setPoolUsage call. */
export function daemonContext(
  speaker: Speaker,
  logger: Logger,
  nodeName = 'n1',
): { ctx: DaemonContext; reconciles: ['ok' | 'error', number][]; poolUsage: (readonly PoolUsage[])[] } {
  const reconciles: ['ok' | 'error', number][] = [];
  const poolUsage: (readonly PoolUsage[])[] = [];
  const ctx: DaemonContext = {
    nodeName,
    speaker,
    logger,
    observeReconcile: (seconds, result) => void reconciles.push([result, seconds]),
    setPoolUsage: (usage) => void poolUsage.push(usage),
  };
  return { ctx, reconciles, poolUsage };
}

/** One Event as an EventSink got it. */
export interface RecordedEvent {
  service: string;
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

/** An EventSink that keeps what it is given. */
export class RecordingEvents implements EventSink {
  readonly events: RecordedEvent[] = [];

  record(object: Service, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.events.push({ service: `${object.metadata?.namespace}/${object.metadata?.name}`, type, reason, message });
  }

  /** The events about one Service ("namespace/name"). */
  of(service: string): RecordedEvent[] {
    return this.events.filter((e) => e.service === service);
  }
}

/** A test API server (stopped in teardown) and a KubeConfig for it; it serves bgpnodestates too. */
export async function apiServer(
  t: Test,
  options: StartOptions = {},
): Promise<{ server: TestApiServer; kubeConfig: KubeConfig }> {
  const server = await start(options);
  t.teardown(() => server.stop());
  serveNodeStates(server);
  return { server, kubeConfig: loadKubeConfig({ url: server.url }).kubeConfig };
}

/** Registers the BGPNodeState resource unless the server already serves it. */
export function serveNodeStates(server: TestApiServer): void {
  try {
    server.resource('bgpnodestates');
  } catch {
    server.addCustomResource({
      group: 'bgp-announce.io',
      version: 'v1alpha1',
      plural: 'bgpnodestates',
      kind: 'BGPNodeState',
      shortNames: ['banode'],
    });
  }
}

/** A clock the test API server stamps objects with; `advance` moves it on (whole seconds matter there). */
export function manualTime(startIso = '2026-01-01T00:00:00Z'): { now: () => Date; advance(seconds: number): void } {
  let ms = Date.parse(startIso);
  return {
    now: () => new Date(ms),
    advance: (seconds) => void (ms += seconds * 1000),
  };
}

/** metav1.Condition's rules for `type` and `reason` (k8s.io/apimachinery validation). */
export const CONDITION_TYPE_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$/;
export const CONDITION_REASON_RE = /^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$/;
