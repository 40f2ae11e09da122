// EventRecorder against the test API server: the Event's fields, aggregation of repeats (count 2 on the
// same Event), a new Event after the 10-minute window, the per-object rate limit, and failures that
// are logged, never thrown (a failed create, a repeat whose Event was deleted, a conflicting update).
import t, { type Test } from 'tap';
import { start } from '@bgp-announce/test-apiserver';
import { loadKubeConfig } from '../src/kube/client.js';
import { EventRecorder, REPORTING_CONTROLLER, type EventRecorderOptions } from '../src/kube/events.js';
import { manualClock } from '@bgp-announce/bgp-speaker';
import type { KubeLogger } from '../src/kube/api-errors.js';

interface StoredEvent {
  metadata: { name: string; namespace: string; resourceVersion: string };
  involvedObject: Record<string, string>;
  reason: string;
  message: string;
  type: string;
  count: number;
  firstTimestamp: string;
  lastTimestamp: string;
  source: { component: string; host: string };
  reportingComponent: string;
  reportingInstance: string;
}

const service = {
  metadata: { name: 'web', namespace: 'shop', uid: '0c6f3c1e-0000-4000-8000-000000000001', resourceVersion: '7' },
};

async function setup(t: Test, extra: Partial<EventRecorderOptions> = {}) {
  const s = await start();
  t.teardown(() => s.stop());
  s.create('namespaces', { metadata: { name: 'shop' } });
  const { kubeConfig } = loadKubeConfig({ url: s.url });
  const clock = manualClock(Date.UTC(2025, 0, 1, 12, 0, 0));
  const warnings: string[] = [];
  const logger = {
    debug() {},
    info() {},
    warn: (_o: unknown, m: string) => warnings.push(m),
    error: (_o: unknown, m: string) => warnings.push(m),
  } as unknown as KubeLogger;
  const recorder = new EventRecorder({ kubeConfig, reportingInstance: 'node-a', clock, logger, ...extra });
  const events = () =>
    (s.list('events', 'shop') as unknown as StoredEvent[]).sort((a, b) =>
      a.metadata.name.localeCompare(b.metadata.name),
    );
  return { s, recorder, clock, warnings, events };
}

t.test('an Event with every field; a repeat within 10 minutes counts on the same Event', async (t) => {
  const { recorder, clock, events } = await setup(t);
  recorder.record(service, 'Normal', 'IPAllocated', 'Assigned IP 198.51.100.7');
  await recorder.flush();
  const [first] = events();
  t.match(first, {
    metadata: { namespace: 'shop', name: /^web\.[0-9a-f]+$/ },
    involvedObject: {
      apiVersion: 'v1',
      kind: 'Service',
      name: 'web',
      namespace: 'shop',
      uid: service.metadata.uid,
      resourceVersion: '7',
    },
    reason: 'IPAllocated',
    message: 'Assigned IP 198.51.100.7',
    type: 'Normal',
    count: 1,
    source: { component: REPORTING_CONTROLLER, host: 'node-a' },
    reportingComponent: 'bgp-announce.io/controller',
    reportingInstance: 'node-a',
  });
  t.equal(Date.parse(first!.firstTimestamp), Date.UTC(2025, 0, 1, 12, 0, 0));

  clock.advance(9 * 60_000);
  recorder.record(service, 'Normal', 'IPAllocated', 'Assigned IP 198.51.100.7');
  await recorder.flush();
  const after = events();
  t.equal(after.length, 1, 'no second Event');
  t.equal(after[0]!.metadata.name, first!.metadata.name);
  t.equal(after[0]!.count, 2, 'count 2');
  t.equal(Date.parse(after[0]!.lastTimestamp), Date.UTC(2025, 0, 1, 12, 9, 0), 'lastTimestamp moved');
  t.equal(Date.parse(after[0]!.firstTimestamp), Date.UTC(2025, 0, 1, 12, 0, 0), 'firstTimestamp kept');

  // Another message, another type: separate Events.
  recorder.record(service, 'Warning', 'AllocationFailed', 'no pool has a free address');
  recorder.record(service, 'Normal', 'IPAllocated', 'Assigned IP 198.51.100.8');
  await recorder.flush();
  t.same(
    events()
      .map((e) => [e.reason, e.message, e.type, e.count])
      .sort(),
    [
      ['AllocationFailed', 'no pool has a free address', 'Warning', 1],
      ['IPAllocated', 'Assigned IP 198.51.100.7', 'Normal', 2],
      ['IPAllocated', 'Assigned IP 198.51.100.8', 'Normal', 1],
    ],
  );

  // The same Event again more than 10 minutes after its last repeat: a fresh Event.
  clock.advance(10 * 60_000 + 1);
  recorder.record(service, 'Normal', 'IPAllocated', 'Assigned IP 198.51.100.7');
  await recorder.flush();
  t.same(
    events()
      .filter((e) => e.message === 'Assigned IP 198.51.100.7')
      .map((e) => e.count)
      .sort(),
    [1, 2],
  );
});

