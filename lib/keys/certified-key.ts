/**
 * A key that may travel with its OpenSSH certificate (PROTOCOL.certkeys): host keys of a server
 * and user keys of a client are either a plain KeyPair or `{ key, certificate }`. These helpers
 * say which signature algorithms such a key serves, which blob goes on the wire for each, and
 * which plain algorithm the key signs with.
 */
import { KeyError } from '../errors.js';
import type { KeyPair, PublicKeyAlgorithmName } from './key-pair.js';
import { certificateAlgorithmOf, isCertificateAlgorithm, plainAlgorithmOf, type Certificate } from './certificate.js';

/** A private key together with the certificate a CA issued for its public key. */
export interface CertifiedKey {
  readonly key: KeyPair;
  readonly certificate: Certificate;
}

/** A plain key pair or a certified one. */
export type MaybeCertifiedKey = KeyPair | CertifiedKey;

/** True when `key` carries a certificate. */
export function isCertifiedKey(key: MaybeCertifiedKey): key is CertifiedKey {
  return 'certificate' in key && 'key' in key;
}

/** The key pair that signs, with or without a certificate around it. */
export function keyOf(key: MaybeCertifiedKey): KeyPair {
  return isCertifiedKey(key) ? key.key : key;
}

/**
 * Checks that a certificate certifies this very key.
 * @throws KeyError when the certificate is for another key
 */
export function assertCertifies(key: CertifiedKey): void {
  if (!key.certificate.publicKey.equals(key.key)) {
    throw new KeyError(`Certificate ${JSON.stringify(key.certificate.keyId)} certifies another ${key.certificate.publicKey.keyType} key`);
  }
}

/**
 * The signature algorithms a host key serves: a certified key serves the certificate names and,
 * like sshd with HostKey and HostCertificate, the plain ones.
 */
export function algorithmsOf(key: MaybeCertifiedKey): string[] {
  return isCertifiedKey(key) ? [...key.key.algorithms.map(certificateAlgorithmOf), ...key.key.algorithms] : [...key.algorithms];
}

/** The blob sent for `key` under `algorithm` (the certificate for a certificate algorithm, else the plain key). */
export function wireBlobOf(key: MaybeCertifiedKey, algorithm?: string): Uint8Array {
  if (!isCertifiedKey(key)) return key.publicKeyBlob;
  return algorithm === undefined || isCertificateAlgorithm(algorithm) ? key.certificate.blob : key.key.publicKeyBlob;
}

/** The plain algorithm a key signs with when it authenticates under `algorithm`. */
export function signingAlgorithmOf(algorithm: string): PublicKeyAlgorithmName {
  return plainAlgorithmOf(algorithm) as PublicKeyAlgorithmName;
}

export { isCertificateAlgorithm };
