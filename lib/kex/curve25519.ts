/**
 * curve25519-sha256 and curve25519-sha256@libssh.org (RFC 8731), plus the raw X25519 operation
 * (RFC 7748 §5) that the hybrid method reuses. Node's X25519 does the maths; the private scalar
 * comes from the injected random source so exchanges are reproducible in tests. Message
 * framing (SSH_MSG_KEX_ECDH_INIT/REPLY) belongs to the transport's kex driver.
 */
import { createPrivateKey, createPublicKey, diffieHellman, type KeyObject } from 'node:crypto';
import { DisconnectReason, ProtocolError } from '../errors.js';
import { sharedSecretAsMpint } from './secret-encoding.js';
import { diffieHellmanMethod } from './diffie-hellman-method.js';
import type { KexEphemeral, KexMethod } from './types.js';

/** RFC 7748 §5: X25519 keys and outputs are 32 bytes. */
export const X25519_LENGTH = 32;

// DER prefixes of PKCS#8 and SPKI structures for OID 1.3.101.110 (RFC 8410), followed by the raw 32 bytes.
const pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b656e032100', 'hex');

/** An X25519 key pair whose scalar was chosen by the caller. */
export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  /** The 32-byte u-coordinate. */
  readonly publicKey: Uint8Array;
}

/**
 * RFC 7748 §6.1: the key pair for a 32-byte scalar (clamping is part of X25519 itself).
 * @param scalar - 32 bytes, normally from the injected random source
 * @returns the private key object and the public u-coordinate
 */
export function x25519KeyPair(scalar: Uint8Array): X25519KeyPair {
  if (scalar.length !== X25519_LENGTH) {
    throw new RangeError(`X25519 scalar must be ${X25519_LENGTH} bytes, got ${scalar.length}`);
  }
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, scalar]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(spki.subarray(spki.length - X25519_LENGTH)) };
}

/**
 * RFC 7748 §5 / RFC 8731 §3: X25519(our scalar, peer u). Rejects a peer value of the wrong
 * length and an all-zero result (a low-order peer point), as RFC 8731 §3 requires.
 * @param privateKey - our key from `x25519KeyPair`
 * @param peerPublic - the peer's 32-byte u-coordinate
 * @returns the 32-byte shared output
 * @throws ProtocolError (KEY_EXCHANGE_FAILED) on an invalid peer value
 */
export function x25519SharedSecret(privateKey: KeyObject, peerPublic: Uint8Array): Uint8Array {
  if (peerPublic.length !== X25519_LENGTH) {
    throw new ProtocolError(
      `X25519 public key must be ${X25519_LENGTH} bytes, got ${peerPublic.length}`,
      DisconnectReason.keyExchangeFailed,
    );
  }
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([spkiPrefix, peerPublic]), format: 'der', type: 'spki' });
    shared = diffieHellman({ privateKey, publicKey });
  } catch (cause) {
    // OpenSSL refuses to return an all-zero output; report it the way RFC 8731 names it.
    throw new ProtocolError('X25519 shared secret is all zero (low-order peer point)', DisconnectReason.keyExchangeFailed, {
      cause,
    });
  }
  if (shared.every((b) => b === 0)) {
    throw new ProtocolError('X25519 shared secret is all zero (low-order peer point)', DisconnectReason.keyExchangeFailed);
  }
  return new Uint8Array(shared);
}

/** RFC 8731 §3 */
function curve25519Method(name: string): KexMethod {
  const ephemeral = (randomBytes: (n: number) => Uint8Array): KexEphemeral => {
    const pair = x25519KeyPair(randomBytes(X25519_LENGTH));
    return {
      publicValue: pair.publicKey,
      // K is the X25519 output read as a big-endian integer "as given", no byte reversal (RFC 8731 §3).
      computeSecret: (peer) => sharedSecretAsMpint(x25519SharedSecret(pair.privateKey, peer)),
    };
  };
  return diffieHellmanMethod({ name: name, hash: 'sha256', publicEncoding: 'string', ephemeral });
}

/** RFC 8731: curve25519-sha256. */
export const curve25519Sha256: KexMethod = curve25519Method('curve25519-sha256');

/** RFC 8731 §1: the same method under its original libssh name. */
export const curve25519Sha256Libssh: KexMethod = curve25519Method('curve25519-sha256@libssh.org');
