// The worker's event-loop lag sampler: its interval follows the fastest session's detection time, it
// does not run without a session (an idle engine costs no CPU), and what it measured stays reported.
import t from 'tap';
import {
  LOOP_LAG_MAX_INTERVAL_MS,
  LOOP_LAG_MIN_INTERVAL_MS,
  LoopLagSampler,
  loopLagInterval,
} from '../src/loop-lag.js';
import { freePort, LOOPBACK, pollUntil, requireTtlSocket, startEngine } from './engine-helpers.js';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

t.test('the interval is a fifth of the detection time, within 5-200 ms; none without a session', async (t) => {
  t.equal(loopLagInterval(undefined), undefined);
  t.equal(loopLagInterval(900), 180, '300 ms x 3');
  t.equal(loopLagInterval(150), 30, '50 ms x 3');
  t.equal(loopLagInterval(20), LOOP_LAG_MIN_INTERVAL_MS, '10 ms x 2');
  t.equal(loopLagInterval(60_000 * 255), LOOP_LAG_MAX_INTERVAL_MS);
});

t.test('the sampler records only while it has an interval, and keeps what it recorded', async (t) => {
  const s = new LoopLagSampler();
  t.teardown(() => s.setInterval(undefined));
  await sleep(30);
  t.equal(s.histogram.count, 0, 'nothing before an interval is set');
  s.setInterval(5);
  t.equal(s.intervalMs, 5);
  await pollUntil('samples', async () => s.histogram.count >= 3);
  s.setInterval(undefined);
  t.equal(s.intervalMs, undefined);
  const kept = s.histogram.count;
  await sleep(40);
  t.equal(s.histogram.count, kept, 'no sample after sampling stopped; the earlier ones are kept');
  t.ok(s.histogram.min >= 1, 'lateness is recorded in µs, at least 1');
});

t.test('a stall of the loop shows as lateness', async (t) => {
  const s = new LoopLagSampler();
  t.teardown(() => s.setInterval(undefined));
  s.setInterval(5);
  await pollUntil('a first sample', async () => s.histogram.count >= 1);
  const before = s.histogram.count;
  const end = performance.now() + 60;
  while (performance.now() < end); // blocks this loop for 60 ms
  await pollUntil('a sample after the stall', async () => s.histogram.count > before);
  t.ok(s.histogram.max >= 50_000, `max lateness ${s.histogram.max} µs after a 60 ms stall`);
});

t.test('an engine samples its worker loop only while it has sessions', async (t) => {
  if (!requireTtlSocket(t)) return;
  const here = LOOPBACK[4];
  const e = await startEngine(t, { listenPorts: { singleHop: await freePort(4), multihop: await freePort(4) } });
  await sleep(60);
  t.equal((await e.engine.metrics()).eventLoopLagMs.samples, 0, 'no sampling without a session');
  t.equal((await e.engine.metrics()).shortestDetectionMs, undefined, 'no detection time without a session');
  // A peer that never answers: the session stays Down, the worker still samples (10 ms x 3: every 6 ms).
  const id = e.engine.addSession({
    peerAddress: here,
    localAddress: here,
    port: await freePort(4),
    profile: { name: 'fast', transmitInterval: 10, receiveInterval: 10, detectMultiplier: 3 },
  });
  const sampled = await pollUntil('samples with a session', async () => {
    const m = await e.engine.metrics();
    return m.eventLoopLagMs.samples >= 3 ? m : undefined;
  });
  t.ok(sampled.eventLoopLagMs.max >= 0);
  t.equal(sampled.shortestDetectionMs, 30, 'the shortest detection time: 10 ms x 3');
  await e.engine.removeSession(id);
  t.equal((await e.engine.metrics()).shortestDetectionMs, undefined, 'gone with the last session');
  const after = (await e.engine.metrics()).eventLoopLagMs.samples;
  await sleep(60);
  t.equal(
    (await e.engine.metrics()).eventLoopLagMs.samples,
    after,
    'sampling stops with the last session; the figures stay',
  );
});
