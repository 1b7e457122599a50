/**
 * Key import with format detection: PEM (PKCS#1, SEC1, PKCS#8 plain and PBES2-encrypted, SPKI,
 * OpenSSH, legacy `Proc-Type` encryption), RFC 4716, the one-line SSH public key, JWK, and binary
 * DER or openssh-key-v1 bodies. Each format module parses; this file only recognises and routes.
 */
import { KeyError } from '../errors.js';
import { KeyPair } from './key-pair.js';
import { importJwk } from './formats/jwk.js';
import { isOpenSshPrivateKey, parseOpenSshPrivateKey } from './formats/openssh.js';
import { decryptLegacyPem, isLegacyEncrypted, isPem, readPemBlocks, type PemBlock } from './formats/pem.js';
import { decryptPkcs8 } from './formats/pkcs8.js';
import { readPrivateKeyDer, readPublicKeyDer } from './formats/key-der.js';
import { isSsh2PublicKey, parseSsh2PublicKey } from './formats/ssh2.js';
import { isSsh2PrivateKey, parseSsh2PrivateKey } from './formats/ssh2-private.js';
import { isSshKeyType, parseSshPublicKey } from './formats/ssh-public.js';
import { parseAs } from './formats/invalid.js';
import { assertConsistentKeyPair } from './formats/consistency.js';

/** A private key from DER; errors of any kind become a KeyError naming the structure. */
function privateDer(der: Uint8Array, type: 'pkcs1' | 'pkcs8' | 'sec1', expected: string): KeyPair {
  return parseAs(expected, () => new KeyPair({ material: readPrivateKeyDer(der, type, expected) }));
}

/** A public key from SPKI or PKCS#1 RSAPublicKey DER. */
function publicDer(der: Uint8Array, type: 'pkcs1' | 'spki', expected: string): KeyPair {
  return parseAs(expected, () => new KeyPair({ material: readPublicKeyDer(der, type, expected) }));
}

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
      return privateDer(der, 'pkcs1', expected);
    case 'EC PRIVATE KEY':
      return privateDer(der, 'sec1', expected);
    case 'PRIVATE KEY':
      return privateDer(der, 'pkcs8', expected);
    case 'ENCRYPTED PRIVATE KEY':
      return privateDer(await decryptPkcs8(der, passphrase), 'pkcs8', pemLabels['PRIVATE KEY']!);
    case 'RSA PUBLIC KEY':
      return publicDer(der, 'pkcs1', expected);
    default:
      return publicDer(der, 'spki', expected);
  }
}

/** Binary input: an openssh-key-v1 body, DER of any supported structure, or an SSH public key blob. */
async function importBinary(bytes: Uint8Array, passphrase: string | undefined): Promise<KeyPair> {
  if (isOpenSshPrivateKey(bytes)) return parseOpenSshPrivateKey(bytes, passphrase);
  if (bytes[0] === 0x30) {
    const attempts: (() => Promise<KeyPair> | KeyPair)[] = [
      () => privateDer(bytes, 'pkcs8', 'PKCS#8'),
      () => publicDer(bytes, 'spki', 'SPKI'),
      () => privateDer(bytes, 'pkcs1', 'PKCS#1'),
      () => publicDer(bytes, 'pkcs1', 'PKCS#1'),
      () => privateDer(bytes, 'sec1', 'SEC1'),
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
    return privateDer(plain, 'pkcs8', pemLabels['PRIVATE KEY']!);
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
  await assertConsistentKeyPair(key, 'private key');
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

/** node:fs/promises, loaded on first use so that runtimes without a file system can import this module. */
async function loadReadFile(path: string): Promise<(path: string) => Promise<Uint8Array>> {
  const specifier = 'node:fs/promises';
  try {
    const fs = (await import(/* @vite-ignore */ specifier)) as { readFile(path: string): Promise<Uint8Array> };
    return fs.readFile;
  } catch (cause) {
    throw new KeyError(`Cannot read key file ${path}: importKeyFile needs node:fs, which this runtime lacks; read the file yourself and call importKey`, { cause });
  }
}

/**
 * Reads and imports a key file (Node, Bun and Deno only: it needs node:fs).
 * @throws KeyError when the file cannot be read or parsed, or the runtime has no file system
 * @example const hostKey = await importKeyFile('/etc/ssh/ssh_host_ed25519_key');
 */
export async function importKeyFile(path: string, passphrase?: string): Promise<KeyPair> {
  const readFile = await loadReadFile(path);
  let data: Uint8Array;
  try {
    data = await readFile(path);
  } catch (cause) {
    throw new KeyError(`Cannot read key file ${path}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`, { cause });
  }
  return importKey(data, passphrase);
}
