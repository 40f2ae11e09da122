// `bgp-announce peer` at run time: one Speaker with one peer, its events printed, and the exit status:
// 0 when --until is met or on SIGINT/SIGTERM (after the Cease, once the connection is closed), 1 when
// no session is Established within the connect timeout or the OPENs disagree, 2 for a usage error.
import dgram from 'node:dgram';
import { readFile } from 'node:fs/promises';
// The speaker alone (its subpath): the package's index also loads the Kubernetes client, ~1 s per start.
import { Speaker, type PeerOptions, type SpeakerOptions, type SpeakerStopOptions } from '@bgp-announce/bgp-speaker';
import type { BfdSessions } from '@bgp-announce/bgp-speaker';
import { BfdEngine, type BfdEngineOptions } from '@bgp-announce/bfd';
import { isIpv4, type Family } from '@bgp-announce/bgp-wire';
import { UsageError, fileErrorReason } from './options.js';
import { parsePeerCommand, type PeerCommandOptions, type PeerPlan } from './peer.js';
import { diagName, ttlUncheckedText } from './bfd-output.js';
import {
  advertisedEvent,
  downEvent,
  establishedEvent,
  failureText,
  formatEvent,
  socketErrorText,
  updateEvents,
  type FailureFacts,
  type PeerEvent,
} from './peer-output.js';

/** Where the run writes and what it listens to; tests pass their own. */
export interface PeerRunIo {
  /** One line for stdout (events). */
  out(line: string): void;
  /** One line for stderr (the reason for a failure). */
  err(line: string): void;
  /** Source of SIGINT and SIGTERM. Default: process. */
  signals?: NodeJS.EventEmitter;
  /** Called on a second SIGINT/SIGTERM while stopping. Default: process.exit. */
  forceExit?: (status: number) => void;
  /** Starts the BFD engine for --bfd. Default: BfdEngine.start (tests choose ports). */
  startBfdEngine?: (options: BfdEngineOptions) => Promise<BfdEngine>;
}

const PREFIX = 'bgp-announce peer';
/** The longest interval a timer takes (~24.8 days): the keep-alive handle exists only to be ref'd. */
const KEEP_ALIVE_INTERVAL_MS = 2 ** 31 - 1;

