/**
 * The Blowfish block cipher (Schneier, "Description of a New Variable-Length Key, 64-Bit Block
 * Cipher", FSE 1993) in the form bcrypt needs: the initial state, the keyed expansion of
 * OpenBSD's eksblowfish (Blowfish_expandstate / Blowfish_expand0state) and raw block encryption.
 * No modes of operation; node:crypto does not ship Blowfish, so bcrypt_pbkdf relies on this file.
 */

/** 18 P-array words followed by 4 x 256 S-box words: 1042 32-bit words of the fraction of pi. */
const stateWords = 18 + 4 * 256;
let initialState: Uint32Array | undefined;

/** The hexadecimal fraction of pi, as Blowfish's specification defines its constants. */
function piFractionWords(count: number): Uint32Array {
  const guard = 64n;
  const bits = BigInt(count * 32) + guard;
  const one = 1n << bits;
  const arctanInverse = (x: bigint): bigint => {
    const xx = x * x;
    let term = one / x;
    let sum = term;
    for (let k = 1n; term !== 0n; k++) {
      term /= xx;
      sum += (k & 1n ? -term : term) / (2n * k + 1n);
    }
    return sum;
  };
  // Machin: pi = 16 arctan(1/5) - 4 arctan(1/239).
  const pi = 16n * arctanInverse(5n) - 4n * arctanInverse(239n);
  const fraction = (pi - 3n * one) >> guard;
  const words = new Uint32Array(count);
  for (let i = 0; i < count; i++) {
    words[i] = Number((fraction >> BigInt((count - 1 - i) * 32)) & 0xffffffffn);
  }
  return words;
}

/** A mutable Blowfish state: P-array then the four S-boxes. */
export class Blowfish {
  readonly #p: Uint32Array;
  readonly #s: Uint32Array;
  /** Output of the last `encrypt` call: left and right halves. */
  readonly block = new Uint32Array(2);

  constructor() {
    initialState ??= piFractionWords(stateWords);
    const state = initialState.slice();
    this.#p = state.subarray(0, 18);
    this.#s = state.subarray(18);
  }

  /** Encrypts one 64-bit block given as two big-endian halves; the result lands in `block`. */
  encrypt(left: number, right: number): void {
    const p = this.#p;
    const s = this.#s;
    let l = (left ^ p[0]!) >>> 0;
    let r = right >>> 0;
    for (let i = 1; i <= 16; i += 2) {
      r ^= (((s[l >>> 24]! + s[256 | ((l >>> 16) & 0xff)]!) ^ s[512 | ((l >>> 8) & 0xff)]!) + s[768 | (l & 0xff)]!) ^ p[i]!;
      r >>>= 0;
      l ^= (((s[r >>> 24]! + s[256 | ((r >>> 16) & 0xff)]!) ^ s[512 | ((r >>> 8) & 0xff)]!) + s[768 | (r & 0xff)]!) ^ p[i + 1]!;
      l >>>= 0;
    }
    this.block[0] = r ^ p[17]!;
    this.block[1] = l;
  }

  /**
   * OpenBSD Blowfish_expandstate: XORs `key` into P, then re-keys P and S by chaining encryptions
   * of `data` words. With empty `data` it is Blowfish_expand0state, the classic key schedule.
   */
  expand(key: Uint8Array, data?: Uint8Array): void {
    const p = this.#p;
    const keyWords = new WordStream(key);
    for (let i = 0; i < 18; i++) p[i] = (p[i]! ^ keyWords.next()) >>> 0;
    const dataWords = data && data.length > 0 ? new WordStream(data) : undefined;
    let l = 0;
    let r = 0;
    const fill = (target: Uint32Array): void => {
      for (let i = 0; i < target.length; i += 2) {
        if (dataWords) {
          l ^= dataWords.next();
          r ^= dataWords.next();
        }
        this.encrypt(l, r);
        l = this.block[0]!;
        r = this.block[1]!;
        target[i] = l;
        target[i + 1] = r;
      }
    };
    fill(p);
    fill(this.#s);
  }
}

/** OpenBSD Blowfish_stream2word: big-endian words read cyclically from `bytes`. */
class WordStream {
  readonly #bytes: Uint8Array;
  #at = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  next(): number {
    let word = 0;
    for (let i = 0; i < 4; i++) {
      if (this.#at >= this.#bytes.length) this.#at = 0;
      word = ((word << 8) | this.#bytes[this.#at++]!) >>> 0;
    }
    return word;
  }
}
