/**
 * Text and integer encodings of key bytes that every runtime can run (no Buffer, no atob): base64
 * (RFC 4648 §4) and base64url (§5), hexadecimal, and big-endian unsigned integers as bigint.
 */
import { KeyError } from '../errors.js';

const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const urlAlphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const values = new Int8Array(128).fill(-1);
for (let i = 0; i < 64; i++) {
  values[alphabet.charCodeAt(i)] = i;
  values[urlAlphabet.charCodeAt(i)] = i;
}

function encode(bytes: Uint8Array, table: string, pad: boolean): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += table[n >> 18]! + table[(n >> 12) & 63]! + table[(n >> 6) & 63]! + table[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += table[n >> 18]! + table[(n >> 12) & 63]! + (pad ? '==' : '');
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += table[n >> 18]! + table[(n >> 12) & 63]! + table[(n >> 6) & 63]! + (pad ? '=' : '');
  }
  return out;
}

/** RFC 4648 §4 base64 with padding. */
export function base64Encode(bytes: Uint8Array): string {
  return encode(bytes, alphabet, true);
}

/** RFC 4648 §5 base64url without padding (RFC 7515 §2, as JWK members use it). */
export function base64UrlEncode(bytes: Uint8Array): string {
  return encode(bytes, urlAlphabet, false);
}

/**
 * Decodes base64 or base64url (padding optional, no whitespace). Returns undefined for any other
 * character or an impossible length, so that callers name what was malformed.
 */
export function base64DecodeOrUndefined(text: string): Uint8Array | undefined {
  let end = text.length;
  if (end > 0 && text[end - 1] === '=') end--;
  if (end > 0 && text[end - 1] === '=') end--;
  if (end % 4 === 1 || (end !== text.length && text.length % 4 !== 0)) return undefined;
  const out = new Uint8Array(Math.floor((end * 3) / 4));
  let bits = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    const value = code < 128 ? values[code]! : -1;
    if (value < 0) return undefined;
    bits = (bits << 6) | value;
    count += 6;
    if (count >= 8) {
      count -= 8;
      out[at++] = (bits >> count) & 0xff;
    }
  }
  return out;
}

/** Decodes base64 or base64url, or throws a KeyError naming `what`. */
export function base64Decode(text: string, what: string): Uint8Array {
  const bytes = base64DecodeOrUndefined(text);
  if (bytes === undefined) throw new KeyError(`Invalid ${what}: not valid base64`);
  return bytes;
}

/** Lower-case hexadecimal. */
export function hexEncode(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += (b < 16 ? '0' : '') + b.toString(16);
  return out;
}

/** Decodes hexadecimal (either case), or throws a KeyError naming `what`. */
export function hexDecode(text: string, what: string): Uint8Array {
  if (text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) throw new KeyError(`Invalid ${what}: not hexadecimal`);
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** A big-endian unsigned integer. */
export function bytesToBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${hexEncode(bytes)}`);
}

/** The minimal big-endian bytes of a non-negative integer (one zero byte for 0). */
export function bigIntToBytes(value: bigint): Uint8Array {
  const hex = value.toString(16);
  return hexDecode(hex.length % 2 ? `0${hex}` : hex, 'integer');
}

/** Byte-wise equality (not constant-time: for public values). */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Strips leading zero bytes: the magnitude of a big-endian integer. */
export function stripLeadingZeros(bytes: Uint8Array): Uint8Array {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  return bytes.subarray(start);
}
