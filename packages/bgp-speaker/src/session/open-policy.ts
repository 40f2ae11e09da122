// Our OPEN, and the checks of the peer's OPEN (RFC 4271 6.2, RFC 5492, RFC 6793, RFC 6286): either the
// session parameters both ends agreed on, or the NOTIFICATION to send before closing.
import {
  AS_TRANS,
  BGP_VERSION,
  CEASE_SUBCODE,
  ERROR_CODE,
  OPEN_SUBCODE,
  capabilityEncodingLength,
  familyOf,
  findCapabilities,
  findCapability,
  toHex,
  writeCapability,
  type AddPathDirection,
  type Capability,
  type CodecContext,
  type Family,
  type NotificationMessage,
  type OpenMessage,
} from '@bgp-announce/bgp-wire';
import type { PeerConfig } from './config.js';

/** AFI/SAFI of the families we decode. */
const AFI_SAFI: Record<Family, { afi: number; safi: number }> = {
  'ipv4-unicast': { afi: 1, safi: 1 },
  'ipv6-unicast': { afi: 2, safi: 1 },
};

/** The peer's graceful restart capability (RFC 4724), when both ends advertised one. */
export interface PeerGracefulRestart {
  restartTime: number;
  /** R bit: the peer has just restarted. */
  restarting: boolean;
  /** N bit (RFC 8538). */
  notification: boolean;
  /** Families the peer lists; forwardingState is its F bit. */
  families: { afi: number; safi: number; forwardingState: boolean }[];
}

/** What the two OPENs agreed on. Times in seconds. */
export interface NegotiatedSession {
  peerAs: number;
  peerBgpId: string;
  ibgp: boolean;
  /** min(ours, theirs); 0 means no hold timer and no keepalives. */
  holdTime: number;
  /** Seconds between our KEEPALIVEs (before jitter): min(configured, holdTime / 3), at least 1; 0 with holdTime 0. */
  keepaliveTime: number;
  /** Both sent the 4-octet AS capability (RFC 6793). */
  fourOctetAs: boolean;
  /** Multiprotocol intersection (a peer without the capability has implicitly IPv4 unicast). */
  families: Family[];
  /** ADD-PATH (RFC 7911): families whose NLRI we receive, and send, with path identifiers. */
  addPath: { receive: Family[]; send: Family[] };
  routeRefresh: boolean;
  enhancedRouteRefresh: boolean;
  /** RFC 8654, both ends. */
  extendedMessage: boolean;
  /** 65535 with extended messages, else 4096. */
  maxMessageLength: number;
  /** RFC 8950: families both accept with an IPv6 next hop. */
  extendedNextHop: Family[];
  gracefulRestart?: PeerGracefulRestart;
  /** Codec contexts for what we decode from the peer and what we encode for it. */
  receive: CodecContext;
  send: CodecContext;
}

/** The peer's OPEN accepted, or refused with the NOTIFICATION to send and a sentence for logs. */
export type OpenCheck =
  | { ok: true; negotiated: NegotiatedSession }
  | { ok: false; notification: NotificationMessage; reason: string };

/** Our capabilities, in the order we send them. */
function ourCapabilities(config: PeerConfig): Capability[] {
  const caps: Capability[] = config.families.map((f) => ({ code: 1, name: 'multiprotocol', ...AFI_SAFI[f] }));
  if (config.routeRefresh) caps.push({ code: 2, name: 'route-refresh' });
  if (config.enhancedRouteRefresh) caps.push({ code: 70, name: 'enhanced-route-refresh' });
  caps.push({ code: 65, name: 'four-octet-as', asn: config.localAs });
  if (config.extendedMessage) caps.push({ code: 6, name: 'extended-message' });
  if (config.extendedNextHop && config.families.includes('ipv4-unicast')) {
    caps.push({ code: 5, name: 'extended-next-hop', families: [{ afi: 1, safi: 1, nextHopAfi: 2 }] });
  }
  const addPath = config.families.flatMap((f) => {
    const dir = config.addPath[f];
    return dir === undefined ? [] : [{ ...AFI_SAFI[f], sendReceive: dir }];
  });
  if (addPath.length > 0) caps.push({ code: 69, name: 'add-path', families: addPath });
  const gr = config.gracefulRestart;
  if (gr) {
    caps.push({
      code: 64,
      name: 'graceful-restart',
      restarting: gr.restarting ?? false,
      notification: gr.notification ?? true,
      restartTime: gr.restartTime,
      families: (gr.families ?? config.families).map((f) => ({
        ...AFI_SAFI[f],
        forwardingState: gr.forwardingState?.includes(f) ?? false,
      })),
    });
  }
  return caps;
}

