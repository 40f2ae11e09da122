// Shared by the BFD tests: a control packet with the plain defaults, overridden field by field.
import type { BfdControlPacket } from '../src/types.js';

/**
 * A control packet: version 1, no diagnostic, Down, no flags, Detect Mult 3, My Discriminator 1,
 * Your Discriminator 0, 1 s desired TX (the slow rate while not Up), 300 ms required RX, no echo;
 * `o` overrides any field.
 */
export function controlPacket(o: Partial<BfdControlPacket> = {}): BfdControlPacket {
  return {
    version: 1,
    diag: 0,
    state: 'Down',
    poll: false,
    final: false,
    controlPlaneIndependent: false,
    demand: false,
    multipoint: false,
    detectMult: 3,
    myDiscriminator: 1,
    yourDiscriminator: 0,
    desiredMinTxInterval: 1_000_000,
    requiredMinRxInterval: 300_000,
    requiredMinEchoRxInterval: 0,
    ...o,
  };
}
