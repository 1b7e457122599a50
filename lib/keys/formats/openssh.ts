/**
 * OpenSSH private keys, "openssh-key-v1" (OpenSSH PROTOCOL.key): the `OPENSSH PRIVATE KEY` PEM body,
 * unencrypted or encrypted with bcrypt_pbkdf and AES (ctr, cbc, gcm@openssh.com), as ssh-keygen
 * writes it. Key-type private fields follow the SSH agent encoding (draft-miller-ssh-agent §4.2).
 * Armor lives in pem.ts; the key derivation in bcrypt-pbkdf.ts.
 */
import { KeyError } from '../../errors.js';
import { SshReader, SshWriter, concatBytes, utf8Encode } from '../../codec/wire.js';
import { bytesEqual } from '../encoding.js';
import { curveOfKeyType, curveParameters, rsaPrivateMaterial, type KeyMaterial, type KeyType } from '../key-material.js';
import { KeyPair } from '../key-pair.js';
import { keySuite, type KeyCipherName } from '../suite.js';
import { bcryptPbkdf } from './bcrypt-pbkdf.js';
import { fixedSize } from './jwk.js';
import { parseAs } from './invalid.js';

const authMagic = new TextEncoder().encode('openssh-key-v1\0');
const what = 'OpenSSH private key';

/** Ciphers ssh-keygen may have used: cipher name, key and IV lengths, block size, AEAD tag length. */
const ciphers: Record<string, { name: KeyCipherName | ''; keyLength: number; ivLength: number; blockSize: number; tagLength: number }> = {
  none: { name: '', keyLength: 0, ivLength: 0, blockSize: 8, tagLength: 0 },
  'aes128-ctr': { name: 'aes-128-ctr', keyLength: 16, ivLength: 16, blockSize: 16, tagLength: 0 },
  'aes192-ctr': { name: 'aes-192-ctr', keyLength: 24, ivLength: 16, blockSize: 16, tagLength: 0 },
  'aes256-ctr': { name: 'aes-256-ctr', keyLength: 32, ivLength: 16, blockSize: 16, tagLength: 0 },
  'aes128-cbc': { name: 'aes-128-cbc', keyLength: 16, ivLength: 16, blockSize: 16, tagLength: 0 },
  'aes192-cbc': { name: 'aes-192-cbc', keyLength: 24, ivLength: 16, blockSize: 16, tagLength: 0 },
  'aes256-cbc': { name: 'aes-256-cbc', keyLength: 32, ivLength: 16, blockSize: 16, tagLength: 0 },
  'aes128-gcm@openssh.com': { name: 'aes-128-gcm', keyLength: 16, ivLength: 12, blockSize: 16, tagLength: 16 },
  'aes256-gcm@openssh.com': { name: 'aes-256-gcm', keyLength: 32, ivLength: 12, blockSize: 16, tagLength: 16 },
};

/** bcrypt rounds we write: ssh-keygen's default. */
export const bcryptRounds = 16;
/** The most bcrypt rounds we accept, so that a corrupt file cannot stall the import for minutes. */
export const maxBcryptRounds = 1024;

/** True when a binary body starts with the openssh-key-v1 magic. */
export function isOpenSshPrivateKey(body: Uint8Array): boolean {
  return body.length >= authMagic.length && authMagic.every((b, i) => body[i] === b);
}

/** PROTOCOL.key: decodes (and decrypts) an openssh-key-v1 body. */
export async function parseOpenSshPrivateKey(body: Uint8Array, passphrase: string | undefined): Promise<KeyPair> {
  const section = parseAs(what, () => readOuterSection(body));
  const plain = section.cipherName === 'none' ? section.encrypted : await decrypt(section, passphrase);
  return parseAs(what, () => parsePrivateSection(plain, section.publicBlob, section.cipherName !== 'none'));
}

interface OuterSection {
  cipherName: string;
  kdfName: string;
  kdfOptions: Uint8Array;
  publicBlob: Uint8Array;
  encrypted: Uint8Array;
  tag: Uint8Array;
}

