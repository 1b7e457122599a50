/**
 * RFC 6668 HMAC-SHA2 MACs and their OpenSSH encrypt-then-MAC variants (OpenSSH PROTOCOL §1.5),
 * plus `none` (RFC 4253 §6.4). Owns the MAC computation over `sequence || packet`; which bytes
 * are covered (plaintext or ciphertext) is decided by the cipher composition that calls it.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MacAlgorithm } from './types.js';
import { DisconnectReason, ProtocolError } from '../errors.js';
import { writeUint32 } from './packet-length.js';

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

/**
 * One direction's MAC: `mac = MAC(key, sequence_number || covered bytes)` (RFC 4253 §6.4). Node
 * HMAC objects cannot be reset, so each packet gets a fresh one; the key buffer is ours to wipe.
 */
export class PacketMac {
  readonly length: number;
  #digest: string;
  #key: Buffer;
  #sequence = Buffer.alloc(4);

  constructor(algorithm: MacAlgorithm, key: Uint8Array) {
    this.length = algorithm.macLength;
    this.#digest = algorithm.digest;
    this.#key = Buffer.from(key.subarray(0, algorithm.keyLength));
  }

  /** RFC 4253 §6.4: the MAC over `sequence` followed by `first` and, when given, `second`. */
  compute(sequence: number, first: Uint8Array, second?: Uint8Array): Buffer {
    writeUint32(this.#sequence, sequence);
    const hmac = createHmac(this.#digest, this.#key).update(this.#sequence).update(first);
    if (second) hmac.update(second);
    return hmac.digest();
  }

  /**
   * RFC 4253 §6.4: compares in constant time.
   * @throws ProtocolError (MAC_ERROR) naming the sequence number
   */
  verify(sequence: number, tag: Uint8Array, covered: { first: Uint8Array; second?: Uint8Array }): void {
    const expected = this.compute(sequence, covered.first, covered.second);
    if (tag.length !== expected.length || !timingSafeEqual(expected, tag)) {
      throw new ProtocolError(`Bad MAC on packet ${sequence}`, DisconnectReason.macError);
    }
  }

  /** Wipes the integrity key. */
  destroy(): void {
    this.#key.fill(0);
  }
}
