/**
 * RFC 4344 §4 AES in counter mode: the IV is the initial 128-bit counter, carried from packet to
 * packet by one long-lived node Cipher per direction. Being a stream mode, only the 4 length bytes
 * must be decrypted before the packet's size is known. Composition with the MAC: encrypt-and-mac.ts.
 */
import type { CipherAlgorithm } from './types.js';
import { encryptAndMacAlgorithm } from './encrypt-and-mac.js';

/** RFC 4344 §4 */
export const aes128Ctr: CipherAlgorithm = encryptAndMacAlgorithm({
  name: 'aes128-ctr', nodeCipher: 'aes-128-ctr', keyLength: 16, ivLength: 16, blockSize: 16, lengthPrefixBytes: 4,
});
/** RFC 4344 §4 */
export const aes192Ctr: CipherAlgorithm = encryptAndMacAlgorithm({
  name: 'aes192-ctr', nodeCipher: 'aes-192-ctr', keyLength: 24, ivLength: 16, blockSize: 16, lengthPrefixBytes: 4,
});
/** RFC 4344 §4 */
export const aes256Ctr: CipherAlgorithm = encryptAndMacAlgorithm({
  name: 'aes256-ctr', nodeCipher: 'aes-256-ctr', keyLength: 32, ivLength: 16, blockSize: 16, lengthPrefixBytes: 4,
});