t.test('rate limit per object: a burst, then one more per refill period', async (t) => {
  const { recorder, clock, events } = await setup(t, { burst: 3, refillMs: 60_000 });
  for (let i = 0; i < 5; i++) recorder.record(service, 'Warning', 'Flap', `flap ${i}`);
  recorder.record({ metadata: { name: 'other', namespace: 'shop' } }, 'Normal', 'IPAllocated', 'other service');
  await recorder.flush();
  t.same(
    events()
      .map((e) => e.message)
      .sort(),
    ['flap 0', 'flap 1', 'flap 2', 'other service'],
    'the other Service has its own budget',
  );
  t.equal(recorder.dropped, 2);
  clock.advance(60_000);
  recorder.record(service, 'Warning', 'Flap', 'flap 5');
  recorder.record(service, 'Warning', 'Flap', 'flap 6');
  await recorder.flush();
  t.same(
    events()
      .map((e) => e.message)
      .filter((m) => m.startsWith('flap'))
      .sort(),
    ['flap 0', 'flap 1', 'flap 2', 'flap 5'],
  );
  t.equal(recorder.dropped, 3);
});

t.test('failures are logged, never thrown: failed create, deleted Event, conflicting update', async (t) => {
  const { s, recorder, warnings, events } = await setup(t);
  s.failNext('create', 'events', 500, 'injected');
  t.doesNotThrow(() => recorder.record(service, 'Normal', 'IPAllocated', 'first'));
  await recorder.flush();
  t.equal(events().length, 0);
  t.same(warnings, ['event: could not be written']);

  recorder.record(service, 'Normal', 'IPAllocated', 'first');
  await recorder.flush();
  const [created] = events();
  t.equal(created?.count, 1);

  // The Event expired on the server (TTL): the repeat creates a new one.
  s.delete('events', created!.metadata.name, 'shop');
  recorder.record(service, 'Normal', 'IPAllocated', 'first');
  await recorder.flush();
  const [recreated] = events();
  t.equal(events().length, 1);
  t.not(recreated!.metadata.name, created!.metadata.name);
  t.equal(recreated!.count, 1);

  // Someone else counted too (another instance): a 409, then count on from the stored Event.
  s.patch('events', recreated!.metadata.name, { count: 5 }, 'shop');
  recorder.record(service, 'Normal', 'IPAllocated', 'first');
  await recorder.flush();
  t.equal(events()[0]!.count, 6);
  t.ok(
    s.requests().some((r) => r.resource === 'events' && r.verb === 'update' && r.status === 409),
    'the first update conflicted',
  );

  // An object without a name cannot have Events.
  recorder.record({ metadata: { namespace: 'shop' } }, 'Normal', 'X', 'y');
  await recorder.flush();
  t.equal(warnings.length, 2);
  t.match(warnings[1], /no name/);
});
