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
import { assertLive, checkPacketLength, readUint32, sealedPacketLength, writeUint32 } from './packet-length.js';

const KEY_LENGTH = 64;
const TAG_LENGTH = 16;
const BLOCK_SIZE = 8;
/** One ChaCha20 block of zeros: encrypting it yields keystream block 0, whose first half is the Poly1305 key. */
const ZERO_BLOCK = new Uint8Array(64);

/**
 * The two ChaCha20 instances of one direction. OpenSSL's 16-byte chacha20 IV is a 32-bit
 * little-endian block counter then a 96-bit nonce; OpenSSH's is a 64-bit counter then a 64-bit
 * nonce. With counter 0 and a sequence number below 2^32 both read `00 x 12 || seqBE32`.
 */
class ChaChaKeys {
  #mainKey: Buffer;
  #lengthKey: Buffer;
  #iv = Buffer.alloc(16);
  destroyed = false;

  constructor(keys: DirectionKeys) {
    if (keys.encryptionKey.length < KEY_LENGTH) {
      throw new SshError(`Cipher chacha20-poly1305@openssh.com needs a ${KEY_LENGTH}-byte key, got ${keys.encryptionKey.length}`);
    }
    this.#mainKey = Buffer.from(keys.encryptionKey.subarray(0, 32));
    this.#lengthKey = Buffer.from(keys.encryptionKey.subarray(32, KEY_LENGTH));
  }

  /** PROTOCOL.chacha20poly1305: en/decrypts the 4-byte packet_length with K_1 (XOR is symmetric). */
  lengthKeystream(sequence: number, lengthBytes: Uint8Array): Buffer {
    writeUint32(this.#iv, sequence, 12);
    return createCipheriv('chacha20', this.#lengthKey, this.#iv).update(lengthBytes.subarray(0, 4));
  }

  /** PROTOCOL.chacha20poly1305: a K_2 stream positioned at block 1, and the Poly1305 key from block 0. */
  payloadStream(sequence: number, decrypt: boolean): { stream: { update(data: Uint8Array): Buffer }; polyKey: Buffer } {
    writeUint32(this.#iv, sequence, 12);
    const stream = decrypt ? createDecipheriv('chacha20', this.#mainKey, this.#iv) : createCipheriv('chacha20', this.#mainKey, this.#iv);
    return { stream, polyKey: stream.update(ZERO_BLOCK).subarray(0, 32) };
  }

  /** PROTOCOL.chacha20poly1305: the tag over `covered` (encrypted length || ciphertext) for the last payloadStream. */
  tag(covered: Uint8Array, polyKey: Uint8Array): Uint8Array {
    // In OpenSSL's layout the IV's last 12 bytes are the RFC 8439 nonce of the same key stream.
    return poly1305(covered, polyKey, { chachaKey: this.#mainKey, nonce: this.#iv.subarray(4) });
  }

  destroy(): void {
    this.destroyed = true;
    this.#mainKey.fill(0);
    this.#lengthKey.fill(0);
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
    return checkPacketLength(readUint32(this.#keys.lengthKeystream(sequence, prefix)), BLOCK_SIZE, true);
  }

  open(sequence: number, packet: Uint8Array): Uint8Array {
    assertLive(this.#keys.destroyed, 'Opening key');
    const end = packet.length - TAG_LENGTH;
    const { stream, polyKey } = this.#keys.payloadStream(sequence, true);
    const expected = this.#keys.tag(packet.subarray(0, end), polyKey);
    polyKey.fill(0);
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
    assertLive(this.#keys.destroyed, 'Sealing key');
    const end = 4 + sealedPacketLength(packet, TAG_LENGTH, { blockSize: BLOCK_SIZE, lengthExcluded: true });
    packet.set(this.#keys.lengthKeystream(sequence, packet), 0);
    const { stream, polyKey } = this.#keys.payloadStream(sequence, false);
    packet.set(stream.update(packet.subarray(4, end)), 4);
    packet.set(this.#keys.tag(packet.subarray(0, end), polyKey), end);
    polyKey.fill(0);
    return packet;
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
