/**
 * The key-pair type shared by host keys, client keys and the key import/export package, and the
 * SSH public key algorithms (RFC 4253 §6.6, RFC 5656 §3, RFC 8332, RFC 8709): public key blobs,
 * signature blobs, signing and verifying with node:crypto key objects.
 */
import { createPublicKey, generateKeyPair as nodeGenerateKeyPair, sign, verify, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import { KeyError } from '../errors.js';
import { SshReader, SshWriter } from '../codec/wire.js';

/** Key blob types: the first string of an SSH public key blob. */
export type KeyType =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'ssh-rsa';

/** Signature (public key) algorithm names; RSA keys sign under three of them. */
export type PublicKeyAlgorithmName = KeyType | 'rsa-sha2-256' | 'rsa-sha2-512';

const curveOfKeyType = {
  'ecdsa-sha2-nistp256': { curve: 'nistp256', jwk: 'P-256', hash: 'sha256', size: 32 },
  'ecdsa-sha2-nistp384': { curve: 'nistp384', jwk: 'P-384', hash: 'sha384', size: 48 },
  'ecdsa-sha2-nistp521': { curve: 'nistp521', jwk: 'P-521', hash: 'sha512', size: 66 },
} as const;
type EcdsaKeyType = keyof typeof curveOfKeyType;

const rsaHash = { 'ssh-rsa': 'sha1', 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' } as const;

/** The key type that signs under `algorithm` (RFC 8332: rsa-sha2-* use `ssh-rsa` keys). */
export function keyTypeOfAlgorithm(algorithm: string): KeyType {
  if (algorithm === 'rsa-sha2-256' || algorithm === 'rsa-sha2-512' || algorithm === 'ssh-rsa') return 'ssh-rsa';
  if (algorithm === 'ssh-ed25519' || algorithm in curveOfKeyType) return algorithm as KeyType;
  throw new KeyError(`Unsupported public key algorithm ${algorithm}`);
}

/** The signature algorithms a key of `keyType` can produce, strongest first. */
export function algorithmsOfKeyType(keyType: KeyType): PublicKeyAlgorithmName[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

function b64u(s: string | undefined): Uint8Array {
  if (s === undefined) throw new KeyError('Key is missing a JWK component');
  return new Uint8Array(Buffer.from(s, 'base64url'));
}

function keyTypeOf(key: KeyObject): KeyType {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return 'ssh-ed25519';
  if (type === 'rsa') return 'ssh-rsa';
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    if (curve === 'prime256v1') return 'ecdsa-sha2-nistp256';
    if (curve === 'secp384r1') return 'ecdsa-sha2-nistp384';
    if (curve === 'secp521r1') return 'ecdsa-sha2-nistp521';
    throw new KeyError(`Unsupported EC curve ${curve}`);
  }
  throw new KeyError(`Unsupported key type ${type}`);
}

/** RFC 4253 §6.6 / RFC 5656 §3.1 / RFC 8709 §4: the public key blob of `publicKey`. */
function encodePublicKeyBlob(keyType: KeyType, publicKey: KeyObject): Uint8Array {
  const jwk = publicKey.export({ format: 'jwk' });
  const w = new SshWriter(600);
  w.string(keyType);
  if (keyType === 'ssh-ed25519') {
    w.string(b64u(jwk.x));
  } else if (keyType === 'ssh-rsa') {
    w.mpint(b64u(jwk.e)).mpint(b64u(jwk.n));
  } else {
    const { curve } = curveOfKeyType[keyType];
    const x = b64u(jwk.x);
    const y = b64u(jwk.y);
    const point = new Uint8Array(1 + x.length + y.length);
    point[0] = 4;
    point.set(x, 1);
    point.set(y, 1 + x.length);
    w.string(curve).string(point);
  }
  return w.toBytes().slice();
}

function leftPad(bytes: Uint8Array, size: number): Uint8Array {
  if (bytes.length === size) return bytes;
  if (bytes.length > size) throw new KeyError(`Value of ${bytes.length} bytes exceeds ${size}`);
  const out = new Uint8Array(size);
  out.set(bytes, size - bytes.length);
  return out;
}

/** RFC 4253 §6.6 / RFC 5656 §3.1: parses a public key blob into a node:crypto key object. */
function decodePublicKeyBlob(blob: Uint8Array): { keyType: KeyType; publicKey: KeyObject } {
  const r = new SshReader(blob);
  r.context = 'Public key blob';
  const name = r.utf8();
  // Some peers put the signature algorithm name in an RSA blob.
  const keyType = keyTypeOfAlgorithm(name);
  let jwk: Record<string, string>;
  if (keyType === 'ssh-ed25519') {
    const raw = r.string();
    if (raw.length !== 32) throw new KeyError(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
    jwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') };
  } else if (keyType === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    jwk = { kty: 'RSA', e: Buffer.from(e).toString('base64url'), n: Buffer.from(n).toString('base64url') };
  } else {
    const spec = curveOfKeyType[keyType as EcdsaKeyType];
    const curve = r.utf8();
    if (curve !== spec.curve) throw new KeyError(`ECDSA key curve ${curve} does not match ${keyType}`);
    const point = r.string();
    if (point.length !== 1 + 2 * spec.size || point[0] !== 4) {
      throw new KeyError(`ECDSA ${curve} point must be uncompressed (${1 + 2 * spec.size} bytes), got ${point.length}`);
    }
    jwk = {
      kty: 'EC',
      crv: spec.jwk,
      x: Buffer.from(point.subarray(1, 1 + spec.size)).toString('base64url'),
      y: Buffer.from(point.subarray(1 + spec.size)).toString('base64url'),
    };
  }
  r.end();
  try {
    return { keyType, publicKey: createPublicKey({ key: jwk, format: 'jwk' }) };
  } catch (cause) {
    throw new KeyError(`Invalid ${keyType} public key: ${(cause as Error).message}`, { cause });
  }
}

/**
 * A public key, with its private half when we hold it. Host keys, client keys and imported keys
 * are all KeyPairs; `comment` travels with formats that carry one.
 */
export class KeyPair {
  readonly keyType: KeyType;
  readonly publicKey: KeyObject;
  readonly privateKey: KeyObject | undefined;
  comment: string;
  #blob: Uint8Array | undefined;

  constructor(options: { publicKey: KeyObject; privateKey?: KeyObject | undefined; comment?: string | undefined }) {
    this.publicKey = options.publicKey;
    this.privateKey = options.privateKey;
    this.comment = options.comment ?? '';
    this.keyType = keyTypeOf(options.publicKey);
  }

  /** Builds a public-only key pair from an SSH public key blob (RFC 4253 §6.6). */
  static fromPublicKeyBlob(blob: Uint8Array, comment?: string): KeyPair {
    const { publicKey } = decodePublicKeyBlob(blob);
    return new KeyPair({ publicKey, comment });
  }

  /** Builds a key pair from a node:crypto private key object (the public half is derived). */
  static fromPrivateKey(privateKey: KeyObject, comment?: string): KeyPair {
    return new KeyPair({ publicKey: createPublicKey(privateKey), privateKey, comment });
  }

  get hasPrivateKey(): boolean {
    return this.privateKey !== undefined;
  }

  /** RFC 4253 §6.6 public key blob. */
  get publicKeyBlob(): Uint8Array {
    this.#blob ??= encodePublicKeyBlob(this.keyType, this.publicKey);
    return this.#blob;
  }

  /** RSA modulus size or curve size in bits. */
  get bits(): number {
    const d = this.publicKey.asymmetricKeyDetails;
    if (d?.modulusLength) return d.modulusLength;
    if (this.keyType === 'ssh-ed25519') return 256;
    return curveOfKeyType[this.keyType as EcdsaKeyType].size === 66 ? 521 : curveOfKeyType[this.keyType as EcdsaKeyType].size * 8;
  }

  /** The signature algorithms this key can produce, strongest first. */
  get algorithms(): PublicKeyAlgorithmName[] {
    return algorithmsOfKeyType(this.keyType);
  }

  /** True when `other` holds the same public key. */
  equals(other: KeyPair): boolean {
    return Buffer.from(this.publicKeyBlob).equals(other.publicKeyBlob);
  }

  /** RFC 4253 §6.6 / RFC 5656 §3.1.2 / RFC 8332 §3: signs `data`, returning the signature blob. */
  sign(algorithm: PublicKeyAlgorithmName, data: Uint8Array): Uint8Array {
    if (!this.privateKey) throw new KeyError(`Cannot sign with ${this.keyType}: no private key`);
    if (keyTypeOfAlgorithm(algorithm) !== this.keyType) {
      throw new KeyError(`A ${this.keyType} key cannot sign with ${algorithm}`);
    }
    const w = new SshWriter(600);
    w.string(algorithm);
    if (this.keyType === 'ssh-ed25519') {
      w.string(sign(null, data, this.privateKey));
    } else if (this.keyType === 'ssh-rsa') {
      w.string(sign(rsaHash[algorithm as keyof typeof rsaHash], data, this.privateKey));
    } else {
      const spec = curveOfKeyType[this.keyType as EcdsaKeyType];
      const sig = sign(spec.hash, data, { key: this.privateKey, dsaEncoding: 'ieee-p1363' });
      const inner = new SshWriter(160).mpint(sig.subarray(0, spec.size)).mpint(sig.subarray(spec.size));
      w.string(inner.toBytes());
    }
    return w.toBytes().slice();
  }

  /**
   * Verifies a signature blob over `data`. `allowed` limits the algorithms accepted (so that, for
   * example, `ssh-rsa` SHA-1 signatures can be refused). Returns false for any mismatch.
   */
  verify(data: Uint8Array, signatureBlob: Uint8Array, allowed?: readonly string[]): boolean {
    try {
      const r = new SshReader(signatureBlob);
      const algorithm = r.utf8();
      const sig = r.string();
      r.end();
      if (allowed && !allowed.includes(algorithm)) return false;
      if (keyTypeOfAlgorithm(algorithm) !== this.keyType) return false;
      if (this.keyType === 'ssh-ed25519') return verify(null, data, this.publicKey, sig);
      if (this.keyType === 'ssh-rsa') {
        return verify(rsaHash[algorithm as keyof typeof rsaHash], data, this.publicKey, sig);
      }
      const spec = curveOfKeyType[this.keyType as EcdsaKeyType];
      const inner = new SshReader(sig);
      const rr = inner.mpint();
      const ss = inner.mpint();
      inner.end();
      const p1363 = new Uint8Array(2 * spec.size);
      p1363.set(leftPad(rr, spec.size), 0);
      p1363.set(leftPad(ss, spec.size), spec.size);
      return verify(spec.hash, data, { key: this.publicKey, dsaEncoding: 'ieee-p1363' }, p1363);
    } catch {
      return false;
    }
  }
}

/** Options for `generateKeyPair`. */
export interface GenerateKeyPairOptions {
  /** RSA modulus size in bits (default 3072). */
  keySize?: number;
  comment?: string;
}

const generate = promisify(nodeGenerateKeyPair);

/**
 * Generates a key pair for a public key algorithm.
 * @example const hostKey = await generateKeyPair('ssh-ed25519');
 * @throws KeyError for an unknown algorithm
 */
export async function generateKeyPair(algorithm: PublicKeyAlgorithmName, options: GenerateKeyPairOptions = {}): Promise<KeyPair> {
  const keyType = keyTypeOfAlgorithm(algorithm);
  let pair: { publicKey: KeyObject; privateKey: KeyObject };
  if (keyType === 'ssh-ed25519') pair = await generate('ed25519');
  else if (keyType === 'ssh-rsa') pair = await generate('rsa', { modulusLength: options.keySize ?? 3072 });
  else pair = await generate('ec', { namedCurve: curveOfKeyType[keyType].jwk });
  return new KeyPair({ ...pair, comment: options.comment });
}

/** RFC 5656 §6.1: the SSH curve name, JWK curve name, hash and field size of an ECDSA key type. */
export function ecdsaCurveOf(keyType: KeyType): (typeof curveOfKeyType)[EcdsaKeyType] {
  const spec = curveOfKeyType[keyType as EcdsaKeyType];
  if (!spec) throw new KeyError(`${keyType} is not an ECDSA key type`);
  return spec;
}
