/**
 * PKCS#8 private keys (RFC 5208), their encrypted form with PBES2 (RFC 8018 §6.2: PBKDF2 with
 * HMAC-SHA1/SHA-2 and AES-CBC or DES-EDE3-CBC), and SubjectPublicKeyInfo public keys (RFC 5280
 * §4.1.2.7). key-der.ts reads the plain key bodies; this module owns the encryption envelope
 * and its wrong-passphrase detection.
 */
import { KeyError } from '../../errors.js';
import { utf8Encode } from '../../codec/wire.js';
import { keySuite, type HashName, type KeyCipherName } from '../suite.js';
import { DerReader, DerTag, derElement, derOid, derSmallInteger } from './der.js';
import { isWholeDerSequence } from './pem.js';

const oid = {
  pbes2: '1.2.840.113549.1.5.13',
  pbkdf2: '1.2.840.113549.1.5.12',
  hmacWithSha1: '1.2.840.113549.2.7',
  hmacWithSha256: '1.2.840.113549.2.9',
  aes256Cbc: '2.16.840.1.101.3.4.1.42',
} as const;

const prfs: Record<string, HashName> = {
  [oid.hmacWithSha1]: 'sha1',
  '1.2.840.113549.2.8': 'sha224',
  [oid.hmacWithSha256]: 'sha256',
  '1.2.840.113549.2.10': 'sha384',
  '1.2.840.113549.2.11': 'sha512',
};

const ciphers: Record<string, { name: KeyCipherName; keyLength: number; ivLength: number }> = {
  '2.16.840.1.101.3.4.1.2': { name: 'aes-128-cbc', keyLength: 16, ivLength: 16 },
  '2.16.840.1.101.3.4.1.22': { name: 'aes-192-cbc', keyLength: 24, ivLength: 16 },
  [oid.aes256Cbc]: { name: 'aes-256-cbc', keyLength: 32, ivLength: 16 },
  '1.2.840.113549.3.7': { name: 'des-ede3-cbc', keyLength: 24, ivLength: 8 },
};

/** PBKDF2 iterations we write; high enough to slow offline guessing, low enough for an interactive load. */
export const pbkdf2Iterations = 100_000;
/** Iteration counts above this are refused so that a corrupt file cannot stall the import. */
const maxIterations = 10_000_000;

const what = 'PKCS#8 encrypted private key';

/** RFC 5208 §6 / RFC 8018 §6.2.2: decrypts an EncryptedPrivateKeyInfo to PrivateKeyInfo DER. */
export async function decryptPkcs8(der: Uint8Array, passphrase: string | undefined): Promise<Uint8Array> {
  const outer = new DerReader(der, what).sequence('EncryptedPrivateKeyInfo');
  const algorithm = outer.sequence('encryptionAlgorithm');
  const scheme = algorithm.oid('encryptionAlgorithm.algorithm');
  if (scheme !== oid.pbes2) throw new KeyError(`Unsupported PKCS#8 encryption scheme ${scheme} (expected PBES2 ${oid.pbes2})`);
  const params = algorithm.sequence('PBES2-params');
  const kdf = params.sequence('keyDerivationFunc');
  const kdfOid = kdf.oid('keyDerivationFunc.algorithm');
  if (kdfOid !== oid.pbkdf2) throw new KeyError(`Unsupported PBES2 key derivation ${kdfOid} (expected PBKDF2 ${oid.pbkdf2})`);
  const kdfParams = kdf.sequence('PBKDF2-params');
  const salt = kdfParams.expect(DerTag.octetString, 'salt');
  const iterations = kdfParams.smallInteger('iterationCount');
  if (iterations < 1 || iterations > maxIterations) throw new KeyError(`PBKDF2 iteration count ${iterations} is out of range 1-${maxIterations}`);
  let prf: HashName = 'sha1';
  let keyLength: number | undefined;
  while (!kdfParams.done) {
    const element = kdfParams.read();
    if (element.tag === DerTag.integer) {
      keyLength = new DerReader(derElement(DerTag.integer, element.value), what).smallInteger('keyLength');
    } else if (element.tag === DerTag.sequence) {
      const prfOid = new DerReader(element.value, what).oid('prf.algorithm');
      const hash = prfs[prfOid];
      if (!hash) throw new KeyError(`Unsupported PBKDF2 PRF ${prfOid} (expected HMAC-SHA1 or HMAC-SHA2)`);
      prf = hash;
    }
  }
  const encryption = params.sequence('encryptionScheme');
  const cipherOid = encryption.oid('encryptionScheme.algorithm');
  const cipher = ciphers[cipherOid];
  if (!cipher) throw new KeyError(`Unsupported PBES2 cipher ${cipherOid} (expected AES-CBC or DES-EDE3-CBC)`);
  const iv = encryption.expect(DerTag.octetString, 'IV');
  if (iv.length !== cipher.ivLength) throw new KeyError(`PBES2 ${cipher.name} IV must be ${cipher.ivLength} bytes, got ${iv.length}`);
  if (keyLength !== undefined && keyLength !== cipher.keyLength) {
    throw new KeyError(`PBKDF2 key length ${keyLength} does not match ${cipher.name}`);
  }
  const data = outer.expect(DerTag.octetString, 'encryptedData');
  if (data.length === 0 || data.length % cipher.ivLength !== 0) {
    throw new KeyError(`Invalid ${what}: ${data.length} bytes is not a whole number of cipher blocks`);
  }
  if (passphrase === undefined) throw new KeyError(`A passphrase is required to decrypt the ${what}`);
  const suite = keySuite();
  const key = await suite.pbkdf2({ passphrase: utf8Encode(passphrase), salt, iterations, keyLength: cipher.keyLength, hash: prf });
  let plain: Uint8Array;
  try {
    plain = suite.cipher({ name: cipher.name, key, iv, data, decrypt: true, padding: true });
  } catch (cause) {
    if (cause instanceof KeyError) throw cause;
    throw new KeyError(`Incorrect passphrase for the ${what}`);
  }
  if (!isWholeDerSequence(plain)) throw new KeyError(`Incorrect passphrase for the ${what}`);
  return plain;
}

/** RFC 8018 §6.2.1: wraps PrivateKeyInfo DER with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC). */
export async function encryptPkcs8(der: Uint8Array, passphrase: string): Promise<Uint8Array> {
  const suite = keySuite();
  const salt = suite.randomBytes(16);
  const iv = suite.randomBytes(16);
  const key = await suite.pbkdf2({ passphrase: utf8Encode(passphrase), salt, iterations: pbkdf2Iterations, keyLength: 32, hash: 'sha256' });
  const data = suite.cipher({ name: 'aes-256-cbc', key, iv, data: der, decrypt: false, padding: true });
  const seq = (...parts: Uint8Array[]): Uint8Array => derElement(DerTag.sequence, ...parts);
  const nullValue = derElement(DerTag.null);
  const kdf = seq(
    derOid(oid.pbkdf2),
    seq(derElement(DerTag.octetString, salt), derSmallInteger(pbkdf2Iterations), seq(derOid(oid.hmacWithSha256), nullValue)),
  );
  const scheme = seq(derOid(oid.aes256Cbc), derElement(DerTag.octetString, iv));
  return seq(seq(derOid(oid.pbes2), seq(kdf, scheme)), derElement(DerTag.octetString, data));
}
