/**
 * Key material as bytes: the numbers of an RSA, ECDSA or Ed25519 key in the shape of a JSON Web
 * Key (RFC 7518 §6, RFC 8037 §2) with byte arrays for members. This is what formats read and write
 * and what every key suite imports, so one format module serves every runtime. The checks here
 * (the point is on its curve, the RSA numbers agree) are pure arithmetic: a damaged key fails the
 * same way under every suite.
 */
import { KeyError } from '../errors.js';
import { base64Decode, base64UrlEncode, bigIntToBytes, bytesToBigInt, stripLeadingZeros } from './encoding.js';

/** Key blob types: the first string of an SSH public key blob. */
export type KeyType =
  | 'ssh-ed25519'
  | 'ecdsa-sha2-nistp256'
  | 'ecdsa-sha2-nistp384'
  | 'ecdsa-sha2-nistp521'
  | 'ssh-rsa';

/** The JWK names of the NIST curves. */
export type CurveName = 'P-256' | 'P-384' | 'P-521';

/** Ed25519 (RFC 8037 §2): `x` the 32-byte public key, `d` the 32-byte seed. */
export interface Ed25519Material {
  kty: 'OKP';
  crv: 'Ed25519';
  x: Uint8Array;
  d?: Uint8Array | undefined;
}

/** ECDSA (RFC 7518 §6.2): coordinates and private scalar, each exactly the field size. */
export interface EcMaterial {
  kty: 'EC';
  crv: CurveName;
  x: Uint8Array;
  y: Uint8Array;
  d?: Uint8Array | undefined;
}

/** RSA (RFC 7518 §6.3): minimal big-endian magnitudes; private keys carry all CRT members. */
export interface RsaMaterial {
  kty: 'RSA';
  n: Uint8Array;
  e: Uint8Array;
  d?: Uint8Array | undefined;
  p?: Uint8Array | undefined;
  q?: Uint8Array | undefined;
  dp?: Uint8Array | undefined;
  dq?: Uint8Array | undefined;
  qi?: Uint8Array | undefined;
}

/** The numbers of a key, private members present only for a private key. */
export type KeyMaterial = Ed25519Material | EcMaterial | RsaMaterial;

/**
 * FIPS 186-4 / SEC 2 domain parameters the point check needs (a = -3 on all three), with the SSH
 * and JWK names, the signature hash of RFC 5656 §6.2.1 and the field size in bytes.
 */
const curves = {
  'P-256': {
    keyType: 'ecdsa-sha2-nistp256',
    ssh: 'nistp256',
    hash: 'sha256',
    size: 32,
    p: 2n ** 256n - 2n ** 224n + 2n ** 192n + 2n ** 96n - 1n,
    n: 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n,
    b: 0x5ac635d8aa3a93e7b3ebbd55769886bc651d06b0cc53b0f63bce3c3e27d2604bn,
  },
  'P-384': {
    keyType: 'ecdsa-sha2-nistp384',
    ssh: 'nistp384',
    hash: 'sha384',
    size: 48,
    p: 2n ** 384n - 2n ** 128n - 2n ** 96n + 2n ** 32n - 1n,
    n: 0xffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77aecec196accc52973n,
    b: 0xb3312fa7e23ee7e4988e056be3f82d19181d9c6efe8141120314088f5013875ac656398d8a2ed19d2a85c8edd3ec2aefn,
  },
  'P-521': {
    keyType: 'ecdsa-sha2-nistp521',
    ssh: 'nistp521',
    hash: 'sha512',
    size: 66,
    p: 2n ** 521n - 1n,
    n: 0x01fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f966b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409n,
    b: 0x0051953eb9618e1c9a1f929a21a0b68540eea2da725b99b315f3b8b489918ef109e156193951ec7e937b1652c0bd3bb1bf073573df883d2c34f1ef451fd46b503f00n,
  },
} as const;

/** RFC 5656 §6.1-6.2: names, hash and field size of a NIST curve. */
export function curveParameters(crv: CurveName): (typeof curves)[CurveName] {
  return curves[crv];
}

/** The JWK curve of an ECDSA key type, or undefined for other key types. */
export function curveOfKeyType(keyType: string): CurveName | undefined {
  for (const crv of ['P-256', 'P-384', 'P-521'] as const) if (curves[crv].keyType === keyType) return crv;
  return undefined;
}

/** The SSH key type of `material`. */
export function keyTypeOfMaterial(material: KeyMaterial): KeyType {
  if (material.kty === 'OKP') return 'ssh-ed25519';
  if (material.kty === 'RSA') return 'ssh-rsa';
  return curves[material.crv].keyType;
}

function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

/** SEC 1 §3.2.2.1: the affine point lies on the curve (y² = x³ - 3x + b mod p, coordinates < p). */
export function assertPointOnCurve(crv: CurveName, x: Uint8Array, y: Uint8Array, what: string): void {
  const { p, b, size } = curves[crv];
  if (x.length !== size || y.length !== size) throw new KeyError(`Invalid ${what}: ${crv} coordinates must be ${size} bytes`);
  const X = bytesToBigInt(x);
  const Y = bytesToBigInt(y);
  if (X >= p || Y >= p || (Y * Y - (modPow(X, 3n, p) - 3n * X + b)) % p !== 0n) {
    throw new KeyError(`Invalid ${what}: the point is not on curve ${crv}`);
  }
}

