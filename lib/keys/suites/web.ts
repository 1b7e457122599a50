/**
 * The portable key suite: WebCrypto (`crypto.subtle`) signs, verifies and generates keys, and
 * derives PBKDF2 keys; the audited `@noble/*` libraries do what must be synchronous (hashes, HMAC,
 * deriving a public key, the AES modes of key files) and stand in for WebCrypto where a runtime
 * lacks an algorithm (Ed25519 or a NIST curve). Imported only by lib/platform/web.ts; nothing here
 * imports a `node:` module.
 */
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { cbc, ctr, gcm } from '@noble/ciphers/aes.js';
import { hmac } from '@noble/hashes/hmac.js';
import { md5, sha1 } from '@noble/hashes/legacy.js';
import { pbkdf2Async } from '@noble/hashes/pbkdf2.js';
import { sha224, sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import { KeyError } from '../../errors.js';
import { curveOfKeyType, curveParameters, materialToJwk, bytesOfJwkMember, type CurveName, type KeyMaterial, type KeyType } from '../key-material.js';
import type { HashName, KeyCipherOptions, KeySuite, SignatureScheme } from '../suite.js';
import { desEde3Cbc } from './des.js';

const hashes = { md5, sha1, sha224, sha256, sha384, sha512 } as const;
const webHashNames: Partial<Record<HashName, string>> = { sha1: 'SHA-1', sha256: 'SHA-256', sha384: 'SHA-384', sha512: 'SHA-512' };
const nobleCurves = { 'P-256': p256, 'P-384': p384, 'P-521': p521 } as const;

function subtle(): SubtleCrypto {
  const value = (globalThis as { crypto?: Crypto }).crypto?.subtle;
  if (!value) throw new KeyError('WebCrypto (crypto.subtle) is not available: a secure context (https or localhost) is needed');
  return value;
}

/** A handle: a CryptoKey, or the material itself when the runtime lacks the algorithm. */
type WebHandle = { kind: 'webcrypto'; key: CryptoKey } | { kind: 'noble'; material: KeyMaterial };

function algorithmOf(scheme: SignatureScheme): RsaHashedImportParams | EcKeyImportParams | Algorithm {
  if (scheme.keyType === 'ssh-ed25519') return { name: 'Ed25519' };
  if (scheme.keyType === 'ssh-rsa') return { name: 'RSASSA-PKCS1-v1_5', hash: webHashNames[scheme.hash!]! };
  return { name: 'ECDSA', namedCurve: curveOfKeyType(scheme.keyType)! };
}

function signParameters(scheme: SignatureScheme): Algorithm | EcdsaParams {
  if (scheme.keyType === 'ssh-ed25519') return { name: 'Ed25519' };
  if (scheme.keyType === 'ssh-rsa') return { name: 'RSASSA-PKCS1-v1_5' };
  return { name: 'ECDSA', hash: webHashNames[scheme.hash!]! };
}

/** True for the error a runtime raises for an algorithm it does not implement. */
function isUnsupported(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'NotSupportedError' || (error instanceof TypeError && /algorithm|not supported|unrecognized/i.test(error.message));
}

const buffer = (bytes: Uint8Array): Uint8Array<ArrayBuffer> => bytes as Uint8Array<ArrayBuffer>;

function nobleSign(material: KeyMaterial, data: Uint8Array): Uint8Array {
  if (material.kty === 'OKP') return ed25519.sign(data, material.d!);
  if (material.kty === 'EC') return nobleCurves[material.crv].sign(data, material.d!, { prehash: true, lowS: false });
  throw new KeyError('RSA signing needs WebCrypto, which this runtime lacks');
}

function nobleVerify(material: KeyMaterial, data: Uint8Array, signature: Uint8Array): boolean {
  try {
    if (material.kty === 'OKP') return ed25519.verify(signature, data, material.x, { zip215: false });
    if (material.kty === 'EC') {
      const publicKey = Uint8Array.from([4, ...material.x, ...material.y]);
      return nobleCurves[material.crv].verify(signature, data, publicKey, { prehash: true, lowS: false });
    }
  } catch {
    return false;
  }
  return false;
}

function nobleGenerate(keyType: KeyType): KeyMaterial {
  if (keyType === 'ssh-ed25519') {
    const d = ed25519.utils.randomSecretKey();
    return { kty: 'OKP', crv: 'Ed25519', x: ed25519.getPublicKey(d), d };
  }
  const crv = curveOfKeyType(keyType);
  if (!crv) throw new KeyError('RSA key generation needs WebCrypto, which this runtime lacks');
  const d = nobleCurves[crv].utils.randomSecretKey();
  const point = nobleCurves[crv].getPublicKey(d, false);
  const size = curveParameters(crv).size;
  return { kty: 'EC', crv, x: point.slice(1, 1 + size), y: point.slice(1 + size), d };
}

function materialOfJwk(jwk: JsonWebKey): KeyMaterial {
  const record = jwk as Record<string, unknown>;
  const member = (name: string): Uint8Array => bytesOfJwkMember(record, name);
  if (jwk.kty === 'OKP') return { kty: 'OKP', crv: 'Ed25519', x: member('x'), d: member('d') };
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv as CurveName, x: member('x'), y: member('y'), d: member('d') };
  const rsa = { kty: 'RSA' as const, n: member('n'), e: member('e'), d: member('d'), p: member('p'), q: member('q') };
  return { ...rsa, dp: member('dp'), dq: member('dq'), qi: member('qi') };
}

