/**
 * The portable encrypt-and-MAC backend (RFC 4344 AES-CTR, RFC 4253 §6.3 AES-CBC, RFC 6668
 * HMAC-SHA2) on the audited `@noble/ciphers` and `@noble/hashes`: synchronous pure JavaScript, so
 * the packet stage stays synchronous where node:crypto is missing. noble's modes are one-shot, so
 * the state SSH carries across packets (CTR counter and keystream position, CBC chain) is kept
 * here. The composition with the MAC is encrypt-and-mac.ts, shared with the node:crypto backend.
 */
import { cbc, ctr } from '@noble/ciphers/aes.js';
import { equalBytes } from '@noble/ciphers/utils.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import type { MacAlgorithm } from '../types.js';
import type { CipherStream, EncryptAndMacBackend, PacketMac } from '../encrypt-and-mac.js';
import { SshError } from '../../errors.js';
import { badMac, writeUint32 } from '../packet-length.js';

const AES_BLOCK = 16;

/** Adds `blocks` to the 128-bit big-endian counter (RFC 4344 §4: it wraps modulo 2^128). */
function addToCounter(counter: Uint8Array, blocks: number): void {
  let carry = blocks;
  for (let i = AES_BLOCK - 1; i >= 0 && carry > 0; i--) {
    const sum = counter[i]! + (carry & 0xff);
    counter[i] = sum;
    carry = Math.floor(carry / 256) + (sum >> 8);
  }
}

/**
 * RFC 4344 §4: one direction's AES-CTR stream. Whole blocks go through noble's CTR at the current
 * counter; a call that ends mid-block (the 4 length bytes) keeps the rest of that block's
 * keystream for the next call.
 */
class CtrStream implements CipherStream {
  #key: Uint8Array;
  #counter: Uint8Array;
  /** Keystream of the block last started; bytes from #used on are still unused. */
  #keystream = new Uint8Array(AES_BLOCK);
  #used = AES_BLOCK;

  constructor(key: Uint8Array, iv: Uint8Array) {
    this.#key = new Uint8Array(key);
    this.#counter = new Uint8Array(iv);
  }

  update(data: Uint8Array): Uint8Array {
    const out = new Uint8Array(data.length);
    let i = 0;
    while (i < data.length && this.#used < AES_BLOCK) out[i] = data[i++]! ^ this.#keystream[this.#used++]!;
    const whole = (data.length - i) - ((data.length - i) % AES_BLOCK);
    if (whole > 0) {
      out.set(ctr(this.#key, this.#counter).encrypt(data.subarray(i, i + whole)), i);
      addToCounter(this.#counter, whole / AES_BLOCK);
      i += whole;
    }
    if (i < data.length) {
      this.#keystream = ctr(this.#key, this.#counter).encrypt(new Uint8Array(AES_BLOCK));
      addToCounter(this.#counter, 1);
      this.#used = 0;
      while (i < data.length) out[i] = data[i++]! ^ this.#keystream[this.#used++]!;
    }
    return out;
  }

  final(): void {
    this.#key.fill(0);
    this.#counter.fill(0);
    this.#keystream.fill(0);
  }
}

/** RFC 4253 §6.3: one direction's AES-CBC chain; every call is whole blocks (SSH pads to them). */
class CbcStream implements CipherStream {
  #key: Uint8Array;
  #iv: Uint8Array;
  readonly #decrypt: boolean;

  constructor(key: Uint8Array, iv: Uint8Array, decrypt: boolean) {
    this.#key = new Uint8Array(key);
    this.#iv = new Uint8Array(iv);
    this.#decrypt = decrypt;
  }

  update(data: Uint8Array): Uint8Array {
    if (data.length % AES_BLOCK !== 0) throw new SshError(`AES-CBC needs whole 16-byte blocks, got ${data.length} bytes`);
    // A one-block packet was wholly decrypted for its length: nothing is left, and the chain stays.
    if (data.length === 0) return new Uint8Array(0);
    const mode = cbc(this.#key, this.#iv, { disablePadding: true });
    const out = this.#decrypt ? mode.decrypt(data) : mode.encrypt(data);
    // The next packet's IV is the last ciphertext block: the input when decrypting, the output when encrypting.
    this.#iv = new Uint8Array((this.#decrypt ? data : out).subarray(data.length - AES_BLOCK));
    return out;
  }

  final(): void {
    this.#key.fill(0);
    this.#iv.fill(0);
  }
}

const hashes = { sha256, sha512 } as const;

/** RFC 4253 §6.4: `MAC(key, sequence_number || covered bytes)`, from a keyed HMAC state cloned per packet. */
class NoblePacketMac implements PacketMac {
  readonly #keyed: ReturnType<typeof hmac.create>;
  readonly #sequence = new Uint8Array(4);

  constructor(algorithm: MacAlgorithm, key: Uint8Array) {
    const hash = hashes[algorithm.digest as keyof typeof hashes];
    if (hash === undefined) throw new SshError(`MAC ${algorithm.name} uses hash ${algorithm.digest}, which the @noble suite lacks`);
    this.#keyed = hmac.create(hash, key);
  }

  compute(sequence: number, first: Uint8Array, second?: Uint8Array): Uint8Array {
    writeUint32(this.#sequence, sequence);
    const mac = this.#keyed.clone().update(this.#sequence).update(first);
    if (second) mac.update(second);
    return mac.digest();
  }

  verify(sequence: number, tag: Uint8Array, covered: { first: Uint8Array; second?: Uint8Array }): void {
    if (!equalBytes(this.compute(sequence, covered.first, covered.second), tag)) throw badMac(sequence);
  }

  destroy(): void {
    this.#keyed.destroy();
  }
}

/** The `@noble` streams and MACs for encrypt-and-mac.ts. */
export const nobleEncryptAndMac: EncryptAndMacBackend = {
  createStream: (cipher, key, iv, decrypt) => (cipher.mode === 'cbc' ? new CbcStream(key, iv, decrypt) : new CtrStream(key, iv)),
  createMac: (mac, key) => new NoblePacketMac(mac, key),
};
