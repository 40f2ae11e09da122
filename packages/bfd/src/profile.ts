// BFD profiles as MetalLB's BFDProfile resource has them (spec fields, intervals in milliseconds),
// with MetalLB's defaults and ranges, and their conversion into a session's configured intervals.
import type { BfdSessionConfig } from './fsm.js';

/** A validated profile: every field set. Intervals in milliseconds, as in MetalLB. */
export interface BfdProfile {
  name: string;
  /** The slowest rate we ask the peer to send at (Required Min RX), 10-60000 ms. Default 300. */
  receiveInterval: number;
  /** The rate we want to send at once Up (Desired Min TX), 10-60000 ms. Default 300. */
  transmitInterval: number;
  /** Detect Mult, 2-255. Default 3. */
  detectMultiplier: number;
  /** Echo interval, 10-60000 ms. Default 50. Kept for MetalLB compatibility; the echo function is not implemented. */
  echoInterval: number;
  /** Must be false: the echo function is not implemented. Default false. */
  echoMode: boolean;
  /** Send nothing until the peer has sent a packet. Default false. */
  passiveMode: boolean;
  /** Lowest TTL accepted on multihop sessions, 1-254. Default 254. */
  minimumTtl: number;
}

/** What a caller (or a parsed YAML/CRD spec) gives: a name and any of the other fields. */
export type BfdProfileInput = { name: string } & Partial<Omit<BfdProfile, 'name'>>;

/** MetalLB's BFDProfile defaults. */
export const BFD_PROFILE_DEFAULTS: Readonly<Omit<BfdProfile, 'name'>> = {
  receiveInterval: 300,
  transmitInterval: 300,
  detectMultiplier: 3,
  echoInterval: 50,
  echoMode: false,
  passiveMode: false,
  minimumTtl: 254,
};

/** A profile field that is missing, of the wrong type or out of range; `field` names it. */
export class BfdProfileError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
    this.name = 'BfdProfileError';
  }
}

const INTEGER_FIELDS: ReadonlyArray<readonly [keyof BfdProfile, number, number, string]> = [
  ['receiveInterval', 10, 60000, ' (milliseconds)'],
  ['transmitInterval', 10, 60000, ' (milliseconds)'],
  ['detectMultiplier', 2, 255, ''],
  ['echoInterval', 10, 60000, ' (milliseconds)'],
  ['minimumTtl', 1, 254, ''],
];
const BOOLEAN_FIELDS: ReadonlyArray<keyof BfdProfile> = ['echoMode', 'passiveMode'];
const KNOWN_FIELDS = new Set<string>(['name', ...Object.keys(BFD_PROFILE_DEFAULTS)]);

/**
 * The profile with MetalLB's defaults filled in. Accepts untrusted input (parsed YAML) and throws a
 * BfdProfileError naming the field for anything wrong: unknown fields, wrong types, out-of-range
 * values, echoMode true (not implemented).
 */
export function bfdProfile(input: BfdProfileInput): BfdProfile {
  const raw: unknown = input;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new BfdProfileError(
      '',
      `BFD profile must be an object with a name, got ${raw === null ? 'null' : Array.isArray(raw) ? 'an array' : typeof raw}`,
    );
  }
  const fields = raw as Record<string, unknown>;
  const name = fields.name;
  if (typeof name !== 'string' || name.trim() === '') {
    throw new BfdProfileError(
      'name',
      `BFD profile name must be a non-empty string, got ${JSON.stringify(name) ?? 'nothing'}`,
    );
  }
  const where = `BFD profile ${JSON.stringify(name)}`;
  for (const key of Object.keys(fields)) {
    if (!KNOWN_FIELDS.has(key)) {
      throw new BfdProfileError(
        key,
        `${where}: unknown field ${JSON.stringify(key)} (known: ${[...KNOWN_FIELDS].join(', ')})`,
      );
    }
  }
  const profile: BfdProfile = { ...BFD_PROFILE_DEFAULTS, name };
  for (const [field, min, max, unit] of INTEGER_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw new BfdProfileError(
        field,
        `${where}: ${field} must be an integer from ${min} to ${max}${unit}, got ${JSON.stringify(value)}`,
      );
    }
    (profile as unknown as Record<string, number>)[field] = value;
  }
  for (const field of BOOLEAN_FIELDS) {
    const value = fields[field];
    if (value === undefined) continue;
    if (typeof value !== 'boolean')
      throw new BfdProfileError(field, `${where}: ${field} must be true or false, got ${JSON.stringify(value)}`);
    (profile as unknown as Record<string, boolean>)[field] = value;
  }
  if (profile.echoMode) {
    throw new BfdProfileError(
      'echoMode',
      `${where}: echoMode true is not supported (the BFD echo function is not implemented); set echoMode to false or leave it out`,
    );
  }
  return profile;
}

/** The session configuration a profile asks for: its intervals in microseconds, as the state machine wants them. */
export function sessionConfigFromProfile(profile: BfdProfile): BfdSessionConfig {
  return {
    desiredMinTxInterval: profile.transmitInterval * 1000,
    requiredMinRxInterval: profile.receiveInterval * 1000,
    detectMult: profile.detectMultiplier,
    passive: profile.passiveMode,
  };
}
