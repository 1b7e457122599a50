/**
 * Key import with format detection: PEM (PKCS#1, SEC1, PKCS#8 plain and PBES2-encrypted, SPKI,
 * OpenSSH, legacy `Proc-Type` encryption), RFC 4716, the one-line SSH public key, JWK, and binary
 * DER or openssh-key-v1 bodies. Each format module parses; this file only recognises and routes.
 */
import { readFile } from 'node:fs/promises';
import { KeyError } from '../errors.js';
import { KeyPair } from './key-pair.js';
import { importJwk } from './formats/jwk.js';
import { isOpenSshPrivateKey, parseOpenSshPrivateKey } from './formats/openssh.js';
import { decryptLegacyPem, isLegacyEncrypted, isPem, readPemBlocks, type PemBlock } from './formats/pem.js';
import { decryptPkcs8, parsePrivateDer, parsePublicDer } from './formats/pkcs8.js';
import { isSsh2PublicKey, parseSsh2PublicKey } from './formats/ssh2.js';
import { isSsh2PrivateKey, parseSsh2PrivateKey } from './formats/ssh2-private.js';
import { isSshKeyType, parseSshPublicKey } from './formats/ssh-public.js';
import { parseAs } from './formats/invalid.js';
import { assertConsistentKeyPair } from './formats/consistency.js';

const expectedFormats = 'PEM (PKCS#1, PKCS#8, SEC1, OpenSSH), RFC 4716 SSH2, an SSH public key line or JWK';

/** PEM labels this package reads, and the structure each one announces. */
const pemLabels: Record<string, string> = {
  'RSA PRIVATE KEY': 'PKCS#1 RSA private key',
  'RSA PUBLIC KEY': 'PKCS#1 RSA public key',
  'EC PRIVATE KEY': 'SEC1 EC private key',
  'PRIVATE KEY': 'PKCS#8 private key',
  'ENCRYPTED PRIVATE KEY': 'PKCS#8 encrypted private key',
  'PUBLIC KEY': 'SubjectPublicKeyInfo public key',
  'OPENSSH PRIVATE KEY': 'OpenSSH private key',
};

async function importPemBlock(block: PemBlock, passphrase: string | undefined): Promise<KeyPair> {
  const expected = pemLabels[block.label];
  if (!expected) throw new KeyError(`Unsupported PEM label "${block.label}" (expected one of ${Object.keys(pemLabels).join(', ')})`);
  if (block.label === 'OPENSSH PRIVATE KEY') return parseOpenSshPrivateKey(block.body, passphrase);
  const der = isLegacyEncrypted(block) ? decryptLegacyPem(block, passphrase) : block.body;
  switch (block.label) {
    case 'RSA PRIVATE KEY':
      return KeyPair.fromPrivateKey(parsePrivateDer(der, 'pkcs1', expected));
    case 'EC PRIVATE KEY':
      return KeyPair.fromPrivateKey(parsePrivateDer(der, 'sec1', expected));
    case 'PRIVATE KEY':
      return KeyPair.fromPrivateKey(parsePrivateDer(der, 'pkcs8', expected));
    case 'ENCRYPTED PRIVATE KEY':
      return KeyPair.fromPrivateKey(parsePrivateDer(await decryptPkcs8(der, passphrase), 'pkcs8', pemLabels['PRIVATE KEY']!));
    case 'RSA PUBLIC KEY':
      return new KeyPair({ publicKey: parsePublicDer(der, 'pkcs1', expected) });
    default:
      return new KeyPair({ publicKey: parsePublicDer(der, 'spki', expected) });
  }
}

