/**
 * Triple DES in CBC mode (FIPS 46-3 DES, SP 800-67 TDEA with three keys, EDE), for the key files
 * that still use it: traditional PEM `DES-EDE3-CBC`, PKCS#8 PBES2 with des-ede3-cbc and ssh.com
 * private keys. Neither WebCrypto nor `@noble/ciphers` has it. Written for clarity over speed
 * (bit arrays): key files are a few kilobytes, and nothing on the wire uses it.
 */
import { KeyError } from '../../errors.js';

/** FIPS 46-3 tables, 1-based bit positions as the standard writes them. */
const initialPermutation = [
  58, 50, 42, 34, 26, 18, 10, 2, 60, 52, 44, 36, 28, 20, 12, 4, 62, 54, 46, 38, 30, 22, 14, 6, 64, 56, 48, 40, 32, 24, 16, 8,
  57, 49, 41, 33, 25, 17, 9, 1, 59, 51, 43, 35, 27, 19, 11, 3, 61, 53, 45, 37, 29, 21, 13, 5, 63, 55, 47, 39, 31, 23, 15, 7,
];
const finalPermutation = initialPermutation.map((_, i) => initialPermutation.indexOf(i + 1) + 1);
const expansion = [
  32, 1, 2, 3, 4, 5, 4, 5, 6, 7, 8, 9, 8, 9, 10, 11, 12, 13, 12, 13, 14, 15, 16, 17, 16, 17, 18, 19, 20, 21, 20, 21, 22, 23, 24, 25,
  24, 25, 26, 27, 28, 29, 28, 29, 30, 31, 32, 1,
];
const permutation = [16, 7, 20, 21, 29, 12, 28, 17, 1, 15, 23, 26, 5, 18, 31, 10, 2, 8, 24, 14, 32, 27, 3, 9, 19, 13, 30, 6, 22, 11, 4, 25];
const permutedChoice1 = [
  57, 49, 41, 33, 25, 17, 9, 1, 58, 50, 42, 34, 26, 18, 10, 2, 59, 51, 43, 35, 27, 19, 11, 3, 60, 52, 44, 36, 63, 55, 47, 39, 31, 23,
  15, 7, 62, 54, 46, 38, 30, 22, 14, 6, 61, 53, 45, 37, 29, 21, 13, 5, 28, 20, 12, 4,
];
const permutedChoice2 = [
  14, 17, 11, 24, 1, 5, 3, 28, 15, 6, 21, 10, 23, 19, 12, 4, 26, 8, 16, 7, 27, 20, 13, 2, 41, 52, 31, 37, 47, 55, 30, 40, 51, 45, 33,
  48, 44, 49, 39, 56, 34, 53, 46, 42, 50, 36, 29, 32,
];
const shifts = [1, 1, 2, 2, 2, 2, 2, 2, 1, 2, 2, 2, 2, 2, 2, 1];
const sBoxes = [
  '14 4 13 1 2 15 11 8 3 10 6 12 5 9 0 7 0 15 7 4 14 2 13 1 10 6 12 11 9 5 3 8 4 1 14 8 13 6 2 11 15 12 9 7 3 10 5 0 15 12 8 2 4 9 1 7 5 11 3 14 10 0 6 13',
  '15 1 8 14 6 11 3 4 9 7 2 13 12 0 5 10 3 13 4 7 15 2 8 14 12 0 1 10 6 9 11 5 0 14 7 11 10 4 13 1 5 8 12 6 9 3 2 15 13 8 10 1 3 15 4 2 11 6 7 12 0 5 14 9',
  '10 0 9 14 6 3 15 5 1 13 12 7 11 4 2 8 13 7 0 9 3 4 6 10 2 8 5 14 12 11 15 1 13 6 4 9 8 15 3 0 11 1 2 12 5 10 14 7 1 10 13 0 6 9 8 7 4 15 14 3 11 5 2 12',
  '7 13 14 3 0 6 9 10 1 2 8 5 11 12 4 15 13 8 11 5 6 15 0 3 4 7 2 12 1 10 14 9 10 6 9 0 12 11 7 13 15 1 3 14 5 2 8 4 3 15 0 6 10 1 13 8 9 4 5 11 12 7 2 14',
  '2 12 4 1 7 10 11 6 8 5 3 15 13 0 14 9 14 11 2 12 4 7 13 1 5 0 15 10 3 9 8 6 4 2 1 11 10 13 7 8 15 9 12 5 6 3 0 14 11 8 12 7 1 14 2 13 6 15 0 9 10 4 5 3',
  '12 1 10 15 9 2 6 8 0 13 3 4 14 7 5 11 10 15 4 2 7 12 9 5 6 1 13 14 0 11 3 8 9 14 15 5 2 8 12 3 7 0 4 10 1 13 11 6 4 3 2 12 9 5 15 10 11 14 1 7 6 0 8 13',
  '4 11 2 14 15 0 8 13 3 12 9 7 5 10 6 1 13 0 11 7 4 9 1 10 14 3 5 12 2 15 8 6 1 4 11 13 12 3 7 14 10 15 6 8 0 5 9 2 6 11 13 8 1 4 10 7 9 5 0 15 14 2 3 12',
  '13 2 8 4 6 15 11 1 10 9 3 14 5 0 12 7 1 15 13 8 10 3 7 4 12 5 6 11 0 14 9 2 7 11 4 1 9 12 14 2 0 6 10 13 15 3 5 8 2 1 14 7 4 10 8 13 15 12 9 0 3 5 6 11',
].map((row) => row.split(' ').map(Number));

