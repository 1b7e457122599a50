/**
 * GHASH (NIST SP 800-38D §6.4) for the portable AES-GCM, keyed once per direction: the hash
 * subkey H is expanded into 16 tables of 256 entries (one per byte position of a block, 64 KiB),
 * so multiplying a block by H in GF(2^128) is 16 look-ups and XORs. Blocks are four big-endian
 * 32-bit words; bit 0 of the spec is the most significant bit of byte 0.
 */
import { SshError } from '../../errors.js';

/** SP 800-38D §6.3: R = 11100001 || 0^120, folded in when x^127's coefficient shifts out. */
const R = 0xe1000000 | 0;

/** A GHASH key (H = the block cipher of the zero block); `digest` hashes one message at a time. */
export class Ghash {
  /** Entry (position i, byte b) at ((i << 8) | b) << 2: four words of (b at byte i) · H. */
  readonly #table = new Int32Array(16 * 256 * 4);
  /** The running hash Y and the block being multiplied, as big-endian words. */
  readonly #y = new Int32Array(4);
  readonly #x = new Int32Array(4);
  readonly #last = new Uint8Array(16);

  constructor(h: Uint8Array) {
    if (h.length !== 16) throw new SshError(`GHASH needs a 16-byte hash subkey, got ${h.length} bytes`);
    const t = this.#table;
    let v0 = readWord(h, 0);
    let v1 = readWord(h, 4);
    let v2 = readWord(h, 8);
    let v3 = readWord(h, 12);
    // SP 800-38D §6.3 Algorithm 1: V_p = H · x^p, one right shift per bit; bit p = 8i + j is
    // byte i's bit 0x80 >> j.
    for (let p = 0; p < 128; p++) {
      const at = (((p >> 3) << 8) | (0x80 >> (p & 7))) << 2;
      t[at] = v0;
      t[at + 1] = v1;
      t[at + 2] = v2;
      t[at + 3] = v3;
      const carry = v3 & 1;
      v3 = (v3 >>> 1) | (v2 << 31);
      v2 = (v2 >>> 1) | (v1 << 31);
      v1 = (v1 >>> 1) | (v0 << 31);
      v0 = (v0 >>> 1) ^ (R & -carry);
    }
    // Multiplication by H is linear: every other byte value is the XOR of its single bits' entries.
    for (let i = 0; i < 16; i++) {
      for (let b = 3; b < 256; b++) {
        const low = b & -b;
        if (low === b) continue;
        const at = ((i << 8) | b) << 2;
        const x = ((i << 8) | low) << 2;
        const y = ((i << 8) | (b ^ low)) << 2;
        t[at] = t[x]! ^ t[y]!;
        t[at + 1] = t[x + 1]! ^ t[y + 1]!;
        t[at + 2] = t[x + 2]! ^ t[y + 2]!;
        t[at + 3] = t[x + 3]! ^ t[y + 3]!;
      }
    }
    v0 = v1 = v2 = v3 = 0;
  }

  /**
   * SP 800-38D §7.1 step 5: GHASH(A || 0^v || C || 0^u || [len(A)]64 || [len(C)]64), into `out`
   * at `at` (16 bytes).
   */
  digest(aad: Uint8Array, data: Uint8Array, out: Uint8Array, at: number): void {
    const y = this.#y;
    y.fill(0);
    this.#absorb(aad);
    this.#absorb(data);
    const aadBits = aad.length * 8;
    const dataBits = data.length * 8;
    this.#multiply((aadBits / 0x100000000) | 0, aadBits | 0, (dataBits / 0x100000000) | 0, dataBits | 0);
    for (let k = 0; k < 4; k++) writeWord(out, at + 4 * k, y[k]!);
    y.fill(0);
  }

  /** Wipes the expanded key. */
  destroy(): void {
    this.#table.fill(0);
    this.#x.fill(0);
  }

  /** Folds `bytes` into y block by block, the last block padded with zeros. */
  #absorb(bytes: Uint8Array): void {
    const whole = bytes.length - (bytes.length % 16);
    for (let at = 0; at < whole; at += 16) {
      this.#multiply(readWord(bytes, at), readWord(bytes, at + 4), readWord(bytes, at + 8), readWord(bytes, at + 12));
    }
    if (whole < bytes.length) {
      const last = this.#last;
      last.set(bytes.subarray(whole));
      this.#multiply(readWord(last, 0), readWord(last, 4), readWord(last, 8), readWord(last, 12));
      last.fill(0);
    }
  }

  /** Y = (Y XOR block) · H. */
  #multiply(b0: number, b1: number, b2: number, b3: number): void {
    const t = this.#table;
    const y = this.#y;
    const x = this.#x;
    x[0] = y[0]! ^ b0;
    x[1] = y[1]! ^ b1;
    x[2] = y[2]! ^ b2;
    x[3] = y[3]! ^ b3;
    let z0 = 0;
    let z1 = 0;
    let z2 = 0;
    let z3 = 0;
    for (let i = 0; i < 16; i++) {
      const at = ((i << 8) | ((x[i >> 2]! >>> (24 - ((i & 3) << 3))) & 0xff)) << 2;
      z0 ^= t[at]!;
      z1 ^= t[at + 1]!;
      z2 ^= t[at + 2]!;
      z3 ^= t[at + 3]!;
    }
    y[0] = z0;
    y[1] = z1;
    y[2] = z2;
    y[3] = z3;
  }
}

/** The big-endian 32 bits at `at`, as an int32. */
function readWord(bytes: Uint8Array, at: number): number {
  return (bytes[at]! << 24) | (bytes[at + 1]! << 16) | (bytes[at + 2]! << 8) | bytes[at + 3]!;
}

function writeWord(bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24;
  bytes[at + 1] = value >>> 16;
  bytes[at + 2] = value >>> 8;
  bytes[at + 3] = value;
}
