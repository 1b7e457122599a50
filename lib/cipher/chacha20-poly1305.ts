/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305): the 64-byte key splits into
 * K_2 (first 32 bytes: payload and Poly1305 key) and K_1 (last 32: packet_length alone). The nonce
 * is the 64-bit sequence number; block 0 of K_2 yields the Poly1305 key, the payload starts at
 * block 1, and the tag covers the encrypted length and the ciphertext. The negotiated MAC is ignored.
 */
import { createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';
import type { CipherAlgorithm, DirectionKeys, OpeningKey, SealingKey } from './types.js';
import { DisconnectReason, ProtocolError, SshError } from '../errors.js';
import { poly1305 } from './poly1305.js';
import { ChaChaBlock } from './chacha-block.js';
import { assertLive, checkPacketLength, readUint32, sealedPacketLength, writePieces, writeUint32 } from './packet-length.js';

const KEY_LENGTH = 64;
const TAG_LENGTH = 16;
const BLOCK_SIZE = 8;

/**
 * The two ChaCha20 keys of one direction. The short keystreams (4 bytes of K_1, the Poly1305 key
 * from K_2's block 0) come from ChaChaBlock; node:crypto runs the payload from block 1 on. OpenSSL's
 * 16-byte chacha20 IV is a 32-bit little-endian block counter then a 96-bit nonce; OpenSSH's is a
 * 64-bit counter then a 64-bit nonce. With counter 1 and a sequence number below 2^32 both read
 * `01 00 x 11 || seqBE32`.
 */
class ChaChaKeys {
  #mainKey: Buffer;
  readonly #mainBlock: ChaChaBlock;
  readonly #lengthBlock: ChaChaBlock;
  #iv = Buffer.alloc(16);
  destroyed = false;

  constructor(keys: DirectionKeys) {
    if (keys.encryptionKey.length < KEY_LENGTH) {
      throw new SshError(`Cipher chacha20-poly1305@openssh.com needs a ${KEY_LENGTH}-byte key, got ${keys.encryptionKey.length}`);
    }
    this.#mainKey = Buffer.from(keys.encryptionKey.subarray(0, 32));
    this.#mainBlock = new ChaChaBlock(this.#mainKey);
    this.#lengthBlock = new ChaChaBlock(keys.encryptionKey.subarray(32, KEY_LENGTH));
    this.#iv[0] = 1;
  }

  /** PROTOCOL.chacha20poly1305: K_1's first 4 keystream bytes as a big-endian uint32, the mask of packet_length. */
  lengthMask(sequence: number): number {
    return this.#lengthBlock.lengthMask(sequence);
  }

  /** PROTOCOL.chacha20poly1305: a K_2 stream positioned at block 1 for packet `sequence`. */
  payloadStream(sequence: number, decrypt: boolean): { update(data: Uint8Array): Buffer } {
    writeUint32(this.#iv, sequence, 12);
    return decrypt ? createDecipheriv('chacha20', this.#mainKey, this.#iv) : createCipheriv('chacha20', this.#mainKey, this.#iv);
  }

  /**
   * PROTOCOL.chacha20poly1305: the tag of packet `sequence` over the encrypted length and the
   * ciphertext, `head || covered` (the length in `head` where the two lie apart).
   */
  tag(sequence: number, covered: Uint8Array, head?: Uint8Array): Uint8Array {
    writeUint32(this.#iv, sequence, 12);
    // In OpenSSL's layout the IV's last 12 bytes are the RFC 8439 nonce of the same key stream.
    const oneTimeKey = { chachaKey: this.#mainKey, nonce: this.#iv.subarray(4) };
    const tag = poly1305(covered, this.#mainBlock.polyKey(sequence), oneTimeKey, head);
    this.#mainBlock.wipe();
    return tag;
  }

  destroy(): void {
    this.destroyed = true;
    this.#mainKey.fill(0);
    this.#mainBlock.destroy();
    this.#lengthBlock.destroy();
  }
}

/** OpenSSH PROTOCOL.chacha20poly1305 "Packet Handling", inbound. */
class ChaChaOpeningKey implements OpeningKey {
  readonly lengthPrefixBytes = 4;
  readonly tagLength = TAG_LENGTH;
  #keys: ChaChaKeys;

  constructor(keys: DirectionKeys) {
    this.#keys = new ChaChaKeys(keys);
  }

  decryptLength(sequence: number, prefix: Uint8Array): number {
    assertLive(this.#keys.destroyed, 'Opening key');
    return checkPacketLength((readUint32(prefix) ^ this.#keys.lengthMask(sequence)) >>> 0, BLOCK_SIZE, true);
  }

  open(sequence: number, packet: Uint8Array): Uint8Array {
    assertLive(this.#keys.destroyed, 'Opening key');
    const end = packet.length - TAG_LENGTH;
    const stream = this.#keys.payloadStream(sequence, true);
    const expected = this.#keys.tag(sequence, packet.subarray(0, end));
    if (!timingSafeEqual(expected, packet.subarray(end))) {
      throw new ProtocolError(`Bad chacha20-poly1305 tag on packet ${sequence}`, DisconnectReason.macError);
    }
    return stream.update(packet.subarray(4, end));
  }

  destroy(): void {
    this.#keys.destroy();
  }
}

/** OpenSSH PROTOCOL.chacha20poly1305 "Packet Handling", outbound. */
class ChaChaSealingKey implements SealingKey {
  readonly blockSize = BLOCK_SIZE;
  readonly lengthExcludedFromPadding = true;
  readonly tagLength = TAG_LENGTH;
  #keys: ChaChaKeys;

  constructor(keys: DirectionKeys) {
    this.#keys = new ChaChaKeys(keys);
  }

  seal(sequence: number, packet: Uint8Array): Uint8Array {
    return writePieces(packet, this.sealPieces(sequence, packet));
  }

  /** PROTOCOL.chacha20poly1305: the encrypted length, the ciphertext and the tag, none of them in `packet`. */
  sealPieces(sequence: number, packet: Uint8Array): Uint8Array[] {
    assertLive(this.#keys.destroyed, 'Sealing key');
    const end = 4 + sealedPacketLength(packet, TAG_LENGTH, { blockSize: BLOCK_SIZE, lengthExcluded: true });
    const length = new Uint8Array(4);
    writeUint32(length, readUint32(packet) ^ this.#keys.lengthMask(sequence), 0);
    const body = this.#keys.payloadStream(sequence, false).update(packet.subarray(4, end));
    return [length, body, this.#keys.tag(sequence, body, length)];
  }

  destroy(): void {
    this.#keys.destroy();
  }
}

/** OpenSSH PROTOCOL.chacha20poly1305 */
export const chacha20Poly1305: CipherAlgorithm = {
  name: 'chacha20-poly1305@openssh.com',
  keyLength: KEY_LENGTH,
  ivLength: 0,
  blockSize: BLOCK_SIZE,
  aead: true,
  opening: (keys) => new ChaChaOpeningKey(keys),
  sealing: (keys) => new ChaChaSealingKey(keys),
};
