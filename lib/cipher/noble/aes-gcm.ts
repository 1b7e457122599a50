/**
 * RFC 5647 AES-GCM as OpenSSH runs it (aes128-gcm@openssh.com, aes256-gcm@openssh.com),
 * synchronously, from the audited `@noble/ciphers` AES-CTR and the per-key GHASH of ./ghash.ts:
 * packet_length is the AAD and travels in clear (§7.3), the nonce's invocation counter grows by one
 * per packet (gcm-nonce.ts), the tag is 16 bytes. Packets are sealed in place. The portable twin of
 * ../aes-gcm.ts, with the same errors.
 */
import { ctr } from '@noble/ciphers/aes.js';
import type { CipherAlgorithm, DirectionKeys, OpeningKey, SealingKey } from '../types.js';
import { GCM_BLOCK_SIZE, GCM_TAG_LENGTH, InvocationCounter, checkGcmKeys, gcmAlgorithm } from '../gcm-nonce.js';
import { assertLive, badMac, checkPacketLength, readUint32, sealedPacketLength } from '../packet-length.js';
import { constantTimeEqual } from '../../codec/constant-time.js';
import { Ghash } from './ghash.js';

/**
 * One direction's key, nonce and GHASH key. GCM is composed here from noble's AES-CTR and
 * ./ghash.ts so that the hash subkey is expanded once per key rather than once per packet (noble's
 * one-shot `gcm()` rebuilds its GHASH tables on every call).
 */
class GcmDirection {
  readonly #key: Uint8Array;
  readonly #counter: InvocationCounter;
  readonly #ghash: Ghash;
  /** The counter block: nonce || 32-bit block counter (SP 800-38D §7.1: J0 ends in 1, the payload starts at 2). */
  readonly #block = new Uint8Array(16);
  readonly #zero = new Uint8Array(16);
  readonly #tagMask = new Uint8Array(16);
  readonly expectedTag = new Uint8Array(GCM_TAG_LENGTH);
  #destroyed = false;

  constructor(algorithm: CipherAlgorithm, keys: DirectionKeys) {
    checkGcmKeys(algorithm.name, algorithm.keyLength, keys);
    this.#key = new Uint8Array(keys.encryptionKey.subarray(0, algorithm.keyLength));
    this.#counter = new InvocationCounter(keys.iv);
    // SP 800-38D §7.1 step 1: H = CIPH_K(0^128).
    const h = ctr(this.#key, this.#zero).encrypt(this.#zero);
    this.#ghash = new Ghash(h);
    h.fill(0);
  }

  assertLive(what: string): void {
    assertLive(this.#destroyed, what);
  }

  /** RFC 5647 §7.1: sets the counter block to J0 of the next packet and E_K(J0), the tag mask. */
  start(): void {
    this.#block.set(this.#counter.iv);
    this.#block[12] = 0;
    this.#block[13] = 0;
    this.#block[14] = 0;
    this.#block[15] = 1;
    ctr(this.#key, this.#block).encrypt(this.#zero, this.#tagMask);
    this.#block[15] = 2;
  }

  /**
   * SP 800-38D §7.1 steps 3: the payload en/decrypted from counter block 2 into `output` (fresh
   * when absent). noble's CTR carries over the whole 128 bits, the same as GCM's 32-bit increment
   * here: a packet is far below 2^32 blocks.
   */
  crypt(data: Uint8Array, output?: Uint8Array): Uint8Array {
    return ctr(this.#key, this.#block).encrypt(data, output);
  }

  /** SP 800-38D §7.1 steps 5-6: the tag of (AAD, ciphertext) into `out` at `at`; the invocation counter moves on. */
  tag(aad: Uint8Array, ciphertext: Uint8Array, out: Uint8Array, at: number): void {
    this.#ghash.digest(aad, ciphertext, out, at);
    for (let i = 0; i < 16; i++) out[at + i] ^= this.#tagMask[i]!;
    this.#tagMask.fill(0);
    this.#counter.increment();
  }

  destroy(): void {
    this.#destroyed = true;
    this.#key.fill(0);
    this.#counter.iv.fill(0);
    this.#block.fill(0);
    this.#ghash.destroy();
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
    const direction = this.#direction;
    direction.assertLive('Opening key');
    const end = packet.length - GCM_TAG_LENGTH;
    direction.start();
    direction.tag(packet.subarray(0, 4), packet.subarray(4, end), direction.expectedTag, 0);
    // The tag is checked before anything is decrypted: no plaintext exists for a forged packet.
    if (!constantTimeEqual(direction.expectedTag, packet.subarray(end))) throw badMac(sequence, 'AES-GCM tag');
    return direction.crypt(packet.subarray(4, end));
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
    const direction = this.#direction;
    direction.start();
    // In place when the buffer allows it (the packet is ours to seal in place).
    const body = packet.subarray(4, end);
    if (body.byteOffset % 4 === 0) direction.crypt(body, body);
    else body.set(direction.crypt(body));
    direction.tag(packet.subarray(0, 4), body, packet, end);
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
