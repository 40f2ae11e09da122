// UdpTtlSocket inside a worker_thread (where the BFD packet path runs): it receives on the worker's own
// event loop with the right TTL / hop limit and source, sends with TTL 255, and the worker's end
// (terminate(), or its loop running out with the socket unref'd) closes the socket: the port is free
// afterwards and nothing aborts. An exception thrown by onMessage is the worker's uncaught error.
import t, { type Test } from 'tap';
import { Worker } from 'node:worker_threads';
import { dgramSend, dgramSender, ifindexOf, receiver, requireUdp, sender, waiter } from './udp-helpers.js';
import type { FromWorker, ToWorker, WorkerSetup } from './udp-worker.js';
import { UdpTtlSocket } from '../src/index.js';

const LOOPBACK = { 4: '127.0.0.1', 6: '::1' } as const;

function startWorker(t: Test, setup: WorkerSetup) {
  const worker = new Worker(new URL('./udp-worker.ts', import.meta.url), { workerData: setup });
  const events: FromWorker[] = [];
  let exitCode: number | undefined;
  let error: Error | undefined;
  const wait = waiter(
    () => `worker events ${JSON.stringify(events.map((e) => e.type))}, exit ${exitCode}, error ${error?.message}`,
  );
  worker.on('message', (e: FromWorker) => {
    events.push(e);
    wait.notify();
  });
  worker.on('error', (e) => {
    error = e;
    wait.notify();
  });
  worker.on('exit', (code) => {
    exitCode = code;
    wait.notify();
  });
  t.teardown(() => worker.terminate());
  return {
    worker,
    events,
    command: (c: ToWorker) => worker.postMessage(c),
    /** The first event of `type` (waiting up to 20 s: the worker compiles TypeScript on start). */
    async event<K extends FromWorker['type']>(type: K): Promise<Extract<FromWorker, { type: K }>> {
      await wait.until(() => events.some((e) => e.type === type) || exitCode !== undefined, 20_000);
      const found = events.find((e) => e.type === type);
      if (!found) throw new Error(`the worker ended (exit ${exitCode}, ${error?.message}) before sending ${type}`);
      return found as Extract<FromWorker, { type: K }>;
    },
    async messages(n: number) {
      await wait.until(() => events.filter((e) => e.type === 'message').length >= n);
      return events.flatMap((e) => (e.type === 'message' ? [e.message] : [])).slice(0, n);
    },
    async exit(): Promise<{ code: number; error: Error | undefined }> {
      await wait.until(() => exitCode !== undefined, 20_000);
      return { code: exitCode!, error };
    },
  };
}

for (const family of [4, 6] as const) {
  t.test(`IPv${family} in a worker: TTL 255 and 254 received as such, replies sent with 255`, async (t) => {
    if (!requireUdp(t)) return;
    const here = LOOPBACK[family];
    const w = startWorker(t, { mode: 'receive', family, address: here, port: 0 });
    const open = await w.event('open');
    t.not(open.threadId, 0, 'the socket lives in a worker thread');
    const ours = sender(t, family, 255);
    const theirs = await dgramSender(t, family, 254);
    ours.send(Buffer.from('ttl 255'), here, open.port);
    await dgramSend(theirs, 'ttl 254', here, open.port);
    const [a, b] = await w.messages(2);
    t.match(a, {
      payload: 'ttl 255',
      ttl: 255,
      address: here,
      port: ours.localPort,
      localAddress: here,
      ifindex: ifindexOf('lo'),
    });
    t.match(b, { payload: 'ttl 254', ttl: 254, address: here, port: theirs.address().port });

    const main = receiver(t, { family, address: here, port: 0 });
    w.command({ type: 'send', payload: 'from the worker', address: here, port: main.socket.localPort });
    const [reply] = await main.received(1);
    t.match(reply, { ttl: 255, address: here, port: open.port });
    t.equal(reply!.payload.toString(), 'from the worker');

    w.command({ type: 'close' });
    await w.event('closed');
    t.equal((await w.exit()).code, 0, 'the worker ended by itself after close()');
  });
}

t.test('terminate() closes the socket of a worker that never closed it: the port is free again', async (t) => {
  if (!requireUdp(t)) return;
  const w = startWorker(t, { mode: 'hold', family: 4, address: '127.0.0.1', port: 0 });
  const { port } = await w.event('open');
  t.throws(
    () => UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port }),
    { code: 'EADDRINUSE' },
    'held by the worker',
  );
  t.equal(await w.worker.terminate(), 1, 'terminated');
  const again = UdpTtlSocket.open({ family: 4, address: '127.0.0.1', port });
  t.teardown(() => again.close());
  t.equal(again.localPort, port, 'bound again after the worker ended');
});

t.test("an unref'd socket lets the worker end; its environment cleanup closes the socket", async (t) => {
  if (!requireUdp(t)) return;
  const w = startWorker(t, { mode: 'unref', family: 6, address: '::1', port: 0 });
  const { port } = await w.event('open');
  const { code, error } = await w.exit();
  t.equal(code, 0, 'ended by itself');
  t.equal(error, undefined);
  const again = UdpTtlSocket.open({ family: 6, address: '::1', port });
  t.teardown(() => again.close());
  t.equal(again.localPort, port);
});

t.test("an exception thrown by onMessage is the worker's uncaught error", async (t) => {
  if (!requireUdp(t)) return;
  const w = startWorker(t, { mode: 'throw', family: 4, address: '127.0.0.1', port: 0 });
  const { port } = await w.event('open');
  sender(t, 4, 255).send(Buffer.from('boom'), '127.0.0.1', port);
  const { code, error } = await w.exit();
  t.equal(code, 1);
  t.match(error, { message: 'thrown by onMessage for boom' });
});

t.test('two workers receive at once, each on its own loop', async (t) => {
  if (!requireUdp(t)) return;
  const workers = [0, 1].map(() => startWorker(t, { mode: 'receive', family: 4, address: '127.0.0.1', port: 0 }));
  const ports = await Promise.all(workers.map(async (w) => (await w.event('open')).port));
  t.equal(
    new Set((await Promise.all(workers.map((w) => w.event('open')))).map((o) => o.threadId)).size,
    2,
    'two threads',
  );
  const s = sender(t, 4, 255);
  for (let i = 0; i < 50; i++) for (const p of ports) s.send(Buffer.from(`${p}:${i}`), '127.0.0.1', p);
  const got = await Promise.all(workers.map((w) => w.messages(50)));
  got.forEach((messages, k) => {
    t.same(
      messages.map((m) => m.payload),
      Array.from({ length: 50 }, (_, i) => `${ports[k]}:${i}`),
      `worker ${k}: its 50 datagrams, in order`,
    );
  });
});
