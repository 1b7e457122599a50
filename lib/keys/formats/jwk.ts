/**
 * JSON Web Keys (RFC 7517, key parameters of RFC 7518 §6 and RFC 8037 §2) for RSA, EC and Ed25519
 * keys, public and private, with a non-standard `comment` member for the key comment. Accepts both
 * `P-256` and the SSH curve name `nistp256` on import; writes the RFC 7518 names.
 */
import { KeyError } from '../../errors.js';
import { base64Decode, bytesEqual, stripLeadingZeros } from '../encoding.js';
import { materialToJwk, type CurveName, type KeyMaterial } from '../key-material.js';
import { KeyPair } from '../key-pair.js';

const curveAliases: Record<string, { crv: CurveName; size: number }> = {
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
  return base64Decode(value, `JWK member "${name}"`);
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

function materialOf(jwk: Record<string, unknown>): KeyMaterial {
  const isPrivate = jwk.d !== undefined;
  if (jwk.kty === 'RSA') {
    const rsa: KeyMaterial = { kty: 'RSA', n: member(jwk, 'n'), e: member(jwk, 'e') };
    if (!isPrivate) return rsa;
    return { ...rsa, d: member(jwk, 'd'), p: member(jwk, 'p'), q: member(jwk, 'q') };
  }
  if (jwk.kty === 'EC') {
    const curve = curveAliases[String(jwk.crv)];
    if (!curve) throw new KeyError(`Unsupported JWK EC curve ${String(jwk.crv)} (expected P-256, P-384 or P-521)`);
    const x = fixedSize(member(jwk, 'x'), curve.size, 'JWK EC x');
    const y = fixedSize(member(jwk, 'y'), curve.size, 'JWK EC y');
    const d = isPrivate ? fixedSize(member(jwk, 'd'), curve.size, 'JWK EC d') : undefined;
    return { kty: 'EC', crv: curve.crv, x, y, d };
  }
  if (jwk.kty === 'OKP') {
    if (jwk.crv !== 'Ed25519') throw new KeyError(`Unsupported JWK OKP curve ${String(jwk.crv)} (expected Ed25519)`);
    return { kty: 'OKP', crv: 'Ed25519', x: member(jwk, 'x'), d: isPrivate ? member(jwk, 'd') : undefined };
  }
  throw new KeyError(`Unsupported JWK key type ${String(jwk.kty)} (expected RSA, EC or OKP)`);
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
  const material = materialOf(jwk);
  const comment = typeof jwk.comment === 'string' ? jwk.comment : undefined;
  const key = new KeyPair({ material, comment });
  if (material.kty === 'RSA' && key.material.kty === 'RSA') {
    // The key keeps the members it can check; stated CRT members that disagree mean a damaged key.
    for (const name of ['dp', 'dq', 'qi'] as const) {
      if (jwk[name] === undefined || material.d === undefined) continue;
      if (!bytesEqual(stripLeadingZeros(member(jwk, name)), key.material[name]!)) {
        throw new KeyError(`JWK private member "${name}" does not match the private key`);
      }
    }
  }
  return key;
}

/** The RFC 7518 members of `key` (private members too when `includePrivate`), plus `comment`. */
export function exportJwk(key: KeyPair, includePrivate: boolean): string {
  if (includePrivate && !key.hasPrivateKey) throw new KeyError(`Cannot export a private JWK: the ${key.keyType} key has no private key`);
  const out = materialToJwk(key.material, includePrivate);
  if (key.comment) out.comment = key.comment;
  return `${JSON.stringify(out, null, '\t')}\n`;
}