/** PROTOCOL.key: the clear part of the file, up to the (possibly encrypted) private section. */
function readOuterSection(body: Uint8Array): OuterSection {
  if (!isOpenSshPrivateKey(body)) throw new KeyError(`Invalid ${what}: missing "openssh-key-v1" magic`);
  const r = new SshReader(body, authMagic.length);
  r.context = what;
  const cipherName = r.utf8();
  const kdfName = r.utf8();
  const kdfOptions = r.string();
  const count = r.uint32();
  if (count !== 1) throw new KeyError(`${what} holds ${count} keys; exactly 1 is supported`);
  const publicBlob = r.string();
  const encrypted = r.string();
  const cipher = ciphers[cipherName];
  if (!cipher) throw new KeyError(`Unsupported ${what} cipher ${cipherName} (expected none, aes*-ctr, aes*-cbc or aes*-gcm@openssh.com)`);
  const tag = r.raw(cipher.tagLength);
  r.end();
  if (encrypted.length % cipher.blockSize !== 0) {
    throw new KeyError(`Invalid ${what}: private section of ${encrypted.length} bytes is not a multiple of ${cipher.blockSize}`);
  }
  return { cipherName, kdfName, kdfOptions, publicBlob, encrypted, tag };
}

async function decrypt(section: OuterSection, passphrase: string | undefined): Promise<Uint8Array> {
  const cipher = ciphers[section.cipherName]!;
  if (section.kdfName !== 'bcrypt') throw new KeyError(`Unsupported ${what} KDF ${section.kdfName} (expected bcrypt)`);
  const { salt, rounds } = parseAs(what, () => {
    const options = new SshReader(section.kdfOptions);
    options.context = `${what} bcrypt options`;
    const kdf = { salt: options.string(), rounds: options.uint32() };
    options.end();
    return kdf;
  });
  if (rounds < 1 || rounds > maxBcryptRounds) throw new KeyError(`${what} bcrypt rounds ${rounds} out of range 1-${maxBcryptRounds}`);
  if (passphrase === undefined) throw new KeyError(`A passphrase is required to decrypt the ${what}`);
  const derived = await bcryptPbkdf(utf8Encode(passphrase), salt, { keyLength: cipher.keyLength + cipher.ivLength, rounds });
  try {
    return keySuite().cipher({
      name: cipher.name as KeyCipherName,
      key: derived.subarray(0, cipher.keyLength),
      iv: derived.subarray(cipher.keyLength),
      data: section.encrypted,
      decrypt: true,
      padding: false,
      tag: cipher.tagLength ? section.tag : undefined,
    });
  } catch {
    throw new KeyError(`Incorrect passphrase for the ${what}`);
  }
}

/** PROTOCOL.key §"private keys": check integers, one key, comment, then 1, 2, 3... padding. */
function parsePrivateSection(plain: Uint8Array, publicBlob: Uint8Array, encrypted: boolean): KeyPair {
  const r = new SshReader(plain);
  r.context = `${what} private section`;
  if (r.uint32() !== r.uint32()) {
    throw new KeyError(encrypted ? `Incorrect passphrase for the ${what}` : `Invalid ${what}: check integers differ`);
  }
  const type = r.utf8();
  const material = readPrivateFields(type as KeyType, r);
  const comment = r.utf8();
  const padding = r.rest();
  if (!padding.every((b, i) => b === i + 1)) throw new KeyError(`Invalid ${what}: bad padding`);
  const key = new KeyPair({ material, comment });
  if (!bytesEqual(key.publicKeyBlob, publicBlob)) {
    throw new KeyError(`Invalid ${what}: the public key does not match the private key`);
  }
  return key;
}

