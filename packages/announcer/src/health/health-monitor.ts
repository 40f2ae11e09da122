// Running health checks: one monitor per StaticRoute with a healthCheck, probing every interval (one
// probe at a time, each bounded by its timeout), moving the state machine (health-state.ts) and
// calling back on every change of status; HealthChecks keeps the set in step with the configuration.
// The clock and the probe are injected, so tests run in virtual time.
import { systemClock, type Clock, type TimerHandle } from '@bgp-announce/bgp-speaker';
import type { HealthCheck, StaticRoute } from '../config/types.js';
import { probe as realProbe, type ProbeTarget } from './health-probe.js';
import {
  afterProbe,
  afterTime,
  initialHealth,
  type HealthState,
  type HealthStatus,
  type ProbeResult,
} from './health-state.js';

export type Probe = (target: ProbeTarget, timeoutMs: number) => Promise<ProbeResult>;

/** One check as the admin endpoint, `status` and the metrics show it. */
export interface HealthCheckView {
  /** The StaticRoute's name. */
  route: string;
  /** "GET https://127.0.0.1:6443/readyz" or "TCP 127.0.0.1:6443". */
  target: string;
  status: HealthStatus;
  since: string;
  transitions: number;
  passes: number;
  failures: number;
  last?: { ok: boolean; detail: string; durationMs: number; at: string };
  /** When the drain ends (status draining). */
  drainUntil?: string;
}

export function describeTarget(t: ProbeTarget): string {
  return t.kind === 'http' ? `GET ${t.url}` : `TCP ${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`;
}

/** The probe target of a check. */
export function probeTarget(check: HealthCheck): ProbeTarget {
  return check.http !== undefined
    ? { kind: 'http', ...check.http }
    : { kind: 'tcp', host: check.tcp!.host, port: check.tcp!.port };
}

class HealthMonitor {
  state: HealthState;
  private timer: TimerHandle | undefined;
  private drainTimer: TimerHandle | undefined;
  private stopped = false;
  readonly target: ProbeTarget;

  constructor(
    readonly route: string,
    readonly check: HealthCheck,
    private readonly clock: Clock,
    private readonly probe: Probe,
    private readonly changed: (route: string, state: HealthState, before: HealthStatus) => void,
  ) {
    this.state = initialHealth(clock.now());
    this.target = probeTarget(check);
    this.timer = clock.setTimer(0, () => void this.tick());
  }

  private async tick(): Promise<void> {
    this.timer = undefined;
    if (this.stopped) return;
    const started = this.clock.now();
    const result = await this.probe(this.target, this.check.timeoutMs);
    if (this.stopped) return;
    this.set(afterProbe(this.state, result, this.clock.now(), this.check));
    const nextAt = started + this.check.intervalMs;
    this.timer = this.clock.setTimer(Math.max(0, nextAt - this.clock.now()), () => void this.tick());
  }

  private set(next: HealthState): void {
    const before = this.state.status;
    this.state = next;
    if (next.status === before) return;
    if (this.drainTimer !== undefined) this.clock.clearTimer(this.drainTimer);
    this.drainTimer = undefined;
    if (next.status === 'draining' && next.drainUntil !== undefined) {
      this.drainTimer = this.clock.setTimer(Math.max(0, next.drainUntil - this.clock.now()), () => {
        this.drainTimer = undefined;
        if (!this.stopped) this.set(afterTime(this.state, this.clock.now(), this.check));
      });
    }
    this.changed(this.route, next, before);
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clock.clearTimer(this.timer);
    if (this.drainTimer !== undefined) this.clock.clearTimer(this.drainTimer);
  }

  view(): HealthCheckView {
    const s = this.state;
    const iso = (ms: number): string => new Date(ms).toISOString();
    const out: HealthCheckView = {
      route: this.route,
      target: describeTarget(this.target),
      status: s.status,
      since: iso(s.since),
      transitions: s.transitions,
      passes: s.passes,
      failures: s.failures,
    };
    if (s.last !== undefined)
      out.last = { ok: s.last.ok, detail: s.last.detail, durationMs: s.last.durationMs, at: iso(s.last.at) };
    if (s.drainUntil !== undefined) out.drainUntil = iso(s.drainUntil);
    return out;
  }
}

/** What HealthChecks reports on each change of status. */
export interface HealthChange {
  route: string;
  from: HealthStatus;
  to: HealthStatus;
  last?: ProbeResult;
}

/** The monitors of a configuration's StaticRoutes that have a healthCheck. */
export class HealthChecks {
  private readonly monitors = new Map<string, { key: string; monitor: HealthMonitor }>();

  constructor(
    private readonly onChange: (change: HealthChange) => void,
    private readonly clock: Clock = systemClock,
    private readonly probe: Probe = realProbe,
  ) {}

  /**
   * Starts a monitor for each route with a healthCheck, stops those of routes gone or without one,
   * and restarts one whose check changed (it starts pending again).
   */
  sync(routes: readonly StaticRoute[]): void {
    const wanted = new Map<string, HealthCheck>();
    for (const r of routes) if (r.healthCheck !== undefined) wanted.set(r.name, r.healthCheck);
    for (const [name, { key, monitor }] of this.monitors) {
      const check = wanted.get(name);
      if (check === undefined || JSON.stringify(check) !== key) {
        monitor.stop();
        this.monitors.delete(name);
      }
    }
    for (const [name, check] of wanted) {
      if (this.monitors.has(name)) continue;
      const monitor = new HealthMonitor(name, check, this.clock, this.probe, (route, state, from) =>
        this.onChange({ route, from, to: state.status, ...(state.last ? { last: state.last } : {}) }),
      );
      this.monitors.set(name, { key: JSON.stringify(check), monitor });
    }
  }

  /** The status of the check of route `name`, or undefined when it has none. */
  statusOf(name: string): HealthStatus | undefined {
    return this.monitors.get(name)?.monitor.state.status;
  }

  /** Every check, by route name. */
  list(): HealthCheckView[] {
    return [...this.monitors.values()].map((m) => m.monitor.view()).sort((a, b) => (a.route < b.route ? -1 : 1));
  }

  stop(): void {
    for (const { monitor } of this.monitors.values()) monitor.stop();
    this.monitors.clear();
  }
}
