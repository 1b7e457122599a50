/**
 * Public key identity helpers: the RFC 4253 §6.6 blob, the fingerprints ssh-keygen -l prints
 * (SHA256 base64 without padding, or legacy colon-separated MD5, RFC 4716 §4), and equality.
 */
import { base64Encode, hexEncode } from './encoding.js';
import type { KeyPair } from './key-pair.js';
import { keySuite } from './suite.js';

/** RFC 4253 §6.6: the SSH public key blob of `key`. */
export function getPublicKeyBlob(key: KeyPair): Uint8Array {
  return key.publicKeyBlob;
}

/**
 * The key fingerprint as `ssh-keygen -l` prints it.
 * @param hash 'sha256' (default): `SHA256:<base64 without padding>`; 'md5': `MD5:aa:bb:...` (RFC 4716 §4)
 * @example getFingerprint(key) // 'SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s'
 */
export function getFingerprint(key: KeyPair, hash: 'sha256' | 'md5' = 'sha256'): string {
  return fingerprintOfBlob(key.publicKeyBlob, hash);
}

/**
 * The fingerprint of a public key (or certificate) blob as `ssh-keygen -l` prints it, for blobs
 * that are not parsed into a KeyPair (diagnostics, certificates).
 * @param hash 'sha256' (default) or 'md5', as for {@link getFingerprint}
 */
export function fingerprintOfBlob(blob: Uint8Array, hash: 'sha256' | 'md5' = 'sha256'): string {
  const digest = keySuite().hash(hash, blob);
  if (hash === 'md5') return `MD5:${hexEncode(digest).replace(/(..)(?!$)/g, '$1:')}`;
  return `SHA256:${base64Encode(digest).replace(/=+$/, '')}`;
}

/** True when both keys hold the same public key (comments and private halves are ignored). */
export function publicKeysEqual(a: KeyPair, b: KeyPair): boolean {
  return a.equals(b);
}
