/**
 * The workspace's one seeded PRNG, so seeded data (epoch order, the built-in task, a new head's
 * init) is the same on every machine and every worker. Plain JS arithmetic, no tfjs.
 *
 * mulberry32 (Tommy Ettinger, public domain) yields uint32 values; the float views below are
 * derived from that one stream, so every user draws the same bits.
 */

const TWO_POW_32 = 4294967296;

/** mulberry32 seeded with `seed` mod 2^32: each call returns the next uint32, in [0, 2^32). */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

/** Uniform floats in [0, 1): each uint32 of `bits` divided by 2^32 (exact in a double). */
export function uniform01(bits: () => number): () => number {
  return () => bits() / TWO_POW_32;
}

/** Uniform floats in (0, 1), never 0 or 1: (uint32 + 0.5) / 2^32, e.g. to take a log of. */
export function uniformOpen01(bits: () => number): () => number {
  return () => (bits() + 0.5) / TWO_POW_32;
}

/** Options of {@link normalSampler}. */
export interface NormalSamplerOptions {
  /** standard deviation of the samples (default 1) */
  readonly std?: number;
  /**
   * Box–Muller makes two independent normals, r·cos θ and r·sin θ, from each pair of uniforms.
   * false (default): only r·cos θ, two uniforms per sample; true: both, in that order.
   */
  readonly useSine?: boolean;
}

/**
 * Normal samples N(0, std²) by Box–Muller from a uniform source in [0, 1): of each pair
 * (u1, u2), r = std·sqrt(-2 ln max(u1, 1e-12)) and θ = 2π·u2. The clamp keeps a draw of exactly
 * 0 finite (it never triggers on {@link uniformOpen01}, whose smallest value is 2^-33).
 */
export function normalSampler(uniform: () => number, options: NormalSamplerOptions = {}): () => number {
  const std = options.std ?? 1;
  const useSine = options.useSine ?? false;
  let pendingSine: number | undefined;
  return () => {
    if (pendingSine !== undefined) {
      const z = pendingSine;
      pendingSine = undefined;
      return z;
    }
    const r = std * Math.sqrt(-2 * Math.log(Math.max(uniform(), 1e-12)));
    const angle = 2 * Math.PI * uniform();
    if (useSine) pendingSine = r * Math.sin(angle);
    return r * Math.cos(angle);
  };
}
