import { describe, expect, it } from 'vitest';
import { Blowfish } from '../../../lib/keys/formats/blowfish.js';

/** Eric Young's published Blowfish ECB vectors (key, plaintext, ciphertext). */
const vectors = [
  ['0000000000000000', '0000000000000000', '4ef997456198dd78'],
  ['ffffffffffffffff', 'ffffffffffffffff', '51866fd5b85ecb8a'],
  ['3000000000000000', '1000000000000001', '7d856f9a613063f2'],
  ['1111111111111111', '1111111111111111', '2466dd878b963c9d'],
  ['0123456789abcdef', '1111111111111111', '61f9c3802281b096'],
  ['fedcba9876543210', '0123456789abcdef', '0aceab0fc6a0a28d'],
];

describe('Blowfish', () => {
  it.each(vectors)('encrypts %s / %s to %s under the classic key schedule', (key, plain, cipher) => {
    const bf = new Blowfish();
    bf.expand(Buffer.from(key, 'hex'));
    const p = Buffer.from(plain, 'hex');
    bf.encrypt(p.readUInt32BE(0), p.readUInt32BE(4));
    const out = Buffer.alloc(8);
    out.writeUInt32BE(bf.block[0]!, 0);
    out.writeUInt32BE(bf.block[1]!, 4);
    expect(out.toString('hex')).toBe(cipher);
  });
});
