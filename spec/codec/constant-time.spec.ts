import { describe, expect, it } from 'vitest';
import { constantTimeEqual } from '../../lib/codec/constant-time.js';
import { createDeterministicRandom } from '../helpers/random.js';

describe('constantTimeEqual', () => {
  it('agrees with a plain comparison on equal, nearly equal and different inputs', () => {
    const random = createDeterministicRandom('constant-time');
    for (let round = 0; round < 500; round++) {
      const a = random.bytes(random.below(40));
      const b = round % 3 === 0 ? a.slice() : random.bytes(random.below(3) === 0 ? a.length : random.below(40));
      if (round % 5 === 0 && b.length > 0) b[random.below(b.length)]! ^= 1 << random.below(8);
      const same = a.length === b.length && a.every((x, i) => x === b[i]);
      expect(constantTimeEqual(a, b)).toBe(same);
      expect(constantTimeEqual(a, a.slice())).toBe(true);
    }
  });

  it('finds a difference in the last byte and a length difference', () => {
    expect(constantTimeEqual(new Uint8Array([1, 2, 3]), new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array([1, 2]), new Uint8Array([1, 2, 0]))).toBe(false);
    expect(constantTimeEqual(new Uint8Array(0), new Uint8Array(0))).toBe(true);
  });
});
