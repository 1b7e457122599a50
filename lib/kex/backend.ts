/**
 * The seam between key exchange and a runtime's cryptography: the group operations the methods
 * need (X25519, ECDH on the NIST curves, modular exponentiation in the RFC 3526 groups) and the
 * hashes of the exchange hash, the KDF and the reconnect tokens. Node installs node:crypto
 * (backends/node.ts), the browser `@noble/curves` and `@noble/hashes` (backends/web.ts), once,
 * from its platform file. Every operation is synchronous: the methods keep drawing their
 * ephemeral secrets from the injected random source, so an exchange stays reproducible.
 */
import { SshError } from '../errors.js';

/** Hashes of the key exchange methods (RFC 4253 §8, RFC 5656 §6.2.1, RFC 8268, RFC 8731). */
export type KexHashName = 'sha256' | 'sha384' | 'sha512';

/** The NIST curves of RFC 5656 §10.1. */
export type NistCurveName = 'p256' | 'p384' | 'p521';

/** The RFC 3526 MODP groups of RFC 8268 (generator 2). */
export type ModpGroupName = 'modp14' | 'modp16';

/** One side's ephemeral key of a Diffie-Hellman style agreement. */
export interface KexAgreement {
  /** Our public value: X25519 u-coordinate, uncompressed SEC 1 point, or g^x mod p (big-endian). */
  readonly publicValue: Uint8Array;
  /**
   * The shared value with the peer's public value: the X25519 output, the x-coordinate of the
   * shared point, or peer^x mod p, big-endian. Throws (any error) when the peer value is invalid
   * for the group; callers turn that into a ProtocolError.
   */
  agree(peerPublicValue: Uint8Array): Uint8Array;
}

/** A runtime's key exchange cryptography. */
export interface KexBackend {
  /** Shown in messages: `node:crypto`, `@noble`. */
  readonly name: string;
  /** The digest of the concatenated `parts`. */
  hash(name: KexHashName, ...parts: Uint8Array[]): Uint8Array;
  /** RFC 2104 HMAC of the concatenated `parts`. */
  hmac(name: KexHashName, key: Uint8Array, ...parts: Uint8Array[]): Uint8Array;
  /** RFC 7748 §6.1: the key of a 32-byte scalar (clamping is X25519's own). */
  x25519(scalar: Uint8Array): KexAgreement;
  /** SEC 1 §3.3.1 ECDH with a scalar; undefined when the scalar is not in [1, n-1]. */
  ecdh(curve: NistCurveName, scalar: Uint8Array): KexAgreement | undefined;
  /** RFC 4253 §8: g^x mod p in an RFC 3526 group, for an exponent x > 1. */
  modp(group: ModpGroupName, exponent: Uint8Array): KexAgreement;
}

let installed: KexBackend | undefined;

/**
 * Installs the runtime's key exchange cryptography; called once by the platform file.
 * @param backend - the runtime's implementation
 */
export function installKexBackend(backend: KexBackend): void {
  installed = backend;
}

/**
 * The installed backend.
 * @throws SshError when no platform file installed one (a module imported without its entry point)
 */
export function kexBackend(): KexBackend {
  if (!installed) {
    throw new SshError('No key exchange backend is installed: import ssh-streams through its entry point (or lib/platform/node.js or web.js first)');
  }
  return installed;
}
