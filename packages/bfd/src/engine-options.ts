// What the BFD engine is given, and how it is checked before anything reaches the worker: engine
// options, session options (addresses, interface, profile, key), and the typed error for bad input.
import { isIP } from 'node:net';
import { authKeyProblem } from './auth.js';
import { BFD_MULTIHOP_PORT, BFD_SINGLE_HOP_PORT } from './bfd-transport.js';
import { canonicalAddress } from './demux.js';
import { bfdProfile, type BfdProfile, type BfdProfileInput } from './profile.js';
import { BFD_AUTH_TYPE, type BfdAuthKey, type BfdAuthType } from './types.js';
import type { BfdWorkerData, BfdWorkerSessionSpec } from './worker-protocol.js';

export interface BfdEngineOptions {
  /** UDP ports to listen on: 3784 single hop and 4784 multihop unless given (tests on loopback use others). */
  listenPorts?: { singleHop?: number; multihop?: number };
  /**
   * Without the native addon the received TTL cannot be read, so RFC 5881's TTL 255 check is impossible.
   * true: run anyway on Node's dgram (TTL 255 still sent); false (default): addSession refuses.
   */
  allowUncheckedTtl?: boolean;
  /** 'auto' (default): the addon's socket when it is built, else dgram; 'dgram': always dgram (no TTL check). */
  transport?: 'auto' | 'dgram';
  /** A transmission later than its due time by more than this counts in metrics().lateTransmissions. Default 5 ms. */
  lateTransmissionSlackMs?: number;
}

/** A key for authenticated sessions; a string secret is taken as UTF-8. */
export interface BfdAuthOptions {
  type: BfdAuthType;
  keyId: number;
  secret: Uint8Array | string;
}

export interface BfdSessionOptions {
  peerAddress: string;
  /** The address we send from and receive on (a link-local IPv6 address needs `interface`). */
  localAddress: string;
  /** Bind the session's sockets to this network device (SO_BINDTODEVICE, root). */
  interface?: string;
  /** RFC 5883 multihop (port 4784, profile.minimumTtl) instead of RFC 5881 single hop. */
  multihop?: boolean;
  /** MetalLB-style profile (see profile.ts); defaults: 300 ms x 3. */
  profile?: BfdProfileInput;
  auth?: BfdAuthOptions;
  /** The peer's UDP port; 3784 (single hop) or 4784 (multihop) unless given. */
  port?: number;
}

export type BfdSessionId = number;

export type BfdEngineErrorCode =
  | 'config'
  | 'ttl-check-unavailable'
  | 'socket'
  | 'send'
  | 'receive'
  | 'worker'
  | 'stopped';

/** An engine error; `sessionId` names the session when there is one. */
export class BfdEngineError extends Error {
  constructor(
    readonly code: BfdEngineErrorCode,
    message: string,
    readonly sessionId?: BfdSessionId,
  ) {
    super(message);
    this.name = 'BfdEngineError';
  }
}

/** Throws BfdEngineError('config'). */
export function fail(message: string): never {
  throw new BfdEngineError('config', message);
}

function port(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > 65535)
    fail(`${what} must be an integer from 1 to 65535, got ${JSON.stringify(value)}`);
  return value;
}

/** Splits 'fe80::1%eth0' into the address and its zone; checks it is an IP address. */
function address(value: unknown, what: string): { address: string; family: 4 | 6; zone: string | undefined } {
  if (typeof value !== 'string') fail(`BFD session ${what} must be an IP address string, got ${JSON.stringify(value)}`);
  const [bare = '', zone] = value.split('%', 2);
  const family = isIP(bare);
  if (family === 0) fail(`BFD session ${what} ${JSON.stringify(value)} is not an IPv4 or IPv6 address`);
  return { address: canonicalAddress(bare), family: family as 4 | 6, zone: zone === '' ? undefined : zone };
}

