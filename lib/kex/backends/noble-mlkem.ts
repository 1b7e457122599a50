/**
 * FIPS 203 ML-KEM-768 from `@noble/post-quantum`, every random input drawn from the caller's
 * source: the portable backend's, and the Node backend's where node:crypto lacks ML-KEM.
 */
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import type { MlKem768 } from '../backend.js';

/** FIPS 203 §8 ML-KEM-768 sizes. */
const seedLength = 64;
const messageLength = 32;

/** `@noble/post-quantum`'s ML-KEM-768. */
export const nobleMlKem768: MlKem768 = {
  keygen(seed) {
    if (seed.length !== seedLength) throw new RangeError(`ML-KEM-768 seed must be ${seedLength} bytes, got ${seed.length}`);
    const { publicKey, secretKey } = ml_kem768.keygen(seed);
    return { publicKey, decapsulate: (cipherText) => ml_kem768.decapsulate(cipherText, secretKey) };
  },
  encapsulate(publicKey, randomBytes) {
    return ml_kem768.encapsulate(publicKey, randomBytes(messageLength));
  },
};
