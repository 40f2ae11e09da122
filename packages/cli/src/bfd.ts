// `bgp-announce bfd`: the command line turned into a BFD session's
// options (MetalLB-style profile, intervals in milliseconds) and what the run waits for. Pure: strings
// in, a plan out, or a UsageError (exit status 2) whose message names the option. bfd-run.ts does the I/O.
import { isIpv4 } from '@bgp-announce/bgp-wire';
import {
  BFD_AUTH_TYPE,
  authKeyProblem,
  bfdProfile,
  type BfdAuthOptions,
  type BfdAuthType,
  type BfdProfile,
  type BfdSessionOptions,
} from '@bgp-announce/bfd';
import { UsageError, parseAddress, parseInteger } from './options.js';

/** The options of `bgp-announce bfd` as commander hands them over. */
export interface BfdCommandOptions {
  peer?: string;
  localAddress?: string;
  interface?: string;
  multihop?: boolean;
  interval?: string;
  multiplier?: string;
  receiveInterval?: string;
  transmitInterval?: string;
  passive?: boolean;
  minimumTtl?: string;
  auth?: string;
  keyId?: string;
  key?: string;
  allowUncheckedTtl?: boolean;
  until?: string;
  timeout?: string;
  json?: boolean;
}

/** When the run ends by itself (besides SIGINT/SIGTERM, which always end it with status 0). */
export type BfdUntil = { kind: 'signal' } | { kind: 'up' } | { kind: 'time'; ms: number };

/** The session as the engine takes it, the local address still to be found when not given. */
export type BfdPlanSession = Omit<BfdSessionOptions, 'localAddress' | 'profile'> & {
  localAddress?: string;
  profile: BfdProfile;
};

/** Everything runBfd needs. */
export interface BfdPlan {
  session: BfdPlanSession;
  until: BfdUntil;
  /** With --until up: give up when not Up this long after start; 0: never. */
  upTimeoutMs: number;
  /** Run on Node's dgram (no received-TTL check) when the addon is missing. */
  allowUncheckedTtl: boolean;
  json: boolean;
}

/** Environment variable read for the BFD authentication key when --key is absent. */
export const BFD_KEY_ENV = 'BGP_ANNOUNCE_BFD_KEY';

/** The profile name the command line's settings go under. */
export const COMMAND_LINE_PROFILE = 'command-line';

const AUTH_TYPES = Object.keys(BFD_AUTH_TYPE) as BfdAuthType[];
const DEFAULT_UP_TIMEOUT_S = 30;
const INTERVAL_WHAT = 'a number of milliseconds 10-60000';

/** An interval option in milliseconds (MetalLB's range, 10-60000). */
export function parseIntervalMs(text: string, option: string): number {
  return parseInteger(text, option, 10, 60000, INTERVAL_WHAT);
}

/** A Detect Mult option (MetalLB's range, 2-255). */
export function parseMultiplier(text: string, option: string): number {
  return parseInteger(text, option, 2, 255, 'a whole number 2-255');
}

/** --until for bfd: "up" or a number of seconds (decimals allowed). */
export function parseBfdUntil(text: string | undefined): BfdUntil {
  if (text === undefined) return { kind: 'signal' };
  if (text === 'up') return { kind: 'up' };
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0 && seconds <= 31_536_000))
    throw new UsageError(`--until must be up or a number of seconds, got ${JSON.stringify(text)}`);
  return { kind: 'time', ms: Math.round(seconds * 1000) };
}

/** An address with an optional zone ("fe80::2%eth0"): canonical address and the zone. */
function parseZonedAddress(text: string, option: string): { address: string; zone: string | undefined } {
  const at = text.indexOf('%');
  const zone = at < 0 ? undefined : text.slice(at + 1);
  if (zone !== undefined && !/^[^\s/%]{1,15}$/.test(zone))
    throw new UsageError(`${option}: the zone after % must be a network device name, got ${JSON.stringify(text)}`);
  return { address: parseAddress(at < 0 ? text : text.slice(0, at), option), zone };
}

const isLinkLocal = (address: string): boolean => /^fe[89ab]/i.test(address);

