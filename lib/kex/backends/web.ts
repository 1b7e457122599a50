/**
 * The portable key exchange backend: `@noble/curves` (X25519, P-256/384/521), `@noble/hashes`
 * (SHA-2, HMAC) and `@noble/post-quantum` (ML-KEM-768), audited pure JavaScript, synchronous like the Node backend, and MODP
 * exponentiation with BigInt. The BigInt arithmetic is not constant-time; it only ever
 * exponentiates by a fresh ephemeral exponent that is used once (RFC 4253 §8), which leaves a
 * timing observer one sample per secret.
 */
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384, p521 } from '@noble/curves/nist.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha384, sha512 } from '@noble/hashes/sha2.js';
import type { KexAgreement, KexBackend, KexHashName, NistCurveName } from '../backend.js';
import { nobleMlKem768 } from './noble-mlkem.js';
import { bigIntToBytes, bytesToBigInt, MODP_GENERATOR, MODP_PRIMES } from '../modp-groups.js';

const hashes = { sha256, sha384, sha512 } as const satisfies Record<KexHashName, unknown>;
const curves = { p256, p384, p521 } as const satisfies Record<NistCurveName, unknown>;

/** base^exponent mod modulus, four exponent bits at a time. */
function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  const table: bigint[] = [1n];
  for (let i = 1; i < 16; i++) table.push((table[i - 1]! * base) % modulus);
  let result = 1n;
  const hex = exponent.toString(16);
  for (const digit of hex) {
    result = (result * result) % modulus;
    result = (result * result) % modulus;
    result = (result * result) % modulus;
    result = (result * result) % modulus;
    result = (result * table[parseInt(digit, 16)]!) % modulus;
  }
  return result;
}

/** `@noble/*` and BigInt key exchange operations. */
export const webKexBackend: KexBackend = {
  name: '@noble',
  hash(name, ...parts) {
    const hash = hashes[name].create();
    for (const part of parts) hash.update(part);
    return hash.digest();
  },
  hmac(name, key, ...parts) {
    const mac = hmac.create(hashes[name], key);
    for (const part of parts) mac.update(part);
    return mac.digest();
  },
  x25519(scalar): KexAgreement {
    // getSharedSecret rejects low-order peer points (an all-zero output).
    return { publicValue: x25519.getPublicKey(scalar), agree: (peer) => x25519.getSharedSecret(scalar, peer) };
  },
  ecdh(name, scalar): KexAgreement | undefined {
    const curve = curves[name];
    if (!curve.utils.isValidSecretKey(scalar)) return undefined;
    return {
      publicValue: curve.getPublicKey(scalar, false),
      // The compressed shared point is a parity byte and x; RFC 5656 §4 keeps x. Invalid points throw.
      agree: (peer) => curve.getSharedSecret(scalar, peer, true).subarray(1),
    };
  },
  modp(group, exponent): KexAgreement {
    const prime = MODP_PRIMES[group];
    const length = Math.ceil(prime.toString(16).length / 2);
    const x = bytesToBigInt(exponent);
    return {
      publicValue: bigIntToBytes(modPow(MODP_GENERATOR, x, prime), length),
      agree: (peer) => bigIntToBytes(modPow(bytesToBigInt(peer), x, prime), length),
    };
  },
  mlkem768: nobleMlKem768,
};
