/**
 * curve25519-sha256 and curve25519-sha256@libssh.org (RFC 8731), plus the raw X25519 operation
 * (RFC 7748 §5) that the hybrid method reuses. The installed kex backend does the maths
 * (node:crypto or `@noble/curves`); the private scalar comes from the injected random source so
 * exchanges are reproducible in tests. Message framing (SSH_MSG_KEX_ECDH_INIT/REPLY) belongs to
 * the transport's kex driver.
 */
import { DisconnectReason, ProtocolError } from '../errors.js';
import { kexBackend, type KexAgreement } from './backend.js';
import { sharedSecretAsMpint } from './secret-encoding.js';
import { diffieHellmanMethod } from './diffie-hellman-method.js';
import type { KexEphemeral, KexMethod } from './types.js';

/** RFC 7748 §5: X25519 keys and outputs are 32 bytes. */
export const X25519_LENGTH = 32;

/** An X25519 key whose scalar was chosen by the caller: its u-coordinate and the agreement. */
export type X25519KeyPair = KexAgreement;

/**
 * RFC 7748 §6.1: the key pair for a 32-byte scalar (clamping is part of X25519 itself).
 * @param scalar - 32 bytes, normally from the injected random source
 * @returns the public u-coordinate (`publicValue`) and the agreement with a peer
 */
export function x25519KeyPair(scalar: Uint8Array): X25519KeyPair {
  if (scalar.length !== X25519_LENGTH) {
    throw new RangeError(`X25519 scalar must be ${X25519_LENGTH} bytes, got ${scalar.length}`);
  }
  return kexBackend().x25519(scalar);
}

/**
 * RFC 7748 §5 / RFC 8731 §3: X25519(our scalar, peer u). Rejects a peer value of the wrong
 * length and an all-zero result (a low-order peer point), as RFC 8731 §3 requires.
 * @param pair - our key from `x25519KeyPair`
 * @param peerPublic - the peer's 32-byte u-coordinate
 * @returns the 32-byte shared output
 * @throws ProtocolError (KEY_EXCHANGE_FAILED) on an invalid peer value
 */
export function x25519SharedSecret(pair: X25519KeyPair, peerPublic: Uint8Array): Uint8Array {
  if (peerPublic.length !== X25519_LENGTH) {
    throw new ProtocolError(
      `X25519 public key must be ${X25519_LENGTH} bytes, got ${peerPublic.length}`,
      DisconnectReason.keyExchangeFailed,
    );
  }
  let shared: Uint8Array;
  try {
    shared = pair.agree(peerPublic);
  } catch (cause) {
    // Both backends refuse to return an all-zero output; report it the way RFC 8731 names it.
    throw new ProtocolError('X25519 shared secret is all zero (low-order peer point)', DisconnectReason.keyExchangeFailed, {
      cause,
    });
  }
  if (shared.every((b) => b === 0)) {
    throw new ProtocolError('X25519 shared secret is all zero (low-order peer point)', DisconnectReason.keyExchangeFailed);
  }
  return shared;
}

/** RFC 8731 §3 */
function curve25519Method(name: string): KexMethod {
  const ephemeral = (randomBytes: (n: number) => Uint8Array): KexEphemeral => {
    const pair = x25519KeyPair(randomBytes(X25519_LENGTH));
    return {
      publicValue: pair.publicValue,
      // K is the X25519 output read as a big-endian integer "as given", no byte reversal (RFC 8731 §3).
      computeSecret: (peer) => sharedSecretAsMpint(x25519SharedSecret(pair, peer)),
    };
  };
  return diffieHellmanMethod({ name: name, hash: 'sha256', publicEncoding: 'string', ephemeral });
}

/** RFC 8731: curve25519-sha256. */
export const curve25519Sha256: KexMethod = curve25519Method('curve25519-sha256');

/** RFC 8731 §1: the same method under its original libssh name. */
export const curve25519Sha256Libssh: KexMethod = curve25519Method('curve25519-sha256@libssh.org');
