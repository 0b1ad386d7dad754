/**
 * The one seeded PRNG (mulberry32): uniform in [0, 1), small and fast. The ECI emulator's faults and placement and
 * the chaos campaign draw from it, so a run is reproducible from its seed.
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
