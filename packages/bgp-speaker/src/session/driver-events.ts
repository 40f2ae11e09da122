// The session driver's translations between the wire and the FSM, as plain functions: a received
// message (or its decode error) to an FSM event, a timer to its expiry event, and the words we log
// when the listen port is taken.
import {
  BgpWireError,
  ERROR_CODE,
  MESSAGE_TYPE,
  decodeMessage,
  decodeUpdatePacked,
  readHeader,
  updateView,
  type CodecContext,
} from '@bgp-announce/bgp-wire';
import type { FsmEvent, TimerName } from './fsm.js';

/** The FSM event each timer's expiry raises. */
export const TIMER_EVENT: Record<TimerName, FsmEvent['type']> = {
  ConnectRetry: 'ConnectRetryTimerExpires',
  Hold: 'HoldTimerExpires',
  Keepalive: 'KeepaliveTimerExpires',
  IdleHold: 'IdleHoldTimerExpires',
};

/**
 * The FSM event for one framed message, decoded with `ctx`; a decode error gives its error event. An
 * UPDATE is decoded with its prefixes packed (`packed`); `update` is its string form, built only when
 * read (updateView).
 */
export function messageEvent(bytes: Uint8Array, ctx: CodecContext): FsmEvent {
  try {
    if (bytes.length >= 19 && bytes[18] === MESSAGE_TYPE.UPDATE) {
      const { length } = readHeader(bytes, 0, ctx.maxMessageLength);
      if (bytes.length >= length) {
        const packed = decodeUpdatePacked(bytes, 0, length, ctx);
        return { type: 'UpdateMsg', update: updateView(packed), packed };
      }
    }
    const msg = decodeMessage(bytes, ctx);
    switch (msg.type) {
      case 'OPEN':
        return { type: 'BGPOpen', open: msg };
      case 'KEEPALIVE':
        return { type: 'KeepAliveMsg' };
      case 'UPDATE':
        return { type: 'UpdateMsg', update: msg };
      case 'NOTIFICATION':
        return { type: 'NotifMsg', notification: msg };
      case 'ROUTE-REFRESH':
        return { type: 'RouteRefreshMsg', message: msg };
    }
  } catch (err) {
    if (!(err instanceof BgpWireError)) throw err;
    return wireErrorEvent(err);
  }
}

/** The FSM event for a decode error: by the NOTIFICATION code it asks for. */
export function wireErrorEvent(error: BgpWireError): FsmEvent {
  if (error.code === ERROR_CODE.OPEN_MESSAGE) return { type: 'BGPOpenMsgErr', error };
  if (error.code === ERROR_CODE.UPDATE_MESSAGE) return { type: 'UpdateMsgErr', error };
  // Header errors, and anything else (e.g. ROUTE-REFRESH 7/1): send the NOTIFICATION and close.
  return { type: 'BGPHeaderErr', error };
}

/** The message to log when the listen address is taken. */
export function addressInUseMessage(host: string, port: number): string {
  const where = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return (
    `cannot listen on ${where}: address in use. Another BGP speaker on this node (kube-vip, Cilium's BGP ` +
    `control plane, MetalLB, FRR, BIRD) may hold it; carrying on active-only (connecting out, not listening)`
  );
}
