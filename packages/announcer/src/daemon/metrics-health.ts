// The health checks' metrics (StaticRoute healthCheck): each check's status as one series per status
// (1 for the current one), its last probe's result and duration, and its status changes. Read from
// the checks on each scrape; the transitions counted as they happen.
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HealthCheckView } from '../health/health-monitor.js';
import type { HealthStatus } from '../health/health-state.js';

const STATUSES: readonly HealthStatus[] = ['pending', 'up', 'draining', 'down'];

export interface HealthMetrics {
  readHealthChecks(read: () => readonly HealthCheckView[]): void;
  observeHealthChange(route: string, to: HealthStatus): void;
}

export function healthMetrics(registers: Registry[], prefix: string): HealthMetrics {
  let checks: () => readonly HealthCheckView[] = () => [];
  const status: Gauge<'route' | 'status'> = new Gauge({
    name: `${prefix}health_check_status`,
    help: "A StaticRoute health check's status: 1 for the current one of pending, up (announced), draining (announced with GRACEFUL_SHUTDOWN), down (withdrawn)",
    labelNames: ['route', 'status'],
    registers,
    collect() {
      status.reset();
      for (const c of checks())
        for (const s of STATUSES) status.set({ route: c.route, status: s }, c.status === s ? 1 : 0);
    },
  });
  const lastOk: Gauge<'route'> = new Gauge({
    name: `${prefix}health_check_last_probe_ok`,
    help: "1 when a StaticRoute health check's last probe passed, 0 when it failed (no series before the first probe)",
    labelNames: ['route'],
    registers,
    collect() {
      lastOk.reset();
      for (const c of checks()) if (c.last) lastOk.set({ route: c.route }, c.last.ok ? 1 : 0);
    },
  });
  const lastDuration: Gauge<'route'> = new Gauge({
    name: `${prefix}health_check_last_probe_duration_seconds`,
    help: "How long a StaticRoute health check's last probe took (a timed-out probe: its timeout)",
    labelNames: ['route'],
    registers,
    collect() {
      lastDuration.reset();
      for (const c of checks()) if (c.last) lastDuration.set({ route: c.route }, c.last.durationMs / 1000);
    },
  });
  const transitions = new Counter({
    name: `${prefix}health_check_transitions_total`,
    help: 'Status changes of a StaticRoute health check, by the status it changed to',
    labelNames: ['route', 'to'],
    registers,
  });
  return {
    readHealthChecks(read) {
      checks = read;
    },
    observeHealthChange(route, to) {
      transitions.inc({ route, to });
    },
  };
}
