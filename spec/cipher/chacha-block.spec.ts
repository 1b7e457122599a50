import { createCipheriv } from 'node:crypto';
import { chacha20orig } from '@noble/ciphers/chacha.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ChaChaBlock } from '../../lib/cipher/chacha-block.js';

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** OpenSSH's nonce: the sequence number as a 64-bit big-endian integer. */
function nonceOf(sequence: number): Uint8Array {
  const nonce = new Uint8Array(8);
  new DataView(nonce.buffer).setUint32(4, sequence);
  return nonce;
}

describe('ChaChaBlock', () => {
  it('yields the keystream block of the original ChaCha20 for any key, sequence number and counter (noble chacha20orig)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 0xffffffff }), fc.nat({ max: 0xffffffff }), (key, sequence, counter) => {
        const expected = chacha20orig(key, nonceOf(sequence), new Uint8Array(64), undefined, counter);
        expect(hexOf(new ChaChaBlock(key).compute(sequence, counter))).toBe(hexOf(expected));
      }),
      { seed: 0x5eed, numRuns: 300 },
    );
  });

  it("matches OpenSSL's chacha20 (32-bit counter, 96-bit nonce) where the two layouts coincide", () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 0xffffffff }), fc.constantFrom(0, 1, 2, 0x7fffffff), (key, sequence, counter) => {
        const iv = Buffer.alloc(16);
        iv.writeUInt32LE(counter, 0);
        iv.writeUInt32BE(sequence, 12);
        const expected = createCipheriv('chacha20', key, iv).update(Buffer.alloc(64));
        expect(hexOf(new ChaChaBlock(key).compute(sequence, counter))).toBe(hexOf(expected));
      }),
      { seed: 0xc4a, numRuns: 200 },
    );
  });

  it('reuses one block buffer: a later call overwrites it, and wipe and destroy zero it', () => {
    const block = new ChaChaBlock(new Uint8Array(32).fill(7));
    const first = hexOf(block.compute(1, 0));
    const view = block.compute(2, 0);
    expect(hexOf(view)).not.toBe(first);
    expect(block.compute(1, 0)).toBe(view);
    expect(hexOf(view)).toBe(first);
    block.wipe();
    expect(view.every((byte) => byte === 0)).toBe(true);
    block.compute(3, 1);
    block.destroy();
    expect(view.every((byte) => byte === 0)).toBe(true);
    expect(hexOf(block.compute(1, 0))).not.toBe(first);
  });

  it('gives the packet_length mask (block 0, first 4 bytes big-endian, then wiped) and the Poly1305 key (block 0, first 32 bytes)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.nat({ max: 0xffffffff }), (key, sequence) => {
        const expected = chacha20orig(key, nonceOf(sequence), new Uint8Array(64));
        const block = new ChaChaBlock(key);
        expect(block.lengthMask(sequence)).toBe(new DataView(expected.buffer).getUint32(0));
        expect(block.block.every((byte) => byte === 0)).toBe(true);
        expect(hexOf(block.polyKey(sequence))).toBe(hexOf(expected.subarray(0, 32)));
      }),
      { seed: 0x1e9, numRuns: 100 },
    );
  });

  it('rejects a key that is not 32 bytes, naming its length', () => {
    expect(() => new ChaChaBlock(new Uint8Array(16))).toThrow(/32-byte key, got 16/);
  });
});
