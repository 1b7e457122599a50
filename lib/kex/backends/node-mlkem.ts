/**
 * ML-KEM-768 (FIPS 203) through node:crypto where the runtime has it (Node 24.7 and later, on
 * OpenSSL 3.5): about 0.3 ms for keygen, encapsulation and decapsulation together against 1.7 ms
 * for `@noble/post-quantum` (measured on Node 24). Keys come in and out as DER with fixed prefixes
 * (draft-ietf-lamps-kyber-certificates): the decapsulation key from its 64-byte seed d || z, so a
 * seeded random source still reproduces the client's key; encapsulation draws its message from
 * OpenSSL, so it runs here only for the runtime's CSPRNG and `@noble` answers an injected source.
 */
import * as nodeCrypto from 'node:crypto';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { isSystemRandom, type MlKem768 } from '../backend.js';
import { nobleMlKem768 } from './noble-mlkem.js';

/** FIPS 203 §8 ML-KEM-768 sizes. */
const publicKeyLength = 1184;
const seedLength = 64;

/** PKCS#8 of OID 2.16.840.1.101.3.4.4.2 holding the seed form ([0] IMPLICIT OCTET STRING of 64 bytes), then the seed. */
const pkcs8SeedPrefix = Buffer.from('3054020100300b060960864801650304040204428040', 'hex');
/** SPKI of the same OID, then the 1184-byte encapsulation key. */
const spkiPrefix = Buffer.from('308204b2300b0609608648016503040402038204a100', 'hex');

type Encapsulate = (key: KeyObject) => { sharedKey: Buffer; ciphertext: Buffer };
type Decapsulate = (key: KeyObject, cipherText: Uint8Array) => Buffer;
/** Absent before Node 24.7 (and in Bun and Deno today), hence read off the namespace. */
const { encapsulate, decapsulate } = nodeCrypto as unknown as { encapsulate?: Encapsulate; decapsulate?: Decapsulate };

const bytes = (buffer: Buffer): Uint8Array => new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);

/** The 1184-byte key of a decapsulation key: the raw export where Node has it (50x cheaper than SPKI), else SPKI. */
function publicKeyOf(privateKey: KeyObject): Uint8Array {
  const publicKey = createPublicKey(privateKey);
  try {
    const raw = (publicKey as unknown as { export(options: { format: string }): Buffer }).export({ format: 'raw-public' });
    if (raw.length === publicKeyLength) return bytes(raw);
  } catch {
    // SPKI below.
  }
  const spki = publicKey.export({ format: 'der', type: 'spki' });
  return bytes(spki.subarray(spki.length - publicKeyLength));
}

/** node:crypto's ML-KEM-768 (callers check `encapsulate` and `decapsulate` exist). */
function nativeMlKem768(encaps: Encapsulate, decaps: Decapsulate): MlKem768 {
  return {
    keygen(seed) {
      if (seed.length !== seedLength) throw new RangeError(`ML-KEM-768 seed must be ${seedLength} bytes, got ${seed.length}`);
      const privateKey = createPrivateKey({ key: Buffer.concat([pkcs8SeedPrefix, seed]), format: 'der', type: 'pkcs8' });
      return { publicKey: publicKeyOf(privateKey), decapsulate: (cipherText) => bytes(decaps(privateKey, cipherText)) };
    },
    encapsulate(publicKey, randomBytes) {
      if (!isSystemRandom(randomBytes)) return nobleMlKem768.encapsulate(publicKey, randomBytes);
      if (publicKey.length !== publicKeyLength) throw new RangeError(`ML-KEM-768 key must be ${publicKeyLength} bytes, got ${publicKey.length}`);
      // OpenSSL refuses a key whose coefficients are not reduced mod q (the FIPS 203 §7.2 input check) on import.
      const key = createPublicKey({ key: Buffer.concat([spkiPrefix, publicKey]), format: 'der', type: 'spki' });
      const { sharedKey, ciphertext } = encaps(key);
      return { cipherText: bytes(ciphertext), sharedSecret: bytes(sharedKey) };
    },
  };
}

/** Whether this runtime's node:crypto runs ML-KEM-768 end to end (tried once, at load). */
function works(candidate: MlKem768): boolean {
  try {
    const pair = candidate.keygen(new Uint8Array(seedLength).fill(1));
    const key = createPublicKey({ key: Buffer.concat([spkiPrefix, pair.publicKey]), format: 'der', type: 'spki' });
    const { sharedKey, ciphertext } = encapsulate!(key);
    return Buffer.from(pair.decapsulate(ciphertext)).equals(sharedKey);
  } catch {
    return false;
  }
}

const native = encapsulate !== undefined && decapsulate !== undefined ? nativeMlKem768(encapsulate, decapsulate) : undefined;

/** node:crypto's ML-KEM-768 when this runtime has it; undefined otherwise. Exported for the spec. */
export const nodeNativeMlKem768: MlKem768 | undefined = native !== undefined && works(native) ? native : undefined;

/** ML-KEM-768 of the Node backend: native where available, `@noble/post-quantum` elsewhere. */
export const nodeMlKem768: MlKem768 = nodeNativeMlKem768 ?? nobleMlKem768;
