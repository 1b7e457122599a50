import { describe, expect, it } from 'vitest';
import { bcryptPbkdf } from '../../../lib/keys/formats/bcrypt-pbkdf.js';

/** OpenBSD regress vectors for bcrypt_pbkdf (password, salt, rounds, key). */
const vectors: [string, string, number, string][] = [
  ['password', 'salt', 4, '5bbf0cc293587f1c3635555c27796598d47e579071bf427e9d8fbe842aba34d9'],
  ['password', '\0', 4, 'c12b566235eee04c212598970a579a67'],
  ['\0', 'salt', 4, '6051be18c2f4f82cbf0efee5471b4bb9'],
  ['password\0', 'salt\0', 4, '7410e44cf4fa07bfaac8a928b1727fac001375e7bf7384370f48efd121743050'],
];

describe('bcryptPbkdf', () => {
  it.each(vectors)('derives the OpenBSD vector for %j / %j in %i rounds', async (password, salt, rounds, expected) => {
    const key = await bcryptPbkdf(Buffer.from(password, 'latin1'), Buffer.from(salt, 'latin1'), { keyLength: expected.length / 2, rounds });
    expect(Buffer.from(key).toString('hex')).toBe(expected);
  });

  it('derives the 48 bytes of an aes256-ctr key and IV with the default 16 rounds in interactive time', async () => {
    const started = performance.now();
    const key = await bcryptPbkdf(Buffer.from('secret'), new Uint8Array(16), { keyLength: 48, rounds: 16 });
    expect(key.length).toBe(48);
    expect(performance.now() - started).toBeLessThan(5000);
  });

  it('lets the event loop run between bcrypt hashes instead of holding it for the whole derivation', async () => {
    let turns = 0;
    let running = true;
    const spin = (): void => {
      turns++;
      if (running) setImmediate(spin);
    };
    setImmediate(spin);
    // 48 bytes = 2 output blocks of 16 rounds each: 32 bcrypt hashes.
    await bcryptPbkdf(Buffer.from('secret'), new Uint8Array(16), { keyLength: 48, rounds: 16 });
    running = false;
    expect(turns).toBeGreaterThanOrEqual(30);
  });
});
