/**
 * RFC 5647 AES-GCM as OpenSSH runs it (aes128-gcm@openssh.com, aes256-gcm@openssh.com): the
 * 12-byte nonce is a 4-byte fixed field and an 8-byte invocation counter that grows by one per
 * packet (§7.1), packet_length travels in clear as the AAD (§7.3), and the tag is 16 bytes.
 * The MAC negotiated alongside is ignored (§5.1). A node Cipher per packet, since the IV changes.
 * The node:crypto backend; noble/aes-gcm.ts is the portable one.
 */
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import type { CipherGCM, CipherGCMTypes, DecipherGCM, KeyObject } from 'node:crypto';
import type { CipherAlgorithm, DirectionKeys, OpeningKey, SealingKey } from './types.js';
import { DisconnectReason, ProtocolError } from '../errors.js';
import { GCM_BLOCK_SIZE, GCM_TAG_LENGTH, InvocationCounter, checkGcmKeys, gcmAlgorithm } from './gcm-nonce.js';
import { assertLive, checkPacketLength, readUint32, sealedPacketLength, writePieces } from './packet-length.js';

const TAG_LENGTH = GCM_TAG_LENGTH;
const BLOCK_SIZE = GCM_BLOCK_SIZE;

/**
 * One direction's key and nonce, shared by both strategies. Node derives the AES key schedule
 * faster from a KeyObject than from raw bytes on every packet; the price is that the copy inside
 * the KeyObject cannot be wiped, only released to the collector.
 */
class GcmDirection {
  readonly #nodeCipher: CipherGCMTypes;
  readonly #counter: InvocationCounter;
  /** The counter's nonce as a Buffer view, the type node:crypto takes without conversion. */
  readonly #iv: Buffer;
  #key: KeyObject | undefined;

  constructor(algorithm: CipherAlgorithm, keys: DirectionKeys) {
    const { name, keyLength } = algorithm;
    checkGcmKeys(name, keyLength, keys);
    this.#nodeCipher = `aes-${keyLength * 8}-gcm` as CipherGCMTypes;
    this.#key = createSecretKey(keys.encryptionKey.subarray(0, keyLength));
    this.#counter = new InvocationCounter(keys.iv);
    this.#iv = Buffer.from(this.#counter.iv.buffer, this.#counter.iv.byteOffset, this.#counter.iv.length);
  }

  /** RFC 5647 §7.1: a node cipher for the next packet's nonce; the invocation counter moves on. */
  next(what: 'Sealing key'): CipherGCM;
  next(what: 'Opening key'): DecipherGCM;
  next(what: 'Sealing key' | 'Opening key'): CipherGCM | DecipherGCM {
    assertLive(!this.#key, what);
    const options = { authTagLength: TAG_LENGTH };
    const cipher =
      what === 'Sealing key'
        ? createCipheriv(this.#nodeCipher, this.#key!, this.#iv, options)
        : createDecipheriv(this.#nodeCipher, this.#key!, this.#iv, options);
    this.#counter.increment();
    return cipher;
  }

  assertLive(what: string): void {
    assertLive(!this.#key, what);
  }

  destroy(): void {
    this.#key = undefined;
    this.#counter.iv.fill(0);
  }
}

/** RFC 5647 §7.3 inbound. */
class AesGcmOpeningKey implements OpeningKey {
  readonly lengthPrefixBytes = 4;
  readonly tagLength = TAG_LENGTH;
  readonly #direction: GcmDirection;

  constructor(algorithm: CipherAlgorithm, keys: DirectionKeys) {
    this.#direction = new GcmDirection(algorithm, keys);
  }

  decryptLength(_sequence: number, prefix: Uint8Array): number {
    this.#direction.assertLive('Opening key');
    return checkPacketLength(readUint32(prefix), BLOCK_SIZE, true);
  }

  open(sequence: number, packet: Uint8Array): Uint8Array {
    const end = packet.length - TAG_LENGTH;
    const decipher = this.#direction.next('Opening key');
    decipher.setAAD(packet.subarray(0, 4));
    decipher.setAuthTag(packet.subarray(end));
    // The plaintext is released only after final() has checked the tag.
    const body = decipher.update(packet.subarray(4, end));
    try {
      decipher.final();
    } catch (cause) {
      body.fill(0);
      throw new ProtocolError(`Bad AES-GCM tag on packet ${sequence}`, DisconnectReason.macError, { cause });
    }
    return body;
  }

  destroy(): void {
    this.#direction.destroy();
  }
}

/** RFC 5647 §7.3 outbound. */
class AesGcmSealingKey implements SealingKey {
  readonly blockSize = BLOCK_SIZE;
  readonly lengthExcludedFromPadding = true;
  readonly tagLength = TAG_LENGTH;
  readonly #direction: GcmDirection;

  constructor(algorithm: CipherAlgorithm, keys: DirectionKeys) {
    this.#direction = new GcmDirection(algorithm, keys);
  }

  seal(sequence: number, packet: Uint8Array): Uint8Array {
    return writePieces(packet, this.sealPieces(sequence, packet));
  }

  /** RFC 5647 §7.3: packet_length (in clear), the ciphertext and the tag, none of them in `packet`. */
  sealPieces(_sequence: number, packet: Uint8Array): Uint8Array[] {
    const end = 4 + sealedPacketLength(packet, TAG_LENGTH, { blockSize: BLOCK_SIZE, lengthExcluded: true });
    const cipher = this.#direction.next('Sealing key');
    const length = packet.slice(0, 4);
    cipher.setAAD(length);
    const body = cipher.update(packet.subarray(4, end));
    cipher.final();
    return [length, body, cipher.getAuthTag()];
  }

  destroy(): void {
    this.#direction.destroy();
  }
}

const strategies = { opening: AesGcmOpeningKey, sealing: AesGcmSealingKey };

/** RFC 5647 §6.1 as aes128-gcm@openssh.com */
export const aes128Gcm: CipherAlgorithm = gcmAlgorithm('aes128-gcm@openssh.com', 16, strategies);
/** RFC 5647 §6.2 as aes256-gcm@openssh.com */
export const aes256Gcm: CipherAlgorithm = gcmAlgorithm('aes256-gcm@openssh.com', 32, strategies);
