/**
 * The key-pair type shared by host keys, client keys and the key import/export package, and the
 * SSH public key algorithms (RFC 4253 §6.6, RFC 5656 §3, RFC 8332, RFC 8709): public key blobs,
 * signature blobs, signing and verifying. A KeyPair holds its numbers as bytes (key-material.ts)
 * and the installed key suite's handles (a node KeyObject, a WebCrypto CryptoKey), made on first use.
 */
import { KeyError } from '../errors.js';
import { SshReader, SshWriter } from '../codec/wire.js';
import { bytesEqual } from './encoding.js';
import {
  assertPointOnCurve,
  assertScalarInRange,
  curveOfKeyType,
  curveParameters,
  isPrivateMaterial,
  keyTypeOfMaterial,
  rsaPrivateMaterial,
  rsaPublicMaterial,
  type KeyMaterial,
  type KeyType,
} from './key-material.js';
import { keySuite, type KeySuite, type SignatureScheme } from './suite.js';

export type { KeyType } from './key-material.js';

/** Signature (public key) algorithms names; RSA keys sign under three of them. */
export type PublicKeyAlgorithmName = KeyType | 'rsa-sha2-256' | 'rsa-sha2-512';

const rsaHash = { 'ssh-rsa': 'sha1', 'rsa-sha2-256': 'sha256', 'rsa-sha2-512': 'sha512' } as const;

/** The key type that signs under `algorithm` (RFC 8332: rsa-sha2-* use `ssh-rsa` keys). */
export function keyTypeOfAlgorithm(algorithm: string): KeyType {
  if (algorithm === 'rsa-sha2-256' || algorithm === 'rsa-sha2-512' || algorithm === 'ssh-rsa') return 'ssh-rsa';
  if (algorithm === 'ssh-ed25519' || curveOfKeyType(algorithm)) return algorithm as KeyType;
  throw new KeyError(`Unsupported public key algorithm ${algorithm}`);
}

