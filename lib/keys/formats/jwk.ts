/**
 * JSON Web Keys (RFC 7517, key parameters of RFC 7518 §6 and RFC 8037 §2) for RSA, EC and Ed25519
 * keys, public and private, with a non-standard `comment` member for the key comment. Accepts both
 * `P-256` and the SSH curve name `nistp256` on import; writes the RFC 7518 names.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { KeyError } from '../../errors.js';
import { KeyPair } from '../key-pair.js';

const curveAliases: Record<string, { crv: string; size: number }> = {
  'P-256': { crv: 'P-256', size: 32 },
  nistp256: { crv: 'P-256', size: 32 },
  'P-384': { crv: 'P-384', size: 48 },
  nistp384: { crv: 'P-384', size: 48 },
  'P-521': { crv: 'P-521', size: 66 },
  nistp521: { crv: 'P-521', size: 66 },
};

/** Big-endian bytes of a base64url JWK member, or a KeyError naming it. */
function member(jwk: Record<string, unknown>, name: string): Uint8Array {
  const value = jwk[name];
  if (typeof value !== 'string' || !/^[A-Za-z0-9_-]+$/.test(value)) {
    throw new KeyError(`JWK ${String(jwk.kty)} key member "${name}" must be a base64url string`);
  }
  return new Uint8Array(Buffer.from(value, 'base64url'));
}

function b64u(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64url');
}

function toBigInt(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

function fromBigInt(value: bigint): Uint8Array {
  const hex = value.toString(16);
  return new Uint8Array(Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex'));
}

/** Left-pads a big-endian value to `size` bytes (JWK EC members are fixed-size, RFC 7518 §6.2.1.2). */
export function fixedSize(bytes: Uint8Array, size: number, what: string): Uint8Array {
  let start = 0;
  while (bytes.length - start > size && bytes[start] === 0) start++;
  const body = bytes.subarray(start);
  if (body.length > size) throw new KeyError(`${what} is ${body.length} bytes, more than the ${size} the curve allows`);
  const out = new Uint8Array(size);
  out.set(body, size - body.length);
  return out;
}

/** RSA private key from its PKCS#1 numbers; the CRT exponents are derived when absent (OpenSSH omits them). */
export function rsaPrivateKey(parts: { n: Uint8Array; e: Uint8Array; d: Uint8Array; p: Uint8Array; q: Uint8Array; qi: Uint8Array }): KeyObject {
  const d = toBigInt(parts.d);
  const p = toBigInt(parts.p);
  const q = toBigInt(parts.q);
  if (p < 2n || q < 2n) throw new KeyError('RSA private key has a zero prime');
  const jwk = {
    kty: 'RSA',
    n: b64u(parts.n),
    e: b64u(parts.e),
    d: b64u(parts.d),
    p: b64u(parts.p),
    q: b64u(parts.q),
    dp: b64u(fromBigInt(d % (p - 1n))),
    dq: b64u(fromBigInt(d % (q - 1n))),
    qi: b64u(parts.qi),
  };
  return importJwkObject(jwk, true);
}

function importJwkObject(jwk: JsonWebKey, isPrivate: boolean): KeyObject {
  try {
    return isPrivate ? createPrivateKey({ key: jwk, format: 'jwk' }) : createPublicKey({ key: jwk, format: 'jwk' });
  } catch (cause) {
    throw new KeyError(`Invalid ${String(jwk.kty)} JWK ${isPrivate ? 'private' : 'public'} key: ${(cause as Error).message}`, { cause });
  }
}

/** RFC 7517 §4 / RFC 7518 §6: a KeyPair from a JWK object, private when it holds `d`. */
export function importJwk(text: string): KeyPair {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (cause) {
    throw new KeyError(`Invalid JWK: not valid JSON (${(cause as Error).message})`, { cause });
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new KeyError('Invalid JWK: expected a JSON object');
  const jwk = parsed as Record<string, unknown>;
  const isPrivate = jwk.d !== undefined;
  let normalized: JsonWebKey;
  if (jwk.kty === 'RSA') {
    normalized = { kty: 'RSA', n: b64u(member(jwk, 'n')), e: b64u(member(jwk, 'e')) };
    if (isPrivate) {
      const parts = { n: member(jwk, 'n'), e: member(jwk, 'e'), d: member(jwk, 'd'), p: member(jwk, 'p'), q: member(jwk, 'q'), qi: member(jwk, 'qi') };
      return keyPairOf(rsaPrivateKey(parts), jwk);
    }
  } else if (jwk.kty === 'EC') {
    const curve = curveAliases[String(jwk.crv)];
    if (!curve) throw new KeyError(`Unsupported JWK EC curve ${String(jwk.crv)} (expected P-256, P-384 or P-521)`);
    const x = fixedSize(member(jwk, 'x'), curve.size, 'JWK EC x');
    const y = fixedSize(member(jwk, 'y'), curve.size, 'JWK EC y');
    normalized = { kty: 'EC', crv: curve.crv, x: b64u(x), y: b64u(y) };
    if (isPrivate) normalized.d = b64u(fixedSize(member(jwk, 'd'), curve.size, 'JWK EC d'));
  } else if (jwk.kty === 'OKP') {
    if (jwk.crv !== 'Ed25519') throw new KeyError(`Unsupported JWK OKP curve ${String(jwk.crv)} (expected Ed25519)`);
    normalized = { kty: 'OKP', crv: 'Ed25519', x: b64u(member(jwk, 'x')) };
    if (isPrivate) normalized.d = b64u(member(jwk, 'd'));
  } else {
    throw new KeyError(`Unsupported JWK key type ${String(jwk.kty)} (expected RSA, EC or OKP)`);
  }
  const key = importJwkObject(normalized, isPrivate);
  return isPrivate ? keyPairOf(key, jwk) : new KeyPair({ publicKey: key, comment: commentOf(jwk) });
}

function commentOf(jwk: Record<string, unknown>): string | undefined {
  return typeof jwk.comment === 'string' ? jwk.comment : undefined;
}

function keyPairOf(privateKey: KeyObject, jwk: Record<string, unknown>): KeyPair {
  const key = KeyPair.fromPrivateKey(privateKey, commentOf(jwk));
  // node:crypto takes JWK public members on trust; a mismatch means a corrupt or forged key.
  const derived = createPublicKey(privateKey).export({ format: 'jwk' });
  for (const name of ['n', 'e', 'x', 'y'] as const) {
    const actual = derived[name];
    if (jwk[name] === undefined || actual === undefined) continue;
    if (toBigInt(member(jwk, name)) !== toBigInt(Buffer.from(actual, 'base64url'))) {
      throw new KeyError(`JWK public member "${name}" does not match the private key`);
    }
  }
  return key;
}

/** The RFC 7518 members of `key` (private members too when `includePrivate`), plus `comment`. */
export function exportJwk(key: KeyPair, includePrivate: boolean): string {
  const source = includePrivate ? key.privateKey : key.publicKey;
  if (!source) throw new KeyError(`Cannot export a private JWK: the ${key.keyType} key has no private key`);
  const exported = source.export({ format: 'jwk' });
  const order = ['kty', 'crv', 'n', 'e', 'x', 'y', 'd', 'p', 'q', 'dp', 'dq', 'qi'] as const;
  const out: Record<string, string> = {};
  for (const name of order) {
    const value = exported[name];
    if (typeof value === 'string') out[name] = value;
  }
  if (key.comment) out.comment = key.comment;
  return `${JSON.stringify(out, null, '\t')}\n`;
}
