// `bgp-announce bfd` at run time: one BFD session in a BfdEngine, its state changes and negotiated
// timers printed, and the exit status: 0 when --until is met or on SIGINT/SIGTERM (after AdminDown
// is sent and the engine stopped), 1 when the session cannot run or does not come Up in time, 2 for a
// usage error.
import {
  BfdEngine,
  BfdEngineError,
  type BfdEngineOptions,
  type BfdSessionId,
  type BfdSessionOptions,
  type BfdSessionStatus,
  type BfdState,
  type BfdStateChangeEvent,
} from '@bgp-announce/bfd';
import { parseBfdCommand, type BfdCommandOptions, type BfdPlan } from './bfd.js';
import {
  diagName,
  formatBfdEvent,
  notUpText,
  sameTimers,
  timersOf,
  ttlUncheckedText,
  type BfdEvent,
  type BfdTimers,
} from './bfd-output.js';
import { UsageError } from './options.js';
import { socketErrorText } from './peer-output.js';
import { sourceAddressToward } from './peer-run.js';

/** Where the run writes and what it listens to; tests pass their own. */
export interface BfdRunIo {
  /** One line for stdout (events). */
  out(line: string): void;
  /** One line for stderr (the reason for a failure). */
  err(line: string): void;
  /** Source of SIGINT and SIGTERM. Default: process. */
  signals?: NodeJS.EventEmitter;
  /** Called on a second SIGINT/SIGTERM while stopping. Default: process.exit. */
  forceExit?: (status: number) => void;
  /** Starts the engine. Default: BfdEngine.start (tests choose ports or the dgram transport). */
  startEngine?: (options: BfdEngineOptions) => Promise<BfdEngine>;
  /** How often the negotiated timers are read to print changes that come without a state change (Poll Sequences). Default 1000 ms. */
  timersCheckMs?: number;
}

const PREFIX = 'bgp-announce bfd';

