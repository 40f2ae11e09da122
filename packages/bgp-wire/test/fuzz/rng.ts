// Seeded PRNG for the fuzz test (mulberry32): the same seed gives the same inputs on every machine.

export interface Rng {
  /** Uniform 32-bit unsigned integer. */
  next32(): number;
  /** Integer in [0, n). */
  below(n: number): number;
  /** True with probability p. */
  chance(p: number): boolean;
  pick<T>(items: readonly T[]): T;
  bytes(n: number): Uint8Array;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next32 = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = state;
    x = Math.imul(x ^ (x >>> 15), x | 1);
    x ^= x + Math.imul(x ^ (x >>> 7), x | 61);
    return (x ^ (x >>> 14)) >>> 0;
  };
  const below = (n: number): number => Math.floor((next32() / 2 ** 32) * n);
  return {
    next32,
    below,
    chance: (p) => next32() / 2 ** 32 < p,
    pick: (items) => items[below(items.length)]!,
    bytes: (n) => {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = next32() & 0xff;
      return out;
    },
  };
}
