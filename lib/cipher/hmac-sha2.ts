/**
 * RFC 6668 HMAC-SHA2 (and the OpenSSH encrypt-then-MAC variants, PROTOCOL §1.5) computed by
 * node:crypto: the MAC over `sequence || packet`. Which bytes are covered (plaintext or
 * ciphertext) is decided by the cipher composition that calls it; the algorithm descriptions
 * live in mac-algorithms.ts.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MacAlgorithm } from './types.js';
import type { PacketMac } from './encrypt-and-mac.js';
import { badMac, writeUint32 } from './packet-length.js';

/**
 * One direction's MAC: `mac = MAC(key, sequence_number || covered bytes)` (RFC 4253 §6.4). Node
 * HMAC objects cannot be reset, so each packet gets a fresh one; the key buffer is ours to wipe.
 */
export class NodePacketMac implements PacketMac {
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
    if (tag.length !== expected.length || !timingSafeEqual(expected, tag)) throw badMac(sequence);
  }

  /** Wipes the integrity key. */
  destroy(): void {
    this.#key.fill(0);
  }
}