function rsaGenerateParameters(modulusLength: number): RsaHashedKeyGenParams {
  return { name: 'RSASSA-PKCS1-v1_5', modulusLength, publicExponent: Uint8Array.of(1, 0, 1), hash: 'SHA-256' };
}

/** The WebCrypto + `@noble/*` implementation of KeySuite. */
export const webKeySuite: KeySuite = {
  name: 'web',

  async importKey(material, { isPrivate, scheme }): Promise<WebHandle> {
    const jwk = materialToJwk(material, isPrivate) as JsonWebKey;
    try {
      const key = await subtle().importKey('jwk', jwk, algorithmOf(scheme), false, [isPrivate ? 'sign' : 'verify']);
      return { kind: 'webcrypto', key };
    } catch (cause) {
      if (material.kty !== 'RSA' && isUnsupported(cause)) return { kind: 'noble', material };
      throw new KeyError(`Invalid ${material.kty} ${isPrivate ? 'private' : 'public'} key: ${(cause as Error).message}`, { cause });
    }
  },

  async sign(handle, scheme, data) {
    const h = handle as WebHandle;
    if (h.kind === 'noble') return nobleSign(h.material, data);
    return new Uint8Array(await subtle().sign(signParameters(scheme), h.key, buffer(data)));
  },

  async verify(handle, { scheme, data, signature }) {
    const h = handle as WebHandle;
    if (h.kind === 'noble') return nobleVerify(h.material, data, signature);
    try {
      return await subtle().verify(signParameters(scheme), h.key, buffer(signature), buffer(data));
    } catch {
      return false;
    }
  },

  async generate(keyType, { modulusLength }) {
    const crv = curveOfKeyType(keyType);
    let algorithm: RsaHashedKeyGenParams | EcKeyGenParams | Algorithm;
    if (keyType === 'ssh-ed25519') algorithm = { name: 'Ed25519' };
    else if (crv) algorithm = { name: 'ECDSA', namedCurve: crv };
    else algorithm = rsaGenerateParameters(modulusLength);
    let pair: CryptoKeyPair;
    try {
      pair = (await subtle().generateKey(algorithm, true, ['sign', 'verify'])) as CryptoKeyPair;
    } catch (cause) {
      if (keyType !== 'ssh-rsa' && isUnsupported(cause)) return nobleGenerate(keyType);
      throw new KeyError(`Cannot generate a ${keyType} key: ${(cause as Error).message}`, { cause });
    }
    return materialOfJwk(await subtle().exportKey('jwk', pair.privateKey));
  },

  derivePublic(material) {
    if (material.kty === 'RSA' || material.d === undefined) throw new KeyError(`Cannot derive a public key from ${material.kty} material without d`);
    try {
      if (material.kty === 'OKP') return { x: ed25519.getPublicKey(material.d) };
      const point = nobleCurves[material.crv].getPublicKey(material.d, false);
      const size = curveParameters(material.crv).size;
      return { x: point.slice(1, 1 + size), y: point.slice(1 + size) };
    } catch (cause) {
      throw new KeyError(`Invalid ${material.kty} private key: ${(cause as Error).message}`, { cause });
    }
  },

  hash(name, ...parts) {
    const hash = hashes[name].create();
    for (const part of parts) hash.update(part);
    return hash.digest();
  },

  hmac(name, key, data) {
    return hmac(hashes[name], key, data);
  },

  randomBytes(length) {
    const out = new Uint8Array(length);
    // getRandomValues fills at most 65536 bytes a call.
    for (let at = 0; at < length; at += 65536) crypto.getRandomValues(out.subarray(at, Math.min(length, at + 65536)));
    return out;
  },

  async pbkdf2({ passphrase, salt, iterations, keyLength, hash }) {
    const webHash = webHashNames[hash];
    if (webHash === undefined || hash === 'md5') return pbkdf2Async(hashes[hash], passphrase, salt, { c: iterations, dkLen: keyLength });
    const base = await subtle().importKey('raw', buffer(passphrase), 'PBKDF2', false, ['deriveBits']);
    const params: Pbkdf2Params = { name: 'PBKDF2', hash: webHash, salt: buffer(salt), iterations };
    return new Uint8Array(await subtle().deriveBits(params, base, keyLength * 8));
  },

  cipher(options: KeyCipherOptions) {
    const { name, key, iv, data, decrypt, padding, tag } = options;
    if (name === 'des-ede3-cbc') return desEde3Cbc({ key, iv, data, decrypt, padding });
    let mode: { encrypt(data: Uint8Array): Uint8Array; decrypt(data: Uint8Array): Uint8Array };
    if (name.endsWith('-cbc')) mode = cbc(key, iv, { disablePadding: !padding });
    else if (name.endsWith('-ctr')) mode = ctr(key, iv);
    else mode = gcm(key, iv);
    if (!decrypt) return mode.encrypt(data);
    if (name.endsWith('-gcm')) {
      const sealed = new Uint8Array(data.length + (tag?.length ?? 0));
      sealed.set(data);
      if (tag) sealed.set(tag, data.length);
      return mode.decrypt(sealed);
    }
    return mode.decrypt(data);
  },
};
