/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305) on the audited
 * `@noble/ciphers`, synchronously. OpenSSH uses the original ChaCha20 (64-bit nonce, 64-bit block
 * counter), which noble offers as `chacha20orig`: the nonce is the sequence number as a 64-bit
 * big-endian integer; K_1 (last 32 key bytes) encrypts packet_length, K_2 (first 32) yields the
 * Poly1305 key from block 0 and the payload from block 1. The portable twin of
 * ../chacha20-poly1305.ts, with the same errors.
 */
import { chacha20orig } from '@noble/ciphers/chacha.js';
import { poly1305 } from '@noble/ciphers/_poly1305.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import type { CipherAlgorithm, DirectionKeys, OpeningKey, SealingKey } from '../types.js';
import { SshError } from '../../errors.js';
import { assertLive, badMac, checkPacketLength, readUint32, sealedPacketLength, writeUint32 } from '../packet-length.js';

const KEY_LENGTH = 64;
const TAG_LENGTH = 16;
const BLOCK_SIZE = 8;
const POLY_KEY = new Uint8Array(32);

/** One direction's two ChaCha20 keys and the nonce buffer. */
class ChaChaKeys {
  readonly #mainKey: Uint8Array;
  readonly #lengthKey: Uint8Array;
  /** 64-bit big-endian sequence number; the high half stays 0 (sequence numbers are 32-bit). */
  readonly #nonce = new Uint8Array(8);
  destroyed = false;

  constructor(keys: DirectionKeys) {
    if (keys.encryptionKey.length < KEY_LENGTH) {
      throw new SshError(`Cipher chacha20-poly1305@openssh.com needs a ${KEY_LENGTH}-byte key, got ${keys.encryptionKey.length}`);
    }
    this.#mainKey = new Uint8Array(keys.encryptionKey.subarray(0, 32));
    this.#lengthKey = new Uint8Array(keys.encryptionKey.subarray(32, KEY_LENGTH));
  }

  /** PROTOCOL.chacha20poly1305: en/decrypts the 4-byte packet_length with K_1 (XOR is symmetric). */
  length(sequence: number, lengthBytes: Uint8Array): Uint8Array {
    writeUint32(this.#nonce, sequence, 4);
    return chacha20orig(this.#lengthKey, this.#nonce, lengthBytes.subarray(0, 4));
  }

  /** PROTOCOL.chacha20poly1305: the tag over `covered` (encrypted length || ciphertext), keyed by K_2's block 0. */
  tag(sequence: number, covered: Uint8Array): Uint8Array {
    writeUint32(this.#nonce, sequence, 4);
    const polyKey = chacha20orig(this.#mainKey, this.#nonce, POLY_KEY);
    const tag = poly1305(covered, polyKey);
    polyKey.fill(0);
    return tag;
  }

  /** PROTOCOL.chacha20poly1305: en/decrypts the payload with K_2 from block 1. */
  payload(sequence: number, data: Uint8Array): Uint8Array {
    writeUint32(this.#nonce, sequence, 4);
    return chacha20orig(this.#mainKey, this.#nonce, data, undefined, 1);
  }

  destroy(): void {
    this.destroyed = true;
    this.#mainKey.fill(0);
    this.#lengthKey.fill(0);
  }
}

/** OpenSSH PROTOCOL.chacha20poly1305 "Packet Handling", inbound. */
class NobleChaChaOpeningKey implements OpeningKey {
  readonly lengthPrefixBytes = 4;
  readonly tagLength = TAG_LENGTH;
  readonly #keys: ChaChaKeys;

  constructor(keys: DirectionKeys) {
    this.#keys = new ChaChaKeys(keys);
  }

  decryptLength(sequence: number, prefix: Uint8Array): number {
    assertLive(this.#keys.destroyed, 'Opening key');
    return checkPacketLength(readUint32(this.#keys.length(sequence, prefix)), BLOCK_SIZE, true);
  }

  open(sequence: number, packet: Uint8Array): Uint8Array {
    assertLive(this.#keys.destroyed, 'Opening key');
    const end = packet.length - TAG_LENGTH;
    if (!equalBytes(this.#keys.tag(sequence, packet.subarray(0, end)), packet.subarray(end))) {
      throw badMac(sequence, 'chacha20-poly1305 tag');
    }
    return this.#keys.payload(sequence, packet.subarray(4, end));
  }

  destroy(): void {
    this.#keys.destroy();
  }
}

/** OpenSSH PROTOCOL.chacha20poly1305 "Packet Handling", outbound. */
class NobleChaChaSealingKey implements SealingKey {
  readonly blockSize = BLOCK_SIZE;
  readonly lengthExcludedFromPadding = true;
  readonly tagLength = TAG_LENGTH;
  readonly #keys: ChaChaKeys;

  constructor(keys: DirectionKeys) {
    this.#keys = new ChaChaKeys(keys);
  }

  seal(sequence: number, packet: Uint8Array): Uint8Array {
    assertLive(this.#keys.destroyed, 'Sealing key');
    const end = 4 + sealedPacketLength(packet, TAG_LENGTH, { blockSize: BLOCK_SIZE, lengthExcluded: true });
    packet.set(this.#keys.length(sequence, packet), 0);
    packet.set(this.#keys.payload(sequence, packet.subarray(4, end)), 4);
    packet.set(this.#keys.tag(sequence, packet.subarray(0, end)), end);
    return packet;
  }

  destroy(): void {
    this.#keys.destroy();
  }
}

/** OpenSSH PROTOCOL.chacha20poly1305 */
export const nobleChacha20Poly1305: CipherAlgorithm = {
  name: 'chacha20-poly1305@openssh.com',
  keyLength: KEY_LENGTH,
  ivLength: 0,
  blockSize: BLOCK_SIZE,
  aead: true,
  opening: (keys) => new NobleChaChaOpeningKey(keys),
  sealing: (keys) => new NobleChaChaSealingKey(keys),
};
