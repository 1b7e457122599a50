/**
 * The portable cipher suite: every cipher and MAC of the registry in synchronous pure JavaScript
 * from the audited `@noble/ciphers` and `@noble/hashes`, for runtimes without node:crypto (the
 * browser). WebCrypto cannot serve here: its operations are asynchronous and the packet stage is
 * not. Installed by lib/platform/web.ts; nothing reachable from here imports a `node:` module.
 */
import type { CipherSuite } from '../suite.js';
import { encryptAndMacAlgorithm } from '../encrypt-and-mac.js';
import { AES128_CTR, AES192_CTR, AES256_CTR } from '../aes-ctr.js';
import { AES256_CBC } from '../aes-cbc.js';
import { CIPHER_NONE } from '../none.js';
import { MAC_ALGORITHMS } from '../mac-algorithms.js';
import { nobleAes128Gcm, nobleAes256Gcm } from '../noble/aes-gcm.js';
import { nobleChacha20Poly1305 } from '../noble/chacha20-poly1305.js';
import { nobleEncryptAndMac } from '../noble/encrypt-and-mac.js';

/** Every cipher and MAC of the registry, computed by `@noble/*`. */
export const webCipherSuite: CipherSuite = {
  name: '@noble',
  ciphers: [
    nobleAes256Gcm,
    nobleAes128Gcm,
    nobleChacha20Poly1305,
    ...[AES256_CTR, AES192_CTR, AES128_CTR, AES256_CBC, CIPHER_NONE].map((c) => encryptAndMacAlgorithm(c, nobleEncryptAndMac)),
  ],
  macs: MAC_ALGORITHMS,
  // Pure-JS ChaCha20-Poly1305 runs about three times faster than pure-JS AES-GCM (bench:floor --suite=web).
  fastestCipher: 'chacha20-poly1305@openssh.com',
};
