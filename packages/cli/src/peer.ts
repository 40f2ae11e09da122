// `bgp-announce peer`: the command line turned into what the Speaker needs (its identity, one peer's
// options, the prefixes to announce) and what the run waits for. Pure: strings in, a plan out, or a
// UsageError (exit status 2) whose message names the option. peer-run.ts does the I/O.
import {
  formatIpv4,
  formatIpv6,
  isIpv4,
  isIpv6,
  parseCommunity,
  parseIp,
  parseLargeCommunity,
  type Family,
} from '@bgp-announce/bgp-wire';
import type { PeerBfdOptions, PeerOptions } from '@bgp-announce/bgp-speaker';
import { bfdProfile } from '@bgp-announce/bfd';
import { UsageError, parseAddress, parseAs, parseInteger } from './options.js';

/** The options as commander hands them over: text, flags, and lists of the repeatable ones. */
export interface PeerCommandOptions {
  localAs?: string;
  peerAs?: string;
  peer?: string;
  localAddress?: string;
  port?: string;
  routerId?: string;
  announce?: string[];
  announceFile?: string;
  family?: string[];
  nextHop?: string;
  nextHopIpv6?: string;
  extendedNextHop?: boolean;
  community?: string[];
  largeCommunity?: string[];
  localPref?: string;
  med?: string;
  holdTime?: string;
  passive?: boolean;
  listen?: string;
  md5Password?: string;
  /** `--ttl-security` alone is true (1 hop); with a value, the number of hops. */
  ttlSecurity?: string | boolean;
  ebgpMultihop?: string;
  gracefulRestart?: string;
  gracefulShutdown?: string;
  connectTimeout?: string;
  until?: string;
  json?: boolean;
  /** BFD for the peer (MetalLB's defaults); any --bfd-* option turns it on too. */
  bfd?: boolean;
  bfdInterval?: string;
  bfdMultiplier?: string;
  bfdMultihop?: boolean;
  bfdPassive?: boolean;
}

/** When the run ends by itself (besides SIGINT/SIGTERM, which always end it with status 0). */
export type Until =
  | { kind: 'signal' }
  | { kind: 'established' }
  /** The peer's End-of-RIB for every negotiated family. */
  | { kind: 'eor' }
  /** This long after start. */
  | { kind: 'time'; ms: number };

/** Everything runPeer needs. */
export interface PeerPlan {
  localAs: number;
  /** Our BGP identifier; undefined: our source address toward the (IPv4) peer, found at run time. */
  bgpId: string | undefined;
  /** The peer's id in the Speaker (its address). */
  peerId: string;
  peer: PeerOptions;
  /** Canonical prefixes to announce (their attributes are in the peer's route policy). */
  prefixes: string[];
  until: Until;
  /** Give up when no session is Established this long after start or after it went down; 0: never. */
  connectTimeoutMs: number;
  /** RFC 8326 drain before the Cease when stopping; undefined: Cease at once. */
  gracefulShutdownMs: number | undefined;
  json: boolean;
  /** Things worth saying that do not stop the run. */
  warnings: string[];
}

/** What the parser needs besides the options: the --announce-file text, and the environment. */
export interface PeerCommandInput {
  /** Contents of --announce-file, read by the caller. */
  announceFileText?: string;
  /** For BGP_ANNOUNCE_MD5_PASSWORD (keeps the key out of `ps`). */
  env?: Record<string, string | undefined>;
}

/** Environment variable read for the TCP MD5 key when --md5-password is absent. */
export const MD5_PASSWORD_ENV = 'BGP_ANNOUNCE_MD5_PASSWORD';

const DEFAULT_CONNECT_TIMEOUT_S = 30;
const FAMILY_NAMES: Record<string, Family> = {
  'ipv4-unicast': 'ipv4-unicast',
  ipv4: 'ipv4-unicast',
  'ipv6-unicast': 'ipv6-unicast',
  ipv6: 'ipv6-unicast',
};

/** A prefix "192.0.2.0/24" or "2001:db8::/32" in canonical text; host bits beyond the length are an error. */
export function parsePrefix(text: string, option: string): string {
  const slash = text.indexOf('/');
  const bytes = slash > 0 ? parseIp(text.slice(0, slash)) : undefined;
  const lenText = text.slice(slash + 1);
  if (bytes === undefined || !/^\d{1,3}$/.test(lenText))
    throw new UsageError(
      `${option}: not an IP prefix (such as 192.0.2.0/24 or 2001:db8::/32): ${JSON.stringify(text)}`,
    );
  const bits = bytes.length * 8;
  const len = Number(lenText);
  if (len > bits)
    throw new UsageError(`${option}: prefix length ${len} is more than ${bits} in ${JSON.stringify(text)}`);
  const network = bytes.map((b, i) => (i * 8 >= len ? 0 : i * 8 + 8 <= len ? b : b & (0xff << (8 - (len - i * 8)))));
  const address = network.length === 4 ? formatIpv4(network, 0) : formatIpv6(network, 0);
  if (network.some((b, i) => b !== bytes[i]))
    throw new UsageError(`${option}: ${text} has host bits set (did you mean ${address}/${len}?)`);
  return `${address}/${len}`;
}

