/**
 * The node:crypto cipher suite: OpenSSL does every packet's AES, ChaCha20 and HMAC natively (the
 * fast path on Node, and on Bun and Deno through their node:crypto). Bun's node:crypto is built on
 * BoringSSL and has no `chacha20` cipher; there chacha20-poly1305@openssh.com comes from the
 * portable `@noble` implementation instead (decided once, at load). Installed by
 * lib/platform/node.ts.
 */
import { createCipheriv, createDecipheriv, getCiphers } from 'node:crypto';
import type { CipherSuite } from '../suite.js';
import type { CipherStream, EncryptAndMacBackend, EncryptAndMacCipher } from '../encrypt-and-mac.js';
import { encryptAndMacAlgorithm } from '../encrypt-and-mac.js';
import { aes128Gcm, aes256Gcm } from '../aes-gcm.js';
import { chacha20Poly1305 } from '../chacha20-poly1305.js';
import { AES128_CTR, AES192_CTR, AES256_CTR } from '../aes-ctr.js';
import { AES256_CBC } from '../aes-cbc.js';
import { CIPHER_NONE } from '../none.js';
import { MAC_ALGORITHMS } from '../mac-algorithms.js';
import { NodePacketMac } from '../hmac-sha2.js';

const nativeCiphers = new Set(getCiphers());
const hasNativeChaCha = nativeCiphers.has('chacha20') && nativeCiphers.has('chacha20-poly1305');
/**
 * Loaded only where node:crypto lacks ChaCha20 (Bun): each module loaded for nothing enlarges the
 * old generation, and measurably makes the data path's collector run full collections more often.
 */
const portableChacha = hasNativeChaCha ? undefined : (await import('../noble/chacha20-poly1305.js')).nobleChacha20Poly1305;

/** One long-lived node Cipher per direction: it carries the CTR counter or CBC chain itself. */
const nodeEncryptAndMac: EncryptAndMacBackend = {
  createStream(cipher: EncryptAndMacCipher, key, iv, decrypt): CipherStream {
    const nodeCipher = `aes-${cipher.keyLength * 8}-${cipher.mode}`;
    const stream = decrypt ? createDecipheriv(nodeCipher, key, iv) : createCipheriv(nodeCipher, key, iv);
    // SSH pads packets itself (RFC 4253 §6); OpenSSL must neither add nor strip padding.
    stream.setAutoPadding(false);
    return stream;
  },
  createMac: (mac, key) => new NodePacketMac(mac, key),
};

/** Every cipher and MAC of the registry, computed by node:crypto. */
export const nodeCipherSuite: CipherSuite = {
  name: 'node:crypto',
  ciphers: [
    aes256Gcm,
    aes128Gcm,
    portableChacha ?? chacha20Poly1305,
    ...[AES256_CTR, AES192_CTR, AES128_CTR, AES256_CBC, CIPHER_NONE].map((c) => encryptAndMacAlgorithm(c, nodeEncryptAndMac)),
  ],
  macs: MAC_ALGORITHMS,
};
