import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { KeyError } from '../../../lib/keys/index.js';
import { desEde3Cbc } from '../../../lib/keys/suites/des.js';

function openssl(options: { key: Uint8Array; iv: Uint8Array; data: Uint8Array; decrypt: boolean; padding: boolean }): Uint8Array {
  const { key, iv, data, decrypt, padding } = options;
  const cipher = decrypt ? createDecipheriv('des-ede3-cbc', key, iv) : createCipheriv('des-ede3-cbc', key, iv);
  cipher.setAutoPadding(padding);
  return new Uint8Array(Buffer.concat([cipher.update(data), cipher.final()]));
}

describe('DES-EDE3-CBC', () => {
  it('encrypts the SP 800-67 style triple-key vector as OpenSSL does', () => {
    // FIPS 81 / SP 800-17 known answer: with K1 = K2 = K3 triple DES is single DES.
    const key = Uint8Array.from(Buffer.from('0123456789abcdef'.repeat(3), 'hex'));
    const plain = Uint8Array.from(Buffer.from('4e6f772069732074', 'hex'));
    const out = desEde3Cbc({ key, iv: new Uint8Array(8), data: plain, decrypt: false, padding: false });
    expect(Buffer.from(out).toString('hex')).toBe('3fa40e8a984d4815');
  });

  it('matches OpenSSL on random keys, IVs and messages, padded and not, both directions', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 80 }), fc.boolean(), (data, padding) => {
        const key = new Uint8Array(randomBytes(24));
        const iv = new Uint8Array(randomBytes(8));
        const message = padding ? data : data.subarray(0, data.length - (data.length % 8));
        const sealed = desEde3Cbc({ key, iv, data: message, decrypt: false, padding });
        expect(Buffer.from(sealed)).toEqual(Buffer.from(openssl({ key, iv, data: message, decrypt: false, padding })));
        expect(Buffer.from(desEde3Cbc({ key, iv, data: sealed, decrypt: true, padding }))).toEqual(Buffer.from(message));
      }),
      { numRuns: 60 },
    );
  });

  it('refuses partial blocks and bad sizes with KeyError, bad padding with an error', () => {
    const key = new Uint8Array(24);
    const iv = new Uint8Array(8);
    expect(() => desEde3Cbc({ key, iv, data: new Uint8Array(7), decrypt: true, padding: false })).toThrow(KeyError);
    expect(() => desEde3Cbc({ key: new Uint8Array(16), iv, data: new Uint8Array(8), decrypt: true, padding: false })).toThrow(
      'DES-EDE3-CBC needs a 24-byte key and an 8-byte IV, got 16 and 8',
    );
    const sealed = desEde3Cbc({ key, iv, data: Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8), decrypt: false, padding: false });
    expect(() => desEde3Cbc({ key, iv, data: sealed, decrypt: true, padding: true })).toThrow(/padding/);
  });
});
