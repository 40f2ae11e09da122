// The health check's state machine and its monitor in virtual time: rise and fall counts, the drain
// before the withdrawal, flapping, a check that never passes, probes one at a time on the interval,
// and HealthChecks following the configuration.
import t from 'tap';
import { manualClock } from '@bgp-announce/bgp-speaker';
import {
  afterProbe,
  afterTime,
  initialHealth,
  type HealthState,
  type ProbeResult,
} from '../src/health/health-state.js';
import { HealthChecks, type HealthChange } from '../src/health/health-monitor.js';
import type { HealthCheck, StaticRoute } from '../src/config/types.js';

const T = { rise: 2, fall: 3, drainMs: 5000 };
const pass: ProbeResult = { ok: true, detail: 'HTTP 200', durationMs: 3 };
const fail: ProbeResult = { ok: false, detail: 'HTTP 503, expected 200', durationMs: 3 };

/** Applies results one second apart from t=1000; returns the status after each. */
function run(results: ProbeResult[], t0: HealthState = initialHealth(0), thresholds = T): string[] {
  let s = t0;
  return results.map((r, i) => {
    s = afterProbe(s, r, 1000 * (i + 1), thresholds);
    return s.status;
  });
}

t.test('rise passes announce, fall failures drain, rise passes bring it back', async (t) => {
  t.strictSame(run([pass, pass, pass]), ['pending', 'up', 'up'], 'up after 2 passes');
  t.strictSame(
    run([pass, pass, fail, fail, fail, fail]),
    ['pending', 'up', 'up', 'up', 'draining', 'draining'],
    'draining after the third failure in a row',
  );
  t.strictSame(
    run([pass, pass, fail, fail, pass, fail, fail, pass]),
    ['pending', 'up', 'up', 'up', 'up', 'up', 'up', 'up'],
    'a pass resets the failure count: flapping under fall never drains',
  );
  t.strictSame(
    run([pass, pass, fail, fail, fail, pass, pass]),
    ['pending', 'up', 'up', 'up', 'draining', 'draining', 'up'],
    'rise passes during the drain: up again, not withdrawn',
  );
  t.strictSame(run([fail, fail, fail, pass, pass]), ['pending', 'pending', 'down', 'down', 'up'], 'never up: down');
  t.strictSame(
    run([pass, pass, fail, fail, fail], initialHealth(0), { ...T, drainMs: 0 }),
    ['pending', 'up', 'up', 'up', 'down'],
    'drain 0: straight to down',
  );
  t.strictSame(run([pass], initialHealth(0), { ...T, rise: 1 }), ['up'], 'rise 1');
});

t.test('the drain ends in down; the record says when and what', async (t) => {
  let s = initialHealth(0);
  for (const [i, r] of [pass, pass, fail, fail, fail].entries()) s = afterProbe(s, r, 1000 * (i + 1), T);
  t.equal(s.status, 'draining');
  t.equal(s.drainUntil, 5000 + 5000, 'drain until 5 s after the third failure');
  t.equal(afterTime(s, 9999, T).status, 'draining');
  const down = afterTime(s, 10_000, T);
  t.equal(down.status, 'down');
  t.equal(down.drainUntil, undefined);
  t.equal(down.since, 10_000);
  t.equal(down.transitions, 3, 'pending -> up -> draining -> down');
  t.strictSame(down.last, { ...fail, at: 5000 });
  const pending = initialHealth(0);
  t.equal(afterTime(pending, 1e9, T), pending, 'time alone changes only a drain');
});

const check = (fields: Partial<HealthCheck> = {}): HealthCheck => ({
  http: { url: 'http://127.0.0.1:6443/readyz', insecureSkipVerify: false, expectedStatus: 200 },
  intervalMs: 1000,
  timeoutMs: 500,
  rise: 2,
  fall: 2,
  drainMs: 3000,
  ...fields,
});
const route = (name: string, healthCheck?: HealthCheck): StaticRoute => ({
  name,
  prefixes: ['192.0.2.100/32'],
  peers: [],
  communities: [],
  largeCommunities: [],
  ...(healthCheck ? { healthCheck } : {}),
});

