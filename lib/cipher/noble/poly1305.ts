/**
 * Poly1305 (RFC 8439 §2.5) for the portable chacha20-poly1305@openssh.com, written from the RFC
 * for speed in pure JavaScript: one call per packet, no allocation, the accumulator in locals.
 *
 * The accumulator h and the clamped r are six limbs of 22 bits held in float64s (bits 0-21, 22-43,
 * ..., 110-131). A limb product is below 2^49.4 (h limbs < 2^23 after adding a block, 20·r limbs <
 * 2^26.4), a sum of six stays below 2^53, so every step is exact. Products whose bit position
 * reaches 132 wrap modulo p = 2^130 − 5 as ×20 (2^132 ≡ 4·5). That is 36 multiplies a block
 * against the 100 of a 13-bit-limb integer form.
 */
import { SshError } from '../../errors.js';

const LIMB = 4194304; // 2^22
const INV_LIMB = 1 / LIMB;
const MASK22 = 0x3fffff;
/** bit 128 inside limb 5 (which starts at bit 110): the 2^128 every whole block adds (RFC 8439 §2.5.1). */
const HIBIT = 1 << 18;

const littleEndian = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
/** The last, partial block, padded as RFC 8439 §2.5.1 says; reused (wiped after each tag). */
const tail = new Uint8Array(16);

/**
 * The little-endian 32 bits at `at`, as a signed int32. Every value here stays an int32 or a
 * float64 by design: a uint32 above 2^31 would make V8 deoptimize the function again and again.
 */
function word(bytes: Uint8Array, at: number): number {
  return bytes[at]! | (bytes[at + 1]! << 8) | (bytes[at + 2]! << 16) | (bytes[at + 3]! << 24);
}

/**
 * RFC 8439 §2.5: the 16-byte tag of `message` under the one-time `key` (r || s, 32 bytes),
 * written into `out` at `outOffset`.
 */
