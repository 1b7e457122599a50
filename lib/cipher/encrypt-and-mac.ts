/**
 * Packet protection from a non-AEAD cipher plus a MAC (RFC 4253 §6.3-6.4, RFC 4344; OpenSSH
 * PROTOCOL §1.5 for encrypt-then-MAC). One long-lived node Cipher per direction carries the CTR
 * counter or CBC chain across packets, so each packet costs one update() and one HMAC. The cipher
 * definitions themselves live in aes-ctr.ts, aes-cbc.ts and none.ts.
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import type { Cipher, Decipher } from 'node:crypto';
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, OpeningKey, SealingKey } from './types.js';
import { SshError } from '../errors.js';
import { PacketMac } from './hmac-sha2.js';
import { assertLive, checkPacketLength, readUint32, sealedPacketLength } from './packet-length.js';

/** How a non-AEAD cipher is built from node:crypto. */
export interface EncryptAndMacCipher {
  /** RFC 4253 §6.3 wire name. */
  name: string;
  /** node:crypto cipher name, or undefined for `none`. */
  nodeCipher: string | undefined;
  keyLength: number;
  ivLength: number;
  blockSize: number;
  /** Ciphertext bytes that must be decrypted to learn packet_length: 4 for a stream mode, the block for CBC. */
  lengthPrefixBytes: number;
}

/**
 * Builds the CipherAlgorithm for a cipher that needs a separate MAC.
 * @throws SshError when `mac` is missing: the negotiation must pass one for non-AEAD ciphers
 */
export function encryptAndMacAlgorithm(cipher: EncryptAndMacCipher): CipherAlgorithm {
  const { name, keyLength, ivLength, blockSize } = cipher;
  return {
    name, keyLength, ivLength, blockSize, aead: false,
    opening: (keys, mac) => new EncryptAndMacOpeningKey(cipher, keys, requireMac(name, mac)),
    sealing: (keys, mac) => new EncryptAndMacSealingKey(cipher, keys, requireMac(name, mac)),
  };
}

function requireMac(cipher: string, mac: MacAlgorithm | undefined): MacAlgorithm {
  if (!mac) throw new SshError(`Cipher ${cipher} needs a MAC algorithm`);
  return mac;
}

function createStream(cipher: EncryptAndMacCipher, keys: DirectionKeys, decrypt: boolean): Cipher | Decipher | undefined {
  if (!cipher.nodeCipher) return undefined;
  if (keys.encryptionKey.length < cipher.keyLength || keys.iv.length < cipher.ivLength) {
    throw new SshError(
      `Cipher ${cipher.name} needs a ${cipher.keyLength}-byte key and ${cipher.ivLength}-byte IV, got ${keys.encryptionKey.length} and ${keys.iv.length}`,
    );
  }
  const key = keys.encryptionKey.subarray(0, cipher.keyLength);
  const iv = keys.iv.subarray(0, cipher.ivLength);
  const stream = decrypt ? createDecipheriv(cipher.nodeCipher, key, iv) : createCipheriv(cipher.nodeCipher, key, iv);
  // SSH pads packets itself (RFC 4253 §6); OpenSSL must neither add nor strip padding.
  stream.setAutoPadding(false);
  return stream;
}

function createMac(mac: MacAlgorithm, keys: DirectionKeys): PacketMac | undefined {
  if (mac.macLength === 0) return undefined;
  if (keys.integrityKey.length < mac.keyLength) {
    throw new SshError(`MAC ${mac.name} needs a ${mac.keyLength}-byte key, got ${keys.integrityKey.length}`);
  }
  return new PacketMac(mac, keys.integrityKey);
}

/** Ends a node Cipher so OpenSSL frees and cleanses its context. */
function endStream(stream: Cipher | Decipher | undefined): void {
  try {
    stream?.final();
  } catch {
    // A partial block left in the context only means the session ended mid-packet.
  }
}

/** RFC 4253 §6.3-6.4 inbound: decrypt the length, then the rest, then check the MAC (EtM: MAC first). */
class EncryptAndMacOpeningKey implements OpeningKey {
  readonly lengthPrefixBytes: number;
  readonly tagLength: number;
  #blockSize: number;
  #etm: boolean;
  #stream: Decipher | undefined;
  #mac: PacketMac | undefined;
  #destroyed = false;
  /** Plaintext of the first lengthPrefixBytes of the pending packet (non-EtM only). */
  #prefixPlain: Buffer | undefined;
  #pendingSequence = -1;
  #pendingLength = 0;

