/**
 * How K is encoded before it enters the exchange hash and the KDF: an SSH mpint for the
 * classic and elliptic-curve methods (RFC 4253 §8, RFC 5656 §4, RFC 8731 §3), an SSH string for
 * the hybrid post-quantum methods (draft-kampanakis-curdle-ssh-pq-ke §2.4). Nothing else.
 */
import { SshWriter } from '../codec/wire.js';

/**
 * RFC 4251 §5: K as an mpint of an unsigned big-endian magnitude, length prefix included.
 * @param magnitude - big-endian bytes, leading zeros allowed
 * @returns the encoded mpint
 */
export function sharedSecretAsMpint(magnitude: Uint8Array): Uint8Array {
  return new SshWriter(magnitude.length + 5).mpint(magnitude).toBytes();
}

/**
 * RFC 4251 §5: K as a string, length prefix included (hybrid methods).
 * @param bytes - the secret bytes
 * @returns the encoded string
 */
export function sharedSecretAsString(bytes: Uint8Array): Uint8Array {
  return new SshWriter(bytes.length + 4).string(bytes).toBytes();
}
