/**
 * Poly1305 (RFC 8439 §2.5) for chacha20-poly1305@openssh.com, computed by node:crypto's native
 * RFC 8439 AEAD instead of a JavaScript loop. The AEAD MACs `aad || pad || lengths` rather than
 * the bare message, but with the same one-time key, so two AEAD tags plus a little arithmetic
 * modulo 2^130-5 give the bare Poly1305 tag. Short messages, and the vanishingly rare case the
 * arithmetic cannot decide, use the portable JavaScript Poly1305 (./noble/poly1305.ts).
 * Owns no keys and no packet layout.
 */
import { createCipheriv } from 'node:crypto';
import { poly1305Into } from './noble/poly1305.js';
import { concatBytes } from '../codec/wire.js';

const P = (1n << 130n) - 5n;
const TWO_128 = 1n << 128n;
const MASK_128 = TWO_128 - 1n;
/** RFC 8439 §2.5.1 clamp of r. */
const CLAMP = 0x0ffffffc0ffffffc0ffffffc0fffffffn;
/** Below this the JavaScript loop beats the two AEAD calls (about 10 µs, whatever the length): 9 µs against 11 at 4 KiB. */
const NATIVE_THRESHOLD = 4096;

/** Up to 16 little-endian bytes as a bigint, 32 bits at a time (no string round trip: this runs five times a packet). */
function fromLittleEndian(bytes: Uint8Array): bigint {
  let value = 0n;
  let i = bytes.length;
  for (; i >= 4; i -= 4) {
    value = (value << 32n) | BigInt(((bytes[i - 1]! << 24) | (bytes[i - 2]! << 16) | (bytes[i - 3]! << 8) | bytes[i - 4]!) >>> 0);
  }
  for (; i > 0; i--) value = (value << 8n) | BigInt(bytes[i - 1]!);
  return value;
}

/** The low 128 bits of `value` as 16 little-endian bytes. */
function toLittleEndian16(value: bigint): Uint8Array {
  const out = new Uint8Array(16);
  for (let i = 0; i < 4; i++) {
    const word = Number((value >> BigInt(32 * i)) & 0xffffffffn);
    out[4 * i] = word;
    out[4 * i + 1] = word >>> 8;
    out[4 * i + 2] = word >>> 16;
    out[4 * i + 3] = word >>> 24;
  }
  return out;
}

const EMPTY = new Uint8Array(0);

/** RFC 8439 §2.8: the AEAD tag over `head || aad` with an empty plaintext (OpenSSL takes AAD in parts). */
function aeadTag(chachaKey: Uint8Array, nonce: Uint8Array, head: Uint8Array, aad: Uint8Array): bigint {
  const cipher = createCipheriv('chacha20-poly1305', chachaKey, nonce, { authTagLength: 16 });
  if (head.length > 0) cipher.setAAD(head, { plaintextLength: 0 });
  cipher.setAAD(aad, { plaintextLength: 0 });
  cipher.final();
  return fromLittleEndian(cipher.getAuthTag());
}

/**
 * Poly1305 of `message` under `polyKey`, which must be the first 32 bytes of ChaCha20 block 0 for
 * (`chachaKey`, `nonce`), as in OpenSSH PROTOCOL.chacha20poly1305 and RFC 8439 §2.6.
 *
 * With r, s from polyKey, write the message as M1 (whole 16-byte blocks) then a tail of 1-16
 * bytes, c = tail + 2^(8·|tail|) its Poly1305 block, c' = tail + 2^128 its zero-padded block, and
 * h1 the accumulator after M1. RFC 8439 §2.8 appends a length block L(n) = n + 2^128, so
 *   A = AEAD(aad = M1):      hA = (h1 + L(|M1|))·r
 *   B = AEAD(aad = message): hB = (h1 + c')·r² + L(|message|)·r = r·hA + (c' − L(|M1|))·r² + L(|message|)·r
 * and the wanted accumulator is h = (h1 + c)·r = hA + (c − L(|M1|))·r (all mod p). Each tag gives
 * its accumulator only modulo 2^128 (tag = h + s mod 2^128); B picks which of the four
 * values hA can take is right.
 * A `head` (at most 16 bytes: chacha20-poly1305's encrypted length) is MACed in front of
 * `message` where the two lie apart, so the ciphertext need not be copied behind it.
 * @returns the 16-byte tag
 */
export function poly1305(message: Uint8Array, polyKey: Uint8Array, aead: OneTimeKeySource, head: Uint8Array = EMPTY): Uint8Array {
  const native = head.length + message.length >= NATIVE_THRESHOLD ? nativePoly1305(message, polyKey, aead, head) : undefined;
  if (native !== undefined) return native;
  const tag = new Uint8Array(16);
  poly1305Into(polyKey, head.length === 0 ? message : concatBytes(head, message), tag);
  return tag;
}

/** The ChaCha20 key and RFC 8439 nonce whose block 0 yielded the Poly1305 key. */
export interface OneTimeKeySource {
  chachaKey: Uint8Array;
  nonce: Uint8Array;
}

/**
 * The native path of `poly1305` alone: the tag, or undefined when the two AEAD tags do not
 * single out one accumulator (probability about 2^-126). Exported for the spec, which must see
 * that the native path decides by itself rather than falling back.
 */
export function nativePoly1305(message: Uint8Array, polyKey: Uint8Array, aead: OneTimeKeySource, head: Uint8Array = EMPTY): Uint8Array | undefined {
  const length = head.length + message.length;
  const tailLength = length % 16 || 16;
  const m1Length = length - tailLength;
  // The tail is read from `message` alone: a head longer than 16 bytes is not what this is for.
  if (head.length > 16 || message.length < tailLength) throw new RangeError(`Poly1305 head of ${head.length} bytes before ${message.length}`);
  if (m1Length < head.length) return nativePoly1305(concatBytes(head, message), polyKey, aead);
  const r = fromLittleEndian(polyKey.subarray(0, 16)) & CLAMP;
  const s = fromLittleEndian(polyKey.subarray(16, 32));
  const tail = fromLittleEndian(message.subarray(message.length - tailLength));
  const tagA = aeadTag(aead.chachaKey, aead.nonce, head, message.subarray(0, m1Length - head.length));
  const tagB = aeadTag(aead.chachaKey, aead.nonce, head, message);

  const lengthBlockA = BigInt(m1Length) + TWO_128;
  const lengthBlockB = BigInt(length) + TWO_128;
  const r2 = (r * r) % P;
  const offsetB = ((((tail + TWO_128 - lengthBlockA) % P) + P) % P * r2 + lengthBlockB * r) % P;
  const lowA = (tagA - s) & MASK_128;
  const lowB = (tagB - s) & MASK_128;
  // Every candidate is tried, with no early exit, so the timing does not tell which one matched.
  let matches = 0;
  let hA = 0n;
  for (let j = 0n; j < 4n; j++) {
    const candidate = lowA + j * TWO_128;
    const fits = candidate < P;
    const predictedB = (r * candidate + offsetB) % P;
    if (fits && (predictedB & MASK_128) === lowB) {
      matches++;
      hA = candidate;
    }
  }
  if (matches !== 1) return undefined;
  const tailBlock = tail + (1n << BigInt(8 * tailLength));
  const h = (hA + ((((tailBlock - lengthBlockA) % P) + P) % P) * r) % P;
  return toLittleEndian16((h + s) & MASK_128);
}

