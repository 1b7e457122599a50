/**
 * One ChaCha20 block (RFC 8439 §2.3) in the original layout OpenSSH uses (PROTOCOL.chacha20poly1305:
 * 64-bit block counter in words 12-13, 64-bit nonce in words 14-15), for the two short keystreams
 * every chacha20-poly1305@openssh.com packet needs: 4 bytes of K_1 for packet_length and 32 bytes
 * of K_2's block 0 for the Poly1305 key. A block costs about a third of a microsecond here; a
 * node:crypto cipher object (or a library call that copies the key) costs ten times that and
 * leaves an object and an ArrayBuffer per packet for the collector.
 */
import { readUint32 } from './packet-length.js';

/** "expand 32-byte k" as four little-endian words (RFC 8439 §2.3). */
const SIGMA0 = 0x61707865;
const SIGMA1 = 0x3320646e;
const SIGMA2 = 0x79622d32;
const SIGMA3 = 0x6b206574;

/** RFC 8439 §2.1: the quarter round on four words of `x`. */
function quarterRound(x: Int32Array, a: number, b: number, c: number, d: number): void {
  let t: number;
  x[a] = (x[a]! + x[b]!) | 0;
  t = x[d]! ^ x[a]!;
  x[d] = (t << 16) | (t >>> 16);
  x[c] = (x[c]! + x[d]!) | 0;
  t = x[b]! ^ x[c]!;
  x[b] = (t << 12) | (t >>> 20);
  x[a] = (x[a]! + x[b]!) | 0;
  t = x[d]! ^ x[a]!;
  x[d] = (t << 8) | (t >>> 24);
  x[c] = (x[c]! + x[d]!) | 0;
  t = x[b]! ^ x[c]!;
  x[b] = (t << 7) | (t >>> 25);
}

/**
 * A 32-byte ChaCha20 key held as words, producing single keystream blocks into its own reused
 * buffer. Callers read what they need from `block` right away and `wipe` it after secret use.
 */
export class ChaChaBlock {
  readonly #key = new Int32Array(8);
  readonly #state = new Int32Array(16);
  readonly #work = new Int32Array(16);
  /** The last keystream block, little-endian bytes (a view of the working words). */
  readonly block: Uint8Array;
  /** The block's first 32 bytes: a Poly1305 key when the block is K_2's block 0. */
  readonly #polyKey: Uint8Array;

  constructor(key: Uint8Array) {
    if (key.length !== 32) throw new RangeError(`ChaCha20 needs a 32-byte key, got ${key.length}`);
    for (let i = 0; i < 8; i++) {
      this.#key[i] = key[4 * i]! | (key[4 * i + 1]! << 8) | (key[4 * i + 2]! << 16) | (key[4 * i + 3]! << 24);
    }
    this.block = new Uint8Array(this.#work.buffer);
    this.#polyKey = this.block.subarray(0, 32);
    if (new Uint8Array(new Uint32Array([1]).buffer)[0] !== 1) {
      throw new RangeError('ChaChaBlock expects a little-endian platform');
    }
  }

  /**
   * PROTOCOL.chacha20poly1305: block `counter` for the nonce that is `sequence` as a 64-bit
   * big-endian integer (whose high half is 0: sequence numbers are 32-bit).
   * @returns `block`, valid until the next call
   */
  compute(sequence: number, counter: number): Uint8Array {
    const s = this.#state;
    const x = this.#work;
    s[0] = SIGMA0;
    s[1] = SIGMA1;
    s[2] = SIGMA2;
    s[3] = SIGMA3;
    s.set(this.#key, 4);
    s[12] = counter;
    s[13] = 0;
    s[14] = 0;
    // Nonce bytes 4-7 are the sequence number big-endian; the state reads them little-endian.
    s[15] = ((sequence >>> 24) | ((sequence >>> 8) & 0xff00) | ((sequence & 0xff00) << 8) | (sequence << 24)) | 0;
    x.set(s);
    for (let round = 0; round < 10; round++) {
      quarterRound(x, 0, 4, 8, 12);
      quarterRound(x, 1, 5, 9, 13);
      quarterRound(x, 2, 6, 10, 14);
      quarterRound(x, 3, 7, 11, 15);
      quarterRound(x, 0, 5, 10, 15);
      quarterRound(x, 1, 6, 11, 12);
      quarterRound(x, 2, 7, 8, 13);
      quarterRound(x, 3, 4, 9, 14);
    }
    for (let i = 0; i < 16; i++) x[i] = (x[i]! + s[i]!) | 0;
    s.fill(0);
    return this.block;
  }

  /**
   * PROTOCOL.chacha20poly1305, with K_1: the first 4 keystream bytes of packet `sequence` as the
   * big-endian uint32 that packet_length is XORed with. The block is wiped before returning.
   */
  lengthMask(sequence: number): number {
    const mask = readUint32(this.compute(sequence, 0));
    this.wipe();
    return mask;
  }

  /**
   * PROTOCOL.chacha20poly1305, with K_2: the Poly1305 key of packet `sequence` (block 0's first 32
   * bytes), a view valid until the next call; `wipe` once the tag is computed.
   */
  polyKey(sequence: number): Uint8Array {
    this.compute(sequence, 0);
    return this.#polyKey;
  }

  /** Zeroes the last block (it may hold a Poly1305 key). */
  wipe(): void {
    this.#work.fill(0);
  }

  /** Zeroes the key and every buffer. */
  destroy(): void {
    this.#key.fill(0);
    this.#state.fill(0);
    this.#work.fill(0);
  }
}
