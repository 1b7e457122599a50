/**
 * RFC 4344 §4 AES in counter mode, as data: the IV is the initial 128-bit counter, carried from
 * packet to packet by one long-lived stream per direction. Being a stream mode, only the 4 length
 * bytes must be decrypted before the packet's size is known. Composition with the MAC:
 * encrypt-and-mac.ts; the stream itself: the cipher suite's backend.
 */
import type { EncryptAndMacCipher } from './encrypt-and-mac.js';

/** RFC 4344 §4 */
export const AES128_CTR: EncryptAndMacCipher = {
  name: 'aes128-ctr', mode: 'ctr', keyLength: 16, ivLength: 16, blockSize: 16, lengthPrefixBytes: 4,
};
/** RFC 4344 §4 */
export const AES192_CTR: EncryptAndMacCipher = {
  name: 'aes192-ctr', mode: 'ctr', keyLength: 24, ivLength: 16, blockSize: 16, lengthPrefixBytes: 4,
};
/** RFC 4344 §4 */
export const AES256_CTR: EncryptAndMacCipher = {
  name: 'aes256-ctr', mode: 'ctr', keyLength: 32, ivLength: 16, blockSize: 16, lengthPrefixBytes: 4,
};
