/**
 * Standard base64 (RFC 4648 §4) without node:buffer, for the key formats that runs everywhere
 * (certificate lines, known_hosts lines).
 */
import { KeyError } from '../../errors.js';

/** Bytes to base64 with padding. */
export function toBase64(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(s);
}

/**
 * Base64 (padding optional) to bytes.
 * @throws KeyError naming `what` for anything but base64
 */
export function fromBase64(text: string, what: string): Uint8Array {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(text)) throw new KeyError(`${what} holds invalid base64`);
  let s: string;
  try {
    s = atob(text);
  } catch (cause) {
    throw new KeyError(`${what} holds invalid base64`, { cause });
  }
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}
