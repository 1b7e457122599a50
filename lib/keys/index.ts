/**
 * The `ssh-streams/keys` entry point: key pairs, import and export in the SSH, PEM and JWK formats,
 * fingerprints, and authorized_keys / known_hosts parsing. Public re-exports only; installs no
 * backend (the entry points `index.node.ts` and `index.browser.ts` do, then re-export this).
 */
export { KeyPair, generateKeyPair, type GenerateKeyPairOptions, type KeyType, type PublicKeyAlgorithmName } from './key-pair.js';
export { KeyFormat } from './key-format.js';
export { importKey, importKeyFile } from './import-key.js';
export { exportPrivateKey, exportPublicKey } from './export-key.js';
export { getFingerprint, getPublicKeyBlob, publicKeysEqual } from './fingerprint.js';
export { parseAuthorizedKeysLine, type AuthorizedKey, type AuthorizedKeyOption } from './authorized-keys.js';
export { knownHostsMatches, parseKnownHostsLine, type KnownHostsEntry } from './known-hosts.js';
export { KeyError } from '../errors.js';
export {
  Certificate,
  certificateForever,
  checkCertificate,
  importCertificate,
  signCertificate,
  type CertificateFields,
  type CertificateType,
  type CheckCertificateOptions,
  type SignCertificateOptions,
} from './certificate.js';
export {
  checkKnownHosts,
  knownHostsLine,
  knownHostsVerifier,
  type HostKeyEvent,
  type KnownHost,
  type KnownHostsStatus,
  type KnownHostsVerdict,
  type KnownHostsVerifierOptions,
} from './known-hosts-verifier.js';
