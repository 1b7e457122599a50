/**
 * ecdh-sha2-nistp256/384/521 (RFC 5656 §4, hashes per §6.2.1). The installed kex backend
 * (node:crypto or `@noble/curves`) does the curve maths and rejects peer points that are not on
 * the curve; the private scalar is drawn from the injected random source. Message framing
 * (SSH_MSG_KEX_ECDH_INIT/REPLY) belongs to the transport's kex driver.
 */
import { DisconnectReason, ProtocolError } from '../errors.js';
import { kexBackend, type KexAgreement, type NistCurveName } from './backend.js';
import { sharedSecretAsMpint } from './secret-encoding.js';
import { diffieHellmanMethod } from './diffie-hellman-method.js';
import type { KexEphemeral, KexMethod } from './types.js';

interface NistCurve {
  readonly name: string;
  readonly curve: NistCurveName;
  readonly hash: KexMethod['hash'];
  /** Field element size in bytes: an uncompressed point is 1 + 2 * this. */
  readonly fieldBytes: number;
  /** Bits of the group order, so scalars are drawn at the right size. */
  readonly orderBits: number;
}

// A drawn scalar is out of range with probability below 2^-32, so this bound is never reached in practice.
const maxScalarAttempts = 64;

/** SEC 1 §2.3.3: picks a scalar in [1, n-1] by rejection sampling over the injected random source. */
function ecdhWithRandomScalar(curve: NistCurve, randomBytes: (n: number) => Uint8Array): KexAgreement {
  const length = Math.ceil(curve.orderBits / 8);
  const topMask = 0xff >> (length * 8 - curve.orderBits);
  for (let attempt = 0; attempt < maxScalarAttempts; attempt++) {
    const scalar = Uint8Array.from(randomBytes(length));
    scalar[0]! &= topMask;
    // The backend refuses 0 and values >= n, which is the range check we need.
    const agreement = kexBackend().ecdh(curve.curve, scalar);
    if (agreement) return agreement;
  }
  throw new Error(`Random source produced no valid ${curve.name} scalar in ${maxScalarAttempts} attempts`);
}

/** RFC 5656 §4: K is the x-coordinate of the shared point, as an mpint. */
function computeSharedSecret(curve: NistCurve, agreement: KexAgreement, peerPoint: Uint8Array): Uint8Array {
  const expected = 1 + 2 * curve.fieldBytes;
  // OpenSSH sends and accepts only uncompressed points; so do we.
  if (peerPoint.length !== expected || peerPoint[0] !== 0x04) {
    throw new ProtocolError(
      `${curve.name}: peer public key must be an uncompressed point of ${expected} bytes, got ${peerPoint.length} bytes starting 0x${(peerPoint[0] ?? 0).toString(16)}`,
      DisconnectReason.keyExchangeFailed,
    );
  }
  try {
    return sharedSecretAsMpint(agreement.agree(peerPoint));
  } catch (cause) {
    throw new ProtocolError(`${curve.name}: peer public key is not a point on ${curve.curve}`, DisconnectReason.keyExchangeFailed, {
      cause,
    });
  }
}

/** RFC 5656 §4 */
function ecdhMethod(curve: NistCurve): KexMethod {
  const ephemeral = (randomBytes: (n: number) => Uint8Array): KexEphemeral => {
    const agreement = ecdhWithRandomScalar(curve, randomBytes);
    return {
      publicValue: agreement.publicValue,
      computeSecret: (peer) => computeSharedSecret(curve, agreement, peer),
    };
  };
  return diffieHellmanMethod({ name: curve.name, hash: curve.hash, publicEncoding: 'string', ephemeral });
}

/** RFC 5656 §6.2.1: ecdh-sha2-nistp256. */
export const ecdhSha2Nistp256: KexMethod = ecdhMethod({
  name: 'ecdh-sha2-nistp256',
  curve: 'p256',
  hash: 'sha256',
  fieldBytes: 32,
  orderBits: 256,
});

/** RFC 5656 §6.2.1: ecdh-sha2-nistp384. */
export const ecdhSha2Nistp384: KexMethod = ecdhMethod({
  name: 'ecdh-sha2-nistp384',
  curve: 'p384',
  hash: 'sha384',
  fieldBytes: 48,
  orderBits: 384,
});

/** RFC 5656 §6.2.1: ecdh-sha2-nistp521. */
export const ecdhSha2Nistp521: KexMethod = ecdhMethod({
  name: 'ecdh-sha2-nistp521',
  curve: 'p521',
  hash: 'sha512',
  fieldBytes: 66,
  orderBits: 521,
});
