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
/** A stand-in for the JWK `x` member, which Node requires but does not use when `d` is given. */
const placeholderX = Buffer.alloc(X25519_LENGTH).toString('base64url');

/**
 * Key objects from raw bytes through JWK (RFC 8037): OpenSSL 3's DER decoders cost ten times as
 * much (measured on Node 20: PKCS#8 import 430 µs, JWK 40 µs; SPKI export 82 µs, JWK 3 µs), and
 * key exchange runs them on every connection. Undefined when this Node rejects or misuses the
 * placeholder `x`; then the DER path takes over.
 */
function importScalarJwk(scalar: Uint8Array): X25519KeyPair | undefined {
  try {
    const d = Buffer.from(scalar.buffer, scalar.byteOffset, scalar.byteLength).toString('base64url');
    const privateKey = createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: placeholderX }, format: 'jwk' });
    const x = createPublicKey(privateKey).export({ format: 'jwk' }).x;
    if (typeof x === 'string' && x !== placeholderX) return { privateKey, publicKey: new Uint8Array(Buffer.from(x, 'base64url')) };
  } catch {
    // The DER path below.
  }
  return undefined;
}

/**
 * RFC 8410 DER import of a scalar, the portable but slow path. Exported for the spec, which checks
 * that both paths agree.
 */
export function x25519KeyPairFromDer(scalar: Uint8Array): X25519KeyPair {
  const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8Prefix, scalar]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  return { privateKey, publicKey: new Uint8Array(spki.subarray(spki.length - X25519_LENGTH)) };
}

/** The peer's u-coordinate as a key object: JWK for speed, DER when this Node refuses it. */
function importPeer(peerPublic: Uint8Array): KeyObject {
  try {
    const x = Buffer.from(peerPublic.buffer, peerPublic.byteOffset, peerPublic.byteLength).toString('base64url');
    return createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
  } catch {
    return x25519PublicKeyFromDer(peerPublic);
  }
}

/** RFC 8410 DER import of a u-coordinate. Exported for the spec, as `x25519KeyPairFromDer`. */
export function x25519PublicKeyFromDer(peerPublic: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([spkiPrefix, peerPublic]), format: 'der', type: 'spki' });
}

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
  return importScalarJwk(scalar) ?? x25519KeyPairFromDer(scalar);
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
    shared = diffieHellman({ privateKey, publicKey: importPeer(peerPublic) });
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