/** A community "A:B" (each 0-65535) or a well-known name such as no-export. */
export function parseCommunityOption(text: string, option: string): string {
  try {
    parseCommunity(text);
  } catch {
    throw new UsageError(
      `${option} must be "A:B" (each 0-65535) or a well-known name such as no-export, got ${JSON.stringify(text)}`,
    );
  }
  return text;
}

/** A large community "A:B:C" (each 0-4294967295). */
export function parseLargeCommunityOption(text: string, option: string): string {
  try {
    return parseLargeCommunity(text).join(':');
  } catch {
    throw new UsageError(`${option} must be "A:B:C" (each 0-4294967295), got ${JSON.stringify(text)}`);
  }
}

/** --listen "ADDR:PORT" or "[IPv6]:PORT"; port 0 lets the kernel pick one (printed once listening). */
export function parseListen(text: string, option = '--listen'): { host: string; port: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? /^([^:[\]]+):(\d+)$/.exec(text);
  if (!m)
    throw new UsageError(
      `${option} must be ADDR:PORT or [IPv6]:PORT (such as 192.0.2.2:179 or [2001:db8::2]:179), got ${JSON.stringify(text)}`,
    );
  const host = parseAddress(m[1]!, option);
  if (m[0].startsWith('[') !== !isIpv4(host))
    throw new UsageError(
      `${option}: an IPv6 address goes in brackets ([2001:db8::2]:179), an IPv4 one does not; got ${JSON.stringify(text)}`,
    );
  return { host, port: parseInteger(m[2]!, `${option} port`, 0, 65535) };
}

/** --until: "established", "eor", or a number of seconds (decimals allowed). */
export function parseUntil(text: string | undefined): Until {
  if (text === undefined) return { kind: 'signal' };
  if (text === 'established' || text === 'eor') return { kind: text };
  const seconds = /^\d+(\.\d+)?$/.test(text) ? Number(text) : NaN;
  if (!(seconds > 0 && seconds <= 31_536_000))
    throw new UsageError(`--until must be established, eor or a number of seconds, got ${JSON.stringify(text)}`);
  return { kind: 'time', ms: Math.round(seconds * 1000) };
}

/**
 * The prefixes of an --announce-file: one per line; '#' starts a comment; blank lines are ignored.
 * Throws one UsageError listing every bad line as FILE:LINE.
 */
export function parseAnnounceFile(text: string, file: string): string[] {
  const prefixes: string[] = [];
  const bad: string[] = [];
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.replace(/#.*/, '').trim();
    if (line === '') return;
    try {
      prefixes.push(parsePrefix(line, `${file}:${i + 1}`));
    } catch (err) {
      bad.push((err as Error).message);
    }
  });
  if (bad.length > 0)
    throw new UsageError(
      `--announce-file has ${bad.length} bad line${bad.length === 1 ? '' : 's'}:\n  ${bad.join('\n  ')}`,
    );
  return prefixes;
}

function parseFamilies(list: string[]): Family[] {
  const out: Family[] = [];
  for (const name of list.flatMap((l) => l.split(',')).map((s) => s.trim())) {
    const family = FAMILY_NAMES[name];
    if (family === undefined)
      throw new UsageError(`--family must be ipv4-unicast or ipv6-unicast, got ${JSON.stringify(name)}`);
    if (!out.includes(family)) out.push(family);
  }
  return out;
}

