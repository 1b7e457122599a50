/**
 * RFC 5647 AES-GCM as OpenSSH runs it (aes128-gcm@openssh.com, aes256-gcm@openssh.com) on the
 * audited `@noble/ciphers`, synchronously: packet_length is the AAD and travels in clear (§7.3),
 * the nonce's invocation counter grows by one per packet (gcm-nonce.ts), the tag is 16 bytes.
 * The portable twin of ../aes-gcm.ts, with the same errors.
 */
import { gcm } from '@noble/ciphers/aes.js';
import type { CipherAlgorithm, DirectionKeys, OpeningKey, SealingKey } from '../types.js';
import { GCM_BLOCK_SIZE, GCM_TAG_LENGTH, InvocationCounter, checkGcmKeys, gcmAlgorithm } from '../gcm-nonce.js';
import { assertLive, badMac, checkPacketLength, readUint32, sealedPacketLength } from '../packet-length.js';

/** One direction's key and nonce. */
class GcmDirection {
  #key: Uint8Array;
  readonly #counter: InvocationCounter;
  #destroyed = false;

  constructor(algorithm: CipherAlgorithm, keys: DirectionKeys) {
    checkGcmKeys(algorithm.name, algorithm.keyLength, keys);
    this.#key = new Uint8Array(keys.encryptionKey.subarray(0, algorithm.keyLength));
    this.#counter = new InvocationCounter(keys.iv);
  }

  /** RFC 5647 §7.1, §7.3: the AEAD for the next packet (AAD: its clear length); the counter moves on. */
  next(what: string, lengthField: Uint8Array): ReturnType<typeof gcm> {
    assertLive(this.#destroyed, what);
    const aead = gcm(this.#key, new Uint8Array(this.#counter.iv), new Uint8Array(lengthField));
    this.#counter.increment();
    return aead;
  }

  assertLive(what: string): void {
    assertLive(this.#destroyed, what);
  }

  destroy(): void {
    this.#destroyed = true;
    this.#key.fill(0);
    this.#counter.iv.fill(0);
  }
}

/** RFC 5647 §7.3 inbound. */
class NobleGcmOpeningKey implements OpeningKey {
  readonly lengthPrefixBytes = 4;
  readonly tagLength = GCM_TAG_LENGTH;
  readonly #direction: GcmDirection;

  constructor(algorithm: CipherAlgorithm, keys: DirectionKeys) {
    this.#direction = new GcmDirection(algorithm, keys);
  }

  decryptLength(_sequence: number, prefix: Uint8Array): number {
    this.#direction.assertLive('Opening key');
    return checkPacketLength(readUint32(prefix), GCM_BLOCK_SIZE, true);
  }

  open(sequence: number, packet: Uint8Array): Uint8Array {
    const aead = this.#direction.next('Opening key', packet.subarray(0, 4));
    try {
      // noble checks the tag before it decrypts: no plaintext exists for a forged packet.
      return aead.decrypt(packet.subarray(4));
    } catch (cause) {
      throw badMac(sequence, 'AES-GCM tag', { cause });
    }
  }

  destroy(): void {
    this.#direction.destroy();
  }
}

/** RFC 5647 §7.3 outbound. */
class NobleGcmSealingKey implements SealingKey {
  readonly blockSize = GCM_BLOCK_SIZE;
  readonly lengthExcludedFromPadding = true;
  readonly tagLength = GCM_TAG_LENGTH;
  readonly #direction: GcmDirection;

  constructor(algorithm: CipherAlgorithm, keys: DirectionKeys) {
    this.#direction = new GcmDirection(algorithm, keys);
  }

  seal(_sequence: number, packet: Uint8Array): Uint8Array {
    this.#direction.assertLive('Sealing key');
    const end = 4 + sealedPacketLength(packet, GCM_TAG_LENGTH, { blockSize: GCM_BLOCK_SIZE, lengthExcluded: true });
    const aead = this.#direction.next('Sealing key', packet.subarray(0, 4));
    // Ciphertext followed by the tag: exactly the bytes after the length.
    packet.set(aead.encrypt(packet.subarray(4, end)), 4);
    return packet;
  }

  destroy(): void {
    this.#direction.destroy();
  }
}

const strategies = { opening: NobleGcmOpeningKey, sealing: NobleGcmSealingKey };

/** RFC 5647 §6.1 as aes128-gcm@openssh.com */
export const nobleAes128Gcm: CipherAlgorithm = gcmAlgorithm('aes128-gcm@openssh.com', 16, strategies);
/** RFC 5647 §6.2 as aes256-gcm@openssh.com */
export const nobleAes256Gcm: CipherAlgorithm = gcmAlgorithm('aes256-gcm@openssh.com', 32, strategies);
