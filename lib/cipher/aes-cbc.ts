/**
 * RFC 4253 §6.3 aes256-cbc, as data: the chain runs across packets (the last ciphertext block is
 * the next packet's IV), so one stream per direction lives as long as the keys. The whole first
 * block must be decrypted to read packet_length. Kept for old peers only; not in any default list.
 */
import type { EncryptAndMacCipher } from './encrypt-and-mac.js';

/** RFC 4253 §6.3 */
export const AES256_CBC: EncryptAndMacCipher = {
  name: 'aes256-cbc', mode: 'cbc', keyLength: 32, ivLength: 16, blockSize: 16, lengthPrefixBytes: 16,
};
