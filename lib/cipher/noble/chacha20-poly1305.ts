/**
 * chacha20-poly1305@openssh.com (OpenSSH PROTOCOL.chacha20poly1305) on the audited
 * `@noble/ciphers`, synchronously. OpenSSH uses the original ChaCha20 (64-bit nonce, 64-bit block
 * counter), which noble offers as `chacha20orig`: the nonce is the sequence number as a 64-bit
 * big-endian integer; K_1 (last 32 key bytes) encrypts packet_length, K_2 (first 32) yields the
 * Poly1305 key from block 0 and the payload from block 1. Poly1305 is ./poly1305.ts (RFC 8439,
 * about twice noble's speed); each direction keeps its keys and scratch buffers and seals in place,
 * so a packet costs no allocation but the opened plaintext. The portable twin of
 * ../chacha20-poly1305.ts, with the same errors.
 */
import { chacha20orig } from '@noble/ciphers/chacha.js';
import type { CipherAlgorithm, DirectionKeys, OpeningKey, SealingKey } from '../types.js';
import { SshError } from '../../errors.js';
import { constantTimeEqual } from '../../codec/constant-time.js';
import { assertLive, badMac, checkPacketLength, readUint32, sealedPacketLength, writeUint32 } from '../packet-length.js';
import { poly1305Into } from './poly1305.js';
import { ChaChaBlock } from '../chacha-block.js';

const KEY_LENGTH = 64;
const TAG_LENGTH = 16;
const BLOCK_SIZE = 8;

/** noble writes into a caller's buffer only when it is 4-byte aligned. */
function aligned(bytes: Uint8Array): boolean {
  return bytes.byteOffset % 4 === 0;
}

/**
 * One direction's two ChaCha20 keys, with the buffers every packet reuses: the nonce, the
 * Poly1305 one-time key (wiped after each packet) and the tag being checked. The two short
 * keystreams come from ChaChaBlock, which (unlike a library call) copies no key per packet.
 */
class ChaChaKeys {
  readonly #mainKey: Uint8Array;
  readonly #mainBlock: ChaChaBlock;
  readonly #lengthBlock: ChaChaBlock;
  /** 64-bit big-endian sequence number; the high half stays 0 (sequence numbers are 32-bit). */
  readonly #nonce = new Uint8Array(8);
  #sequence = 0;
  readonly expectedTag = new Uint8Array(TAG_LENGTH);
  destroyed = false;

  constructor(keys: DirectionKeys) {
    if (keys.encryptionKey.length < KEY_LENGTH) {
      throw new SshError(`Cipher chacha20-poly1305@openssh.com needs a ${KEY_LENGTH}-byte key, got ${keys.encryptionKey.length}`);
    }
    this.#mainKey = new Uint8Array(keys.encryptionKey.subarray(0, 32));
    this.#mainBlock = new ChaChaBlock(this.#mainKey);
    this.#lengthBlock = new ChaChaBlock(keys.encryptionKey.subarray(32, KEY_LENGTH));
  }

  /** Sets the nonce for packet `sequence`; every call below uses it. */
  start(sequence: number): void {
    this.#sequence = sequence;
    writeUint32(this.#nonce, sequence, 4);
  }

  /** PROTOCOL.chacha20poly1305: K_1's first 4 keystream bytes as a big-endian uint32, the mask of packet_length. */
  lengthMask(): number {
    return this.#lengthBlock.lengthMask(this.#sequence);
  }

  /** PROTOCOL.chacha20poly1305: the tag over `covered` (encrypted length || ciphertext), keyed by K_2's block 0, into `out` at `at`. */
  tag(covered: Uint8Array, out: Uint8Array, at: number): void {
    poly1305Into(this.#mainBlock.polyKey(this.#sequence), covered, out, at);
    this.#mainBlock.wipe();
  }

  /** PROTOCOL.chacha20poly1305: the payload en/decrypted with K_2 from block 1, into `output` (fresh when absent). */
  payload(data: Uint8Array, output?: Uint8Array): Uint8Array {
    return chacha20orig(this.#mainKey, this.#nonce, data, output, 1);
  }

  destroy(): void {
    this.destroyed = true;
    this.#mainKey.fill(0);
    this.#mainBlock.destroy();
    this.#lengthBlock.destroy();
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
    this.#keys.start(sequence);
    return checkPacketLength((readUint32(prefix) ^ this.#keys.lengthMask()) >>> 0, BLOCK_SIZE, true);
  }

  open(sequence: number, packet: Uint8Array): Uint8Array {
    assertLive(this.#keys.destroyed, 'Opening key');
    const end = packet.length - TAG_LENGTH;
    const keys = this.#keys;
    keys.start(sequence);
    keys.tag(packet.subarray(0, end), keys.expectedTag, 0);
    if (!constantTimeEqual(keys.expectedTag, packet.subarray(end))) throw badMac(sequence, 'chacha20-poly1305 tag');
    // The plaintext goes to a fresh buffer: `packet` may be a view of bytes the reader does not own.
    return keys.payload(packet.subarray(4, end));
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
    const keys = this.#keys;
    keys.start(sequence);
    writeUint32(packet, readUint32(packet) ^ keys.lengthMask(), 0);
    // In place when the buffer allows it (the packet is ours to seal in place).
    const body = packet.subarray(4, end);
    if (aligned(body)) keys.payload(body, body);
    else body.set(keys.payload(body));
    keys.tag(packet.subarray(0, end), packet, end);
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
