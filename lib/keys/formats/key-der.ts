/**
 * The DER key structures, read and written as key material: PKCS#1 RSAPrivateKey / RSAPublicKey
 * (RFC 8017 §A.1), SEC1 ECPrivateKey (RFC 5915 §3), PKCS#8 PrivateKeyInfo / OneAsymmetricKey
 * (RFC 5208 §5, RFC 5958 §2) and SubjectPublicKeyInfo (RFC 5280 §4.1.2.7; RFC 5480 for EC, RFC
 * 8410 for Ed25519). The output matches what OpenSSL writes, byte for byte.
 */
import { KeyError } from '../../errors.js';
import { stripLeadingZeros } from '../encoding.js';
import { curveParameters, rsaPrivateMaterial, rsaPublicMaterial, type CurveName, type KeyMaterial, type RsaMaterial } from '../key-material.js';
import { DerReader, DerTag, derElement, derOid, derSmallInteger } from './der.js';

const oid = {
  rsaEncryption: '1.2.840.113549.1.1.1',
  ecPublicKey: '1.2.840.10045.2.1',
  ed25519: '1.3.101.112',
} as const;

const curveOids: Record<string, CurveName> = {
  '1.2.840.10045.3.1.7': 'P-256',
  '1.3.132.0.34': 'P-384',
  '1.3.132.0.35': 'P-521',
};
const oidOfCurve: Record<CurveName, string> = { 'P-256': '1.2.840.10045.3.1.7', 'P-384': '1.3.132.0.34', 'P-521': '1.3.132.0.35' };

const contextTag0 = 0xa0;
const contextTag1 = 0xa1;

/** The DER structures this module reads and writes. */
export type DerKeyType = 'pkcs1' | 'sec1' | 'pkcs8' | 'spki';

/** X.690 §8.3: a non-negative INTEGER's magnitude (a negative value is refused). */
function readUnsigned(r: DerReader, field: string, what: string): Uint8Array {
  const value = r.expect(DerTag.integer, field);
  if (value.length === 0 || value[0]! & 0x80) throw new KeyError(`Invalid ${what}: ${field} is not a positive integer`);
  return stripLeadingZeros(value);
}

function derUnsigned(magnitude: Uint8Array): Uint8Array {
  const body = stripLeadingZeros(magnitude);
  if (body[0]! & 0x80) {
    const padded = new Uint8Array(body.length + 1);
    padded.set(body, 1);
    return derElement(DerTag.integer, padded);
  }
  return derElement(DerTag.integer, body);
}

const sequence = (...parts: Uint8Array[]): Uint8Array => derElement(DerTag.sequence, ...parts);
const octetString = (bytes: Uint8Array): Uint8Array => derElement(DerTag.octetString, bytes);
const bitString = (bytes: Uint8Array): Uint8Array => derElement(DerTag.bitString, Uint8Array.of(0), bytes);

/** RFC 8017 §A.1.2: two-prime RSAPrivateKey. */
function readRsaPrivate(der: Uint8Array, what: string): RsaMaterial {
  const outer = new DerReader(der, what);
  const r = outer.sequence('RSAPrivateKey');
  outer.end();
  const version = r.smallInteger('version');
  if (version !== 0) throw new KeyError(`Unsupported ${what}: RSAPrivateKey version ${version} (multi-prime keys are not supported)`);
  const [n, e, d, p, q] = ['modulus', 'publicExponent', 'privateExponent', 'prime1', 'prime2'].map((f) => readUnsigned(r, f, what)) as [
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
    Uint8Array,
  ];
  for (const field of ['exponent1', 'exponent2', 'coefficient']) readUnsigned(r, field, what);
  r.end();
  rsaPublicMaterial(n, e, what);
  return rsaPrivateMaterial({ n, e, d, p, q }, what);
}

