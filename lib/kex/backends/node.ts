/**
 * The Node key exchange backend: node:crypto's hashes, X25519, ECDH, Diffie-Hellman and (where the
 * runtime has it) ML-KEM-768, with the caller's scalars, exponents and seeds (so the injected
 * random source still decides every secret; see node-mlkem.ts for encapsulation).
 */
import {
  createDiffieHellman,
  createECDH,
  createHash,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  getDiffieHellman,
  type DiffieHellman,
  type KeyObject,
} from 'node:crypto';
import type { KexAgreement, KexBackend, ModpGroupName, NistCurveName } from '../backend.js';
import { nodeMlKem768 } from './node-mlkem.js';

/** RFC 7748 §5: X25519 keys and outputs are 32 bytes. */
const X25519_LENGTH = 32;

// DER prefixes of PKCS#8 and SPKI structures for OID 1.3.101.110 (RFC 8410), followed by the raw 32 bytes.
const pkcs8Prefix = Buffer.from('302e020100300506032b656e04220420', 'hex');
const spkiPrefix = Buffer.from('302a300506032b656e032100', 'hex');
/** A stand-in for the JWK `x` member, which Node requires but does not use when `d` is given. */
const placeholderX = Buffer.alloc(X25519_LENGTH).toString('base64url');

/** An X25519 key pair whose scalar was chosen by the caller. */
export interface X25519KeyPair {
  readonly privateKey: KeyObject;
  /** The 32-byte u-coordinate. */
  readonly publicKey: Uint8Array;
}

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

/** RFC 8410 DER import of a u-coordinate. Exported for the spec, as `x25519KeyPairFromDer`. */
export function x25519PublicKeyFromDer(peerPublic: Uint8Array): KeyObject {
  return createPublicKey({ key: Buffer.concat([spkiPrefix, peerPublic]), format: 'der', type: 'spki' });
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

/** RFC 7748 §6.1 through node:crypto: the JWK fast path, DER when this Node refuses it. */
export function x25519KeyPair(scalar: Uint8Array): X25519KeyPair {
  return importScalarJwk(scalar) ?? x25519KeyPairFromDer(scalar);
}

/** node:crypto curve names of the RFC 5656 curves. */
const nodeCurves: Record<NistCurveName, string> = { p256: 'prime256v1', p384: 'secp384r1', p521: 'secp521r1' };

/** Whether this runtime's node:crypto has the curve: Deno's lists secp521r1 but refuses it ("invalid curve"). */
function hasNativeCurve(name: string): boolean {
  try {
    createECDH(name).generateKeys();
    return true;
  } catch {
    return false;
  }
}
/** Curves node:crypto lacks here are done by the portable backend (`@noble/curves`), decided once at load. */
const portableCurves = new Set((Object.keys(nodeCurves) as NistCurveName[]).filter((curve) => !hasNativeCurve(nodeCurves[curve])));
/**
 * The portable backend, loaded only where a curve needs it: every module loaded stays in the old
 * generation, and @noble/curves' would make the data path's collector run more often for nothing.
 */
const portable: KexBackend | undefined = portableCurves.size > 0 ? (await import('./web.js')).webKexBackend : undefined;

/**
 * One native DiffieHellman per group, reused by every exchange: Node 24 and later (OpenSSL 3.5)
 * check the prime whenever one is created, which costs seconds of CPU for group 16 (3.5 s measured
 * on Node 24 and 26, against 3 ms on Node 20 and 22). Each use sets its own private key first, in
 * the same synchronous step, so exchanges never see each other's exponent.
 */
const groupContexts = new Map<ModpGroupName, DiffieHellman>();
function groupContext(group: ModpGroupName): DiffieHellman {
  let dh = groupContexts.get(group);
  if (!dh) {
    dh = createDiffieHellman(getDiffieHellman(group).getPrime(), 2);
    groupContexts.set(group, dh);
  }
  return dh;
}

const bytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

/** node:crypto's key exchange operations. */
export const nodeKexBackend: KexBackend = {
  name: 'node:crypto',
  hash(name, ...parts) {
    const hash = createHash(name);
    for (const part of parts) hash.update(part);
    return bytes(hash.digest());
  },
  hmac(name, key, ...parts) {
    const hmac = createHmac(name, key);
    for (const part of parts) hmac.update(part);
    return bytes(hmac.digest());
  },
  x25519(scalar): KexAgreement {
    const pair = x25519KeyPair(scalar);
    // OpenSSL refuses to return an all-zero output, so a low-order peer point throws here.
    return { publicValue: pair.publicKey, agree: (peer) => bytes(diffieHellman({ privateKey: pair.privateKey, publicKey: importPeer(peer) })) };
  },
  ecdh(curve, scalar): KexAgreement | undefined {
    if (portable !== undefined && portableCurves.has(curve)) return portable.ecdh(curve, scalar);
    const ecdh = createECDH(nodeCurves[curve]);
    try {
      // Node refuses 0 and values >= n, which is the range check we need.
      ecdh.setPrivateKey(scalar);
    } catch {
      return undefined;
    }
    // computeSecret rejects points that are not on the curve.
    return { publicValue: bytes(ecdh.getPublicKey()), agree: (peer) => bytes(ecdh.computeSecret(peer)) };
  },
  modp(group, exponent): KexAgreement {
    const dh = groupContext(group);
    const x = Buffer.from(exponent);
    dh.setPrivateKey(x);
    // With a private key set, generateKeys only computes g^x mod p.
    dh.generateKeys();
    return {
      publicValue: bytes(Buffer.from(dh.getPublicKey())),
      agree: (peer) => {
        dh.setPrivateKey(x);
        return bytes(dh.computeSecret(peer));
      },
    };
  },
  mlkem768: nodeMlKem768,
};
