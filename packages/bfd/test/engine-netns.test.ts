// Two engines in two network namespaces joined by a veth pair (192.0.2.0/24, 2001:db8::/64 and
// link-local fe80::1/fe80::2 bound to the interface), each in its own process on the standard ports
// 3784/4784: single hop over IPv4, IPv6 and link-local, and multihop over IPv4, all Up; cutting the
// link (ip link set down) takes every session Down with diag 1 after detectMult x interval (plus a
// generous margin), on both sides; healing it brings them back; stopping one engine sends AdminDown and the other
// goes Down with diag 3.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { interopUnavailable, ip, requireOrSkip, vethPair } from '../../../test/interop/netns.js';
import { FAST, requireTtlSocket } from './engine-helpers.js';

const CHILD = fileURLToPath(new URL('./engine-child.mjs', import.meta.url));
type Message = {
  type: string;
  name?: string;
  to?: string;
  from?: string;
  diag?: number;
  remoteDiag?: number;
  at?: number;
  value?: unknown;
  message?: string;
};

interface Child {
  messages: Message[];
  until(check: (m: Message[]) => boolean, what: string, ms?: number): Promise<void>;
  command(cmd: object): void;
}

/** Runs engine-child.mjs in `ns` with `config`; killed in teardown. */
function startChild(t: Test, ns: string, config: object): Child {
  const proc = spawn('ip', ['netns', 'exec', ns, process.execPath, CHILD, JSON.stringify(config)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const messages: Message[] = [];
  let stderr = '';
  const waiters = new Set<() => void>();
  createInterface({ input: proc.stdout! }).on('line', (line) => {
    try {
      messages.push(JSON.parse(line) as Message);
    } catch {
      messages.push({ type: 'output', message: line });
    }
    for (const w of [...waiters]) w();
  });
  proc.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
  t.teardown(async () => {
    if (proc.exitCode === null && proc.signalCode === null) {
      proc.kill('SIGKILL');
      await exited;
    }
  });
  return {
    messages,
    command: (cmd) => proc.stdin!.write(`${JSON.stringify(cmd)}\n`),
    until: (check, what, ms = 10_000) =>
      new Promise<void>((resolve, reject) => {
        if (check(messages)) return resolve();
        const timer = setTimeout(() => {
          waiters.delete(waiter);
          reject(
            new Error(
              `${ns}: timed out after ${ms} ms waiting for ${what}; got ${JSON.stringify(messages.slice(-12))} ${stderr}`,
            ),
          );
        }, ms);
        const waiter = (): void => {
          if (!check(messages)) return;
          clearTimeout(timer);
          waiters.delete(waiter);
          resolve();
        };
        waiters.add(waiter);
      }),
  };
}

const NAMES = ['v4', 'v6', 'linkLocal', 'multihop'] as const;
type Status = { state: string; detectionTimeMs: number; pollActive: boolean } & Record<string, unknown>;

/** Every session's status from the child (replies come in the order asked). */
async function statuses(child: Child): Promise<Record<(typeof NAMES)[number], Status>> {
  const from = child.messages.length;
  for (const name of NAMES) child.command({ cmd: 'session', name });
  await child.until((m) => m.slice(from).filter((x) => x.type === 'session').length === NAMES.length, 'statuses');
  const values = child.messages
    .slice(from)
    .filter((x) => x.type === 'session')
    .map((x) => x.value as Status);
  return Object.fromEntries(NAMES.map((name, i) => [name, values[i]!])) as Record<(typeof NAMES)[number], Status>;
}

/** The last state each session reported, from `index` on. */
function lastStates(messages: Message[], index = 0): Map<string, Message> {
  const last = new Map<string, Message>();
  for (const m of messages.slice(index)) if (m.type === 'state' && m.name !== undefined) last.set(m.name, m);
  return last;
}

const allAre =
  (to: string, index = 0) =>
  (messages: Message[]): boolean => {
    const last = lastStates(messages, index);
    return NAMES.every((n) => last.get(n)?.to === to);
  };

t.test(
  'two engines in namespaces: Up on IPv4, IPv6, link-local and multihop; a cut link is detected in time',
  async (t) => {
    if (!requireOrSkip(t, interopUnavailable([]))) return;
    if (!requireTtlSocket(t)) return;
    const { a, b } = vethPair(t, '192.0.2.1/24', '192.0.2.2/24', 'bfd');
    for (const [end, n] of [
      [a, 1],
      [b, 2],
    ] as const) {
      ip('netns', 'exec', end.ns, 'sysctl', '-q', '-w', `net.ipv6.conf.${end.dev}.keep_addr_on_down=1`);
      ip('-n', end.ns, 'addr', 'add', `2001:db8::${n}/64`, 'dev', end.dev, 'nodad');
      ip('-n', end.ns, 'addr', 'add', `fe80::${n}/64`, 'dev', end.dev, 'nodad');
    }
    const sessions = (self: number, peer: number, dev: string) => ({
      v4: { peerAddress: `192.0.2.${peer}`, localAddress: `192.0.2.${self}`, profile: FAST },
      v6: { peerAddress: `2001:db8::${peer}`, localAddress: `2001:db8::${self}`, profile: FAST },
      linkLocal: { peerAddress: `fe80::${peer}`, localAddress: `fe80::${self}`, interface: dev, profile: FAST },
      multihop: { peerAddress: `192.0.2.${peer}`, localAddress: `192.0.2.${self}`, multihop: true, profile: FAST },
    });
    const childA = startChild(t, a.ns, { sessions: sessions(1, 2, a.dev) });
    const childB = startChild(t, b.ns, { sessions: sessions(2, 1, b.dev) });
    await childA.until(allAre('Up'), 'every session of a Up');
    await childB.until(allAre('Up'), 'every session of b Up');
    t.notOk(
      childA.messages.some((m) => m.type === 'error'),
      'no error on a',
    );

    const [statusA] = await Promise.all([statuses(childA), statuses(childB)]);
    t.match(statusA.linkLocal, {
      state: 'Up',
      interface: a.dev,
      peerAddress: 'fe80::2',
      listenPort: 3784,
      port: 3784,
      ttlCheck: 'available',
      counters: { dropped: { ttl: 0 } },
    });
    t.match(statusA.multihop, { state: 'Up', multihop: true, listenPort: 4784, port: 4784 });
    t.match(statusA.v6, { state: 'Up', localAddress: '2001:db8::1' });
    // Before cutting, the fast rate must be in force everywhere (the Poll Sequences after Up are over).
    const deadline = Date.now() + 5000;
    for (;;) {
      const all = [...Object.values(await statuses(childA)), ...Object.values(await statuses(childB))];
      if (all.every((s) => s.detectionTimeMs === 150 && !s.pollActive)) break;
      if (Date.now() > deadline) throw new Error(`the sessions did not settle at 50 ms x 3: ${JSON.stringify(all)}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const markA = childA.messages.length;
    const markB = childB.messages.length;
    const cutAt = Date.now();
    ip('-n', a.ns, 'link', 'set', a.dev, 'down');
    const cutDone = Date.now(); // the link went down between cutAt and cutDone
    await childA.until(allAre('Down', markA), 'a: every session Down');
    await childB.until(allAre('Down', markB), 'b: every session Down');
    // Behaviour, not a timing goal (that is `npm run bench`): Down by detection (diag 1) after the last
    // packet, not by anything slower; generous for a loaded CI machine.
    const margin = 850;
    for (const [side, child, mark] of [
      ['a (link down)', childA, markA],
      ['b (carrier lost)', childB, markB],
    ] as const) {
      const downs = lastStates(child.messages, mark);
      const times: string[] = [];
      for (const name of NAMES) {
        const d = downs.get(name)!;
        const detection = d.at! - cutAt;
        times.push(`${name} ${detection.toFixed(0)} ms`);
        t.equal(d.diag, 1, `${side} ${name}: diag 1 (Control Detection Time Expired)`);
        t.ok(
          detection >= 150 - 50 - 10 && detection <= 150 + margin,
          `${side} ${name}: Down ${detection.toFixed(1)} ms after the cut (3 x 50 ms after its last packet, + ${margin} ms margin)`,
        );
      }
      t.comment(
        `detection after the cut, ${side}: ${times.join(', ')} (from starting \`ip link set down\`, which took ${cutDone - cutAt} ms)`,
      );
    }

    // a keeps sending into a link that is down: the kernel refuses, counted and reported (not per packet).
    childA.command({ cmd: 'metrics' });
    await childA.until((m) => m.some((x) => x.type === 'metrics'), 'metrics of a');
    const metricsA = childA.messages.find((x) => x.type === 'metrics')!.value as { sendErrors: number };
    const sendErrors = childA.messages.filter((x) => x.type === 'error' && x.message?.includes('sending UDP'));
    t.ok(metricsA.sendErrors > 0, `a counted ${metricsA.sendErrors} failed sends while its link was down`);
    t.ok(
      sendErrors.length >= 1 && sendErrors.length <= metricsA.sendErrors,
      `${sendErrors.length} send error events, e.g. ${sendErrors[0]?.message}`,
    );

    const healA = childA.messages.length;
    const healB = childB.messages.length;
    ip('-n', a.ns, 'link', 'set', a.dev, 'up');
    ip('-n', a.ns, 'addr', 'replace', 'fe80::1/64', 'dev', a.dev, 'nodad'); // link-local addresses go with the link
    await childA.until(allAre('Up', healA), 'a: every session Up again');
    await childB.until(allAre('Up', healB), 'b: every session Up again');

    const stopB = childB.messages.length;
    childA.command({ cmd: 'stop' });
    await childB.until(allAre('Down', stopB), 'b: every session Down after a stopped');
    for (const [name, m] of lastStates(childB.messages, stopB)) {
      t.match(m, { from: 'Up', to: 'Down', diag: 3, remoteDiag: 7 }, `b ${name}: Down with diag 3 (a sent AdminDown)`);
    }
    await childA.until((m) => m.some((x) => x.type === 'stopped'), 'a stopped');
    childB.command({ cmd: 'metrics' });
    await childB.until((m) => m.some((x) => x.type === 'metrics'), 'metrics of b');
    const metricsB = childB.messages.find((x) => x.type === 'metrics')!.value as {
      dropped: Record<string, number>;
      eventLoopLagMs: object;
    };
    t.match(metricsB.dropped, { ttl: 0, auth: 0, malformed: 0 });
    t.comment(`b's worker lag (ms): ${JSON.stringify(metricsB.eventLoopLagMs)}`);
  },
);