function authKey(auth: BfdAuthOptions, where: string): BfdAuthKey {
  if (typeof auth !== 'object' || auth === null) fail(`${where}: auth must be an object { type, keyId, secret }`);
  if (!Object.hasOwn(BFD_AUTH_TYPE, auth.type))
    fail(
      `${where}: auth type must be one of ${Object.keys(BFD_AUTH_TYPE).join(', ')}, got ${JSON.stringify(auth.type)}`,
    );
  if (typeof auth.secret !== 'string' && !(auth.secret instanceof Uint8Array))
    fail(`${where}: auth secret must be a string or bytes`);
  const key: BfdAuthKey = {
    type: auth.type,
    keyId: auth.keyId,
    secret:
      typeof auth.secret === 'string' ? new Uint8Array(Buffer.from(auth.secret, 'utf8')) : new Uint8Array(auth.secret),
  };
  const problem = authKeyProblem(key);
  if (problem !== undefined) fail(`${where}: ${problem}`);
  return key;
}

/** Checks what addSession was given and turns it into what the worker runs. Throws BfdEngineError('config'). */
export function sessionSpec(id: number, o: BfdSessionOptions): BfdWorkerSessionSpec {
  if (typeof o !== 'object' || o === null)
    fail('BFD session options must be an object with peerAddress and localAddress');
  const peer = address(o.peerAddress, 'peerAddress');
  const local = address(o.localAddress, 'localAddress');
  const where = `BFD session to ${peer.address}`;
  if (peer.family !== local.family) fail(`${where}: localAddress ${local.address} is not of the same address family`);
  const zones = [o.interface, peer.zone, local.zone].filter((z): z is string => z !== undefined);
  const iface = zones[0];
  if (zones.some((z) => z !== iface)) fail(`${where}: the interface is given differently (${zones.join(', ')})`);
  if (iface !== undefined && (typeof iface !== 'string' || !/^[^\s/%]{1,15}$/.test(iface)))
    fail(`${where}: interface must be a network device name of 1-15 characters, got ${JSON.stringify(iface)}`);
  const linkLocal = [peer.address, local.address].some((a) => /^fe[89ab]/.test(a));
  if (linkLocal && iface === undefined)
    fail(`${where}: a link-local address needs its interface (interface: 'eth0', or fe80::1%eth0)`);
  if (o.multihop !== undefined && typeof o.multihop !== 'boolean') fail(`${where}: multihop must be true or false`);
  const multihop = o.multihop ?? false;
  let profile: BfdProfile;
  try {
    profile = bfdProfile(o.profile ?? { name: 'default' });
  } catch (err) {
    fail(`${where}: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    id,
    family: peer.family,
    peerAddress: peer.address,
    localAddress: local.address,
    interface: iface,
    multihop,
    port: o.port === undefined ? (multihop ? BFD_MULTIHOP_PORT : BFD_SINGLE_HOP_PORT) : port(o.port, `${where}: port`),
    profile,
    auth: o.auth === undefined ? undefined : authKey(o.auth, where),
  };
}

/** Checks the engine's options and turns them into the worker's start data. Throws BfdEngineError('config'). */
export function workerDataFor(options: BfdEngineOptions): BfdWorkerData {
  const listenPorts = {
    singleHop: port(options.listenPorts?.singleHop ?? BFD_SINGLE_HOP_PORT, 'listenPorts.singleHop'),
    multihop: port(options.listenPorts?.multihop ?? BFD_MULTIHOP_PORT, 'listenPorts.multihop'),
  };
  if (listenPorts.singleHop === listenPorts.multihop)
    fail(`listenPorts: single hop and multihop need different ports, got ${listenPorts.singleHop} for both`);
  const transport = options.transport ?? 'auto';
  if (transport !== 'auto' && transport !== 'dgram')
    fail(`transport must be 'auto' or 'dgram', got ${JSON.stringify(transport)}`);
  const slack = options.lateTransmissionSlackMs ?? 5;
  if (typeof slack !== 'number' || !(slack >= 0))
    fail(`lateTransmissionSlackMs must be a number of milliseconds >= 0, got ${JSON.stringify(slack)}`);
  return { bfdEngineWorker: true, listenPorts, transport, lateTransmissionSlackMs: slack };
}
