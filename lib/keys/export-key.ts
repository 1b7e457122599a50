/**
 * Key export to every format of KeyFormat, public and private. PKCS#1 and SEC1 are type-specific
 * and refuse other key types; passphrases select PBES2 (PKCS#8), bcrypt + aes256-ctr (OpenSSH) or
 * OpenSSL's traditional AES-256-CBC PEM encryption (PKCS#1, SEC1).
 */
import { KeyError } from '../errors.js';
import type { KeyPair } from './key-pair.js';
import { KeyFormat } from './key-format.js';
import { exportJwk } from './formats/jwk.js';
import { encodeOpenSshPrivateKey } from './formats/openssh.js';
import { encryptLegacyPem, writePem } from './formats/pem.js';
import { encryptPkcs8 } from './formats/pkcs8.js';
import { writePrivateKeyDer, writePublicKeyDer } from './formats/key-der.js';
import { formatSsh2PublicKey } from './formats/ssh2.js';
import { formatSsh2PrivateKey } from './formats/ssh2-private.js';
import { formatSshPublicKey } from './formats/ssh-public.js';

function requireType(key: KeyPair, format: KeyFormat): void {
  if (format === KeyFormat.Pkcs1 && key.keyType !== 'ssh-rsa') {
    throw new KeyError(`PKCS#1 holds RSA keys only; cannot export a ${key.keyType} key as pkcs1 (use pkcs8 or openssh)`);
  }
  if (format === KeyFormat.Sec1 && !key.keyType.startsWith('ecdsa-')) {
    throw new KeyError(`SEC1 holds ECDSA keys only; cannot export a ${key.keyType} key as sec1 (use pkcs8 or openssh)`);
  }
}

function der(key: KeyPair, type: 'pkcs1' | 'sec1' | 'pkcs8'): Uint8Array {
  return writePrivateKeyDer(key.material, type);
}

/**
 * Exports the private key of `key` as text.
 * @param format Pkcs8 (the most portable), Pkcs1 (RSA), Sec1 (ECDSA), OpenSsh, Jwk, or Ssh2 (ssh.com, RSA)
 * @param passphrase encrypts the key (not available for Jwk)
 * @throws KeyError when `key` has no private key, or the format cannot hold it
 * @example const pem = await exportPrivateKey(key, KeyFormat.OpenSsh, 'secret');
 */
export async function exportPrivateKey(key: KeyPair, format: KeyFormat, passphrase?: string): Promise<string> {
  if (!key.hasPrivateKey) throw new KeyError(`Cannot export a private key: the ${key.keyType} key has only its public half`);
  if (passphrase === '') passphrase = undefined;
  requireType(key, format);
  switch (format) {
    case KeyFormat.Pkcs1:
    case KeyFormat.Sec1: {
      const label = format === KeyFormat.Pkcs1 ? 'RSA PRIVATE KEY' : 'EC PRIVATE KEY';
      const body = der(key, format);
      return passphrase === undefined ? writePem(label, body) : encryptLegacyPem(label, body, passphrase);
    }
    case KeyFormat.Pkcs8: {
      const body = der(key, 'pkcs8');
      if (passphrase === undefined) return writePem('PRIVATE KEY', body);
      return writePem('ENCRYPTED PRIVATE KEY', await encryptPkcs8(body, passphrase));
    }
    case KeyFormat.OpenSsh:
      return writePem('OPENSSH PRIVATE KEY', await encodeOpenSshPrivateKey(key, passphrase), { lineLength: 70 });
    case KeyFormat.Jwk:
      if (passphrase !== undefined) throw new KeyError('JWK keys cannot be encrypted; export without a passphrase or use pkcs8');
      return exportJwk(key, true);
    case KeyFormat.Ssh2:
      return formatSsh2PrivateKey(key, passphrase);
    case KeyFormat.Ssh:
      throw new KeyError(`Format ${format} holds public keys only; use exportPublicKey, or pkcs8/openssh for private keys`);
    default:
      throw new KeyError(`Unknown key format ${String(format)} (expected one of ${Object.values(KeyFormat).join(', ')})`);
  }
}

/**
 * Exports the public key of `key` as text.
 * @param format Ssh (default) or OpenSsh: one line; Ssh2: RFC 4716; Pkcs8: SPKI `PUBLIC KEY`; Pkcs1 (RSA); Jwk
 * @throws KeyError for Sec1, which has no public key form, or a type-specific format of another type
 * @example const line = await exportPublicKey(key, KeyFormat.Ssh); // 'ssh-ed25519 AAAA... comment'
 */
export async function exportPublicKey(key: KeyPair, format: KeyFormat = KeyFormat.Ssh): Promise<string> {
  requireType(key, format);
  switch (format) {
    case KeyFormat.Ssh:
    case KeyFormat.OpenSsh:
      return formatSshPublicKey(key);
    case KeyFormat.Ssh2:
      return formatSsh2PublicKey(key);
    case KeyFormat.Pkcs1:
      return writePem('RSA PUBLIC KEY', writePublicKeyDer(key.material, 'pkcs1'));
    case KeyFormat.Pkcs8:
      return writePem('PUBLIC KEY', writePublicKeyDer(key.material, 'spki'));
    case KeyFormat.Jwk:
      return exportJwk(key, false);
    case KeyFormat.Sec1:
      throw new KeyError('SEC1 has no public key form; export ECDSA public keys as pkcs8 (SubjectPublicKeyInfo) or ssh');
    default:
      throw new KeyError(`Unknown key format ${String(format)} (expected one of ${Object.values(KeyFormat).join(', ')})`);
  }
}