export function poly1305Into(key: Uint8Array, message: Uint8Array, out: Uint8Array, outOffset = 0): void {
  if (key.length !== 32 || outOffset < 0 || out.length < outOffset + 16) {
    throw new SshError(`Poly1305 needs a 32-byte key and 16 bytes of output, got a ${key.length}-byte key and ${out.length - outOffset} bytes at offset ${outOffset}`);
  }
  // r, clamped (RFC 8439 §2.5.1), in 22-bit limbs.
  const k0 = word(key, 0) & 0x0fffffff;
  const k1 = word(key, 4) & 0x0ffffffc;
  const k2 = word(key, 8) & 0x0ffffffc;
  const k3 = word(key, 12) & 0x0ffffffc;
  const r0 = k0 & MASK22;
  const r1 = ((k0 >>> 22) | (k1 << 10)) & MASK22;
  const r2 = ((k1 >>> 12) | (k2 << 20)) & MASK22;
  const r3 = (k2 >>> 2) & MASK22;
  const r4 = ((k2 >>> 24) | (k3 << 8)) & MASK22;
  const r5 = k3 >>> 14;
  const s1 = 20 * r1;
  const s2 = 20 * r2;
  const s3 = 20 * r3;
  const s4 = 20 * r4;
  const s5 = 20 * r5;

  let h0 = 0;
  let h1 = 0;
  let h2 = 0;
  let h3 = 0;
  let h4 = 0;
  let h5 = 0;

  const length = message.length;
  const whole = length - (length % 16);
  const aligned = littleEndian && message.byteOffset % 4 === 0;
  const words = aligned ? new Int32Array(message.buffer, message.byteOffset, whole >>> 2) : undefined;
  for (let at = 0; at <= length; at += 16) {
    let m0: number;
    let m1: number;
    let m2: number;
    let m3: number;
    let hibit = HIBIT;
    if (at < whole) {
      if (words !== undefined) {
        const w = at >>> 2;
        m0 = words[w]!;
        m1 = words[w + 1]!;
        m2 = words[w + 2]!;
        m3 = words[w + 3]!;
      } else {
        m0 = word(message, at);
        m1 = word(message, at + 4);
        m2 = word(message, at + 8);
        m3 = word(message, at + 12);
      }
    } else {
      if (at === length) break;
      // RFC 8439 §2.5.1: a short last block gets a 0x01 byte after it instead of the 2^128 bit.
      tail.set(message.subarray(at));
      tail[length - at] = 1;
      m0 = word(tail, 0);
      m1 = word(tail, 4);
      m2 = word(tail, 8);
      m3 = word(tail, 12);
      tail.fill(0);
      hibit = 0;
    }
    h0 += m0 & MASK22;
    h1 += ((m0 >>> 22) | (m1 << 10)) & MASK22;
    h2 += ((m1 >>> 12) | (m2 << 20)) & MASK22;
    h3 += (m2 >>> 2) & MASK22;
    h4 += ((m2 >>> 24) | (m3 << 8)) & MASK22;
    h5 += (m3 >>> 14) | hibit;

    // h = h·r mod p, limb by limb.
    const d0 = h0 * r0 + h1 * s5 + h2 * s4 + h3 * s3 + h4 * s2 + h5 * s1;
    let d1 = h0 * r1 + h1 * r0 + h2 * s5 + h3 * s4 + h4 * s3 + h5 * s2;
    let d2 = h0 * r2 + h1 * r1 + h2 * r0 + h3 * s5 + h4 * s4 + h5 * s3;
    let d3 = h0 * r3 + h1 * r2 + h2 * r1 + h3 * r0 + h4 * s5 + h5 * s4;
    let d4 = h0 * r4 + h1 * r3 + h2 * r2 + h3 * r1 + h4 * r0 + h5 * s5;
    let d5 = h0 * r5 + h1 * r4 + h2 * r3 + h3 * r2 + h4 * r1 + h5 * r0;

    // Carry: every limb back to 22 bits; what leaves limb 5 sits at bit 132 and comes back ×20.
    let c = Math.floor(d0 * INV_LIMB);
    h0 = d0 - c * LIMB;
    d1 += c;
    c = Math.floor(d1 * INV_LIMB);
    h1 = d1 - c * LIMB;
    d2 += c;
    c = Math.floor(d2 * INV_LIMB);
    h2 = d2 - c * LIMB;
    d3 += c;
    c = Math.floor(d3 * INV_LIMB);
    h3 = d3 - c * LIMB;
    d4 += c;
    c = Math.floor(d4 * INV_LIMB);
    h4 = d4 - c * LIMB;
    d5 += c;
    c = Math.floor(d5 * INV_LIMB);
    h5 = d5 - c * LIMB;
    h0 += c * 20;
    c = Math.floor(h0 * INV_LIMB);
    h0 -= c * LIMB;
    h1 += c;
  }

  // Full reduction modulo p. The limbs now fit in 32-bit integers: fold bits 130 and up (×5)
  // twice, then subtract p once if h ≥ p, chosen by a mask rather than a branch.
  let g0 = h0 | 0;
  let g1 = h1 | 0;
  let g2 = h2 | 0;
  let g3 = h3 | 0;
  let g4 = h4 | 0;
  let g5 = h5 | 0;
  for (let pass = 0; pass < 3; pass++) {
    g1 += g0 >>> 22;
    g0 &= MASK22;
    g2 += g1 >>> 22;
    g1 &= MASK22;
    g3 += g2 >>> 22;
    g2 &= MASK22;
    g4 += g3 >>> 22;
    g3 &= MASK22;
    g5 += g4 >>> 22;
    g4 &= MASK22;
    if (pass < 2) {
      g0 += (g5 >>> 20) * 5;
      g5 &= 0xfffff;
    }
  }
  // f = h + 5 − 2^130; its sign says whether h < p.
  let f0 = g0 + 5;
  let f1 = g1 + (f0 >>> 22);
  f0 &= MASK22;
  let f2 = g2 + (f1 >>> 22);
  f1 &= MASK22;
  let f3 = g3 + (f2 >>> 22);
  f2 &= MASK22;
  let f4 = g4 + (f3 >>> 22);
  f3 &= MASK22;
  const f5 = g5 + (f4 >>> 22) - 0x100000;
  f4 &= MASK22;
  // f5 < 0 (h < p): keep g; otherwise take f.
  const keepG = f5 >> 31;
  const takeF = ~keepG;
  g0 = (g0 & keepG) | (f0 & takeF);
  g1 = (g1 & keepG) | (f1 & takeF);
  g2 = (g2 & keepG) | (f2 & takeF);
  g3 = (g3 & keepG) | (f3 & takeF);
  g4 = (g4 & keepG) | (f4 & takeF);
  g5 = (g5 & keepG) | (f5 & takeF);

  // tag = (h + s) mod 2^128, little-endian: s added in 22-bit limbs too, so nothing leaves int32.
  const p0 = word(key, 16);
  const p1 = word(key, 20);
  const p2 = word(key, 24);
  const p3 = word(key, 28);
  g0 += p0 & MASK22;
  g1 += (((p0 >>> 22) | (p1 << 10)) & MASK22) + (g0 >>> 22);
  g2 += (((p1 >>> 12) | (p2 << 20)) & MASK22) + (g1 >>> 22);
  g3 += ((p2 >>> 2) & MASK22) + (g2 >>> 22);
  g4 += (((p2 >>> 24) | (p3 << 8)) & MASK22) + (g3 >>> 22);
  g5 += (p3 >>> 14) + (g4 >>> 22);
  write(out, outOffset, (g0 & MASK22) | (g1 << 22));
  write(out, outOffset + 4, ((g1 & MASK22) >>> 10) | (g2 << 12));
  write(out, outOffset + 8, ((g2 & MASK22) >>> 20) | ((g3 & MASK22) << 2) | (g4 << 24));
  write(out, outOffset + 12, ((g4 & MASK22) >>> 8) | (g5 << 14));
}

/** The int32 `value` as four little-endian bytes at `at`. */
function write(out: Uint8Array, at: number, value: number): void {
  out[at] = value;
  out[at + 1] = value >> 8;
  out[at + 2] = value >> 16;
  out[at + 3] = value >> 24;
}
