/**
 * The seam between the keys layer and a runtime's cryptography: what KeyPair and the key formats
 * need (sign, verify, generate, derive a public key, the hashes and ciphers of encrypted key
 * files), nothing more. One suite is installed per runtime by its platform file
 * (lib/platform/node.ts installs node:crypto, lib/platform/web.ts WebCrypto with `@noble/*`); key
 * material crosses the seam as bytes (key-material.ts), handles stay opaque to everything else.
 */
import { KeyError } from '../errors.js';
import type { KeyMaterial, KeyType } from './key-material.js';

/** Digest names the formats and signatures use. */
export type HashName = 'md5' | 'sha1' | 'sha224' | 'sha256' | 'sha384' | 'sha512';

/** How a key signs: its type and, for RSA and ECDSA, the digest (Ed25519 has none). */
export interface SignatureScheme {
  readonly keyType: KeyType;
  readonly hash: 'sha1' | 'sha256' | 'sha384' | 'sha512' | undefined;
}

/** Block ciphers of encrypted key files (OpenSSH, PKCS#8 PBES2, traditional PEM, ssh.com). */
export type KeyCipherName =
  | 'aes-128-cbc'
  | 'aes-192-cbc'
  | 'aes-256-cbc'
  | 'aes-128-ctr'
  | 'aes-192-ctr'
  | 'aes-256-ctr'
  | 'aes-128-gcm'
  | 'aes-256-gcm'
  | 'des-ede3-cbc';

/** One whole-message encryption or decryption of a key file body. */
export interface KeyCipherOptions {
  readonly name: KeyCipherName;
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
  readonly data: Uint8Array;
  readonly decrypt: boolean;
  /** PKCS#7 padding (CBC only); OpenSSH bodies are block-aligned and unpadded. */
  readonly padding: boolean;
  /** GCM: the tag to check when decrypting; encryption returns ciphertext || tag. */
  readonly tag?: Uint8Array | undefined;
}

/** A runtime's cryptography as the keys layer uses it. Failures of `cipher` throw (any error). */
export interface KeySuite {
  /** Shown in errors and specs: 'node', 'web'. */
  readonly name: string;
  /** The runtime's handle for the public or private half of `material`, for `scheme`. */
  importKey(material: KeyMaterial, options: { isPrivate: boolean; scheme: SignatureScheme }): Promise<unknown> | unknown;
  /** Signs: Ed25519 64 bytes, ECDSA r || s each of the field size (IEEE P1363), RSA PKCS#1 v1.5. */
  sign(handle: unknown, scheme: SignatureScheme, data: Uint8Array): Promise<Uint8Array>;
  /** Verifies a signature in the form `sign` returns; false on any mismatch, never a throw. */
  verify(handle: unknown, options: { scheme: SignatureScheme; data: Uint8Array; signature: Uint8Array }): Promise<boolean>;
  /** A new private key (`modulusLength` for RSA). */
  generate(keyType: KeyType, options: { modulusLength: number }): Promise<KeyMaterial>;
  /** The public point of an Ed25519 seed (32 bytes) or of a NIST curve scalar (x || y). */
  derivePublic(material: KeyMaterial): { x: Uint8Array; y?: Uint8Array };
  /** A digest of the concatenated `parts`. */
  hash(name: HashName, ...parts: Uint8Array[]): Uint8Array;
  /** RFC 2104 HMAC. */
  hmac(name: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  /** Cryptographically strong random bytes. */
  randomBytes(length: number): Uint8Array;
  /** RFC 8018 §5.2 PBKDF2 with HMAC-`hash`. */
  pbkdf2(options: { passphrase: Uint8Array; salt: Uint8Array; iterations: number; keyLength: number; hash: HashName }): Promise<Uint8Array>;
  /** Encrypts or decrypts a whole key file body. */
  cipher(options: KeyCipherOptions): Uint8Array;
}

let installed: KeySuite | undefined;

/** Installs the runtime's key suite; the platform file calls it once, specs to switch suites. */
export function installKeySuite(suite: KeySuite): void {
  installed = suite;
}

/** The installed key suite, or a KeyError saying that no platform file was imported. */
export function keySuite(): KeySuite {
  if (!installed) throw new KeyError('No key suite installed: import ssh-streams through its entry point (lib/platform/node.ts or web.ts)');
  return installed;
}
