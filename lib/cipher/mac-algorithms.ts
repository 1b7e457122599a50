/**
 * The MAC algorithms (RFC 6668 HMAC-SHA2, their OpenSSH encrypt-then-MAC variants, OpenSSH
 * PROTOCOL §1.5, and `none`, RFC 4253 §6.4) as data: sizes, placement and the hash. Every cipher
 * suite shares these descriptions; computing a MAC belongs to the suite's backend.
 */
import type { MacAlgorithm } from './types.js';

/** RFC 6668 §2 */
export const hmacSha2_256: MacAlgorithm = {
  name: 'hmac-sha2-256', keyLength: 32, macLength: 32, encryptThenMac: false, digest: 'sha256',
};
/** RFC 6668 §2 */
export const hmacSha2_512: MacAlgorithm = {
  name: 'hmac-sha2-512', keyLength: 64, macLength: 64, encryptThenMac: false, digest: 'sha512',
};
/** OpenSSH PROTOCOL §1.5 */
export const hmacSha2_256Etm: MacAlgorithm = {
  name: 'hmac-sha2-256-etm@openssh.com', keyLength: 32, macLength: 32, encryptThenMac: true, digest: 'sha256',
};
/** OpenSSH PROTOCOL §1.5 */
export const hmacSha2_512Etm: MacAlgorithm = {
  name: 'hmac-sha2-512-etm@openssh.com', keyLength: 64, macLength: 64, encryptThenMac: true, digest: 'sha512',
};
/** RFC 4253 §6.4: no MAC (only before the first NEWKEYS); `digest` is empty because nothing is hashed. */
export const macNone: MacAlgorithm = {
  name: 'none', keyLength: 0, macLength: 0, encryptThenMac: false, digest: '',
};

/** Every MAC, encrypt-then-MAC first: the `macs` of each cipher suite. */
export const MAC_ALGORITHMS: readonly MacAlgorithm[] = [hmacSha2_256Etm, hmacSha2_512Etm, hmacSha2_256, hmacSha2_512, macNone];
