/**
 * Deterministic randomness for specs: SHA-256 in counter mode over a seed, so a config's
 * `randomBytes`, a padding choice or a chunk split repeats exactly from one run to the next.
 * Not for keys that protect anything; it only has to be reproducible and well spread.
 */
import { createHash } from 'node:crypto';

/** A seeded byte source with a few conveniences for picking numbers. */
export interface DeterministicRandom {
  /** The next `n` bytes of the stream. */
  bytes(n: number): Uint8Array;
  /** The next 32 bits as an unsigned integer. */
  uint32(): number;
  /** An integer in `[0, maxExclusive)`, without modulo bias. */
  below(maxExclusive: number): number;
  /** `bytes` bound to this source, shaped like `SessionConfig.randomBytes`. */
  readonly randomBytes: (n: number) => Uint8Array;
}

/**
 * A byte stream that is a pure function of its seed: block i is SHA-256(seed || uint64be(i)).
 * @param seed any string or bytes; equal seeds give equal streams
 * @returns the source, positioned at its first byte
 */
export function createDeterministicRandom(seed: string | Uint8Array = 'ssh-streams'): DeterministicRandom {
  const seedBytes = typeof seed === 'string' ? new TextEncoder().encode(seed) : seed.slice();
  const counter = new Uint8Array(8);
  const counterView = new DataView(counter.buffer);
  let block = 0n;
  let pool = new Uint8Array(0);
  let poolOffset = 0;

  function refill(): void {
    counterView.setBigUint64(0, block);
    block += 1n;
    pool = new Uint8Array(createHash('sha256').update(seedBytes).update(counter).digest());
    poolOffset = 0;
  }

  function bytes(n: number): Uint8Array {
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`Byte count must be a non-negative integer, got ${n}`);
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      if (poolOffset === pool.length) refill();
      const take = Math.min(n - filled, pool.length - poolOffset);
      out.set(pool.subarray(poolOffset, poolOffset + take), filled);
      poolOffset += take;
      filled += take;
    }
    return out;
  }

  function uint32(): number {
    const b = bytes(4);
    return new DataView(b.buffer).getUint32(0);
  }

  function below(maxExclusive: number): number {
    if (!Number.isInteger(maxExclusive) || maxExclusive < 1 || maxExclusive > 2 ** 32) {
      throw new RangeError(`Upper bound must be an integer in [1, 2^32], got ${maxExclusive}`);
    }
    // Rejection sampling: drop the top values that would make some results more likely.
    const limit = 2 ** 32 - (2 ** 32 % maxExclusive);
    for (;;) {
      const value = uint32();
      if (value < limit) return value % maxExclusive;
    }
  }

  return { bytes, uint32, below, randomBytes: bytes };
}

/**
 * The first `n` bytes of the deterministic stream for `seed`.
 * @param n how many bytes
 * @param seed the stream's seed
 * @returns the same bytes for the same arguments, every run
 */
export function randomBytes(n: number, seed: string | Uint8Array = 'ssh-streams'): Uint8Array {
  return createDeterministicRandom(seed).bytes(n);
}