/** RFC 8017 §A.1.1: RSAPublicKey. */
function readRsaPublic(der: Uint8Array, what: string): RsaMaterial {
  const outer = new DerReader(der, what);
  const r = outer.sequence('RSAPublicKey');
  outer.end();
  const n = readUnsigned(r, 'modulus', what);
  const e = readUnsigned(r, 'publicExponent', what);
  r.end();
  return rsaPublicMaterial(n, e, what);
}

/** An uncompressed SEC1 point (0x04 || x || y) of `crv`. */
function readPoint(crv: CurveName, point: Uint8Array, what: string): { x: Uint8Array; y: Uint8Array } {
  const size = curveParameters(crv).size;
  if (point.length !== 1 + 2 * size || point[0] !== 4) {
    throw new KeyError(`Invalid ${what}: the ${crv} public key must be an uncompressed point of ${1 + 2 * size} bytes, got ${point.length}`);
  }
  return { x: point.slice(1, 1 + size), y: point.slice(1 + size) };
}

/** The content bytes of a BIT STRING without unused bits. */
function bitStringBytes(value: Uint8Array, what: string): Uint8Array {
  if (value.length < 1 || value[0] !== 0) throw new KeyError(`Invalid ${what}: BIT STRING with unused bits`);
  return value.subarray(1);
}

/** RFC 5915 §3: ECPrivateKey; `crv` comes from the PKCS#8 algorithm when the parameters are absent. */
function readEcPrivate(der: Uint8Array, crv: CurveName | undefined, what: string): KeyMaterial {
  const outer = new DerReader(der, what);
  const r = outer.sequence('ECPrivateKey');
  outer.end();
  if (r.smallInteger('version') !== 1) throw new KeyError(`Invalid ${what}: ECPrivateKey version must be 1`);
  const d = r.expect(DerTag.octetString, 'privateKey');
  let publicBytes: Uint8Array | undefined;
  while (!r.done) {
    const element = r.read();
    if (element.tag === contextTag0) {
      const named = new DerReader(element.value, what).oid('parameters');
      const stated = curveOids[named];
      if (!stated) throw new KeyError(`Unsupported ${what}: EC curve ${named} (expected P-256, P-384 or P-521)`);
      if (crv && crv !== stated) throw new KeyError(`Invalid ${what}: ECPrivateKey curve ${stated} differs from ${crv}`);
      crv = stated;
    } else if (element.tag === contextTag1) {
      const inner = new DerReader(element.value, what);
      publicBytes = bitStringBytes(inner.expect(DerTag.bitString, 'publicKey'), what);
      inner.end();
    } else {
      throw new KeyError(`Invalid ${what}: unexpected ECPrivateKey element with tag 0x${element.tag.toString(16)}`);
    }
  }
  if (!crv) throw new KeyError(`Invalid ${what}: ECPrivateKey names no curve`);
  const size = curveParameters(crv).size;
  if (d.length !== size) throw new KeyError(`Invalid ${what}: the ${crv} private key must be ${size} bytes, got ${d.length}`);
  const point = publicBytes ? readPoint(crv, publicBytes, what) : undefined;
  return { kty: 'EC', crv, x: point?.x ?? new Uint8Array(0), y: point?.y ?? new Uint8Array(0), d: d.slice() };
}

/** RFC 5280 §4.1.1.2: AlgorithmIdentifier as a key kind and, for EC, its named curve. */
function readAlgorithm(r: DerReader, what: string): { kind: 'rsa' | 'ec' | 'ed25519'; crv?: CurveName } {
  const algorithm = r.sequence('algorithm');
  const id = algorithm.oid('algorithm.algorithm');
  if (id === oid.rsaEncryption) {
    if (!algorithm.done) algorithm.expect(DerTag.null, 'algorithm.parameters');
    algorithm.end();
    return { kind: 'rsa' };
  }
  if (id === oid.ecPublicKey) {
    const named = algorithm.oid('algorithm.parameters');
    algorithm.end();
    const crv = curveOids[named];
    if (!crv) throw new KeyError(`Unsupported ${what}: EC curve ${named} (expected P-256, P-384 or P-521)`);
    return { kind: 'ec', crv };
  }
  if (id === oid.ed25519) {
    algorithm.end();
    return { kind: 'ed25519' };
  }
  throw new KeyError(`Unsupported ${what}: key algorithm ${id} (expected RSA, EC or Ed25519)`);
}

