// Per-peer session configuration: what we offer in our OPEN, what we require of the peer's, and the
// FSM's timers and connection mode. Plain data; `peerConfig` fills in the defaults.
import { isIpv4, type AddPathDirection, type Family } from '@bgp-announce/bgp-wire';

/** Who opens the TCP connection: we connect out only (default), we listen only, or both. */
export type ConnectionMode = 'active' | 'passive' | 'both';

/** Graceful restart (RFC 4724) as we advertise it. */
export interface GracefulRestartConfig {
  /** Seconds the peer should keep our routes while we restart, 0-4095. */
  restartTime: number;
  /** R bit: we have just restarted (set on the first session after a restart). Default false. */
  restarting?: boolean;
  /** N bit (RFC 8538): graceful restart applies to NOTIFICATIONs too. Default true. */
  notification?: boolean;
  /** Families listed in the capability (the peer keeps our routes of these). Default: all our families. */
  families?: Family[];
  /** Of those, the ones whose forwarding state we preserve across a restart (F bit set). Default none. */
  forwardingState?: Family[];
  /**
   * Receiving side: after a restarted peer is back, how long its stale routes may wait for its
   * End-of-RIB before they are removed anyway (seconds). Default 360.
   */
  stalePathTime?: number;
}

/** Everything a session needs to know about its peer. Times are in seconds, as in the RFCs. */
export interface PeerConfig {
  /** Our AS (1-4294967295). Sent as AS_TRANS in My AS when it needs 4 octets (RFC 6793). */
  localAs: number;
  /** The AS the peer must be in; equal to localAs makes the session iBGP. */
  peerAs: number;
  /** Our BGP identifier, dotted quad, not 0.0.0.0. */
  bgpId: string;
  /** Hold time we propose: 0 (no keepalives) or 3-65535. Default 90. */
  holdTime: number;
  /** Keepalive interval we want; the negotiated one is min(this, holdTime / 3). Default holdTime / 3. */
  keepaliveTime?: number;
  /** The smallest non-zero hold time we accept from the peer (RFC 4271 allows refusing small ones). Default 3. */
  minHoldTime: number;
  /**
   * How long one outbound connection attempt may take before it is dropped and a fresh one starts
   * (RFC 4271's ConnectRetryTimer, jittered to 75-100 %). Default 2: the RFC suggests 120, but a
   * session that only connects out (the default mode) has no other way back, and a SYN lost while a
   * link was down would otherwise wait for the kernel's own retransmissions (1, 3, 7, 15 ... s).
   */
  connectRetryTime: number;
  /** RFC 4271 8.2.2: the large hold timer while waiting for the peer's OPEN. Default 240. */
  openHoldTime: number;
  /** First back-off after a protocol failure (IdleHoldTimer); doubles per consecutive protocol failure. Default 1. */
  idleHoldTime: number;
  /** Cap of the protocol back-off. Default 120. */
  maxIdleHoldTime: number;
  /** A session that stayed Established this long resets the protocol back-off when it ends. Default 60. */
  stableTime: number;
  /**
   * First pause after a transport failure (refused, unreachable, reset, hold timer, BFD down, the
   * peer restarting), jittered to 75-100 %; doubles per consecutive transport failure. Default 0.25.
   */
  reconnectTime: number;
  /** Cap of the transport pause; reached again from reconnectTime once a session is Established. Default 1. */
  maxReconnectTime: number;
  /** Default 'active': we connect out and never accept (no listener on :179 needed). */
  mode: ConnectionMode;
  /** Families we offer with the multiprotocol capability. Default ['ipv4-unicast']. */
  families: Family[];
  /** ADD-PATH (RFC 7911) we offer, per family. Default none. */
  addPath: Partial<Record<Family, AddPathDirection>>;
  /** Default true (we answer ROUTE-REFRESH by re-sending the Adj-RIB-Out). */
  routeRefresh: boolean;
  /** RFC 7313. Default true. */
  enhancedRouteRefresh: boolean;
  /** RFC 8654 messages up to 65535 bytes. Default true. */
  extendedMessage: boolean;
  /** RFC 8950: IPv4 unicast NLRI with IPv6 next hops. Default false. */
  extendedNextHop: boolean;
  /** Advertise graceful restart (RFC 4724); absent: not advertised. */
  gracefulRestart?: GracefulRestartConfig;
  /** Capability codes the peer must send, or we refuse it with 2/7 Unsupported Capability. Default none. */
  requiredCapabilities: number[];
}

