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

/** An ML-KEM-768 decapsulation key, held as the backend likes it (FIPS 203 §7). */
export interface MlKem768KeyPair {
  /** The 1184-byte encapsulation key. */
  readonly publicKey: Uint8Array;
  /** FIPS 203 §7.3 ML-KEM.Decaps: the 32-byte shared secret of a 1088-byte ciphertext. */
  decapsulate(cipherText: Uint8Array): Uint8Array;
}

/** FIPS 203 ML-KEM-768, as mlkem768x25519-sha256 uses it. */
export interface MlKem768 {
  /** FIPS 203 §6.1 ML-KEM.KeyGen_internal from the 64-byte seed d || z. */
  keygen(seed: Uint8Array): MlKem768KeyPair;
  /**
   * FIPS 203 §7.2 ML-KEM.Encaps to a 1184-byte key, whose input check (every coefficient reduced
   * mod q) throws. The 32-byte message m comes from `randomBytes`, unless that is the runtime's
   * CSPRNG (`isSystemRandom`): a native implementation may then draw m from its own.
   */
  encapsulate(publicKey: Uint8Array, randomBytes: (n: number) => Uint8Array): { cipherText: Uint8Array; sharedSecret: Uint8Array };
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
  /** ML-KEM-768: node:crypto's where the runtime has it (Node 24.7 and later), `@noble/post-quantum` elsewhere. */
  readonly mlkem768: MlKem768;
}

const systemRandomSources = new WeakSet<(n: number) => Uint8Array>();

/**
 * Declares `source` the runtime's CSPRNG (the default `SessionConfig.randomBytes`): operations that
 * a native library can only run with its own randomness may then use it. An injected source
 * (a seeded one in tests) is never marked, so exchanges made with it stay reproducible.
 */
export function markSystemRandom<T extends (n: number) => Uint8Array>(source: T): T {
  systemRandomSources.add(source);
  return source;
}

/** Whether `source` is the runtime's CSPRNG (see `markSystemRandom`). */
export function isSystemRandom(source: (n: number) => Uint8Array): boolean {
  return systemRandomSources.has(source);
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
