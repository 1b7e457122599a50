/**
 * The shape every Diffie-Hellman style method shares (classic DH, ECDH, X25519): both sides make
 * an ephemeral key pair, and the server simply answers the client's value with its own. KEM-style
 * methods (mlkem768x25519) encapsulate instead and implement KexMethod directly.
 */
import type { KexEphemeral, KexMethod, KexServerResult, PublicValueEncoding } from './types.js';

/** What a Diffie-Hellman style method provides. */
export interface DiffieHellmanMethodOptions {
  name: string;
  hash: KexMethod['hash'];
  publicEncoding: PublicValueEncoding;
  /** Fresh ephemeral keys from the injected random source. */
  ephemeral(randomBytes: (n: number) => Uint8Array): KexEphemeral;
}

/** RFC 4253 §8: a method whose server reply is its own ephemeral value. */
export function diffieHellmanMethod(options: DiffieHellmanMethodOptions): KexMethod {
  return {
    name: options.name,
    hash: options.hash,
    publicEncoding: options.publicEncoding,
    client: options.ephemeral,
    server(clientPublicValue, randomBytes): KexServerResult {
      const ours = options.ephemeral(randomBytes);
      return { publicValue: ours.publicValue, sharedSecret: ours.computeSecret(clientPublicValue) };
    },
  };
}