/**
 * RFC 5208 §5 / RFC 5958 §2: PrivateKeyInfo (v1) or OneAsymmetricKey (v2, with the public key).
 * EC keys without their public point and Ed25519 seeds come back with empty `x` (and `y`): the
 * caller derives them.
 */
function readPkcs8(der: Uint8Array, what: string): KeyMaterial {
  const outer = new DerReader(der, what);
  const r = outer.sequence('PrivateKeyInfo');
  outer.end();
  const version = r.smallInteger('version');
  if (version > 1) throw new KeyError(`Unsupported ${what}: version ${version}`);
  const algorithm = readAlgorithm(r, what);
  const privateKey = r.expect(DerTag.octetString, 'privateKey');
  let publicKey: Uint8Array | undefined;
  while (!r.done) {
    const element = r.read();
    if (element.tag === contextTag1 || element.tag === 0x81) publicKey = bitStringBytes(element.value, what);
    else if (element.tag !== contextTag0) throw new KeyError(`Invalid ${what}: unexpected element with tag 0x${element.tag.toString(16)}`);
  }
  if (algorithm.kind === 'rsa') return readRsaPrivate(privateKey, what);
  if (algorithm.kind === 'ec') return readEcPrivate(privateKey, algorithm.crv, what);
  const seedReader = new DerReader(privateKey, what);
  const seed = seedReader.expect(DerTag.octetString, 'CurvePrivateKey');
  seedReader.end();
  if (seed.length !== 32) throw new KeyError(`Invalid ${what}: Ed25519 private key must be 32 bytes, got ${seed.length}`);
  if (publicKey && publicKey.length !== 32) throw new KeyError(`Invalid ${what}: Ed25519 public key must be 32 bytes, got ${publicKey.length}`);
  return { kty: 'OKP', crv: 'Ed25519', x: publicKey?.slice() ?? new Uint8Array(0), d: seed.slice() };
}

/** RFC 5280 §4.1.2.7: SubjectPublicKeyInfo. */
function readSpki(der: Uint8Array, what: string): KeyMaterial {
  const outer = new DerReader(der, what);
  const r = outer.sequence('SubjectPublicKeyInfo');
  outer.end();
  const algorithm = readAlgorithm(r, what);
  const key = bitStringBytes(r.expect(DerTag.bitString, 'subjectPublicKey'), what);
  r.end();
  if (algorithm.kind === 'rsa') return readRsaPublic(key, what);
  if (algorithm.kind === 'ec') return { kty: 'EC', crv: algorithm.crv!, ...readPoint(algorithm.crv!, key, what) };
  if (key.length !== 32) throw new KeyError(`Invalid ${what}: Ed25519 public key must be 32 bytes, got ${key.length}`);
  return { kty: 'OKP', crv: 'Ed25519', x: key.slice() };
}

/**
 * Reads a private key structure; public members the structure may omit (an EC point, the Ed25519
 * public key) are returned empty for the caller to derive.
 */
export function readPrivateKeyDer(der: Uint8Array, type: 'pkcs1' | 'sec1' | 'pkcs8', what: string): KeyMaterial {
  if (type === 'pkcs1') return readRsaPrivate(der, what);
  if (type === 'sec1') return readEcPrivate(der, undefined, what);
  return readPkcs8(der, what);
}