const familyOfPrefix = (prefix: string): Family => (prefix.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast');

/**
 * The peer's BFD requirement from --bfd and --bfd-interval/--bfd-multiplier/--bfd-multihop/--bfd-passive
 * (any of them turns BFD on), or undefined without them. The profile is complete (MetalLB's defaults
 * filled in), so the plan shows what runs. The local address is found at run time when not given.
 */
export function parsePeerBfd(o: PeerCommandOptions): PeerBfdOptions | undefined {
  if (!(o.bfd || o.bfdInterval !== undefined || o.bfdMultiplier !== undefined || o.bfdMultihop || o.bfdPassive))
    return undefined;
  const interval =
    o.bfdInterval === undefined
      ? undefined
      : parseInteger(o.bfdInterval, '--bfd-interval', 10, 60000, 'a number of milliseconds 10-60000');
  const profile = bfdProfile({ name: 'command-line' });
  if (interval !== undefined) profile.receiveInterval = profile.transmitInterval = interval;
  if (o.bfdMultiplier !== undefined)
    profile.detectMultiplier = parseInteger(o.bfdMultiplier, '--bfd-multiplier', 2, 255);
  if (o.bfdPassive) profile.passiveMode = true;
  return o.bfdMultihop ? { profile, multihop: true } : { profile };
}

/** The command line as a plan. Throws UsageError (exit status 2) naming the option at fault. */
export function parsePeerCommand(o: PeerCommandOptions, input: PeerCommandInput = {}): PeerPlan {
  for (const [value, option] of [
    [o.localAs, '--local-as'],
    [o.peerAs, '--peer-as'],
    [o.peer, '--peer'],
  ] as const) {
    if (value === undefined) throw new UsageError(`${option} is required`);
  }
  const localAs = parseAs(o.localAs!, '--local-as');
  const peerAs = parseAs(o.peerAs!, '--peer-as');
  const peerAddress = parseAddress(o.peer!, '--peer');
  const peerV4 = isIpv4(peerAddress);
  const peer: PeerOptions = { peerAddress, peerAs };
  const warnings: string[] = [];

  if (o.localAddress !== undefined) {
    peer.localAddress = parseAddress(o.localAddress, '--local-address');
    if (isIpv4(peer.localAddress) !== peerV4)
      throw new UsageError(
        `--local-address ${peer.localAddress} and --peer ${peerAddress} must be of one family (both IPv4 or both IPv6)`,
      );
  }
  if (o.port !== undefined) peer.peerPort = parseInteger(o.port, '--port', 1, 65535);

  let bgpId: string | undefined;
  if (o.routerId !== undefined) {
    if (!isIpv4(o.routerId) || o.routerId === '0.0.0.0')
      throw new UsageError(
        `--router-id must be a dotted quad other than 0.0.0.0 (such as 192.0.2.2), got ${JSON.stringify(o.routerId)}`,
      );
    bgpId = parseAddress(o.routerId, '--router-id');
  } else if (peer.localAddress !== undefined && isIpv4(peer.localAddress)) {
    bgpId = peer.localAddress;
  } else if (!peerV4) {
    throw new UsageError(
      '--router-id is required on an IPv6 session: the BGP identifier is a dotted quad (such as 192.0.2.2), and there is no IPv4 local address to take it from',
    );
  }

  const prefixes = new Set<string>();
  for (const p of o.announce ?? []) prefixes.add(parsePrefix(p, '--announce'));
  if (o.announceFile !== undefined)
    for (const p of parseAnnounceFile(input.announceFileText ?? '', o.announceFile)) prefixes.add(p);
  const v4Prefixes = [...prefixes].filter((p) => familyOfPrefix(p) === 'ipv4-unicast');
  const v6Prefixes = [...prefixes].filter((p) => familyOfPrefix(p) === 'ipv6-unicast');

  // Families: --family as given, else the session's own family plus those of the announced prefixes.
  let families: Family[];
  if (o.family && o.family.length > 0) families = parseFamilies(o.family);
  else {
    families = [peerV4 ? 'ipv4-unicast' : 'ipv6-unicast'];
    if ((peerV4 ? v6Prefixes : v4Prefixes).length > 0) families.push(peerV4 ? 'ipv6-unicast' : 'ipv4-unicast');
  }
  for (const [list, family] of [
    [v4Prefixes, 'ipv4-unicast'],
    [v6Prefixes, 'ipv6-unicast'],
  ] as const) {
    if (list.length > 0 && !families.includes(family))
      throw new UsageError(`--announce ${list[0]} is ${family} but --family does not include ${family}`);
  }
  peer.families = families;

  if (o.nextHop !== undefined) {
    peer.nextHop = parseAddress(o.nextHop, '--next-hop');
    if (!isIpv4(peer.nextHop))
      throw new UsageError(
        `--next-hop is the next hop of IPv4 prefixes and must be IPv4; use --next-hop-ipv6 for ${peer.nextHop}`,
      );
  }
  if (o.nextHopIpv6 !== undefined) {
    peer.nextHopIpv6 = parseAddress(o.nextHopIpv6, '--next-hop-ipv6');
    if (!isIpv6(peer.nextHopIpv6))
      throw new UsageError(`--next-hop-ipv6 must be an IPv6 address, got ${JSON.stringify(o.nextHopIpv6)}`);
  }
  if (o.extendedNextHop) peer.extendedNextHop = true;
  if (peerV4 && v6Prefixes.length > 0 && peer.nextHopIpv6 === undefined) {
    throw new UsageError(
      `announcing IPv6 prefixes (${v6Prefixes[0]}) over an IPv4 session needs --next-hop-ipv6 ADDR (our IPv6 address the peer can reach)`,
    );
  }
  if (!peerV4 && v4Prefixes.length > 0 && peer.nextHop === undefined && !o.extendedNextHop) {
    throw new UsageError(
      `announcing IPv4 prefixes (${v4Prefixes[0]}) over an IPv6 session needs --next-hop ADDR (IPv4) or --extended-next-hop (RFC 8950, if the peer supports it)`,
    );
  }

  if (o.community && o.community.length > 0)
    peer.communities = o.community.map((c) => parseCommunityOption(c, '--community'));
  if (o.largeCommunity && o.largeCommunity.length > 0)
    peer.largeCommunities = o.largeCommunity.map((c) => parseLargeCommunityOption(c, '--large-community'));
  if (o.localPref !== undefined) {
    peer.localPref = parseInteger(o.localPref, '--local-pref', 0, 0xffffffff);
    if (localAs !== peerAs)
      warnings.push(
        '--local-pref is sent to iBGP peers only (--local-as equal to --peer-as); this session is eBGP, so it is not sent',
      );
  }
  if (o.med !== undefined) peer.med = parseInteger(o.med, '--med', 0, 0xffffffff);
  if (o.holdTime !== undefined) {
    const holdTime = parseInteger(o.holdTime, '--hold-time', 0, 65535, '0 or 3-65535 seconds');
    if (holdTime === 1 || holdTime === 2)
      throw new UsageError(`--hold-time must be 0 or 3-65535 seconds, got ${JSON.stringify(o.holdTime)}`);
    peer.holdTime = holdTime;
  }

  if (o.listen !== undefined) {
    const listen = parseListen(o.listen);
    if (isIpv4(listen.host) !== peerV4 && listen.host !== '0.0.0.0' && listen.host !== '::') {
      throw new UsageError(`--listen ${o.listen} and --peer ${peerAddress} must be of one family`);
    }
    peer.listen = listen;
  }
  // --passive: only listen; --listen alone: connect out and listen too.
  if (o.passive) peer.mode = 'passive';
  else if (o.listen !== undefined) peer.mode = 'both';

  const md5Password = o.md5Password ?? input.env?.[MD5_PASSWORD_ENV];
  if (md5Password !== undefined) {
    const bytes = Buffer.byteLength(md5Password, 'utf8');
    const from = o.md5Password !== undefined ? '--md5-password' : MD5_PASSWORD_ENV;
    if (bytes < 1 || bytes > 80)
      throw new UsageError(`${from} must be 1-80 bytes long (RFC 2385 keys as Linux takes them), got ${bytes} bytes`);
    peer.md5Password = md5Password;
  }
  if (o.ttlSecurity !== undefined && o.ttlSecurity !== false) {
    peer.ttlSecurity =
      o.ttlSecurity === true ? 1 : parseInteger(o.ttlSecurity, '--ttl-security', 1, 254, 'a number of hops 1-254');
  }
  if (o.ebgpMultihop !== undefined) {
    if (peer.ttlSecurity !== undefined)
      throw new UsageError('--ttl-security and --ebgp-multihop exclude each other (GTSM sends with TTL 255 already)');
    peer.ebgpMultihop = parseInteger(o.ebgpMultihop, '--ebgp-multihop', 1, 255, 'a TTL 1-255');
  }
  const bfd = parsePeerBfd(o);
  if (bfd !== undefined) peer.bfd = bfd;
  if (o.gracefulRestart !== undefined)
    peer.gracefulRestart = {
      restartTime: parseInteger(o.gracefulRestart, '--graceful-restart', 0, 4095, 'a restart time 0-4095 seconds'),
    };

  const gracefulShutdownMs =
    o.gracefulShutdown === undefined
      ? undefined
      : parseInteger(o.gracefulShutdown, '--graceful-shutdown', 0, 3600, 'a drain time 0-3600 seconds') * 1000;
  const connectTimeoutS =
    o.connectTimeout === undefined
      ? DEFAULT_CONNECT_TIMEOUT_S
      : parseInteger(o.connectTimeout, '--connect-timeout', 0, 86400, '0 (no limit) or 1-86400 seconds');

  return {
    localAs,
    bgpId,
    peerId: peerAddress,
    peer,
    prefixes: [...prefixes],
    until: parseUntil(o.until),
    connectTimeoutMs: connectTimeoutS * 1000,
    gracefulShutdownMs,
    json: o.json === true,
    warnings,
  };
}
