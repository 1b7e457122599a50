import { createCipheriv } from 'node:crypto';
import { ctr } from '@noble/ciphers/aes.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ghash } from '../../../lib/cipher/noble/ghash.js';
import { SshError } from '../../../lib/errors.js';

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

/** SP 800-38D §7.1 for a 96-bit IV, with GHASH from ./ghash.ts and AES from noble: the tag alone. */
function gcmTag(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, ciphertext: Uint8Array): string {
  const zero = new Uint8Array(16);
  const ghash = new Ghash(ctr(key, zero).encrypt(zero));
  const tag = new Uint8Array(20);
  ghash.digest(aad, ciphertext, tag, 2);
  const j0 = new Uint8Array(16);
  j0.set(iv);
  j0[15] = 1;
  const mask = ctr(key, j0).encrypt(zero);
  for (let i = 0; i < 16; i++) tag[2 + i]! ^= mask[i]!;
  return hex(tag.subarray(2, 18));
}

/** node:crypto's AES-GCM (OpenSSL), the independent reference. */
function nodeGcm(key: Uint8Array, iv: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): { ciphertext: Uint8Array; tag: string } {
  const cipher = createCipheriv(key.length === 16 ? 'aes-128-gcm' : 'aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: hex(cipher.getAuthTag()) };
}

describe('Ghash (SP 800-38D GHASH with per-key tables)', () => {
  it('gives the tags of the GCM specification test cases 1 and 2 (all-zero key and IV)', () => {
    const key = new Uint8Array(16);
    const iv = new Uint8Array(12);
    expect(gcmTag(key, iv, new Uint8Array(0), new Uint8Array(0))).toBe('58e2fccefa7e3061367f1d57a4e7455a');
    const ciphertext = Buffer.from('0388dace60b6a392f328c2b971b2fe78', 'hex');
    expect(gcmTag(key, iv, new Uint8Array(0), ciphertext)).toBe('ab6e47d42cec13bdf53a67b21257bddf');
  });

  it('gives node:crypto’s AES-GCM tag for any key, IV, AAD and length (fast-check)', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(16, 32),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 600 }),
        (keyLength, keyBytes, iv, aad, plaintext) => {
          const key = keyBytes.subarray(0, keyLength);
          const { ciphertext, tag } = nodeGcm(key, iv, aad, plaintext);
          expect(gcmTag(key, iv, aad, ciphertext)).toBe(tag);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gives node:crypto’s tag on packet-sized messages with the 4-byte AAD SSH uses', () => {
    for (const length of [16, 32768, 65536 + 16, 262144]) {
      const key = new Uint8Array(32).map((_, i) => i * 29 + length);
      const iv = new Uint8Array(12).map((_, i) => i * 3);
      const aad = new Uint8Array([0, 1, 0, 16]);
      const plaintext = new Uint8Array(length).map((_, i) => i ^ (i >>> 8));
      const { ciphertext, tag } = nodeGcm(key, iv, aad, plaintext);
      expect(gcmTag(key, iv, aad, ciphertext), `length ${length}`).toBe(tag);
    }
  });

  it('refuses a hash subkey that is not 16 bytes, naming its length', () => {
    expect(() => new Ghash(new Uint8Array(15))).toThrow(SshError);
    expect(() => new Ghash(new Uint8Array(15))).toThrow(/16-byte hash subkey, got 15 bytes/);
  });
});
