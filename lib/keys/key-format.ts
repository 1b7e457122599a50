/**
 * The names of the key file formats this package reads and writes. Which key types and which
 * halves (public, private) each format can hold is decided in import-key.ts and export-key.ts.
 */

/** Key file formats; values are stable strings usable in configuration. */
export const KeyFormat = {
  /** One-line OpenSSH public key `ssh-ed25519 AAAA... comment` (public only). */
  Ssh: 'ssh',
  /** RFC 4716 `---- BEGIN SSH2 PUBLIC KEY ----`; for RSA private keys, the ssh.com `SSH2 ENCRYPTED PRIVATE KEY`. */
  Ssh2: 'ssh2',
  /** PKCS#1 `RSA PRIVATE KEY` / `RSA PUBLIC KEY` (RSA only). */
  Pkcs1: 'pkcs1',
  /** SEC1 `EC PRIVATE KEY` (ECDSA only, private only). */
  Sec1: 'sec1',
  /** PKCS#8 `PRIVATE KEY` / `ENCRYPTED PRIVATE KEY`, and SubjectPublicKeyInfo `PUBLIC KEY`. */
  Pkcs8: 'pkcs8',
  /** openssh-key-v1 `OPENSSH PRIVATE KEY`; its public form is the `Ssh` line, as in `.pub` files. */
  OpenSsh: 'openssh',
  /** JSON Web Key (RFC 7517), with a `comment` member. */
  Jwk: 'jwk',
} as const;
/** One of the KeyFormat values. */
export type KeyFormat = (typeof KeyFormat)[keyof typeof KeyFormat];