type Bits = number[];

function toBits(bytes: Uint8Array): Bits {
  const bits: Bits = [];
  for (const byte of bytes) for (let i = 7; i >= 0; i--) bits.push((byte >> i) & 1);
  return bits;
}

function fromBits(bits: Bits): Uint8Array {
  const out = new Uint8Array(bits.length / 8);
  for (let i = 0; i < bits.length; i++) out[i >> 3]! |= bits[i]! << (7 - (i & 7));
  return out;
}

const permute = (bits: Bits, table: number[]): Bits => table.map((position) => bits[position - 1]!);
const rotate = (half: Bits, by: number): Bits => [...half.slice(by), ...half.slice(0, by)];

/** FIPS 46-3 §"Key schedule": sixteen 48-bit subkeys. */
function subkeys(key: Uint8Array): Bits[] {
  const chosen = permute(toBits(key), permutedChoice1);
  let c = chosen.slice(0, 28);
  let d = chosen.slice(28);
  return shifts.map((by) => {
    c = rotate(c, by);
    d = rotate(d, by);
    return permute([...c, ...d], permutedChoice2);
  });
}

/** The cipher function f(R, K): expansion, key mixing, S-boxes, permutation. */
function feistel(right: Bits, subkey: Bits): Bits {
  const mixed = permute(right, expansion).map((bit, i) => bit ^ subkey[i]!);
  const out: Bits = [];
  for (let box = 0; box < 8; box++) {
    const six = mixed.slice(box * 6, box * 6 + 6);
    const row = (six[0]! << 1) | six[5]!;
    const column = (six[1]! << 3) | (six[2]! << 2) | (six[3]! << 1) | six[4]!;
    const value = sBoxes[box]![row * 16 + column]!;
    for (let i = 3; i >= 0; i--) out.push((value >> i) & 1);
  }
  return permute(out, permutation);
}

/** One DES block with the given subkeys (reversed for decryption). */
function desBlock(block: Bits, keys: Bits[]): Bits {
  const permuted = permute(block, initialPermutation);
  let left = permuted.slice(0, 32);
  let right = permuted.slice(32);
  for (const subkey of keys) {
    const mixed = feistel(right, subkey);
    const next = left.map((bit, i) => bit ^ mixed[i]!);
    left = right;
    right = next;
  }
  return permute([...right, ...left], finalPermutation);
}

/** SP 800-67 TDEA with keys K1, K2, K3: encrypt E(K3, D(K2, E(K1, x))), decrypt the reverse. */
function tripleDes(keys: Bits[][], decrypt: boolean): (block: Bits) => Bits {
  const [k1, k2, k3] = keys as [Bits[], Bits[], Bits[]];
  const reversed = (k: Bits[]): Bits[] => [...k].reverse();
  if (decrypt) return (block) => desBlock(desBlock(desBlock(block, reversed(k3)), k2), reversed(k1));
  return (block) => desBlock(desBlock(desBlock(block, k1), reversed(k2)), k3);
}

/**
 * DES-EDE3-CBC over a whole message, with PKCS#7 padding when `padding` is set.
 * @throws KeyError for a bad key or IV size, a partial block, or bad padding
 */
export function desEde3Cbc(options: { key: Uint8Array; iv: Uint8Array; data: Uint8Array; decrypt: boolean; padding: boolean }): Uint8Array {
  const { key, iv, decrypt, padding } = options;
  if (key.length !== 24 || iv.length !== 8) throw new KeyError(`DES-EDE3-CBC needs a 24-byte key and an 8-byte IV, got ${key.length} and ${iv.length}`);
  let data = options.data;
  if (!decrypt && padding) {
    const pad = 8 - (data.length % 8);
    data = new Uint8Array([...data, ...new Array<number>(pad).fill(pad)]);
  }
  if (data.length % 8 !== 0) throw new KeyError(`DES-EDE3-CBC input of ${data.length} bytes is not a whole number of 8-byte blocks`);
  const block = tripleDes([subkeys(key.subarray(0, 8)), subkeys(key.subarray(8, 16)), subkeys(key.subarray(16, 24))], decrypt);
  const out = new Uint8Array(data.length);
  let chain = toBits(iv);
  for (let at = 0; at < data.length; at += 8) {
    const input = toBits(data.subarray(at, at + 8));
    if (decrypt) {
      const plain = block(input).map((bit, i) => bit ^ chain[i]!);
      out.set(fromBits(plain), at);
      chain = input;
    } else {
      chain = block(input.map((bit, i) => bit ^ chain[i]!));
      out.set(fromBits(chain), at);
    }
  }
  if (!decrypt || !padding) return out;
  const pad = out[out.length - 1]!;
  if (pad < 1 || pad > 8 || pad > out.length || !out.subarray(out.length - pad).every((b) => b === pad)) {
    throw new Error('bad decrypt: DES-EDE3-CBC padding');
  }
  return out.slice(0, out.length - pad);
}