/** draft-miller-ssh-agent §4.2.3-4.2.6: the private fields of each key type. */
export function readPrivateFields(type: KeyType, r: SshReader): KeyMaterial {
  if (type === 'ssh-rsa') {
    const [n, e, d, , p, q] = [r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint(), r.mpint()];
    return rsaPrivateMaterial({ n, e, d, p, q }, what);
  }
  if (type === 'ssh-ed25519') {
    const publicKey = r.string();
    const secret = r.string();
    if (publicKey.length !== 32 || secret.length !== 64) {
      throw new KeyError(`Invalid ${what}: Ed25519 keys are 32 and 64 bytes, got ${publicKey.length} and ${secret.length}`);
    }
    if (!bytesEqual(secret.subarray(32), publicKey)) throw new KeyError(`Invalid ${what}: the Ed25519 public key differs from the one in its secret`);
    return { kty: 'OKP', crv: 'Ed25519', x: publicKey.slice(), d: secret.slice(0, 32) };
  }
  const crv = curveOfKeyType(type);
  if (crv) {
    const spec = curveParameters(crv);
    const curve = r.utf8();
    if (curve !== spec.ssh) throw new KeyError(`Invalid ${what}: curve ${curve} does not match ${type}`);
    const point = r.string();
    if (point.length !== 1 + 2 * spec.size || point[0] !== 4) throw new KeyError(`Invalid ${what}: bad ${curve} public point`);
    const d = fixedSize(r.mpint(), spec.size, `${curve} private scalar`);
    return { kty: 'EC', crv, x: point.slice(1, 1 + spec.size), y: point.slice(1 + spec.size), d };
  }
  throw new KeyError(`Unsupported key type ${String(type).slice(0, 60)} in ${what}`);
}

/** draft-miller-ssh-agent §4.2: writes the private fields of `key`. */
export function writePrivateFields(key: KeyPair, w: SshWriter): void {
  const m = key.material;
  w.string(key.keyType);
  if (m.kty === 'RSA') {
    for (const value of [m.n, m.e, m.d, m.qi, m.p, m.q]) w.mpint(value!);
  } else if (m.kty === 'OKP') {
    w.string(m.x).string(concatBytes(m.d!, m.x));
  } else {
    w.string(curveParameters(m.crv).ssh).string(concatBytes(Uint8Array.of(4), m.x, m.y)).mpint(m.d!);
  }
}

/** PROTOCOL.key: encodes `key` as an openssh-key-v1 body, encrypted with aes256-ctr when a passphrase is given. */
export async function encodeOpenSshPrivateKey(key: KeyPair, passphrase: string | undefined): Promise<Uint8Array> {
  if (!key.hasPrivateKey) throw new KeyError(`Cannot export the ${key.keyType} key as ${what}: no private key`);
  const cipherName = passphrase === undefined ? 'none' : 'aes256-ctr';
  const cipher = ciphers[cipherName]!;
  const section = new SshWriter(1024);
  const suite = keySuite();
  const check = new DataView(suite.randomBytes(4).buffer).getUint32(0);
  section.uint32(check).uint32(check);
  writePrivateFields(key, section);
  section.string(key.comment);
  for (let pad = 1; section.length % cipher.blockSize !== 0; pad++) section.byte(pad);
  let encrypted: Uint8Array = section.toBytes();
  let kdfOptions = new Uint8Array(0);
  if (passphrase !== undefined) {
    const salt = suite.randomBytes(16);
    kdfOptions = new SshWriter(32).string(salt).uint32(bcryptRounds).toBytes().slice();
    const derived = await bcryptPbkdf(utf8Encode(passphrase), salt, { keyLength: cipher.keyLength + cipher.ivLength, rounds: bcryptRounds });
    const [key, iv] = [derived.subarray(0, cipher.keyLength), derived.subarray(cipher.keyLength)];
    encrypted = suite.cipher({ name: cipher.name as KeyCipherName, key, iv, data: encrypted, decrypt: false, padding: false });
  }
  const w = new SshWriter(2048);
  w.raw(authMagic).string(cipherName).string(passphrase === undefined ? 'none' : 'bcrypt').string(kdfOptions);
  w.uint32(1).string(key.publicKeyBlob).string(encrypted);
  return w.toBytes().slice();
}
