// `bgp-announce bfd` output: what happened on the BFD session as plain event objects, printed as one
// JSON object per line (--json) or as a readable line; diagnostics by their RFC 5880 names; and the
// sentence that says why a session did not come Up. Pure: bfd-run.ts feeds it the engine's events.
import type { BfdAuthType, BfdSessionStatus, BfdState } from '@bgp-announce/bfd';

/** RFC 5880 4.1 diagnostic names, by code. */
const DIAG_NAMES = [
  'No Diagnostic',
  'Control Detection Time Expired',
  'Echo Function Failed',
  'Neighbor Signaled Session Down',
  'Forwarding Plane Reset',
  'Path Down',
  'Concatenated Path Down',
  'Administratively Down',
  'Reverse Concatenated Path Down',
] as const;

/** A diagnostic code by its RFC 5880 name: 7 is "Administratively Down"; 9-31 are "Reserved (N)". */
export function diagName(code: number): string {
  return DIAG_NAMES[code] ?? `Reserved (${code})`;
}

/** The negotiated timers as engine.session() reports them, in milliseconds. */
export interface BfdTimers {
  /** How often we send: max(our Desired Min TX in force, the peer's Required Min RX). */
  transmitIntervalMs: number;
  /** How often the peer should send: max(our Required Min RX in force, its Desired Min TX); 0 before it has sent. */
  receiveIntervalMs: number;
  /** The peer's Detect Mult x receiveIntervalMs; 0 before the peer has sent. */
  detectionTimeMs: number;
}

/** One line of output. `time` is ms since the epoch. */
export type BfdEvent = { time: number; peer: string } & (
  | {
      type: 'started';
      localAddress: string;
      interface?: string;
      multihop: boolean;
      /** Our configured Desired Min TX (once Up) and Required Min RX, ms; Detect Mult. */
      transmitInterval: number;
      receiveInterval: number;
      detectMultiplier: number;
      passive: boolean;
      minimumTtl?: number;
      auth?: BfdAuthType;
      ttlCheck: 'available' | 'unavailable';
    }
  | ({ type: 'state'; from: BfdState; to: BfdState; diag: string; remoteDiag: string } & Partial<BfdTimers>)
  | ({ type: 'timers' } & BfdTimers)
  | { type: 'warning'; message: string }
  | { type: 'stopped'; status: number; reason: string }
);

/** The timers of a status, to print and to compare. */
export function timersOf(s: BfdSessionStatus): BfdTimers {
  return {
    transmitIntervalMs: s.transmitIntervalMs,
    receiveIntervalMs: s.receiveIntervalMs,
    detectionTimeMs: s.detectionTimeMs,
  };
}

/** True when both are given and equal. */
export function sameTimers(a: BfdTimers | undefined, b: BfdTimers | undefined): boolean {
  return (
    a !== undefined &&
    b !== undefined &&
    a.transmitIntervalMs === b.transmitIntervalMs &&
    a.receiveIntervalMs === b.receiveIntervalMs &&
    a.detectionTimeMs === b.detectionTimeMs
  );
}

function timersText(t: Partial<BfdTimers>): string {
  if (t.transmitIntervalMs === undefined) return '';
  const rx = t.detectionTimeMs
    ? `, receive ${t.receiveIntervalMs} ms, detection time ${t.detectionTimeMs} ms`
    : ', nothing received yet';
  return `transmit ${t.transmitIntervalMs} ms${rx}`;
}

/** One output line: the event as JSON (`type` first, `time` as ISO text), or as readable text with a UTC time. */
export function formatBfdEvent(e: BfdEvent, json: boolean): string {
  const iso = new Date(e.time).toISOString();
  if (json) {
    const { type, time: _time, peer, ...rest } = e;
    return JSON.stringify({ type, time: iso, peer, ...rest });
  }
  const at = `${iso.slice(11, 23)} `;
  switch (e.type) {
    case 'started': {
      const path = `${e.localAddress}${e.interface ? ` on ${e.interface}` : ''} -> ${e.peer}`;
      const kind = e.multihop ? `multihop (minimum TTL ${e.minimumTtl})` : 'single hop';
      const extras = [
        e.passive ? 'passive' : '',
        e.auth ? `auth ${e.auth}` : '',
        e.ttlCheck === 'unavailable' ? 'received TTL NOT checked' : '',
      ].filter((x) => x !== '');
      return `${at}BFD ${path}, ${kind}, transmit ${e.transmitInterval} ms, receive ${e.receiveInterval} ms, multiplier ${e.detectMultiplier}${extras.length ? `, ${extras.join(', ')}` : ''}`;
    }
    case 'state': {
      const timers = timersText(e);
      return `${at}${e.peer} ${e.from} -> ${e.to} (diag: ${e.diag}; remote diag: ${e.remoteDiag})${timers ? ` ${timers}` : ''}`;
    }
    case 'timers':
      return `${at}${e.peer} timers: ${timersText(e)}`;
    case 'warning':
      return `${at}warning: ${e.message}`;
    case 'stopped':
      return `${at}stopped (exit ${e.status}): ${e.reason}`;
  }
}

/**
 * Why the session is not Up, in one sentence from its counters: nothing received, packets dropped
 * for their TTL or authentication, or the peer's state.
 */
export function notUpText(s: BfdSessionStatus): string {
  const from = `${s.peerAddress} (to ${s.localAddress}${s.interface ? ` on ${s.interface}` : ''}, UDP ${s.listenPort})`;
  if (s.error !== undefined) return s.error;
  if (s.counters.dropped.auth > 0)
    return `${s.counters.dropped.auth} packets from ${s.peerAddress} failed authentication (--auth, --key-id and the key must match the peer's)`;
  if (s.counters.dropped.ttl > 0) {
    const hint = s.multihop
      ? 'more hops away than --minimum-ttl allows'
      : 'not directly connected, or not sending with TTL 255: try --multihop if it is routed';
    return `${s.counters.dropped.ttl} packets from ${s.peerAddress} were dropped for their TTL (${hint})`;
  }
  if (s.counters.packetsIn === 0) {
    const passive = s.profile.passiveMode ? '; we are passive: the peer must be active' : '';
    return `no BFD packets from ${from} (is BFD enabled on the peer for our address, and is the UDP port open?${passive})`;
  }
  if (s.counters.dropped.rejected > 0)
    return `${s.counters.dropped.rejected} packets from ${s.peerAddress} were rejected by the state machine`;
  return `the session is ${s.state}, the peer says ${s.remoteState} (remote diag: ${diagName(s.remoteDiag)})`;
}

/** The message when received TTLs cannot be checked (the addon is missing); `way` says what the user can do. */
export function ttlUncheckedText(reason: string | undefined, way: string): string {
  return (
    `the received TTL cannot be checked here (${reason ?? 'reason unknown'}). RFC 5881 requires dropping single-hop packets ` +
    `that arrive with a TTL below 255, so that packets from farther away cannot keep a session Up. Build the addon, or ${way}`
  );
}
