// The messages between the BFD engine's main thread (engine.ts) and its worker_thread (worker.ts): the
// worker's start data, the sessions as the main thread validated them, commands and requests to the
// worker, and what the worker sends back. Types only: both sides import this, neither imports the other.
import type { BfdTtlCheck } from './bfd-transport.js';
import type { BfdProfile } from './profile.js';
import type { BfdStateChange } from './runner.js';
import type { BfdAuthKey } from './types.js';

export interface BfdWorkerData {
  bfdEngineWorker: true;
  listenPorts: { singleHop: number; multihop: number };
  transport: 'auto' | 'dgram';
  lateTransmissionSlackMs: number;
}

/** A session as the main thread validated it. Addresses without zone; the interface apart. */
export interface BfdWorkerSessionSpec {
  id: number;
  family: 4 | 6;
  peerAddress: string;
  localAddress: string;
  interface: string | undefined;
  multihop: boolean;
  /** The peer's UDP port (3784 / 4784 unless told otherwise). */
  port: number;
  profile: BfdProfile;
  auth: BfdAuthKey | undefined;
}

export type BfdWorkerRequest =
  | { op: 'session'; id: number }
  | { op: 'metrics' }
  | { op: 'remove'; id: number }
  | { op: 'stop' }
  | { op: 'stall'; ms: number };

export type BfdToWorker =
  | { type: 'add'; session: BfdWorkerSessionSpec }
  | { type: 'update'; id: number; profile: BfdProfile }
  | { type: 'adminDown'; id: number; diag?: number }
  | { type: 'adminUp'; id: number }
  | { type: 'request'; requestId: number; request: BfdWorkerRequest };

export type BfdFromWorker =
  | { type: 'ready'; ttlCheck: BfdTtlCheck; reason?: string }
  /** change.at is wall-clock time (ms since the epoch). */
  | { type: 'state'; id: number; change: BfdStateChange }
  | { type: 'error'; id?: number; code: 'socket' | 'send' | 'receive' | 'config'; message: string }
  | { type: 'reply'; requestId: number; ok: true; value: unknown }
  | { type: 'reply'; requestId: number; ok: false; message: string };
