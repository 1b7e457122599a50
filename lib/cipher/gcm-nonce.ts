/**
 * RFC 5647 §7.1 as OpenSSH runs AES-GCM: the 12-byte nonce is a 4-byte fixed field and an 8-byte
 * invocation counter that grows by one per packet, the key sizes each backend checks, and the
 * algorithm record around a backend's strategies. Owns no key schedule; the AEAD itself belongs
 * to the cipher suite's backend.
 */
import type { CipherAlgorithm, DirectionKeys, OpeningKey, SealingKey } from './types.js';
import { SshError } from '../errors.js';

/** RFC 5647 §7.1: the nonce length. */
export const GCM_IV_LENGTH = 12;
/** RFC 5647 §7.3: the tag length. */
export const GCM_TAG_LENGTH = 16;
/** RFC 5647 §7.2: packets are padded to the AES block. */
export const GCM_BLOCK_SIZE = 16;

/** RFC 5647 §7.1: the nonce, whose last 8 bytes count packets. */
export class InvocationCounter {
  readonly iv: Uint8Array;
  constructor(initial: Uint8Array) {
    this.iv = new Uint8Array(initial.subarray(0, GCM_IV_LENGTH));
  }
  /** RFC 5647 §7.1: increments the 64-bit invocation_counter, wrapping modulo 2^64. */
  increment(): void {
    for (let i = GCM_IV_LENGTH - 1; i >= 4; i--) {
      this.iv[i] = (this.iv[i]! + 1) & 0xff;
      if (this.iv[i] !== 0) return;
    }
  }
}

/**
 * Checks a direction's key material for an AES-GCM cipher.
 * @throws SshError naming the cipher and both lengths
 */
export function checkGcmKeys(name: string, keyLength: number, keys: DirectionKeys): void {
  if (keys.encryptionKey.length < keyLength || keys.iv.length < GCM_IV_LENGTH) {
    throw new SshError(
      `Cipher ${name} needs a ${keyLength}-byte key and ${GCM_IV_LENGTH}-byte IV, got ${keys.encryptionKey.length} and ${keys.iv.length}`,
    );
  }
}

/** A backend's AES-GCM strategy constructors. */
export interface GcmStrategies {
  opening: new (algorithm: CipherAlgorithm, keys: DirectionKeys) => OpeningKey;
  sealing: new (algorithm: CipherAlgorithm, keys: DirectionKeys) => SealingKey;
}

/** RFC 5647 §6.1-6.2: the CipherAlgorithm `name` (AES key of `keyLength` bytes) built from `strategies`. */
export function gcmAlgorithm(name: string, keyLength: number, strategies: GcmStrategies): CipherAlgorithm {
  const algorithm: CipherAlgorithm = {
    name, keyLength, ivLength: GCM_IV_LENGTH, blockSize: GCM_BLOCK_SIZE, aead: true,
    opening: (keys) => new strategies.opening(algorithm, keys),
    sealing: (keys) => new strategies.sealing(algorithm, keys),
  };
  return algorithm;
}
