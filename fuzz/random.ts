/**
 * The fuzzer's seeded randomness: SplitMix32 over a 32-bit state, so a seed and an iteration
 * number replay one case exactly. Not for keys; it only has to be fast and reproducible.
 */

/** A seeded source of numbers and bytes. */
export class FuzzRandom {
  #state: number;

  /**
   * @param seed the campaign seed
   * @param stream a sub-stream (the iteration number), so any case can be replayed alone
   */
  constructor(seed: number, stream = 0) {
    this.#state = (seed ^ Math.imul(stream + 1, 0x9e3779b9)) >>> 0;
    for (let i = 0; i < 4; i++) this.uint32();
  }

  /** The next 32 bits. */
  uint32(): number {
    this.#state = (this.#state + 0x9e3779b9) >>> 0;
    let z = this.#state;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  }

  /** An integer in `[0, n)`. */
  below(n: number): number {
    return n <= 1 ? 0 : Math.floor((this.uint32() / 2 ** 32) * n);
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.uint32() / 2 ** 32 < p;
  }

  /** One element of `items`. */
  pick<T>(items: readonly T[]): T {
    return items[this.below(items.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.uint32() & 0xff;
    return out;
  }
}
