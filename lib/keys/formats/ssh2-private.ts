/**
 * The ssh.com ("SSH2 ENCRYPTED PRIVATE KEY") private key format that RFC 4716 tools share armor
 * with: magic 0x3f6ff9eb, a key-type string, `none` or `3des-cbc` (key from an MD5 chain over the
 * passphrase, zero IV), and bit-count-prefixed integers. RSA keys only, as ssh-keygen -i reads them.
 */
import { KeyError } from '../../errors.js';
import { SshReader, SshWriter, concatBytes, utf8Encode } from '../../codec/wire.js';
import { base64Encode } from '../encoding.js';
import { rsaPrivateMaterial } from '../key-material.js';
import { KeyPair } from '../key-pair.js';
import { keySuite } from '../suite.js';
import { decodeBase64, parseAs } from './invalid.js';

const begin = '---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----';
const end = '---- END SSH2 ENCRYPTED PRIVATE KEY ----';
const magic = 0x3f6ff9eb;
const rsaKeyType = 'if-modn{sign{rsa-pkcs1-sha1},encrypt{rsa-pkcs1v2-oaep}}';
const what = 'SSH2 (ssh.com) private key';

/** True when `text` holds an ssh.com private key. */
export function isSsh2PrivateKey(text: string): boolean {
  return text.includes(begin);
}

/** The 3des-cbc key: MD5(passphrase) || MD5(passphrase || first digest), first 24 bytes. */
function cipherKey(passphrase: string): Uint8Array {
  const suite = keySuite();
  const secret = utf8Encode(passphrase);
  const first = suite.hash('md5', secret);
  return concatBytes(first, suite.hash('md5', secret, first)).subarray(0, 24);
}

/** ssh.com integers: uint32 bit count, then the magnitude in (bits + 7) / 8 bytes. */
function readInteger(r: SshReader): Uint8Array {
  const bits = r.uint32();
  return r.raw(Math.ceil(bits / 8));
}

function writeInteger(w: SshWriter, magnitude: Uint8Array): void {
  let start = 0;
  while (start < magnitude.length && magnitude[start] === 0) start++;
  const body = magnitude.subarray(start);
  const bits = body.length === 0 ? 0 : (body.length - 1) * 8 + (32 - Math.clz32(body[0]!));
  w.uint32(bits).raw(body);
}


/** Parses the armor, headers and body of an ssh.com private key. */
export function parseSsh2PrivateKey(text: string, passphrase: string | undefined): KeyPair {
  const from = text.indexOf(begin);
  const to = text.indexOf(end, from);
  if (to < 0) throw new KeyError(`Invalid ${what}: expected "${end}"`);
  const lines = text.slice(from + begin.length, to).split(/\r?\n/);
  let comment: string | undefined;
  const body: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i]!.trim();
    if (line.includes(':') && body.length === 0) {
      while (line.endsWith('\\') && i + 1 < lines.length) line = line.slice(0, -1) + lines[++i]!.trim();
      const colon = line.indexOf(':');
      if (line.slice(0, colon).trim().toLowerCase() === 'comment') comment = line.slice(colon + 1).trim().replace(/^"(.*)"$/, '$1');
    } else if (line) {
      body.push(line);
    }
  }
  const blob = decodeBase64(body.join(''), what);
  return parseAs(what, () => {
    const r = new SshReader(blob);
    r.context = what;
    if (r.uint32() !== magic) throw new KeyError(`Invalid ${what}: missing magic 0x3f6ff9eb`);
    const size = r.uint32();
    if (size !== blob.length) throw new KeyError(`Invalid ${what}: size field says ${size} bytes, have ${blob.length}`);
    const keyType = r.utf8();
    const cipher = r.utf8();
    let data = r.string();
    r.end();
    if (!keyType.startsWith('if-modn{sign{rsa')) throw new KeyError(`Unsupported ${what} type ${keyType.slice(0, 60)} (expected RSA "if-modn")`);
    if (cipher === '3des-cbc') {
      if (passphrase === undefined) throw new KeyError(`A passphrase is required to decrypt the ${what}`);
      if (data.length === 0 || data.length % 8 !== 0) throw new KeyError(`Invalid ${what}: encrypted part is not a multiple of 8 bytes`);
      data = keySuite().cipher({ name: 'des-ede3-cbc', key: cipherKey(passphrase), iv: new Uint8Array(8), data, decrypt: true, padding: false });
    } else if (cipher !== 'none') {
      throw new KeyError(`Unsupported ${what} cipher ${cipher.slice(0, 40)} (expected none or 3des-cbc)`);
    }
    const outer = new SshReader(data);
    outer.context = what;
    let payload: Uint8Array;
    try {
      payload = outer.string();
    } catch (cause) {
      if (cipher !== 'none') throw new KeyError(`Incorrect passphrase for the ${what}`, { cause });
      throw cause;
    }
    const k = new SshReader(payload);
    k.context = `${what} RSA fields`;
    const [e, d, n, , a, b] = [readInteger(k), readInteger(k), readInteger(k), readInteger(k), readInteger(k), readInteger(k)];
    k.end();
    // The fourth integer is a^-1 mod b; it is recomputed rather than trusted.
    try {
      return new KeyPair({ material: rsaPrivateMaterial({ n, e, d, p: b, q: a }, what), comment });
    } catch (cause) {
      if (cipher !== 'none') throw new KeyError(`Incorrect passphrase for the ${what}`, { cause });
      throw cause;
    }
  });
}

/** Writes `key` (RSA) in the ssh.com format, 3des-cbc encrypted when a passphrase is given. */
export function formatSsh2PrivateKey(key: KeyPair, passphrase: string | undefined): string {
  if (key.keyType !== 'ssh-rsa') throw new KeyError(`The ${what} format holds RSA keys only; cannot export a ${key.keyType} key (use openssh or pkcs8)`);
  const m = key.material;
  if (m.kty !== 'RSA' || !m.d) throw new KeyError(`Cannot export the ${key.keyType} key as ${what}: no private key`);
  const fields = new SshWriter(2048);
  // Order e, d, n, u, a, b with u = a^-1 mod b; a = q and b = p keeps u equal to the PKCS#1 qInv.
  for (const value of [m.e, m.d, m.n, m.qi!, m.q!, m.p!]) {
    writeInteger(fields, value);
  }
  const inner = new SshWriter(2048).string(fields.toBytes());
  let data: Uint8Array = inner.toBytes();
  if (passphrase !== undefined) {
    while (inner.length % 8 !== 0) inner.byte(0);
    data = keySuite().cipher({ name: 'des-ede3-cbc', key: cipherKey(passphrase), iv: new Uint8Array(8), data: inner.toBytes(), decrypt: false, padding: false });
  }
  const w = new SshWriter(2048);
  w.uint32(magic).uint32(0).string(rsaKeyType).string(passphrase === undefined ? 'none' : '3des-cbc').string(data);
  const blob = w.toBytes().slice();
  new DataView(blob.buffer).setUint32(4, blob.length);
  const lines = [begin];
  if (key.comment) lines.push(`Comment: "${key.comment}"`);
  const base64 = base64Encode(blob);
  for (let i = 0; i < base64.length; i += 70) lines.push(base64.slice(i, i + 70));
  lines.push(end, '');
  return lines.join('\n');
}