/** Reads a public key structure: SPKI of any type, or an RSA PKCS#1 RSAPublicKey. */
export function readPublicKeyDer(der: Uint8Array, type: 'pkcs1' | 'spki', what: string): KeyMaterial {
  return type === 'pkcs1' ? readRsaPublic(der, what) : readSpki(der, what);
}

function rsaPrivateDer(m: RsaMaterial): Uint8Array {
  const fields = [m.n, m.e, m.d, m.p, m.q, m.dp, m.dq, m.qi].map((v) => derUnsigned(v!));
  return sequence(derSmallInteger(0), ...fields);
}

function ecPrivateDerOf(m: KeyMaterial & { kty: 'EC' }, withParameters: boolean): Uint8Array {
  const point = Uint8Array.from([4, ...m.x, ...m.y]);
  const parameters = withParameters ? [derElement(contextTag0, derOid(oidOfCurve[m.crv]))] : [];
  return sequence(derSmallInteger(1), octetString(m.d!), ...parameters, derElement(contextTag1, bitString(point)));
}

/** SEC1 ECPrivateKey with only the scalar and the curve (for deriving the public point). */
export function ecPrivateKeyDer(crv: CurveName, d: Uint8Array): Uint8Array {
  return sequence(derSmallInteger(1), octetString(d), derElement(contextTag0, derOid(oidOfCurve[crv])));
}

/** RFC 8410 §7: PKCS#8 of an Ed25519 seed. */
export function ed25519PrivateKeyDer(seed: Uint8Array): Uint8Array {
  return sequence(derSmallInteger(0), sequence(derOid(oid.ed25519)), octetString(octetString(seed)));
}

/** Writes the private key of `m` as PKCS#1 (RSA), SEC1 (EC) or PKCS#8 (any), as OpenSSL does. */
export function writePrivateKeyDer(m: KeyMaterial, type: 'pkcs1' | 'sec1' | 'pkcs8'): Uint8Array {
  if (m.d === undefined) throw new KeyError('Cannot write a private key structure without the private key');
  if (type === 'pkcs1') {
    if (m.kty !== 'RSA') throw new KeyError(`PKCS#1 holds RSA keys only, not ${m.kty}`);
    return rsaPrivateDer(m);
  }
  if (type === 'sec1') {
    if (m.kty !== 'EC') throw new KeyError(`SEC1 holds EC keys only, not ${m.kty}`);
    return ecPrivateDerOf(m, true);
  }
  if (m.kty === 'RSA') return sequence(derSmallInteger(0), sequence(derOid(oid.rsaEncryption), derElement(DerTag.null)), octetString(rsaPrivateDer(m)));
  if (m.kty === 'EC') {
    const algorithm = sequence(derOid(oid.ecPublicKey), derOid(oidOfCurve[m.crv]));
    return sequence(derSmallInteger(0), algorithm, octetString(ecPrivateDerOf(m, false)));
  }
  return ed25519PrivateKeyDer(m.d);
}

/** Writes the public key of `m` as SPKI, or as PKCS#1 RSAPublicKey. */
export function writePublicKeyDer(m: KeyMaterial, type: 'pkcs1' | 'spki'): Uint8Array {
  if (type === 'pkcs1') {
    if (m.kty !== 'RSA') throw new KeyError(`PKCS#1 holds RSA keys only, not ${m.kty}`);
    return sequence(derUnsigned(m.n), derUnsigned(m.e));
  }
  if (m.kty === 'RSA') {
    const algorithm = sequence(derOid(oid.rsaEncryption), derElement(DerTag.null));
    return sequence(algorithm, bitString(sequence(derUnsigned(m.n), derUnsigned(m.e))));
  }
  if (m.kty === 'EC') {
    const algorithm = sequence(derOid(oid.ecPublicKey), derOid(oidOfCurve[m.crv]));
    return sequence(algorithm, bitString(Uint8Array.from([4, ...m.x, ...m.y])));
  }
  return sequence(sequence(derOid(oid.ed25519)), bitString(m.x));
}
