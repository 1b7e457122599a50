/**
 * RFC 4253 §6.3 `none`, as data: packets travel in clear with 8-byte alignment, as before the
 * first NEWKEYS. With the `none` MAC there is no tag; with a real MAC the packet is still
 * authenticated.
 */
import type { EncryptAndMacCipher } from './encrypt-and-mac.js';

/** RFC 4253 §6.3 */
export const CIPHER_NONE: EncryptAndMacCipher = {
  name: 'none', mode: undefined, keyLength: 0, ivLength: 0, blockSize: 8, lengthPrefixBytes: 4,
};