/** The signature algorithms a key of `keyType` can produce, strongest first. */
export function algorithmsOfKeyType(keyType: KeyType): PublicKeyAlgorithmName[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

function schemeOf(keyType: KeyType, algorithm: string): SignatureScheme {
  if (keyType === 'ssh-ed25519') return { keyType, hash: undefined };
  if (keyType === 'ssh-rsa') return { keyType, hash: rsaHash[algorithm as keyof typeof rsaHash] };
  return { keyType, hash: curveParameters(curveOfKeyType(keyType)!).hash };
}

/** RFC 4253 §6.6 / RFC 5656 §3.1 / RFC 8709 §4: the public key blob. */
function encodePublicKeyBlob(keyType: KeyType, m: KeyMaterial): Uint8Array {
  const w = new SshWriter(600);
  w.string(keyType);
  if (m.kty === 'OKP') {
    w.string(m.x);
  } else if (m.kty === 'RSA') {
    w.mpint(m.e).mpint(m.n);
  } else {
    const point = new Uint8Array(1 + m.x.length + m.y.length);
    point[0] = 4;
    point.set(m.x, 1);
    point.set(m.y, 1 + m.x.length);
    w.string(curveParameters(m.crv).ssh).string(point);
  }
  return w.toBytes().slice();
}

/** RFC 4253 §6.6 / RFC 5656 §3.1: parses a public key blob into key material. */
function decodePublicKeyBlob(blob: Uint8Array): KeyMaterial {
  const r = new SshReader(blob);
  r.context = 'Public key blob';
  // Some peers put the signature algorithm name in an RSA blob.
  const keyType = keyTypeOfAlgorithm(r.utf8());
  let material: KeyMaterial;
  if (keyType === 'ssh-ed25519') {
    const raw = r.string();
    if (raw.length !== 32) throw new KeyError(`Ed25519 public key must be 32 bytes, got ${raw.length}`);
    material = { kty: 'OKP', crv: 'Ed25519', x: raw.slice() };
  } else if (keyType === 'ssh-rsa') {
    const e = r.mpint();
    const n = r.mpint();
    material = rsaPublicMaterial(n, e, 'ssh-rsa public key');
  } else {
    const crv = curveOfKeyType(keyType)!;
    const spec = curveParameters(crv);
    const curve = r.utf8();
    if (curve !== spec.ssh) throw new KeyError(`ECDSA key curve ${curve} does not match ${keyType}`);
    const point = r.string();
    if (point.length !== 1 + 2 * spec.size || point[0] !== 4) {
      throw new KeyError(`ECDSA ${curve} point must be uncompressed (${1 + 2 * spec.size} bytes), got ${point.length}`);
    }
    material = { kty: 'EC', crv, x: point.slice(1, 1 + spec.size), y: point.slice(1 + spec.size) };
  }
  r.end();
  return material;
}

/**
 * Checks `material` and completes a private key's public members: an Ed25519 or EC public key is
 * derived from the private one, and must equal the stored one when there is one.
 */
function completeMaterial(material: KeyMaterial): KeyMaterial {
  const what = `${keyTypeOfMaterial(material)} key`;
  if (material.kty === 'RSA') {
    const pub = rsaPublicMaterial(material.n, material.e, what);
    if (!isPrivateMaterial(material)) return pub;
    const { d, p, q } = material;
    if (!p || !q) throw new KeyError(`Invalid ${what}: an RSA private key needs its primes`);
    return rsaPrivateMaterial({ n: pub.n, e: pub.e, d: d!, p, q }, what);
  }
  if (material.kty === 'OKP') {
    if (material.d === undefined) {
      if (material.x.length !== 32) throw new KeyError(`Ed25519 public key must be 32 bytes, got ${material.x.length}`);
      return material;
    }
    if (material.d.length !== 32) throw new KeyError(`Invalid ${what}: Ed25519 private key must be 32 bytes, got ${material.d.length}`);
    const { x } = keySuite().derivePublic(material);
    if (material.x.length > 0 && !bytesEqual(x, material.x)) throw new KeyError(`Invalid ${what}: the public key does not match the private key`);
    return { kty: 'OKP', crv: 'Ed25519', x, d: material.d };
  }
  if (material.d === undefined) {
    assertPointOnCurve(material.crv, material.x, material.y, what);
    return material;
  }
  assertScalarInRange(material.crv, material.d, what);
  const { x, y } = keySuite().derivePublic(material);
  if (material.x.length > 0 && (!bytesEqual(x, material.x) || !bytesEqual(y!, material.y))) {
    throw new KeyError(`Invalid ${what}: the public key does not match the private key`);
  }
  return { kty: 'EC', crv: material.crv, x, y: y!, d: material.d };
}

function leftPad(bytes: Uint8Array, size: number): Uint8Array | undefined {
  let start = 0;
  while (bytes.length - start > size && bytes[start] === 0) start++;
  if (bytes.length - start > size) return undefined;
  const out = new Uint8Array(size);
  out.set(bytes.subarray(start), size - (bytes.length - start));
  return out;
}

/**
 * A public key, with its private half when we hold it. Host keys, client keys and imported keys
 * are all KeyPairs; `comment` travels with formats that carry one.
 */
export class KeyPair {
  readonly keyType: KeyType;
  /** The key's numbers as bytes, private members included when this pair holds the private key. */
  readonly material: KeyMaterial;
  comment: string;
  #blob: Uint8Array | undefined;
  #suite: KeySuite | undefined;
  #handles = new Map<string, Promise<unknown>>();

  /**
   * Builds a key pair from key material, checking it: a public point on its curve, RSA numbers
   * that agree, and (for Ed25519 and ECDSA) a stored public key equal to the one the private key
   * gives; a missing one is derived.
   * @throws KeyError for inconsistent or malformed material
   */
  constructor(options: { material: KeyMaterial; comment?: string | undefined }) {
    this.material = completeMaterial(options.material);
    this.comment = options.comment ?? '';
    this.keyType = keyTypeOfMaterial(this.material);
  }

  /** Builds a public-only key pair from an SSH public key blob (RFC 4253 §6.6). */
  static fromPublicKeyBlob(blob: Uint8Array, comment?: string): KeyPair {
    return new KeyPair({ material: decodePublicKeyBlob(blob), comment });
  }

  get hasPrivateKey(): boolean {
    return isPrivateMaterial(this.material);
  }

  /** RFC 4253 §6.6 public key blob. */
  get publicKeyBlob(): Uint8Array {
    this.#blob ??= encodePublicKeyBlob(this.keyType, this.material);
    return this.#blob;
  }

  /** RSA modulus size or curve size in bits. */
  get bits(): number {
    const m = this.material;
    if (m.kty === 'RSA') return (m.n.length - 1) * 8 + (32 - Math.clz32(m.n[0]!));
    if (m.kty === 'OKP') return 256;
    return m.crv === 'P-521' ? 521 : curveParameters(m.crv).size * 8;
  }

  /** The signature algorithms this key can produce, strongest first. */
  get algorithms(): PublicKeyAlgorithmName[] {
    return algorithmsOfKeyType(this.keyType);
  }

  /** True when `other` holds the same public key. */
  equals(other: KeyPair): boolean {
    return bytesEqual(this.publicKeyBlob, other.publicKeyBlob);
  }

  /** The suite's handle for one half of the key under `scheme`, made once per installed suite. */
  #handle(isPrivate: boolean, scheme: SignatureScheme): Promise<unknown> {
    const suite = keySuite();
    if (suite !== this.#suite) {
      this.#suite = suite;
      this.#handles.clear();
    }
    const id = `${isPrivate ? 'private' : 'public'}:${scheme.hash ?? ''}`;
    let handle = this.#handles.get(id);
    if (!handle) {
      handle = Promise.resolve().then(() => suite.importKey(this.material, { isPrivate, scheme }));
      this.#handles.set(id, handle);
      // A failed import is not cached: the error is reported to this caller only.
      handle.catch(() => this.#handles.delete(id));
    }
    return handle;
  }

  /**
   * RFC 4253 §6.6 / RFC 5656 §3.1.2 / RFC 8332 §3: signs `data`, returning the signature blob.
   * @throws KeyError without a private key or for an algorithm of another key type
   */
  async sign(algorithm: PublicKeyAlgorithmName, data: Uint8Array): Promise<Uint8Array> {
    if (!this.hasPrivateKey) throw new KeyError(`Cannot sign with ${this.keyType}: no private key`);
    if (keyTypeOfAlgorithm(algorithm) !== this.keyType) throw new KeyError(`A ${this.keyType} key cannot sign with ${algorithm}`);
    const scheme = schemeOf(this.keyType, algorithm);
    const suite = keySuite();
    const signature = await suite.sign(await this.#handle(true, scheme), scheme, data);
    const w = new SshWriter(600);
    w.string(algorithm);
    if (this.material.kty === 'EC') {
      const size = curveParameters(this.material.crv).size;
      w.string(new SshWriter(160).mpint(signature.subarray(0, size)).mpint(signature.subarray(size)).toBytes());
    } else {
      w.string(signature);
    }
    return w.toBytes().slice();
  }

  /**
   * Verifies a signature blob over `data`. `allowed` limits the algorithms accepted (so that, for
   * example, `ssh-rsa` SHA-1 signatures can be refused). Resolves false for any mismatch.
   */
  async verify(data: Uint8Array, signatureBlob: Uint8Array, allowed?: readonly string[]): Promise<boolean> {
    let scheme: SignatureScheme;
    let signature: Uint8Array | undefined;
    try {
      const r = new SshReader(signatureBlob);
      const algorithm = r.utf8();
      const sig = r.string();
      r.end();
      if (allowed && !allowed.includes(algorithm)) return false;
      if (keyTypeOfAlgorithm(algorithm) !== this.keyType) return false;
      scheme = schemeOf(this.keyType, algorithm);
      signature = this.#rawSignature(sig);
    } catch {
      return false;
    }
    if (signature === undefined) return false;
    try {
      return await keySuite().verify(await this.#handle(false, scheme), { scheme, data, signature });
    } catch {
      return false;
    }
  }

  /** The suite's form of an SSH signature: r || s for ECDSA, RSA left-padded to the modulus size. */
  #rawSignature(sig: Uint8Array): Uint8Array | undefined {
    const m = this.material;
    if (m.kty === 'OKP') return sig.length === 64 ? sig : undefined;
    if (m.kty === 'RSA') return leftPad(sig, m.n.length);
    const size = curveParameters(m.crv).size;
    const inner = new SshReader(sig);
    const r = leftPad(inner.mpint(), size);
    const s = leftPad(inner.mpint(), size);
    inner.end();
    if (!r || !s) return undefined;
    const out = new Uint8Array(2 * size);
    out.set(r);
    out.set(s, size);
    return out;
  }
}

/** Options for `generateKeyPair`. */
export interface GenerateKeyPairOptions {
  /** RSA modulus size in bits (default 3072). */
  keySize?: number;
  comment?: string;
}

/**
 * Generates a key pair for a public key algorithm.
 * @example const hostKey = await generateKeyPair('ssh-ed25519');
 * @throws KeyError for an unknown algorithm
 */
export async function generateKeyPair(algorithm: PublicKeyAlgorithmName, options: GenerateKeyPairOptions = {}): Promise<KeyPair> {
  const keyType = keyTypeOfAlgorithm(algorithm);
  const material = await keySuite().generate(keyType, { modulusLength: options.keySize ?? 3072 });
  return new KeyPair({ material, comment: options.comment });
}

/** RFC 5656 §6.1: the SSH curve name, JWK curve name, hash and field size of an ECDSA key type. */
export function ecdsaCurveOf(keyType: KeyType): { curve: string; jwk: string; hash: string; size: number } {
  const crv = curveOfKeyType(keyType);
  if (!crv) throw new KeyError(`${keyType} is not an ECDSA key type`);
  const spec = curveParameters(crv);
  return { curve: spec.ssh, jwk: crv, hash: spec.hash, size: spec.size };
}