/** The OPEN we send: version 4, My AS (AS_TRANS above 65535), our hold time, identifier and capabilities. */
export function buildOpen(config: PeerConfig): OpenMessage {
  return {
    type: 'OPEN',
    version: BGP_VERSION,
    myAs: config.localAs > 0xffff ? AS_TRANS : config.localAs,
    holdTime: config.holdTime,
    bgpId: config.bgpId,
    capabilities: ourCapabilities(config),
  };
}

function refuse(subcode: number, reason: string, data?: Uint8Array): OpenCheck {
  const notification: NotificationMessage = { type: 'NOTIFICATION', code: ERROR_CODE.OPEN_MESSAGE, subcode };
  if (data && data.length > 0) notification.data = toHex(data);
  return { ok: false, notification, reason };
}

function capabilityBytes(caps: Capability[]): Uint8Array {
  const out = new Uint8Array(caps.reduce((n, c) => n + capabilityEncodingLength(c), 0));
  let at = 0;
  for (const cap of caps) at = writeCapability(out, at, cap);
  return out;
}

function uint(value: number, bytes: 2 | 4): Uint8Array {
  const out = new Uint8Array(bytes);
  const view = new DataView(out.buffer);
  if (bytes === 4) view.setUint32(0, value);
  else view.setUint16(0, value);
  return out;
}

/** RFC 7911: we receive with path ids when we asked to receive and the peer offers to send. */
function canReceive(ours: AddPathDirection | undefined, theirs: AddPathDirection | number | undefined): boolean {
  return (ours === 'receive' || ours === 'both') && (theirs === 'send' || theirs === 'both');
}
function canSend(ours: AddPathDirection | undefined, theirs: AddPathDirection | number | undefined): boolean {
  return (ours === 'send' || ours === 'both') && (theirs === 'receive' || theirs === 'both');
}

/**
 * Checks the peer's OPEN against our configuration in the order of RFC 4271 6.2: version (2/1, data
 * 0x0004), peer AS (2/2, data the peer's AS as sent), hold time (2/6), BGP identifier (2/3: zero, or
 * equal to ours on iBGP), optional parameters other than capabilities (2/4), required capabilities
 * and a common family (2/7, data our capability). Returns the negotiated parameters or the refusal.
 */
