// Which pause a failed session (or attempt) takes before the next try (fsm.ts): a transport failure
// comes back after a short pause, a protocol failure backs off. The line is drawn by who is wrong:
// - transport: nobody is misconfigured, the path or the peer's process was away (connection refused,
//   unreachable, reset or timed out, our hold timer, BFD down, and the NOTIFICATIONs a peer sends when
//   it restarts, is reset or reconfigured, or its hold timer ran out);
// - protocol: one side does not accept the other (OPEN errors such as a bad AS, UPDATE and header
//   errors, FSM errors, maximum prefixes, Connection Rejected), which retrying fast cannot fix.
import { CEASE_SUBCODE, ERROR_CODE, type NotificationMessage } from '@bgp-announce/bgp-wire';

export type FailureKind = 'transport' | 'protocol';

/** Cease subcodes a peer sends when it goes away or resets the session on purpose (RFC 4486, 9384). */
const TRANSPORT_CEASES: ReadonlySet<number> = new Set([
  CEASE_SUBCODE.ADMINISTRATIVE_SHUTDOWN,
  CEASE_SUBCODE.PEER_DECONFIGURED,
  CEASE_SUBCODE.ADMINISTRATIVE_RESET,
  CEASE_SUBCODE.OTHER_CONFIGURATION_CHANGE,
  CEASE_SUBCODE.CONNECTION_COLLISION_RESOLUTION,
  CEASE_SUBCODE.OUT_OF_RESOURCES,
  CEASE_SUBCODE.BFD_DOWN,
]);

/**
 * The kind of failure a NOTIFICATION (sent or received) ends a session with. A Hard Reset (RFC 8538)
 * is judged by the NOTIFICATION it carries in its data (code and subcode in its first two octets).
 */
export function notificationFailureKind(n: Pick<NotificationMessage, 'code' | 'subcode' | 'data'>): FailureKind {
  if (n.code === ERROR_CODE.HOLD_TIMER_EXPIRED) return 'transport';
  if (n.code !== ERROR_CODE.CEASE) return 'protocol';
  if (n.subcode === CEASE_SUBCODE.HARD_RESET) {
    const inner = /^([0-9a-f]{2})([0-9a-f]{2})/i.exec(n.data ?? '');
    if (inner === null) return 'protocol';
    const code = Number.parseInt(inner[1]!, 16);
    const subcode = Number.parseInt(inner[2]!, 16);
    return code === ERROR_CODE.CEASE && subcode === CEASE_SUBCODE.HARD_RESET
      ? 'protocol'
      : notificationFailureKind({ code, subcode });
  }
  return TRANSPORT_CEASES.has(n.subcode) ? 'transport' : 'protocol';
}

/** The kind of an AutomaticStop with this Cease subcode (BFD down is the path; maximum prefixes is not). */
export function automaticStopFailureKind(subcode: number): FailureKind {
  return subcode === CEASE_SUBCODE.BFD_DOWN ? 'transport' : 'protocol';
}
