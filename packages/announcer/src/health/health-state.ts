// The health check's state machine (a StaticRoute's healthCheck): pure, in the clock's time. A check
// starts `pending` (not announced) and is `up` after `rise` passes in a row; `fall` failures in a row
// take an up check to `draining` (still announced, with GRACEFUL_SHUTDOWN, so routers move new flows
// away first) for `drainMs`, then to `down` (withdrawn); with drainMs 0 straight to down. `rise` passes
// in a row bring a draining or down check back up. HAProxy's and keepalived's rise/fall, with a drain.

/** What a check says about its route: announce it, announce it de-preferred, or not at all. */
export type HealthStatus = 'pending' | 'up' | 'draining' | 'down';

/** The numbers the state machine needs (HealthCheck of the config, without the probe). */
export interface HealthThresholds {
  rise: number;
  fall: number;
  drainMs: number;
}

/** One probe's outcome. */
export interface ProbeResult {
  ok: boolean;
  /** What happened, in words: "HTTP 200", "HTTP 503, expected 200", "timed out after 1000 ms", "connect ECONNREFUSED". */
  detail: string;
  /** How long it took (ms). */
  durationMs: number;
}

export interface HealthState {
  status: HealthStatus;
  /** Passes in a row (0 after a failure). */
  passes: number;
  /** Failures in a row (0 after a pass). */
  failures: number;
  /** When the drain ends (status draining). */
  drainUntil?: number;
  /** The last probe, with when it finished. */
  last?: ProbeResult & { at: number };
  /** When the status last changed, and how many times it has. */
  since: number;
  transitions: number;
}

export function initialHealth(now: number): HealthState {
  return { status: 'pending', passes: 0, failures: 0, since: now, transitions: 0 };
}

function moveTo(state: HealthState, status: HealthStatus, now: number, t: HealthThresholds): HealthState {
  const next: HealthState = { ...state, status, since: now, transitions: state.transitions + 1 };
  if (status === 'draining') next.drainUntil = now + t.drainMs;
  else delete next.drainUntil;
  return next;
}

/** The state after a probe's result at `now`. */
export function afterProbe(state: HealthState, result: ProbeResult, now: number, t: HealthThresholds): HealthState {
  const passes = result.ok ? state.passes + 1 : 0;
  const failures = result.ok ? 0 : state.failures + 1;
  const counted: HealthState = { ...state, passes, failures, last: { ...result, at: now } };
  if (result.ok) return state.status !== 'up' && passes >= t.rise ? moveTo(counted, 'up', now, t) : counted;
  if (state.status === 'up' && failures >= t.fall) return moveTo(counted, t.drainMs > 0 ? 'draining' : 'down', now, t);
  if (state.status === 'pending' && failures >= t.fall) return moveTo(counted, 'down', now, t);
  return counted;
}

/** The state at `now` without a probe: a drain that has ended is down. */
export function afterTime(state: HealthState, now: number, t: HealthThresholds): HealthState {
  return state.status === 'draining' && state.drainUntil !== undefined && now >= state.drainUntil
    ? moveTo(state, 'down', now, t)
    : state;
}