/** The private scalar is in [1, n - 1] (SEC 1 §3.2.1). */
export function assertScalarInRange(crv: CurveName, d: Uint8Array, what: string): void {
  const value = bytesToBigInt(d);
  if (d.length !== curves[crv].size || value < 1n || value >= curves[crv].n) {
    throw new KeyError(`Invalid ${what}: the ${crv} private scalar is out of range`);
  }
}

function modInverse(a: bigint, m: bigint): bigint | undefined {
  let [oldR, r] = [((a % m) + m) % m, m];
  let [oldS, s] = [1n, 0n];
  while (r !== 0n) {
    const q = oldR / r;
    [oldR, r] = [r, oldR - q * r];
    [oldS, s] = [s, oldS - q * s];
  }
  return oldR === 1n ? ((oldS % m) + m) % m : undefined;
}

/**
 * RSA private numbers from n, e, d, p, q and optionally qi; dp and dq (which OpenSSH omits) are
 * derived and qi recomputed, and the numbers must agree: n = pq, ed ≡ 1 mod p-1 and mod q-1.
 */
export function rsaPrivateMaterial(parts: { n: Uint8Array; e: Uint8Array; d: Uint8Array; p: Uint8Array; q: Uint8Array }, what: string): RsaMaterial {
  const [n, e, d, p, q] = [parts.n, parts.e, parts.d, parts.p, parts.q].map(bytesToBigInt) as [bigint, bigint, bigint, bigint, bigint];
  if (p < 3n || q < 3n || e < 3n || d < 1n) throw new KeyError(`Invalid ${what}: RSA numbers out of range`);
  if (p * q !== n) throw new KeyError(`Invalid ${what}: the RSA modulus is not the product of its primes`);
  if ((e * d) % (p - 1n) !== 1n || (e * d) % (q - 1n) !== 1n) {
    throw new KeyError(`Invalid ${what}: the RSA private exponent does not match the public exponent`);
  }
  const qi = modInverse(q, p);
  if (qi === undefined) throw new KeyError(`Invalid ${what}: RSA primes are not coprime`);
  return {
    kty: 'RSA',
    n: bigIntToBytes(n),
    e: bigIntToBytes(e),
    d: bigIntToBytes(d),
    p: bigIntToBytes(p),
    q: bigIntToBytes(q),
    dp: bigIntToBytes(d % (p - 1n)),
    dq: bigIntToBytes(d % (q - 1n)),
    qi: bigIntToBytes(qi),
  };
}

/** RSA public numbers: a modulus of at least 512 bits and an odd exponent above 1. */
export function rsaPublicMaterial(n: Uint8Array, e: Uint8Array, what: string): RsaMaterial {
  const modulus = stripLeadingZeros(n);
  const exponent = stripLeadingZeros(e);
  const bits = modulus.length === 0 ? 0 : (modulus.length - 1) * 8 + (32 - Math.clz32(modulus[0]!));
  if (bits < 512 || bits > 16384) throw new KeyError(`Invalid ${what}: RSA modulus of ${bits} bits (expected 512-16384)`);
  if (exponent.length > 8 || !(exponent[exponent.length - 1]! & 1) || bytesToBigInt(exponent) < 3n) {
    throw new KeyError(`Invalid ${what}: RSA public exponent out of range`);
  }
  return { kty: 'RSA', n: modulus.slice(), e: exponent.slice() };
}

/** The public members of `material` only. */
export function publicMaterial(material: KeyMaterial): KeyMaterial {
  if (material.kty === 'OKP') return { kty: 'OKP', crv: 'Ed25519', x: material.x };
  if (material.kty === 'EC') return { kty: 'EC', crv: material.crv, x: material.x, y: material.y };
  return { kty: 'RSA', n: material.n, e: material.e };
}

/** True when `material` carries its private members. */
export function isPrivateMaterial(material: KeyMaterial): boolean {
  return material.d !== undefined;
}

const jwkMembers = ['kty', 'crv', 'n', 'e', 'x', 'y', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;

/** RFC 7517: `material` as JWK members, base64url strings in RFC 7518 order; private ones when asked. */
export function materialToJwk(material: KeyMaterial, includePrivate: boolean): Record<string, string> {
  const source = includePrivate ? material : publicMaterial(material);
  const out: Record<string, string> = {};
  for (const name of jwkMembers) {
    const value = (source as unknown as Record<string, string | Uint8Array | undefined>)[name];
    if (typeof value === 'string') out[name] = value;
    else if (value !== undefined) out[name] = base64UrlEncode(value);
  }
  return out;
}

/** Decodes JWK base64url members of a key a suite produced (trusted shape, checked lengths later). */
export function bytesOfJwkMember(jwk: Record<string, unknown>, name: string): Uint8Array {
  const value = jwk[name];
  if (typeof value !== 'string') throw new KeyError(`JWK ${String(jwk.kty)} key member "${name}" must be a base64url string`);
  return base64Decode(value, `JWK member "${name}"`);
}
