/**
 * What a key exchange method provides (RFC 4253 §8, RFC 5656 §4, RFC 8731, RFC 8268,
 * draft-kampanakis-curdle-ssh-pq-ke for mlkem768x25519-sha256). All methods we support are a
 * single round trip: the client sends its ephemeral public value in message 30, the server
 * answers with host key, its ephemeral value and the signature in message 31. The methods differ
 * only in the group maths, the hash, and how public values and the secret are encoded.
 */

import type { KexHashName } from './backend.js';

/** How the ephemeral public values e/f (Q_C/Q_S) travel in messages 30/31 and the exchange hash. */
export type PublicValueEncoding = 'mpint' | 'string';

/** One side's half of an exchange, created with fresh ephemeral keys. */
export interface KexEphemeral {
  /** Our public value as raw bytes (mpint magnitude or string contents, per `publicEncoding`). */
  readonly publicValue: Uint8Array;
  /**
   * Computes the shared secret from the peer's public value, already encoded as it enters the
   * exchange hash and the KDF (an SSH mpint, or an SSH string for hybrid methods), length prefix
   * included. Throws a ProtocolError (KEY_EXCHANGE_FAILED) on an invalid peer value.
   */
  computeSecret(peerPublicValue: Uint8Array): Uint8Array;
}

/** The server side of one exchange: the client's value is known up front (KEM-style methods need it). */
export interface KexServerResult {
  readonly publicValue: Uint8Array;
  /** Encoded shared secret, as in `KexEphemeral.computeSecret`. */
  readonly sharedSecret: Uint8Array;
}

/** A key exchange method. */
export interface KexMethod {
  /** Wire name, e.g. `curve25519-sha256`. */
  readonly name: string;
  /** The hash of the exchange hash and the KDF. */
  readonly hash: KexHashName;
  readonly publicEncoding: PublicValueEncoding;
  /**
   * Client: fresh ephemeral keys. Every registered method draws all of its ephemeral secrets
   * (scalars, exponents, ML-KEM seeds) from `randomBytes`, so a seeded source reproduces an exchange.
   */
  client(randomBytes: (n: number) => Uint8Array): KexEphemeral;
  /** Server: answer the client's public value. Throws ProtocolError (KEY_EXCHANGE_FAILED) on an invalid value. */
  server(clientPublicValue: Uint8Array, randomBytes: (n: number) => Uint8Array): KexServerResult;
}
