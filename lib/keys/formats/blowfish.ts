/**
 * The Blowfish block cipher (Schneier, "Description of a New Variable-Length Key, 64-Bit Block
 * Cipher", FSE 1993) in the form bcrypt needs: the initial state, the keyed expansion of
 * OpenBSD's eksblowfish (Blowfish_expandstate / Blowfish_expand0state) and raw block encryption.
 * No modes of operation; neither node:crypto nor WebCrypto ships Blowfish, so bcrypt_pbkdf relies on this file.
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

/**
 * One Blowfish block encryption over a state laid out as P[0..17] then S0..S3. Int32 arithmetic
 * throughout: the S-box additions wrap modulo 2^32 through `| 0`, which keeps V8 on small integers.
 */
function encipher(st: Int32Array, left: number, right: number, out: Int32Array): void {
  let l = left ^ st[0]!;
  let r = right;
  for (let i = 1; i <= 16; i += 2) {
    r ^= ((((st[18 + (l >>> 24)]! + st[274 + ((l >>> 16) & 0xff)]!) ^ st[530 + ((l >>> 8) & 0xff)]!) + st[786 + (l & 0xff)]!) | 0) ^ st[i]!;
    l ^= ((((st[18 + (r >>> 24)]! + st[274 + ((r >>> 16) & 0xff)]!) ^ st[530 + ((r >>> 8) & 0xff)]!) + st[786 + (r & 0xff)]!) | 0) ^ st[i + 1]!;
  }
  out[0] = r ^ st[17]!;
  out[1] = l;
}

/** A mutable Blowfish state: P-array then the four S-boxes. */
export class Blowfish {
  readonly #state: Int32Array;
  readonly #out = new Int32Array(2);
  /** Output of the last `encrypt` call: left and right halves, unsigned. */
  readonly block = new Uint32Array(2);

  constructor() {
    initialState ??= piFractionWords(stateWords);
    this.#state = new Int32Array(initialState);
  }

  /** Encrypts one 64-bit block given as two big-endian halves; the result lands in `block`. */
  encrypt(left: number, right: number): void {
    encipher(this.#state, left | 0, right | 0, this.#out);
    this.block[0] = this.#out[0]!;
    this.block[1] = this.#out[1]!;
  }

  /**
   * OpenBSD Blowfish_expandstate: XORs `key` into P, then re-keys P and S by chaining encryptions
   * of `data` words. With empty `data` it is Blowfish_expand0state, the classic key schedule.
   */
  expand(key: Uint8Array, data?: Uint8Array): void {
    const st = this.#state;
    const out = this.#out;
    const keyWords = new WordStream(key);
    for (let i = 0; i < 18; i++) st[i] = st[i]! ^ keyWords.next();
    const dataWords = data && data.length > 0 ? new WordStream(data) : undefined;
    let l = 0;
    let r = 0;
    for (let i = 0; i < stateWords; i += 2) {
      if (dataWords) {
        l ^= dataWords.next();
        r ^= dataWords.next();
      }
      encipher(st, l, r, out);
      l = out[0]!;
      r = out[1]!;
      st[i] = l;
      st[i + 1] = r;
    }
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
      word = (word << 8) | this.#bytes[this.#at++]!;
    }
    return word;
  }
}