export function checkOpen(config: PeerConfig, open: OpenMessage): OpenCheck {
  if (open.version !== BGP_VERSION) {
    return refuse(
      OPEN_SUBCODE.UNSUPPORTED_VERSION,
      `peer speaks BGP version ${open.version}, we speak 4`,
      uint(BGP_VERSION, 2),
    );
  }

  const as4 = findCapability(open, 65);
  if (as4) {
    if (as4.asn !== config.peerAs)
      return refuse(OPEN_SUBCODE.BAD_PEER_AS, `peer is AS ${as4.asn}, expected AS ${config.peerAs}`, uint(as4.asn, 4));
  } else if (open.myAs !== config.peerAs || open.myAs === AS_TRANS) {
    const why = open.myAs === AS_TRANS ? ' without the 4-octet AS capability' : '';
    return refuse(
      OPEN_SUBCODE.BAD_PEER_AS,
      `peer is AS ${open.myAs}${why}, expected AS ${config.peerAs}`,
      uint(open.myAs, 2),
    );
  }
  const peerAs = as4 ? as4.asn : open.myAs;
  const ibgp = peerAs === config.localAs;

  if (open.holdTime === 1 || open.holdTime === 2 || (open.holdTime !== 0 && open.holdTime < config.minHoldTime)) {
    return refuse(
      OPEN_SUBCODE.UNACCEPTABLE_HOLD_TIME,
      `peer hold time ${open.holdTime} s is below the minimum of ${config.minHoldTime} s`,
    );
  }

  if (open.bgpId === '0.0.0.0') return refuse(OPEN_SUBCODE.BAD_BGP_IDENTIFIER, 'peer BGP identifier is 0.0.0.0');
  if (ibgp && open.bgpId === config.bgpId) {
    return refuse(OPEN_SUBCODE.BAD_BGP_IDENTIFIER, `iBGP peer uses our own BGP identifier ${config.bgpId}`);
  }

  const other = open.layout?.otherParameters;
  if (other && other.length > 0) {
    return refuse(
      OPEN_SUBCODE.UNSUPPORTED_OPTIONAL_PARAMETER,
      `peer sent optional parameter type ${other[0]!.type}, only capabilities (2) are supported`,
    );
  }

  const ours = ourCapabilities(config);
  for (const code of config.requiredCapabilities) {
    if (!open.capabilities.some((c) => c.code === code)) {
      const mine = ours.filter((c) => c.code === code);
      const data = mine.length > 0 ? capabilityBytes(mine) : Uint8Array.of(code, 0);
      return refuse(OPEN_SUBCODE.UNSUPPORTED_CAPABILITY, `peer did not send required capability ${code}`, data);
    }
  }

  const mp = findCapabilities(open, 1);
  const peerFamilies: (Family | undefined)[] =
    mp.length === 0 ? ['ipv4-unicast'] : mp.map((c) => familyOf(c.afi, c.safi));
  const families = config.families.filter((f) => peerFamilies.includes(f));
  if (families.length === 0) {
    const mine = ours.filter((c) => c.code === 1);
    return refuse(
      OPEN_SUBCODE.UNSUPPORTED_CAPABILITY,
      `no address family in common (we offer ${config.families.join(', ')})`,
      capabilityBytes(mine),
    );
  }

  const holdTime = Math.min(config.holdTime, open.holdTime);
  const keepaliveTime =
    holdTime === 0 ? 0 : Math.max(1, Math.min(config.keepaliveTime ?? Infinity, Math.floor(holdTime / 3)));
  const fourOctetAs = as4 !== undefined;
  const extendedMessage = config.extendedMessage && findCapability(open, 6) !== undefined;
  const maxMessageLength = extendedMessage ? 65535 : 4096;

  const peerAddPath = findCapabilities(open, 69).flatMap((c) => c.families);
  const peerDir = (f: Family): AddPathDirection | number | undefined =>
    peerAddPath.find((e) => e.afi === AFI_SAFI[f].afi && e.safi === AFI_SAFI[f].safi)?.sendReceive;
  const addPath = {
    receive: families.filter((f) => canReceive(config.addPath[f], peerDir(f))),
    send: families.filter((f) => canSend(config.addPath[f], peerDir(f))),
  };

  const peerEnh = findCapabilities(open, 5).flatMap((c) => c.families);
  const extendedNextHop: Family[] =
    config.extendedNextHop &&
    families.includes('ipv4-unicast') &&
    peerEnh.some((e) => e.afi === 1 && e.safi === 1 && e.nextHopAfi === 2)
      ? ['ipv4-unicast']
      : [];

  const negotiated: NegotiatedSession = {
    peerAs,
    peerBgpId: open.bgpId,
    ibgp,
    holdTime,
    keepaliveTime,
    fourOctetAs,
    families,
    addPath,
    routeRefresh: config.routeRefresh && open.capabilities.some((c) => c.code === 2 || c.code === 128),
    enhancedRouteRefresh: config.enhancedRouteRefresh && findCapability(open, 70) !== undefined,
    extendedMessage,
    maxMessageLength,
    extendedNextHop,
    receive: { fourOctetAs, addPath: addPath.receive, maxMessageLength, ibgp },
    send: { fourOctetAs, addPath: addPath.send, maxMessageLength, ibgp },
  };
  const gr = findCapability(open, 64);
  if (gr && config.gracefulRestart) {
    negotiated.gracefulRestart = {
      restartTime: gr.restartTime,
      restarting: gr.restarting,
      notification: gr.notification,
      families: gr.families.map((f) => ({ afi: f.afi, safi: f.safi, forwardingState: f.forwardingState })),
    };
  }
  return { ok: true, negotiated };
}

/** A Cease NOTIFICATION (RFC 4486 subcodes; RFC 9003 shutdown communication for subcodes 2 and 4). */
export function cease(
  subcode: number = CEASE_SUBCODE.ADMINISTRATIVE_SHUTDOWN,
  shutdownMessage?: string,
): NotificationMessage {
  const n: NotificationMessage = { type: 'NOTIFICATION', code: ERROR_CODE.CEASE, subcode };
  if (shutdownMessage !== undefined && (subcode === 2 || subcode === 4)) n.shutdownMessage = shutdownMessage;
  return n;
}
