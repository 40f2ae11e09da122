// BGPPeer: one router to peer with. Field names and defaults follow MetalLB's BGPPeer (peerPort 179,
// holdTime 90s, keepaliveTime holdTime/3 — or holdTime 3 x keepaliveTime when only that is given);
// connectTime is 2s, not MetalLB's 120s (FRR's default): MetalLB's FRR also accepts the router's
// connections, while our sessions are active-only by default, so an attempt whose SYN was lost must be
// restarted soon. connectionMode and the listen fields are ours (active-only sessions by default, so
// no fight over :179 with kube-vip or Cilium).
import { type Address, parseAddress } from './address.js';
import {
  type Fields,
  type ObjectContext,
  checkUnknownFields,
  describe,
  familyName,
  readBoolean,
  readFields,
  readInteger,
  readSecretString,
  readString,
  report,
} from './check.js';
import { formatDuration, parseDuration } from './duration.js';
import { PEER_SPEC_FIELDS } from './fields.js';
import { objectNameProblem, readLabelSelectors } from './labels.js';
import type { BGPPeer, ConnectionMode } from './types.js';

export const PEER_DEFAULTS = {
  peerPort: 179,
  holdTime: 90,
  connectTime: 2,
  connectionMode: 'active',
  ebgpMultiHop: false,
  enableGracefulRestart: false,
  gracefulShutdownWhenUnschedulable: false,
} as const satisfies Partial<BGPPeer>;

const CONNECTION_MODES: readonly ConnectionMode[] = ['active', 'passive', 'both'];
/** RFC 6793: AS_TRANS stands in for a 4-octet AS in 2-octet fields and is not a real AS. */
const AS_TRANS = 23456;
const MAX_ASN = 4294967295;
/** Linux TCP_MD5SIG_MAXKEYLEN. */
const MAX_PASSWORD_BYTES = 80;

