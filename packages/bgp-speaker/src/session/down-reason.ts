// Why a session (or an attempt at one) ended: the FSM produces it, graceful restart decides on it, the
// driver and the Speaker report it. Types only, apart from both so neither imports the other for them.
import type { NotificationMessage } from '@bgp-announce/bgp-wire';

/** Why a session (or an attempt at one) ended. */
export interface DownReason {
  kind: 'manual-stop' | 'notification-sent' | 'notification-received' | 'connection-failed';
  message: string;
  notification?: NotificationMessage;
  /** For a failed TCP connection: the socket's error. */
  socketError?: SocketError;
}

/** A socket error as the I/O edge saw it: errno code (ECONNREFUSED, ...) and Node's message. */
export interface SocketError {
  code?: string;
  message: string;
}