/** A probe whose outcome the test sets, each call resolving after `takesMs` of virtual time. */
function scriptedProbe(clock: ReturnType<typeof manualClock>) {
  const state = { ok: true, takesMs: 10, calls: [] as number[], running: 0, maxRunning: 0 };
  const probe = (_target: unknown, timeoutMs: number) => {
    state.calls.push(clock.now());
    state.running++;
    state.maxRunning = Math.max(state.maxRunning, state.running);
    const ms = Math.min(state.takesMs, timeoutMs);
    const ok = state.ok && state.takesMs <= timeoutMs;
    return new Promise<ProbeResult>((resolve) =>
      clock.setTimer(ms, () => {
        state.running--;
        resolve({
          ok,
          detail: ok ? 'HTTP 200' : state.takesMs > timeoutMs ? `timed out after ${timeoutMs} ms` : 'HTTP 503',
          durationMs: ms,
        });
      }),
    );
  };
  return { state, probe };
}

/** Advances virtual time in 10 ms steps, letting promise callbacks run between them. */
async function advance(clock: ReturnType<typeof manualClock>, ms: number): Promise<void> {
  for (let done = 0; done < ms; done += 10) {
    clock.advance(10);
    await new Promise((resolve) => setImmediate(resolve));
  }
}

t.test('HealthChecks in virtual time: interval, timeout, drain, one probe at a time, config changes', async (t) => {
  const clock = manualClock(0);
  const { state, probe } = scriptedProbe(clock);
  const changes: string[] = [];
  const checks = new HealthChecks(
    (c: HealthChange) => changes.push(`${clock.now()} ${c.route} ${c.from}->${c.to}`),
    clock,
    probe,
  );
  checks.sync([route('api', check()), route('plain')]);
  t.equal(checks.statusOf('plain'), undefined, 'a route without a check has no status');
  await advance(clock, 1500);
  t.strictSame(changes, ['1010 api pending->up'], 'up after the second pass (probes at 0 and 1000 ms)');
  t.strictSame(state.calls, [0, 1000]);

  state.ok = false;
  await advance(clock, 2000);
  t.strictSame(changes.slice(1), ['3010 api up->draining'], 'two failures (2000, 3000 ms): draining');
  t.equal(checks.list()[0]?.status, 'draining');
  t.match(checks.list()[0], {
    route: 'api',
    target: 'GET http://127.0.0.1:6443/readyz',
    failures: 2,
    last: { ok: false, detail: 'HTTP 503' },
  });
  await advance(clock, 3100);
  t.strictSame(changes.slice(2), ['6010 api draining->down'], 'down when the 3 s drain ends');

  // A server that accepts and hangs: each probe ends at the timeout, and probes never overlap.
  state.ok = true;
  state.takesMs = 5000;
  await advance(clock, 4000);
  t.equal(checks.statusOf('api'), 'down', 'still down: every probe times out');
  t.equal(state.maxRunning, 1, 'one probe at a time');
  t.match(checks.list()[0]?.last, { ok: false, detail: 'timed out after 500 ms', durationMs: 500 });

  state.takesMs = 10;
  await advance(clock, 2000);
  t.equal(checks.statusOf('api'), 'up', 'healed: up after rise passes');

  const before = state.calls.length;
  checks.sync([route('api', check({ intervalMs: 2000 }))]);
  t.equal(checks.statusOf('api'), 'pending', 'a changed check starts again');
  await advance(clock, 100);
  t.equal(state.calls.length, before + 1, 'and probes at once');
  checks.sync([route('api')]);
  t.equal(checks.statusOf('api'), undefined, 'a check removed stops');
  await advance(clock, 5000);
  t.equal(state.calls.length, before + 1, 'no probe after that');
  checks.stop();
});
