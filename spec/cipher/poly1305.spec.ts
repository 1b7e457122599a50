import { createCipheriv, randomBytes } from 'node:crypto';
import { poly1305 as noblePoly1305 } from '@noble/ciphers/_poly1305.js';
import { describe, expect, it } from 'vitest';
import { nativePoly1305, poly1305 } from '../../lib/cipher/poly1305.js';

/** A ChaCha20 key, RFC 8439 nonce and the Poly1305 key block 0 yields for them (RFC 8439 §2.6). */
function oneTimeKey() {
  const chachaKey = randomBytes(32);
  const nonce = randomBytes(12);
  const polyKey = createCipheriv('chacha20', chachaKey, Buffer.concat([Buffer.alloc(4), nonce])).update(Buffer.alloc(64)).subarray(0, 32);
  return { chachaKey, nonce, polyKey };
}

const hexOf = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('poly1305', () => {
  // Every residue modulo 16, an empty first part (16 bytes or fewer), and packet-sized messages.
  const lengths = [
    ...Array.from({ length: 40 }, (_, i) => 1 + i),
    500, 511, 512, 513, 1024, 1036, 1044, 4092, 4095, 4096, 4097, 4096 + 4, 32768 + 12, 32768 + 20, 65536, 70000 + 12,
  ];

  it.each(lengths)('computes the reference Poly1305 of a %i-byte message from the two native AEAD tags', (length) => {
    for (let round = 0; round < 8; round++) {
      const { chachaKey, nonce, polyKey } = oneTimeKey();
      const message = randomBytes(length);
      const native = nativePoly1305(message, polyKey, { chachaKey, nonce });
      expect(native).toBeDefined();
      expect(hexOf(native!)).toBe(hexOf(noblePoly1305(message, polyKey)));
      expect(hexOf(poly1305(message, polyKey, { chachaKey, nonce }))).toBe(hexOf(native!));
    }
  });

  it('agrees with the reference Poly1305 on messages of all 0xff bytes, where the accumulator runs highest', () => {
    const { chachaKey, nonce, polyKey } = oneTimeKey();
    for (const length of [15, 16, 17, 512, 527, 528, 4100]) {
      const message = Buffer.alloc(length, 0xff);
      expect(hexOf(nativePoly1305(message, polyKey, { chachaKey, nonce })!)).toBe(hexOf(noblePoly1305(message, polyKey)));
    }
  });

  it.each([1, 15, 20, 4092, 4096, 4100, 32768 + 20, 65536 + 4])(
    'MACs a 4-byte head in front of a %i-byte message to the tag of the two joined',
    (length) => {
      for (let round = 0; round < 4; round++) {
        const { chachaKey, nonce, polyKey } = oneTimeKey();
        const head = randomBytes(4);
        const message = randomBytes(length);
        const expected = hexOf(noblePoly1305(Buffer.concat([head, message]), polyKey));
        expect(hexOf(poly1305(message, polyKey, { chachaKey, nonce }, head))).toBe(expected);
        if (length >= 16) expect(hexOf(nativePoly1305(message, polyKey, { chachaKey, nonce }, head)!)).toBe(expected);
      }
    },
  );

  it('gives a different tag when one message bit changes', () => {
    const { chachaKey, nonce, polyKey } = oneTimeKey();
    const message = randomBytes(2000);
    const before = hexOf(poly1305(message, polyKey, { chachaKey, nonce }));
    message[1999]! ^= 0x80;
    expect(hexOf(poly1305(message, polyKey, { chachaKey, nonce }))).not.toBe(before);
  });
});
