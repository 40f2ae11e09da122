// Graceful restart (RFC 4724, with RFC 8538's N bit) as plain decisions over negotiated sessions:
// which of a peer's routes to keep (stale) when its session ends, which to drop when it comes back,
// and how we leave when we are the one restarting. The Speaker carries them out with its timers.
import {
  CEASE_SUBCODE,
  ERROR_CODE,
  encodeMessage,
  familyOf,
  toHex,
  type Family,
  type NotificationMessage,
} from '@bgp-announce/bgp-wire';
import type { PeerConfig } from './config.js';
import type { DownReason } from './down-reason.js';
import type { NegotiatedSession } from './open-policy.js';

/** What to keep of a peer's routes after its session went down. */
export interface Retention {
  /** Families whose routes stay in the Adj-RIB-In, marked stale. */
  families: Family[];
  /** How long to keep them if the session does not come back (the peer's Restart Time), ms. */
  restartTimeMs: number;
}

/** Both ends set the N bit (RFC 8538): NOTIFICATIONs other than a Hard Reset keep the routes too. */
export function notificationGraceful(config: PeerConfig, negotiated: NegotiatedSession): boolean {
  return (negotiated.gracefulRestart?.notification ?? false) && (config.gracefulRestart?.notification ?? true);
}

/**
 * RFC 4724 4.2 (receiving speaker): when an Established session ends and the peer advertised graceful
 * restart with a non-zero Restart Time, its routes of the families it listed are kept as stale; a
 * NOTIFICATION ends that, unless both ends set the N bit and it is not a Cease Hard Reset (RFC 8538).
 * Our own operator stop never keeps them. Returns undefined when nothing is kept.
 */
export function retentionOnDown(
  config: PeerConfig,
  negotiated: NegotiatedSession | undefined,
  reason: DownReason,
): Retention | undefined {
  const gr = negotiated?.gracefulRestart;
  if (!negotiated || !gr || gr.restartTime === 0 || reason.kind === 'manual-stop') return undefined;
  const n = reason.notification;
  if (
    n &&
    (!notificationGraceful(config, negotiated) ||
      (n.code === ERROR_CODE.CEASE && n.subcode === CEASE_SUBCODE.HARD_RESET))
  )
    return undefined;
  const families = grFamilies(gr.families).filter((f) => negotiated.families.includes(f));
  return families.length === 0 ? undefined : { families, restartTimeMs: gr.restartTime * 1000 };
}

/**
 * RFC 4724 4.2: once the session is back, stale routes of a family the peer no longer lists in its
 * graceful restart capability, or lists without the F bit (it lost its forwarding state), or of every
 * family when the capability is gone, are removed at once. Returns those families among `stale`.
 */
export function familiesToFlush(stale: readonly Family[], negotiated: NegotiatedSession): Family[] {
  const gr = negotiated.gracefulRestart;
  if (!gr) return [...stale];
  const kept = new Set(grFamilies(gr.families.filter((f) => f.forwardingState)));
  return stale.filter((f) => !kept.has(f) || !negotiated.families.includes(f));
}

/** How we end a session when we are about to restart (restarting speaker, RFC 4724 4.1). */
export type RestartLeave =
  /** Both set the N bit: a Cease (not Hard Reset) keeps our routes at the peer (RFC 8538). */
  | 'cease'
  /** Close TCP without a NOTIFICATION: the peer keeps our routes for our Restart Time. */
  | 'close'
  /** The peer does not do graceful restart with us: a normal stop (its routes from us go). */
  | 'stop';

/** How to leave the session for a restart so the peer keeps our routes, if it will. */
export function restartLeave(config: PeerConfig, negotiated: NegotiatedSession | undefined): RestartLeave {
  if (!negotiated?.gracefulRestart || !config.gracefulRestart || config.gracefulRestart.restartTime === 0)
    return 'stop';
  return notificationGraceful(config, negotiated) ? 'cease' : 'close';
}

/** The Cease subcode for a restart leave with the N bit: Administrative Reset (4), never Hard Reset. */
export const RESTART_CEASE_SUBCODE = CEASE_SUBCODE.ADMINISTRATIVE_RESET;

/**
 * Cease subcodes after which the peer must not keep our routes: RFC 8538 5 says to send them as a Hard
 * Reset when the N bit is in use (Maximum Number of Prefixes Reached, Administrative Shutdown, Peer
 * De-configured); the others (Administrative Reset, Other Configuration Change, BFD Down, ...) may
 * leave our routes stale at the peer until we are back.
 */
const HARD_RESET_SUBCODES: readonly number[] = [
  CEASE_SUBCODE.MAXIMUM_PREFIXES_REACHED,
  CEASE_SUBCODE.ADMINISTRATIVE_SHUTDOWN,
  CEASE_SUBCODE.PEER_DECONFIGURED,
];

/**
 * The NOTIFICATION to send to end an Established session: a Cease of those subcodes is wrapped in a
 * Cease Hard Reset (RFC 8538 3: its data is the original code, subcode and data) when both ends set
 * the N bit, so the peer drops our routes instead of keeping them stale; anything else as it is.
 */
export function withHardReset(
  config: PeerConfig,
  negotiated: NegotiatedSession | undefined,
  notification: NotificationMessage,
): NotificationMessage {
  if (!negotiated || !notificationGraceful(config, negotiated)) return notification;
  if (notification.code !== ERROR_CODE.CEASE || !HARD_RESET_SUBCODES.includes(notification.subcode))
    return notification;
  const inner = encodeMessage(notification).subarray(19); // code, subcode, data
  return { type: 'NOTIFICATION', code: ERROR_CODE.CEASE, subcode: CEASE_SUBCODE.HARD_RESET, data: toHex(inner) };
}

function grFamilies(list: readonly { afi: number; safi: number }[]): Family[] {
  const out: Family[] = [];
  for (const { afi, safi } of list) {
    const f = familyOf(afi, safi);
    if (f !== undefined && !out.includes(f)) out.push(f);
  }
  return out;
}