/** Reads --announce-file (a read error is a usage error) and parses the command line. Throws UsageError. */
export async function loadPeerPlan(
  options: PeerCommandOptions,
  env: Record<string, string | undefined> = process.env,
): Promise<PeerPlan> {
  let announceFileText: string | undefined;
  if (options.announceFile !== undefined) {
    try {
      announceFileText = await readFile(options.announceFile, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read --announce-file ${options.announceFile}: ${fileErrorReason(err)}`);
    }
  }
  const input = announceFileText === undefined ? { env } : { env, announceFileText };
  return parsePeerCommand(options, input);
}

/**
 * Our source address toward `address` as the kernel's routing picks it (a connected UDP socket:
 * nothing is sent). Rejects with the socket error (e.g. ENETUNREACH).
 */
export function sourceAddressToward(address: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket(isIpv4(address) ? 'udp4' : 'udp6');
    socket.once('error', (err) => {
      socket.close();
      reject(err);
    });
    socket.connect(port, address, () => {
      const local = socket.address().address;
      socket.close();
      resolve(local);
    });
  });
}

/**
 * What the Speaker is given: its options (with the BFD engine when the peer requires BFD) and the
 * peer's options (with `bfd.localAddress`, found at run time, when the command line gave no local address).
 */
export function peerSpeakerOptions(
  plan: PeerPlan,
  bgpId: string,
  bfd?: { engine: BfdSessions; localAddress: string | undefined },
): { speaker: SpeakerOptions; peer: PeerOptions } {
  const speaker: SpeakerOptions = { localAs: plan.localAs, bgpId };
  if (plan.peer.bfd === undefined || bfd === undefined) return { speaker, peer: plan.peer };
  speaker.bfd = bfd.engine;
  const peerBfd = { ...plan.peer.bfd };
  if (plan.peer.localAddress === undefined && peerBfd.localAddress === undefined && bfd.localAddress !== undefined)
    peerBfd.localAddress = bfd.localAddress;
  return { speaker, peer: { ...plan.peer, bfd: peerBfd } };
}

/** The whole command: options in, exit status out. Never throws. */
export async function peerCommand(options: PeerCommandOptions, io: PeerRunIo): Promise<number> {
  let plan: PeerPlan;
  try {
    plan = await loadPeerPlan(options);
  } catch (err) {
    io.err(`${PREFIX}: ${(err as Error).message}`);
    return err instanceof UsageError ? 2 : 1;
  }
  try {
    return await runPeer(plan, io);
  } catch (err) {
    io.err(`${PREFIX}: unexpected error: ${(err as Error).message}`);
    return 1;
  }
}

/**
 * Opens the session, announces plan.prefixes, prints every event, and resolves with the exit status
 * once the Speaker has stopped (Cease sent and the connection closed).
 */
export async function runPeer(plan: PeerPlan, io: PeerRunIo): Promise<number> {
  const peer = plan.peerId;
  const port = plan.peer.peerPort ?? 179;
  const emit = (e: PeerEvent): void => io.out(formatEvent(e, plan.json));
  for (const message of plan.warnings) emit({ time: Date.now(), peer, type: 'warning', message });

  let bgpId = plan.bgpId;
  if (bgpId === undefined) {
    try {
      bgpId = await sourceAddressToward(plan.peer.peerAddress, port);
    } catch (err) {
      io.err(
        `${PREFIX}: cannot find our address toward ${peer} for the router id (${socketErrorText(err as Error)}); give --router-id or --local-address`,
      );
      return 1;
    }
  }
  let bfd: { engine: BfdEngine; localAddress: string | undefined } | undefined;
  if (plan.peer.bfd !== undefined) {
    let localAddress = plan.peer.localAddress ?? plan.peer.bfd.localAddress;
    try {
      localAddress ??= await sourceAddressToward(plan.peer.peerAddress, port);
    } catch (err) {
      io.err(
        `${PREFIX}: cannot find our address toward ${peer} for BFD (${socketErrorText(err as Error)}); give --local-address`,
      );
      return 1;
    }
    try {
      bfd = { engine: await (io.startBfdEngine ?? ((o: BfdEngineOptions) => BfdEngine.start(o)))({}), localAddress };
    } catch (err) {
      io.err(`${PREFIX}: cannot start the BFD engine: ${(err as Error).message}`);
      return 1;
    }
    if (bfd.engine.ttlCheck === 'unavailable') {
      await bfd.engine.stop();
      io.err(
        `${PREFIX}: --bfd: ${ttlUncheckedText(bfd.engine.ttlCheckReason, 'leave --bfd out (`bgp-announce bfd --allow-unchecked-ttl` tests BFD alone without the check)')}`,
      );
      return 1;
    }
    bfd.engine.on('error', (e) => emit({ time: Date.now(), peer, type: 'warning', message: `BFD: ${e.message}` }));
  }
  const setup = peerSpeakerOptions(plan, bgpId, bfd);
  const speaker = new Speaker(setup.speaker);
  const signals = io.signals ?? process;
  const forceExit = io.forceExit ?? ((status: number) => process.exit(status));

  let established = false;
  let negotiatedFamilies: Family[] = [];
  const endOfRib = new Set<Family>();
  let connectTimer: NodeJS.Timeout | undefined;
  let untilTimer: NodeJS.Timeout | undefined;
  let keepAlive: NodeJS.Timeout | undefined;
  let finishing = false;
  let advertisedListed = false;
  let resolveRun: (status: number) => void = () => {};
  const done = new Promise<number>((resolve) => (resolveRun = resolve));

  const facts = (): FailureFacts => {
    const f: FailureFacts = {
      peer,
      port,
      passive: plan.peer.mode === 'passive',
      md5: plan.peer.md5Password !== undefined,
    };
    const lastDown = speaker.peers().find((p) => p.id === peer)?.lastDown;
    if (lastDown) f.lastDown = lastDown;
    // The last connection attempt's socket error (ECONNREFUSED, ...), while no TCP connection was made.
    if (lastDown?.socketError && (lastDown.state === 'Connect' || lastDown.state === 'Active'))
      f.socketError = lastDown.socketError;
    return f;
  };

  // The Speaker sends our routes right after its 'established' event: list them once, when they are in
  // the Adj-RIB-Out (on the next turn of the event loop, or before anything else the peer sent).
  const listAdvertised = (): void => {
    if (advertisedListed || !established) return;
    advertisedListed = true;
    for (const route of speaker.adjRibOut(peer) ?? []) emit(advertisedEvent(Date.now(), peer, route));
  };
  const finish = async (status: number, reason: string, failure?: string): Promise<void> => {
    if (finishing) return;
    listAdvertised();
    finishing = true;
    clearTimeout(connectTimer);
    clearTimeout(untilTimer);
    if (failure !== undefined) io.err(`${PREFIX}: ${failure}`);
    const stop: SpeakerStopOptions = { message: `${PREFIX}: ${reason}` };
    if (plan.gracefulShutdownMs !== undefined) stop.gracefulShutdown = { drainMs: plan.gracefulShutdownMs };
    try {
      await speaker.stop(stop);
      await bfd?.engine.stop(); // after the Speaker, which removes its BFD session (AdminDown to the peer)
    } catch (err) {
      io.err(`${PREFIX}: while stopping: ${(err as Error).message}`);
    }
    signals.off('SIGINT', onSignal);
    signals.off('SIGTERM', onSignal);
    emit({ time: Date.now(), peer, type: 'stopped', status, reason });
    clearInterval(keepAlive);
    resolveRun(status);
  };
  const notEstablished = (within: string): void =>
    void finish(1, 'no session', `session with ${peer} not established ${within}: ${failureText(facts())}`);
  const armConnectTimer = (): void => {
    clearTimeout(connectTimer);
    if (plan.connectTimeoutMs > 0)
      connectTimer = setTimeout(
        () => notEstablished(`within ${plan.connectTimeoutMs / 1000} s`),
        plan.connectTimeoutMs,
      );
  };
  // --until eor: the connect timeout also bounds the wait for End-of-RIB after Established.
  const waitForEndOfRib = (graceful: boolean): void => {
    const hint = graceful
      ? ''
      : ' (graceful restart was not negotiated, and many peers send End-of-RIB only with it: try --graceful-restart)';
    if (!graceful)
      emit({ time: Date.now(), peer, type: 'warning', message: `the peer may never send End-of-RIB${hint}` });
    if (plan.connectTimeoutMs === 0) return;
    connectTimer = setTimeout(() => {
      const missing = negotiatedFamilies.filter((f) => !endOfRib.has(f)).join(', ');
      void finish(
        1,
        'no End-of-RIB',
        `no End-of-RIB from ${peer} for ${missing} within ${plan.connectTimeoutMs / 1000} s of Established${hint}`,
      );
    }, plan.connectTimeoutMs);
  };
  function onSignal(signal: string): void {
    if (!finishing) return void finish(0, `stopped by ${signal}`);
    io.err(`${PREFIX}: ${signal} again: exiting without waiting for the session to close`);
    forceExit(1);
  }

  speaker.on('peerState', (id, to, from) => {
    emit({ time: Date.now(), peer: id, type: 'state', from, to });
    if (to !== 'Idle' || finishing) return;
    const f = facts();
    if (f.lastDown) {
      const down = downEvent(Date.now(), id, f.lastDown);
      if (down.type === 'down' && f.lastDown.kind === 'connection-failed' && !f.lastDown.notification)
        down.reason = failureText(f);
      emit(down);
    }
    if (from === 'Established') {
      established = false;
      endOfRib.clear();
      armConnectTimer();
    }
    // The OPENs disagree (AS, BGP identifier, hold time, capabilities): retrying will not help.
    if (f.lastDown?.notification?.code === 2) void finish(1, 'OPEN refused', failureText(f));
  });
  speaker.on('bfd', (id, change, outcome) => {
    const e: PeerEvent = {
      time: Date.now(),
      peer: id,
      type: 'bfd',
      from: change.from,
      to: change.to,
      diag: diagName(change.diag),
    };
    if (outcome !== undefined) e.outcome = outcome;
    emit(e);
  });
  speaker.on('listening', (id, a) =>
    emit({ time: Date.now(), peer: id, type: 'listening', address: a.address, port: a.port }),
  );
  speaker.on('error', (id, e) => emit({ time: Date.now(), peer: id, type: 'warning', message: e.message }));
  speaker.on('established', (id, negotiated) => {
    established = true;
    clearTimeout(connectTimer);
    negotiatedFamilies = negotiated.families;
    emit(establishedEvent(Date.now(), id, negotiated));
    for (const family of plan.peer.families ?? []) {
      if (!negotiated.families.includes(family))
        emit({
          time: Date.now(),
          peer: id,
          type: 'warning',
          message: `the peer does not take ${family}: those prefixes are not sent`,
        });
    }
    if (plan.until.kind === 'eor') waitForEndOfRib(negotiated.gracefulRestart !== undefined);
    advertisedListed = false;
    setImmediate(() => {
      if (finishing) return;
      listAdvertised();
      if (plan.until.kind === 'established') void finish(0, 'session established');
    });
  });
  speaker.on('routesReceived', (id, result, update) => {
    listAdvertised();
    if (update) for (const e of updateEvents(Date.now(), id, update, result.asLoop === true)) emit(e);
    if (result.endOfRib === undefined) return;
    endOfRib.add(result.endOfRib);
    if (plan.until.kind === 'eor' && established && negotiatedFamilies.every((f) => endOfRib.has(f)))
      void finish(0, 'End-of-RIB received for every family');
  });

  // The Speaker unrefs every session timer (a library must not keep its host alive), so while the session
  // waits in Idle with no --connect-timeout or --until timer pending, nothing would keep Node running and
  // the command would exit with status 13 (an unsettled top-level await). Hold a handle until finish().
  keepAlive = setInterval(() => {}, KEEP_ALIVE_INTERVAL_MS);
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  try {
    for (const prefix of plan.prefixes) speaker.announce(prefix);
    speaker.addPeer(peer, setup.peer);
  } catch (err) {
    // Settings the Speaker refuses that the command line parser let through.
    const status = err instanceof RangeError || err instanceof TypeError ? 2 : 1;
    void finish(status, 'bad settings', (err as Error).message.replace(plan.peer.md5Password ?? '\0', '(password)'));
    return done;
  }
  armConnectTimer();
  const until = plan.until;
  if (until.kind === 'time') {
    untilTimer = setTimeout(
      () =>
        established ? void finish(0, `${until.ms / 1000} s elapsed`) : notEstablished(`after ${until.ms / 1000} s`),
      until.ms,
    );
  }
  return done;
}