/** The authentication key: --auth, --key-id, and --key or BGP_ANNOUNCE_BFD_KEY. Never puts the key in a message. */
function parseAuth(o: BfdCommandOptions, env: Record<string, string | undefined>): BfdAuthOptions | undefined {
  if (o.auth === undefined) {
    if (o.key !== undefined) throw new UsageError('--key needs --auth TYPE');
    if (o.keyId !== undefined) throw new UsageError('--key-id needs --auth TYPE');
    return undefined;
  }
  const type = o.auth as BfdAuthType;
  if (!AUTH_TYPES.includes(type))
    throw new UsageError(`--auth must be one of ${AUTH_TYPES.join(', ')}, got ${JSON.stringify(o.auth)}`);
  const keyId = o.keyId === undefined ? 1 : parseInteger(o.keyId, '--key-id', 0, 255);
  const secret = o.key ?? env[BFD_KEY_ENV];
  const from = o.key !== undefined ? '--key' : BFD_KEY_ENV;
  if (secret === undefined)
    throw new UsageError(
      `--auth ${type} needs a key: --key K, or the environment variable ${BFD_KEY_ENV} (keeps it out of ps)`,
    );
  const problem = authKeyProblem({ type, keyId, secret: new Uint8Array(Buffer.from(secret, 'utf8')) });
  if (problem !== undefined) throw new UsageError(`${from}: ${problem}`);
  return { type, keyId, secret };
}

/** The timers of --interval/--receive-interval/--transmit-interval/--multiplier/--passive as a full profile. */
function commandLineProfile(fields: {
  receiveInterval?: number;
  transmitInterval?: number;
  detectMultiplier?: number;
  passiveMode?: boolean;
  minimumTtl?: number;
}): BfdProfile {
  const input: Record<string, unknown> = { name: COMMAND_LINE_PROFILE };
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) input[k] = v;
  return bfdProfile(input as { name: string });
}

/** `bgp-announce bfd`'s command line as a plan. Throws UsageError (exit status 2) naming the option at fault. */
export function parseBfdCommand(o: BfdCommandOptions, env: Record<string, string | undefined> = {}): BfdPlan {
  if (o.peer === undefined) throw new UsageError('--peer is required');
  const peer = parseZonedAddress(o.peer, '--peer');
  const local = o.localAddress === undefined ? undefined : parseZonedAddress(o.localAddress, '--local-address');
  if (local !== undefined && isIpv4(local.address) !== isIpv4(peer.address)) {
    throw new UsageError(
      `--local-address ${local.address} and --peer ${peer.address} must be of one family (both IPv4 or both IPv6)`,
    );
  }
  if (o.interface !== undefined && !/^[^\s/%]{1,15}$/.test(o.interface))
    throw new UsageError(
      `--interface must be a network device name of 1-15 characters, got ${JSON.stringify(o.interface)}`,
    );
  const zones = [o.interface, peer.zone, local?.zone].filter((z): z is string => z !== undefined);
  const iface = zones[0];
  if (zones.some((z) => z !== iface))
    throw new UsageError(
      `the interface is given twice, differently: ${zones.join(', ')} (--interface, or %DEV after an address)`,
    );
  if (iface === undefined && (isLinkLocal(peer.address) || (local !== undefined && isLinkLocal(local.address)))) {
    throw new UsageError(`a link-local address needs its interface: --interface DEV (or ${peer.address}%DEV)`);
  }

  const multihop = o.multihop === true;
  const interval = o.interval === undefined ? undefined : parseIntervalMs(o.interval, '--interval');
  const receiveInterval =
    o.receiveInterval === undefined ? interval : parseIntervalMs(o.receiveInterval, '--receive-interval');
  const transmitInterval =
    o.transmitInterval === undefined ? interval : parseIntervalMs(o.transmitInterval, '--transmit-interval');
  const detectMultiplier = o.multiplier === undefined ? undefined : parseMultiplier(o.multiplier, '--multiplier');
  let minimumTtl: number | undefined;
  if (o.minimumTtl !== undefined) {
    if (!multihop)
      throw new UsageError(
        '--minimum-ttl applies to --multihop sessions only (single hop always requires TTL 255, RFC 5881)',
      );
    minimumTtl = parseInteger(o.minimumTtl, '--minimum-ttl', 1, 254, 'a TTL 1-254');
  }
  const profile = commandLineProfile({
    receiveInterval,
    transmitInterval,
    detectMultiplier,
    passiveMode: o.passive === true ? true : undefined,
    minimumTtl,
  });

  const session: BfdPlanSession = { peerAddress: peer.address, multihop, profile };
  if (local !== undefined) session.localAddress = local.address;
  if (iface !== undefined) session.interface = iface;
  const auth = parseAuth(o, env);
  if (auth !== undefined) session.auth = auth;

  const until = parseBfdUntil(o.until);
  let upTimeoutMs = 0;
  if (o.timeout !== undefined && until.kind !== 'up') throw new UsageError('--timeout applies to --until up only');
  if (until.kind === 'up')
    upTimeoutMs =
      (o.timeout === undefined
        ? DEFAULT_UP_TIMEOUT_S
        : parseInteger(o.timeout, '--timeout', 0, 86400, '0 (no limit) or 1-86400 seconds')) * 1000;

  return { session, until, upTimeoutMs, allowUncheckedTtl: o.allowUncheckedTtl === true, json: o.json === true };
}