/** Binary input: an openssh-key-v1 body, DER of any supported structure, or an SSH public key blob. */
async function importBinary(bytes: Uint8Array, passphrase: string | undefined): Promise<KeyPair> {
  if (isOpenSshPrivateKey(bytes)) return parseOpenSshPrivateKey(bytes, passphrase);
  if (bytes[0] === 0x30) {
    const attempts: (() => Promise<KeyPair> | KeyPair)[] = [
      () => KeyPair.fromPrivateKey(parsePrivateDer(bytes, 'pkcs8', 'PKCS#8')),
      () => new KeyPair({ publicKey: parsePublicDer(bytes, 'spki', 'SPKI') }),
      () => KeyPair.fromPrivateKey(parsePrivateDer(bytes, 'pkcs1', 'PKCS#1')),
      () => new KeyPair({ publicKey: parsePublicDer(bytes, 'pkcs1', 'PKCS#1') }),
      () => KeyPair.fromPrivateKey(parsePrivateDer(bytes, 'sec1', 'SEC1')),
    ];
    for (const attempt of attempts) {
      try {
        return await attempt();
      } catch {
        // Try the next structure; DER carries no label saying which one it is.
      }
    }
    // Encrypted PKCS#8 last, so that its passphrase errors are the ones reported.
    const plain = await decryptPkcs8(bytes, passphrase);
    return KeyPair.fromPrivateKey(parsePrivateDer(plain, 'pkcs8', pemLabels['PRIVATE KEY']!));
  }
  if (bytes.length > 4 && bytes[0] === 0) return parseAs('SSH public key blob', () => KeyPair.fromPublicKeyBlob(bytes));
  throw new KeyError(`Unrecognized binary key data (expected DER, an openssh-key-v1 body or an SSH public key blob)`);
}

function looksLikeText(bytes: Uint8Array): boolean {
  const sample = bytes.subarray(0, 64);
  return sample.length > 0 && sample.every((b) => b === 0x09 || b === 0x0a || b === 0x0d || (b >= 0x20 && b < 0x7f) || b >= 0x80);
}

/**
 * Imports a key in any supported format, detecting the format from the data.
 * @param data key file contents: text, or binary DER / openssh-key-v1 / SSH public key blob
 * @param passphrase needed only for encrypted private keys
 * @returns the key, private when the data holds a private key; the comment when the format has one
 * @throws KeyError naming the format expected, or saying that a passphrase is missing or incorrect
 * @example const key = await importKey(await readFile('id_ed25519', 'utf8'), 'secret');
 */
export async function importKey(data: string | Uint8Array, passphrase?: string): Promise<KeyPair> {
  const key = await importAnyFormat(data, passphrase);
  assertConsistentKeyPair(key, 'private key');
  return key;
}

async function importAnyFormat(data: string | Uint8Array, passphrase: string | undefined): Promise<KeyPair> {
  if (typeof data !== 'string') {
    if (!looksLikeText(data)) return importBinary(data, passphrase);
    data = new TextDecoder().decode(data);
  }
  const text = data.replace(/^\uFEFF/, '').trim();
  if (text === '') throw new KeyError(`Empty key data (expected ${expectedFormats})`);
  if (isSsh2PublicKey(text)) return parseSsh2PublicKey(text).key;
  if (isSsh2PrivateKey(text)) return parseSsh2PrivateKey(text, passphrase);
  if (isPem(text)) {
    // Files may carry EC PARAMETERS or certificates next to the key: take the first key block.
    const blocks = readPemBlocks(text).filter((block) => block.label !== 'EC PARAMETERS');
    if (blocks.length === 0) throw new KeyError(`PEM data holds no key block (expected ${Object.keys(pemLabels).join(', ')})`);
    return importPemBlock(blocks.find((block) => block.label in pemLabels) ?? blocks[0]!, passphrase);
  }
  if (text.startsWith('{')) return importJwk(text);
  const firstToken = text.split(/\s/, 1)[0]!;
  if (isSshKeyType(firstToken)) {
    if (text.includes('\n')) throw new KeyError('SSH public key data holds more than one line; parse authorized_keys files line by line');
    return parseSshPublicKey(text);
  }
  throw new KeyError(`Unrecognized key format (expected ${expectedFormats})`);
}

/**
 * Reads and imports a key file.
 * @throws KeyError when the file cannot be read or parsed
 * @example const hostKey = await importKeyFile('/etc/ssh/ssh_host_ed25519_key');
 */
export async function importKeyFile(path: string, passphrase?: string): Promise<KeyPair> {
  let data: Uint8Array;
  try {
    data = await readFile(path);
  } catch (cause) {
    throw new KeyError(`Cannot read key file ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  return importKey(data, passphrase);
}