/** What callers must give; everything else has a default. */
export type PeerConfigInput = Pick<PeerConfig, 'localAs' | 'peerAs' | 'bgpId'> & Partial<PeerConfig>;

/** The configuration with defaults filled in. Throws RangeError for values the RFCs do not allow. */
export function peerConfig(input: PeerConfigInput): PeerConfig {
  const config: PeerConfig = {
    holdTime: 90,
    minHoldTime: 3,
    connectRetryTime: 2,
    openHoldTime: 240,
    idleHoldTime: 1,
    maxIdleHoldTime: 120,
    stableTime: 60,
    reconnectTime: 0.25,
    maxReconnectTime: 1,
    mode: 'active',
    families: ['ipv4-unicast'],
    addPath: {},
    routeRefresh: true,
    enhancedRouteRefresh: true,
    extendedMessage: true,
    extendedNextHop: false,
    requiredCapabilities: [],
    ...input,
  };
  for (const [name, value, min, max] of [
    ['localAs', config.localAs, 1, 0xffffffff],
    ['peerAs', config.peerAs, 1, 0xffffffff],
    ['holdTime', config.holdTime, 0, 0xffff],
    ['minHoldTime', config.minHoldTime, 3, 0xffff],
    ['connectRetryTime', config.connectRetryTime, 1, 0xffff],
    ['openHoldTime', config.openHoldTime, 1, 0xffff],
    ['idleHoldTime', config.idleHoldTime, 0, 0xffff],
    ['maxIdleHoldTime', config.maxIdleHoldTime, 0, 0xffff],
    ['stableTime', config.stableTime, 0, 0xffffffff],
    ['reconnectTime', config.reconnectTime, 0, 0xffff],
    ['maxReconnectTime', config.maxReconnectTime, 0, 0xffff],
  ] as const) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > max) {
      throw new RangeError(`peer config ${name} ${String(value)} is outside ${min}-${max}`);
    }
  }
  if (config.holdTime === 1 || config.holdTime === 2) {
    throw new RangeError(`peer config holdTime ${config.holdTime} is not allowed (0 or at least 3, RFC 4271 4.2)`);
  }
  const gr = config.gracefulRestart;
  if (gr !== undefined) {
    if (!Number.isInteger(gr.restartTime) || gr.restartTime < 0 || gr.restartTime > 4095) {
      throw new RangeError(
        `peer config gracefulRestart.restartTime ${String(gr.restartTime)} is outside 0-4095 (RFC 4724: 12 bits)`,
      );
    }
    if (gr.stalePathTime !== undefined && !(gr.stalePathTime >= 1 && gr.stalePathTime <= 0xffff)) {
      throw new RangeError(`peer config gracefulRestart.stalePathTime ${String(gr.stalePathTime)} is outside 1-65535`);
    }
  }
  if (config.keepaliveTime !== undefined && !(config.keepaliveTime >= 1)) {
    throw new RangeError(`peer config keepaliveTime ${config.keepaliveTime} must be at least 1`);
  }
  if (typeof config.bgpId !== 'string' || !isIpv4(config.bgpId) || config.bgpId === '0.0.0.0') {
    throw new RangeError(`peer config bgpId ${JSON.stringify(config.bgpId)} must be a non-zero dotted quad`);
  }
  return config;
}