/** The peer with defaults filled in, or undefined with problems recorded. */
export function validatePeer(ctx: ObjectContext, spec: Fields): BGPPeer | undefined {
  const before = ctx.problems.length;
  checkUnknownFields(ctx, spec, PEER_SPEC_FIELDS, 'spec');
  const myASN = readAsn(ctx, spec, 'myASN');
  const peerASN = readAsn(ctx, spec, 'peerASN');
  const peerAddressText = readString(ctx, spec, 'peerAddress', 'spec', true);
  const peerAddress = peerAddressText === undefined ? undefined : readAddress(ctx, peerAddressText, 'spec.peerAddress');
  const peerPort = readInteger(ctx, spec, 'peerPort', 'spec', 1, 65535) ?? PEER_DEFAULTS.peerPort;
  const sourceAddress = readAddressField(ctx, spec, 'sourceAddress', peerAddress);
  const timers = readTimers(ctx, spec);
  const connectTime = readSeconds(ctx, spec, 'connectTime', 1, 65535) ?? PEER_DEFAULTS.connectTime;

  const modeValue = spec.connectionMode ?? undefined;
  let connectionMode: ConnectionMode = PEER_DEFAULTS.connectionMode;
  if (modeValue !== undefined) {
    if (CONNECTION_MODES.includes(modeValue as ConnectionMode)) connectionMode = modeValue as ConnectionMode;
    else
      report(ctx, 'spec.connectionMode', `must be one of ${CONNECTION_MODES.join(', ')}, got ${describe(modeValue)}`);
  }
  const listenAddress = readAddressField(ctx, spec, 'listenAddress', peerAddress);
  const listenPort = readInteger(ctx, spec, 'listenPort', 'spec', 1, 65535);
  if (connectionMode === 'active') {
    for (const key of ['listenAddress', 'listenPort'] as const) {
      if (spec[key] !== undefined && spec[key] !== null) {
        report(
          ctx,
          `spec.${key}`,
          `is only used when connectionMode is passive or both, and connectionMode is ${connectionMode}${modeValue === undefined ? ' (the default)' : ''}`,
        );
      }
    }
  }

  // The TCP MD5 key: no problem shows its value (readSecretString), only its type or its length.
  const password = readSecretString(ctx, spec, 'password', 'spec');
  if (password !== undefined) {
    if (/[\r\n]/.test(password)) report(ctx, 'spec.password', 'must not contain line breaks');
    else if (Buffer.byteLength(password) > MAX_PASSWORD_BYTES)
      report(
        ctx,
        'spec.password',
        `is ${Buffer.byteLength(password)} bytes long; a TCP MD5 key is at most ${MAX_PASSWORD_BYTES}`,
      );
  }
  const passwordSecret = readPasswordSecret(ctx, spec);
  if (password !== undefined && passwordSecret !== undefined) {
    report(ctx, 'spec.passwordSecret', 'cannot be used together with spec.password: give the key in one place only');
  }

  const bfdProfile = readString(ctx, spec, 'bfdProfile', 'spec');
  const ebgpMultiHop = readBoolean(ctx, spec, 'ebgpMultiHop', 'spec') ?? PEER_DEFAULTS.ebgpMultiHop;
  if (ebgpMultiHop && myASN !== undefined && myASN === peerASN) {
    report(ctx, 'spec.ebgpMultiHop', `is for eBGP peers, but myASN and peerASN are both ${myASN} (iBGP)`);
  }
  const enableGracefulRestart =
    readBoolean(ctx, spec, 'enableGracefulRestart', 'spec') ?? PEER_DEFAULTS.enableGracefulRestart;
  const gracefulShutdownWhenUnschedulable =
    readBoolean(ctx, spec, 'gracefulShutdownWhenUnschedulable', 'spec') ??
    PEER_DEFAULTS.gracefulShutdownWhenUnschedulable;
  const routerID = readString(ctx, spec, 'routerID', 'spec');
  if (routerID !== undefined) {
    const id = parseAddress(routerID);
    if (id === undefined || id.family !== 4 || id.value === 0n) {
      report(
        ctx,
        'spec.routerID',
        `must be an IPv4 address other than 0.0.0.0 (a BGP identifier is 4 octets), got ${describe(routerID)}`,
      );
    }
  }
  const nodeSelectors = readLabelSelectors(ctx, spec, 'nodeSelectors', 'spec');

  if (
    ctx.problems.length !== before ||
    myASN === undefined ||
    peerASN === undefined ||
    peerAddressText === undefined ||
    timers === undefined
  )
    return undefined;
  const peer: BGPPeer = {
    name: ctx.name,
    myASN,
    peerASN,
    peerAddress: peerAddressText,
    peerPort,
    holdTime: timers.holdTime,
    keepaliveTime: timers.keepaliveTime,
    connectTime,
    connectionMode,
    ebgpMultiHop,
    enableGracefulRestart,
    nodeSelectors,
  };
  if (sourceAddress !== undefined) peer.sourceAddress = sourceAddress;
  if (listenAddress !== undefined) peer.listenAddress = listenAddress;
  if (listenPort !== undefined) peer.listenPort = listenPort;
  if (password !== undefined) peer.password = password;
  if (passwordSecret !== undefined) peer.passwordSecret = passwordSecret;
  if (bfdProfile !== undefined) peer.bfdProfile = bfdProfile;
  if (routerID !== undefined) peer.routerID = routerID;
  if (gracefulShutdownWhenUnschedulable) peer.gracefulShutdownWhenUnschedulable = true;
  return peer;
}

function readAsn(ctx: ObjectContext, spec: Fields, key: string): number | undefined {
  const asn = readInteger(ctx, spec, key, 'spec', 1, MAX_ASN, true, ' (an AS number)');
  if (asn === AS_TRANS) {
    report(
      ctx,
      `spec.${key}`,
      `must not be ${AS_TRANS} (AS_TRANS, RFC 6793: a placeholder for 4-octet AS numbers, not a real AS)`,
    );
    return undefined;
  }
  return asn;
}

function readAddress(ctx: ObjectContext, text: string, at: string): Address | undefined {
  const address = parseAddress(text);
  if (address === undefined) report(ctx, at, `must be an IPv4 or IPv6 address, got ${describe(text)}`);
  return address;
}

/** An optional address field that must be of the peer address's family. */
function readAddressField(
  ctx: ObjectContext,
  spec: Fields,
  key: string,
  peerAddress: Address | undefined,
): string | undefined {
  const text = readString(ctx, spec, key, 'spec');
  if (text === undefined) return undefined;
  const address = readAddress(ctx, text, `spec.${key}`);
  if (address === undefined) return undefined;
  if (peerAddress !== undefined && address.family !== peerAddress.family) {
    report(
      ctx,
      `spec.${key}`,
      `is ${familyName(address.family)} (${text}) but peerAddress is ${familyName(peerAddress.family)}: both must be of the same family`,
    );
    return undefined;
  }
  return text;
}