  constructor(cipher: EncryptAndMacCipher, keys: DirectionKeys, mac: MacAlgorithm) {
    this.#etm = mac.encryptThenMac;
    this.#stream = createStream(cipher, keys, true) as Decipher | undefined;
    this.#mac = createMac(mac, keys);
    this.#blockSize = Math.max(8, cipher.blockSize);
    this.lengthPrefixBytes = this.#etm || !this.#stream ? 4 : cipher.lengthPrefixBytes;
    this.tagLength = mac.macLength;
  }

  decryptLength(sequence: number, prefix: Uint8Array): number {
    assertLive(this.#destroyed, 'Opening key');
    // The stream cipher advances on every update(): a repeated call for the same packet must not decrypt twice.
    if (sequence === this.#pendingSequence) return this.#pendingLength;
    let packetLength: number;
    if (this.#etm || !this.#stream) {
      packetLength = readUint32(prefix);
    } else {
      this.#prefixPlain = this.#stream.update(prefix.subarray(0, this.lengthPrefixBytes));
      packetLength = readUint32(this.#prefixPlain);
    }
    checkPacketLength(packetLength, this.#blockSize, this.#etm, this.#stream === undefined);
    this.#pendingSequence = sequence;
    this.#pendingLength = packetLength;
    return packetLength;
  }

  open(sequence: number, packet: Uint8Array): Uint8Array {
    assertLive(this.#destroyed, 'Opening key');
    if (sequence !== this.#pendingSequence) {
      throw new SshError(`Packet ${sequence} opened before its length was decrypted`);
    }
    this.#pendingSequence = -1;
    const end = 4 + this.#pendingLength;
    if (packet.length !== end + this.tagLength) {
      throw new SshError(`Packet ${sequence} has ${packet.length} bytes, expected ${end + this.tagLength}`);
    }
    const tag = packet.subarray(end);
    if (this.#etm || !this.#stream) {
      // OpenSSH PROTOCOL §1.5: the MAC covers the clear length and the ciphertext, checked before decryption.
      this.#mac?.verify(sequence, tag, { first: packet.subarray(0, end) });
      return this.#stream ? this.#stream.update(packet.subarray(4, end)) : packet.subarray(4, end);
    }
    const prefixPlain = this.#prefixPlain!;
    const rest = this.#stream.update(packet.subarray(prefixPlain.length, end));
    this.#mac?.verify(sequence, tag, { first: prefixPlain, second: rest });
    if (prefixPlain.length === 4) return rest;
    // CBC: the first block was decrypted for the length, so the body straddles two buffers.
    const body = Buffer.allocUnsafe(end - 4);
    body.set(prefixPlain.subarray(4));
    body.set(rest, prefixPlain.length - 4);
    prefixPlain.fill(0);
    return body;
  }

  destroy(): void {
    this.#destroyed = true;
    endStream(this.#stream);
    this.#mac?.destroy();
    this.#prefixPlain?.fill(0);
  }
}

/** RFC 4253 §6.3-6.4 outbound: MAC the plaintext then encrypt (EtM: encrypt then MAC the ciphertext). */
class EncryptAndMacSealingKey implements SealingKey {
  readonly blockSize: number;
  readonly lengthExcludedFromPadding: boolean;
  readonly tagLength: number;
  #stream: Cipher | undefined;
  #mac: PacketMac | undefined;
  #destroyed = false;

  constructor(cipher: EncryptAndMacCipher, keys: DirectionKeys, mac: MacAlgorithm) {
    this.#stream = createStream(cipher, keys, false) as Cipher | undefined;
    this.#mac = createMac(mac, keys);
    this.blockSize = Math.max(8, cipher.blockSize);
    this.lengthExcludedFromPadding = mac.encryptThenMac;
    this.tagLength = mac.macLength;
  }

  seal(sequence: number, packet: Uint8Array): Uint8Array {
    assertLive(this.#destroyed, 'Sealing key');
    const end = 4 + sealedPacketLength(packet, this.tagLength, {
      blockSize: this.blockSize, lengthExcluded: this.lengthExcludedFromPadding,
    });
    if (this.lengthExcludedFromPadding) {
      if (this.#stream) packet.set(this.#stream.update(packet.subarray(4, end)), 4);
      if (this.#mac) packet.set(this.#mac.compute(sequence, packet.subarray(0, end)), end);
      return packet;
    }
    const tag = this.#mac?.compute(sequence, packet.subarray(0, end));
    if (this.#stream) packet.set(this.#stream.update(packet.subarray(0, end)), 0);
    if (tag) packet.set(tag, end);
    return packet;
  }

  destroy(): void {
    this.#destroyed = true;
    endStream(this.#stream);
    this.#mac?.destroy();
  }
}
