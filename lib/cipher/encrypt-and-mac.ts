/**
 * Packet protection from a non-AEAD cipher plus a MAC (RFC 4253 §6.3-6.4, RFC 4344; OpenSSH
 * PROTOCOL §1.5 for encrypt-then-MAC). One long-lived cipher stream per direction carries the CTR
 * counter or CBC chain across packets, so each packet costs one update() and one MAC. The stream
 * and the MAC come from the cipher suite's backend (node:crypto or `@noble/*`); this file owns
 * only the composition, which is the same for both. The cipher descriptions live in aes-ctr.ts,
 * aes-cbc.ts and none.ts.
 */
import type { CipherAlgorithm, DirectionKeys, MacAlgorithm, OpeningKey, SealingKey } from './types.js';
import { SshError } from '../errors.js';
import { assertLive, checkPacketLength, readUint32, sealedPacketLength } from './packet-length.js';

/** A non-AEAD cipher as data: its wire name, mode and sizes. */
export interface EncryptAndMacCipher {
  /** RFC 4253 §6.3 wire name. */
  name: string;
  /** The AES mode, or undefined for `none`. */
  mode: 'ctr' | 'cbc' | undefined;
  keyLength: number;
  ivLength: number;
  blockSize: number;
  /** Ciphertext bytes that must be decrypted to learn packet_length: 4 for a stream mode, the block for CBC. */
  lengthPrefixBytes: number;
}

/**
 * One direction's cipher state, carried across packets: every `update` continues where the last
 * one stopped (CTR counter and keystream position, CBC chain). CBC calls are whole blocks.
 */
export interface CipherStream {
  update(data: Uint8Array): Uint8Array;
  /** Releases the state (node: lets OpenSSL cleanse its context). */
  final(): unknown;
}

/** One direction's MAC over `sequence || covered bytes` (RFC 4253 §6.4). */
export interface PacketMac {
  /** RFC 4253 §6.4: the MAC over `sequence` followed by `first` and, when given, `second`. */
  compute(sequence: number, first: Uint8Array, second?: Uint8Array): Uint8Array;
  /**
   * RFC 4253 §6.4: compares in constant time.
   * @throws ProtocolError (MAC_ERROR) naming the sequence number
   */
  verify(sequence: number, tag: Uint8Array, covered: { first: Uint8Array; second?: Uint8Array }): void;
  /** Wipes the integrity key. */
  destroy(): void;
}

/** What a cipher suite's backend provides for encrypt-and-MAC composition. */
export interface EncryptAndMacBackend {
  /** A stream for a cipher whose mode is set; key and IV are already cut to the cipher's lengths. */
  createStream(cipher: EncryptAndMacCipher, key: Uint8Array, iv: Uint8Array, decrypt: boolean): CipherStream;
  /** A MAC whose length is not 0; the key is already cut to the MAC's key length. */
  createMac(mac: MacAlgorithm, key: Uint8Array): PacketMac;
}

/**
 * Builds the CipherAlgorithm for a cipher that needs a separate MAC.
 * @throws SshError when `mac` is missing: the negotiation must pass one for non-AEAD ciphers
 */
export function encryptAndMacAlgorithm(cipher: EncryptAndMacCipher, backend: EncryptAndMacBackend): CipherAlgorithm {
  const { name, keyLength, ivLength, blockSize } = cipher;
  return {
    name, keyLength, ivLength, blockSize, aead: false,
    opening: (keys, mac) => new EncryptAndMacOpeningKey(cipher, backend, keys, requireMac(name, mac)),
    sealing: (keys, mac) => new EncryptAndMacSealingKey(cipher, backend, keys, requireMac(name, mac)),
  };
}

function requireMac(cipher: string, mac: MacAlgorithm | undefined): MacAlgorithm {
  if (!mac) throw new SshError(`Cipher ${cipher} needs a MAC algorithm`);
  return mac;
}

function createStream(cipher: EncryptAndMacCipher, backend: EncryptAndMacBackend, keys: DirectionKeys, decrypt: boolean): CipherStream | undefined {
  if (!cipher.mode) return undefined;
  if (keys.encryptionKey.length < cipher.keyLength || keys.iv.length < cipher.ivLength) {
    throw new SshError(
      `Cipher ${cipher.name} needs a ${cipher.keyLength}-byte key and ${cipher.ivLength}-byte IV, got ${keys.encryptionKey.length} and ${keys.iv.length}`,
    );
  }
  return backend.createStream(cipher, keys.encryptionKey.subarray(0, cipher.keyLength), keys.iv.subarray(0, cipher.ivLength), decrypt);
}

function createMac(mac: MacAlgorithm, backend: EncryptAndMacBackend, keys: DirectionKeys): PacketMac | undefined {
  if (mac.macLength === 0) return undefined;
  if (keys.integrityKey.length < mac.keyLength) {
    throw new SshError(`MAC ${mac.name} needs a ${mac.keyLength}-byte key, got ${keys.integrityKey.length}`);
  }
  return backend.createMac(mac, keys.integrityKey.subarray(0, mac.keyLength));
}

/** Ends a cipher stream so its state is released. */
function endStream(stream: CipherStream | undefined): void {
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
  #stream: CipherStream | undefined;
  #mac: PacketMac | undefined;
  #destroyed = false;
  /** Plaintext of the first lengthPrefixBytes of the pending packet (non-EtM only). */
  #prefixPlain: Uint8Array | undefined;
  #pendingSequence = -1;
  #pendingLength = 0;

  constructor(cipher: EncryptAndMacCipher, backend: EncryptAndMacBackend, keys: DirectionKeys, mac: MacAlgorithm) {
    this.#etm = mac.encryptThenMac;
    this.#stream = createStream(cipher, backend, keys, true);
    this.#mac = createMac(mac, backend, keys);
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
    const body = new Uint8Array(end - 4);
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
  #stream: CipherStream | undefined;
  #mac: PacketMac | undefined;
  #destroyed = false;

  constructor(cipher: EncryptAndMacCipher, backend: EncryptAndMacBackend, keys: DirectionKeys, mac: MacAlgorithm) {
    this.#stream = createStream(cipher, backend, keys, false);
    this.#mac = createMac(mac, backend, keys);
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
