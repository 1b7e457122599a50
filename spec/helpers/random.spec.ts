import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createDeterministicRandom, randomBytes } from './random.js';

describe('createDeterministicRandom', () => {
  it('is SHA-256 of the seed and a big-endian block counter', () => {
    const counter = (i: number): Buffer => Buffer.from([0, 0, 0, 0, 0, 0, 0, i]);
    const expected = Buffer.concat([
      createHash('sha256').update('seed').update(counter(0)).digest(),
      createHash('sha256').update('seed').update(counter(1)).digest(),
    ]);
    expect(Buffer.from(randomBytes(64, 'seed'))).toEqual(expected);
  });

  it('gives the same stream however the reads are sized', () => {
    const random = createDeterministicRandom('sizes');
    const pieces = [random.bytes(1), random.bytes(31), random.bytes(0), random.bytes(40)];
    expect(Buffer.concat(pieces)).toEqual(Buffer.from(randomBytes(72, 'sizes')));
  });

  it('differs between seeds', () => {
    expect(randomBytes(32, 'a')).not.toEqual(randomBytes(32, 'b'));
  });

  it('picks integers below the bound and reaches all of them', () => {
    const random = createDeterministicRandom('below');
    const seen = new Set<number>();
    for (let i = 0; i < 500; i++) {
      const value = random.below(7);
      expect(value).toBeGreaterThanOrEqual(0);
      expect(value).toBeLessThan(7);
      seen.add(value);
    }
    expect(seen.size).toBe(7);
  });

  it('rejects a negative byte count', () => {
    expect(() => createDeterministicRandom().bytes(-1)).toThrow(/non-negative integer, got -1/);
  });
});