function readPasswordSecret(ctx: ObjectContext, spec: Fields): BGPPeer['passwordSecret'] | undefined {
  const secret = readFields(ctx, spec, 'passwordSecret', 'spec');
  if (secret === undefined) return undefined;
  checkUnknownFields(ctx, secret, PEER_SPEC_FIELDS.passwordSecret, 'spec.passwordSecret');
  const name = readString(ctx, secret, 'name', 'spec.passwordSecret', true);
  const nameProblem = name === undefined ? undefined : objectNameProblem(name);
  if (nameProblem !== undefined) report(ctx, 'spec.passwordSecret.name', nameProblem);
  const namespace = readString(ctx, secret, 'namespace', 'spec.passwordSecret');
  if (namespace !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(namespace)) {
    report(
      ctx,
      'spec.passwordSecret.namespace',
      `must be a namespace name (lower-case letters, digits and '-', at most 63 characters), got ${describe(namespace)}`,
    );
  }
  if (name === undefined) return undefined;
  return namespace === undefined ? { name } : { name, namespace };
}

/** A duration field in whole seconds within [min, max], or undefined (absent, or recorded). */
function readSeconds(ctx: ObjectContext, spec: Fields, key: string, min: number, max: number): number | undefined {
  const value = spec[key] ?? undefined;
  if (value === undefined) return undefined;
  const at = `spec.${key}`;
  if (typeof value !== 'string') {
    report(ctx, at, `must be a duration string such as "90s" or "1m30s", got ${describe(value)}`);
    return undefined;
  }
  const seconds = parseDuration(value);
  if (typeof seconds === 'string') {
    report(ctx, at, seconds);
    return undefined;
  }
  if (!Number.isInteger(seconds)) {
    report(ctx, at, `must be a whole number of seconds (BGP counts its timers in seconds), got ${describe(value)}`);
    return undefined;
  }
  if (seconds < min || seconds > max) {
    report(
      ctx,
      at,
      `must be from ${formatDuration(min)} to ${formatDuration(max)} (${min}-${max} seconds), got ${describe(value)}`,
    );
    return undefined;
  }
  return seconds;
}

/** holdTime and keepaliveTime with MetalLB's defaults and RFC 4271's rules, or undefined (recorded). */
function readTimers(ctx: ObjectContext, spec: Fields): { holdTime: number; keepaliveTime: number } | undefined {
  const before = ctx.problems.length;
  const hold = readSeconds(ctx, spec, 'holdTime', 0, 65535);
  if (hold !== undefined && hold > 0 && hold < 3) {
    report(
      ctx,
      'spec.holdTime',
      `must be 0 (no keepalives) or at least 3s (RFC 4271 4.2), got ${describe(spec.holdTime)}`,
    );
  }
  const keepalive = readSeconds(ctx, spec, 'keepaliveTime', 0, 65535);
  if (ctx.problems.length !== before) return undefined;
  let holdTime = hold ?? PEER_DEFAULTS.holdTime;
  if (hold === undefined && keepalive !== undefined) {
    // MetalLB: with only keepaliveTime given, the hold time is three keepalives.
    holdTime = keepalive * 3;
    if (holdTime > 65535) {
      report(
        ctx,
        'spec.keepaliveTime',
        `${describe(spec.keepaliveTime)} makes the default holdTime (3 x keepaliveTime) ${holdTime}s, over the 65535s maximum; set holdTime too`,
      );
      return undefined;
    }
  }
  const keepaliveTime = keepalive ?? Math.floor(holdTime / 3);
  if (holdTime === 0 && keepaliveTime > 0) {
    report(
      ctx,
      'spec.keepaliveTime',
      `must be 0 or left out when holdTime is 0 (no keepalives are sent), got ${describe(spec.keepaliveTime)}`,
    );
    return undefined;
  }
  if (holdTime > 0 && keepaliveTime === 0) {
    report(
      ctx,
      'spec.keepaliveTime',
      `must be at least 1s while holdTime is ${formatDuration(holdTime)}, or the peer's hold timer expires`,
    );
    return undefined;
  }
  if (holdTime > 0 && keepaliveTime >= holdTime) {
    report(
      ctx,
      'spec.keepaliveTime',
      `must be shorter than holdTime (${formatDuration(holdTime)}), got ${describe(spec.keepaliveTime)}`,
    );
    return undefined;
  }
  return { holdTime, keepaliveTime };
}