/** The whole command: options in, exit status out. Never throws. */
export async function bfdCommand(
  options: BfdCommandOptions,
  io: BfdRunIo,
  env: Record<string, string | undefined> = process.env,
): Promise<number> {
  let plan: BfdPlan;
  try {
    plan = parseBfdCommand(options, env);
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
  try {
    return await runBfd(plan, io);
  } catch (err) {
    io.err(`${PREFIX}: unexpected error: ${(err as Error).message}`);
    return 1;
  }
}

/** The local address: as given, else the one the kernel would use toward the peer (nothing is sent). */
async function localAddressFor(plan: BfdPlan): Promise<string> {
  const s = plan.session;
  if (s.localAddress !== undefined) return s.localAddress;
  const port = s.port ?? (s.multihop ? 4784 : 3784);
  const target =
    s.interface !== undefined && s.peerAddress.includes(':') ? `${s.peerAddress}%${s.interface}` : s.peerAddress;
  return (await sourceAddressToward(target, port)).replace(/%.*$/, '');
}

/**
 * Runs the session, prints every state change with the timers read right after it (and timer changes
 * between state changes), and resolves with the exit status once the engine has stopped.
 */
export async function runBfd(plan: BfdPlan, io: BfdRunIo): Promise<number> {
  const peer = plan.session.peerAddress;
  const emit = (e: BfdEvent): void => io.out(formatBfdEvent(e, plan.json));
  const fail = (message: string): number => (io.err(`${PREFIX}: ${message}`), 1);

  let localAddress: string;
  try {
    localAddress = await localAddressFor(plan);
  } catch (err) {
    return fail(`cannot find our address toward ${peer} (${socketErrorText(err as Error)}); give --local-address`);
  }
  const startEngine = io.startEngine ?? ((o: BfdEngineOptions) => BfdEngine.start(o));
  let engine: BfdEngine;
  try {
    engine = await startEngine({ allowUncheckedTtl: plan.allowUncheckedTtl });
  } catch (err) {
    return fail(`cannot start the BFD engine: ${(err as Error).message}`);
  }
  if (engine.ttlCheck === 'unavailable' && !plan.allowUncheckedTtl) {
    await engine.stop();
    return fail(ttlUncheckedText(engine.ttlCheckReason, 'give --allow-unchecked-ttl to run without the check'));
  }

  const signals = io.signals ?? process;
  const forceExit = io.forceExit ?? ((status: number) => process.exit(status));
  const secret = plan.session.auth?.secret;
  const hideKey = (text: string): string =>
    typeof secret === 'string' && secret !== '' ? text.split(secret).join('(key)') : text;
  let id: BfdSessionId | undefined;
  let finishing = false;
  let lastTimers: BfdTimers | undefined;
  let lastState: BfdState = 'Down';
  let queue: Promise<void> = Promise.resolve();
  let timersTimer: NodeJS.Timeout | undefined;
  let untilTimer: NodeJS.Timeout | undefined;
  let resolveRun: (status: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveRun = resolve));

  // Events are printed in order: each waits for the status read of the one before.
  const enqueue = (job: () => Promise<void>): void => {
    queue = queue.then(job).catch((err: unknown) => io.err(`${PREFIX}: ${(err as Error).message}`));
  };
  const status = async (): Promise<BfdSessionStatus | undefined> => {
    if (id === undefined) return undefined;
    try {
      return await engine.session(id);
    } catch {
      return undefined; // the engine is stopping
    }
  };
  const finish = async (exit: number, reason: string, failure?: string): Promise<void> => {
    if (finishing) return;
    finishing = true;
    clearInterval(timersTimer);
    clearTimeout(untilTimer);
    if (failure !== undefined) io.err(`${PREFIX}: ${hideKey(failure)}`);
    try {
      if (id !== undefined) await engine.removeSession(id); // AdminDown to the peer
      await engine.stop();
    } catch (err) {
      io.err(`${PREFIX}: while stopping: ${(err as Error).message}`);
    }
    for (let last: Promise<void> | undefined; last !== queue; ) await (last = queue);
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    emit({ time: Date.now(), peer, type: 'stopped', status: exit, reason });
    resolveRun(exit);
  };
  const notUp = async (within: string): Promise<void> => {
    const s = await status();
    void finish(1, 'not up', `session with ${peer} not Up ${within}: ${s ? notUpText(s) : 'the session is gone'}`);
  };
  function onSignal(signal: string): void {
    if (!finishing) return void finish(0, `stopped by ${signal}`);
    io.err(`${PREFIX}: ${signal} again: exiting without waiting for the engine to stop`);
    forceExit(1);
  }

  engine.on('state', (sessionId: BfdSessionId, change: BfdStateChangeEvent) => {
    if (sessionId !== id) return;
    lastState = change.to;
    enqueue(async () => {
      // The timers belong to this state only if the session is still in it (the worker runs on).
      const s = await status();
      const current = s !== undefined && s.state === change.to ? timersOf(s) : undefined;
      if (current !== undefined) lastTimers = current;
      const timers = current ?? {};
      emit({
        time: change.at,
        peer,
        type: 'state',
        from: change.from,
        to: change.to,
        diag: diagName(change.diag),
        remoteDiag: diagName(change.remoteDiag),
        ...timers,
      });
      if (change.to === 'Up' && plan.until.kind === 'up') void finish(0, 'session up');
    });
  });
  engine.on('error', (err: BfdEngineError) => {
    // Sockets that cannot open (address not here, port taken) or a dead worker: the session cannot run.
    if (err.code === 'socket' || err.code === 'worker') void finish(1, 'BFD failed', err.message);
    else if (err.code !== 'stopped') emit({ time: Date.now(), peer, type: 'warning', message: hideKey(err.message) });
  });

  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  const session: BfdSessionOptions = { ...plan.session, localAddress };
  try {
    id = engine.addSession(session);
  } catch (err) {
    const usage = err instanceof BfdEngineError && err.code === 'config';
    void finish(usage ? 2 : 1, 'bad settings', (err as Error).message);
    return done;
  }
  const p = plan.session.profile;
  const started: Extract<BfdEvent, { type: 'started' }> = {
    time: Date.now(),
    peer,
    type: 'started',
    localAddress,
    multihop: plan.session.multihop === true,
    transmitInterval: p.transmitInterval,
    receiveInterval: p.receiveInterval,
    detectMultiplier: p.detectMultiplier,
    passive: p.passiveMode,
    ttlCheck: engine.ttlCheck,
  };
  if (plan.session.interface !== undefined) started.interface = plan.session.interface;
  if (plan.session.multihop) started.minimumTtl = p.minimumTtl;
  if (plan.session.auth !== undefined) started.auth = plan.session.auth.type;
  emit(started);
  if (engine.ttlCheck === 'unavailable')
    emit({
      time: Date.now(),
      peer,
      type: 'warning',
      message: `received TTLs are not checked (${engine.ttlCheckReason ?? 'reason unknown'})`,
    });

  // Timers change without a state change when a Poll Sequence completes (the peer's rate once Up).
  timersTimer = setInterval(
    () =>
      enqueue(async () => {
        const s = await status();
        if (finishing || s === undefined || s.state !== lastState) return;
        const timers = timersOf(s);
        if (lastTimers !== undefined && !sameTimers(lastTimers, timers))
          emit({ time: Date.now(), peer, type: 'timers', ...timers });
        lastTimers = timers;
      }),
    io.timersCheckMs ?? 1000,
  );
  const until = plan.until;
  if (until.kind === 'time') {
    untilTimer = setTimeout(
      () =>
        lastState === 'Up' ? void finish(0, `${until.ms / 1000} s elapsed`) : void notUp(`after ${until.ms / 1000} s`),
      until.ms,
    );
  } else if (until.kind === 'up' && plan.upTimeoutMs > 0) {
    untilTimer = setTimeout(() => void notUp(`within ${plan.upTimeoutMs / 1000} s`), plan.upTimeoutMs);
  }
  return done;
}
