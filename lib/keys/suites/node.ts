/**
 * The node:crypto key suite: KeyObjects for signing and verifying (the fast path on Node, Bun and
 * Deno's node compatibility), OpenSSL for hashes, PBKDF2 and the key file ciphers. Imported only
 * by lib/platform/node.ts.
 */
import {
  createCipheriv,
  createDecipheriv,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPair,
  pbkdf2,
  randomBytes,
  sign,
  verify,
  type CipherGCM,
  type DecipherGCM,
  type KeyObject,
} from 'node:crypto';
import { promisify } from 'node:util';
import { KeyError } from '../../errors.js';
import { bytesOfJwkMember, curveOfKeyType, materialToJwk, type KeyMaterial, type KeyType } from '../key-material.js';
import type { KeyCipherOptions, KeySuite, SignatureScheme } from '../suite.js';
import { ecPrivateKeyDer, ed25519PrivateKeyDer } from '../formats/key-der.js';

/** OpenSSL's names of the JWK curves, for createECDH. */
const ecdhCurves = { 'P-256': 'prime256v1', 'P-384': 'secp384r1', 'P-521': 'secp521r1' } as const;

const generate = promisify(generateKeyPair);
const pbkdf2Async = promisify(pbkdf2);

function signOptions(scheme: SignatureScheme, key: KeyObject): { hash: string | null; key: KeyObject | { key: KeyObject; dsaEncoding: 'ieee-p1363' } } {
  if (scheme.keyType === 'ssh-ed25519') return { hash: null, key };
  if (scheme.keyType === 'ssh-rsa') return { hash: scheme.hash!, key };
  return { hash: scheme.hash!, key: { key, dsaEncoding: 'ieee-p1363' } };
}

function materialOf(jwk: Record<string, unknown>): KeyMaterial {
  const member = (name: string): Uint8Array => bytesOfJwkMember(jwk, name);
  if (jwk.kty === 'OKP') return { kty: 'OKP', crv: 'Ed25519', x: member('x'), d: member('d') };
  if (jwk.kty === 'EC') return { kty: 'EC', crv: jwk.crv as 'P-256', x: member('x'), y: member('y'), d: member('d') };
  const rsa = { kty: 'RSA' as const, n: member('n'), e: member('e'), d: member('d'), p: member('p'), q: member('q') };
  return { ...rsa, dp: member('dp'), dq: member('dq'), qi: member('qi') };
}

function keyTypeParameters(keyType: KeyType, modulusLength: number): ['ed25519' | 'rsa' | 'ec', object] {
  if (keyType === 'ssh-ed25519') return ['ed25519', {}];
  if (keyType === 'ssh-rsa') return ['rsa', { modulusLength }];
  return ['ec', { namedCurve: curveOfKeyType(keyType)! }];
}

/** The node:crypto implementation of KeySuite. */
export const nodeKeySuite: KeySuite = {
  name: 'node',

  importKey(material, { isPrivate }) {
    const jwk = materialToJwk(material, isPrivate);
    try {
      return isPrivate ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
    } catch (cause) {
      throw new KeyError(`Invalid ${material.kty} ${isPrivate ? 'private' : 'public'} key: ${(cause as Error).message}`, { cause });
    }
  },

  sign(handle, scheme, data) {
    const { hash, key } = signOptions(scheme, handle as KeyObject);
    return Promise.resolve(new Uint8Array(sign(hash, data, key)));
  },

  verify(handle, { scheme, data, signature }) {
    const { hash, key } = signOptions(scheme, handle as KeyObject);
    try {
      return Promise.resolve(verify(hash, data, key, signature));
    } catch {
      return Promise.resolve(false);
    }
  },

  async generate(keyType, { modulusLength }) {
    const [type, options] = keyTypeParameters(keyType, modulusLength);
    const pair = await (generate as (type: string, options: object) => Promise<{ privateKey: KeyObject }>)(type, options);
    return materialOf(pair.privateKey.export({ format: 'jwk' }) as Record<string, unknown>);
  },

  derivePublic(material) {
    if (material.kty === 'RSA' || material.d === undefined) throw new KeyError(`Cannot derive a public key from ${material.kty} material without d`);
    if (material.kty === 'EC') {
      try {
        const jwk = createPrivateKey({ key: Buffer.from(ecPrivateKeyDer(material.crv, material.d)), format: 'der', type: 'sec1' })
          .export({ format: 'jwk' }) as Record<string, unknown>;
        return { x: bytesOfJwkMember(jwk, 'x'), y: bytesOfJwkMember(jwk, 'y') };
      } catch (cause) {
        // Bun's node:crypto (BoringSSL) cannot decode a SEC1 key without its public point: multiply through ECDH there.
        let point: Buffer;
        try {
          const ecdh = createECDH(ecdhCurves[material.crv]);
          ecdh.setPrivateKey(material.d);
          point = ecdh.getPublicKey();
        } catch {
          throw new KeyError(`Invalid EC private key: ${(cause as Error).message}`, { cause });
        }
        const half = (point.length - 1) / 2;
        return { x: new Uint8Array(point.subarray(1, 1 + half)), y: new Uint8Array(point.subarray(1 + half)) };
      }
    }
    let jwk: Record<string, unknown>;
    try {
      jwk = createPrivateKey({ key: Buffer.from(ed25519PrivateKeyDer(material.d)), format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }) as Record<string, unknown>;
    } catch (cause) {
      throw new KeyError(`Invalid ${material.kty} private key: ${(cause as Error).message}`, { cause });
    }
    return { x: bytesOfJwkMember(jwk, 'x') };
  },

  hash(name, ...parts) {
    const hash = createHash(name);
    for (const part of parts) hash.update(part);
    return new Uint8Array(hash.digest());
  },

  hmac(name, key, data) {
    return new Uint8Array(createHmac(name, key).update(data).digest());
  },

  randomBytes(length) {
    return new Uint8Array(randomBytes(length));
  },

  async pbkdf2({ passphrase, salt, iterations, keyLength, hash }) {
    return new Uint8Array(await pbkdf2Async(passphrase, salt, iterations, keyLength, hash));
  },

  cipher(options: KeyCipherOptions) {
    const { name, key, iv, data, decrypt, padding, tag } = options;
    if (decrypt) {
      const decipher = createDecipheriv(name, key, iv);
      if (name.endsWith('-gcm')) (decipher as DecipherGCM).setAuthTag(tag ?? new Uint8Array(0));
      else decipher.setAutoPadding(padding);
      return new Uint8Array(Buffer.concat([decipher.update(data), decipher.final()]));
    }
    const cipher = createCipheriv(name, key, iv);
    if (!name.endsWith('-gcm')) cipher.setAutoPadding(padding);
    const out = Buffer.concat([cipher.update(data), cipher.final()]);
    return new Uint8Array(name.endsWith('-gcm') ? Buffer.concat([out, (cipher as CipherGCM).getAuthTag()]) : out);
  },
};
